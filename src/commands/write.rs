//! `mfaenv write PROFILE [--to SECTION]`: the classic "[mfa] section"
//! workflow. Puts the session into a section of the credentials file
//! (default `PROFILE-mfa`) with its expiry, atomically, keeping every other
//! byte of the file; the file ends 0600.

use anyhow::{Context, Result};

use super::credentials;
use crate::cli::WriteArgs;
use crate::config::edit;
use crate::config::Profiles;
use crate::creds::rfc3339;

pub fn run(args: &WriteArgs) -> Result<String> {
    // Before any code is spent; the writer checks again.
    if let Some(to) = &args.to {
        edit::check_section_name(to)?;
    }
    let (plan, creds) = credentials(&args.target)?;
    let section = args
        .to
        .clone()
        .unwrap_or_else(|| format!("{}-mfa", plan.profile));
    let path = Profiles::credentials_path();
    let text = match std::fs::read(&path) {
        Ok(bytes) => {
            String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let token = creds.session_token.clone().unwrap_or_default();
    let expiration = creds.expiration.map(rfc3339).unwrap_or_default();
    let keys = [
        ("aws_access_key_id", creds.access_key_id.as_str()),
        ("aws_secret_access_key", creds.secret_access_key.as_str()),
        ("aws_session_token", token.as_str()),
        ("expiration", expiration.as_str()),
    ];
    let updated = edit::set_keys(&text, &section, &keys, true)
        .with_context(|| format!("{} was not changed", path.display()))?;
    edit::write_private(&path, &updated)?;
    eprintln!(
        "mfaenv: wrote [{section}] in {} (valid until {expiration}); use it with AWS_PROFILE={section}",
        path.display()
    );
    Ok(String::new())
}
