//! Resolving a profile into a plan: where the long-term keys come from, which
//! roles to assume in what order, and which MFA device unlocks them.
//!
//! Follows botocore: a profile's `role_arn` wins over its own keys; a source
//! profile's static keys win over its `role_arn`; a profile may name itself as
//! `source_profile` only when it holds keys.
//!
//! A chain may also start at a source that is no keys: IAM Identity Center
//! (`sso_*` on a profile, [`SsoSource`]) or an `aws login` session
//! (`login_session`). As in botocore, such a profile is the source where
//! keys would be (its `sso_*` win over keys in the same profile); roles
//! chain on top of it with `source_profile`.

use std::borrow::Cow;

use super::profiles::{Location, Profile, Profiles};
use super::ConfigError;
use crate::creds::Credentials;
use crate::duration;
use crate::keystore::{self, Backend};

/// How many profiles a `source_profile` chain may hold.
pub const MAX_CHAIN: usize = 10;

const DEFAULT_SESSION_SECONDS: u32 = 12 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// `aws_access_key_id`/`aws_secret_access_key` of a profile.
    Static,
    /// `credential_source = Environment`.
    Environment,
    /// IAM Identity Center: the portal's credentials for an account and
    /// role (`crate::sources::sso`).
    Sso(Box<SsoSource>),
    /// An `aws login` session (`login_session = NAME` on the profile):
    /// `crate::sources::login`.
    Login { session: String },
}

impl SourceKind {
    /// Whether the source is long-term keys (files, environment, key store),
    /// as opposed to a source that gives temporary credentials itself.
    pub fn has_keys(&self) -> bool {
        matches!(self, SourceKind::Static | SourceKind::Environment)
    }
}

/// An IAM Identity Center profile, with its `[sso-session]` applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSource {
    /// `sso_session` (the `[sso-session NAME]` section); `None` in the
    /// legacy shape, `sso_start_url` and `sso_region` on the profile.
    pub session: Option<String>,
    pub start_url: String,
    /// The region of Identity Center (OIDC and the portal): `sso_region`.
    pub region: String,
    /// `sso_registration_scopes`, split at commas.
    pub scopes: Vec<String>,
    pub account_id: String,
    pub role_name: String,
}

/// The keys that make a profile an IAM Identity Center one (botocore's list).
pub const SSO_KEYS: &[&str] = &[
    "sso_start_url",
    "sso_region",
    "sso_role_name",
    "sso_account_id",
];

/// Where a source's keys come from: for `plan`, `status` and error
/// messages (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `aws_access_key_id` in the config or credentials file, at this line.
    File(Location),
    /// `credential_source = Environment`: `AWS_ACCESS_KEY_ID`.
    Environment,
    /// A key store (`mfaenv add`/`import`): the access key id comes from the
    /// store's index, the secret from the store itself, read only right
    /// before an STS call (`resolve::source_keys`); until then
    /// `credentials.secret_access_key` is empty.
    Store(Backend),
    /// IAM Identity Center: no keys; the profile's `sso_*` are at this line.
    Sso(Location),
    /// `aws login`: no keys; the profile's `login_session` is at this line.
    Login(Location),
}

impl std::fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyOrigin::File(location) => write!(f, "{location}"),
            KeyOrigin::Environment => f.write_str("the environment (AWS_ACCESS_KEY_ID)"),
            KeyOrigin::Store(backend) => write!(f, "{backend}"),
            KeyOrigin::Sso(location) => write!(f, "IAM Identity Center ({location})"),
            KeyOrigin::Login(location) => write!(f, "an `aws login` session ({location})"),
        }
    }
}

/// The long-term keys everything else is derived from (or, for a source
/// that is no keys, `kind` says what it is and `credentials` are empty).
#[derive(Debug, Clone)]
pub struct Source {
    pub profile: String,
    pub kind: SourceKind,
    pub origin: KeyOrigin,
    pub credentials: Credentials,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStep {
    pub profile: String,
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub duration_seconds: Option<u32>,
    pub mfa_serial: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaMode {
    /// GetSessionToken with the code once, then AssumeRole with the session.
    Session,
    /// AssumeRole with SerialNumber + TokenCode directly (botocore's way).
    Direct,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub profile: String,
    pub source: Source,
    /// Roles to assume, in execution order (the source's side first).
    pub roles: Vec<RoleStep>,
    pub mfa_serial: Option<String>,
    pub mfa_process: Option<String>,
    pub mode: MfaMode,
    /// DurationSeconds of the MFA session (GetSessionToken).
    pub session_seconds: u32,
    /// aws-vault's shape: the profile with `source_profile` + `mfa_serial`
    /// and no `role_arn` whose MFA session this is (on the source's keys).
    pub session_profile: Option<String>,
    /// The region exported to the shell: the profile's own `region`, else the
    /// nearest one up the `source_profile` chain (see `region_from`).
    pub region: Option<String>,
    /// The profile `region` was taken from, when it is not the profile
    /// itself: said on stderr, since the SDKs would not look there.
    pub region_from: Option<String>,
    /// The region STS is called in: first `region` along the chain.
    pub sts_region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Durations that were clamped (and other config remarks), said on
    /// stderr before any STS call.
    pub notes: Vec<String>,
    /// `mfaenv_server = true`: `exec` serves the credentials (`exec --server`).
    pub server: bool,
}

/// Resolves `name`. `env` reads an environment variable (for
/// `credential_source = Environment`).
pub fn resolve(
    profiles: &Profiles,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, ConfigError> {
    let (
        Walk {
            chain,
            mut roles,
            session_profile,
        },
        source,
    ) = walk(profiles, name, env)?;
    let chain: Vec<&Profile> = chain.iter().map(|p| p.as_ref()).collect();
    roles.reverse();
    let get = |key: &str| chain.iter().find_map(|p| p.get(key)).map(str::to_string);
    let mode = match get("mfa_mode").as_deref() {
        None | Some("session") => MfaMode::Session,
        Some("direct") => MfaMode::Direct,
        Some(other) => {
            return Err(invalid(
                find_with(&chain, "mfa_mode"),
                "mfa_mode",
                &format!("mfa_mode must be `session` or `direct`, not `{other}`"),
            ))
        }
    };
    // The roles' own device first, then the aws-vault-style session
    // profile's, then the source's.
    let serial_of = |profile: &str| {
        chain
            .iter()
            .find(|p| p.name == profile)
            .and_then(|p| p.get("mfa_serial"))
            .map(str::to_string)
    };
    let mut mfa_serial = roles
        .iter()
        .find_map(|r| r.mfa_serial.clone())
        .or_else(|| session_profile.as_deref().and_then(serial_of))
        .or_else(|| serial_of(&source.profile));
    let mut notes = Vec::new();
    if !source.kind.has_keys() {
        // The source signed in already (with its own MFA): no session of
        // mfaenv's, no code.
        if let Some(serial) = mfa_serial.take() {
            notes.push(format!(
                "profile `{name}`: mfa_serial {serial} is not used: the chain starts at `{}`, which signs in itself",
                source.profile
            ));
        }
    }
    let (region, region_from) = nearest_region(&chain);
    let server = match get("mfaenv_server") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(invalid(
                find_with(&chain, "mfaenv_server"),
                "mfaenv_server",
                &format!("mfaenv_server must be `true` or `false`, not `{other}`"),
            ))
        }
    };
    let mut plan = Plan {
        profile: name.to_string(),
        region,
        region_from,
        sts_region: get("region"),
        endpoint_url: get("endpoint_url"),
        mfa_process: get("mfa_process"),
        session_seconds: session_seconds(&chain)?,
        session_profile,
        source,
        roles,
        mfa_serial,
        mode,
        notes,
        server,
    };
    if let Some(p) = chain
        .iter()
        .find(|p| p.get("parent_profile").is_some() && p.get("include_profile").is_none())
    {
        plan.notes.push(format!(
            "profile `{}`: parent_profile is aws-vault's deprecated name for include_profile",
            p.name
        ));
    }
    clamp_chained(&mut plan);
    Ok(plan)
}

/// The first `region` from the target down the chain, and the profile it
/// came from when that is not the target. mfaenv unsets `AWS_PROFILE`, so
/// without this a role profile that leaves `region` to its source would
/// leave the shell with no region at all.
fn nearest_region(chain: &[&Profile]) -> (Option<String>, Option<String>) {
    let Some(found) = chain.iter().find(|p| p.get("region").is_some()) else {
        return (None, None);
    };
    let from = (found.name != chain[0].name).then(|| found.name.clone());
    (found.get("region").map(str::to_string), from)
}

/// What [`walk`] went through: the profiles from the target down (with
/// their `include_profile`s applied), the roles (target first), and the
/// aws-vault-style session profile, if one was passed.
struct Walk<'a> {
    chain: Vec<Cow<'a, Profile>>,
    roles: Vec<RoleStep>,
    session_profile: Option<String>,
}

/// Follows `source_profile` from `name` down to the keys.
fn walk<'a>(
    profiles: &'a Profiles,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Walk<'a>, Source), ConfigError> {
    let mut walk = Walk {
        chain: Vec::new(),
        roles: Vec::new(),
        session_profile: None,
    };
    let mut current = profiles.with_includes(profiles.require(name)?)?;
    loop {
        if walk.chain.len() >= MAX_CHAIN {
            let last = walk.chain.last().unwrap_or(&current);
            return Err(ConfigError::TooDeep {
                location: last.location_of("source_profile"),
                name: name.to_string(),
            });
        }
        let is_source = !walk.chain.is_empty();
        // botocore: either half of the pair counts (the other is then missing).
        let has_keys = current.get("aws_access_key_id").is_some()
            || current.get("aws_secret_access_key").is_some();
        let may_hold_keys = is_source || current.get("role_arn").is_none();
        // botocore's profile provider chain tries SSO before the files' keys.
        if let Some(source) = other_source(profiles, &current, is_source && has_keys)? {
            walk.chain.push(current);
            return Ok((walk, source));
        }
        if has_keys && may_hold_keys {
            let source = static_source(&current)?;
            walk.chain.push(current);
            return Ok((walk, source));
        }
        // No keys in the files: the key store's, where the index has them
        // (the index is read only here, so file-key users never read it).
        if let Some(entry) = may_hold_keys
            .then(|| profiles.stored_key(&current.name))
            .flatten()
        {
            let source = stored_source(&current, entry);
            walk.chain.push(current);
            return Ok((walk, source));
        }
        if let Some(session) = &walk.session_profile {
            return Err(session_needs_keys(session, &current));
        }
        let next = match step(&current, has_keys, &mut walk, env)? {
            Next::Done(source) => {
                walk.chain.push(current);
                return Ok((walk, source));
            }
            Next::Profile(next) => next.to_string(),
        };
        walk.chain.push(current);
        let names: Vec<&Profile> = walk.chain.iter().map(|p| p.as_ref()).collect();
        if names.iter().any(|p| p.name == next) {
            return Err(cycle(&names, &next));
        }
        let last = names[names.len() - 1];
        let found = profiles.get(&next).ok_or_else(|| {
            invalid(
                last,
                "source_profile",
                &format!("source_profile `{next}` does not exist"),
            )
        })?;
        current = profiles.with_includes(found)?;
    }
}

/// Where [`step`] goes from one profile.
enum Next<'p> {
    /// The keys are here (`credential_source`, or the profile's own).
    Done(Source),
    /// On to this `source_profile`.
    Profile(&'p str),
}

/// One profile of the walk that holds no usable keys of its own: a role
/// (recorded in `walk.roles`), or aws-vault's `source_profile` + `mfa_serial`
/// without a role.
fn step<'p>(
    current: &'p Profile,
    has_keys: bool,
    walk: &mut Walk<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Next<'p>, ConfigError> {
    let source_profile = current.get("source_profile");
    let credential_source = current.get("credential_source");
    if current.get("role_arn").is_none() {
        return match (source_profile, credential_source) {
            // aws-vault reads this as "the source's keys, with an MFA session
            // of this profile's own" (its mfa_serial, its region); botocore
            // would ignore source_profile here and find no keys.
            (Some(next), None) if next != current.name => {
                walk.session_profile = Some(current.name.clone());
                Ok(Next::Profile(next))
            }
            _ => Err(no_credentials(
                current,
                walk.chain.first().map(|p| p.name.as_str()),
            )),
        };
    }
    walk.roles.push(role_step(current)?);
    match (source_profile, credential_source) {
        (Some(_), Some(_)) => Err(invalid(
            current,
            "credential_source",
            "a profile may set source_profile or credential_source, not both",
        )),
        (None, None) => Err(invalid(
            current,
            "role_arn",
            "role_arn needs source_profile or credential_source",
        )),
        (None, Some(cs)) => Ok(Next::Done(env_source(current, cs, env)?)),
        (Some(next), None) if next == current.name => {
            if has_keys {
                return Ok(Next::Done(static_source(current)?));
            }
            let mut names: Vec<&Profile> = walk.chain.iter().map(|p| p.as_ref()).collect();
            names.push(current);
            Err(cycle(&names, next))
        }
        (Some(next), None) => Ok(Next::Profile(next)),
    }
}

/// A source that is no keys: IAM Identity Center (`sso_*`), or an `aws
/// login` session (`login_session`), where the profile has no `role_arn`
/// (or, as a source, also keys, which botocore tries after SSO).
fn other_source(
    profiles: &Profiles,
    profile: &Profile,
    source_with_keys: bool,
) -> Result<Option<Source>, ConfigError> {
    if profile.get("role_arn").is_some() && !source_with_keys {
        return Ok(None);
    }
    if SSO_KEYS.iter().any(|k| profile.get(k).is_some()) {
        let sso = sso_source(profiles, profile)?;
        let key = if sso.session.is_some() {
            "sso_session"
        } else {
            "sso_start_url"
        };
        return Ok(Some(Source {
            profile: profile.name.clone(),
            kind: SourceKind::Sso(Box::new(sso)),
            origin: KeyOrigin::Sso(profile.location_of(key)),
            credentials: no_keys(),
        }));
    }
    if let Some(session) = profile.get("login_session") {
        return Ok(Some(Source {
            profile: profile.name.clone(),
            kind: SourceKind::Login {
                session: session.to_string(),
            },
            origin: KeyOrigin::Login(profile.location_of("login_session")),
            credentials: no_keys(),
        }));
    }
    Ok(None)
}

fn no_keys() -> Credentials {
    Credentials {
        access_key_id: String::new(),
        secret_access_key: String::new(),
        session_token: None,
        expiration: None,
    }
}

/// The profile's IAM Identity Center settings, its `[sso-session]` applied
/// (botocore's rules: a value set in both must agree; all four are needed).
fn sso_source(profiles: &Profiles, profile: &Profile) -> Result<SsoSource, ConfigError> {
    let session_name = profile.get("sso_session");
    let session = match session_name {
        None => None,
        Some(name) => Some(profiles.sso_session(name).ok_or_else(|| {
            invalid(
                profile,
                "sso_session",
                &format!(
                    "sso_session `{name}` has no [sso-session {name}] section in the config file"
                ),
            )
        })?),
    };
    let get = |key: &str| -> Result<Option<String>, ConfigError> {
        let own = profile.get(key);
        let shared = session.and_then(|s| s.get(key));
        match (own, shared) {
            (Some(a), Some(b)) if a != b => Err(invalid(
                profile,
                key,
                &format!(
                    "{key} is `{a}` here but `{b}` in [sso-session {}]: set it in one place",
                    session_name.unwrap_or_default()
                ),
            )),
            (a, b) => Ok(a.or(b).map(str::to_string)),
        }
    };
    let mut missing = Vec::new();
    let mut need = |key: &'static str| -> Result<String, ConfigError> {
        let value = get(key)?;
        if value.is_none() {
            missing.push(key);
        }
        Ok(value.unwrap_or_default())
    };
    let start_url = need("sso_start_url")?;
    let region = need("sso_region")?;
    let account_id = need("sso_account_id")?;
    let role_name = need("sso_role_name")?;
    if !missing.is_empty() {
        let place = match session_name {
            Some(name) => format!(" (here or in [sso-session {name}])"),
            None => String::new(),
        };
        return Err(invalid(
            profile,
            "",
            &format!(
                "IAM Identity Center profile without {}{place}",
                missing.join(", ")
            ),
        ));
    }
    if !account_id.bytes().all(|b| b.is_ascii_digit()) || account_id.len() != 12 {
        return Err(invalid(
            profile,
            "sso_account_id",
            &format!("sso_account_id `{account_id}` is not a 12-digit AWS account id"),
        ));
    }
    let scopes = get("sso_registration_scopes")?
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(SsoSource {
        session: session_name.map(str::to_string),
        start_url,
        region,
        scopes,
        account_id,
        role_name,
    })
}

/// An aws-vault-style session profile whose source is not a profile with keys.
fn session_needs_keys(session: &str, source: &Profile) -> ConfigError {
    invalid(
        source,
        "",
        &format!(
            "profile `{session}` has source_profile `{}` and mfa_serial but no role_arn, which mfaenv reads as aws-vault does (an MFA session on `{}`'s keys): `{}` must hold aws_access_key_id and aws_secret_access_key",
            source.name, source.name, source.name
        ),
    )
}

fn static_source(profile: &Profile) -> Result<Source, ConfigError> {
    if profile.get("aws_access_key_id").is_none() {
        return Err(invalid(
            profile,
            "aws_secret_access_key",
            "aws_secret_access_key without aws_access_key_id",
        ));
    }
    let secret = profile.get("aws_secret_access_key").ok_or_else(|| {
        invalid(
            profile,
            "aws_access_key_id",
            "aws_access_key_id without aws_secret_access_key",
        )
    })?;
    Ok(Source {
        profile: profile.name.clone(),
        kind: SourceKind::Static,
        origin: KeyOrigin::File(profile.location_of("aws_access_key_id")),
        credentials: Credentials {
            access_key_id: profile
                .get("aws_access_key_id")
                .unwrap_or_default()
                .to_string(),
            secret_access_key: secret.to_string(),
            session_token: profile.get("aws_session_token").map(str::to_string),
            expiration: None,
        },
    })
}

/// Keys in a key store: the access key id from the index, no secret yet.
fn stored_source(profile: &Profile, entry: &keystore::index::Entry) -> Source {
    Source {
        profile: profile.name.clone(),
        kind: SourceKind::Static,
        origin: KeyOrigin::Store(entry.backend),
        credentials: Credentials {
            access_key_id: entry.access_key_id.clone(),
            secret_access_key: String::new(),
            session_token: None,
            expiration: None,
        },
    }
}

fn env_source(
    profile: &Profile,
    credential_source: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Source, ConfigError> {
    if credential_source != "Environment" {
        return Err(invalid(
            profile,
            "credential_source",
            &format!("credential_source = {credential_source} is not supported by mfaenv (only Environment)"),
        ));
    }
    let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) else {
        return Err(invalid(
            profile,
            "credential_source",
            "credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
        ));
    };
    Ok(Source {
        profile: profile.name.clone(),
        kind: SourceKind::Environment,
        origin: KeyOrigin::Environment,
        credentials: Credentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env("AWS_SESSION_TOKEN"),
            expiration: None,
        },
    })
}

fn role_step(profile: &Profile) -> Result<RoleStep, ConfigError> {
    let duration_seconds = match profile.get("duration_seconds") {
        None => None,
        Some(text) => Some(
            duration::parse_seconds(text, duration::ASSUME_ROLE)
                .map_err(|m| invalid(profile, "duration_seconds", &m))?,
        ),
    };
    if let Some(name) = profile.get("role_session_name") {
        if !valid_session_name(name) {
            return Err(invalid(
                profile,
                "role_session_name",
                "role_session_name must be 2-64 characters of letters, digits and +=,.@_-",
            ));
        }
    }
    Ok(RoleStep {
        profile: profile.name.clone(),
        role_arn: profile.get("role_arn").unwrap_or_default().to_string(),
        external_id: profile.get("external_id").map(str::to_string),
        session_name: profile.get("role_session_name").map(str::to_string),
        duration_seconds,
        mfa_serial: profile.get("mfa_serial").map(str::to_string),
    })
}

fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// `mfa_session_duration` along the chain: seconds or `12h`-style.
fn session_seconds(chain: &[&Profile]) -> Result<u32, ConfigError> {
    let key = "mfa_session_duration";
    match chain.iter().find(|p| p.get(key).is_some()) {
        None => Ok(DEFAULT_SESSION_SECONDS),
        Some(p) => duration::parse_seconds(p.get(key).unwrap_or_default(), duration::SESSION_TOKEN)
            .map_err(|m| invalid(p, key, &m)),
    }
}

/// A role assumed with another role's keys lasts at most an hour (AWS refuses more).
fn clamp_chained(plan: &mut Plan) {
    let limit = duration::CHAINED_ROLE.max;
    // The first role is assumed with user (or MFA session) keys; every later one with role keys.
    for step in plan.roles.iter_mut().skip(1) {
        if let Some(seconds) = step.duration_seconds.filter(|s| *s > limit) {
            plan.notes.push(format!(
                "profile `{}`: duration_seconds {seconds} clamped to {limit}: a role assumed from another role lasts at most 1h",
                step.profile
            ));
            step.duration_seconds = Some(limit);
        }
    }
}

fn find_with<'a>(chain: &[&'a Profile], key: &str) -> &'a Profile {
    chain
        .iter()
        .find(|p| p.get(key).is_some())
        .copied()
        .unwrap_or(chain[0])
}

fn no_credentials(profile: &Profile, target: Option<&str>) -> ConfigError {
    let role = match target {
        Some(t) if t != profile.name => format!(" (the source of `{t}`)"),
        _ => String::new(),
    };
    let hint = if profile.get("sso_session").is_some()
        || profile.get("sso_start_url").is_some()
        || profile.get("credential_process").is_some()
    {
        "; SSO and credential_process profiles already give temporary keys and need no MFA from mfaenv"
    } else {
        ""
    };
    ConfigError::Invalid {
        location: profile.location_of(""),
        message: format!(
            "profile `{}`{role} has neither aws_access_key_id nor role_arn{hint}",
            profile.name
        ),
    }
}

fn invalid(profile: &Profile, key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        location: profile.location_of(key),
        message: format!("profile `{}`: {message}", profile.name),
    }
}

fn cycle(chain: &[&Profile], back_to: &str) -> ConfigError {
    let mut names: Vec<String> = chain.iter().map(|p| p.name.clone()).collect();
    names.push(back_to.to_string());
    ConfigError::Cycle {
        location: chain
            .last()
            .map(|p| p.location_of("source_profile"))
            .unwrap_or_else(|| Location {
                path: "<config>".into(),
                line: 0,
            }),
        names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
[profile base]
region = eu-central-1
mfa_serial = arn:aws:iam::111111111111:mfa/alice
[profile prod]
source_profile = base
role_arn = arn:aws:iam::222222222222:role/hc/hc-master
mfa_serial = arn:aws:iam::111111111111:mfa/alice
external_id = ext-069
region = us-west-2
duration_seconds = 7200
[profile deeper]
source_profile = prod
role_arn = arn:aws:iam::333333333333:role/deep
duration_seconds = 43200
[profile a]
source_profile = b
role_arn = arn:aws:iam::1:role/a
[profile b]
source_profile = a
role_arn = arn:aws:iam::1:role/b
[profile selfish]
source_profile = selfish
role_arn = arn:aws:iam::1:role/s
[profile env]
role_arn = arn:aws:iam::1:role/e
credential_source = Environment
[profile orphan]
role_arn = arn:aws:iam::1:role/o
[profile dangling]
role_arn = arn:aws:iam::1:role/o
source_profile = nope
[profile both]
role_arn = arn:aws:iam::1:role/o
source_profile = base
credential_source = Environment
[profile tooshort]
role_arn = arn:aws:iam::1:role/o
source_profile = base
duration_seconds = 60
[profile selfkeys]
source_profile = selfkeys
role_arn = arn:aws:iam::1:role/k
[profile roleandkeys]
role_arn = arn:aws:iam::1:role/rk
source_profile = base
";
    const CREDS: &str = "\
[base]
aws_access_key_id = AKIABASE
aws_secret_access_key = base-secret
[selfkeys]
aws_access_key_id = AKIASELF
aws_secret_access_key = self-secret
[roleandkeys]
aws_access_key_id = AKIARK
aws_secret_access_key = rk-secret
[halfkeys]
aws_access_key_id = AKIAHALF
[halfsecret]
aws_secret_access_key = half-secret
";

    fn profiles() -> Profiles {
        Profiles::from_texts(CONFIG, CREDS).unwrap()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn plan(name: &str) -> Result<Plan, ConfigError> {
        resolve(&profiles(), name, &no_env)
    }

    fn stored(names: &[&str]) -> Profiles {
        Profiles::from_texts(VAULT, "")
            .unwrap()
            .with_index(index_of(names))
    }

    fn index_of(names: &[&str]) -> keystore::index::Index {
        let mut index = keystore::index::Index::default();
        for name in names {
            index.keys.insert(
                name.to_string(),
                keystore::index::Entry {
                    access_key_id: format!("AKIASTORED{}", name.to_uppercase()),
                    backend: Backend::Keyring,
                },
            );
        }
        index
    }

    #[test]
    fn keys_from_the_store_when_the_files_have_none() {
        let profiles = stored(&["base", "admin"]);
        // aws-vault's session profile on a source whose keys are stored.
        let p = resolve(&profiles, "x", &no_env).unwrap();
        assert_eq!(p.source.profile, "base");
        assert_eq!(p.source.origin, KeyOrigin::Store(Backend::Keyring));
        assert_eq!(p.source.credentials.access_key_id, "AKIASTOREDBASE");
        assert!(p.source.credentials.secret_access_key.is_empty());
        // A role profile's own stored keys do not replace its role (botocore's order).
        let a = resolve(&profiles, "admin", &no_env).unwrap();
        assert_eq!(a.roles.len(), 1);
        assert_eq!(a.source.profile, "base");
        // The file's keys win over the store's.
        let both = Profiles::from_texts(
            VAULT,
            "[base]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n",
        )
        .unwrap()
        .with_index(index_of(&["base"]));
        let f = resolve(&both, "x", &no_env).unwrap();
        assert_eq!(f.source.credentials.access_key_id, "AKIAFILE");
        assert!(
            matches!(&f.source.origin, KeyOrigin::File(l) if l.to_string() == "credentials:2"),
            "{:?}",
            f.source.origin
        );
        // Nothing stored, nothing in the files: the old error.
        let e = resolve(&stored(&[]), "x", &no_env).unwrap_err().to_string();
        assert!(e.contains("must hold aws_access_key_id"), "{e}");
    }

    #[test]
    fn mfa_only_profile() {
        let p = plan("base").unwrap();
        assert!(p.roles.is_empty());
        assert_eq!(p.source.credentials.access_key_id, "AKIABASE");
        assert_eq!(
            p.mfa_serial.as_deref(),
            Some("arn:aws:iam::111111111111:mfa/alice")
        );
        assert_eq!(p.region.as_deref(), Some("eu-central-1"));
        assert_eq!(p.region_from, None);
        assert_eq!(p.session_seconds, 43200);
    }

    #[test]
    fn role_profile() {
        let p = plan("prod").unwrap();
        assert_eq!(p.source.profile, "base");
        assert_eq!(p.roles.len(), 1);
        assert_eq!(p.roles[0].external_id.as_deref(), Some("ext-069"));
        assert_eq!(p.roles[0].duration_seconds, Some(7200));
        assert_eq!(p.region.as_deref(), Some("us-west-2"));
        assert_eq!(p.region_from, None, "its own region wins over the source's");
        assert_eq!(p.mode, MfaMode::Session);
    }

    #[test]
    fn chain_in_execution_order_and_clamped() {
        let p = plan("deeper").unwrap();
        let arns: Vec<_> = p.roles.iter().map(|r| r.role_arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::222222222222:role/hc/hc-master",
                "arn:aws:iam::333333333333:role/deep"
            ]
        );
        assert_eq!(p.roles[1].duration_seconds, Some(3600));
        assert_eq!(p.notes.len(), 1);
        // No region of its own: the nearest one up the chain, said where from.
        assert_eq!(p.region.as_deref(), Some("us-west-2"));
        assert_eq!(p.region_from.as_deref(), Some("prod"));
        assert_eq!(p.sts_region.as_deref(), Some("us-west-2"));
        assert_eq!(
            p.mfa_serial.as_deref(),
            Some("arn:aws:iam::111111111111:mfa/alice")
        );
    }

    #[test]
    fn cycle_is_named() {
        // Named at the source_profile line that closes the cycle.
        let e = plan("a").unwrap_err().to_string();
        assert_eq!(e, "config:19: source_profile cycle: a -> b -> a");
        let e = plan("selfish").unwrap_err().to_string();
        assert_eq!(e, "config:22: source_profile cycle: selfish -> selfish");
    }

    #[test]
    fn self_source_with_keys() {
        let p = plan("selfkeys").unwrap();
        assert_eq!(p.source.credentials.access_key_id, "AKIASELF");
        assert_eq!(p.roles.len(), 1);
    }

    #[test]
    fn role_wins_over_own_keys_for_target() {
        let p = plan("roleandkeys").unwrap();
        assert_eq!(p.roles.len(), 1);
        assert_eq!(p.source.profile, "base");
    }

    #[test]
    fn environment_source() {
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKIAENV".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("env-secret".to_string()),
            _ => None,
        };
        let p = resolve(&profiles(), "env", &env).unwrap();
        assert_eq!(p.source.kind, SourceKind::Environment);
        assert_eq!(p.source.credentials.access_key_id, "AKIAENV");
        let e = plan("env").unwrap_err().to_string();
        assert!(e.contains("AWS_ACCESS_KEY_ID"), "{e}");
    }

    #[test]
    fn missing_keys_name_file_and_line() {
        let e = plan("orphan").unwrap_err().to_string();
        assert!(
            e.starts_with("config:") && e.contains("needs source_profile"),
            "{e}"
        );
        let e = plan("dangling").unwrap_err().to_string();
        assert!(e.contains("`nope` does not exist"), "{e}");
        let e = plan("both").unwrap_err().to_string();
        assert!(e.contains("not both"), "{e}");
        let e = plan("halfkeys").unwrap_err().to_string();
        assert!(
            e.starts_with("credentials:") && e.contains("without aws_secret_access_key"),
            "{e}"
        );
        // The other half alone: named too (botocore counts either half).
        let e = plan("halfsecret").unwrap_err().to_string();
        assert!(
            e.starts_with("credentials:")
                && e.contains("aws_secret_access_key without aws_access_key_id"),
            "{e}"
        );
        let e = plan("tooshort").unwrap_err().to_string();
        assert!(e.contains("900") && e.contains("43200"), "{e}");
    }

    #[test]
    fn too_deep() {
        let mut config = String::new();
        for i in 0..12 {
            config.push_str(&format!(
                "[profile p{i}]\nrole_arn = arn:aws:iam::1:role/r{i}\nsource_profile = p{}\n",
                i + 1
            ));
        }
        let profiles = Profiles::from_texts(
            &config,
            "[p12]\naws_access_key_id=A\naws_secret_access_key=B\n",
        )
        .unwrap();
        let e = resolve(&profiles, "p0", &no_env).unwrap_err().to_string();
        // p9's source_profile (line 30) would make an 11th.
        assert!(
            e.starts_with("config:30: profile `p0`") && e.contains("deeper than 10"),
            "{e}"
        );
    }

    /// aws-vault's shapes, with keys in the credentials file.
    const VAULT: &str = "\
[profile base]
region = eu-central-1
[profile x]
source_profile = base
mfa_serial = arn:aws:iam::1:mfa/x
region = us-east-2
mfa_session_duration = 1h
[profile y]
source_profile = base
mfa_serial = arn:aws:iam::1:mfa/y
[profile admin]
source_profile = x
role_arn = arn:aws:iam::2:role/admin
[profile onrole]
source_profile = admin
mfa_serial = arn:aws:iam::1:mfa/x
[profile twice]
source_profile = x
mfa_serial = arn:aws:iam::1:mfa/x
[profile common]
role_arn = arn:aws:iam::3:role/common
mfa_serial = arn:aws:iam::1:mfa/c
region = ap-south-1
[profile team]
include_profile = common
source_profile = base
region = sa-east-1
[profile team-old]
parent_profile = common
source_profile = base
[profile deep-include]
include_profile = team
role_arn = arn:aws:iam::3:role/deep
[profile loop-a]
include_profile = loop-b
[profile loop-b]
include_profile = loop-a
[profile bad-include]
include_profile = nope
source_profile = base
[profile keys-include]
include_profile = base
";

    fn vault(name: &str) -> Result<Plan, ConfigError> {
        let profiles = Profiles::from_texts(
            VAULT,
            "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n",
        )
        .unwrap();
        resolve(&profiles, name, &no_env)
    }

    #[test]
    fn aws_vault_session_profile() {
        // source_profile + mfa_serial, no role_arn: base's keys, x's MFA session.
        let p = vault("x").unwrap();
        assert!(p.roles.is_empty());
        assert_eq!(p.source.profile, "base");
        assert_eq!(p.source.credentials.access_key_id, "AKIABASE");
        assert_eq!(p.session_profile.as_deref(), Some("x"));
        assert_eq!(p.mfa_serial.as_deref(), Some("arn:aws:iam::1:mfa/x"));
        assert_eq!(p.region.as_deref(), Some("us-east-2"));
        assert_eq!(p.region_from, None);
        assert_eq!(p.session_seconds, 3600);
        let y = vault("y").unwrap();
        assert_eq!(y.mfa_serial.as_deref(), Some("arn:aws:iam::1:mfa/y"));
        assert_eq!(y.session_seconds, DEFAULT_SESSION_SECONDS);
        // A role on top: the MFA session of x, then the role, x's device.
        let a = vault("admin").unwrap();
        assert_eq!(a.roles.len(), 1);
        assert_eq!(a.session_profile.as_deref(), Some("x"));
        assert_eq!(a.mfa_serial.as_deref(), Some("arn:aws:iam::1:mfa/x"));
        assert_eq!(a.region.as_deref(), Some("us-east-2"));
        assert_eq!(a.region_from.as_deref(), Some("x"));
    }

    #[test]
    fn aws_vault_session_profile_needs_keys_below() {
        for name in ["onrole", "twice"] {
            let e = vault(name).unwrap_err().to_string();
            assert!(
                e.contains(&format!("profile `{name}` has source_profile"))
                    && e.contains("no role_arn")
                    && e.contains("must hold aws_access_key_id"),
                "{e}"
            );
        }
    }

    #[test]
    fn include_profile_inherits_what_is_not_set() {
        let p = vault("team").unwrap();
        assert_eq!(p.roles.len(), 1);
        assert_eq!(p.roles[0].role_arn, "arn:aws:iam::3:role/common");
        assert_eq!(p.roles[0].profile, "team");
        assert_eq!(p.mfa_serial.as_deref(), Some("arn:aws:iam::1:mfa/c"));
        // Its own region wins over the included one.
        assert_eq!(p.region.as_deref(), Some("sa-east-1"));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        // Through two includes; its own role_arn wins.
        let d = vault("deep-include").unwrap();
        assert_eq!(d.roles[0].role_arn, "arn:aws:iam::3:role/deep");
        assert_eq!(d.mfa_serial.as_deref(), Some("arn:aws:iam::1:mfa/c"));
        assert_eq!(d.region.as_deref(), Some("sa-east-1"));
        // parent_profile: the older name, with a note.
        let o = vault("team-old").unwrap();
        assert_eq!(o.roles[0].role_arn, "arn:aws:iam::3:role/common");
        assert_eq!(o.region.as_deref(), Some("ap-south-1"));
        assert!(
            o.notes.iter().any(|n| n.contains("parent_profile")),
            "{:?}",
            o.notes
        );
    }

    #[test]
    fn include_profile_errors() {
        let e = vault("loop-a").unwrap_err().to_string();
        assert!(
            e.ends_with("include_profile cycle: loop-a -> loop-b -> loop-a")
                && e.starts_with("config:"),
            "{e}"
        );
        let e = vault("bad-include").unwrap_err().to_string();
        assert!(e.contains("include_profile `nope` does not exist"), "{e}");
        // Keys are not inherited: a profile that only includes base has none.
        let e = vault("keys-include").unwrap_err().to_string();
        assert!(e.contains("neither aws_access_key_id nor role_arn"), "{e}");
    }

    #[test]
    fn mfa_mode_and_session_duration() {
        let profiles = Profiles::from_texts(
            "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = k\nmfa_mode = direct\n[profile bad]\nsource_profile = k\nrole_arn = arn:aws:iam::1:role/r\nmfa_mode = maybe\n[profile k]\nmfa_session_duration = 2h\n",
            "[k]\naws_access_key_id=A\naws_secret_access_key=B\n",
        )
        .unwrap();
        let p = resolve(&profiles, "r", &no_env).unwrap();
        assert_eq!(p.mode, MfaMode::Direct);
        assert_eq!(p.session_seconds, 7200);
        let e = resolve(&profiles, "bad", &no_env).unwrap_err().to_string();
        assert!(e.contains("`maybe`"), "{e}");
    }

    #[test]
    fn mfaenv_server_key() {
        let profiles = Profiles::from_texts(
            "[profile on]\nsource_profile = k\nmfaenv_server = True\n[profile off]\nsource_profile = k\nmfaenv_server = false\n[profile bad]\nsource_profile = k\nmfaenv_server = yes\n[profile k]\n",
            "[k]\naws_access_key_id=A\naws_secret_access_key=B\n",
        )
        .unwrap();
        assert!(resolve(&profiles, "on", &no_env).unwrap().server);
        assert!(!resolve(&profiles, "off", &no_env).unwrap().server);
        assert!(!resolve(&profiles, "k", &no_env).unwrap().server);
        let e = resolve(&profiles, "bad", &no_env).unwrap_err().to_string();
        assert!(
            e.contains("mfaenv_server must be `true` or `false`, not `yes`"),
            "{e}"
        );
    }

    const SSO: &str = "\
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access, other
[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Dev
region = us-east-2
[profile legacy]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Admin
[profile admin]
source_profile = dev
role_arn = arn:aws:iam::444455556666:role/admin
mfa_serial = arn:aws:iam::1:mfa/x
[profile both]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Dev
aws_access_key_id = AKIAIGNORED
aws_secret_access_key = s
[profile role-over-sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Dev
role_arn = arn:aws:iam::1:role/r
source_profile = legacy
[profile half]
sso_session = corp
sso_role_name = Dev
[profile nosession]
sso_session = nope
sso_account_id = 111122223333
sso_role_name = Dev
[profile clash]
sso_session = corp
sso_region = us-west-2
sso_account_id = 111122223333
sso_role_name = Dev
[profile badaccount]
sso_session = corp
sso_account_id = 12
sso_role_name = Dev
[profile web]
login_session = arn:aws:iam::1:user/me
[profile onweb]
source_profile = web
role_arn = arn:aws:iam::2:role/w
";

    fn sso(name: &str) -> Result<Plan, ConfigError> {
        resolve(&Profiles::from_texts(SSO, "").unwrap(), name, &no_env)
    }

    #[test]
    fn sso_session_profile_is_a_source() {
        let p = sso("dev").unwrap();
        assert!(p.roles.is_empty());
        assert!(!p.source.kind.has_keys());
        let SourceKind::Sso(s) = &p.source.kind else {
            panic!("{:?}", p.source.kind)
        };
        assert_eq!(s.session.as_deref(), Some("corp"));
        assert_eq!(s.start_url, "https://corp.awsapps.com/start");
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.scopes, ["sso:account:access", "other"]);
        assert_eq!(
            (s.account_id.as_str(), s.role_name.as_str()),
            ("111122223333", "Dev")
        );
        assert!(matches!(&p.source.origin, KeyOrigin::Sso(l) if l.line == 6));
        assert_eq!(p.region.as_deref(), Some("us-east-2"));
        // Legacy: all on the profile.
        let l = sso("legacy").unwrap();
        let SourceKind::Sso(s) = &l.source.kind else {
            panic!()
        };
        assert_eq!(s.session, None);
        assert_eq!(s.start_url, "https://old.awsapps.com/start");
    }

    #[test]
    fn roles_chain_on_sso_and_sso_wins_over_keys() {
        let p = sso("admin").unwrap();
        assert_eq!(p.source.profile, "dev");
        assert_eq!(p.roles.len(), 1);
        // No MFA session on top of a sign-in: said, not used.
        assert_eq!(p.mfa_serial, None);
        assert!(
            p.notes.iter().any(|n| n.contains("not used")),
            "{:?}",
            p.notes
        );
        // botocore tries SSO before the profile's keys.
        assert!(matches!(
            sso("both").unwrap().source.kind,
            SourceKind::Sso(_)
        ));
        // A target's role_arn wins over its sso_*.
        let r = sso("role-over-sso").unwrap();
        assert_eq!(r.roles.len(), 1);
        assert_eq!(r.source.profile, "legacy");
    }

    #[test]
    fn sso_config_errors_name_the_profile_and_the_fix() {
        let e = sso("half").unwrap_err().to_string();
        assert!(
            e.contains("profile `half`") && e.contains("sso_account_id"),
            "{e}"
        );
        let e = sso("nosession").unwrap_err().to_string();
        assert!(e.contains("[sso-session nope]"), "{e}");
        let e = sso("clash").unwrap_err().to_string();
        assert!(e.contains("us-west-2") && e.contains("eu-west-1"), "{e}");
        let e = sso("badaccount").unwrap_err().to_string();
        assert!(e.contains("12-digit"), "{e}");
    }

    #[test]
    fn login_session_is_a_source() {
        let p = sso("onweb").unwrap();
        assert_eq!(p.roles.len(), 1);
        assert_eq!(
            p.source.kind,
            SourceKind::Login {
                session: "arn:aws:iam::1:user/me".into()
            }
        );
        assert!(matches!(p.source.origin, KeyOrigin::Login(_)));
    }
}
