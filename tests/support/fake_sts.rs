//! A small fake STS on 127.0.0.1, for what moto cannot give: wrong or reused
//! MFA codes, AccessDenied, throttling, 5xx, hangs, garbage and truncated
//! bodies, keys with a chosen expiry.
//!
//! It is a real HTTP/1.1 server on a real socket (std::net, one thread per
//! connection): request line, headers, `Content-Length` or chunked bodies,
//! `Expect: 100-continue`, and keep-alive (many requests per connection, as
//! the AWS SDK's pooled hyper client sends them). Every request is recorded
//! (Action, decoded form parameters, the access key id of its SigV4
//! `Authorization` header) *before* it is answered, so a test can count calls
//! even when the reply is a hang.
//!
//! Replies are scripted per Action: `fake.on("GetSessionToken", vec![a, b])`
//! answers the first call with `a` and every later one with `b` (the last
//! reply repeats). An Action without a script gets a plausible success
//! (GetSessionToken, AssumeRole, GetCallerIdentity) or `InvalidAction`.
//!
//! Failure replies: AWS-shaped errors ([`Reply::error`] and its helpers),
//! [`Reply::Hang`], [`Reply::Delay`], [`Reply::Close`], [`Reply::Raw`] bytes,
//! a server clock of another time ([`Reply::Dated`]), a huge or endless body
//! ([`Reply::Huge`]),
//! a `200` of [`Reply::Garbage`], XML cut short in a complete message
//! ([`Reply::truncated`]) or a connection lost mid-body ([`Reply::CutOff`]).
//! [`refused_endpoint`] gives a port where nothing listens.
//!
//! This module also holds what both fixtures share: [`Recorded`], form and
//! header parsing, and a tiny blocking HTTP client ([`http_request`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The XML namespace of every STS response.
pub const STS_XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// What AWS says for a wrong (or already used) MFA code.
pub const INVALID_MFA_CODE: &str =
    "MultiFactorAuthentication failed with invalid MFA one time pass code. ";

/// What AWS says when the MFA serial does not belong to the caller.
pub const UNKNOWN_MFA_SERIAL: &str = "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.";

// ---------------------------------------------------------------------------
// Recorded requests (shared with the moto fixture)
// ---------------------------------------------------------------------------

/// One request that reached an emulator (moto's recorder or the fake STS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// `POST`, `GET`, …
    pub method: String,
    /// Path and query string, e.g. `/` or `/?Action=GetCallerIdentity`.
    pub path: String,
    /// The `Action` parameter (query string or form body); empty when none.
    pub action: String,
    /// Every decoded parameter of the query string and the form body,
    /// `Action` and `Version` included.
    pub params: BTreeMap<String, String>,
    /// The access key id in the SigV4 `Authorization` header's credential scope.
    pub access_key_id: Option<String>,
    /// Headers, names lowercased (repeated headers joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// The raw body as text (lossy UTF-8).
    pub body: String,
    /// For the fake STS: which TCP connection (0, 1, …) carried the request.
    /// `None` for moto.
    pub connection: Option<usize>,
}

impl Recorded {
    /// Builds a record from the parts of a request; parses params and the
    /// `Authorization` header.
    pub fn new(
        method: &str,
        path: &str,
        headers: BTreeMap<String, String>,
        body: &[u8],
        connection: Option<usize>,
    ) -> Recorded {
        let mut params = BTreeMap::new();
        if let Some((_, query)) = path.split_once('?') {
            params.extend(parse_form(query));
        }
        let body = String::from_utf8_lossy(body).into_owned();
        let is_form = headers
            .get("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        if is_form || (!body.is_empty() && !body.starts_with('<') && !body.starts_with('{')) {
            params.extend(parse_form(&body));
        }
        let access_key_id = headers
            .get("authorization")
            .and_then(|a| access_key_from_authorization(a));
        Recorded {
            method: method.to_string(),
            path: path.to_string(),
            action: params.get("Action").cloned().unwrap_or_default(),
            params,
            access_key_id,
            headers,
            body,
            connection,
        }
    }

    /// A decoded parameter, e.g. `param("TokenCode")`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A header by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The service of the SigV4 credential scope (`sts`, `iam`, …).
    pub fn signing_service(&self) -> Option<String> {
        self.credential_scope().and_then(|s| s.get(3).cloned())
    }

    /// The region of the SigV4 credential scope.
    pub fn signing_region(&self) -> Option<String> {
        self.credential_scope().and_then(|s| s.get(2).cloned())
    }

    fn credential_scope(&self) -> Option<Vec<String>> {
        let auth = self.header("authorization")?;
        let cred = auth.split("Credential=").nth(1)?;
        let cred = cred.split([',', ' ']).next()?;
        Some(cred.split('/').map(str::to_string).collect())
    }
}

/// `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, …` → `AKID`.
pub fn access_key_from_authorization(value: &str) -> Option<String> {
    let cred = value.split("Credential=").nth(1)?;
    let key = cred.split('/').next()?.trim();
    (!key.is_empty()).then(|| key.to_string())
}

/// Decodes `a=b&c=d%20e+f` (application/x-www-form-urlencoded).
pub fn parse_form(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Percent-decoding with `+` as space; invalid escapes are kept as they are.
/// `text` with every byte but the unreserved ones as `%XX` (RFC 3986, as
/// SigV4 and form bodies want it).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 (with or without padding); `None` on a bad character.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// A tiny HTTP client (for moto's /moto-api and for raw tests)
// ---------------------------------------------------------------------------

/// One blocking HTTP/1.1 request with `Connection: close`; returns the status
/// and the body. `timeout` bounds connect, each read and each write.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_response_head(&mut reader)?;
    let body = read_body(&mut reader, &headers, true)?;
    Ok((status, body))
}

fn read_response_head(
    reader: &mut impl BufRead,
) -> std::io::Result<(u16, BTreeMap<String, String>)> {
    loop {
        let line =
            read_line(reader)?.ok_or_else(|| bad_data("connection closed before a response"))?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad_data(&format!("bad status line {line:?}")))?;
        let headers = read_headers(reader)?;
        if status != 100 {
            return Ok((status, headers));
        }
    }
}

fn bad_data(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_string())
}

/// Reads one CRLF (or LF) terminated line; `None` at a clean EOF.
pub fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = reader.take(64 * 1024).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

pub fn read_headers(reader: &mut impl BufRead) -> std::io::Result<BTreeMap<String, String>> {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| bad_data("EOF in headers"))?;
        if line.is_empty() {
            return Ok(headers);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad_data(&format!("bad header line {line:?}")))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_string();
        headers
            .entry(name)
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
}

/// Reads a message body framed by `Content-Length` or chunked encoding; with
/// neither, reads to EOF when `to_eof` (responses) or takes none (requests).
pub fn read_body(
    reader: &mut impl BufRead,
    headers: &BTreeMap<String, String>,
    to_eof: bool,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let size_line = read_line(reader)?.ok_or_else(|| bad_data("EOF in chunk size"))?;
            let size_hex = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| bad_data(&format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers, then the empty line.
                while let Some(line) = read_line(reader)? {
                    if line.is_empty() {
                        break;
                    }
                }
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            read_line(reader)?; // the CRLF after the chunk
        }
    } else if let Some(len) = headers.get("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| bad_data(&format!("bad content-length {len:?}")))?;
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if to_eof {
        reader.read_to_end(&mut body)?;
    }
    Ok(body)
}

// ---------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------

/// Temporary credentials the fake hands out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creds {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// RFC 3339, e.g. `2026-11-21T13:00:00Z`.
    pub expiration: String,
}

static SERIAL: AtomicU64 = AtomicU64::new(1);

fn next_serial() -> u64 {
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

impl Creds {
    /// Fresh, unique keys (`ASIAFAKE…`, 20 characters like real ones) that
    /// expire in one hour.
    pub fn new() -> Creds {
        let n = next_serial();
        Creds {
            access_key_id: format!("ASIAFAKE{n:012}"),
            secret_access_key: format!("fakeSecret{n:030}"),
            session_token: format!("FakeSessionToken/{n:08}+{}", "x".repeat(100)),
            expiration: rfc3339(SystemTime::now() + Duration::from_secs(3600)),
        }
    }

    /// The same keys with an expiry `from_now` from now.
    pub fn expiring_in(mut self, from_now: Duration) -> Creds {
        self.expiration = rfc3339(SystemTime::now() + from_now);
        self
    }

    /// The same keys with an expiry at `when`.
    pub fn expiring_at(mut self, when: SystemTime) -> Creds {
        self.expiration = rfc3339(when);
        self
    }

    fn xml(&self) -> String {
        format!(
            "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials>",
            xml_escape(&self.access_key_id),
            xml_escape(&self.secret_access_key),
            xml_escape(&self.session_token),
            xml_escape(&self.expiration),
        )
    }
}

impl Default for Creds {
    fn default() -> Self {
        Creds::new()
    }
}

/// How the fake answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response: status and XML body (`Content-Type: text/xml`).
    Xml(u16, String),
    /// A GetSessionToken success with these keys.
    SessionToken(Creds),
    /// An AssumeRole success with these keys; `AssumedRoleUser` is derived
    /// from the request's `RoleArn` and `RoleSessionName`.
    AssumeRole(Creds),
    /// An AssumeRole success with new keys on every call, expiring this
    /// long after the request (short role sessions, for refresh tests).
    FreshAssumeRole(Duration),
    /// `200 OK` whose body is these bytes (not XML, or not STS's XML).
    Garbage(Vec<u8>),
    /// These bytes on the wire instead of an HTTP response, then close.
    Raw(Vec<u8>),
    /// Close the connection without answering.
    Close,
    /// The inner reply's status and headers with its full `Content-Length`,
    /// then only the first half of its body, then close: a connection lost
    /// mid-body (unlike [`Reply::truncated`], a complete message of bad XML).
    CutOff(Box<Reply>),
    /// Keep the connection open and never answer (until the fixture drops).
    Hang,
    /// Wait, then answer with the inner reply.
    Delay(Duration, Box<Reply>),
    /// The inner reply with this `Date` header (a server whose clock differs).
    Dated(SystemTime, Box<Reply>),
    /// `200 OK` with a body of `bytes` bytes (the start of a GetSessionToken
    /// answer, then padding), sent as fast as the client reads, stopping
    /// when it hangs up; `declared`: with its `Content-Length`, else chunked.
    Huge { bytes: u64, declared: bool },
}

impl Reply {
    /// An AWS-shaped error: `Sender` for 4xx, `Receiver` for 5xx.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        let kind = if status >= 500 { "Receiver" } else { "Sender" };
        Reply::Xml(
            status,
            format!(
                "<ErrorResponse xmlns=\"{STS_XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                xml_escape(code),
                xml_escape(message),
                request_id()
            ),
        )
    }

    /// 403 AccessDenied for a wrong or already used MFA code.
    pub fn invalid_mfa_code() -> Reply {
        Reply::error(403, "AccessDenied", INVALID_MFA_CODE)
    }

    /// 403 AccessDenied for an MFA serial that is not the caller's.
    pub fn unknown_mfa_serial() -> Reply {
        Reply::error(403, "AccessDenied", UNKNOWN_MFA_SERIAL)
    }

    /// 403 AccessDenied with a policy-style message.
    pub fn access_denied(message: &str) -> Reply {
        Reply::error(403, "AccessDenied", message)
    }

    /// 400 Throttling "Rate exceeded" (the SDK retries it).
    pub fn throttling() -> Reply {
        Reply::error(400, "Throttling", "Rate exceeded")
    }

    /// 500 InternalFailure (the SDK retries it).
    pub fn internal_failure() -> Reply {
        Reply::error(
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }

    /// 400 ExpiredToken: the calling (session) keys have expired.
    pub fn expired_token() -> Reply {
        Reply::error(
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        )
    }

    /// 400 RequestExpired: the request was signed too far from AWS's clock.
    pub fn request_expired() -> Reply {
        Reply::error(400, "RequestExpired", "Request has expired.")
    }

    /// 403 InvalidClientTokenId: unknown or deactivated access key.
    pub fn invalid_client_token_id() -> Reply {
        Reply::error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    }

    /// A GetSessionToken success with fresh keys.
    pub fn session_token() -> Reply {
        Reply::SessionToken(Creds::new())
    }

    /// An AssumeRole success with fresh keys.
    pub fn assume_role() -> Reply {
        Reply::AssumeRole(Creds::new())
    }

    /// A GetCallerIdentity success.
    pub fn caller_identity(arn: &str, account: &str, user_id: &str) -> Reply {
        Reply::Xml(
            200,
            format!(
                "<GetCallerIdentityResponse xmlns=\"{STS_XMLNS}\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                xml_escape(arn),
                xml_escape(user_id),
                xml_escape(account),
                request_id()
            ),
        )
    }

    /// `200 OK` with the first half of `reply`'s XML body (a body cut short).
    pub fn truncated(reply: Reply) -> Reply {
        let (status, body) = reply.render(&BTreeMap::new());
        let body = String::from_utf8_lossy(&body[..body.len() / 2]).into_owned();
        Reply::Xml(status, body)
    }

    /// The status and body of a complete response (for the HTTP variants).
    pub fn render(&self, params: &BTreeMap<String, String>) -> (u16, Vec<u8>) {
        match self {
            Reply::Xml(status, body) => (*status, body.clone().into_bytes()),
            Reply::SessionToken(c) => (200, session_token_xml(c).into_bytes()),
            Reply::AssumeRole(c) => {
                let role_arn = params
                    .get("RoleArn")
                    .map(String::as_str)
                    .unwrap_or("arn:aws:iam::123456789012:role/fake");
                let session = params
                    .get("RoleSessionName")
                    .map(String::as_str)
                    .unwrap_or("fake-session");
                (200, assume_role_xml(c, role_arn, session).into_bytes())
            }
            Reply::FreshAssumeRole(lasting) => {
                Reply::AssumeRole(Creds::new().expiring_in(*lasting)).render(params)
            }
            Reply::Garbage(bytes) => (200, bytes.clone()),
            Reply::CutOff(inner) => inner.render(params),
            Reply::Dated(_, inner) => inner.render(params),
            Reply::Raw(_) | Reply::Close | Reply::Hang | Reply::Delay(..) | Reply::Huge { .. } => {
                (200, Vec::new())
            }
        }
    }
}

/// The body of a GetSessionToken success, shaped like AWS's.
pub fn session_token_xml(c: &Creds) -> String {
    format!(
        "<GetSessionTokenResponse xmlns=\"{STS_XMLNS}\"><GetSessionTokenResult>{}</GetSessionTokenResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetSessionTokenResponse>",
        c.xml(),
        request_id()
    )
}

/// The body of an AssumeRole success, shaped like AWS's.
pub fn assume_role_xml(c: &Creds, role_arn: &str, session_name: &str) -> String {
    // arn:aws:iam::ACCOUNT:role/path/NAME → arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
    let account = role_arn.split(':').nth(4).unwrap_or("123456789012");
    let role_name = role_arn.rsplit('/').next().unwrap_or("fake");
    let assumed = format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}");
    format!(
        "<AssumeRoleResponse xmlns=\"{STS_XMLNS}\"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROAFAKE{:012}:{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser>{}<PackedPolicySize>6</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></AssumeRoleResponse>",
        next_serial(),
        xml_escape(session_name),
        xml_escape(&assumed),
        c.xml(),
        request_id()
    )
}

fn request_id() -> String {
    let n = next_serial();
    format!("fa4e0000-0000-4000-8000-{n:012}")
}

/// Escapes `& < > " '` for XML text and attributes.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `SystemTime` → `2026-11-21T13:00:00Z` (UTC, whole seconds).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .expect("time before 1970")
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/// A fake STS endpoint. Dropping it closes every connection (hangs included)
/// and joins its threads.
pub struct FakeSts {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled on shutdown (wakes hangs and delays).
    wake: Condvar,
}

#[derive(Default)]
struct State {
    scripts: HashMap<String, VecDeque<Reply>>,
    requests: Vec<Recorded>,
    streams: Vec<TcpStream>,
    workers: Vec<JoinHandle<()>>,
    connections: usize,
    shutdown: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take the fixture down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FakeSts {
    /// Listens on 127.0.0.1 with a port the OS picks.
    pub fn start() -> FakeSts {
        let listener = TcpListener::bind("127.0.0.1:0").expect("fake STS: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake STS: local_addr");
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("fake-sts-accept".into())
                .spawn(move || accept_loop(listener, shared))
                .expect("fake STS: spawn")
        };
        FakeSts {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Scripts the replies to `action`: one per call, the last one repeating.
    /// Replaces an earlier script for the same action.
    pub fn on(&self, action: &str, replies: Vec<Reply>) -> &FakeSts {
        assert!(!replies.is_empty(), "FakeSts::on({action}): no replies");
        self.shared
            .lock()
            .scripts
            .insert(action.to_string(), replies.into());
        self
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// How many requests with this Action were received.
    pub fn count(&self, action: &str) -> usize {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.action == action)
            .count()
    }

    /// How many TCP connections were accepted.
    pub fn connections(&self) -> usize {
        self.shared.lock().connections
    }

    /// Waits until `n` requests have arrived (for a client running in the
    /// background); panics after `timeout`.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        loop {
            let requests = self.requests();
            if requests.len() >= n {
                return requests;
            }
            assert!(
                Instant::now() < deadline,
                "fake STS: {n} requests expected within {timeout:?}, got {}: {requests:#?}",
                requests.len()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for FakeSts {
    fn drop(&mut self) {
        let (streams, workers) = {
            let mut st = self.shared.lock();
            st.shutdown = true;
            (
                std::mem::take(&mut st.streams),
                std::mem::take(&mut st.workers),
            )
        };
        self.shared.wake.notify_all();
        for s in &streams {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Wake the blocking accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        let late = std::mem::take(&mut self.shared.lock().workers);
        for w in workers.into_iter().chain(late) {
            let _ = w.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        let mut st = shared.lock();
        if st.shutdown {
            return;
        }
        let Ok(stream) = stream else { continue };
        let id = st.connections;
        st.connections += 1;
        if let Ok(clone) = stream.try_clone() {
            st.streams.push(clone);
        }
        let worker = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("fake-sts-conn-{id}"))
                .spawn(move || serve_connection(stream, id, shared))
                .expect("fake STS: spawn connection thread")
        };
        st.workers.push(worker);
    }
}

/// One HTTP/1.1 request as the test servers read it.
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Reads the next request on a keep-alive connection (answering `Expect:
/// 100-continue` and a malformed request line); `None`: the connection is
/// over.
pub fn read_request(reader: &mut impl BufRead, writer: &mut impl Write) -> Option<Request> {
    let line = loop {
        match read_line(reader) {
            Ok(Some(line)) if line.is_empty() => continue, // a stray CRLF between requests
            Ok(Some(line)) => break line,
            _ => return None,
        }
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        let _ = writer.write_all(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return None;
    };
    let headers = read_headers(reader).ok()?;
    if headers
        .get("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    let body = read_body(reader, &headers, false).ok()?;
    Some(Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        body,
    })
}

fn serve_connection(stream: TcpStream, id: usize, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    // One request after another on the same connection (keep-alive).
    while let Some(request) = read_request(&mut reader, &mut writer) {
        let close_requested = request
            .headers
            .get("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
            || request.version == "HTTP/1.0";
        let record = Recorded::new(
            &request.method,
            &request.target,
            request.headers,
            &request.body,
            Some(id),
        );
        let reply = {
            let mut st = shared.lock();
            let reply = next_reply(&mut st.scripts, &record.action);
            st.requests.push(record.clone());
            reply
        };
        match respond(&mut writer, &shared, reply, &record.params) {
            Ok(true) if !close_requested => continue,
            _ => {
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

fn next_reply(scripts: &mut HashMap<String, VecDeque<Reply>>, action: &str) -> Reply {
    if let Some(queue) = scripts.get_mut(action) {
        if queue.len() > 1 {
            return queue.pop_front().expect("non-empty");
        }
        if let Some(last) = queue.front() {
            return last.clone();
        }
    }
    match action {
        "GetSessionToken" => Reply::session_token(),
        "AssumeRole" => Reply::assume_role(),
        "GetCallerIdentity" => Reply::caller_identity(
            "arn:aws:iam::123456789012:user/fake",
            "123456789012",
            "AIDAFAKEFAKEFAKEFAKE",
        ),
        other => Reply::error(
            400,
            "InvalidAction",
            &format!("Could not find operation {other} for version 2011-06-15"),
        ),
    }
}

/// Writes the reply; `Ok(true)` when the connection may carry another request.
fn respond(
    w: &mut TcpStream,
    shared: &Shared,
    reply: Reply,
    params: &BTreeMap<String, String>,
) -> std::io::Result<bool> {
    respond_dated(w, shared, reply, params, SystemTime::now())
}

/// Streams a huge body; stops when the client hangs up or the fixture drops.
fn send_huge(
    w: &mut TcpStream,
    shared: &Shared,
    bytes: u64,
    declared: bool,
    date: SystemTime,
) -> std::io::Result<bool> {
    let framing = if declared {
        format!("Content-Length: {bytes}")
    } else {
        "Transfer-Encoding: chunked".to_string()
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nx-amzn-RequestId: {}\r\nContent-Type: text/xml\r\n{framing}\r\nDate: {}\r\n\r\n",
        request_id(),
        http_date(date),
    );
    w.write_all(head.as_bytes())?;
    let start = format!(
        "<GetSessionTokenResponse xmlns=\"{STS_XMLNS}\"><GetSessionTokenResult><Credentials><AccessKeyId>"
    );
    let pad = vec![b'A'; 64 * 1024];
    let mut sent = 0u64;
    let mut first = true;
    while sent < bytes {
        if shared.lock().shutdown {
            return Ok(false);
        }
        let chunk: &[u8] = if first { start.as_bytes() } else { &pad };
        first = false;
        let n = chunk.len().min((bytes - sent) as usize);
        if !declared {
            w.write_all(format!("{n:x}\r\n").as_bytes())?;
        }
        w.write_all(&chunk[..n])?;
        if !declared {
            w.write_all(b"\r\n")?;
        }
        sent += n as u64;
    }
    if !declared {
        w.write_all(b"0\r\n\r\n")?;
    }
    w.flush()?;
    Ok(true)
}

fn respond_dated(
    w: &mut TcpStream,
    shared: &Shared,
    reply: Reply,
    params: &BTreeMap<String, String>,
    date: SystemTime,
) -> std::io::Result<bool> {
    match reply {
        Reply::Dated(date, inner) => respond_dated(w, shared, *inner, params, date),
        Reply::Huge { bytes, declared } => send_huge(w, shared, bytes, declared, date),
        Reply::Hang => {
            let mut st = shared.lock();
            while !st.shutdown {
                st = shared.wake.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            Ok(false)
        }
        Reply::Delay(wait, inner) => {
            let deadline = Instant::now() + wait;
            let mut st = shared.lock();
            while !st.shutdown {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                st = shared
                    .wake
                    .wait_timeout(st, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            if st.shutdown {
                return Ok(false);
            }
            drop(st);
            respond_dated(w, shared, *inner, params, date)
        }
        Reply::Close => Ok(false),
        Reply::Raw(bytes) => {
            w.write_all(&bytes)?;
            w.flush()?;
            Ok(false)
        }
        other => {
            let cut_off = matches!(other, Reply::CutOff(_));
            let (status, body) = other.render(params);
            let head = format!(
                "HTTP/1.1 {status} {}\r\nx-amzn-RequestId: {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nDate: {}\r\n\r\n",
                reason(status),
                request_id(),
                body.len(),
                http_date(date),
            );
            let mut msg = head.into_bytes();
            let sent = if cut_off { body.len() / 2 } else { body.len() };
            msg.extend_from_slice(&body[..sent]);
            w.write_all(&msg)?;
            w.flush()?;
            Ok(!cut_off)
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// `Sat, 21 Nov 2026 13:00:00 GMT`
fn http_date(t: SystemTime) -> String {
    let s = rfc3339(t); // YYYY-MM-DDTHH:MM:SSZ
    let days = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][s[5..7].parse::<usize>().unwrap_or(1) - 1];
    format!(
        "{weekday}, {} {month} {} {} GMT",
        &s[8..10],
        &s[0..4],
        &s[11..19]
    )
}

/// A 127.0.0.1 port where nothing listens (bound, then released), for
/// connection-refused tests. Another process could take it in between; in
/// practice the kernel does not hand a just-released port out again soon.
pub fn unused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// `http://127.0.0.1:PORT` where nothing listens: every connection is refused.
pub fn refused_endpoint() -> String {
    format!("http://127.0.0.1:{}", unused_port())
}
