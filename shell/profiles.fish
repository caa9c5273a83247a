
# mfaenv: PROFILE completes to the profile names of your AWS config files.
# `mfaenv __profiles -- WORDS` prints them when the word after WORDS is a
# PROFILE (clap decides), and nothing otherwise. It is the `mfaenv` on PATH,
# never the word typed, so TAB cannot run a `./mfaenv` of a checkout.
function __mfaenv_wants_profile
    set -l words (commandline -opc)
    set -e words[1]
    set -g __mfaenv_profile_names (command mfaenv __profiles -- $words 2>/dev/null)
    set -q __mfaenv_profile_names[1]
end

function __mfaenv_profile_names
    printf '%s\n' $__mfaenv_profile_names
end

complete -c mfaenv -n __mfaenv_wants_profile -f -a '(__mfaenv_profile_names)' -d 'AWS profile'
