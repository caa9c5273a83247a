//! A signature-checking STS: a thin HTTP proxy on 127.0.0.1 in front of moto
//! (which checks no signature and no session token), so that a wrong secret
//! or token anywhere — mfaenv's own STS calls, or an SDK reading what mfaenv
//! handed it — fails a test the way AWS would fail it.
//!
//! Every request must carry a SigV4 `Authorization` header whose signature
//! is right for the secret of its access key id; keys are the long-term ones
//! the test registers plus every key pair an answer handed out (recorded from
//! moto's XML). A temporary key must come with its own session token in
//! `X-Amz-Security-Token`. Otherwise the answer is AWS's own 403:
//! `InvalidClientTokenId` (key or token unknown) or `SignatureDoesNotMatch`.
//! Verified requests go to moto as they came; its answer comes back.
//!
//! moto hands GetSessionToken and GetFederationToken callers the same
//! access key id with different tokens: a key id may have several keys,
//! told apart by the token. Every key pair an answer hands out is also
//! recorded with the Action that made it and whether long-term keys signed
//! that call ([`Issued`]): the fake federation endpoint
//! (tests/support/fake_federation.rs) signs in only what AWS would.
//!
//! Signing follows the SigV4 specification: canonical request (method, URI,
//! sorted query, the signed headers lowercased with values trimmed and inner
//! spaces folded, the signed-header list, the body's SHA-256), string to sign
//! with the credential scope, and the HMAC-SHA256 key chain
//! (`AWS4` + secret → date → region → service → `aws4_request`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::fake_sts::{http_request, percent_encode, read_request, xml_escape};

/// A known key: its secret, and for a temporary key its session token.
#[derive(Clone, Debug)]
struct Key {
    secret: String,
    token: Option<String>,
    /// A long-term key IAM just made is refused until then (IAM is
    /// eventually consistent: see [`SigningSts::delay_new_keys`]).
    usable_from: Option<std::time::Instant>,
}

/// A scripted failure: the next `left` requests of `action` get `reply`
/// instead of going to moto, or (`after`) after moto handled them: an
/// answer lost on the way back.
struct Fault {
    action: String,
    left: usize,
    reply: super::fake_sts::Reply,
    after: bool,
}

/// A key pair an STS answer handed out, and how it was made.
#[derive(Clone, Debug)]
pub struct Issued {
    /// `GetSessionToken`, `AssumeRole`, `GetFederationToken`, …
    pub action: String,
    pub access_key_id: String,
    pub secret: String,
    pub token: Option<String>,
    /// Whether long-term keys (no session token) signed the call.
    pub by_long_term_keys: bool,
    /// The call's decoded parameters (`RoleArn`, `Name`, `DurationSeconds`, …).
    pub params: BTreeMap<String, String>,
}

/// A live view of what a [`SigningSts`] handed out, for other fixtures.
#[derive(Clone)]
pub struct IssuedLog(Arc<Mutex<State>>);

impl IssuedLog {
    /// The record of exactly this key pair and token, if STS issued it.
    pub fn find(&self, access_key_id: &str, secret: &str, token: &str) -> Option<Issued> {
        let state = self.0.lock().unwrap();
        state
            .issued
            .iter()
            .rev()
            .find(|i| {
                i.access_key_id == access_key_id
                    && i.secret == secret
                    && i.token.as_deref().unwrap_or("") == token
            })
            .cloned()
    }

    /// Every key pair handed out, in order.
    pub fn all(&self) -> Vec<Issued> {
        self.0.lock().unwrap().issued.clone()
    }
}

#[derive(Default)]
struct State {
    /// Every key of an access key id (moto reuses ids: see above).
    keys: HashMap<String, Vec<Key>>,
    issued: Vec<Issued>,
    /// (access key id, AWS error code) of every refused request.
    refused: Vec<(String, String)>,
    /// How many requests were verified and forwarded.
    verified: usize,
    /// The access key id that signed each verified request, in order.
    verified_by: Vec<String>,
    /// The Action of every correctly signed request, faulted ones too.
    signed_actions: Vec<String>,
    /// How long a new long-term key (from an answer without a session
    /// token, i.e. CreateAccessKey) is refused as unknown.
    new_key_delay: Duration,
    faults: Vec<Fault>,
}

pub struct SigningSts {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SigningSts {
    /// Starts the proxy in front of `upstream` (moto's `http://127.0.0.1:PORT`)
    /// knowing the long-term `keys` (access key id, secret).
    pub fn start(upstream: &str, keys: &[(&str, &str)]) -> SigningSts {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("upstream is http://127.0.0.1:PORT");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the signing STS");
        let addr = listener.local_addr().expect("local addr");
        let mut state = State::default();
        for (id, secret) in keys {
            state.keys.insert(
                id.to_string(),
                vec![Key {
                    secret: secret.to_string(),
                    token: None,
                    usable_from: None,
                }],
            );
        }
        let state = Arc::new(Mutex::new(state));
        let shared = Arc::clone(&state);
        std::thread::Builder::new()
            .name("signing-sts".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let shared = Arc::clone(&shared);
                    std::thread::spawn(move || serve(stream, upstream, &shared));
                }
            })
            .expect("spawn the signing STS");
        SigningSts { addr, state }
    }

    /// Accepts the long-term key `access_key_id` with `secret` from now on.
    pub fn trust(&self, access_key_id: &str, secret: &str) {
        self.state.lock().unwrap().keys.insert(
            access_key_id.to_string(),
            vec![Key {
                secret: secret.to_string(),
                token: None,
                usable_from: None,
            }],
        );
    }

    /// What STS handed out through this proxy, live.
    pub fn issued_log(&self) -> IssuedLog {
        IssuedLog(Arc::clone(&self.state))
    }

    /// Accepts the temporary key `access_key_id` with `secret` and its
    /// session `token` (issued elsewhere: an `aws login` session's, say).
    pub fn trust_session(&self, access_key_id: &str, secret: &str, token: &str) {
        let mut state = self.state.lock().unwrap();
        let key = Key {
            secret: secret.to_string(),
            token: Some(token.to_string()),
            usable_from: None,
        };
        // What the federation endpoint may sign in, as a session of its own.
        state.issued.push(Issued {
            action: "aws login".to_string(),
            access_key_id: access_key_id.to_string(),
            secret: key.secret.clone(),
            token: key.token.clone(),
            by_long_term_keys: false,
            params: BTreeMap::new(),
        });
        let same = state.keys.entry(access_key_id.to_string()).or_default();
        same.retain(|k| k.token != key.token);
        same.push(key);
    }

    /// Refuses `access_key_id` from now on, as AWS refuses a deleted key.
    pub fn untrust(&self, access_key_id: &str) {
        self.state.lock().unwrap().keys.remove(access_key_id);
    }

    /// Long-term keys handed out from now on (CreateAccessKey) are refused
    /// with `InvalidClientTokenId` for their first `delay`, as IAM's new
    /// keys are for a few seconds.
    pub fn delay_new_keys(&self, delay: Duration) {
        self.state.lock().unwrap().new_key_delay = delay;
    }

    /// The next `times` requests of `action` (signed correctly) get `reply`
    /// instead of moto's answer: throttling, LimitExceeded, AccessDenied.
    pub fn fail(&self, action: &str, times: usize, reply: super::fake_sts::Reply) {
        self.state.lock().unwrap().faults.push(Fault {
            action: action.to_string(),
            left: times,
            reply,
            after: false,
        });
    }

    /// The next `times` requests of `action` go to moto, which acts on
    /// them, and the client gets `reply` instead of moto's answer.
    pub fn lose_answer(&self, action: &str, times: usize, reply: super::fake_sts::Reply) {
        self.state.lock().unwrap().faults.push(Fault {
            action: action.to_string(),
            left: times,
            reply,
            after: true,
        });
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// (access key id, error code) of each refused request, in order.
    pub fn refused(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().refused.clone()
    }

    /// How many requests passed the check.
    pub fn verified(&self) -> usize {
        self.state.lock().unwrap().verified
    }

    /// How many correctly signed requests of `action` came, those given a
    /// scripted failure ([`SigningSts::fail`]) included: a client's attempts.
    pub fn attempts(&self, action: &str) -> usize {
        let state = self.state.lock().unwrap();
        state.signed_actions.iter().filter(|a| *a == action).count()
    }

    /// The access key id that signed each request that passed, in order.
    pub fn verified_by(&self) -> Vec<String> {
        self.state.lock().unwrap().verified_by.clone()
    }
}

fn serve(stream: TcpStream, upstream: SocketAddr, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader, &mut writer) {
        let (status, answer) = handle(
            &request.method,
            &request.target,
            &request.headers,
            &request.body,
            upstream,
            state,
        );
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
            if status == 200 { "OK" } else { "Error" },
            answer.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&answer).is_err() {
            return;
        }
    }
}

fn handle(
    method: &str,
    target: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    upstream: SocketAddr,
    state: &Mutex<State>,
) -> (u16, Vec<u8>) {
    use super::fake_sts::Recorded;
    let keys = state.lock().unwrap().keys.clone();
    if let Err((id, code, message)) = verify(method, target, headers, body, &keys) {
        state.lock().unwrap().refused.push((id, code.to_string()));
        return (403, error_xml(code, &message).into_bytes());
    }
    let action = super::fake_sts::Recorded::new(method, target, headers.clone(), body, None).action;
    state.lock().unwrap().signed_actions.push(action.clone());
    let take = |after: bool| {
        let mut st = state.lock().unwrap();
        let fault = st
            .faults
            .iter_mut()
            .find(|f| f.action == action && f.left > 0 && f.after == after)?;
        fault.left -= 1;
        Some(fault.reply.clone())
    };
    if let Some(reply) = take(false) {
        return reply.render(&BTreeMap::new());
    }
    let forwarded: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "host" | "connection" | "content-length"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, answer) = match http_request(
        upstream,
        method,
        target,
        &forwarded,
        body,
        Duration::from_secs(30),
    ) {
        Ok(reply) => reply,
        Err(e) => {
            return (
                502,
                error_xml("ServiceUnavailable", &e.to_string()).into_bytes(),
            )
        }
    };
    if let Some(reply) = take(true) {
        return reply.render(&BTreeMap::new());
    }
    let mut st = state.lock().unwrap();
    st.verified += 1;
    let signer = headers
        .get("authorization")
        .and_then(|v| super::fake_sts::access_key_from_authorization(v))
        .unwrap_or_default();
    st.verified_by.push(signer);
    if let Some((id, mut key)) = issued(&String::from_utf8_lossy(&answer)) {
        let record = Recorded::new(method, target, headers.clone(), body, None);
        st.issued.push(Issued {
            action: record.action.clone(),
            access_key_id: id.clone(),
            secret: key.secret.clone(),
            token: key.token.clone(),
            by_long_term_keys: !headers.contains_key("x-amz-security-token"),
            params: record.params,
        });
        if key.token.is_none() && !st.new_key_delay.is_zero() {
            key.usable_from = Some(std::time::Instant::now() + st.new_key_delay);
        }
        let same = st.keys.entry(id).or_default();
        same.retain(|k| k.token != key.token);
        same.push(key);
    }
    (status, answer)
}

/// The key pair and token an STS answer hands out, if any.
fn issued(xml: &str) -> Option<(String, Key)> {
    let id = element(xml, "AccessKeyId")?;
    let secret = element(xml, "SecretAccessKey")?;
    let token = element(xml, "SessionToken");
    Some((
        id,
        Key {
            secret,
            token,
            usable_from: None,
        },
    ))
}

fn element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(unescape(&xml[start..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

type Refusal = (String, &'static str, String);

/// Checks the request's SigV4 signature and session token against `keys`.
fn verify(
    method: &str,
    target: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    keys: &HashMap<String, Vec<Key>>,
) -> Result<(), Refusal> {
    let refuse = |id: &str, code, message: &str| Err((id.to_string(), code, message.to_string()));
    let Some(auth) = headers.get("authorization") else {
        return refuse(
            "",
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        );
    };
    let Some(parsed) = Authorization::parse(auth) else {
        return refuse("", "IncompleteSignature", "malformed Authorization header");
    };
    let token = headers.get("x-amz-security-token").map(String::as_str);
    let key = keys
        .get(&parsed.access_key_id)
        .and_then(|same| same.iter().find(|k| k.token.as_deref() == token));
    let Some(key) = key else {
        return refuse(
            &parsed.access_key_id,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        );
    };
    if key
        .usable_from
        .is_some_and(|t| std::time::Instant::now() < t)
    {
        return refuse(
            &parsed.access_key_id,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        );
    }
    let Some(date) = headers.get("x-amz-date") else {
        return refuse(
            &parsed.access_key_id,
            "IncompleteSignature",
            "no X-Amz-Date",
        );
    };
    if !date.starts_with(&parsed.date) {
        return refuse(
            &parsed.access_key_id,
            "SignatureDoesNotMatch",
            "X-Amz-Date is not the date of the credential scope",
        );
    }
    let canonical = canonical_request(method, target, headers, &parsed.signed_headers, body);
    let scope = format!(
        "{}/{}/{}/aws4_request",
        parsed.date, parsed.region, parsed.service
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let signing_key = [
        parsed.date.as_str(),
        &parsed.region,
        &parsed.service,
        "aws4_request",
    ]
    .iter()
    .fold(format!("AWS4{}", key.secret).into_bytes(), |k, part| {
        hmac(&k, part.as_bytes())
    });
    if hex(&hmac(&signing_key, to_sign.as_bytes())) != parsed.signature {
        return refuse(
            &parsed.access_key_id,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        );
    }
    Ok(())
}

/// `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex`
struct Authorization {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
}

impl Authorization {
    fn parse(value: &str) -> Option<Authorization> {
        let rest = value.strip_prefix("AWS4-HMAC-SHA256")?;
        let mut fields = BTreeMap::new();
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=')?;
            fields.insert(k.trim(), v.trim());
        }
        let scope: Vec<&str> = fields.get("Credential")?.split('/').collect();
        let [id, date, region, service, "aws4_request"] = scope.as_slice() else {
            return None;
        };
        Some(Authorization {
            access_key_id: id.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            signed_headers: fields
                .get("SignedHeaders")?
                .split(';')
                .map(str::to_string)
                .collect(),
            signature: fields.get("Signature")?.to_string(),
        })
    }
}

fn canonical_request(
    method: &str,
    target: &str,
    headers: &BTreeMap<String, String>,
    signed: &[String],
    body: &[u8],
) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_encode(&super::fake_sts::percent_decode(k)),
                percent_encode(&super::fake_sts::percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let header_lines: String = signed
        .iter()
        .map(|name| {
            let value = headers.get(name).map(String::as_str).unwrap_or("");
            let folded = value.split_whitespace().collect::<Vec<_>>().join(" ");
            format!("{name}:{folded}\n")
        })
        .collect();
    let payload = headers
        .get("x-amz-content-sha256")
        .cloned()
        .unwrap_or_else(|| hex(&Sha256::digest(body)));
    format!(
        "{method}\n{path}\n{query}\n{header_lines}\n{}\n{payload}",
        signed.join(";")
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn error_xml(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>",
        xml_escape(message)
    )
}

/// moto, this proxy in front of it knowing `base`'s long-term keys, and a
/// sandbox pointed at the proxy: every request signed with a wrong secret or
/// carrying a token moto never issued is refused as AWS would.
pub fn signed_sandbox() -> Option<(super::moto::Moto, SigningSts, super::sandbox::Sandbox)> {
    use super::sandbox::{BASE_KEY, BASE_SECRET};
    let moto = super::moto::Moto::start()?;
    let sts = SigningSts::start(&moto.raw_endpoint(), &[(BASE_KEY, BASE_SECRET)]);
    let sb = super::sandbox::Sandbox::new(&sts.endpoint());
    Some((moto, sts, sb))
}
