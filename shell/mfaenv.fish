# mfaenv shell integration for fish. In ~/.config/fish/config.fish:
#   mfaenv hook fish | source
#
# Runs `mfaenv hook-env` when $PWD changes, and at a prompt only when a loaded
# session nears expiry ($MFAENV_REFRESH_AT). fish has no clock variable: the
# `path` builtin (fish >= 3.5) tells the time without a process (a file's
# mtime plus its age); an older fish asks mfaenv at each prompt while a
# session is loaded.

# The output format reaches mfaenv only through the `mfaenv` function below,
# for that one call: an exported MFAENV_SHELL would follow every child (a
# bash script run from fish would get fish syntax, whose quoting is not POSIX).
set -e MFAENV_SHELL

function _mfaenv_hook --on-variable PWD --on-event fish_prompt
    set -l previous_status $status
    if test "$_mfaenv_pwd" != "$PWD"; or _mfaenv_due
        set -g _mfaenv_pwd $PWD
        @MFAENV@ hook-env --shell fish | source
    end
    return $previous_status
end

# Whether the loaded session is due for a look (else, when the clock cannot
# be read, let mfaenv decide).
function _mfaenv_due
    set -q MFAENV_REFRESH_AT[1]; or return 1
    if builtin -q path 2>/dev/null
        set -l now (math (path mtime /) + (path mtime --relative /) 2>/dev/null)
        and test "$now" -lt "$MFAENV_REFRESH_AT" 2>/dev/null
        and return 1
    end
    return 0
end

function mfaenv --wraps mfaenv
    MFAENV_SHELL=fish @MFAENV@ $argv
    set -l exit_status $status
    if contains -- "$argv[1]" allow deny login reload
        set -g _mfaenv_pwd ''
    end
    return $exit_status
end
