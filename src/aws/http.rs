//! A small blocking HTTPS client for the AWS calls made without an SDK:
//! IAM Identity Center's OIDC and portal, Sign-In's token endpoint, the
//! federation endpoint (plain JSON or form requests), and IAM's Query
//! calls, which `super::query` signs itself. It is the STS client's HTTP
//! stack — the smithy connector over hyper and rustls with ring — on a
//! current-thread runtime, with the same timeouts and the same 1 MiB answer
//! cap, so every call mfaenv makes leaves through one path.
//!
//! Nothing here starts unless a command really calls out: [`Http::new`]
//! builds the runtime and marks the process as having started it
//! ([`super::started`]), which the fast-path tests check.
//!
//! URLs may carry secrets in their query (the federation endpoint takes the
//! session there): errors name only the scheme, host and path ([`shown`]).

use std::future::Future;
use std::time::Duration;

use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;

use super::sts::MAX_ANSWER_BYTES;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}: not a valid URL")]
    Url(String),
    #[error("cannot reach {url}: {reason}")]
    Network { url: String, reason: String },
    /// The connection was refused: nothing of the request was sent.
    #[error("cannot reach {url}: {reason}")]
    Refused { url: String, reason: String },
    /// The connection broke off while the answer was being read.
    #[error("the connection to {url} broke off during the answer: {reason}")]
    Interrupted { url: String, reason: String },
    #[error("{url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("the answer of {url} is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge { url: String },
    #[error("cannot start the HTTP client: {0}")]
    Setup(String),
}

/// One request. `url` may hold secrets in its query; they are never shown.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            method: "GET",
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A POST of `value` as `application/json`.
    pub fn post_json(url: impl Into<String>, value: &serde_json::Value) -> Request {
        Request {
            method: "POST",
            url: url.into(),
            headers: vec![("content-type", "application/json".to_string())],
            body: value.to_string().into_bytes(),
        }
    }

    /// A POST of `pairs` as `application/x-www-form-urlencoded`.
    pub fn post_form(url: impl Into<String>, pairs: &[(&str, &str)]) -> Request {
        Request {
            method: "POST",
            url: url.into(),
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            )],
            body: form(pairs).into_bytes(),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.headers.push((name, value.into()));
        self
    }
}

/// An answer, read whole (at most [`MAX_ANSWER_BYTES`]).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON; `None` when it is not.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// An AWS REST-JSON error: its code (from `x-amzn-ErrorType`, `__type`,
    /// `code`, or OAuth's `error`, without any `namespace#` prefix or
    /// `:uri` suffix) and its message (`message`, `Message`, or
    /// `error_description`). Both are from the server: escape before showing.
    pub fn aws_error(&self) -> AwsError {
        let body = self.json();
        let field = |names: &[&str]| {
            names.iter().find_map(|n| {
                body.as_ref()?
                    .get(*n)?
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            })
        };
        let code = self
            .header("x-amzn-errortype")
            .map(str::to_string)
            .or_else(|| field(&["__type", "code", "Code", "error"]))
            .map(|c| bare_code(&c))
            .unwrap_or_default();
        let message = field(&["message", "Message", "error_description"]).unwrap_or_default();
        // OAuth errors (`{"error":"authorization_pending"}`) carry their kind
        // in `error` even when the header names the exception.
        let oauth = field(&["error"]).filter(|e| !e.contains(' '));
        AwsError {
            status: self.status,
            code: crate::ui::escape(&code),
            message: crate::ui::escape(&cap(&message, 500)),
            oauth: oauth.map(|e| crate::ui::escape(&e)),
        }
    }
}

/// An error answer, as [`Response::aws_error`] reads it (already escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: u16,
    /// `AccessDeniedException`, `UnauthorizedException`, …; empty when none.
    pub code: String,
    pub message: String,
    /// OAuth's `error` field (`authorization_pending`, `invalid_grant`, …).
    pub oauth: Option<String>,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = if self.code.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("{} (HTTP {})", self.code, self.status)
        };
        if self.message.is_empty() {
            f.write_str(&code)
        } else {
            write!(f, "{code}: {}", self.message)
        }
    }
}

/// `com.amazonaws#AccessDeniedException:http://…` → `AccessDeniedException`.
fn bare_code(code: &str) -> String {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).trim().to_string()
}

fn cap(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// The client: one runtime and one connector for all of a command's calls.
pub struct Http {
    runtime: tokio::runtime::Runtime,
    connector: Connector,
    timeout: Duration,
}

impl Http {
    /// 2 s to connect, 5 s a request (`MFAENV_STS_TIMEOUT` sets the latter,
    /// as for STS).
    pub fn new() -> Result<Http, HttpError> {
        let timeout = crate::settings::sts_timeout().unwrap_or(Duration::from_secs(5));
        Http::with_timeout(timeout)
    }

    /// A client whose requests may take up to `timeout` each.
    pub fn with_timeout(timeout: Duration) -> Result<Http, HttpError> {
        super::sts::mark_started();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| HttpError::Setup(e.to_string()))?;
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .read_timeout(timeout)
            .build();
        let connector = Connector::builder()
            .connector_settings(settings)
            .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build();
        Ok(Http {
            runtime,
            connector,
            timeout,
        })
    }

    /// Runs `future` on this client's runtime (a caller that also waits on
    /// something else, a loopback listener say, shares it).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Sends `req` and reads the whole answer, whatever its status.
    pub fn send(&self, req: Request) -> Result<Response, HttpError> {
        // The connector bounds each read; this bounds the whole exchange (a
        // server that trickles a byte a second never ends otherwise).
        self.send_within(req, self.timeout * 2)
    }

    /// [`Http::send`], the whole exchange bounded by `whole`.
    pub fn send_within(&self, req: Request, whole: Duration) -> Result<Response, HttpError> {
        let url = shown(&req.url);
        let request = build(req)?;
        let call = async {
            let answer = self.connector.call(request).await.map_err(|e| {
                let reason = crate::ui::escape(&error_chain(&e));
                let url = url.clone();
                if refused(&e) {
                    HttpError::Refused { url, reason }
                } else {
                    HttpError::Network { url, reason }
                }
            })?;
            let status = answer.status().as_u16();
            let headers = answer
                .headers()
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
                .collect();
            let body = read_capped(answer.into_body(), &url).await?;
            Ok(Response {
                status,
                headers,
                body,
            })
        };
        self.runtime
            .block_on(async { tokio::time::timeout(whole, call).await })
            .unwrap_or_else(|_| {
                Err(HttpError::Timeout {
                    url: url.clone(),
                    seconds: whole.as_secs().max(1),
                })
            })
    }
}

fn build(req: Request) -> Result<HttpRequest, HttpError> {
    let bad_url = || HttpError::Url(shown(&req.url));
    if !(req.url.starts_with("https://") || req.url.starts_with("http://")) {
        return Err(bad_url());
    }
    let mut request = HttpRequest::new(SdkBody::from(req.body.clone()));
    request.set_uri(req.url.as_str()).map_err(|_| bad_url())?;
    request.set_method(req.method).map_err(|_| bad_url())?;
    for (name, value) in &req.headers {
        request
            .headers_mut()
            .try_insert(*name, value.clone())
            .map_err(|_| HttpError::Url(format!("{}: header {name}", shown(&req.url))))?;
    }
    if !req.body.is_empty() || req.method == "POST" {
        request
            .headers_mut()
            .insert("content-length", req.body.len().to_string());
    }
    Ok(request)
}

/// Reads `body` whole, failing once more than [`MAX_ANSWER_BYTES`] came.
async fn read_capped(body: SdkBody, url: &str) -> Result<Vec<u8>, HttpError> {
    use http_body::Body;
    let mut body = std::pin::pin!(body);
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|e| HttpError::Interrupted {
            url: url.to_string(),
            reason: crate::ui::escape(&error_chain(e.as_ref())),
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > MAX_ANSWER_BYTES {
                return Err(HttpError::TooLarge {
                    url: url.to_string(),
                });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// Whether the connection was refused (so nothing of the request was sent).
fn refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    cap(&text, 300)
}

/// `url` without its query or fragment (which may carry secrets), escaped.
pub fn shown(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    crate::ui::escape(&url[..end])
}

/// `application/x-www-form-urlencoded` (also a URL's query): every byte but
/// the unreserved ones percent-encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 percent-encoding of everything but `A-Z a-z 0-9 - . _ ~`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// Serves one connection with `answer`, returning what was asked.
    fn serve_once(answer: Vec<u8>) -> (String, std::thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut asked = vec![0u8; 8192];
            let n = conn.read(&mut asked).unwrap_or(0);
            asked.truncate(n);
            let _ = conn.write_all(&answer);
            asked
        });
        (url, handle)
    }

    #[test]
    fn a_json_post_round_trips() {
        let body = br#"{"ok":true}"#;
        let answer = [
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes(),
            body.to_vec(),
        ]
        .concat();
        let (url, server) = serve_once(answer);
        let http = Http::new().unwrap();
        let resp = http
            .send(Request::post_json(
                format!("{url}/token"),
                &serde_json::json!({"a": "b"}),
            ))
            .unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.json().unwrap()["ok"], true);
        let asked = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(asked.starts_with("POST /token HTTP/1.1\r\n"), "{asked}");
        assert!(asked.contains("content-type: application/json"), "{asked}");
        assert!(asked.ends_with(r#"{"a":"b"}"#), "{asked}");
    }

    #[test]
    fn an_aws_error_is_read_from_the_header_and_the_body() {
        let resp = Response {
            status: 400,
            headers: vec![(
                "x-amzn-errortype".into(),
                "AuthorizationPendingException:http://internal.amazon.com/coral/".into(),
            )],
            body: br#"{"error":"authorization_pending","error_description":"wait\u001b[31m"}"#
                .to_vec(),
        };
        let err = resp.aws_error();
        assert_eq!(err.code, "AuthorizationPendingException");
        assert_eq!(err.oauth.as_deref(), Some("authorization_pending"));
        assert!(!err.message.contains('\u{1b}'), "escaped: {err}");
        let typed = Response {
            status: 403,
            headers: vec![],
            body: br#"{"__type":"com.amazonaws.sso#ForbiddenException","message":"no"}"#.to_vec(),
        };
        assert_eq!(typed.aws_error().code, "ForbiddenException");
        assert_eq!(
            typed.aws_error().to_string(),
            "ForbiddenException (HTTP 403): no"
        );
    }

    #[test]
    fn an_answer_over_the_cap_is_refused() {
        let declared = MAX_ANSWER_BYTES + 10;
        let mut answer =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {declared}\r\nconnection: close\r\n\r\n")
                .into_bytes();
        answer.extend(std::iter::repeat_n(b'x', declared));
        let (url, _server) = serve_once(answer);
        let err = Http::new().unwrap().send(Request::get(url)).unwrap_err();
        assert!(matches!(err, HttpError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn a_silent_server_times_out_and_the_query_is_never_shown() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/federation?Session=secret",
            listener.local_addr().unwrap()
        );
        let hold = std::thread::spawn(move || {
            let conn = listener.accept();
            std::thread::sleep(Duration::from_secs(3));
            drop(conn);
        });
        let http = Http::with_timeout(Duration::from_millis(500)).unwrap();
        let err = http.send(Request::get(url)).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, HttpError::Timeout { .. } | HttpError::Network { .. }),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
        hold.join().unwrap();
    }

    #[test]
    fn form_encoding_leaves_only_unreserved_bytes() {
        assert_eq!(
            form(&[("a b", "x&y=z/é"), ("k", "-._~")]),
            "a%20b=x%26y%3Dz%2F%C3%A9&k=-._~"
        );
        assert_eq!(shown("https://h/p?Session=s#f"), "https://h/p");
    }
}
