//! `mfaenv exec --server PROFILE -- CMD…`: instead of keys in the command's
//! environment, a credential endpoint on 127.0.0.1 that the AWS SDKs poll
//! (the container credentials protocol), kept fresh from the cached MFA
//! session for as long as the command runs, with no further code.
//!
//! The session is got first (asking for a code on the terminal before the
//! command starts, as `exec` does). Then: a listener on a port the kernel
//! picks, a token of 32 random bytes for this run, the accept thread
//! ([`http`]), the refresh thread ([`refresh`]), and the command as a child
//! ([`child`]). When the command ends, the listener is closed and mfaenv
//! exits with its status. The listener is close-on-exec: the command and
//! what it leaves running never hold it.

mod child;
pub mod http;
mod peer;
mod refresh;
mod watchdog;

use std::ffi::{OsStr, OsString};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, ExitCode};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use zeroize::Zeroizing;

use crate::config::{Plan, Profiles};
use crate::creds::Credentials;
use crate::env_vars;
use crate::resolve::Options;
use crate::settings;

use http::{Endpoint, Stop};

pub const FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
pub const AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";

/// Variables that would make an SDK look elsewhere, or that carry stale
/// state: removed from the command's environment. (What the SDKs read before
/// the container endpoint: keys, a profile, a web identity.)
const REMOVED: [&str; 14] = [
    env_vars::ACCESS_KEY_ID,
    env_vars::SECRET_ACCESS_KEY,
    env_vars::SESSION_TOKEN,
    env_vars::SECURITY_TOKEN,
    env_vars::EXPIRATION,
    env_vars::PROFILE_VARS[0],
    env_vars::PROFILE_VARS[1],
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    // botocore and the JS SDK read a token file before the token itself.
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    settings::MFAENV_PRIOR,
    settings::MFAENV_SHELL,
];

/// `MFAENV_SERVER`: `1`/`true`/`yes`/`on` asks for the server, `0`/`false`/
/// `no`/`off`/empty does not; `None` when unset (the profile decides).
pub fn from_env() -> Result<Option<bool>> {
    let Some(value) = settings::server() else {
        return Ok(None);
    };
    let text = value.to_string_lossy().to_ascii_lowercase();
    match text.trim() {
        "1" | "true" | "yes" | "on" => Ok(Some(true)),
        "" | "0" | "false" | "no" | "off" => Ok(Some(false)),
        _ => bail!(
            "{}={}: use 1 (serve the credentials) or 0",
            settings::MFAENV_SERVER,
            crate::ui::escape(&value.to_string_lossy())
        ),
    }
}

/// Runs `program rest…` with the credential server; `creds` are the keys
/// already got for `plan` with `opts`.
pub fn run(
    program: &OsStr,
    rest: &[OsString],
    plan: &Plan,
    opts: &Options,
    creds: &Credentials,
) -> Result<ExitCode> {
    let expires = creds.expiration.context(
        "the credentials have no expiry: nothing to refresh, use `exec` without --server",
    )?;
    // The terminal is the command's from here on.
    crate::ui::no_spinner();
    // Before any thread starts: only the main thread takes the signals.
    child::block();
    let token = new_token()?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("credential server: cannot listen on 127.0.0.1")?;
    let addr = listener
        .local_addr()
        .context("credential server: local address")?;
    // A longer queue of connections not yet accepted than std's 128 (the
    // kernel caps it at net.core.somaxconn): another user's connection
    // flood then waits in it, where the command's connections are taken in
    // turn, instead of having the command's dropped, retried after 1 s.
    // SAFETY: listen on the descriptor the listener owns.
    unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&listener), 4096) };
    let endpoint = Arc::new(Endpoint::new(token.clone(), &plan.profile, creds)?);
    let stop = Arc::new(Stop::default());
    let acceptor = {
        let (endpoint, stop) = (Arc::clone(&endpoint), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("mfaenv-accept".into())
            .spawn(move || http::serve(listener, endpoint, stop))
            .context("credential server: cannot start a thread")?
    };
    let refresher = refresh::Refresher::new(
        plan.clone(),
        opts,
        Arc::clone(&endpoint),
        Arc::clone(&stop),
        expires,
    );
    // Not joined at the end: it may be inside an STS call; exiting ends it.
    std::thread::Builder::new()
        .name("mfaenv-refresh".into())
        .spawn(move || refresher.run())
        .context("credential server: cannot start a thread")?;

    let mut cmd = Command::new(program);
    cmd.args(rest);
    for name in REMOVED.iter().chain(&settings::KEY_STORE_VARS) {
        cmd.env_remove(name);
    }
    cmd.env(FULL_URI, format!("http://{addr}{}", http::PATH));
    cmd.env(AUTHORIZATION_TOKEN, token.as_str());
    if let Some(region) = &plan.region {
        cmd.env(env_vars::REGION, region);
        cmd.env(env_vars::DEFAULT_REGION, region);
    }
    cmd.env(settings::MFAENV_PROFILE, &plan.profile);
    let status = child::run(cmd, program);

    stop.set();
    // Wakes the accept loop, which then drops the listener. (When even that
    // connection fails, exiting closes it.)
    if TcpStream::connect(addr).is_ok() {
        let _ = acceptor.join();
    }
    status
}

/// 32 random bytes from the kernel, as 64 hex digits.
fn new_token() -> Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *bytes)
        .map_err(|e| anyhow::anyhow!("credential server: no random bytes for the token: {e}"))?;
    Ok(Zeroizing::new(env_vars::hex(&*bytes)))
}

/// Keys of a profile that give it credentials of its own.
const OWN_CREDENTIALS: [&str; 7] = [
    "aws_access_key_id",
    "role_arn",
    "credential_process",
    "credential_source",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
];

/// The SDKs read the `default` profile's credentials before the container
/// endpoint (botocore, the Go and JS SDKs alike): with them, the command
/// would run as `default`, not as the profile served — with no MFA. Refused
/// before anything starts. (Not hidden from the command instead: that would
/// mean a copy of the user's files, long-term keys and all.)
pub fn check(plan: &Plan) -> Result<()> {
    let profile = &plan.profile;
    let Ok(profiles) = Profiles::load() else {
        return Ok(()); // the plan was read from these files a moment ago
    };
    let Some(default) = profiles.get("default") else {
        return Ok(());
    };
    if let Some(key) = OWN_CREDENTIALS.iter().find(|k| default.get(k).is_some()) {
        bail!(
            "`exec --server` would not give the command `{profile}`: profile `default` has credentials of its own ({key} at {}), and the AWS SDKs use them before the credential server, so the command would run as `default`. Move them to a named profile (and point `source_profile` at it), or use `exec` without --server",
            default.location_of(key)
        );
    }
    Ok(())
}
