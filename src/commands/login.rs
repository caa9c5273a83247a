//! `mfaenv login PROFILE`: fill the cache; the expiry goes to stderr, nothing to stdout.
//! A profile whose chain starts at IAM Identity Center logs in first (as
//! `aws sso login` does, whatever is cached).

use std::time::SystemTime;

use anyhow::Result;

use super::credentials;
use crate::cli::LoginArgs;
use crate::config::SourceKind;
use crate::creds::rfc3339;
use crate::duration::human;
use crate::resolve::{self, Options};
use crate::sources::sso_login::Flow;

pub fn run(args: &LoginArgs) -> Result<String> {
    let opts = Options::from(&args.target.auth);
    let name = args.target.name();
    let plan = match resolve::plan(&name, &opts) {
        Ok(plan) => plan,
        Err(e) => return session_only(&name, args).unwrap_or(Err(e)),
    };
    if let SourceKind::Sso(sso) = &plan.source.kind {
        // A legacy profile (no sso_session) logs in as the AWS CLI does
        // for it: with the device flow.
        let flow = if args.use_device_code || sso.session.is_none() {
            Flow::DeviceCode
        } else {
            Flow::Browser
        };
        crate::sources::sso::login_now(&plan, sso, flow)?;
    }
    let (plan, creds) = credentials(&args.target)?;
    crate::hook::touch_stamp();
    match creds.expiration {
        Some(exp) => {
            let left = creds.time_left(SystemTime::now()).unwrap_or_default();
            crate::ui::info(format_args!(
                "{}: session valid until {} ({} left)",
                plan.profile,
                rfc3339(exp),
                human(left)
            ));
        }
        None => crate::ui::info(format_args!("{}: session ready", plan.profile)),
    }
    Ok(String::new())
}

/// A profile with only `sso_session` (no account, role or `role_arn`), as
/// the AWS CLI keeps for `aws sso login --profile`: logs in to the session
/// and gets no credentials. `None` when the profile is not such.
fn session_only(name: &str, args: &LoginArgs) -> Option<Result<String>> {
    let profiles = crate::config::Profiles::load_for(name).ok()?;
    let profile = profiles.get(name)?;
    let session = profile.get("sso_session")?;
    let bare = ["sso_account_id", "sso_role_name", "role_arn"]
        .iter()
        .all(|k| profile.get(k).is_none());
    if !bare {
        return None;
    }
    let flow = if args.use_device_code {
        Flow::DeviceCode
    } else {
        Flow::Browser
    };
    Some((|| {
        let sso = super::sso::session(&profiles, session)?;
        let clients =
            crate::sources::sso::Clients::new(profile.get("endpoint_url"), name, &sso.region)?;
        crate::sources::sso::access_token(
            &sso,
            name,
            &clients,
            crate::sources::sso::Login::Now(flow),
        )?;
        crate::hook::touch_stamp();
        Ok(String::new())
    })())
}
