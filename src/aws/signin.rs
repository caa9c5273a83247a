//! AWS Sign-In's `CreateOAuth2Token` with `grant_type=refresh_token`: how an
//! `aws login` session gets new credentials. A REST-JSON `POST /v1/token`
//! whose body is the `tokenInput` object and whose answer is the
//! `tokenOutput` object, unsigned, with a DPoP proof (RFC 9449) in the
//! `DPoP` header signed by the session's key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zeroize::Zeroize;

use super::dpop::DpopKey;
use super::http::{AwsError, Http, HttpError, Request, Response};

/// How many times a refresh is tried when Sign-In fails on its side (5xx,
/// 429): the refresh is idempotent within the token's validity window.
pub const MAX_ATTEMPTS: u32 = 2;

/// The longest `expiresIn` believed: Sign-In says at most 15 minutes; a
/// larger value is capped rather than trusted for hours.
const MAX_EXPIRES_IN: u64 = 3600;

/// Sign-In's regional endpoint for the token API (its rule set's
/// non-control-plane endpoint): `https://{region}.signin.aws.amazon.com`,
/// and the China and GovCloud partitions' own domains.
pub fn regional_endpoint(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "signin.amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "signin.amazonaws-us-gov.com"
    } else {
        "signin.aws.amazon.com"
    };
    format!("https://{region}.{domain}")
}

/// What a refresh gave: new credentials and the refresh token to use next.
pub struct Refreshed {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expires_in: Duration,
    pub refresh_token: String,
}

impl Drop for Refreshed {
    fn drop(&mut self) {
        self.secret_access_key.zeroize();
        self.session_token.zeroize();
        self.refresh_token.zeroize();
    }
}

/// Why a refresh failed. Nothing here holds a token or a key.
#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    /// `TOKEN_EXPIRED` or `USER_CREDENTIALS_CHANGED`: only a new `aws login` helps.
    #[error("Sign-In no longer accepts the session ({0})")]
    LoginRequired(AwsError),
    /// `INSUFFICIENT_PERMISSIONS`.
    #[error("Sign-In refused the refresh: the signed-in identity lacks permission ({0})")]
    InsufficientPermissions(AwsError),
    #[error("Sign-In refused the refresh ({0})")]
    Refused(AwsError),
    #[error("Sign-In failed on its side {MAX_ATTEMPTS} times in a row ({0})")]
    Unavailable(AwsError),
    #[error("Sign-In: {0}")]
    Http(#[from] HttpError),
    #[error("Sign-In's answer from {url} is not a token ({detail})")]
    Malformed { url: String, detail: &'static str },
    #[error("cannot make the DPoP proof: {0}")]
    Proof(String),
}

/// Refreshes the session at `base` (an endpoint URL, no path needed).
pub fn refresh(
    http: &Http,
    base: &str,
    client_id: &str,
    refresh_token: &str,
    key: &DpopKey,
) -> Result<Refreshed, SigninError> {
    let url = format!("{}/v1/token", base.trim_end_matches('/'));
    let mut body = serde_json::json!({
        "clientId": client_id,
        "grantType": "refresh_token",
        "refreshToken": refresh_token,
    });
    let mut attempt = 1;
    let answer = loop {
        // A new proof for every attempt: the server refuses a replayed `jti`.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let proof = key.proof("POST", &url, now).map_err(SigninError::Proof)?;
        let request = Request::post_json(&url, &body).header("dpop", proof);
        let answer = http.send(request)?;
        let retry = answer.status >= 500 || answer.status == 429;
        if !retry || attempt >= MAX_ATTEMPTS {
            break answer;
        }
        attempt += 1;
        std::thread::sleep(Duration::from_millis(300));
    };
    if let Some(serde_json::Value::String(token)) = body.get_mut("refreshToken") {
        token.zeroize();
    }
    if !answer.is_success() {
        return Err(classify(&answer));
    }
    parse(&answer, &url)
}

/// An error answer as a [`SigninError`], by the `error` member Sign-In
/// puts in its `AccessDeniedException`.
fn classify(answer: &Response) -> SigninError {
    let err = answer.aws_error();
    if answer.status >= 500 || answer.status == 429 {
        return SigninError::Unavailable(err);
    }
    match err.oauth.as_deref() {
        Some("TOKEN_EXPIRED" | "USER_CREDENTIALS_CHANGED") => SigninError::LoginRequired(err),
        Some("INSUFFICIENT_PERMISSIONS") => SigninError::InsufficientPermissions(err),
        _ => SigninError::Refused(err),
    }
}

/// The `tokenOutput` object: every field checked before it is believed.
fn parse(answer: &Response, url: &str) -> Result<Refreshed, SigninError> {
    let bad = |detail| SigninError::Malformed {
        url: super::http::shown(url),
        detail,
    };
    let doc = answer.json().ok_or_else(|| bad("not JSON"))?;
    let access = doc
        .get("accessToken")
        .ok_or_else(|| bad("no accessToken"))?;
    let text = |v: &serde_json::Value, name: &str, what: &'static str| {
        v.get(name)
            .and_then(|s| s.as_str())
            .filter(|s| is_token_text(s))
            .map(str::to_string)
            .ok_or_else(|| bad(what))
    };
    let expires_in = doc
        .get("expiresIn")
        .and_then(|n| n.as_u64())
        .filter(|n| *n > 0)
        .ok_or_else(|| bad("no positive expiresIn"))?;
    Ok(Refreshed {
        access_key_id: text(access, "accessKeyId", "no accessKeyId")?,
        secret_access_key: text(access, "secretAccessKey", "no secretAccessKey")?,
        session_token: text(access, "sessionToken", "no sessionToken")?,
        expires_in: Duration::from_secs(expires_in.min(MAX_EXPIRES_IN)),
        refresh_token: text(&doc, "refreshToken", "no refreshToken")?,
    })
}

/// A token or key as AWS issues them: printable ASCII, of a sane length.
/// Anything else never reaches a shell, an environment or a file.
pub fn is_token_text(s: &str) -> bool {
    !s.is_empty() && s.len() <= 16 * 1024 && s.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("x-amzn-errortype".into(), "AccessDeniedException".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn endpoints_by_partition() {
        assert_eq!(
            regional_endpoint("eu-west-1"),
            "https://eu-west-1.signin.aws.amazon.com"
        );
        assert_eq!(
            regional_endpoint("cn-north-1"),
            "https://cn-north-1.signin.amazonaws.cn"
        );
        assert_eq!(
            regional_endpoint("us-gov-west-1"),
            "https://us-gov-west-1.signin.amazonaws-us-gov.com"
        );
    }

    #[test]
    fn access_denied_by_its_error_member() {
        let kind = |error: &str| {
            classify(&answer(
                401,
                &format!(r#"{{"error":"{error}","message":"m"}}"#),
            ))
        };
        assert!(matches!(
            kind("TOKEN_EXPIRED"),
            SigninError::LoginRequired(_)
        ));
        assert!(matches!(
            kind("USER_CREDENTIALS_CHANGED"),
            SigninError::LoginRequired(_)
        ));
        assert!(matches!(
            kind("INSUFFICIENT_PERMISSIONS"),
            SigninError::InsufficientPermissions(_)
        ));
        assert!(matches!(kind("INVALID_REQUEST"), SigninError::Refused(_)));
        assert!(matches!(
            classify(&answer(503, "")),
            SigninError::Unavailable(_)
        ));
    }

    #[test]
    fn a_token_answer_is_checked_field_by_field() {
        let good = r#"{"accessToken":{"accessKeyId":"ASIA1","secretAccessKey":"s","sessionToken":"t"},"tokenType":"aws_sigv4","expiresIn":900,"refreshToken":"r2"}"#;
        let r = parse(&answer(200, good), "http://x/v1/token").unwrap();
        assert_eq!(r.access_key_id, "ASIA1");
        assert_eq!(r.expires_in, Duration::from_secs(900));
        assert_eq!(r.refresh_token, "r2");
        for bad in [
            "",
            "{}",
            r#"{"accessToken":{"accessKeyId":"A","secretAccessKey":"s","sessionToken":"t"},"expiresIn":900}"#,
            r#"{"accessToken":{"accessKeyId":"A\nB","secretAccessKey":"s","sessionToken":"t"},"expiresIn":900,"refreshToken":"r"}"#,
            r#"{"accessToken":{"accessKeyId":"A","secretAccessKey":"s","sessionToken":"t"},"expiresIn":-1,"refreshToken":"r"}"#,
        ] {
            let err = parse(&answer(200, bad), "http://x/v1/token?q=secret")
                .err()
                .unwrap();
            assert!(matches!(err, SigninError::Malformed { .. }), "{bad}");
            assert!(!err.to_string().contains("secret"));
        }
    }
}
