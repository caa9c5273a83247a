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
    let plan = resolve::plan(&args.target.name(), &opts)?;
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
