# mfaenv shell integration for zsh. In ~/.zshrc:  eval "$(mfaenv hook zsh)"
#
# chpwd runs on every `cd`; precmd runs at each prompt but starts
# `mfaenv hook-env` only when $PWD changed or a loaded session nears expiry
# ($EPOCHSECONDS from zsh/datetime: no process on an idle prompt).

# The output format reaches mfaenv only through the `mfaenv` function below,
# for that one call: an exported MFAENV_SHELL would follow every child.
unset MFAENV_SHELL
zmodload zsh/datetime 2>/dev/null

_mfaenv_hook() {
    local previous_exit_status=$?
    if [[ "${_MFAENV_PWD-}" != "$PWD" ]] ||
        [[ -n "${MFAENV_REFRESH_AT-}" && ${EPOCHSECONDS:-0} -ge ${MFAENV_REFRESH_AT} ]]; then
        _MFAENV_PWD=$PWD
        setopt localoptions localtraps
        trap '' INT
        eval "$(@MFAENV@ hook-env --shell zsh)"
    fi
    return $previous_exit_status
}

mfaenv() {
    MFAENV_SHELL=zsh @MFAENV@ "$@"
    local exit_status=$?
    case "${1-}" in
        allow | deny | login | reload) _MFAENV_PWD= ;;
    esac
    return $exit_status
}

autoload -Uz add-zsh-hook
add-zsh-hook chpwd _mfaenv_hook
# First among the precmd functions, once. The array is unset in a fresh
# zsh: declare it, or `setopt nounset` makes reading it fail.
(( ${+precmd_functions} )) || typeset -ga precmd_functions
precmd_functions=(_mfaenv_hook ${precmd_functions:#_mfaenv_hook})
