//! "Credentials for profile P": the one function every command calls.
//! It loads the profile, resolves its plan, and walks the plan's sessions —
//! the MFA session, then each role — taking each from the cache when it has
//! enough time left, else from STS under the cache's lock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use crate::aws::endpoint::{self, Service};
use crate::aws::{self, Mfa, Sts, StsError};
use crate::cache::{Cache, Key, Label};
use crate::config::{self, KeyOrigin, MfaMode, Plan, Profiles, RoleStep, SourceKind};
use crate::creds::Credentials;
use crate::duration::human;
use crate::env_vars::get as env_value;
use crate::mfa::CodeSource;

/// A session with less than this left counts as expired.
pub const DEFAULT_MIN_TTL: Duration = Duration::from_secs(5 * 60);

/// What the command line adds to a profile.
#[derive(Debug, Clone)]
pub struct Options {
    pub token_code: Option<String>,
    pub region: Option<String>,
    /// What set `region`, for messages: `--region`, or the `.mfaenv` file.
    pub region_from: &'static str,
    pub endpoint_url: Option<String>,
    pub direct: bool,
    /// The final credentials must last at least this long.
    pub min_ttl: Duration,
    /// `--duration`: how long the final session lasts when it is made.
    pub duration: Option<Duration>,
    /// Whether the terminal may be asked for a code.
    pub prompt: bool,
    /// Whether the profile's `mfa_process` may be run for a code (the
    /// hook's cache-only pass says no).
    pub mfa_process: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            token_code: None,
            region: None,
            region_from: "--region",
            endpoint_url: None,
            direct: false,
            min_ttl: DEFAULT_MIN_TTL,
            duration: None,
            prompt: true,
            mfa_process: true,
        }
    }
}

/// Reads the config files and resolves `profile` with the command-line overrides.
/// The region is checked here, before any command can call STS with it.
pub fn plan(profile: &str, opts: &Options) -> Result<Plan> {
    let profiles = Profiles::load_for(profile)?;
    let plan = plan_in(&profiles, profile, opts)?;
    check_region(&profiles, &plan, opts)?;
    Ok(plan)
}

/// [`plan`] over profiles already loaded (`mfaenv plan` also shows where
/// each value came from).
pub fn plan_in(profiles: &Profiles, profile: &str, opts: &Options) -> Result<Plan> {
    let env = |name: &str| env_value(name);
    let mut plan = config::resolve(profiles, profile, &env)?;
    // Temporary source keys cannot call GetSessionToken: assume roles directly.
    if opts.direct || (plan.source.credentials.session_token.is_some() && !plan.roles.is_empty()) {
        plan.mode = MfaMode::Direct;
    }
    if let Some(region) = &opts.region {
        plan.region = Some(region.clone());
        plan.region_from = None;
    }
    if let Some(wanted) = opts.duration {
        set_duration(&mut plan, wanted)?;
    }
    Ok(plan)
}

/// The region to export (and, unless a variable overrides it, to call STS
/// in) must look like an AWS region: refused by [`plan`], before any call,
/// with what set it. (`mfaenv plan` shows the region as read, as botocore
/// reads it, and warns.)
pub fn check_region(profiles: &Profiles, plan: &Plan, opts: &Options) -> Result<()> {
    let Some(region) = &plan.region else {
        return Ok(());
    };
    if endpoint::is_region_shaped(region) {
        return Ok(());
    }
    if opts.region.is_some() {
        return endpoint::check_region(region, opts.region_from);
    }
    let name = plan.region_from.as_deref().unwrap_or(&plan.profile);
    let at = profiles
        .get(name)
        .and_then(|p| profiles.with_includes(p).ok())
        .and_then(|p| p.value("region").map(|v| v.location.to_string()));
    let origin = match at {
        Some(at) => format!("`region` of profile {name}, {at}"),
        None => format!("`region` of profile {name}"),
    };
    endpoint::check_region(region, &origin.escape_debug().to_string())
}

/// `--duration`, as aws-vault means it: the DurationSeconds of the session
/// the user gets — the last role's (over its `duration_seconds`), or, with
/// no role, the MFA session's (over `mfa_session_duration`). The MFA
/// session in front of roles keeps its own. Refused, before any code is
/// spent, when STS would refuse it.
fn set_duration(plan: &mut Plan, wanted: Duration) -> Result<()> {
    let text = wanted.as_secs().to_string();
    let refuse = |e: String| anyhow::anyhow!("--duration {}: {e}", human(wanted));
    let chained = plan.roles.len() > 1;
    match plan.roles.last_mut() {
        None if !plan.source.kind.has_keys() => {
            return Err(refuse(format!(
                "profile `{}` gets its credentials from {}, which decides how long they last; --duration applies to a role on top of it",
                plan.profile, plan.source.origin
            )));
        }
        None => {
            plan.session_seconds =
                crate::duration::parse_seconds(&text, crate::duration::SESSION_TOKEN)
                    .map_err(refuse)?;
        }
        Some(role) => {
            let range = if chained {
                crate::duration::CHAINED_ROLE
            } else {
                crate::duration::ASSUME_ROLE
            };
            role.duration_seconds =
                Some(crate::duration::parse_seconds(&text, range).map_err(|e| {
                    refuse(format!(
                        "{e} (role {} of profile `{}`)",
                        role.role_arn, role.profile
                    ))
                })?);
            // A note that the profile's own duration_seconds was clamped no
            // longer applies: --duration replaced it.
            let stale = format!("profile `{}`: duration_seconds", role.profile);
            plan.notes.retain(|note| !note.starts_with(&stale));
        }
    }
    Ok(())
}

/// The profile to use when none is named: `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, `default`.
pub fn default_profile() -> String {
    ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]
        .iter()
        .find_map(|v| env_value(v))
        .unwrap_or_else(|| "default".to_string())
}

/// One cached session of a plan: its key and what it is.
pub struct Step {
    pub key: Key,
    pub label: Label,
}

/// The sessions `plan` goes through, in order; the last one is what the
/// user gets. In session mode the first is the MFA session; a source that
/// is no keys (IAM Identity Center, `aws login`) is a first step of its own.
pub fn steps(plan: &Plan) -> Vec<Step> {
    let mut steps = Vec::new();
    let parent: Vec<String> = match source_step(plan) {
        Some((step, parts)) => {
            steps.push(step);
            parts
        }
        None => key_steps(plan, &mut steps),
    };
    role_steps(plan, parent, &mut steps);
    steps
}

/// The first step of a source that is no keys, and the key parts of what
/// it gives (the roles' keys start with them).
fn source_step(plan: &Plan) -> Option<(Step, Vec<String>)> {
    let profile = plan.source.profile.clone();
    let (parts, label) = match &plan.source.kind {
        SourceKind::Static | SourceKind::Environment => return None,
        SourceKind::Sso(sso) => (
            vec![
                "sso".to_string(),
                sso.start_url.clone(),
                sso.session.clone().unwrap_or_default(),
                sso.account_id.clone(),
                sso.role_name.clone(),
            ],
            Label {
                kind: "sso".into(),
                profile,
                target: format!("{}/{}", sso.account_id, sso.role_name),
            },
        ),
        SourceKind::Login { session } => (
            vec!["login".to_string(), session.clone()],
            Label {
                kind: "login".into(),
                profile,
                target: session.clone(),
            },
        ),
    };
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let key = Key::new(&refs);
    Some((Step { key, label }, parts))
}

/// The MFA session on the source's keys (in session mode, or with no
/// role), and the key parts the roles' keys start with.
fn key_steps(plan: &Plan, steps: &mut Vec<Step>) -> Vec<String> {
    let serial = plan.mfa_serial.as_deref().unwrap_or("");
    let source = &plan.source.credentials.access_key_id;
    let mut parent = vec![source.as_str(), serial];
    if plan.mode == MfaMode::Session || plan.roles.is_empty() {
        // Two profiles asking for MFA sessions of different lengths (aws-vault
        // style session profiles, say) must not serve each other's.
        let seconds = plan.session_seconds.to_string();
        steps.push(Step {
            key: Key::new(&[&["mfa-session"], parent.as_slice(), &[&seconds]].concat()),
            // Without a device it is a plain session, no MFA: `status` says so.
            label: Label {
                kind: if serial.is_empty() {
                    "session"
                } else {
                    "mfa-session"
                }
                .into(),
                profile: plan
                    .session_profile
                    .clone()
                    .unwrap_or_else(|| plan.source.profile.clone()),
                target: if serial.is_empty() {
                    "(no MFA device)".into()
                } else {
                    serial.into()
                },
            },
        });
    } else {
        parent.push("direct");
    }
    parent.iter().map(|s| s.to_string()).collect()
}

/// One step per role, each keyed by everything before it.
fn role_steps(plan: &Plan, mut owned: Vec<String>, steps: &mut Vec<Step>) {
    for role in &plan.roles {
        owned.extend([
            role.role_arn.clone(),
            role.external_id.clone().unwrap_or_default(),
            role.session_name.clone().unwrap_or_default(),
            role.duration_seconds
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ]);
        let parts: Vec<&str> = std::iter::once("role")
            .chain(owned.iter().map(String::as_str))
            .collect();
        steps.push(Step {
            key: Key::new(&parts),
            label: Label {
                kind: "role".into(),
                profile: role.profile.clone(),
                target: role.role_arn.clone(),
            },
        });
    }
}

/// The source's long-term keys, for an STS call: as resolved from the files
/// or the environment, or read now from the key store the index names.
/// Only the callers that are about to call STS ask, so a cached export or
/// the hook never opens a keyring or a passphrase prompt.
pub fn source_keys(plan: &Plan) -> Result<Credentials> {
    if matches!(plan.source.origin, KeyOrigin::Store(_) | KeyOrigin::File(_))
        && plan.source.credentials.session_token.is_none()
    {
        crate::keystore::ages::warn_if_old(
            &plan.source.profile,
            &plan.source.credentials.access_key_id,
            plan.key_max_age.as_deref(),
        );
    }
    let KeyOrigin::Store(backend) = plan.source.origin else {
        return Ok(plan.source.credentials.clone());
    };
    let profile = &plan.source.profile;
    let indexed = &plan.source.credentials.access_key_id;
    let key = crate::keystore::open(backend)
        .and_then(|mut store| store.get(profile))
        .with_context(|| format!("profile `{profile}`: reading its keys from {backend}"))?
        .with_context(|| {
            format!(
                "profile `{profile}`: {backend} has no keys for it, though mfaenv's index lists key {}: `mfaenv add {profile}` stores them again",
                crate::keystore::key_hint(indexed)
            )
        })?;
    if &key.access_key_id != indexed {
        // Killed between the store's write and the index's: the entry is
        // the rotation's new key, which `mfaenv rotate` indexes when it
        // finishes; until then it is the key to use.
        if crate::keystore::rotations::pending_new_key(profile).as_ref() == Some(&key.access_key_id)
        {
            crate::ui::warning(format_args!(
                "profile `{profile}`: a rotation of its key is unfinished: `mfaenv rotate {profile}` finishes it"
            ));
            return Ok(key.credentials());
        }
        bail!(
            "profile `{profile}`: {backend} holds key {}, mfaenv's index says {}: `mfaenv add {profile}` stores them again",
            crate::keystore::key_hint(&key.access_key_id),
            crate::keystore::key_hint(indexed)
        );
    }
    Ok(key.credentials())
}

/// ` (keys from the Secret Service)` for a source in a key store, for messages.
fn keys_from(plan: &Plan) -> String {
    match &plan.source.origin {
        KeyOrigin::Store(backend) => format!(" (keys from {backend})"),
        _ => String::new(),
    }
}

/// The plan's final credentials when the cache has them: no STS, no code.
pub fn cached(plan: &Plan, cache: &Cache, min_ttl: Duration) -> Option<Credentials> {
    if plan.roles.is_empty() {
        if let Some(login) = crate::sources::login::of_plan(plan) {
            // Its own file is the cache (a read, never a refresh).
            return crate::sources::login::cached(&login, min_ttl)
                .ok()
                .flatten();
        }
    }
    let steps = steps(plan);
    cache.get(&steps.last()?.key, min_ttl)
}

/// Whether the plan's final session can be made again without a code: it
/// is assumed with the keys of a session that is cached (the MFA session,
/// or the role before it in a chain) and has time left; or the chain
/// starts at IAM Identity Center and its cached login is valid (or can be
/// refreshed with no browser), so every step is made again with no person.
pub fn renewable(plan: &Plan, cache: &Cache) -> bool {
    let steps = steps(plan);
    let parent = steps.len().checked_sub(2).map(|i| &steps[i]);
    if parent.is_some_and(|p| cache.get(&p.key, DEFAULT_MIN_TTL).is_some()) {
        return true;
    }
    match &plan.source.kind {
        SourceKind::Sso(sso) => crate::sources::sso::logged_in(sso),
        _ => false,
    }
}

/// Credentials for `plan` lasting at least `opts.min_ttl`: from the cache
/// when it has them, else from STS (asking for a code only when needed).
pub fn credentials(plan: &Plan, opts: &Options, cache: &Cache) -> Result<Credentials> {
    check_min_ttl(plan, opts.min_ttl)?;
    let steps = steps(plan);
    let last = steps.len() - 1;
    let ttl = |i: usize| {
        if i == last {
            opts.min_ttl
        } else {
            DEFAULT_MIN_TTL
        }
    };
    if let Some(creds) = cache.get(&steps[last].key, opts.min_ttl) {
        return Ok(creds);
    }
    for note in &plan.notes {
        crate::ui::note(note);
    }
    if plan.mfa_serial.is_none() && plan.source.kind.has_keys() {
        crate::ui::hint(format_args!(
            "profile `{}` has no mfa_serial, so this session carries no MFA: `mfaenv setup {}` finds your MFA device and records it",
            plan.profile, plan.profile
        ));
    }
    let mut caller = Caller::new(plan, opts);
    let mut creds: Option<Credentials> = None;
    let roles = &plan.roles;
    let role_offset = steps.len() - roles.len();
    for (i, step) in steps.iter().enumerate() {
        let prev = creds.take();
        if i == 0 && crate::sources::login::of_plan(plan).is_some() {
            // An `aws login` session is served from its own file, which the
            // AWS CLI updates too: never copied into mfaenv's cache.
            creds = Some(crate::sources::login::for_plan(plan, opts, ttl(0), cache)?);
            continue;
        }
        creds = Some(cache.get_or_refresh(&step.key, &step.label, ttl(i), || {
            match (&prev, i < role_offset) {
                // A source that is no keys: its own module
                // (`crate::sources`) gives the first credentials.
                (None, true) if !plan.source.kind.has_keys() => {
                    crate::sources::credentials(plan, opts)
                }
                (None, true) => caller.session_token(),
                (None, false) => caller.assume_with_code(&roles[0]),
                (Some(from), _) => {
                    // AWS refusing these keys as expired makes the cached
                    // session they came from useless: drop it, so that the
                    // next run starts a new one instead of failing again.
                    let parent = &steps[i - 1];
                    caller.assume(from, &roles[i - role_offset], || Refused::Session {
                        label: parent.label.clone(),
                        dropped: cache.drop_session(&parent.key, &from.access_key_id),
                    })
                }
            }
        })?);
    }
    creds.context("the plan has no sessions")
}

/// Refuses, before any code is spent, a `--min-ttl` the final session cannot last.
pub fn check_min_ttl(plan: &Plan, min_ttl: Duration) -> Result<()> {
    // How long the source's own credentials last is the source's to say
    // (an Identity Center permission set's session duration, say; an `aws
    // login` session's refresh says it: `sources::login`).
    if plan.roles.is_empty() && !plan.source.kind.has_keys() {
        return Ok(());
    }
    let (lasts, what) = lifetime_of(plan);
    if min_ttl > Duration::from_secs(lasts.into()) {
        bail!("--min-ttl {} cannot be met: {what}", human(min_ttl));
    }
    Ok(())
}

/// How long the plan's final session lasts when it is made.
pub fn lifetime(plan: &Plan) -> Duration {
    Duration::from_secs(lifetime_of(plan).0.into())
}

/// [`lifetime`] in seconds, and what sets it, for messages.
fn lifetime_of(plan: &Plan) -> (u32, String) {
    match plan.roles.last() {
        None if matches!(plan.source.kind, SourceKind::Login { .. }) => (
            crate::sources::login::MAX_LIFETIME.as_secs() as u32,
            "an `aws login` session's credentials last 15 minutes at most".to_string(),
        ),
        Some(role) => (
            role.duration_seconds.unwrap_or(3600),
            format!(
                "role {} lasts {} (duration_seconds in profile `{}`; at most 12h, 1h for a role assumed from another role)",
                role.role_arn,
                human(Duration::from_secs(role.duration_seconds.unwrap_or(3600).into())),
                role.profile
            ),
        ),
        None => (
            plan.session_seconds,
            format!(
                "the MFA session lasts {} (mfa_session_duration; at most 36h)",
                human(Duration::from_secs(plan.session_seconds.into()))
            ),
        ),
    }
}

/// Makes the STS calls of one command; the client starts on first use.
struct Caller<'a> {
    plan: &'a Plan,
    opts: &'a Options,
    sts: Option<Sts>,
    codes: CodeSource,
}

impl<'a> Caller<'a> {
    fn new(plan: &'a Plan, opts: &'a Options) -> Caller<'a> {
        Caller {
            plan,
            opts,
            sts: None,
            codes: CodeSource::new(
                opts.token_code.clone(),
                plan.mfa_process.clone().filter(|_| opts.mfa_process),
                opts.prompt,
            )
            .for_profile(&plan.profile, plan.mfa_prompt.clone(), plan.prompt_timeout),
        }
    }

    fn sts(&mut self) -> Result<&Sts> {
        if self.sts.is_none() {
            let origin = endpoint::region_origin(self.plan, self.opts.region.as_deref());
            if let Some((region, from @ ("AWS_REGION" | "AWS_DEFAULT_REGION"))) = &origin {
                endpoint::check_region(region, &format!("the variable {from}"))?;
            }
            let region = origin.map(|(region, _)| region);
            let (endpoint, origin) =
                endpoint::endpoint(Service::Sts, self.plan, self.opts.endpoint_url.as_deref())
                    .unzip();
            self.sts =
                Some(Sts::new(region.as_deref(), endpoint.as_deref())?.endpoint_origin(origin));
        }
        self.sts.as_ref().context("STS client")
    }

    /// GetSessionToken on the source keys, with the MFA device when the plan has one.
    fn session_token(&mut self) -> Result<Credentials> {
        let plan = self.plan;
        let what = || {
            format!(
                "profile `{}`: MFA session for `{}`{}",
                plan.profile,
                plan.source.profile,
                keys_from(plan)
            )
        };
        let keys = source_keys(plan).with_context(what)?;
        self.sts()?;
        let Caller { sts, codes, .. } = self;
        let sts = sts.as_ref().context("STS client")?;
        with_code(codes, plan.mfa_serial.as_deref(), |mfa| {
            sts.get_session_token(&keys, plan.session_seconds, mfa)
                .map_err(|e| refused(e, || Refused::source(plan)))
        })
        .with_context(what)
    }

    /// Direct mode: the first role, assumed from the source keys with the code.
    fn assume_with_code(&mut self, step: &RoleStep) -> Result<Credentials> {
        let plan = self.plan;
        let what = || format!("{}{}", assuming(step), keys_from(plan));
        let keys = source_keys(plan).with_context(what)?;
        self.sts()?;
        let Caller { sts, codes, .. } = self;
        let sts = sts.as_ref().context("STS client")?;
        with_code(codes, plan.mfa_serial.as_deref(), |mfa| {
            assume(sts, &keys, step, mfa).map_err(|e| refused(e, || Refused::source(plan)))
        })
        .with_context(what)
    }

    /// A role assumed from `from` (a session's keys), with no code.
    /// `refused_keys` says (and acts on) where `from` came from, when AWS
    /// refuses it as expired.
    fn assume(
        &mut self,
        from: &Credentials,
        step: &RoleStep,
        refused_keys: impl FnOnce() -> Refused,
    ) -> Result<Credentials> {
        let sts = self.sts()?;
        assume(sts, from, step, None)
            .map_err(|e| refused(e, refused_keys))
            .with_context(|| assuming(step))
    }
}

fn assuming(step: &RoleStep) -> String {
    format!("profile `{}`: assuming {}", step.profile, step.role_arn)
}

/// An STS error as anyhow's, wrapped in [`ExpiredKeys`] when AWS refused
/// the calling keys as expired.
fn refused(err: StsError, keys: impl FnOnce() -> Refused) -> anyhow::Error {
    match err {
        StsError::ExpiredToken { .. } => ExpiredKeys {
            err,
            refused: keys(),
        }
        .into(),
        other => other.into(),
    }
}

/// AWS refused the keys a call was made with as expired. Shows as the STS
/// error; `advice` says what mfaenv did and what to do.
#[derive(Debug)]
pub struct ExpiredKeys {
    err: StsError,
    refused: Refused,
}

/// Whose keys AWS refused.
#[derive(Debug)]
pub enum Refused {
    /// A session mfaenv had (cached); `dropped` when it was removed from the cache.
    Session { label: Label, dropped: bool },
    /// The source profile's own keys (temporary ones, with a session token).
    Source { profile: String, environment: bool },
}

impl Refused {
    fn source(plan: &Plan) -> Refused {
        Refused::Source {
            profile: plan.source.profile.clone(),
            environment: plan.source.kind == config::SourceKind::Environment,
        }
    }
}

impl std::fmt::Display for ExpiredKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.err.fmt(f)
    }
}

impl std::error::Error for ExpiredKeys {}

impl ExpiredKeys {
    /// Whose keys AWS refused.
    pub fn refused(&self) -> &Refused {
        &self.refused
    }
}

fn assume(
    sts: &Sts,
    creds: &Credentials,
    step: &RoleStep,
    mfa: Option<Mfa<'_>>,
) -> Result<Credentials, StsError> {
    let session_name = step
        .session_name
        .clone()
        .unwrap_or_else(default_session_name);
    sts.assume_role(
        creds,
        &aws::AssumeRole {
            role_arn: &step.role_arn,
            session_name: &session_name,
            external_id: step.external_id.as_deref(),
            duration_seconds: step.duration_seconds,
            mfa,
        },
    )
}

/// Calls `call` with a code when `serial` is set, asking again on the
/// terminal when AWS rejects a typed code.
fn with_code<T, E: Into<anyhow::Error>>(
    codes: &mut CodeSource,
    serial: Option<&str>,
    mut call: impl FnMut(Option<Mfa<'_>>) -> Result<T, E>,
) -> Result<T> {
    let Some(serial) = serial else {
        return call(None).map_err(Into::into);
    };
    let mut retry: Option<String> = None;
    loop {
        let code = codes.code(serial, retry.as_deref())?;
        let err: anyhow::Error = match call(Some(Mfa {
            serial,
            code: &code,
        })) {
            Ok(v) => return Ok(v),
            Err(e) => e.into(),
        };
        match err.downcast_ref::<StsError>() {
            Some(rejected @ StsError::MfaCodeRejected { .. }) if codes.can_ask_again() => {
                retry = Some(rejected.to_string());
            }
            _ => return Err(err),
        }
    }
}

fn default_session_name() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("mfaenv-{}", now.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(config: &str, name: &str) -> Plan {
        let profiles = Profiles::from_texts(
            config,
            "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n",
        )
        .unwrap();
        config::resolve(&profiles, name, &|_| None).unwrap()
    }

    #[test]
    fn session_profiles_with_another_device_or_length_get_their_own_session() {
        let config = "\
[profile base]
[profile x]
source_profile = base
mfa_serial = arn:aws:iam::1:mfa/x
[profile x-long]
source_profile = base
mfa_serial = arn:aws:iam::1:mfa/x
mfa_session_duration = 36h
[profile x-too]
source_profile = base
mfa_serial = arn:aws:iam::1:mfa/x
[profile y]
source_profile = base
mfa_serial = arn:aws:iam::1:mfa/y
";
        let key = |name: &str| {
            let steps = steps(&plan_of(config, name));
            assert_eq!(steps.len(), 1, "{name}: one MFA session, no role");
            steps[0].key.clone()
        };
        assert_ne!(key("x"), key("y"), "another mfa_serial");
        assert_ne!(key("x"), key("x-long"), "another mfa_session_duration");
        assert_eq!(
            key("x"),
            key("x-too"),
            "same keys, device and length: shared"
        );
        let label = &steps(&plan_of(config, "x"))[0].label;
        assert_eq!(label.profile, "x");
    }

    #[test]
    fn a_sign_in_source_is_a_step_of_its_own() {
        let config = "\
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Dev
[profile ops]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Ops
[profile admin]
source_profile = dev
role_arn = arn:aws:iam::444455556666:role/admin
[profile web]
login_session = me
[profile onweb]
source_profile = web
role_arn = arn:aws:iam::444455556666:role/admin
";
        let dev = steps(&plan_of(config, "dev"));
        assert_eq!(dev.len(), 1);
        assert_eq!(dev[0].label.kind, "sso");
        assert_eq!(dev[0].label.target, "111122223333/Dev");
        let admin = steps(&plan_of(config, "admin"));
        assert_eq!(admin.len(), 2);
        assert_eq!(admin[0].key, dev[0].key, "the SSO step is shared");
        assert_eq!(admin[1].label.kind, "role");
        assert_ne!(steps(&plan_of(config, "ops"))[0].key, dev[0].key);
        let web = steps(&plan_of(config, "onweb"));
        assert_eq!(web[0].label.kind, "login");
        assert_ne!(web[1].key, admin[1].key, "same role, another source");
        // --duration is the source's to decide with no role on top.
        let mut plan = plan_of(config, "dev");
        let e = set_duration(&mut plan, Duration::from_secs(3600)).unwrap_err();
        assert!(e.to_string().contains("IAM Identity Center"), "{e}");
        assert!(check_min_ttl(&plan, Duration::from_secs(99 * 3600)).is_ok());
    }
}
