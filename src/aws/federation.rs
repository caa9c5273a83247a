//! The console's federation sign-in (IAM's "custom identity broker" flow):
//! temporary credentials go to the federation endpoint as the `Session`
//! JSON (`Action=getSigninToken`), which answers a sign-in token; the
//! `Action=login` URL with that token, an `Issuer` and a `Destination` on
//! the console opens the console signed in.
//!
//! The token and the URL are bearer secrets (the URL works for 15 minutes):
//! no error here shows a URL's query, an answer's body or the token.
//!
//! Where the calls go: `AWS_ENDPOINT_URL_SIGNIN` (or the profile's
//! `signin_endpoint_url`), else the partition's own sign-in host, chosen by
//! the region (`aws`, `aws-us-gov`, `aws-cn`). The console likewise:
//! `MFAENV_CONSOLE_URL` (or `console_url`), else the partition's console in
//! the region.

use zeroize::Zeroizing;

use super::http::{form, percent_encode, shown, Http, HttpError, Request};
use crate::creds::Credentials;

/// What `Issuer` says: where the console sends a user whose session ended.
pub const ISSUER: &str = "mfaenv";

/// The longest sign-in token mfaenv accepts (AWS's are about 1–2 KB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// An AWS partition with its own sign-in and console hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    UsGov,
    China,
}

impl Partition {
    /// The partition of `region` (`aws` when none is known).
    pub fn of(region: Option<&str>) -> Partition {
        match region {
            Some(r) if r.starts_with("cn-") => Partition::China,
            Some(r) if r.starts_with("us-gov-") => Partition::UsGov,
            _ => Partition::Aws,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::UsGov => "aws-us-gov",
            Partition::China => "aws-cn",
        }
    }

    /// The federation endpoint (the same for every region of the partition).
    pub fn federation_url(self) -> &'static str {
        match self {
            Partition::Aws => "https://signin.aws.amazon.com/federation",
            Partition::UsGov => "https://signin.amazonaws-us-gov.com/federation",
            Partition::China => "https://signin.amazonaws.cn/federation",
        }
    }

    fn console_host(self) -> &'static str {
        match self {
            Partition::Aws => "console.aws.amazon.com",
            Partition::UsGov => "console.amazonaws-us-gov.com",
            Partition::China => "console.amazonaws.cn",
        }
    }

    /// The console's base URL in `region` (no trailing slash):
    /// `https://us-west-2.console.aws.amazon.com`.
    pub fn console_url(self, region: Option<&str>) -> String {
        match region {
            Some(r) => format!("https://{r}.{}", self.console_host()),
            None => format!("https://{}", self.console_host()),
        }
    }
}

/// The federation endpoint under a Sign-In base URL
/// (`AWS_ENDPOINT_URL_SIGNIN=http://127.0.0.1:PORT` → `…/federation`); a
/// URL that names `/federation` already is kept.
pub fn federation_under(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/federation") {
        base.to_string()
    } else {
        format!("{base}/federation")
    }
}

/// Why no sign-in token came.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The endpoint said no (AWS answers 400 for credentials it will not
    /// sign in: GetSessionToken's, or a SessionDuration it does not allow).
    #[error("the federation endpoint {url} refused the credentials (HTTP {status}{code})")]
    Refused {
        url: String,
        status: u16,
        /// ` AccessDenied` when the answer named a plain error code.
        code: String,
    },
    #[error("the federation endpoint {url} answered HTTP {status} without a SigninToken (not the JSON it sends)")]
    Malformed { url: String, status: u16 },
    #[error("the federation endpoint: {0}")]
    Http(#[from] HttpError),
}

/// `Action=getSigninToken` with `creds` as the `Session` JSON;
/// `session_duration`: `SessionDuration`, which AWS allows only for a role
/// assumed directly with long-term keys.
pub fn signin_token(
    http: &Http,
    federation: &str,
    creds: &Credentials,
    session_duration: Option<u32>,
) -> Result<Zeroizing<String>, FederationError> {
    let session = Zeroizing::new(
        serde_json::json!({
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key,
            "sessionToken": creds.session_token.as_deref().unwrap_or_default(),
        })
        .to_string(),
    );
    let duration = session_duration.map(|d| d.to_string());
    let mut pairs = vec![("Action", "getSigninToken")];
    if let Some(d) = &duration {
        pairs.push(("SessionDuration", d));
    }
    pairs.push(("Session", session.as_str()));
    let url = Zeroizing::new(format!("{federation}?{}", form(&pairs)));
    let answer = http.send(Request::get(url.as_str()))?;
    let shown_url = shown(federation);
    if !answer.is_success() {
        return Err(FederationError::Refused {
            url: shown_url,
            status: answer.status,
            code: plain_code(&answer.aws_error().code),
        });
    }
    let token = answer
        .json()
        .and_then(|body| body.get("SigninToken")?.as_str().map(str::to_string))
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES)
        .ok_or(FederationError::Malformed {
            url: shown_url,
            status: answer.status,
        })?;
    Ok(Zeroizing::new(token))
}

/// The code of an error answer when it is a plain identifier (a body that
/// echoes the request could carry the session: nothing else is shown).
fn plain_code(code: &str) -> String {
    let plain = !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
    if plain {
        format!(" {code}")
    } else {
        String::new()
    }
}

/// The `Action=login` URL: opens `destination` signed in with `token`.
pub fn login_url(federation: &str, destination: &str, token: &str) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "{federation}?Action=login&Issuer={}&Destination={}&SigninToken={}",
        percent_encode(ISSUER),
        percent_encode(destination),
        percent_encode(token)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_have_their_own_hosts() {
        assert_eq!(Partition::of(Some("cn-north-1")), Partition::China);
        assert_eq!(Partition::of(Some("us-gov-west-1")), Partition::UsGov);
        assert_eq!(Partition::of(Some("eu-west-1")), Partition::Aws);
        assert_eq!(Partition::of(None), Partition::Aws);
        assert_eq!(
            Partition::China.federation_url(),
            "https://signin.amazonaws.cn/federation"
        );
        assert_eq!(
            Partition::UsGov.console_url(Some("us-gov-east-1")),
            "https://us-gov-east-1.console.amazonaws-us-gov.com"
        );
        assert_eq!(
            Partition::Aws.console_url(None),
            "https://console.aws.amazon.com"
        );
    }

    #[test]
    fn a_sign_in_base_gets_the_federation_path_once() {
        assert_eq!(
            federation_under("http://127.0.0.1:1/"),
            "http://127.0.0.1:1/federation"
        );
        assert_eq!(
            federation_under("https://signin.example/federation"),
            "https://signin.example/federation"
        );
    }

    #[test]
    fn the_login_url_encodes_every_part() {
        let url = login_url(
            "https://signin.aws.amazon.com/federation",
            "https://us-west-2.console.aws.amazon.com/ec2/home?region=us-west-2#Instances:",
            "tok+en/=",
        );
        assert_eq!(
            url.as_str(),
            "https://signin.aws.amazon.com/federation?Action=login&Issuer=mfaenv\
             &Destination=https%3A%2F%2Fus-west-2.console.aws.amazon.com%2Fec2%2Fhome%3Fregion%3Dus-west-2%23Instances%3A\
             &SigninToken=tok%2Ben%2F%3D"
        );
    }

    #[test]
    fn only_plain_codes_are_shown() {
        assert_eq!(plain_code("AccessDenied"), " AccessDenied");
        assert_eq!(plain_code("ASIA {\"sessionKey\":\"x\"}"), "");
        assert_eq!(plain_code(""), "");
    }
}
