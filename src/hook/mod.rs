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
use crate::creds::Credentials;
use crate::duration::human;
use crate::env_vars::{self, EXPIRATION};
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
        let (changes, notes) = env_vars::for_unset(env, false);
        out.messages.extend(notes);
        if let Some(profile) = env(MFAENV_PROFILE) {
            out.messages.push(format!("unloaded {profile}"));
        }
        out.changes = changes;
    }
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

/// Loads the project's profile: from the cache, else (once per file version,
/// and only when the hook may ask) with a code from `mfa_process` or the
/// terminal.
fn enter(ctx: &Context<'_>, file: &DotFile, out: &mut Outcome) {
    let settings = match file.settings() {
        Ok(s) => s,
        Err(e) => {
            return hint_once(
                ctx,
                &Hint::Load.marker(&trust::version_hash(file)),
                out,
                || e,
            )
        }
    };
    // First the cache alone: no code source at all, so no `mfa_process`
    // runs and no STS call is made for a code.
    let mut opts = Options {
        region: settings.region.clone(),
        prompt: false,
        mfa_process: false,
        ..Options::default()
    };
    let result = resolve::plan(&settings.profile, &opts).and_then(|plan| {
        let cache = Cache::open();
        match resolve::credentials(&plan, &opts, &cache) {
            Err(e)
                if needs_code(&e) && ctx.may_prompt && !already_hinted(ctx, file, Hint::Load) =>
            {
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
                load(&plan.profile, plan.region.as_deref(), &creds, file, &view)
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
                format!("cannot load {profile}: {e:#}")
            };
            hint_once(
                ctx,
                &Hint::Load.marker(&trust::version_hash(file)),
                out,
                || message,
            );
        }
    }
}

/// In the project already: pick up fresher keys another shell or `mfaenv
/// login` put in the cache; near expiry with none, one hint.
fn refresh(ctx: &Context<'_>, file: &DotFile, out: &mut Outcome) {
    let env = ctx.env;
    let Some(profile) = env(MFAENV_PROFILE) else {
        return;
    };
    let region = file.settings().ok().and_then(|s| s.region);
    let opts = Options {
        region,
        ..Options::default()
    };
    let current = env(EXPIRATION).and_then(|e| humantime::parse_rfc3339(&e).ok());
    if let Ok(plan) = resolve::plan(&profile, &opts) {
        let fresher = resolve::cached(&plan, &Cache::open(), DEFAULT_MIN_TTL)
            .filter(|c| c.expiration > current.map(|t| t + Duration::from_secs(1)));
        if let Some(creds) = fresher {
            out.changes = load(&profile, plan.region.as_deref(), &creds, file, env);
            return;
        }
    }
    let now = epoch(SystemTime::now());
    let due = env(MFAENV_REFRESH_AT)
        .and_then(|s| s.parse::<u64>().ok())
        .is_some_and(|at| now >= at);
    if !due {
        return;
    }
    let expiry = current.map(epoch).unwrap_or(now);
    if expiry > now {
        let left = human(Duration::from_secs(expiry - now));
        out.messages.push(format!(
            "{profile} credentials expire in {left}: run `mfaenv login {profile}`"
        ));
        out.changes
            .push(Change::Set(MFAENV_REFRESH_AT.into(), expiry.to_string()));
    } else {
        out.messages.push(format!(
            "{profile} credentials have expired: run `mfaenv login {profile}`"
        ));
        out.changes.push(Change::Unset(MFAENV_REFRESH_AT.into()));
    }
}

/// The changes that put `creds` in the shell, with the hook's state.
fn load(
    profile: &str,
    region: Option<&str>,
    creds: &Credentials,
    file: &DotFile,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Change> {
    let mut changes = env_vars::for_shell(profile, creds, region, env);
    changes.push(Change::Set(
        MFAENV_DIR.into(),
        file.dir.to_string_lossy().into_owned(),
    ));
    if let Some(exp) = creds.expiration {
        let at = epoch(exp).saturating_sub(DEFAULT_MIN_TTL.as_secs());
        changes.push(Change::Set(MFAENV_REFRESH_AT.into(), at.to_string()));
    }
    changes
}

fn already_hinted(ctx: &Context<'_>, file: &DotFile, hint: Hint) -> bool {
    is_hinted(ctx, &hint.marker(&trust::version_hash(file)))
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
