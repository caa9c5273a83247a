//! A fake AWS federation endpoint and console on 127.0.0.1, for
//! `mfaenv console`: the wire shapes of IAM's "custom identity broker" flow.
//!
//! - `GET /federation?Action=getSigninToken&Session=JSON[&SessionDuration=N]`:
//!   the `Session` (`sessionId`/`sessionKey`/`sessionToken`) must be a key
//!   pair and token the suite's STS handed out (the signing proxy's
//!   [`IssuedLog`]); as AWS, it refuses GetSessionToken's sessions and a
//!   `SessionDuration` for anything but a role assumed with long-term keys
//!   (900–43200 s), with a `400` whose body is not JSON. Else
//!   `{"SigninToken": "…"}`, a fresh random token.
//! - `GET /federation?Action=login&Issuer=…&Destination=…&SigninToken=…`:
//!   a token used once, within 15 minutes, and a destination on this
//!   server: `302` to the destination with a persistent cookie naming this
//!   sign-in (`signin_<n>`); anything else `400`.
//! - any other path is the console: a page listing the principals of the
//!   sign-in cookies the browser sent (`<li class="session">`), and the
//!   path it landed on. Each landing is recorded ([`Landing`]).
//!
//! A test can make the endpoint misbehave ([`Misbehave`]).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::fake_sts::{parse_form, read_request};
use super::signing_sts::IssuedLog;

/// How long a sign-in token works (AWS: 15 minutes).
const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// One sign-in token and whom it signs in.
#[derive(Clone, Debug)]
pub struct SignIn {
    pub token: String,
    /// The role ARN, `federated-user/NAME`, or the Action that made the keys.
    pub principal: String,
    /// The STS Action that made the credentials.
    pub action: String,
    pub session_duration: Option<u32>,
    issued: Instant,
    used: bool,
}

/// One page of the console served: its path and the principals whose
/// sign-in cookies came with it.
#[derive(Clone, Debug)]
pub struct Landing {
    pub path: String,
    pub principals: Vec<String>,
    pub cookies: usize,
}

/// A misbehaving federation endpoint, for the error paths.
#[derive(Clone, Debug)]
pub enum Misbehave {
    /// `getSigninToken` answers this status and body.
    Answer(u16, String),
}

#[derive(Default)]
struct State {
    tokens: Vec<SignIn>,
    /// Sign-in cookie value → principal.
    cookies: HashMap<String, String>,
    landings: Vec<Landing>,
    /// `(Action, reason)` of every refused request.
    refused: Vec<(String, String)>,
    misbehave: Option<Misbehave>,
}

pub struct FakeFederation {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeFederation {
    /// Starts the fake, checking sessions against `issued`.
    pub fn start(issued: IssuedLog) -> FakeFederation {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake federation");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::Builder::new()
            .name("fake-federation".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let shared = Arc::clone(&shared);
                    let issued = issued.clone();
                    std::thread::spawn(move || serve(stream, addr, &shared, &issued));
                }
            })
            .expect("spawn the fake federation");
        FakeFederation { addr, state }
    }

    /// `http://127.0.0.1:PORT`: the Sign-In base URL and the console's.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every sign-in token handed out.
    pub fn sign_ins(&self) -> Vec<SignIn> {
        self.state.lock().unwrap().tokens.clone()
    }

    /// Every console page served.
    pub fn landings(&self) -> Vec<Landing> {
        self.state.lock().unwrap().landings.clone()
    }

    /// `(Action, reason)` of every refused request.
    pub fn refused(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().refused.clone()
    }

    pub fn misbehave(&self, how: Misbehave) {
        self.state.lock().unwrap().misbehave = Some(how);
    }

    /// Waits until `n` console pages were served.
    pub fn wait_for_landings(&self, n: usize, timeout: Duration) -> Vec<Landing> {
        let deadline = Instant::now() + timeout;
        loop {
            let landings = self.landings();
            if landings.len() >= n || Instant::now() > deadline {
                return landings;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// An answer: status, extra headers, body.
type Answer = (u16, Vec<(String, String)>, String);

fn serve(stream: TcpStream, addr: SocketAddr, state: &Mutex<State>, issued: &IssuedLog) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader, &mut writer) {
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((request.target.as_str(), ""));
        let params = parse_form(query);
        let (status, headers, body) = if request.method != "GET" {
            (405, Vec::new(), "GET only".to_string())
        } else if path == "/federation" {
            federation(&params, addr, state, issued)
        } else if path == "/favicon.ico" {
            (404, Vec::new(), String::new())
        } else {
            let cookie = request.headers.get("cookie").cloned().unwrap_or_default();
            console(&request.target, &cookie, state)
        };
        let mut head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\n",
            if status < 400 { "OK" } else { "Bad Request" },
            body.len()
        );
        for (name, value) in &headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

fn federation(
    params: &BTreeMap<String, String>,
    addr: SocketAddr,
    state: &Mutex<State>,
    issued: &IssuedLog,
) -> Answer {
    let action = params.get("Action").cloned().unwrap_or_default();
    let result = match action.as_str() {
        "getSigninToken" => signin_token(params, state, issued),
        "login" => login(params, addr, state),
        _ => Err("unknown Action".to_string()),
    };
    result.unwrap_or_else(|reason| {
        state.lock().unwrap().refused.push((action, reason));
        // AWS's refusals here are a bare 400 page, not JSON.
        (
            400,
            vec![("Content-Type".into(), "text/html".into())],
            "<html><body>Bad Request</body></html>".to_string(),
        )
    })
}

fn signin_token(
    params: &BTreeMap<String, String>,
    state: &Mutex<State>,
    issued: &IssuedLog,
) -> Result<Answer, String> {
    if let Some(Misbehave::Answer(status, body)) = state.lock().unwrap().misbehave.clone() {
        return Ok((status, Vec::new(), body));
    }
    let session: serde_json::Value = params
        .get("Session")
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or("no Session JSON")?;
    let field = |name: &str| session.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let made = issued
        .find(
            field("sessionId"),
            field("sessionKey"),
            field("sessionToken"),
        )
        .ok_or("credentials STS did not issue")?;
    if made.action == "GetSessionToken" {
        return Err("GetSessionToken credentials cannot sign in".to_string());
    }
    let session_duration = match params.get("SessionDuration") {
        None => None,
        Some(text) => {
            let seconds: u32 = text.parse().map_err(|_| "SessionDuration not a number")?;
            if !(900..=43_200).contains(&seconds) {
                return Err(format!("SessionDuration {seconds} out of range"));
            }
            if made.action != "AssumeRole" || !made.by_long_term_keys {
                return Err(format!(
                    "SessionDuration with credentials of {} (by long-term keys: {})",
                    made.action, made.by_long_term_keys
                ));
            }
            Some(seconds)
        }
    };
    let principal = match made.action.as_str() {
        "AssumeRole" => made.params.get("RoleArn").cloned().unwrap_or_default(),
        "GetFederationToken" => format!(
            "federated-user/{}",
            made.params.get("Name").cloned().unwrap_or_default()
        ),
        other => other.to_string(),
    };
    let token = random_hex(48);
    state.lock().unwrap().tokens.push(SignIn {
        token: token.clone(),
        principal,
        action: made.action,
        session_duration,
        issued: Instant::now(),
        used: false,
    });
    Ok((
        200,
        vec![("Content-Type".into(), "application/json".into())],
        serde_json::json!({ "SigninToken": token }).to_string(),
    ))
}

fn login(
    params: &BTreeMap<String, String>,
    addr: SocketAddr,
    state: &Mutex<State>,
) -> Result<Answer, String> {
    let destination = params.get("Destination").ok_or("no Destination")?;
    if !destination.starts_with(&format!("http://{addr}/")) {
        return Err("Destination is not this console".to_string());
    }
    if params.get("Issuer").is_none() {
        return Err("no Issuer".to_string());
    }
    let token = params.get("SigninToken").ok_or("no SigninToken")?;
    let mut st = state.lock().unwrap();
    let sign_in = st
        .tokens
        .iter_mut()
        .find(|s| &s.token == token)
        .ok_or("unknown SigninToken")?;
    if sign_in.used || sign_in.issued.elapsed() > TOKEN_LIFETIME {
        return Err("SigninToken used or expired".to_string());
    }
    sign_in.used = true;
    let principal = sign_in.principal.clone();
    let n = st.cookies.len();
    let value = random_hex(16);
    st.cookies.insert(value.clone(), principal);
    Ok((
        302,
        vec![
            ("Location".into(), destination.clone()),
            (
                "Set-Cookie".into(),
                format!("signin_{n}={value}; Path=/; Max-Age=3600; HttpOnly"),
            ),
        ],
        String::new(),
    ))
}

/// The console page: the principals of the sign-in cookies that came.
fn console(target: &str, cookie: &str, state: &Mutex<State>) -> Answer {
    let mut st = state.lock().unwrap();
    let sent: Vec<&str> = cookie
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(name, _)| name.starts_with("signin_"))
        .map(|(_, value)| value)
        .collect();
    let principals: Vec<String> = sent
        .iter()
        .filter_map(|v| st.cookies.get(*v).cloned())
        .collect();
    st.landings.push(Landing {
        path: target.to_string(),
        principals: principals.clone(),
        cookies: sent.len(),
    });
    let items: String = principals
        .iter()
        .map(|p| format!("<li class=\"session\">{}</li>", html_escape(p)))
        .collect();
    let body = format!(
        "<!doctype html><html><head><title>Fake AWS console</title></head><body>\
         <h1 id=\"landed\">AWS console</h1><p id=\"path\">{}</p><ul>{items}</ul></body></html>",
        html_escape(target)
    );
    (
        200,
        vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body,
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
