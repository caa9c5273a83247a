//! `mfaenv login PROFILE`: fill the cache; the expiry goes to stderr, nothing to stdout.

use std::time::SystemTime;

use anyhow::Result;

use super::credentials;
use crate::cli::ProfileArgs;
use crate::creds::rfc3339;
use crate::duration::human;

pub fn run(args: &ProfileArgs) -> Result<String> {
    let (plan, creds) = credentials(args)?;
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
