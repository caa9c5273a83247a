//! A fake IAM Identity Center on 127.0.0.1: the OIDC service
//! (RegisterClient, StartDeviceAuthorization, CreateToken for the device
//! code, the authorization code with PKCE — the `code_verifier` is checked
//! against the `code_challenge` — and the refresh token; `/authorize`,
//! which redirects to the client's loopback `redirect_uri` with `code` and
//! `state`; `/device`, where a browser approves a device code) and the
//! portal (GetRoleCredentials, ListAccounts, ListAccountRoles — one entry
//! a page, so paging is exercised).
//!
//! Every error mfaenv must handle is given on demand ([`FakeSso::fail`]),
//! with AWS's shape: the `x-amzn-ErrorType` header and a JSON body
//! (OAuth's `error`/`error_description` for OIDC, `message` for the portal).
//! Every request is recorded (operation, token used) before it is answered.
//!
//! A real HTTP/1.1 server on a real socket (one thread per connection,
//! keep-alive, as the AWS SDKs' hyper client sends).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::fake_sts::{
    parse_form, percent_decode, percent_encode, read_body, read_headers, read_line,
};

/// One request the fake answered.
#[derive(Clone, Debug)]
pub struct Call {
    /// `RegisterClient`, `StartDeviceAuthorization`, `CreateToken`,
    /// `Authorize`, `ApproveDevice`, `GetRoleCredentials`, `ListAccounts`,
    /// `ListAccountRoles`, or `Unknown`.
    pub op: String,
    /// CreateToken's `grantType`.
    pub grant: Option<String>,
    /// The portal's `x-amz-sso_bearer_token`.
    pub bearer: Option<String>,
    pub query: BTreeMap<String, String>,
}

/// How `/authorize` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authorize {
    /// Redirects with the code and the state it was given.
    Approve,
    /// Redirects with another state.
    WrongState,
    /// Redirects with `error=access_denied`.
    Deny,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    failures: HashMap<String, VecDeque<(u16, String, String)>>,
    clients: HashMap<String, (String, Vec<String>, u64)>,
    codes: HashMap<String, (String, String, String)>,
    devices: HashMap<String, (String, bool)>,
    tokens: HashMap<String, u64>,
    refresh: HashMap<String, String>,
    accounts: Vec<(String, String, Vec<String>)>,
    counter: u64,
    token_seconds: u64,
    role_seconds: u64,
    registration_seconds: u64,
    pending: u32,
    authorize: Option<Authorize>,
}

pub struct FakeSso {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl FakeSso {
    pub fn start() -> FakeSso {
        let listener = TcpListener::bind("127.0.0.1:0").expect("fake SSO: bind");
        let addr = listener.local_addr().expect("fake SSO: addr");
        let state = Arc::new(Mutex::new(State {
            token_seconds: 3600,
            role_seconds: 3600,
            registration_seconds: 90 * 86400,
            accounts: vec![
                (
                    "111122223333".into(),
                    "Dev Account".into(),
                    vec!["Dev".into(), "ReadOnly".into()],
                ),
                ("444455556666".into(), "prod".into(), vec!["Admin".into()]),
            ],
            authorize: Some(Authorize::Approve),
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, shared));
            }
        });
        FakeSso { addr, state }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The variables that point mfaenv, botocore and the CLI at this fake.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL_SSO_OIDC".into(), self.endpoint()),
            ("AWS_ENDPOINT_URL_SSO".into(), self.endpoint()),
        ]
    }

    /// The next call of `op` fails with `status`, AWS error `code` and
    /// `message` (queued: one failure per call, in order).
    pub fn fail(&self, op: &str, status: u16, code: &str, message: &str) -> &FakeSso {
        self.lock()
            .failures
            .entry(op.to_string())
            .or_default()
            .push_back((status, code.to_string(), message.to_string()));
        self
    }

    /// The device flow answers `authorization_pending` this many times
    /// after the device was approved.
    pub fn pending(&self, times: u32) -> &FakeSso {
        self.lock().pending = times;
        self
    }

    pub fn authorize(&self, how: Authorize) -> &FakeSso {
        self.lock().authorize = Some(how);
        self
    }

    /// How long access tokens last.
    pub fn token_seconds(&self, seconds: u64) -> &FakeSso {
        self.lock().token_seconds = seconds;
        self
    }

    /// How long the role credentials GetRoleCredentials hands out last.
    pub fn role_seconds(&self, seconds: u64) -> &FakeSso {
        self.lock().role_seconds = seconds;
        self
    }

    /// Replaces the accounts and their roles.
    pub fn accounts(&self, accounts: &[(&str, &str, &[&str])]) -> &FakeSso {
        self.lock().accounts = accounts
            .iter()
            .map(|(id, name, roles)| {
                (
                    id.to_string(),
                    name.to_string(),
                    roles.iter().map(|r| r.to_string()).collect(),
                )
            })
            .collect();
        self
    }

    /// Revokes every access token (the portal answers 401).
    pub fn revoke_all(&self) {
        self.lock().tokens.clear();
    }

    /// A token the fake accepts, with a refresh token and a client: what a
    /// login gave (for cache files the tests write).
    pub fn issue(&self, expires_in: i64) -> (String, String, String, String) {
        let mut s = self.lock();
        s.counter += 1;
        let n = s.counter;
        let client = format!("client-{n}");
        let secret = format!("secret-{n}");
        let access = format!("access-{n}");
        let refresh = format!("refresh-{n}");
        let exp = (now() as i64 + expires_in).max(0) as u64;
        s.clients
            .insert(client.clone(), (secret.clone(), vec![], now() + 86400));
        s.tokens.insert(access.clone(), exp);
        s.refresh.insert(refresh.clone(), client.clone());
        (access, refresh, client, secret)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub fn count(&self, op: &str) -> usize {
        self.lock().calls.iter().filter(|c| c.op == op).count()
    }
}

fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let Ok(Some(line)) = read_line(&mut reader) else {
            return;
        };
        if line.is_empty() {
            continue;
        }
        let Ok(headers) = read_headers(&mut reader) else {
            return;
        };
        let Ok(body) = read_body(&mut reader, &headers, false) else {
            return;
        };
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let (status, extra, body) = {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            handle(&mut s, &method, &target, &headers, &body)
        };
        let reason = if status < 400 { "OK" } else { "Error" };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

type Answer = (u16, Vec<(String, String)>, String);

fn error(status: u16, code: &str, message: &str) -> Answer {
    let oauth = match code {
        "AuthorizationPendingException" => Some("authorization_pending"),
        "SlowDownException" => Some("slow_down"),
        "ExpiredTokenException" => Some("expired_token"),
        "AccessDeniedException" => Some("access_denied"),
        "InvalidGrantException" => Some("invalid_grant"),
        "InvalidClientException" => Some("invalid_client"),
        _ => None,
    };
    let body = match oauth {
        Some(e) => json!({"error": e, "error_description": message}),
        None => json!({"message": message}),
    };
    (
        status,
        vec![(
            "x-amzn-ErrorType".into(),
            format!("{code}:http://internal.amazon.com/coral/"),
        )],
        body.to_string(),
    )
}

fn ok(value: Value) -> Answer {
    (200, vec![], value.to_string())
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn op_of(method: &str, path: &str) -> &'static str {
    match (method, path) {
        ("POST", "/client/register") => "RegisterClient",
        ("POST", "/device_authorization") => "StartDeviceAuthorization",
        ("POST", "/token") => "CreateToken",
        ("GET", "/authorize") => "Authorize",
        ("GET", "/device") => "ApproveDevice",
        ("GET", "/federation/credentials") => "GetRoleCredentials",
        ("GET", "/assignment/accounts") => "ListAccounts",
        ("GET", "/assignment/roles") => "ListAccountRoles",
        _ => "Unknown",
    }
}

fn handle(
    s: &mut State,
    method: &str,
    target: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = parse_form(query);
    let op = op_of(method, path);
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |k: &str| input[k].as_str().unwrap_or_default().to_string();
    s.calls.push(Call {
        op: op.to_string(),
        grant: input["grantType"].as_str().map(str::to_string),
        bearer: headers.get("x-amz-sso_bearer_token").cloned(),
        query: query.clone(),
    });
    if let Some((status, code, message)) = s.failures.get_mut(op).and_then(|q| q.pop_front()) {
        return error(status, &code, &message);
    }
    s.counter += 1;
    let n = s.counter;
    match op {
        "RegisterClient" => {
            let id = format!("client-{n}");
            let secret = format!("secret-{n}");
            let uris = input["redirectUris"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let exp = now() + s.registration_seconds;
            s.clients.insert(id.clone(), (secret.clone(), uris, exp));
            ok(
                json!({"clientId": id, "clientSecret": secret, "clientIdIssuedAt": now(), "clientSecretExpiresAt": exp}),
            )
        }
        "StartDeviceAuthorization" => {
            if !client_ok(s, &text("clientId"), &text("clientSecret")) {
                return error(400, "InvalidClientException", "unknown client");
            }
            let device = format!("device-{n}");
            let user = format!("CODE-{n}");
            s.devices.insert(device.clone(), (text("clientId"), false));
            ok(json!({
                "deviceCode": device,
                "userCode": user,
                "verificationUri": "https://device.sso.fake/",
                "verificationUriComplete": format!("{}/device?user_code={}&device_code={}", host(headers), user, device),
                "expiresIn": 600,
                "interval": 1,
            }))
        }
        "ApproveDevice" => {
            let device = query.get("device_code").cloned().unwrap_or_default();
            match s.devices.get_mut(&device) {
                Some(d) => {
                    d.1 = true;
                    ok(json!({"approved": true}))
                }
                None => error(404, "NotFound", "no such device"),
            }
        }
        "Authorize" => authorize(s, &query, n),
        "CreateToken" => create_token(s, &input, n),
        "GetRoleCredentials" => {
            if let Err(e) = bearer_ok(s, headers) {
                return e;
            }
            let account = query.get("account_id").cloned().unwrap_or_default();
            let role = query.get("role_name").cloned().unwrap_or_default();
            let assigned = s
                .accounts
                .iter()
                .any(|(id, _, roles)| *id == account && roles.contains(&role));
            if !assigned {
                return error(403, "ForbiddenException", "No access");
            }
            ok(json!({"roleCredentials": {
                "accessKeyId": format!("ASIASSO{n:013}"),
                "secretAccessKey": format!("sso-secret-{n}"),
                "sessionToken": format!("sso-session-token-{n}"),
                "expiration": (now() + s.role_seconds) * 1000,
            }}))
        }
        "ListAccounts" => {
            if let Err(e) = bearer_ok(s, headers) {
                return e;
            }
            let at: usize = query
                .get("next_token")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let page: Vec<Value> = s
                .accounts
                .iter()
                .skip(at)
                .take(1)
                .map(|(id, name, _)| json!({"accountId": id, "accountName": name, "emailAddress": "a@example.com"}))
                .collect();
            let next = (at + 1 < s.accounts.len()).then(|| (at + 1).to_string());
            ok(json!({"accountList": page, "nextToken": next}))
        }
        "ListAccountRoles" => {
            if let Err(e) = bearer_ok(s, headers) {
                return e;
            }
            let account = query.get("account_id").cloned().unwrap_or_default();
            let roles: Vec<String> = s
                .accounts
                .iter()
                .find(|(id, _, _)| *id == account)
                .map(|a| a.2.clone())
                .unwrap_or_default();
            let at: usize = query
                .get("next_token")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let page: Vec<Value> = roles
                .iter()
                .skip(at)
                .take(1)
                .map(|r| json!({"roleName": r, "accountId": account}))
                .collect();
            let next = (at + 1 < roles.len()).then(|| (at + 1).to_string());
            ok(json!({"roleList": page, "nextToken": next}))
        }
        _ => error(404, "UnknownOperationException", "no such path"),
    }
}

fn host(headers: &BTreeMap<String, String>) -> String {
    format!(
        "http://{}",
        headers.get("host").cloned().unwrap_or_default()
    )
}

fn client_ok(s: &State, id: &str, secret: &str) -> bool {
    s.clients
        .get(id)
        .is_some_and(|(sec, _, exp)| sec == secret && *exp > now())
}

fn bearer_ok(s: &State, headers: &BTreeMap<String, String>) -> Result<(), Answer> {
    let token = headers
        .get("x-amz-sso_bearer_token")
        .cloned()
        .unwrap_or_default();
    match s.tokens.get(&token) {
        Some(exp) if *exp > now() => Ok(()),
        _ => Err(error(
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        )),
    }
}

fn authorize(s: &mut State, query: &BTreeMap<String, String>, n: u64) -> Answer {
    let get = |k: &str| query.get(k).cloned().unwrap_or_default();
    let client = get("client_id");
    let redirect = get("redirect_uri");
    let registered = s
        .clients
        .get(&client)
        .is_some_and(|(_, uris, _)| uris.contains(&redirect));
    if !registered || get("code_challenge_method") != "S256" || get("response_type") != "code" {
        return error(400, "InvalidRequestException", "bad authorize request");
    }
    let code = format!("code-{n}");
    s.codes.insert(
        code.clone(),
        (client, get("code_challenge"), redirect.clone()),
    );
    let state = get("state");
    let location = match s.authorize.unwrap_or(Authorize::Approve) {
        Authorize::Approve => format!("{redirect}?code={code}&state={}", percent_encode(&state)),
        Authorize::WrongState => format!(
            "{redirect}?code={code}&state=forged{}",
            percent_encode(&state)
        ),
        Authorize::Deny => format!(
            "{redirect}?error=access_denied&state={}",
            percent_encode(&state)
        ),
    };
    (302, vec![("location".into(), location)], "{}".into())
}

fn create_token(s: &mut State, input: &Value, n: u64) -> Answer {
    let text = |k: &str| input[k].as_str().unwrap_or_default().to_string();
    let client = text("clientId");
    if !client_ok(s, &client, &text("clientSecret")) {
        return error(400, "InvalidClientException", "unknown or expired client");
    }
    match text("grantType").as_str() {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let approved = s.devices.get(&text("deviceCode")).map(|d| d.1);
            match approved {
                None => return error(400, "InvalidGrantException", "unknown device code"),
                Some(false) => {
                    return error(400, "AuthorizationPendingException", "not yet approved")
                }
                Some(true) if s.pending > 0 => {
                    s.pending -= 1;
                    return error(400, "AuthorizationPendingException", "not yet approved");
                }
                Some(true) => {
                    s.devices.remove(&text("deviceCode"));
                }
            }
        }
        "authorization_code" => {
            let Some((owner, challenge, redirect)) = s.codes.remove(&text("code")) else {
                return error(400, "InvalidGrantException", "unknown or used code");
            };
            let verifier = text("codeVerifier");
            let computed = b64url(&Sha256::digest(verifier.as_bytes()));
            if owner != client || computed != challenge || redirect != text("redirectUri") {
                return error(
                    400,
                    "InvalidGrantException",
                    "code_verifier or redirect_uri does not match",
                );
            }
        }
        "refresh_token" => match s.refresh.remove(&text("refreshToken")) {
            Some(owner) if owner == client => {}
            _ => return error(400, "InvalidGrantException", "unknown refresh token"),
        },
        _ => return error(400, "UnsupportedGrantTypeException", "grant type"),
    }
    let access = format!("access-{n}");
    let refresh = format!("refresh-{n}");
    s.tokens.insert(access.clone(), now() + s.token_seconds);
    s.refresh.insert(refresh.clone(), client);
    ok(json!({
        "accessToken": access,
        "tokenType": "Bearer",
        "expiresIn": s.token_seconds,
        "refreshToken": refresh,
    }))
}

/// Decoded query of a URL (for tests that look at what mfaenv opened).
pub fn query_of(url: &str) -> BTreeMap<String, String> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}
