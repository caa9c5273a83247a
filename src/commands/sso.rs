//! `mfaenv sso populate SESSION [--prefix P]`: a profile in ~/.aws/config
//! for every account and role the `[sso-session SESSION]` login reaches
//! (the portal's ListAccounts and ListAccountRoles, every page).
//!
//! Each profile it writes is marked `mfaenv_sso_populate = SESSION`; a
//! re-run updates those, removes those no longer reachable, and leaves
//! every other section, comment and byte of the file as it was (written
//! atomically). A profile of the same name that is not marked is the
//! user's: it is left alone, and said.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};

use crate::cli::{PopulateArgs, SsoCommand};
use crate::config::{edit, Profiles, SsoSource};
use crate::sources::sso::{access_token, Clients, Login};
use crate::sources::sso_login::Flow;

/// The key that marks a section as written by `sso populate`.
pub const MARK: &str = "mfaenv_sso_populate";

pub fn run(cmd: &SsoCommand) -> Result<String> {
    match cmd {
        SsoCommand::Populate(args) => populate(args),
    }
}

fn populate(args: &PopulateArgs) -> Result<String> {
    let name = &args.session;
    let profiles = Profiles::load()?;
    let sso = session(&profiles, name)?;
    let what = format!("sso-session {name}");
    let clients = Clients::new(None, &what, &sso.region)?;
    let login = if args.use_device_code {
        Login::Now(Flow::DeviceCode)
    } else {
        Login::IfPossible
    };
    let token = access_token(&sso, &what, &clients, login)?;
    let portal = clients.portal();
    let failed = |e| crate::sources::sso::portal_failure(e, &what, &sso);
    let mut wanted: BTreeMap<String, (String, String)> = BTreeMap::new();
    let accounts = portal.list_accounts(&token.access_token).map_err(failed)?;
    for account in &accounts {
        let roles = portal
            .list_account_roles(&token.access_token, &account.id)
            .map_err(failed)?;
        for role in roles {
            let mut profile = format!(
                "{}{}-{}",
                args.prefix,
                sanitise(&account.name),
                sanitise(&role)
            );
            if wanted.contains_key(&profile) {
                profile = format!(
                    "{}{}-{}-{}",
                    args.prefix,
                    sanitise(&account.name),
                    account.id,
                    sanitise(&role)
                );
            }
            wanted.insert(profile, (account.id.clone(), role));
        }
    }
    write(&profiles, name, &sso, &wanted)
}

/// The `[sso-session NAME]` section as a source with no account or role.
fn session(profiles: &Profiles, name: &str) -> Result<SsoSource> {
    let Some(section) = profiles.sso_session(name) else {
        let known: Vec<&str> = profiles.sso_session_names().collect();
        bail!(
            "no [sso-session {name}] in {}{}",
            profiles.config_path.display(),
            if known.is_empty() {
                String::new()
            } else {
                format!(" (it has: {})", known.join(", "))
            }
        );
    };
    let get = |key: &str| {
        section.get(key).map(str::to_string).with_context(|| {
            format!(
                "{}: [sso-session {name}] has no {key}",
                section.location_of("")
            )
        })
    };
    Ok(SsoSource {
        session: Some(name.to_string()),
        start_url: get("sso_start_url")?,
        region: get("sso_region")?,
        scopes: section
            .get("sso_registration_scopes")
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        account_id: String::new(),
        role_name: String::new(),
    })
}

/// A profile name from an account or role name: letters, digits, `.`,
/// `_` and `-`; anything else a `-`, runs of them one.
fn sanitise(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_') {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "x".to_string()
    } else {
        out
    }
}

/// Updates the config file: the wanted profiles set, the stale marked ones removed.
fn write(
    profiles: &Profiles,
    session: &str,
    sso: &SsoSource,
    wanted: &BTreeMap<String, (String, String)>,
) -> Result<String> {
    let path = &profiles.config_path;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let ours = edit::headers_with(&text, MARK, session)?;
    let stale: Vec<String> = ours
        .iter()
        .filter(|h| {
            h.strip_prefix("profile ")
                .is_none_or(|name| !wanted.contains_key(name.trim()))
        })
        .cloned()
        .collect();
    let mut out = edit::remove_sections(&text, &stale)?;
    let (mut added, mut updated, mut skipped) = (0, 0, Vec::new());
    for (name, (account, role)) in wanted {
        let header = edit::profile_header(name);
        let exists = profiles.get(name).is_some() || out.contains(&format!("[{header}]"));
        let is_ours = ours.contains(&header);
        if exists && !is_ours {
            skipped.push(name.clone());
            continue;
        }
        let keys = [
            (MARK, session),
            ("sso_session", session),
            ("sso_account_id", account.as_str()),
            ("sso_role_name", role.as_str()),
            ("region", sso.region.as_str()),
        ];
        out = edit::set_profile_keys(&out, name, &keys)?;
        if is_ours {
            updated += 1;
        } else {
            added += 1;
        }
    }
    if out != text {
        edit::write_private(path, &out)?;
    }
    crate::ui::info(format_args!(
        "sso-session {session}: {} profile(s) in {}: {added} added, {updated} kept up to date, {} removed",
        wanted.len() - skipped.len(),
        path.display(),
        stale.len()
    ));
    for name in skipped {
        crate::ui::warning(format_args!(
            "profile `{name}` exists and was not written by `mfaenv sso populate`: left as it is (--prefix P names them apart)"
        ));
    }
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitise("Prod Account (EU)"), "Prod-Account-EU");
        assert_eq!(sanitise("AdministratorAccess"), "AdministratorAccess");
        assert_eq!(sanitise("a/b\\c'd\"e [f]"), "a-b-c-d-e-f");
        assert_eq!(sanitise("☃"), "x");
    }
}
