//! IAM Identity Center as the source of a chain.

use anyhow::{bail, Result};

use crate::config::{Plan, SsoSource};
use crate::creds::Credentials;
use crate::resolve::Options;

/// The portal's credentials for the account and role of `sso`.
pub fn role_credentials(plan: &Plan, sso: &SsoSource, _opts: &Options) -> Result<Credentials> {
    bail!(
        "profile `{}`: IAM Identity Center ({}, account {}, role {}) is not supported yet",
        plan.source.profile,
        sso.start_url,
        sso.account_id,
        sso.role_name
    )
}

/// What `plan` shows for the Identity Center step: the call, its fields
/// (for `--json`) and lines of detail. Reads nothing but the config.
pub fn plan_step(
    sso: &SsoSource,
) -> (
    &'static str,
    Vec<(&'static str, serde_json::Value)>,
    Vec<String>,
) {
    use crate::ui::escape;
    use serde_json::json;
    let fields = vec![
        ("sso_session", json!(sso.session)),
        ("sso_start_url", json!(sso.start_url)),
        ("sso_region", json!(sso.region)),
        ("sso_account_id", json!(sso.account_id)),
        ("sso_role_name", json!(sso.role_name)),
    ];
    let details = vec![
        format!(
            "start URL {} in {}{}",
            escape(&sso.start_url),
            escape(&sso.region),
            sso.session
                .as_ref()
                .map(|s| format!(" (sso-session {})", escape(s)))
                .unwrap_or_default()
        ),
        format!(
            "account {}, role {}",
            escape(&sso.account_id),
            escape(&sso.role_name)
        ),
    ];
    ("GetRoleCredentials", fields, details)
}
