# mfaenv shell integration for bash. In ~/.bashrc:  eval "$(mfaenv hook bash)"
#
# At each prompt, _mfaenv_hook compares $PWD and the clock with what it saw
# last; only when the directory changed (or a loaded session nears expiry)
# does it start `mfaenv hook-env`. An idle prompt starts no process.

# The output format reaches mfaenv only through the `mfaenv` function below,
# for that one call: an exported MFAENV_SHELL would follow every child
# process (a fish setting would give a bash script fish syntax).
unset MFAENV_SHELL

_mfaenv_hook() {
    local previous_exit_status=$? now=${EPOCHSECONDS-}
    # Builtin clocks, no `date` process: $EPOCHSECONDS (bash >= 5), else
    # printf's %(…)T (bash >= 4.2; slower: it stats /etc/localtime each time).
    [[ -n "$now" ]] || printf -v now '%(%s)T' -1
    if [[ "${_MFAENV_PWD-}" != "$PWD" ]] ||
        [[ -n "${MFAENV_REFRESH_AT-}" && "$now" -ge "${MFAENV_REFRESH_AT}" ]]; then
        _MFAENV_PWD=$PWD
        trap -- '' SIGINT
        eval "$(@MFAENV@ hook-env --shell bash)"
        trap - SIGINT
    fi
    return "$previous_exit_status"
}

# `mfaenv allow|deny|login|reload` change what the next prompt must load: forget the
# directory we saw so the hook looks again.
mfaenv() {
    MFAENV_SHELL=bash @MFAENV@ "$@"
    local status=$?
    case "${1-}" in
        allow | deny | login | reload) _MFAENV_PWD= ;;
    esac
    return "$status"
}

# First in PROMPT_COMMAND (so it sees the user's $?), once, in either form.
_mfaenv_install() {
    local entry
    if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
        for entry in "${PROMPT_COMMAND[@]}"; do
            [[ "$entry" == _mfaenv_hook ]] && return 0
        done
        PROMPT_COMMAND=(_mfaenv_hook "${PROMPT_COMMAND[@]}")
    else
        # The string form: these are not arrays here.
        # shellcheck disable=SC2178,SC2128
        [[ ";${PROMPT_COMMAND-};" == *";_mfaenv_hook;"* ]] && return 0
        # shellcheck disable=SC2178,SC2128
        PROMPT_COMMAND="_mfaenv_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
    fi
}
_mfaenv_install
unset -f _mfaenv_install
