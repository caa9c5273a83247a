//! `mfaenv write PROFILE [--to SECTION]`: the classic "[mfa] section"
//! workflow. Puts the session into a section of the credentials file
//! (default `PROFILE-mfa`) with its expiry, atomically, keeping every other
//! byte of the file; the file ends 0600. The profile's region goes into
//! `[profile SECTION]` of the config file, so that SDKs can use the section.

use std::path::{Path, PathBuf};

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
    let section = args
        .to
        .clone()
        .unwrap_or_else(|| format!("{}-mfa", args.target.name()));
    refuse_stored(&section)?;
    let (plan, creds) = credentials(&args.target)?;
    let path = Profiles::credentials_path();
    let text = read_text(&path)?;
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
    // Both files are edited in memory first: a value one of them refuses
    // leaves both as they were.
    let region = region_edit(&section, plan.region.as_deref())?;
    edit::write_private(&path, &updated)?;
    if let Some((config_path, config_text)) = &region {
        edit::write_private(config_path, config_text)?;
    }
    eprintln!(
        "mfaenv: wrote [{section}] in {} (valid until {expiration}); use it with AWS_PROFILE={section}",
        path.display()
    );
    match (plan.region.as_deref(), region) {
        (Some(r), Some((config_path, _))) => eprintln!(
            "mfaenv: set region = {r} in [profile {section}] of {}",
            config_path.display()
        ),
        (Some(_), None) => {}
        (None, _) => crate::ui::hint(format_args!(
            "no region is known for `{}`: SDKs will ask for one; `mfaenv write --region REGION` records it in [profile {section}] of the config file",
            plan.profile
        )),
    }
    Ok(String::new())
}

/// A section whose profile keeps its long-term keys in a key store: the
/// file no longer shows them, so the file's own guard cannot see them, and
/// temporary keys written there would shadow the stored ones. Refused
/// before any code is spent.
fn refuse_stored(section: &str) -> Result<()> {
    match crate::keystore::index::load().keys.get(section) {
        Some(entry) => anyhow::bail!(
            "profile `{}` keeps its long-term keys in {}; writing [{}] would shadow them — choose another section with --to; nothing was written",
            section.escape_debug(),
            entry.backend,
            section.escape_debug()
        ),
        None => Ok(()),
    }
}

/// The config file with `region` in `[profile SECTION]`, where every SDK
/// reads a profile's region (Go's and the AWS CLI v1's read it nowhere
/// else); `None` when there is no region or it is already there.
fn region_edit(section: &str, region: Option<&str>) -> Result<Option<(PathBuf, String)>> {
    let Some(region) = region else {
        return Ok(None);
    };
    let path = Profiles::config_path();
    let text = read_text(&path)?;
    let updated =
        edit::set_profile_keys(&text, section, &[("region", region)]).with_context(|| {
            format!(
                "nothing was written: {} cannot take the region",
                path.display()
            )
        })?;
    Ok((updated != text).then_some((path, updated)))
}

/// The file's text; a missing file is empty.
fn read_text(path: &Path) -> Result<String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}
