//! The per-directory hook: what happens when the shell's directory changes
//! (or a loaded session nears expiry). The shell scripts in `shell/` call
//! `mfaenv hook-env` only then; [`on_prompt`] decides everything.
//!
//! It reads files only (the `.mfaenv`, the trust store, the AWS config, the
//! cache). STS is called only to load a project whose session is not cached.

pub mod dotfile;
pub mod trust;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cache::Cache;
use crate::config::Plan;
use crate::creds::Credentials;
use crate::duration::human;
use crate::env_vars::{self, Outer, ACCESS_KEY_ID, EXPIRATION, SECRET_ACCESS_KEY, SESSION_TOKEN};
use crate::mfa::MfaError;
use crate::resolve::{self, Options, DEFAULT_MIN_TTL};
use crate::settings::{MFAENV_DIR, MFAENV_HINT, MFAENV_PROFILE, MFAENV_REFRESH_AT};
use crate::shell::Change;
use crate::ui;
use dotfile::DotFile;
use sha2::Digest;
use trust::{Trust, TrustStore};

/// The file `mfaenv allow`, `deny` and `login` touch, in the data dir. The
/// PowerShell hook compares its mtime at each prompt, in-process, to know it
/// must look again; it has no `mfaenv` wrapper function to do that, because
/// a PowerShell function drops `--` from its arguments and always leaves `$?`
/// true. bash, zsh and fish never read it.
pub fn stamp_path() -> Option<PathBuf> {
    TrustStore::open().map(|store| store.root().join("hook-stamp"))
}

/// The stamp's current version (its mtime), `0` when there is none: part
/// of the load hint's marker, so `allow`, `login` and `reload` try again.
fn stamp_version() -> String {
    stamp_path()
        .and_then(|p| std::fs::metadata(p).ok()?.modified().ok())
        .map_or_else(|| "0".to_string(), |t| epoch_nanos(t).to_string())
}

fn epoch_nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos()
}

/// Gives the stamp a new mtime: a fresh 0600 file renamed over the old one.
/// A failure is only a warning: the command that calls this has succeeded.
pub fn touch_stamp() {
    let Some(path) = stamp_path() else { return };
    if let Err(e) = write_stamp(&path) {
        eprintln!("mfaenv: warning: cannot update {}: {e}", path.display());
    }
}

fn write_stamp(path: &Path) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    trust::create_private_dir(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    writeln!(file, "{}", now.as_nanos())?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The kinds of hint, one marker each.
#[derive(Clone, Copy)]
enum Hint {
    Untrusted,
    Denied,
    /// A file that is not read at all (another user's, a FIFO, …).
    Refused,
    /// About loading an allowed file (a code needed, an error).
    Load,
}

impl Hint {
    /// The marker for this kind of hint about `version` (a file version's hash).
    fn marker(self, version: &str) -> String {
        let kind = match self {
            Hint::Untrusted => "untrusted",
            Hint::Denied => "denied",
            Hint::Refused => "refused",
            Hint::Load => "load",
        };
        format!("{kind}:{version}")
    }
}

/// What the hook sees.
pub struct Context<'a> {
    pub cwd: std::path::PathBuf,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Whether the hook may ask for an MFA code on the terminal.
    pub may_prompt: bool,
}

/// What the shell must do now: changes to apply, and lines for stderr.
#[derive(Debug, Default)]
pub struct Outcome {
    pub changes: Vec<Change>,
    pub messages: Vec<String>,
}

/// Decides what happens at this prompt: leave the old project, enter the
/// new one, or refresh the one we are in.
pub fn on_prompt(ctx: &Context<'_>) -> Outcome {
    let env = ctx.env;
    let found = dotfile::find(&ctx.cwd);
    let store = TrustStore::open();
    let trust = match (&found, &store) {
        (Some(Ok(file)), Some(store)) => store.check(file),
        (Some(Err(refused)), Some(store)) if store.is_denied(&refused.path) => Trust::Denied,
        _ => Trust::Unknown,
    };
    let active = env(MFAENV_DIR);
    let mut out = Outcome::default();
    if let (Some(active), Some(Ok(file)), Trust::Allowed) = (&active, &found, trust) {
        if *active == file.dir.to_string_lossy() {
            refresh(ctx, file, &mut out);
            return out;
        }
    }
    if active.is_some() {
        leave(env, &mut out);
    }
    let here = match &found {
        Some(Ok(file)) => Some(trust::version_hash(file)),
        _ => None,
    };
    forget_load_hint(env, here.as_deref(), &mut out);
    let file = match found {
        None => return out,
        Some(Ok(file)) => file,
        Some(Err(refused)) => {
            let key = refused_hash(&refused);
            let message = if trust == Trust::Denied {
                blocked(&refused.path)
            } else {
                refused.message()
            };
            hint_once(ctx, &Hint::Refused.marker(&key), &mut out, || message);
            return out;
        }
    };
    let key = trust::version_hash(&file);
    match trust {
        Trust::Allowed => enter(ctx, &file, &mut out),
        Trust::Unknown => hint_once(ctx, &Hint::Untrusted.marker(&key), &mut out, || {
            not_allowed(&file)
        }),
        Trust::Denied => hint_once(ctx, &Hint::Denied.marker(&key), &mut out, || {
            blocked(&file.path)
        }),
    }
    out
}

/// Leaves the project: everything mfaenv set for it goes, and an export
/// that was there before (`eval "$(mfaenv x)"`) comes back, its secrets
/// from the cache when it still holds exactly those keys.
fn leave(env: &dyn Fn(&str) -> Option<String>, out: &mut Outcome) {
    let (changes, notes, outer) = env_vars::for_leave(env);
    out.messages.extend(notes);
    if let Some(profile) = env(MFAENV_PROFILE) {
        out.messages.push(format!("unloaded {profile}"));
    }
    out.changes = changes;
    let Some(outer) = outer else { return };
    let more = {
        let view = overlay(env, &out.changes);
        outer_secrets(&outer, &view).ok_or_else(|| env_vars::for_unset(&view, false).0)
    };
    match more {
        Ok(secrets) => out.changes.extend(secrets),
        Err(undo) => {
            // Not in the cache any more: a key id without its secret is
            // no use, so the export is undone altogether.
            out.changes.extend(undo);
            out.messages.push(format!(
                "the keys of {0} you had before are no longer cached, so they are removed: `eval \"$(mfaenv {0})\"` loads them again",
                outer.profile
            ));
        }
    }
}

/// The secrets of the export set aside, read back from the cache; `None`
/// when the cache no longer holds the very keys that export set.
fn outer_secrets(outer: &Outer, env: &dyn Fn(&str) -> Option<String>) -> Option<Vec<Change>> {
    let key_id = env(ACCESS_KEY_ID)?;
    let plan = resolve::plan(&outer.profile, &Options::default()).ok()?;
    let creds = resolve::cached(&plan, &Cache::open(), Duration::ZERO)?;
    if creds.access_key_id != key_id || !outer.had(SECRET_ACCESS_KEY, &creds.secret_access_key) {
        return None;
    }
    let mut changes = vec![Change::Set(
        SECRET_ACCESS_KEY.into(),
        creds.secret_access_key.clone(),
    )];
    if let Some(token) = creds
        .session_token
        .as_ref()
        .filter(|t| outer.had(SESSION_TOKEN, t))
    {
        changes.push(Change::Set(SESSION_TOKEN.into(), token.clone()));
    }
    Some(changes)
}

/// A hint about loading a project is about one visit: once the shell is
/// out of it (or the file changed), coming back tries again.
fn forget_load_hint(env: &dyn Fn(&str) -> Option<String>, here: Option<&str>, out: &mut Outcome) {
    let Some(hint) = env(MFAENV_HINT) else { return };
    let Some(about) = hint.strip_prefix(&Hint::Load.marker("")) else {
        return;
    };
    if here.is_none_or(|version| !about.starts_with(&format!("{version}:"))) {
        out.changes.push(Change::Unset(MFAENV_HINT.into()));
    }
}

fn not_allowed(file: &DotFile) -> String {
    match &file.link {
        Some(_) => format!(
            "{} is a symlink to {} and is not allowed yet — `mfaenv allow` trusts this link, here, if you made it",
            ui::path(&file.path),
            ui::path(&file.real)
        ),
        None => format!(
            "{} is not allowed yet — run `mfaenv allow` to load it",
            ui::path(&file.path)
        ),
    }
}

fn blocked(path: &std::path::Path) -> String {
    format!(
        "{} is blocked (mfaenv deny); `mfaenv allow` lifts it",
        ui::path(path)
    )
}

/// Names one refusal of one file, for the once-only hint.
fn refused_hash(refused: &dotfile::Refused) -> String {
    let text = format!("refused\0{}\0{}", refused.path.display(), refused.reason);
    env_vars::hex(&sha2::Sha256::digest(text.as_bytes())[..16])
}

/// Loads the project's profile: from the cache, else (once per visit and
/// file version, and only when the hook may ask) with a code from
/// `mfa_process` or the terminal.
fn enter(ctx: &Context<'_>, file: &DotFile, out: &mut Outcome) {
    let marker = load_marker(file);
    let settings = match file.settings() {
        Ok(s) => s,
        Err(e) => return hint_once(ctx, &marker, out, || e),
    };
    // First the cache alone: no code source at all, so no `mfa_process`
    // runs and no STS call is made for a code.
    let mut opts = Options {
        region: settings.region.clone(),
        region_from: "`region` of the .mfaenv file",
        prompt: false,
        mfa_process: false,
        ..Options::default()
    };
    let result = resolve::plan(&settings.profile, &opts).and_then(|plan| {
        let cache = Cache::open();
        match resolve::credentials(&plan, &opts, &cache) {
            Err(e) if needs_code(&e) && ctx.may_prompt && !is_hinted(ctx, &marker) => {
                opts.prompt = true;
                opts.mfa_process = true;
                resolve::credentials(&plan, &opts, &cache).map(|c| (plan, c))
            }
            other => other.map(|c| (plan, c)),
        }
    });
    match result {
        Ok((plan, creds)) => {
            let left = creds.time_left(SystemTime::now()).unwrap_or_default();
            out.messages
                .push(format!("loaded {} ({} left)", plan.profile, human(left)));
            let changes = {
                let view = overlay(ctx.env, &out.changes);
                load(ctx, &plan, &creds, file, &view, false, &mut out.messages)
            };
            out.changes.extend(changes);
        }
        Err(e) => {
            let profile = &settings.profile;
            let sso = e
                .chain()
                .any(|c| c.is::<crate::sources::sso::LoginNeeded>());
            let message = if sso {
                format!("{profile} needs an IAM Identity Center login: run `mfaenv login {profile}` to load it here")
            } else if needs_code(&e) || is_cancelled(&e) {
                format!("{profile} needs an MFA code: run `mfaenv login {profile}` to load it here")
            } else {
                format!(
                    "cannot load {profile}: {e:#} — `mfaenv reload` (or leaving the directory and coming back) tries again"
                )
            };
            hint_once(ctx, &marker, out, || message);
        }
    }
}

/// The load hint's marker: this file version, and the stamp that `allow`,
/// `login` and `reload` touch (so each of them tries again).
fn load_marker(file: &DotFile) -> String {
    Hint::Load.marker(&format!(
        "{}:{}",
        trust::version_hash(file),
        stamp_version()
    ))
}

/// In the project already: pick up fresher keys another shell or `mfaenv
/// login` put in the cache; near expiry (`refresh_before`), make new ones
/// when that needs no code, else one hint.
fn refresh(ctx: &Context<'_>, file: &DotFile, out: &mut Outcome) {
    let env = ctx.env;
    let Some(profile) = env(MFAENV_PROFILE) else {
        return;
    };
    let region = file.settings().ok().and_then(|s| s.region);
    let opts = Options {
        region,
        prompt: false,
        mfa_process: false,
        region_from: "`region` of the .mfaenv file",
        ..Options::default()
    };
    let now = SystemTime::now();
    let current = env(EXPIRATION).and_then(|e| humantime::parse_rfc3339(&e).ok());
    let due = env(MFAENV_REFRESH_AT)
        .and_then(|s| s.parse::<u64>().ok())
        .is_some_and(|at| epoch(now) >= at);
    let plan = resolve::plan(&profile, &opts);
    if let Ok(plan) = &plan {
        let cache = Cache::open();
        let fresher = resolve::cached(plan, &cache, DEFAULT_MIN_TTL)
            .filter(|c| c.expiration > current.map(|t| t + Duration::from_secs(1)));
        let renewed = match fresher {
            Some(creds) => Some(Ok(creds)),
            None if due && resolve::renewable(plan, &cache) => {
                Some(renew(plan, &opts, current, &cache))
            }
            None => None,
        };
        match renewed {
            Some(Ok(creds)) => {
                if due {
                    let left = creds.time_left(now).unwrap_or_default();
                    out.messages
                        .push(format!("refreshed {profile} ({} left)", human(left)));
                }
                out.changes = load(ctx, plan, &creds, file, env, due, &mut out.messages);
                return;
            }
            // The cached session went in the meantime: the hint below.
            Some(Err(e)) if needs_code(&e) => {}
            Some(Err(e)) => {
                out.messages.push(format!(
                    "cannot refresh {profile}: {e:#} — `mfaenv reload` tries again"
                ));
                return next_look(current, now, out);
            }
            None => {}
        }
    }
    if !due {
        return;
    }
    let expiry = current.map(epoch).unwrap_or(epoch(now));
    if expiry > epoch(now) {
        let left = human(Duration::from_secs(expiry - epoch(now)));
        out.messages.push(format!(
            "{profile} credentials expire in {left}: run `mfaenv login {profile}`"
        ));
    } else {
        out.messages.push(format!(
            "{profile} credentials have expired: run `mfaenv login {profile}`"
        ));
    }
    next_look(current, now, out);
}

/// After a hint near expiry, the hook looks again at expiry (or, past it,
/// no more): one hint per session.
fn next_look(current: Option<SystemTime>, now: SystemTime, out: &mut Outcome) {
    let expiry = current.map(epoch).unwrap_or(epoch(now));
    out.changes.push(if expiry > epoch(now) {
        Change::Set(MFAENV_REFRESH_AT.into(), expiry.to_string())
    } else {
        Change::Unset(MFAENV_REFRESH_AT.into())
    });
}

/// New final credentials, fresher than the shell's (`current`): from the
/// cache when another shell already made some, else from STS with the
/// cached session's keys (the caller checked no code is needed).
fn renew(
    plan: &Plan,
    opts: &Options,
    current: Option<SystemTime>,
    cache: &Cache,
) -> anyhow::Result<Credentials> {
    let left = current
        .and_then(|t| t.duration_since(SystemTime::now()).ok())
        .unwrap_or_default();
    let min_ttl = (left + Duration::from_secs(1))
        .max(DEFAULT_MIN_TTL)
        .min(resolve::lifetime(plan));
    let opts = Options {
        min_ttl,
        ..opts.clone()
    };
    resolve::credentials(plan, &opts, cache)
}

/// The changes that put `creds` in the shell, with the hook's state.
/// `refreshed`: they were just renewed (so as fresh as they come).
fn load(
    ctx: &Context<'_>,
    plan: &Plan,
    creds: &Credentials,
    file: &DotFile,
    env: &dyn Fn(&str) -> Option<String>,
    refreshed: bool,
    messages: &mut Vec<String>,
) -> Vec<Change> {
    let mut changes = env_vars::for_project(&plan.profile, creds, plan.region.as_deref(), env);
    changes.push(Change::Set(
        MFAENV_DIR.into(),
        file.dir.to_string_lossy().into_owned(),
    ));
    if let Some(exp) = creds.expiration {
        let window = refresh_before(ctx, file, plan, messages);
        let at = refresh_at(epoch(exp), window, refreshed, epoch(SystemTime::now()));
        changes.push(Change::Set(MFAENV_REFRESH_AT.into(), at.to_string()));
    }
    changes
}

/// The default of `refresh_before`.
pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(10 * 60);

/// How long before expiry to refresh: `MFAENV_REFRESH_BEFORE`, else the
/// `.mfaenv`'s `refresh_before`, else the profile's, else 10 minutes.
fn refresh_before(
    ctx: &Context<'_>,
    file: &DotFile,
    plan: &Plan,
    messages: &mut Vec<String>,
) -> Duration {
    let from_env = match crate::settings::refresh_before(ctx.env) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            messages.push(format!("ignoring {e}"));
            None
        }
        None => None,
    };
    let from_file = file
        .settings()
        .ok()
        .and_then(|s| s.refresh_before)
        .and_then(|d| d.duration().ok());
    from_env
        .or(from_file)
        .or(plan.refresh_before)
        .unwrap_or(DEFAULT_REFRESH_BEFORE)
}

/// When the hook must look again (epoch seconds): `window` before expiry.
/// Keys just renewed that are already inside the window (it is longer
/// than the role's sessions last) are next renewed as late as the cache
/// allows, not at every prompt.
fn refresh_at(expiry: u64, window: Duration, refreshed: bool, now: u64) -> u64 {
    let at = expiry.saturating_sub(window.as_secs());
    if refreshed && at <= now {
        expiry.saturating_sub(DEFAULT_MIN_TTL.as_secs())
    } else {
        at
    }
}

fn is_hinted(ctx: &Context<'_>, key: &str) -> bool {
    (ctx.env)(MFAENV_HINT).as_deref() == Some(key)
}

/// Says `message` once per `key` (a kind of hint and a version of a file).
fn hint_once(ctx: &Context<'_>, key: &str, out: &mut Outcome, message: impl FnOnce() -> String) {
    if is_hinted(ctx, key) {
        return;
    }
    out.messages.push(message());
    out.changes
        .push(Change::Set(MFAENV_HINT.into(), key.to_string()));
}

fn needs_code(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<MfaError>(),
            Some(MfaError::PromptNotAllowed { .. } | MfaError::NoTerminal { .. })
        ) || c.is::<crate::sources::sso::LoginNeeded>()
    })
}

fn is_cancelled(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| matches!(c.downcast_ref::<MfaError>(), Some(MfaError::Cancelled)))
}

fn epoch(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// The environment as it will be once `changes` are applied.
fn overlay<'a>(
    env: &'a dyn Fn(&str) -> Option<String>,
    changes: &'a [Change],
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| {
        for change in changes.iter().rev() {
            match change {
                Change::Set(n, v) if n == name => return Some(v.clone()),
                Change::Unset(n) if n == name => return None,
                _ => {}
            }
        }
        env(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_look_is_the_window_before_expiry_but_never_every_prompt() {
        let window = Duration::from_secs(600);
        // An hour left: ten minutes before expiry.
        assert_eq!(refresh_at(10_000, window, false, 6_400), 9_400);
        // Loaded (not renewed) already inside the window: due at once.
        assert_eq!(refresh_at(10_000, window, false, 9_500), 9_400);
        // Just renewed, and still inside a window longer than the role
        // lasts: as late as the cache allows, not at the next prompt.
        let long = Duration::from_secs(1_200);
        assert_eq!(refresh_at(10_000, long, true, 9_100), 10_000 - 300);
        assert_eq!(refresh_at(10_000, long, true, 8_000), 8_800);
    }
}
