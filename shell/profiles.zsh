
# mfaenv: PROFILE completes to the profile names of your AWS config files.
# `mfaenv __profiles -- WORDS` prints them when the word after WORDS is a
# PROFILE (clap decides), and nothing otherwise; then `_mfaenv_clap` (the
# completion above) does the rest. It is the `mfaenv` on PATH, never the
# word typed, so TAB cannot run a `./mfaenv` of a checkout.
_mfaenv() {
    local -a names
    if [[ $PREFIX != -* ]]; then
        names=(${(f)"$(command mfaenv __profiles -- ${(Q)words[2,CURRENT-1]} 2>/dev/null)"})
    fi
    if (( ! ${#names} )); then
        _mfaenv_clap "$@"
        return
    fi
    local expl ret=1
    _wanted profiles expl 'AWS profile' compadd -a names && ret=0
    if (( CURRENT == 2 )); then
        _mfaenv_commands && ret=0
    fi
    return ret
}
