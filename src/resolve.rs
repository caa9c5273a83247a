//! "Credentials for profile P": the one function every command calls.
//! It loads the profile, resolves its plan, and runs the STS calls the plan
//! needs (a cache will sit in front of each call).

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::config::{self, MfaMode, Plan, Profiles, RoleStep};
use crate::creds::Credentials;
use crate::mfa::CodeSource;
use crate::sts::{self, Mfa, Sts, StsError};

/// What the command line adds to a profile.
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub token_code: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub direct: bool,
}

/// Reads the config files and resolves `profile` with the command-line overrides.
pub fn plan(profile: &str, opts: &Options) -> Result<Plan> {
    let profiles = Profiles::load()?;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut plan = config::resolve(&profiles, profile, &env)?;
    if opts.direct {
        plan.mode = MfaMode::Direct;
    }
    if let Some(region) = &opts.region {
        plan.region = Some(region.clone());
    }
    Ok(plan)
}

/// The profile to use when none is named: `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, `default`.
pub fn default_profile() -> String {
    ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "default".to_string())
}

/// Fresh credentials for `plan`, from STS.
pub fn fetch(plan: &Plan, opts: &Options) -> Result<Credentials> {
    for note in &plan.notes {
        eprintln!("mfaenv: note: {note}");
    }
    let sts = Sts::new(
        sts_region(plan, opts).as_deref(),
        sts_endpoint(plan, opts).as_deref(),
    )?;
    let mut codes = CodeSource::new(opts.token_code.clone(), plan.mfa_process.clone());
    let source = &plan.source.credentials;
    // Temporary source keys cannot call GetSessionToken: assume roles directly.
    let direct = plan.mode == MfaMode::Direct || source.session_token.is_some();
    if plan.roles.is_empty() || !direct {
        let session = session_token(&sts, plan, &mut codes)?;
        assume_chain(&sts, session, &plan.roles)
    } else {
        let serial = plan.mfa_serial.as_deref();
        let first = &plan.roles[0];
        let creds = with_code(&mut codes, serial, |mfa| assume(&sts, source, first, mfa))?;
        assume_chain(&sts, creds, &plan.roles[1..])
    }
}

/// GetSessionToken on the source keys, with the MFA device when the plan has one.
pub fn session_token(sts: &Sts, plan: &Plan, codes: &mut CodeSource) -> Result<Credentials> {
    let source = &plan.source.credentials;
    with_code(codes, plan.mfa_serial.as_deref(), |mfa| {
        sts.get_session_token(source, plan.session_seconds, mfa)
    })
    .with_context(|| {
        format!(
            "profile `{}`: MFA session for `{}`",
            plan.profile, plan.source.profile
        )
    })
}

/// Assumes each role in turn, starting from `creds`.
pub fn assume_chain(sts: &Sts, mut creds: Credentials, roles: &[RoleStep]) -> Result<Credentials> {
    for step in roles {
        creds = assume(sts, &creds, step, None)?;
    }
    Ok(creds)
}

fn assume(
    sts: &Sts,
    creds: &Credentials,
    step: &RoleStep,
    mfa: Option<Mfa<'_>>,
) -> Result<Credentials, anyhow::Error> {
    let session_name = step
        .session_name
        .clone()
        .unwrap_or_else(default_session_name);
    sts.assume_role(
        creds,
        &sts::AssumeRole {
            role_arn: &step.role_arn,
            session_name: &session_name,
            external_id: step.external_id.as_deref(),
            duration_seconds: step.duration_seconds,
            mfa,
        },
    )
    .with_context(|| format!("profile `{}`: assuming {}", step.profile, step.role_arn))
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

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile chain.
fn sts_region(plan: &Plan, opts: &Options) -> Option<String> {
    opts.region
        .clone()
        .or_else(|| env_value("AWS_REGION"))
        .or_else(|| env_value("AWS_DEFAULT_REGION"))
        .or_else(|| plan.sts_region.clone())
}

/// `--endpoint-url`, `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the profile's
/// `endpoint_url`; the configured ones are skipped under
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`, as in the SDKs.
fn sts_endpoint(plan: &Plan, opts: &Options) -> Option<String> {
    if opts.endpoint_url.is_some() {
        return opts.endpoint_url.clone();
    }
    let ignore = env_value("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if ignore {
        return None;
    }
    env_value("AWS_ENDPOINT_URL_STS")
        .or_else(|| env_value("AWS_ENDPOINT_URL"))
        .or_else(|| plan.endpoint_url.clone())
}
