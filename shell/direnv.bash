# mfaenv for direnv. Install:  mfaenv direnv >> ~/.config/direnv/direnvrc
# Then in a project's .envrc:   use mfaenv PROFILE
#
# direnv keeps its own record of what to restore, so mfaenv's state variables
# are dropped; the cache directory is watched so `mfaenv login` reloads.
use_mfaenv() {
    local profile=${1:?usage: use mfaenv PROFILE}
    local code
    watch_file @CACHE_DIR@
    code=$(@MFAENV@ export --shell bash "$profile") || return 1
    eval "$code"
    unset MFAENV_PRIOR MFAENV_SET
}
