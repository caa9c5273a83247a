# mfaenv for direnv. Install:  mfaenv direnv >> ~/.config/direnv/direnvrc
# Then in a project's .envrc:   use mfaenv PROFILE
#
# direnv keeps its own record of what to restore, so mfaenv's state variables
# are dropped; the cache directory is watched so `mfaenv login` reloads.
use_mfaenv() {
    local profile=${1:?usage: use mfaenv PROFILE}
    local code status=0
    code=$(@MFAENV@ export --shell bash "$profile") || status=$?
    # Watched after the export, whose own write to the cache must not make
    # the next prompt load everything again.
    watch_file @CACHE_DIR@
    [[ $status -eq 0 ]] || return 1
    eval "$code"
    unset MFAENV_PRIOR MFAENV_SET
}
