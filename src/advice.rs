//! Every "what to do next" line: the `hint:` mfaenv prints after an error,
//! matched on the error kinds of the layers below. The product's voice in
//! one file; the layers themselves only say what went wrong.

use std::time::Duration;

use crate::aws::{StsError, MAX_ATTEMPTS};
use crate::duration::human;
use crate::mfa::MfaError;
use crate::resolve::{ExpiredKeys, Refused};
use crate::sources::login::LoginError;

/// The next step for an error that has one; `profile` is the profile the
/// command was run for.
pub fn next_step(err: &anyhow::Error, profile: &str) -> Option<String> {
    for cause in err.chain() {
        if let Some(expired) = cause.downcast_ref::<ExpiredKeys>() {
            return Some(for_expired(expired, profile));
        }
        if let Some(sts) = cause.downcast_ref::<StsError>() {
            return for_sts(sts, profile);
        }
        if let Some(login) = cause.downcast_ref::<LoginError>() {
            return for_login(login);
        }
        if let Some(store) = cause.downcast_ref::<crate::keystore::KeyStoreError>() {
            if let Some(hint) = for_key_store(store) {
                return Some(hint);
            }
        }
        if let Some(MfaError::NoTerminal { .. }) = cause.downcast_ref::<MfaError>() {
            return Some(format!(
                "or run `mfaenv login {profile}` in a terminal first: later runs use the cached session"
            ));
        }
    }
    None
}

/// How to choose another key store when the keyring fails.
fn for_key_store(err: &crate::keystore::KeyStoreError) -> Option<String> {
    use crate::keystore::{Backend, KeyStoreError};
    let backend = crate::settings::MFAENV_BACKEND;
    match err {
        KeyStoreError::NoDefault { .. } => Some(format!(
            "choose a store: `--backend file` (the encrypted file store) or {backend}=file; or start a keyring and run this again"
        )),
        KeyStoreError::Unavailable {
            backend: Backend::Keyring,
            ..
        } => Some(format!(
            "start or unlock the keyring and run this again; for new keys `--backend file` or {backend}=file chooses the encrypted file store (`mfaenv keys` shows where each profile's keys are)"
        )),
        _ => None,
    }
}

/// What the user can do about an STS error.
fn for_sts(err: &StsError, profile: &str) -> Option<String> {
    let endpoint_check = |endpoint: &str, origin: &Option<String>| match origin {
        Some(origin) => format!("that {endpoint} (set by {origin}) is the endpoint you want"),
        None => format!("that {endpoint} can be reached from here (proxy, firewall, VPN)"),
    };
    match err {
        StsError::MfaCodeRejected { .. } | StsError::Throttled { .. } | StsError::Setup(_) => {
            None
        }
        StsError::MfaDeviceRejected { .. } => Some(format!(
            "check mfa_serial of `{profile}`: it must be an MFA device of the IAM user whose keys are used; `mfaenv setup {profile}` looks it up"
        )),
        StsError::AccessDenied { op: "AssumeRole", .. } => Some(
            "check the role's trust policy: it must allow your IAM user to call sts:AssumeRole (with MFA when it requires aws:MultiFactorAuthPresent), and your user's own policies must allow sts:AssumeRole on the role".to_string(),
        ),
        StsError::AccessDenied { op, .. } if op.contains("AccessKey") || *op == "ListMFADevices" => {
            Some(format!(
                "check the IAM policies of the user whose keys are used: they must allow iam:{op} (a policy that requires MFA wants the profile's mfa_serial: `mfaenv setup {profile}`)"
            ))
        }
        StsError::AccessDenied { op, .. } => Some(format!(
            "check the IAM policies of the user whose keys are used: they must allow sts:{op}"
        )),
        StsError::ClockSkew { skew, .. } => Some(clock_hint(*skew)),
        StsError::TooLarge {
            endpoint, origin, ..
        } => Some(match origin {
            Some(origin) => format!(
                "{endpoint} (set by {origin}) may not be an STS endpoint: check it"
            ),
            None => "the answer was garbled on the way (a proxy?): try again".to_string(),
        }),
        StsError::Oversized {
            endpoint, origin, ..
        } => origin.as_ref().map(|origin| {
            format!("{endpoint} (set by {origin}) may not be an STS endpoint: check it")
        }),
        StsError::ExpiredToken { .. } => Some(format!(
            "a cached session of `{profile}` may have been revoked: `mfaenv forget {profile}`, then `mfaenv login {profile}`; if the profile's own keys are temporary, renew them"
        )),
        // Never sent twice (src/aws/query.rs): one failure, not three.
        StsError::Service {
            op: "CreateAccessKey",
            status,
            ..
        } if *status >= 500 => Some("IAM failed on its side: try again in a minute".to_string()),
        StsError::Service { op, status, .. } if *status >= 500 => Some(format!(
            "{} failed on its side {MAX_ATTEMPTS} times in a row: try again in a minute",
            if op.contains("AccessKey") || *op == "ListMFADevices" { "IAM" } else { "STS" }
        )),
        StsError::Service { code, .. }
            if matches!(
                code.as_str(),
                "InvalidClientTokenId" | "SignatureDoesNotMatch" | "UnrecognizedClientException"
            ) =>
        {
            Some(format!(
                "AWS does not accept the long-term keys `{profile}` uses: check aws_access_key_id and aws_secret_access_key, and that the key is still active"
            ))
        }
        StsError::Service { .. } => None,
        StsError::Timeout {
            endpoint, origin, ..
        } => Some(format!(
            "check your network connection and {}; {}=SECONDS waits longer",
            endpoint_check(endpoint, origin),
            crate::settings::MFAENV_STS_TIMEOUT
        )),
        StsError::Connect {
            endpoint, origin, ..
        }
        | StsError::Interrupted {
            endpoint, origin, ..
        } => Some(format!(
            "check your network connection and {}",
            endpoint_check(endpoint, origin)
        )),
        StsError::Malformed {
            endpoint, origin, ..
        } => Some(match origin {
            Some(origin) => format!(
                "{endpoint} (set by {origin}) may not be an STS endpoint: check it"
            ),
            None => "the answer was garbled on the way (a proxy?): try again".to_string(),
        }),
    }
}

/// What to do about keys AWS refused as expired.
fn for_expired(expired: &ExpiredKeys, profile: &str) -> String {
    match expired.refused() {
        Refused::Session { label, dropped } => {
            let what = match label.kind.as_str() {
                "mfa-session" => format!("MFA session of `{}`", label.profile),
                "session" => format!("session of `{}`", label.profile),
                _ => format!("session of role {}", label.target),
            };
            if *dropped {
                format!(
                    "AWS refused the {what} as expired (revoked, or this machine's clock is off); mfaenv dropped it from the cache: run the command again, or `mfaenv login {profile}`, for a new one"
                )
            } else {
                format!(
                    "AWS refused the {what} as expired (revoked, or this machine's clock is off): `mfaenv forget {profile}`, then `mfaenv login {profile}`"
                )
            }
        }
        Refused::Source {
            environment: true, ..
        } => "the keys in AWS_ACCESS_KEY_ID / AWS_SESSION_TOKEN are temporary and have expired: renew them".to_string(),
        Refused::Source { profile, .. } => format!(
            "the keys of profile `{profile}` are temporary (aws_session_token) and have expired: renew them"
        ),
    }
}
fn clock_hint(skew: Option<i64>) -> String {
    let keep = "your cached sessions were kept";
    match skew {
        Some(s) if s.abs() >= 60 => format!(
            "your clock is off by {} ({} AWS's): set it right (e.g. `timedatectl set-ntp true`) and run again; {keep}",
            human(Duration::from_secs(s.unsigned_abs())),
            if s > 0 { "behind" } else { "ahead of" }
        ),
        _ => format!(
            "your clock (or its time zone) is off by more than AWS allows: set it right (e.g. `timedatectl set-ntp true`) and run again; {keep}"
        ),
    }
}

/// What to do about an `aws login` session that cannot be used.
fn for_login(err: &LoginError) -> Option<String> {
    use crate::aws::signin::SigninError;
    let login = format!("run `aws login --profile {}`", err.profile());
    Some(match err {
        LoginError::NotLoggedIn { .. }
        | LoginError::LoginRequired { .. }
        | LoginError::Malformed { .. } => format!("{login} to sign in again"),
        LoginError::Unsafe { path, reason, .. } if reason.contains("mode") => {
            format!("if the file is yours, `chmod 600 {path}`; else delete it and {login}")
        }
        LoginError::Unsafe { path, .. } => format!("delete {path}, then {login}"),
        LoginError::Refresh { cause, .. } => match cause {
            SigninError::InsufficientPermissions(_) => format!(
                "the identity you signed in with may not use `aws login` sessions: ask for the Sign-In permissions, then {login}"
            ),
            SigninError::Unavailable(_) | SigninError::Http(_) => format!(
                "Sign-In is unavailable or unreachable (check your network, and AWS_ENDPOINT_URL_SIGNIN if set): try again in a minute, or {login}"
            ),
            _ => format!("{login} to sign in again"),
        },
        LoginError::NoRegion { profile } => {
            format!("set `region` in profile `{profile}` (`aws configure set region REGION --profile {profile}`)")
        }
        LoginError::TooShort { .. } => {
            "ask for less with --min-ttl, or assume a role on top (its session lasts up to an hour)".to_string()
        }
        LoginError::WriteBack { .. } => {
            "check that you own the `aws login` cache directory and may write to it".to_string()
        }
        LoginError::NoCacheDir { .. } => return None,
    })
}
