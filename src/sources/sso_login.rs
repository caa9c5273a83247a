//! Logging in to IAM Identity Center: a new client registration, then the
//! authorization code flow with PKCE and a loopback redirect (the AWS
//! CLI's default), or the device authorization flow; then CreateToken.
//!
//! The browser is `$BROWSER`, else the platform's opener; the URL (and the
//! device flow's code) is always printed on stderr too, so a login over SSH
//! works. Everything waits at most the login timeout
//! (`MFAENV_LOGIN_TIMEOUT`, default 170 s); Ctrl-C ends it with nothing
//! written.
//!
//! The loopback listener (127.0.0.1, a random port) takes only
//! `GET /oauth/callback` with the `state` this login made (256 random bits:
//! another local user who connects cannot guess it, and a code is useless
//! without the PKCE verifier that never leaves this process). Each
//! connection gets 2 s and 8 KiB; anything else is answered and ignored.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::aws::sso_oidc::{Grant, Kind, Oidc, Registration, Token, CALLBACK_PATH};

// Under the cache's 180 s lock wait: callers waiting for this login never
// give up before it does.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(170);
const MAX_REQUEST: usize = 8 * 1024;
const REQUEST_TIME: Duration = Duration::from_secs(2);

/// How a login gets its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Authorization code + PKCE, redirected to a loopback listener.
    Browser,
    /// The device authorization flow (`--use-device-code`).
    DeviceCode,
}

/// What a login is for (for messages and the registration).
pub struct Target<'a> {
    /// The profile (or `sso-session NAME`) being logged in, for messages.
    pub what: &'a str,
    pub start_url: &'a str,
    pub scopes: &'a [String],
    /// The name the client registers under.
    pub client_name: &'a str,
}

/// A login's result: the token and the registration it was made with.
pub struct LoggedIn {
    pub token: Token,
    pub registration: Registration,
}

/// The login timeout: `MFAENV_LOGIN_TIMEOUT`, else 170 s.
pub fn timeout() -> Duration {
    crate::settings::login_timeout().unwrap_or(DEFAULT_TIMEOUT)
}

pub fn login(oidc: &Oidc<'_>, target: &Target<'_>, flow: Flow) -> Result<LoggedIn> {
    match flow {
        Flow::Browser => authorization_code(oidc, target),
        Flow::DeviceCode => device_code(oidc, target),
    }
}

fn authorization_code(oidc: &Oidc<'_>, target: &Target<'_>) -> Result<LoggedIn> {
    let what = target.what;
    let listener = TcpListener::bind("127.0.0.1:0")
        .with_context(|| format!("{what}: cannot listen on 127.0.0.1 for the login's redirect"))?;
    let port = listener.local_addr()?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
    let registration = oidc
        .register_client(
            target.client_name,
            target.scopes,
            &["authorization_code", "refresh_token"],
            Some(&redirect_uri),
            target.start_url,
        )
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("{what}: registering mfaenv with IAM Identity Center"))?;
    let verifier = random_text(64)?;
    let challenge = base64url(&Sha256::digest(verifier.as_bytes()));
    let state = random_text(32)?;
    let url = oidc.authorize_url(
        &registration,
        &redirect_uri,
        &state,
        &challenge,
        target.scopes,
    );
    show(what, &url, None);
    let code = wait_for_code(&listener, &state, what)?;
    let token = oidc
        .create_token(
            &registration,
            Grant::AuthorizationCode {
                code: &code,
                verifier: &verifier,
                redirect_uri: &redirect_uri,
            },
        )
        .map_err(|e| oidc_failure(e, what))?;
    Ok(LoggedIn {
        token,
        registration,
    })
}

fn device_code(oidc: &Oidc<'_>, target: &Target<'_>) -> Result<LoggedIn> {
    let what = target.what;
    let registration = oidc
        .register_client(
            target.client_name,
            target.scopes,
            &[
                "urn:ietf:params:oauth:grant-type:device_code",
                "refresh_token",
            ],
            None,
            target.start_url,
        )
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("{what}: registering mfaenv with IAM Identity Center"))?;
    let device = oidc
        .start_device_authorization(&registration, target.start_url)
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("{what}: starting the device login"))?;
    let url = device
        .verification_uri_complete
        .clone()
        .unwrap_or_else(|| device.verification_uri.clone());
    show(what, &url, Some(&device.user_code));
    let deadline = Instant::now() + timeout().min(device.expires_in);
    let mut interval = device.interval;
    loop {
        if Instant::now() + interval > deadline {
            bail!(timed_out(what));
        }
        std::thread::sleep(interval);
        match oidc.create_token(&registration, Grant::DeviceCode(&device.device_code)) {
            Ok(token) => {
                return Ok(LoggedIn {
                    token,
                    registration,
                })
            }
            Err(e) if e.is(Kind::AuthorizationPending) => continue,
            Err(e) if e.is(Kind::SlowDown) => interval += Duration::from_secs(5),
            Err(e) => return Err(oidc_failure(e, what)),
        }
    }
}

fn timed_out(what: &str) -> String {
    format!(
        "{what}: the login was not finished within {}s; nothing was changed: run it again (MFAENV_LOGIN_TIMEOUT=SECONDS waits longer)",
        timeout().as_secs()
    )
}

/// An OIDC error of a login, in words with what to do.
pub fn oidc_failure(err: crate::aws::sso_oidc::OidcError, what: &str) -> anyhow::Error {
    let advice = if err.is(Kind::AccessDenied) {
        "the login was denied in the browser"
    } else if err.is(Kind::ExpiredToken) {
        "the login's code expired before it was approved"
    } else if err.is(Kind::InvalidGrant) {
        "IAM Identity Center refused the login's grant (used, expired or not this login's)"
    } else if err.is(Kind::InvalidClient) {
        "IAM Identity Center no longer knows mfaenv's client registration"
    } else {
        "IAM Identity Center refused the login"
    };
    anyhow!("{what}: {advice} ({err}); nothing was changed: log in again")
}

/// Prints the URL (and code) on stderr and opens the browser.
fn show(what: &str, url: &str, code: Option<&str>) {
    let mut lines = vec![format!(
        "{what}: log in to IAM Identity Center in your browser:"
    )];
    lines.push(format!("  {url}"));
    if let Some(code) = code {
        lines.push(format!(
            "  and confirm the code {}",
            crate::ui::escape(code)
        ));
    }
    if !open_browser(url) {
        lines.push("(no browser to open here: open the URL yourself)".to_string());
    }
    for line in lines {
        crate::ui::info(line);
    }
}

/// Whether a browser can be opened here: `$BROWSER`, or the platform's
/// opener with a display to show it on.
pub fn browser_available() -> bool {
    crate::env_vars::get("BROWSER").is_some() || opener_can_show()
}

fn opener_can_show() -> bool {
    if cfg!(any(target_os = "macos", windows)) {
        return true;
    }
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| crate::env_vars::get(v).is_some());
    display && crate::browser::find("xdg-open").is_some()
}

/// Starts the browser on `url` (`$BROWSER`, else the platform's opener:
/// the console's choice, `crate::browser`), detached; false when there is
/// none to start. The URL is printed anyway, so a browser that fails later
/// costs nothing.
fn open_browser(url: &str) -> bool {
    if !browser_available() {
        return false;
    }
    let Ok(browser) = crate::browser::choose(None, false) else {
        return false;
    };
    match browser.spawn(url, None) {
        Ok(mut child) => {
            // Reaped when it ends; never waited for.
            std::thread::spawn(move || child.wait());
            true
        }
        Err(_) => false,
    }
}

/// Waits on `listener` for the redirect with `state`; returns its code.
fn wait_for_code(listener: &TcpListener, state: &str, what: &str) -> Result<String> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + timeout();
    let mut refused = 0u32;
    while Instant::now() < deadline {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(e).context(format!("{what}: the login's listener failed")),
        };
        match answer(stream, state) {
            Callback::Code(code) => return Ok(code),
            Callback::Denied(error) => bail!(
                "{what}: IAM Identity Center sent the browser back with `{}`: the login was not approved; nothing was changed",
                crate::ui::escape(&error)
            ),
            Callback::WrongState => {
                refused += 1;
                crate::ui::warning(format_args!(
                    "{what}: refused a redirect to the login's listener with a wrong `state` (not this login's; another login's or another program's); still waiting"
                ));
            }
            Callback::Ignored => {}
        }
    }
    let mut message = timed_out(what);
    if refused > 0 {
        message.push_str(&format!(
            " ({refused} redirect(s) with a wrong `state` were refused)"
        ));
    }
    bail!(message)
}

enum Callback {
    Code(String),
    Denied(String),
    WrongState,
    Ignored,
}

/// Reads one request (bounded), answers it, and says what it was.
fn answer(mut stream: TcpStream, state: &str) -> Callback {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(REQUEST_TIME));
    let _ = stream.set_write_timeout(Some(REQUEST_TIME));
    let started = Instant::now();
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_REQUEST || started.elapsed() > REQUEST_TIME {
            reply(&mut stream, 431, "request too large or too slow");
            return Callback::Ignored;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Callback::Ignored,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some("GET"), Some(target)) = (parts.next(), parts.next()) else {
        reply(&mut stream, 405, "only GET");
        return Callback::Ignored;
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != CALLBACK_PATH {
        reply(&mut stream, 404, "not found");
        return Callback::Ignored;
    }
    let params = parse_query(query);
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let state_ok = get("state").is_some_and(|s| same(s.as_bytes(), state.as_bytes()));
    if !state_ok {
        reply(
            &mut stream,
            400,
            "this is not the login mfaenv is waiting for",
        );
        return Callback::WrongState;
    }
    if let Some(code) = get("code").filter(|c| !c.is_empty() && c.len() <= 4096) {
        reply(
            &mut stream,
            200,
            "Logged in: you can close this tab and go back to the terminal.",
        );
        return Callback::Code(code);
    }
    let error = get("error").unwrap_or_else(|| "no code".into());
    reply(&mut stream, 400, "the login was not approved");
    Callback::Denied(error)
}

fn reply(stream: &mut TcpStream, status: u16, text: &str) {
    let reason = if status == 200 { "OK" } else { "Error" };
    let body = format!("<!doctype html><title>mfaenv</title><p>{text}</p>\n");
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\ncache-control: no-store\r\n\r\n{body}",
        body.len()
    );
}

/// Constant-time comparison (the state is a secret of this login).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .take(32)
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `bytes` random bytes as base64url text (PKCE verifier, state).
fn random_text(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| anyhow!("the system's random number generator failed: {e}"))?;
    Ok(base64url(&buf))
}

/// RFC 4648 base64url without padding (PKCE's encoding, RFC 7636).
fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// When a token from CreateToken expires.
pub fn expires_at(token: &Token) -> SystemTime {
    SystemTime::now() + token.expires_in
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_and_pkce_as_rfc_7636() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            base64url(&Sha256::digest(verifier.as_bytes())),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(random_text(64).unwrap().len(), 86);
    }

    #[test]
    fn query_and_state() {
        let q = parse_query("code=a%2Bb&state=x+y&bad=%zz");
        assert_eq!(
            q,
            [
                ("code".into(), "a+b".into()),
                ("state".into(), "x y".into())
            ]
        );
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
