//! A fake AWS Sign-In token endpoint on 127.0.0.1: `POST /v1/token`
//! (`CreateOAuth2Token`, `grantType = refresh_token`), as the AWS CLI,
//! botocore and mfaenv call it to refresh an `aws login` session.
//!
//! It checks what the real service checks, and refuses anything else with
//! Sign-In's error shapes:
//! - the body is the `tokenInput` object (`clientId`, `grantType`,
//!   `refreshToken`) as JSON, and the refresh token is the session's current one
//!   (each refresh issues a new one; the old one is then refused);
//! - the `DPoP` header is a JWT (RFC 9449): header `typ = dpop+jwt`,
//!   `alg = ES256`, a `jwk` equal to the session's public key; payload
//!   `htm = POST`, `htu` = this endpoint's `/v1/token` URL, `iat` within a
//!   minute of now, a `jti` never seen before; an ES256 signature (r || s)
//!   over `header.payload` that verifies with that key.
//!
//! The answer is the `tokenOutput` object: `accessToken {accessKeyId,
//! secretAccessKey, sessionToken}`, `tokenType`, `expiresIn`, `refreshToken`.
//! Scripted failures ([`Fail`]) answer in Sign-In's shapes
//! (`AccessDeniedException` with its `error` member, a 5xx) or hang.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

use super::fake_sts::{read_body, read_headers, read_line};

/// A failure to answer the next refresh with (then the normal answer again
/// unless more are scripted).
#[derive(Debug, Clone)]
pub enum Fail {
    /// `AccessDeniedException` with this `error` (`TOKEN_EXPIRED`, …):
    /// HTTP 401 for the expiry kinds, 403 otherwise, as Sign-In maps them.
    AccessDenied(&'static str),
    /// `InternalServerException`, HTTP 500 (and for 503 too).
    ServerError(u16),
    /// Reads the request and never answers.
    Hang,
}

/// What one request got.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `None` when the request was accepted; else why it was refused.
    pub refused: Option<String>,
    /// The `htu` of its proof (when it had one).
    pub htu: Option<String>,
}

/// A session the fake knows: its client, current refresh token and key.
struct Session {
    client_id: String,
    refresh_token: String,
    x: String,
    y: String,
}

#[derive(Default)]
struct State {
    sessions: Vec<Session>,
    jtis: HashSet<String>,
    fails: Vec<Fail>,
    seen: Vec<Seen>,
    issued: Vec<(String, String)>,
    streams: Vec<TcpStream>,
    workers: Vec<JoinHandle<()>>,
    serial: u64,
    expires_in: u64,
    shutdown: bool,
}

pub struct FakeSignin {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    acceptor: Option<JoinHandle<()>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeSignin {
    pub fn start() -> FakeSignin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("fake Sign-In: bind");
        let addr = listener.local_addr().expect("fake Sign-In: addr");
        let state = Arc::new(Mutex::new(State {
            expires_in: 900,
            ..State::default()
        }));
        let acceptor = {
            let state = Arc::clone(&state);
            std::thread::spawn(move || accept_loop(listener, addr, state))
        };
        FakeSignin {
            addr,
            state,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT` (what `AWS_ENDPOINT_URL_SIGNIN` names).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Knows a session: its refresh token and public key (a JWK's `x`, `y`).
    /// A session with the same refresh token is replaced (a new `aws login`).
    pub fn add_session(&self, client_id: &str, refresh_token: &str, x: &str, y: &str) {
        let mut st = lock(&self.state);
        st.sessions.retain(|s| s.refresh_token != refresh_token);
        st.sessions.push(Session {
            client_id: client_id.into(),
            refresh_token: refresh_token.into(),
            x: x.into(),
            y: y.into(),
        });
    }

    /// Answers the next refreshes with these failures, in order.
    pub fn fail_next(&self, fails: Vec<Fail>) {
        lock(&self.state).fails.extend(fails);
    }

    /// The `expiresIn` of later answers.
    pub fn expires_in(&self, seconds: u64) {
        lock(&self.state).expires_in = seconds;
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.state).seen.clone()
    }

    /// How many refreshes were answered with new credentials.
    pub fn refreshes(&self) -> usize {
        lock(&self.state).issued.len()
    }

    /// The credentials issued so far: (access key id, secret).
    pub fn issued(&self) -> Vec<(String, String)> {
        lock(&self.state).issued.clone()
    }
}

impl Drop for FakeSignin {
    fn drop(&mut self) {
        let (streams, workers) = {
            let mut st = lock(&self.state);
            st.shutdown = true;
            (
                std::mem::take(&mut st.streams),
                std::mem::take(&mut st.workers),
            )
        };
        for s in &streams {
            let _ = s.shutdown(Shutdown::Both);
        }
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for w in workers {
            let _ = w.join();
        }
    }
}

fn accept_loop(listener: TcpListener, addr: SocketAddr, state: Arc<Mutex<State>>) {
    for stream in listener.incoming() {
        let mut st = lock(&state);
        if st.shutdown {
            return;
        }
        let Ok(stream) = stream else { continue };
        if let Ok(clone) = stream.try_clone() {
            st.streams.push(clone);
        }
        let state2 = Arc::clone(&state);
        st.workers
            .push(std::thread::spawn(move || serve(stream, addr, state2)));
    }
}

/// Serves the requests of one connection (keep-alive).
fn serve(stream: TcpStream, addr: SocketAddr, state: Arc<Mutex<State>>) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        let Ok(Some(line)) = read_line(&mut reader) else {
            return;
        };
        let Ok(headers) = read_headers(&mut reader) else {
            return;
        };
        let Ok(body) = read_body(&mut reader, &headers, false) else {
            return;
        };
        let (status, answer) = match handle(&line, &headers, &body, addr, &state) {
            Some(answer) => answer,
            None => {
                // Hang: hold the connection until the fake is dropped.
                while !lock(&state).shutdown {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
        };
        let (code_header, text) = match &answer {
            Ok(doc) => (None, doc.to_string()),
            Err((kind, doc)) => (Some(*kind), doc.to_string()),
        };
        let mut head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-amzn-requestid: fake-signin\r\n",
            text.len()
        );
        if let Some(kind) = code_header {
            head.push_str(&format!("x-amzn-errortype: {kind}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(text.as_bytes()).is_err()
        {
            return;
        }
    }
}

type Answer = Result<serde_json::Value, (&'static str, serde_json::Value)>;

/// One request: `None` to hang, else the status and the answer.
fn handle(
    line: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    addr: SocketAddr,
    state: &Mutex<State>,
) -> Option<(u16, Answer)> {
    let url = format!("http://{addr}/v1/token");
    let htu = headers
        .get("dpop")
        .and_then(|p| claims(p).ok())
        .and_then(|(_, payload)| payload["htu"].as_str().map(str::to_string));
    let mut st = lock(state);
    let verdict = check(line, headers, body, &url, &mut st);
    if let Err(reason) = &verdict {
        st.seen.push(Seen {
            refused: Some(reason.clone()),
            htu,
        });
        let error = serde_json::json!({"error": "INVALID_REQUEST", "message": reason});
        return Some((400, Err(("ValidationException", error))));
    }
    st.seen.push(Seen { refused: None, htu });
    if !st.fails.is_empty() {
        let fail = st.fails.remove(0);
        return match fail {
            Fail::Hang => None,
            Fail::AccessDenied(error) => {
                let status = if error == "TOKEN_EXPIRED" { 401 } else { 403 };
                let doc =
                    serde_json::json!({"error": error, "message": format!("denied: {error}")});
                Some((status, Err(("AccessDeniedException", doc))))
            }
            Fail::ServerError(status) => {
                let doc = serde_json::json!({"error": "server_error", "message": "try later"});
                Some((status, Err(("InternalServerException", doc))))
            }
        };
    }
    let index = verdict.ok()?;
    st.serial += 1;
    let serial = st.serial;
    let access_key_id = format!("ASIASIGNIN{serial:010}");
    let secret = format!("signin/refreshed/SECRET-{serial}");
    let refresh_token = format!("ASOR-refresh-{serial}");
    st.sessions[index].refresh_token = refresh_token.clone();
    st.issued.push((access_key_id.clone(), secret.clone()));
    let doc = serde_json::json!({
        "accessToken": {
            "accessKeyId": access_key_id,
            "secretAccessKey": secret,
            "sessionToken": format!("signin-session-token-{serial}"),
        },
        "tokenType": "aws_sigv4",
        "expiresIn": st.expires_in,
        "refreshToken": refresh_token,
    });
    Some((200, Ok(doc)))
}

/// Everything Sign-In would check; the index of the session on success.
fn check(
    line: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    url: &str,
    st: &mut State,
) -> Result<usize, String> {
    let mut parts = line.split_whitespace();
    if parts.next() != Some("POST") || parts.next() != Some("/v1/token") {
        return Err(format!("not POST /v1/token: {line}"));
    }
    if !headers
        .get("content-type")
        .is_some_and(|t| t.starts_with("application/json"))
    {
        return Err("content-type is not application/json".into());
    }
    let input: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_string())?;
    if input["grantType"] != "refresh_token" {
        return Err("grantType is not refresh_token".into());
    }
    let token = input["refreshToken"].as_str().unwrap_or_default();
    let index = st
        .sessions
        .iter()
        .position(|s| s.refresh_token == token)
        .ok_or("unknown or already used refresh token")?;
    let session = &st.sessions[index];
    if input["clientId"] != session.client_id.as_str() {
        return Err("clientId is not the session's".into());
    }
    let proof = headers.get("dpop").ok_or("no DPoP header")?;
    let (header, payload) = claims(proof)?;
    if header["typ"] != "dpop+jwt" || header["alg"] != "ES256" {
        return Err(format!("JWT header typ/alg: {header}"));
    }
    let jwk = &header["jwk"];
    // The same point, whatever its encoding: botocore (through awscrt)
    // drops a coordinate's leading zero bytes, 1 key in 128.
    let same = |name: &str, want: &str| jwk[name].as_str().and_then(coordinate) == coordinate(want);
    if jwk["kty"] != "EC"
        || jwk["crv"] != "P-256"
        || !same("x", &session.x)
        || !same("y", &session.y)
    {
        return Err("the proof's jwk is not the session's key".into());
    }
    if payload["htm"] != "POST" || payload["htu"] != url {
        return Err(format!(
            "htm/htu {} {} (want POST {url})",
            payload["htm"], payload["htu"]
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    let iat = payload["iat"].as_i64().ok_or("no iat")?;
    if (now - iat).abs() > 60 {
        return Err(format!("iat {iat} is not now ({now})"));
    }
    let jti = payload["jti"]
        .as_str()
        .filter(|j| !j.is_empty())
        .ok_or("no jti")?;
    if !st.jtis.insert(jti.to_string()) {
        return Err(format!("jti {jti} replayed"));
    }
    verify(proof, &session.x, &session.y)?;
    Ok(index)
}

/// The proof's header and payload, decoded.
fn claims(proof: &str) -> Result<(serde_json::Value, serde_json::Value), String> {
    let parts: Vec<&str> = proof.split('.').collect();
    if parts.len() != 3 {
        return Err("the proof is not a JWS of three parts".into());
    }
    let decode = |part: &str| -> Result<serde_json::Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "a proof part is not base64url".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "a proof part is not JSON".to_string())
    };
    Ok((decode(parts[0])?, decode(parts[1])?))
}

/// A base64url coordinate as 32 bytes (shorter ones left-padded).
fn coordinate(text: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    if bytes.len() > 32 {
        return None;
    }
    let mut full = vec![0u8; 32 - bytes.len()];
    full.extend(bytes);
    Some(full)
}

/// ES256 (r || s) over `header.payload` with the point (x, y).
fn verify(proof: &str, x: &str, y: &str) -> Result<(), String> {
    let (signed, signature) = proof.rsplit_once('.').ok_or("no signature")?;
    let mut point = vec![4u8];
    point.extend(coordinate(x).ok_or("bad x")?);
    point.extend(coordinate(y).ok_or("bad y")?);
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the signature is not base64url")?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "the ES256 signature does not verify".to_string())
}
