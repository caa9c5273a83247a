# mfaenv shell integration for fish. In ~/.config/fish/config.fish:
#   mfaenv hook fish | source
#
# Runs `mfaenv hook-env` when $PWD changes, and at a prompt only while a
# profile is loaded (fish has no builtin clock to check expiry itself).

set -gx MFAENV_SHELL fish

function _mfaenv_hook --on-variable PWD --on-event fish_prompt
    set -l previous_status $status
    if test "$_mfaenv_pwd" != "$PWD"; or set -q MFAENV_PROFILE
        set -g _mfaenv_pwd $PWD
        @MFAENV@ hook-env --shell fish | source
    end
    return $previous_status
end

function mfaenv --wraps mfaenv
    @MFAENV@ $argv
    set -l exit_status $status
    if contains -- "$argv[1]" allow deny login
        set -g _mfaenv_pwd ''
    end
    return $exit_status
end
