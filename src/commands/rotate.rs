//! `mfaenv rotate PROFILE [--dry-run]` / `rotate --all`: replace a
//! profile's long-term key with a new one, with one MFA code, never leaving
//! the store without a key IAM accepts.
//!
//! 1. an MFA session for the keys (GetSessionToken; a cached one is reused);
//! 2. the user (GetCallerIdentity) and its keys (ListAccessKeys): refused
//!    early when it already has two;
//! 3. CreateAccessKey;
//! 4. the new key stored where the old one lives (its key store entry, or
//!    its lines of the credentials file, every other byte kept) before
//!    anything else;
//! 5. GetCallerIdentity with the new key until it works (IAM is eventually
//!    consistent), up to 20 s; when it never does, the old key goes back;
//! 6. every cached session made from the old key dropped;
//! 7. DeleteAccessKey of the old key, with the MFA session of step 1 (a
//!    session of the new key would carry MFA only with a second code).
//!
//! The rotation in progress is recorded in the data dir (`rotations.json`,
//! 0600, key ids only), so that a run killed at any step is finished by the
//! next one: a new key that was never stored is deleted and the rotation
//! starts over; a stored one is checked and the old key deleted.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};

use crate::aws::endpoint::{self, Service};
use crate::aws::{iam, AccessKeyInfo, Sts, StsError};
use crate::cache::{Cache, Key, Removed};
use crate::cli::RotateArgs;
use crate::config::{self, edit, KeyOrigin, MfaMode, Plan, Profiles};
use crate::creds::{rfc3339, Credentials};
use crate::env_vars::get as env_value;
use crate::keystore::rotations::{Rotation, State};
use crate::keystore::{self, ages, index, Backend, LongTermKey};
use crate::resolve::{self, Options};
use crate::ui;

/// How long a new key may take to start working.
const DEFAULT_WAIT: Duration = Duration::from_secs(20);

/// A key another rotation of this profile made this long before its record
/// was written still counts as that rotation's (clocks differ).
const CLOCK_SLACK: Duration = Duration::from_secs(300);

pub fn run(args: &RotateArgs) -> Result<String> {
    // A dry run changes nothing, so it needs no lock (and makes no file).
    let _held = if args.dry_run { None } else { Some(lock()?) };
    let opts = Options {
        token_code: args.token_code.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        ..Options::default()
    };
    if args.all {
        return all(args, &opts);
    }
    let name = args
        .profile
        .clone()
        .unwrap_or_else(resolve::default_profile);
    let profiles = Profiles::load()?;
    let target = Target::of(&profiles, &name, &opts)?;
    if args.dry_run {
        return Ok(target.dry_run(&profiles));
    }
    target.rotate(&profiles, &opts)
}

/// `--all`: every key older than its limit, and every rotation left half done.
fn all(args: &RotateArgs, opts: &Options) -> Result<String> {
    let profiles = Profiles::load()?;
    let ages = ages::load();
    let pending = State::load()?;
    let now = SystemTime::now();
    let mut names: Vec<String> = Vec::new();
    for name in profiles.names() {
        let Ok(plan) = resolve::plan_in(&profiles, name, opts) else {
            continue;
        };
        let own = plan.source.profile == name && plan.roles.is_empty();
        let long_term = matches!(plan.source.origin, KeyOrigin::Store(_) | KeyOrigin::File(_))
            && plan.source.credentials.session_token.is_none();
        if !own || !long_term {
            continue;
        }
        let limit = ages::max_age(plan.key_max_age.as_deref());
        let key_id = &plan.source.credentials.access_key_id;
        let old = ages::too_old(&ages, key_id, limit, now).is_some();
        if old || pending.rotations.contains_key(name) {
            names.push(name.to_string());
        }
    }
    if names.is_empty() {
        ui::info("no key is older than its key_max_age: nothing to rotate");
        return Ok(String::new());
    }
    let mut out = String::new();
    let mut failed = Vec::new();
    for name in &names {
        let done = Target::of(&profiles, name, opts).and_then(|t| {
            if args.dry_run {
                out.push_str(&t.dry_run(&profiles));
                Ok(String::new())
            } else {
                t.rotate(&profiles, opts)
            }
        });
        if let Err(e) = done {
            ui::error(format_args!("profile `{name}`: {e:#}"));
            failed.push(name.as_str());
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} rotations failed ({}); each says above what state its keys are in",
            failed.len(),
            names.len(),
            failed.join(", ")
        );
    }
    Ok(out)
}

/// One `mfaenv rotate` at a time: two at once would each make a key.
fn lock() -> Result<std::fs::File> {
    let dir = index::prepare_dir()?;
    let path = dir.join("rotate.lock");
    let file = crate::cache::open_private_file(&path)
        .with_context(|| format!("cannot open {}", ui::path(&path)))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            bail!("another `mfaenv rotate` is running; nothing was changed")
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", ui::path(&path)))
        }
    }
}

// ---------------------------------------------------------------------------
// What is rotated, and where its key lives
// ---------------------------------------------------------------------------

/// Where a profile's long-term key lives.
#[derive(Debug, Clone)]
enum Home {
    Store(Backend),
    /// A plaintext file: the credentials file, or the config file.
    File {
        path: PathBuf,
        config: bool,
    },
}

impl std::fmt::Display for Home {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Home::Store(backend) => write!(f, "{backend}"),
            Home::File { path, .. } => f.write_str(&ui::path(path)),
        }
    }
}

struct Target {
    /// The profile that holds the keys.
    profile: String,
    home: Home,
    /// The keys' MFA session alone (no role after it).
    plan: Plan,
}

impl Target {
    fn of(profiles: &Profiles, name: &str, opts: &Options) -> Result<Target> {
        let plan = resolve::plan_in(profiles, name, opts)?;
        let source = &plan.source;
        let home = match &source.origin {
            _ if source.credentials.session_token.is_some() => bail!(
                "profile `{}` holds temporary keys (aws_session_token): only long-term keys can be rotated",
                source.profile
            ),
            KeyOrigin::Store(backend) => Home::Store(*backend),
            KeyOrigin::File(location) => Home::File {
                config: location.path == profiles.config_path,
                path: location.path.clone(),
            },
            KeyOrigin::Environment => bail!(
                "profile `{}` takes its keys from the environment (credential_source = Environment): mfaenv cannot store a new key there",
                source.profile
            ),
            KeyOrigin::Sso(_) | KeyOrigin::Login(_) => bail!(
                "profile `{}` signs in ({}): it has no long-term key to rotate",
                source.profile,
                source.origin
            ),
        };
        if source.profile != name {
            ui::note(format_args!(
                "profile `{name}` uses the keys of `{}`: rotating those",
                source.profile
            ));
        }
        Ok(Target::with(plan, home))
    }

    /// [`Target::of`] for a profile that holds its own keys, saying nothing.
    fn of_quiet(profiles: &Profiles, name: &str, opts: &Options) -> Result<Target> {
        let plan = resolve::plan_in(profiles, name, opts)?;
        let home = match &plan.source.origin {
            KeyOrigin::Store(backend) => Home::Store(*backend),
            KeyOrigin::File(location) => Home::File {
                config: location.path == profiles.config_path,
                path: location.path.clone(),
            },
            KeyOrigin::Environment => bail!("keys from the environment"),
            KeyOrigin::Sso(_) | KeyOrigin::Login(_) => bail!("a sign-in, no keys"),
        };
        Ok(Target::with(plan, home))
    }

    fn with(plan: Plan, home: Home) -> Target {
        let source = &plan.source;
        let mut mfa = plan.clone();
        mfa.roles.clear();
        mfa.mode = MfaMode::Session;
        mfa.profile = source.profile.clone();
        Target {
            profile: source.profile.clone(),
            home,
            plan: mfa,
        }
    }

    fn key_id(&self) -> &str {
        &self.plan.source.credentials.access_key_id
    }

    fn dry_run(&self, profiles: &Profiles) -> String {
        let p = &self.profile;
        let old = self.key_id();
        let mut out = format!("rotate the key {old} of profile `{p}` ({}):\n", self.home);
        if let Ok(state) = State::load() {
            if let Some(r) = state.rotations.get(p) {
                out.push_str(&format!(
                    "  an interrupted rotation is recorded (old key {}, new key {}): it is finished first\n",
                    r.old,
                    r.new.as_deref().unwrap_or("not known")
                ));
            }
        }
        let session = match &self.plan.mfa_serial {
            Some(serial) => format!("an MFA session with {serial}"),
            None => "a session (no MFA device: none is configured)".to_string(),
        };
        let cached = resolve::cached(&self.plan, &Cache::open(), resolve::DEFAULT_MIN_TTL);
        let sessions = old_sessions(profiles, p, old).len();
        let wait = crate::settings::rotate_wait().unwrap_or(DEFAULT_WAIT);
        out.push_str(&format!(
            "  1. {session}: {}\n  2. GetCallerIdentity, ListAccessKeys: stop when the user has two keys\n  3. CreateAccessKey\n  4. store the new key in {}\n  5. GetCallerIdentity with it until it works (up to {} s)\n  6. drop the cached sessions made from {old} ({sessions} of the configured profiles)\n  7. DeleteAccessKey {old}\nnothing was done (--dry-run)\n",
            if cached.is_some() { "cached, no code" } else { "GetSessionToken (asks for a code)" },
            self.home,
            wait.as_secs()
        ));
        out
    }

    fn rotate(&self, profiles: &Profiles, opts: &Options) -> Result<String> {
        let mut state = State::load()?;
        let stored = self.read_stored()?;
        let mut record = state.rotations.get(&self.profile).cloned();
        if let Some(r) = &record {
            if stored.access_key_id != r.old && Some(&stored.access_key_id) != r.new.as_ref() {
                ui::warning(format_args!(
                    "a rotation of `{}` was recorded (old key {}), but the store now holds {}: the record is stale and dropped",
                    self.profile, r.old, stored.access_key_id
                ));
                state.rotations.remove(&self.profile);
                state.save()?;
                record = None;
            }
        }
        let aws = Aws::new(&self.plan, opts)?;
        match record {
            Some(r) if r.new.as_deref() == Some(&stored.access_key_id) => {
                self.finish(profiles, opts, &aws, r, &stored)
            }
            Some(r) => {
                self.clean_up(opts, &aws, &r, &stored)?;
                self.fresh(profiles, opts, &aws, stored)
            }
            None => self.fresh(profiles, opts, &aws, stored),
        }
    }

    /// The key the store (or file) really holds now.
    fn read_stored(&self) -> Result<LongTermKey> {
        let p = &self.profile;
        let key = match &self.home {
            Home::Store(backend) => keystore::open(*backend)
                .and_then(|mut s| s.get(p))
                .with_context(|| format!("profile `{p}`: reading its key from {backend}"))?,
            Home::File { path, config } => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", ui::path(path)))?;
                let parsed = if *config {
                    Profiles::from_texts(&text, "")?
                } else {
                    Profiles::from_texts("", &text)?
                };
                parsed.get(p).and_then(|prof| {
                    Some(LongTermKey {
                        access_key_id: prof.get("aws_access_key_id")?.to_string(),
                        secret_access_key: prof.get("aws_secret_access_key")?.to_string(),
                    })
                })
            }
        };
        key.with_context(|| format!("profile `{p}`: {} holds no key for it", self.home))
    }

    /// What the store holds now, for messages.
    fn holds(&self) -> String {
        match self.read_stored() {
            Ok(key) => format!("{} holds {}", self.home, key.access_key_id),
            Err(e) => format!("{} cannot be read ({e:#})", self.home),
        }
    }

    /// Step 4: `key` where the old one lives, read back.
    fn store(&self, key: &LongTermKey) -> Result<()> {
        let p = &self.profile;
        match &self.home {
            Home::Store(backend) => {
                let held = index::lock()?;
                let mut store = keystore::open(*backend)?;
                store.set(p, key)?;
                pause("index");
                keystore::save(&held, store.as_mut(), p, key)?;
            }
            Home::File { path, config } => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", ui::path(path)))?;
                let keys = [
                    ("aws_access_key_id", key.access_key_id.as_str()),
                    ("aws_secret_access_key", key.secret_access_key.as_str()),
                ];
                let new = if *config {
                    edit::set_profile_keys(&text, p, &keys)?
                } else {
                    edit::set_keys(&text, p, &keys, false)?
                };
                edit::write_private(path, &new)?;
                ages::record_stored(&key.access_key_id);
            }
        }
        let back = self.read_stored()?;
        if back != *key {
            bail!("{} did not read back the key as written", self.home);
        }
        Ok(())
    }

    /// A rotation from the start: steps 1 to 7.
    fn fresh(
        &self,
        profiles: &Profiles,
        opts: &Options,
        aws: &Aws,
        old: LongTermKey,
    ) -> Result<String> {
        let p = &self.profile;
        pause("session");
        let session = self.session(opts)?;
        pause("identity");
        let user = aws.user(&old.credentials())?;
        let listed = aws.list(&session, &user)?;
        check_room(&listed, &old.access_key_id, &user, p)?;
        pause("create");
        let (new, record) = self.create(aws, &session, &user, &old)?;
        pause("store");
        if let Err(e) = self.store(&new) {
            let now = self.holds();
            return Err(e.context(format!(
                "profile `{p}`: cannot store the new key {} in {}. Nothing was deleted: IAM has the old key {} and the new one; {now}. \
                 Fix the store and run `mfaenv rotate {p}` again: it finishes the rotation (or, when the new key is not stored, deletes it and starts over)",
                new.access_key_id, self.home, old.access_key_id
            )));
        }
        ui::info(format_args!(
            "stored key {} of profile `{p}` in {}",
            new.access_key_id, self.home
        ));
        pause("wait");
        if let Err(e) = aws.wait_works(&new.credentials(), &user) {
            return Err(self.never_worked(e, &old, &new));
        }
        self.complete(profiles, aws, &session, &record, &user)
    }

    /// Step 3, recorded before (the old key) and after (the new key's id).
    fn create(
        &self,
        aws: &Aws,
        session: &Credentials,
        user: &str,
        old: &LongTermKey,
    ) -> Result<(LongTermKey, Rotation)> {
        let p = &self.profile;
        let mut state = State::load()?;
        let mut record = Rotation {
            old: old.access_key_id.clone(),
            new: None,
            user: user.to_string(),
            started: rfc3339(SystemTime::now()),
        };
        state.rotations.insert(p.clone(), record.clone());
        state.save()?;
        let made = match aws.create(session, user) {
            Ok(made) => made,
            Err(e) => {
                // An answer lost on the way, or a failure on IAM's side,
                // may hide a key IAM did make (the call is never sent
                // again: src/aws/query.rs): the record stays, and the next
                // run deletes such a key.
                let lost = matches!(
                    e,
                    StsError::Timeout { .. }
                        | StsError::Interrupted { .. }
                        | StsError::Malformed { .. }
                        | StsError::TooLarge { .. }
                ) || matches!(e, StsError::Service { status, .. } if status >= 500);
                if !lost {
                    state.rotations.remove(p);
                    state.save()?;
                }
                return Err(self.not_created(e, lost, old));
            }
        };
        record.new = Some(made.key.access_key_id.clone());
        state.rotations.insert(p.clone(), record.clone());
        state.save()?;
        if let Some(created) = made.created {
            ages::record_created(&[(made.key.access_key_id.clone(), created)]);
        }
        ui::info(format_args!(
            "created key {} for IAM user {user}",
            made.key.access_key_id
        ));
        Ok((made.key, record))
    }

    /// What a failed CreateAccessKey left: nothing, or (`lost`) maybe a key.
    fn not_created(&self, err: StsError, lost: bool, old: &LongTermKey) -> anyhow::Error {
        let p = &self.profile;
        let hint = match (&err, &self.plan.mfa_serial) {
            (StsError::AccessDenied { .. }, None) => {
                format!(" The session carries no MFA: `mfaenv setup {p}` records your MFA device.")
            }
            _ => String::new(),
        };
        let what = match (&err, lost) {
            (_, false) => "IAM made no new key; nothing was changed",
            (StsError::Service { .. }, true) => {
                "IAM failed on its side and may have made a key all the same (the next `mfaenv rotate` deletes such a key and starts over)"
            }
            _ => "IAM's answer was lost, so it may have made a key (the next `mfaenv rotate` deletes such a key and starts over)",
        };
        anyhow::Error::new(err).context(format!(
            "profile `{p}`: {what}: {} still holds {}, which IAM accepts.{hint}",
            self.home, old.access_key_id
        ))
    }

    /// Step 5 failed: the old key goes back, and the next run starts over.
    fn never_worked(
        &self,
        err: anyhow::Error,
        old: &LongTermKey,
        new: &LongTermKey,
    ) -> anyhow::Error {
        let p = &self.profile;
        match self.store(old) {
            Ok(()) => err.context(format!(
                "profile `{p}`: the new key {} did not start working. Nothing was deleted: {} holds the old key {} again, which IAM accepts; \
                 {} exists in IAM unused. Run `mfaenv rotate {p}` again later: it deletes {} and starts over",
                new.access_key_id, self.home, old.access_key_id, new.access_key_id, new.access_key_id
            )),
            Err(e) => err.context(format!(
                "profile `{p}`: the new key {} did not start working, and putting the old key {} back failed ({e:#}). Nothing was deleted: \
                 {}; IAM has both keys. Run `mfaenv rotate {p}` again in a minute: it checks {} again and then deletes {}",
                new.access_key_id, old.access_key_id, self.holds(), new.access_key_id, old.access_key_id
            )),
        }
    }

    /// Steps 6 and 7, and the record removed.
    fn complete(
        &self,
        profiles: &Profiles,
        aws: &Aws,
        session: &Credentials,
        record: &Rotation,
        user: &str,
    ) -> Result<String> {
        let p = &self.profile;
        let new = record.new.as_deref().unwrap_or_default();
        pause("drop");
        let dropped = drop_sessions(profiles, p, &record.old);
        pause("delete");
        aws.delete(session, user, &record.old).with_context(|| {
            format!(
                "profile `{p}`: the new key {new} is stored and works, but the old key {} is still in IAM. Run `mfaenv rotate {p}` again to delete it",
                record.old
            )
        })?;
        ages::forget(&record.old);
        pause("done");
        let mut state = State::load()?;
        state.rotations.remove(p);
        state.save()?;
        ui::info(format_args!(
            "rotated the key of profile `{p}`: {} (deleted) → {new} (in {}); {dropped} cached session(s) of the old key dropped",
            record.old, self.home
        ));
        Ok(String::new())
    }

    /// A rotation whose new key was stored: check it and delete the old one.
    fn finish(
        &self,
        profiles: &Profiles,
        opts: &Options,
        aws: &Aws,
        record: Rotation,
        stored: &LongTermKey,
    ) -> Result<String> {
        let p = &self.profile;
        ui::info(format_args!(
            "finishing the interrupted rotation of `{p}`: {} is stored, {} to delete",
            stored.access_key_id, record.old
        ));
        if let Home::Store(_) = self.home {
            // Killed between the store's write and the index's: index it now.
            let indexed = index::read(&index::path()?)?.keys.remove(p);
            if indexed.map(|e| e.access_key_id) != Some(stored.access_key_id.clone()) {
                self.store(stored)?;
            }
        }
        aws.wait_works(&stored.credentials(), &record.user)?;
        let plan = self.current_plan(opts)?;
        // The old key's MFA session, while cached, spares a code.
        let mut old_plan = plan.clone();
        old_plan.source.credentials.access_key_id = record.old.clone();
        let cache = Cache::open();
        let session = match resolve::cached(&old_plan, &cache, resolve::DEFAULT_MIN_TTL) {
            Some(session) => session,
            None => resolve::credentials(&plan, opts, &cache)?,
        };
        let listed = aws.list(&session, &record.user)?;
        if !listed.iter().any(|k| k.id == record.old) {
            ui::info(format_args!("{} is already gone from IAM", record.old));
        }
        self.complete(profiles, aws, &session, &record, &record.user)
    }

    /// A rotation whose new key never reached the store: delete that key
    /// (its secret is lost) so the rotation can start over.
    fn clean_up(
        &self,
        opts: &Options,
        aws: &Aws,
        record: &Rotation,
        stored: &LongTermKey,
    ) -> Result<()> {
        let p = &self.profile;
        let session = self.session(opts)?;
        let listed = aws.list(&session, &record.user)?;
        let since = humantime::parse_rfc3339(&record.started)
            .ok()
            .and_then(|t| t.checked_sub(CLOCK_SLACK));
        let orphans: Vec<&AccessKeyInfo> = listed
            .iter()
            .filter(|k| k.id != stored.access_key_id)
            .filter(|k| match &record.new {
                Some(new) => &k.id == new,
                None => matches!((k.created, since), (Some(c), Some(s)) if c >= s),
            })
            .collect();
        for orphan in orphans {
            aws.delete(&session, &record.user, &orphan.id).with_context(|| {
                format!(
                    "profile `{p}`: deleting {}, the key an interrupted rotation made and never stored; {} still holds {}, which IAM accepts",
                    orphan.id, self.home, stored.access_key_id
                )
            })?;
            ages::forget(&orphan.id);
            ui::info(format_args!(
                "deleted {}: an interrupted rotation made it and never stored it",
                orphan.id
            ));
        }
        let mut state = State::load()?;
        state.rotations.remove(p);
        state.save()?;
        Ok(())
    }

    /// Step 1: the MFA session of the key the store holds (cached or new).
    fn session(&self, opts: &Options) -> Result<Credentials> {
        let plan = self.current_plan(opts)?;
        resolve::credentials(&plan, opts, &Cache::open()).with_context(|| {
            format!(
                "profile `{}`: the MFA session for the rotation; nothing was changed",
                self.profile
            )
        })
    }

    /// The MFA session plan as the files and the index say now.
    fn current_plan(&self, opts: &Options) -> Result<Plan> {
        let profiles = Profiles::load()?;
        let mut plan = resolve::plan_in(&profiles, &self.profile, opts)?;
        plan.roles.clear();
        plan.mode = MfaMode::Session;
        plan.mfa_serial = plan.mfa_serial.or_else(|| self.plan.mfa_serial.clone());
        plan.session_seconds = self.plan.session_seconds;
        Ok(plan)
    }
}

/// Records IAM's creation dates of the keys of `name` (`key`), when a
/// cached MFA session of that key is at hand (`import`): no code is asked.
/// Best effort: any failure leaves the date the key was stored.
pub fn learn_dates(profiles: &Profiles, name: &str, key: &LongTermKey) {
    let opts = Options {
        prompt: false,
        mfa_process: false,
        ..Options::default()
    };
    let Ok(target) = Target::of_quiet(profiles, name, &opts) else {
        return;
    };
    if target.key_id() != key.access_key_id {
        return;
    }
    let Some(session) = resolve::cached(&target.plan, &Cache::open(), resolve::DEFAULT_MIN_TTL)
    else {
        return;
    };
    let Ok(aws) = Aws::new(&target.plan, &opts) else {
        return;
    };
    let Ok(identity) = aws.sts.get_caller_identity(&key.credentials()) else {
        return;
    };
    if let Some(user) = iam::user_of(&identity.arn) {
        let _ = aws.list(&session, &user);
    }
}

/// Step 2's refusals: a key of someone else, or no room for a new one.
fn check_room(listed: &[AccessKeyInfo], old: &str, user: &str, p: &str) -> Result<()> {
    if !listed.iter().any(|k| k.id == old) {
        bail!(
            "IAM user {user} has no key {old} (it has {}): the key of profile `{p}` belongs to someone else; nothing was changed",
            names(listed)
        );
    }
    if listed.len() >= 2 {
        bail!(
            "IAM user {user} already has two access keys, {}: IAM allows two, so there is no room for a new one. \
             Delete the one that is not {old} (`aws iam delete-access-key --user-name {user} --access-key-id ID`) and run `mfaenv rotate {p}` again; nothing was changed",
            names(listed)
        );
    }
    Ok(())
}

/// `AKIA… (Active, created 2026-01-01T00:00:00Z) and AKIA… (…)`.
fn names(keys: &[AccessKeyInfo]) -> String {
    let each: Vec<String> = keys
        .iter()
        .map(|k| {
            let created = k
                .created
                .map(|t| format!(", created {}", rfc3339(t)))
                .unwrap_or_default();
            format!("{} ({}{created})", k.id, k.status)
        })
        .collect();
    if each.is_empty() {
        "none".to_string()
    } else {
        each.join(" and ")
    }
}

/// The cache keys of every session a configured profile makes from the
/// keys of `keys_profile` when they are `key_id`.
fn old_sessions(profiles: &Profiles, keys_profile: &str, key_id: &str) -> Vec<Key> {
    let env = |name: &str| env_value(name);
    let mut keys = Vec::new();
    for name in profiles.names() {
        let Ok(mut plan) = config::resolve(profiles, name, &env) else {
            continue;
        };
        if plan.source.profile != keys_profile {
            continue;
        }
        plan.source.credentials.access_key_id = key_id.to_string();
        keys.extend(resolve::steps(&plan).into_iter().map(|s| s.key));
    }
    keys
}

/// Step 6; returns how many sessions were removed.
fn drop_sessions(profiles: &Profiles, keys_profile: &str, key_id: &str) -> usize {
    let cache = Cache::open();
    let mut removed = Removed::default();
    for key in old_sessions(profiles, keys_profile, key_id) {
        cache.remove(&key, &mut removed);
    }
    for (path, e) in &removed.failed {
        ui::warning(format_args!("cannot remove {}: {e}", ui::path(path)));
    }
    removed.sessions
}

// ---------------------------------------------------------------------------
// The calls
// ---------------------------------------------------------------------------

struct Aws {
    sts: Sts,
    iam_endpoint: Option<String>,
}

impl Aws {
    fn new(plan: &Plan, opts: &Options) -> Result<Aws> {
        let region = endpoint::region(plan, opts.region.as_deref());
        let (sts_endpoint, origin) =
            endpoint::endpoint(Service::Sts, plan, opts.endpoint_url.as_deref()).unzip();
        let sts = Sts::new(region.as_deref(), sts_endpoint.as_deref())?.endpoint_origin(origin);
        let iam_endpoint = endpoint::endpoint(Service::Iam, plan, None).map(|(url, _)| url);
        Ok(Aws { sts, iam_endpoint })
    }

    /// Step 2: the IAM user the long-term key belongs to.
    fn user(&self, keys: &Credentials) -> Result<String> {
        let identity = self
            .sts
            .get_caller_identity(keys)
            .context("asking AWS whose key this is; nothing was changed")?;
        match iam::user_of(&identity.arn) {
            Some(user) => Ok(user),
            None => bail!(
                "the key belongs to {}, not to an IAM user: only an IAM user's keys can be rotated here; nothing was changed",
                identity.arn
            ),
        }
    }

    fn list(&self, session: &Credentials, user: &str) -> Result<Vec<AccessKeyInfo>> {
        let listed = self
            .sts
            .list_access_keys(session, self.iam_endpoint.as_deref(), user)
            .with_context(|| format!("listing the access keys of IAM user {user}"))?;
        let dated: Vec<(String, SystemTime)> = listed
            .iter()
            .filter_map(|k| Some((k.id.clone(), k.created?)))
            .collect();
        ages::record_created(&dated);
        Ok(listed)
    }

    fn create(&self, session: &Credentials, user: &str) -> Result<crate::aws::NewKey, StsError> {
        self.sts
            .create_access_key(session, self.iam_endpoint.as_deref(), user)
    }

    fn delete(&self, session: &Credentials, user: &str, key_id: &str) -> Result<()> {
        self.sts
            .delete_access_key(session, self.iam_endpoint.as_deref(), user, key_id)?;
        Ok(())
    }

    /// Step 5: GetCallerIdentity with `key` until it answers as `user`.
    fn wait_works(&self, key: &Credentials, user: &str) -> Result<()> {
        let limit = crate::settings::rotate_wait().unwrap_or(DEFAULT_WAIT);
        let start = Instant::now();
        let mut said = false;
        loop {
            let err = match self.sts.get_caller_identity(key) {
                Ok(id) if iam::user_of(&id.arn).as_deref() == Some(user) => return Ok(()),
                Ok(id) => bail!("the new key answers as {}, not as IAM user {user}", id.arn),
                Err(e) => e,
            };
            if start.elapsed() + Duration::from_secs(1) > limit {
                return Err(err).with_context(|| {
                    format!(
                        "AWS did not accept the new key within {} s",
                        limit.as_secs()
                    )
                });
            }
            if !said {
                ui::info("waiting for IAM to accept the new key…");
                said = true;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

/// The test hook: stop before `step` when `MFAENV_TEST_ROTATE_PAUSE` names
/// it, until a line comes on stdin (the test may change things meanwhile)
/// or, with no stdin, for two minutes (the test kills it there).
fn pause(step: &str) {
    if crate::settings::rotate_pause().as_deref() != Some(step) {
        return;
    }
    eprintln!("mfaenv: test hook: paused before {step}");
    let mut line = String::new();
    match std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut line) {
        Ok(n) if n > 0 => {}
        _ => std::thread::sleep(Duration::from_secs(120)),
    }
}
