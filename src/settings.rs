//! Every `MFAENV_*` name, in one place: the knobs a user sets (read here,
//! typed, with their limits) and the state mfaenv keeps in the shell (set by
//! the hook and `export`, read back by the hook, `status` and `unset`).
//! An empty value counts as unset, as the AWS tools treat theirs.

use std::path::PathBuf;
use std::time::Duration;

/// What every name here starts with: mfaenv's own state is never restored
/// from `MFAENV_PRIOR` and never handed to a child process.
pub const PREFIX: &str = "MFAENV_";

// ---- knobs -------------------------------------------------------------

/// The shell format the hook asks for, passed for one call and never exported.
pub const MFAENV_SHELL: &str = "MFAENV_SHELL";
/// Seconds one STS attempt may take.
pub const MFAENV_STS_TIMEOUT: &str = "MFAENV_STS_TIMEOUT";
/// Seconds `mfa_process` may run.
pub const MFAENV_MFA_PROCESS_TIMEOUT: &str = "MFAENV_MFA_PROCESS_TIMEOUT";
/// Where sessions are cached.
pub const MFAENV_CACHE_DIR: &str = "MFAENV_CACHE_DIR";
/// Where the trust store (and the hook's stamp) live.
pub const MFAENV_DATA_DIR: &str = "MFAENV_DATA_DIR";
/// `1` (or true/yes/on): `exec` serves the credentials from a local
/// endpoint (`exec --server`); `0` (or false/no/off) does not.
pub const MFAENV_SERVER: &str = "MFAENV_SERVER";
/// Where new long-term keys are stored: `keyring` or `file`.
pub const MFAENV_BACKEND: &str = "MFAENV_BACKEND";
/// The file store's passphrase, for automation (whoever can read this
/// process's environment has it: see docs/).
pub const MFAENV_FILE_PASSPHRASE: &str = "MFAENV_FILE_PASSPHRASE";
/// `never` (or 0/false/no): the hook never asks for a code.
pub const MFAENV_HOOK_PROMPT: &str = "MFAENV_HOOK_PROMPT";
/// The prompt driver (`auto`, `terminal`, `pinentry`, `zenity`, …; src/prompt).
pub const MFAENV_PROMPT: &str = "MFAENV_PROMPT";
/// Seconds a person has to answer a prompt (default 120).
pub const MFAENV_PROMPT_TIMEOUT: &str = "MFAENV_PROMPT_TIMEOUT";
/// How long before expiry the hook replaces loaded credentials (`15m`, `600`).
pub const MFAENV_REFRESH_BEFORE: &str = "MFAENV_REFRESH_BEFORE";
/// The age past which a long-term key is called old (`90d`, `2160h`;
/// default 90 days); wins over the profile's `key_max_age`.
pub const MFAENV_KEY_MAX_AGE: &str = "MFAENV_KEY_MAX_AGE";
/// Seconds `rotate` waits for a new key to start working (default 20).
pub const MFAENV_ROTATE_WAIT: &str = "MFAENV_ROTATE_WAIT";
/// Tests only: `rotate` stops at the named step (`session`, `identity`,
/// `create`, `store`, `index`, `wait`, `drop`, `delete`, `done`), says so on
/// stderr and sleeps, so that a test can kill it there. Inert unless set.
pub const MFAENV_TEST_ROTATE_PAUSE: &str = "MFAENV_TEST_ROTATE_PAUSE";

/// Every variable that unlocks or selects a key store: removed from the
/// environment of every process mfaenv starts (the `exec` command, the
/// command of `exec --server`, `mfa_process`). A child that runs mfaenv
/// again must be given them on purpose. (`MFAENV_DATA_DIR` stays: it says
/// where, not how to open, and a nested mfaenv must find the same trust store.)
pub const KEY_STORE_VARS: [&str; 2] = [MFAENV_FILE_PASSPHRASE, MFAENV_BACKEND];
/// The console's base URL for `mfaenv console` (tests, private partitions):
/// the destination of the sign-in is on it.
pub const MFAENV_CONSOLE_URL: &str = "MFAENV_CONSOLE_URL";

// ---- state in the shell ------------------------------------------------

/// The profile mfaenv loaded into this shell.
pub const MFAENV_PROFILE: &str = "MFAENV_PROFILE";
/// Prior values of what mfaenv changed.
pub const MFAENV_PRIOR: &str = "MFAENV_PRIOR";
/// A short hash of each value mfaenv set (`-`: mfaenv unset it), to leave
/// alone what the user changed by hand.
pub const MFAENV_SET: &str = "MFAENV_SET";
/// The project directory whose `.mfaenv` the hook loaded.
pub const MFAENV_DIR: &str = "MFAENV_DIR";
/// Epoch seconds at which the hook must look again (expiry approaching).
pub const MFAENV_REFRESH_AT: &str = "MFAENV_REFRESH_AT";
/// What the last hint was about — its kind and the file version — so that
/// each kind of hint is said once per version, not per prompt. The kind
/// matters: the hint for an untrusted file must not silence the MFA prompt
/// once the same version is allowed.
pub const MFAENV_HINT: &str = "MFAENV_HINT";
/// The state of an `eval "$(mfaenv x)"` made before the hook entered a
/// project (its profile, `MFAENV_PRIOR` and `MFAENV_SET`; no secret), so
/// that leaving puts it back.
pub const MFAENV_OUTER: &str = "MFAENV_OUTER";

/// How long an IAM Identity Center login waits for the browser (seconds;
/// default 170).
pub const MFAENV_LOGIN_TIMEOUT: &str = "MFAENV_LOGIN_TIMEOUT";

/// `MFAENV_LOGIN_TIMEOUT=SECONDS` (more than 0, up to an hour).
pub fn login_timeout() -> Option<Duration> {
    seconds(MFAENV_LOGIN_TIMEOUT)
        .filter(|s| *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
}

/// `MFAENV_SHELL`: the name of the format the hook's shell wants.
pub fn shell() -> Option<String> {
    get(MFAENV_SHELL)
}

/// `MFAENV_SERVER` as set (an empty value too: it says no).
pub fn server() -> Option<std::ffi::OsString> {
    std::env::var_os(MFAENV_SERVER)
}

/// `MFAENV_BACKEND`, when set.
pub fn backend() -> Option<String> {
    get(MFAENV_BACKEND)
}

/// `MFAENV_FILE_PASSPHRASE`, when set.
pub fn file_passphrase() -> Option<String> {
    get(MFAENV_FILE_PASSPHRASE)
}

/// `MFAENV_STS_TIMEOUT=SECONDS` (more than 0, less than 600).
pub fn sts_timeout() -> Option<Duration> {
    seconds(MFAENV_STS_TIMEOUT)
        .filter(|s| *s > 0.0 && *s < 600.0)
        .map(Duration::from_secs_f64)
}

/// `MFAENV_MFA_PROCESS_TIMEOUT=SECONDS` (more than 0, up to an hour).
pub fn mfa_process_timeout() -> Option<Duration> {
    seconds(MFAENV_MFA_PROCESS_TIMEOUT)
        .filter(|s| *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
}

/// `MFAENV_PROMPT`, when set.
pub fn prompt() -> Option<String> {
    get(MFAENV_PROMPT)
}

/// `MFAENV_PROMPT_TIMEOUT=SECONDS` (more than 0, up to an hour).
pub fn prompt_timeout() -> Option<Duration> {
    seconds(MFAENV_PROMPT_TIMEOUT)
        .filter(|s| *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
}

/// `MFAENV_CACHE_DIR`.
pub fn cache_dir() -> Option<PathBuf> {
    std::env::var_os(MFAENV_CACHE_DIR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// mfaenv's data directory (the trust store, the hook's stamp, the key
/// store): `MFAENV_DATA_DIR`, else the platform data dir + `mfaenv`.
pub fn data_dir() -> Option<PathBuf> {
    std::env::var_os(MFAENV_DATA_DIR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("mfaenv")))
}

/// `MFAENV_KEY_MAX_AGE`, when set (its text: the caller parses it).
pub fn key_max_age() -> Option<String> {
    get(MFAENV_KEY_MAX_AGE)
}

/// `MFAENV_ROTATE_WAIT=SECONDS` (more than 0, up to 10 minutes).
pub fn rotate_wait() -> Option<Duration> {
    seconds(MFAENV_ROTATE_WAIT)
        .filter(|s| *s > 0.0 && *s <= 600.0)
        .map(Duration::from_secs_f64)
}

/// `MFAENV_TEST_ROTATE_PAUSE`: the step `rotate` stops at (tests only).
pub fn rotate_pause() -> Option<String> {
    get(MFAENV_TEST_ROTATE_PAUSE)
}

/// Whether the hook may ask for a code: not under `MFAENV_HOOK_PROMPT=never`
/// (or 0, false, no). `env` reads the hook's environment.
pub fn hook_may_prompt(env: &dyn Fn(&str) -> Option<String>) -> bool {
    !matches!(
        env(MFAENV_HOOK_PROMPT).as_deref(),
        Some("never" | "0" | "false" | "no")
    )
}

/// `MFAENV_REFRESH_BEFORE` as `env` has it: `Some(Err)` for a value that is
/// not a duration (the hook says so and uses the next setting).
pub fn refresh_before(env: &dyn Fn(&str) -> Option<String>) -> Option<Result<Duration, String>> {
    env(MFAENV_REFRESH_BEFORE)
        .map(|v| crate::duration::parse(&v).map_err(|e| format!("{MFAENV_REFRESH_BEFORE}: {e}")))
}

/// As `env_vars::get`, which is above this module (it names its state here).
fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn seconds(name: &str) -> Option<f64> {
    get(name).and_then(|s| s.trim().parse::<f64>().ok())
}
