//! The credential endpoint: the container credentials protocol the AWS SDKs
//! read through `AWS_CONTAINER_CREDENTIALS_FULL_URI` (botocore's
//! ContainerProvider, the Go SDK's endpointcreds, the JS SDK's fromHttp).
//!
//! Only loopback processes can connect, but any local user can, so every
//! request is hostile until it carries the exact token (compared in constant
//! time). HTTP/1.1, one request per connection, answered from memory:
//! - a request head of at most [`MAX_HEAD`] bytes, within [`HEAD_DEADLINE`]
//!   of the connection, else the connection is dropped;
//! - at most [`MAX_CONNECTIONS`] connections at once, each on its own
//!   thread, so one slow client stalls neither the others nor the refresh;
//! - the right token + `GET` + [`PATH`] gets the JSON; anything else a 403
//!   that says nothing secret (a malformed head: 400);
//! - on Linux, a connection from another user's process (the kernel says
//!   whose socket the peer is, [`super::peer`]) is closed at once, before it
//!   gets a slot or a thread: other users can neither fill the slots nor
//!   make the command wait. Root and our own user are served; where the
//!   owner cannot be told, the token decides.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::creds::{rfc3339, Credentials};

/// The one path served.
pub const PATH: &str = "/mfaenv/credentials";

/// A request head (request line and headers) longer than this is refused.
pub const MAX_HEAD: usize = 8 * 1024;

/// How long a client has, from its connection, to send its request head
/// (and to read the answer). The SDKs send it at once (and give up after
/// 1-2 s themselves): a connection idle or slower than this is closed.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(1);

/// Connections handled at once; one more is closed at once.
pub const MAX_CONNECTIONS: usize = 64;

/// A complete HTTP response with credentials in it, wiped when dropped.
struct Answer {
    response: Zeroizing<Vec<u8>>,
    expires: SystemTime,
}

/// What the endpoint serves, shared by the connection threads and the refresher.
pub struct Endpoint {
    token: Zeroizing<String>,
    profile: String,
    current: RwLock<Arc<Answer>>,
    /// Why the last refresh failed (nothing secret): said once the keys have expired.
    failure: RwLock<Option<String>>,
    active: AtomicUsize,
}

impl Endpoint {
    pub fn new(token: Zeroizing<String>, profile: &str, creds: &Credentials) -> Result<Endpoint> {
        Ok(Endpoint {
            token,
            profile: profile.to_string(),
            current: RwLock::new(Arc::new(answer_for(creds)?)),
            failure: RwLock::new(None),
            active: AtomicUsize::new(0),
        })
    }

    /// Serves `creds` from now on.
    pub fn serve(&self, creds: &Credentials) -> Result<()> {
        let answer = Arc::new(answer_for(creds)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = answer;
        *self.failure.write().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// Records why the credentials could not be renewed.
    pub fn fail(&self, reason: &str) {
        *self.failure.write().unwrap_or_else(|e| e.into_inner()) = Some(reason.to_string());
    }

    /// The answer to one request head (`None`: it did not parse).
    fn respond(&self, head: Option<&Head<'_>>, now: SystemTime) -> Reply {
        let Some(head) = head else {
            return Reply::Error(400, "BadRequest", "malformed request".into());
        };
        if !head
            .authorization
            .is_some_and(|t| same(t, self.token.as_bytes()))
        {
            return Reply::Error(
                403,
                "AccessDenied",
                "missing or wrong Authorization token".into(),
            );
        }
        if head.method != b"GET" || head.target != PATH.as_bytes() {
            return Reply::Error(403, "AccessDenied", format!("only GET {PATH} is served"));
        }
        let answer = Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()));
        if now < answer.expires {
            return Reply::Credentials(answer);
        }
        let why = self
            .failure
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| "they were not renewed in time".into());
        Reply::Error(
            500,
            "ExpiredCredentials",
            format!(
                "mfaenv's credentials for profile `{}` expired at {} and could not be renewed: {why}",
                self.profile,
                rfc3339(answer.expires)
            ),
        )
    }
}

enum Reply {
    Credentials(Arc<Answer>),
    Error(u16, &'static str, String),
}

impl Reply {
    fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            Reply::Credentials(answer) => out.write_all(&answer.response),
            Reply::Error(status, code, message) => {
                let body = serde_json::json!({ "code": code, "message": message }).to_string();
                out.write_all(&response(*status, body.as_bytes()))
            }
        }
    }
}

/// Constant time in the token's length: how much of a guess was right does
/// not show in how long the answer took.
fn same(given: &[u8], token: &[u8]) -> bool {
    if given.len() != token.len() {
        return false;
    }
    let diff = given
        .iter()
        .zip(token)
        .fold(0u8, |acc, (a, b)| acc | std::hint::black_box(a ^ b));
    std::hint::black_box(diff) == 0
}

/// The JSON the SDKs read (botocore needs all four keys; Expiration is RFC 3339).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
}

fn answer_for(creds: &Credentials) -> Result<Answer> {
    let expires = creds
        .expiration
        .context("the credentials have no expiry: nothing to serve and refresh")?;
    let token = creds
        .session_token
        .as_deref()
        .context("the credentials have no session token")?;
    let body = Body {
        access_key_id: &creds.access_key_id,
        secret_access_key: &creds.secret_access_key,
        token,
        expiration: rfc3339(expires),
    };
    // Sized up front: a growing Vec would leave copies of the secret behind.
    let size = 128 + creds.access_key_id.len() + creds.secret_access_key.len() + token.len();
    let mut json = Zeroizing::new(Vec::with_capacity(size));
    serde_json::to_writer(&mut *json, &body).context("cannot encode the credentials")?;
    Ok(Answer {
        response: response(200, &json),
        expires,
    })
}

fn response(status: u16, body: &[u8]) -> Zeroizing<Vec<u8>> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut out = Zeroizing::new(Vec::with_capacity(head.len() + body.len()));
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
    out
}

/// The parts of a request head that decide the answer.
#[derive(Debug, PartialEq, Eq)]
struct Head<'a> {
    method: &'a [u8],
    target: &'a [u8],
    /// The `Authorization` value; `None` when missing or given twice.
    authorization: Option<&'a [u8]>,
}

/// Parses a request head that ends in CRLF CRLF. Strict: a request line of
/// three parts and HTTP/1.x, header lines `name: value` (no folding, no
/// bare CR), at most one `Authorization`.
fn parse(head: &[u8]) -> Option<Head<'_>> {
    // Every line of what is left ends in CR (the head's last LF is gone).
    let text = head.strip_suffix(b"\n\r\n")?;
    if !head.ends_with(b"\r\n\r\n") {
        return None;
    }
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r"));
    let request = lines.next()??;
    let mut parts = request.split(|&b| b == b' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || method.is_empty()
        || !method.iter().all(u8::is_ascii_uppercase)
        || !target.starts_with(b"/")
        || !matches!(version, b"HTTP/1.1" | b"HTTP/1.0")
    {
        return None;
    }
    let mut authorization = None;
    let mut seen = 0;
    for line in lines {
        let line = line?;
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let token_char = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
        if name.is_empty() || !name.iter().all(token_char) || value.contains(&b'\r') {
            return None;
        }
        if name.eq_ignore_ascii_case(b"authorization") {
            seen += 1;
            authorization = Some(value.trim_ascii());
        }
    }
    Some(Head {
        method,
        target,
        authorization: authorization.filter(|_| seen == 1),
    })
}

/// Something to wait on that says when the server stops.
#[derive(Default)]
pub struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    pub fn set(&self) {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_all();
    }

    pub fn is_set(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits `timeout` or until stopped; true when stopped.
    pub fn wait(&self, timeout: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        let (stopped, _) = self
            .wake
            .wait_timeout_while(stopped, timeout, |s| !*s)
            .unwrap_or_else(|e| e.into_inner());
        *stopped
    }
}

/// Accepts connections until `stop` is set (and something connects to wake
/// it); then drops the listener, so no socket outlives the run.
pub fn serve(listener: TcpListener, endpoint: Arc<Endpoint>, stop: Arc<Stop>) {
    let mut owners = super::peer::Owners::new();
    let local = listener.local_addr().ok();
    loop {
        let accepted = listener.accept();
        if stop.is_set() {
            break;
        }
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of descriptors, say: no busy loop while it lasts.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if local.is_some_and(|local| another_user(peer, local, &mut owners)) {
            continue; // dropped: closed at once, unanswered
        }
        if endpoint.active.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
            endpoint.active.fetch_sub(1, Ordering::AcqRel);
            continue; // dropped: closed at once
        }
        let shared = Arc::clone(&endpoint);
        let spawned = std::thread::Builder::new()
            .name("mfaenv-request".into())
            // The head buffer and a JSON error: no need for the default 2 MiB each.
            .stack_size(256 * 1024)
            .spawn(move || {
                // The slot is given back however the thread ends.
                struct Slot(Arc<Endpoint>);
                impl Drop for Slot {
                    fn drop(&mut self) {
                        self.0.active.fetch_sub(1, Ordering::AcqRel);
                    }
                }
                let slot = Slot(shared);
                handle(stream, &slot.0);
            });
        if spawned.is_err() {
            endpoint.active.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// One connection: read the head within the deadline, answer, close.
fn handle(mut stream: TcpStream, endpoint: &Endpoint) {
    let deadline = Instant::now() + HEAD_DEADLINE;
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(HEAD_DEADLINE));
    let mut buf = [0u8; MAX_HEAD];
    let reply = match read_head(&mut stream, &mut buf, deadline) {
        Ok(Some(len)) => endpoint.respond(parse(&buf[..len]).as_ref(), SystemTime::now()),
        Ok(None) => endpoint.respond(None, SystemTime::now()),
        Err(_) => return, // timed out or gone: nobody to answer
    };
    if reply.write_to(&mut stream).is_ok() {
        finish(&mut stream, deadline);
    }
}

/// Whether the process at the other end belongs to another user (not us,
/// not root): they cannot have the token. False when it cannot be told.
fn another_user(peer: SocketAddr, local: SocketAddr, owners: &mut super::peer::Owners) -> bool {
    owners
        .uid(peer, local)
        .is_some_and(|uid| !super::peer::allowed(uid))
}

/// Reads until the blank line that ends the head. `Ok(Some(len))`: the head
/// is `buf[..len]`; `Ok(None)`: too long, or the client stopped sending.
/// Past `deadline`: an error (nobody to answer).
fn read_head(
    stream: &mut TcpStream,
    buf: &mut [u8; MAX_HEAD],
    deadline: Instant,
) -> std::io::Result<Option<usize>> {
    let mut len = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        let n = match stream.read(&mut buf[len..]) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            other => other?,
        };
        if n == 0 {
            return Ok(None);
        }
        let from = len.saturating_sub(3);
        len += n;
        if let Some(end) = buf[from..len].windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some(from + end + 4));
        }
        if len == buf.len() {
            return Ok(None);
        }
    }
}

/// Closes our side, then reads what the client still sends (a body we did
/// not want) for a moment, so that closing does not reset the connection
/// before the client has read the answer.
fn finish(stream: &mut TcpStream, deadline: Instant) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = deadline.min(Instant::now() + Duration::from_millis(200));
    let mut sink = [0u8; 4096];
    let mut drained = 0usize;
    while drained < 64 * 1024 {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn endpoint(expires_in: Duration) -> Endpoint {
        let creds = Credentials {
            access_key_id: "ASIATEST".into(),
            secret_access_key: "secret/key".into(),
            session_token: Some("session\"token".into()),
            expiration: Some(SystemTime::now() + expires_in),
        };
        Endpoint::new(Zeroizing::new(TOKEN.into()), "prod", &creds).unwrap()
    }

    fn answer(ep: &Endpoint, head: &str) -> (u16, String) {
        let reply = ep.respond(parse(head.as_bytes()).as_ref(), SystemTime::now());
        let mut out = Vec::new();
        reply.write_to(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
        (status, body)
    }

    fn get(auth: &str) -> String {
        format!("GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n\r\n")
    }

    #[test]
    fn the_token_gets_the_json_the_sdks_read() {
        let ep = endpoint(Duration::from_secs(3600));
        let (status, body) = answer(&ep, &get(TOKEN));
        assert_eq!(status, 200);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["AccessKeyId"], "ASIATEST");
        assert_eq!(json["SecretAccessKey"], "secret/key");
        assert_eq!(json["Token"], "session\"token");
        let exp = json["Expiration"].as_str().unwrap();
        assert!(humantime::parse_rfc3339(exp).is_ok(), "{exp}");
        // Whitespace around a header value is not part of it (RFC 9110).
        assert_eq!(answer(&ep, &get(&format!(" {TOKEN}\t"))).0, 200);
    }

    #[test]
    fn everything_else_is_refused_without_a_secret() {
        let ep = endpoint(Duration::from_secs(3600));
        let mut last_byte = TOKEN.to_string();
        last_byte.pop();
        last_byte.push('0');
        let refused = [
            format!("GET {PATH} HTTP/1.1\r\nHost: x\r\n\r\n"),
            get("wrong"),
            get(&last_byte),
            get(&TOKEN[..63]),
            get(&format!("{TOKEN}f")),
            get(&format!("Bearer {TOKEN}")),
            format!(
                "GET {PATH} HTTP/1.1\r\nAuthorization: {TOKEN}\r\nAuthorization: {TOKEN}\r\n\r\n"
            ),
            format!("POST {PATH} HTTP/1.1\r\nAuthorization: {TOKEN}\r\n\r\n"),
            format!("HEAD {PATH} HTTP/1.1\r\nAuthorization: {TOKEN}\r\n\r\n"),
            format!("GET /other HTTP/1.1\r\nAuthorization: {TOKEN}\r\n\r\n"),
            format!("GET {PATH}?x=1 HTTP/1.1\r\nAuthorization: {TOKEN}\r\n\r\n"),
            format!("GET {PATH}/ HTTP/1.1\r\nAuthorization: {TOKEN}\r\n\r\n"),
        ];
        for head in &refused {
            let (status, body) = answer(&ep, head);
            assert_eq!(status, 403, "{head:?}");
            assert!(
                !body.contains("secret/key") && !body.contains(TOKEN),
                "{body}"
            );
        }
        for malformed in [
            format!("GET {PATH}\r\n\r\n"),
            format!("GET  {PATH} HTTP/1.1\r\n\r\n"),
            format!("get {PATH} HTTP/1.1\r\nAuthorization: {TOKEN}\r\n\r\n"),
            format!("GET {PATH} HTTP/2\r\nAuthorization: {TOKEN}\r\n\r\n"),
            format!("GET {PATH} HTTP/1.1\r\nAuthorization: {TOKEN}\r\n folded\r\n\r\n"),
            format!("GET {PATH} HTTP/1.1\r\nAuthorization: {TOKEN}\rx\r\n\r\n"),
            format!("GET {PATH} HTTP/1.1\r\nAuthorization {TOKEN}\r\n\r\n"),
            format!("GET {PATH} HTTP/1.1\nAuthorization: {TOKEN}\r\n\r\n"),
        ] {
            assert_eq!(answer(&ep, &malformed).0, 400, "{malformed:?}");
        }
    }

    #[test]
    fn expired_keys_are_an_error_the_sdk_reports() {
        let ep = endpoint(Duration::ZERO);
        ep.fail("an MFA code for arn:aws:iam::1:mfa/a is needed");
        let (status, body) = answer(&ep, &get(TOKEN));
        assert_eq!(status, 500);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["code"], "ExpiredCredentials");
        let message = json["message"].as_str().unwrap();
        assert!(message.contains("an MFA code for"), "{message}");
        assert!(!body.contains("secret/key"), "{body}");
    }

    #[test]
    fn same_compares_whole_tokens() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abd", b"abc"));
        assert!(!same(b"ab", b"abc"));
        assert!(!same(b"", b"abc"));
    }
}
