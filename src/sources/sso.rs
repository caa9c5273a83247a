//! IAM Identity Center as the source of a chain: a valid access token (the
//! AWS CLI's token cache, refreshed with its refresh token, or a login),
//! then the portal's GetRoleCredentials for the profile's account and role.
//! The role credentials are cached by `resolve` like any session (the
//! source's first step), so a cached export reads only mfaenv's cache.
//!
//! One login for many callers: the token is got under a lock of mfaenv's
//! cache named after the token file; whoever waited reads what the holder
//! wrote.

use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Context, Result};

use super::sso_login::{self, Flow, Target};
use super::sso_token::{self, SsoToken};
use crate::aws::endpoint::{self, Service};
use crate::aws::http::Http;
use crate::aws::sso::{Portal, PortalError};
use crate::aws::sso_oidc::{Grant, Kind, Oidc};
use crate::cache::{Cache, Key};
use crate::config::{Plan, SsoSource};
use crate::creds::Credentials;
use crate::resolve::Options;

/// A token with less than this left is refreshed when it can be (botocore's window).
const REFRESH_WINDOW: Duration = Duration::from_secs(15 * 60);
/// A token with less than this left is not used for a call.
const USABLE: Duration = Duration::from_secs(60);

/// No valid token, and no login may be started here.
#[derive(Debug, thiserror::Error)]
#[error(
    "profile `{profile}` needs an IAM Identity Center login{why}: run `mfaenv login {profile}`"
)]
pub struct LoginNeeded {
    pub profile: String,
    why: String,
}

/// Where the calls go and the client that makes them.
pub struct Clients {
    pub http: Http,
    oidc: String,
    portal: String,
}

impl Clients {
    /// Endpoints by the SDKs' rules (`AWS_ENDPOINT_URL_SSO_OIDC`,
    /// `AWS_ENDPOINT_URL_SSO`, `AWS_ENDPOINT_URL`, `endpoint_url`), else
    /// Identity Center's in `sso_region`.
    pub fn new(endpoint_url: Option<&str>, profile: &str, region: &str) -> Result<Clients> {
        let url = |service: Service| {
            endpoint::configured(service, endpoint_url, profile, None)
                .map(|(url, _)| url)
                .unwrap_or_else(|| service.regional(region))
        };
        Ok(Clients {
            http: Http::new()?,
            oidc: url(Service::SsoOidc),
            portal: url(Service::Sso),
        })
    }

    pub fn oidc(&self) -> Oidc<'_> {
        Oidc::new(&self.http, &self.oidc)
    }

    pub fn portal(&self) -> Portal<'_> {
        Portal::new(&self.http, &self.portal)
    }
}

/// What may happen when no token is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// Never: say to run `mfaenv login`.
    Never,
    /// When someone can finish it (a terminal, or a browser to show).
    IfPossible,
    /// Always, even over a valid token (`mfaenv login`).
    Now(Flow),
}

/// The portal's credentials for the account and role of `sso`.
pub fn role_credentials(plan: &Plan, sso: &SsoSource, opts: &Options) -> Result<Credentials> {
    let profile = &plan.source.profile;
    let clients = Clients::new(plan.endpoint_url.as_deref(), &plan.profile, &sso.region)?;
    let login = if opts.prompt {
        Login::IfPossible
    } else {
        Login::Never
    };
    let token = access_token(sso, profile, &clients, login)?;
    fetch_role(&clients, &token, sso, profile)
}

/// GetRoleCredentials with `token`, its errors in words.
pub fn fetch_role(
    clients: &Clients,
    token: &SsoToken,
    sso: &SsoSource,
    profile: &str,
) -> Result<Credentials> {
    clients
        .portal()
        .get_role_credentials(&token.access_token, &sso.account_id, &sso.role_name)
        .map_err(|e| portal_failure(e, profile, sso))
}

/// A portal error, with what to do.
pub fn portal_failure(err: PortalError, profile: &str, sso: &SsoSource) -> anyhow::Error {
    match err {
        PortalError::Unauthorized(e) => anyhow!(
            "profile `{profile}`: IAM Identity Center no longer accepts the login ({e}): it expired or was revoked; run `mfaenv login {profile}`"
        ),
        PortalError::Forbidden(e) => anyhow!(
            "profile `{profile}`: IAM Identity Center does not give you role `{}` in account {} ({e}): check sso_account_id and sso_role_name (`mfaenv sso populate` writes the profiles you can use)",
            sso.role_name,
            sso.account_id
        ),
        other => anyhow!(other).context(format!(
            "profile `{profile}`: IAM Identity Center's GetRoleCredentials"
        )),
    }
}

/// The lock of the token file at `path` (in mfaenv's cache directory).
fn token_key(path: &std::path::Path) -> Key {
    Key::new(&["sso-token", &path.to_string_lossy()])
}

/// A valid access token for `sso`: the cached one, refreshed, or a new
/// login as `login` allows. Under a lock, so that parallel callers make one.
pub fn access_token(
    sso: &SsoSource,
    profile: &str,
    clients: &Clients,
    login: Login,
) -> Result<SsoToken> {
    let path = sso_token::path(sso).context("no home directory for ~/.aws/sso/cache")?;
    let now = SystemTime::now();
    if !matches!(login, Login::Now(_)) {
        if let Some(token) = read_token(&path, profile, false) {
            if token.left(now) > REFRESH_WINDOW {
                return Ok(token);
            }
        }
    }
    let cache = Cache::open();
    cache.with_lock(
        &token_key(&path),
        &format!("the IAM Identity Center login of `{profile}`"),
        |waited| under_lock(sso, profile, clients, login, &path, waited),
    )
}

fn under_lock(
    sso: &SsoSource,
    profile: &str,
    clients: &Clients,
    login: Login,
    path: &std::path::Path,
    waited: bool,
) -> Result<SsoToken> {
    let now = SystemTime::now();
    let current = read_token(path, profile, true);
    if let Login::Now(flow) = login {
        return log_in(sso, profile, clients, path, flow);
    }
    let mut unusable_why = String::new();
    if let Some(token) = current {
        if waited && token.left(now) > USABLE {
            return Ok(token);
        }
        if token.refreshable(now) {
            match refresh(&token, clients, path) {
                Ok(fresh) => return Ok(fresh),
                Err(e) if token.left(now) > USABLE => {
                    crate::ui::warning(format_args!(
                        "profile `{profile}`: {e:#}; using the login's token while it lasts"
                    ));
                    return Ok(token);
                }
                Err(e) => unusable_why = format!(" (refreshing it failed: {e:#})"),
            }
        } else if token.left(now) > USABLE {
            return Ok(token);
        } else {
            unusable_why = " (the cached login expired)".to_string();
        }
    }
    if waited {
        bail!(
            "profile `{profile}`: another mfaenv was logging in to IAM Identity Center and did not finish: run `mfaenv login {profile}`"
        );
    }
    if login == Login::Never || !someone_can_log_in() {
        return Err(LoginNeeded {
            profile: profile.to_string(),
            why: if login == Login::Never {
                unusable_why
            } else {
                format!("{unusable_why}, and there is no terminal or browser here to log in with")
            },
        }
        .into());
    }
    let flow = if sso.session.is_some() {
        Flow::Browser
    } else {
        Flow::DeviceCode
    };
    log_in(sso, profile, clients, path, flow)
}

/// A terminal to show the URL on, or a browser to open it in.
fn someone_can_log_in() -> bool {
    crate::mfa::open_tty().is_some() || sso_login::browser_available()
}

/// The token at `path`, or `None` (a file that must not be used is said
/// once, when `say`).
fn read_token(path: &std::path::Path, profile: &str, say: bool) -> Option<SsoToken> {
    match sso_token::read(path) {
        Ok(token) => token,
        Err(reason) => {
            if say {
                crate::ui::warning(format_args!(
                    "profile `{profile}`: ignoring the IAM Identity Center token cache {}: {reason}; a login replaces it",
                    crate::ui::path(path)
                ));
            }
            None
        }
    }
}

/// CreateToken with the refresh token; the new token written back.
fn refresh(token: &SsoToken, clients: &Clients, path: &std::path::Path) -> Result<SsoToken> {
    let registration = crate::aws::sso_oidc::Registration {
        client_id: token.client_id.clone().unwrap_or_default(),
        client_secret: token.client_secret.clone().unwrap_or_default(),
        expires_at: token.registration_expires_at.unwrap_or(SystemTime::now()),
    };
    let refresh_token = token.refresh_token.as_deref().unwrap_or_default();
    let fresh = clients
        .oidc()
        .create_token(&registration, Grant::RefreshToken(refresh_token))
        .map_err(|e| {
            let what = if e.is(Kind::InvalidGrant) || e.is(Kind::ExpiredToken) {
                "the refresh token is no longer valid"
            } else {
                "refreshing the login"
            };
            anyhow!("{what}: {e}")
        })?;
    let mut next = token.clone();
    next.access_token = fresh.access_token.clone();
    next.expires_at = sso_login::expires_at(&fresh);
    if let Some(rt) = &fresh.refresh_token {
        next.refresh_token = Some(rt.clone());
    }
    save(path, &next);
    Ok(next)
}

/// Logs in now and writes the token.
fn log_in(
    sso: &SsoSource,
    profile: &str,
    clients: &Clients,
    path: &std::path::Path,
    flow: Flow,
) -> Result<SsoToken> {
    let mut scopes = sso.scopes.clone();
    if scopes.is_empty() && sso.session.is_some() {
        scopes.push("sso:account:access".to_string());
    }
    let what = format!("profile `{profile}`");
    let client_name = format!("mfaenv-{}", sso.session.as_deref().unwrap_or("legacy"));
    let target = Target {
        what: &what,
        start_url: &sso.start_url,
        scopes: &scopes,
        client_name: &client_name,
    };
    let done = sso_login::login(&clients.oidc(), &target, flow)?;
    let token = SsoToken {
        start_url: sso.start_url.clone(),
        region: sso.region.clone(),
        access_token: done.token.access_token.clone(),
        expires_at: sso_login::expires_at(&done.token),
        refresh_token: done.token.refresh_token.clone(),
        client_id: Some(done.registration.client_id.clone()),
        client_secret: Some(done.registration.client_secret.clone()),
        registration_expires_at: Some(done.registration.expires_at),
        other: Default::default(),
    };
    save(path, &token);
    crate::ui::info(format_args!(
        "{what}: logged in to IAM Identity Center until {}",
        crate::creds::rfc3339(token.expires_at)
    ));
    Ok(token)
}

fn save(path: &std::path::Path, token: &SsoToken) {
    if let Err(e) = sso_token::write(path, token) {
        crate::ui::warning(format_args!(
            "cannot write the IAM Identity Center token cache {}: {e}",
            crate::ui::path(path)
        ));
    }
}

/// Whether credentials for `sso` can be had with no person: the cached
/// token is valid, or can be refreshed with no browser (reads the file only).
pub fn logged_in(sso: &SsoSource) -> bool {
    let Some(path) = sso_token::path(sso) else {
        return false;
    };
    let now = SystemTime::now();
    matches!(sso_token::read(&path), Ok(Some(t)) if t.left(now) > USABLE || t.refreshable(now))
}

/// Whether a token for `sso` that is still valid is cached (for `plan`;
/// reads the file only).
pub fn token_state(sso: &SsoSource) -> &'static str {
    let Some(path) = sso_token::path(sso) else {
        return "no home directory";
    };
    match sso_token::read(&path) {
        Ok(Some(t)) if t.left(SystemTime::now()) > USABLE => "a valid token is cached",
        Ok(Some(t)) if t.refreshable(SystemTime::now()) => {
            "the cached token expired; it can be refreshed without a browser"
        }
        Ok(Some(_)) => "the cached token expired: a login is needed",
        Ok(None) => "no token cached: a login is needed",
        Err(_) => "the token cache file cannot be used: a login is needed",
    }
}

/// What `plan` shows for the Identity Center step: the call, its fields
/// (for `--json`) and lines of detail. Reads the token file, calls nothing.
pub fn plan_step(
    sso: &SsoSource,
) -> (
    &'static str,
    Vec<(&'static str, serde_json::Value)>,
    Vec<String>,
) {
    use crate::ui::escape;
    use serde_json::json;
    let token = token_state(sso);
    let fields = vec![
        ("sso_session", json!(sso.session)),
        ("sso_start_url", json!(sso.start_url)),
        ("sso_region", json!(sso.region)),
        ("sso_account_id", json!(sso.account_id)),
        ("sso_role_name", json!(sso.role_name)),
        ("token", json!(token)),
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
        format!("token: {token}"),
    ];
    ("GetRoleCredentials", fields, details)
}

/// `mfaenv login` of a profile whose chain starts at Identity Center: a new
/// login (as `aws sso login`), whatever is cached.
pub fn login_now(plan: &Plan, sso: &SsoSource, flow: Flow) -> Result<()> {
    let profile = &plan.source.profile;
    let clients = Clients::new(plan.endpoint_url.as_deref(), &plan.profile, &sso.region)?;
    access_token(sso, profile, &clients, Login::Now(flow))?;
    Ok(())
}
