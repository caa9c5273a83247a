//! IAM Identity Center's OIDC service (`oidc.REGION.amazonaws.com`):
//! RegisterClient, StartDeviceAuthorization, CreateToken, and the
//! `/authorize` URL of the authorization code flow with PKCE. Plain
//! REST-JSON over [`super::http`]; no request is signed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::http::{form, AwsError, Http, HttpError, Request, Response};

/// The redirect path of the loopback listener (the AWS CLI's).
pub const CALLBACK_PATH: &str = "/oauth/callback";

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{0}")]
    Aws(AwsError),
    #[error("{url} answered without {what}")]
    Malformed { url: String, what: &'static str },
}

impl OidcError {
    /// Whether the error is AWS's `kind` (`authorization_pending`, ...): the
    /// exception's name or OAuth's `error` field.
    pub fn is(&self, kind: Kind) -> bool {
        let OidcError::Aws(err) = self else {
            return false;
        };
        let (exception, oauth) = kind.names();
        err.code == exception || err.oauth.as_deref() == Some(oauth)
    }
}

/// The OIDC errors mfaenv acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    AccessDenied,
    InvalidGrant,
    InvalidClient,
}

impl Kind {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Kind::AuthorizationPending => {
                ("AuthorizationPendingException", "authorization_pending")
            }
            Kind::SlowDown => ("SlowDownException", "slow_down"),
            Kind::ExpiredToken => ("ExpiredTokenException", "expired_token"),
            Kind::AccessDenied => ("AccessDeniedException", "access_denied"),
            Kind::InvalidGrant => ("InvalidGrantException", "invalid_grant"),
            Kind::InvalidClient => ("InvalidClientException", "invalid_client"),
        }
    }
}

/// A registered client (public, for this start URL and these scopes).
#[derive(Debug, Clone)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: SystemTime,
}

/// What the device flow shows the person.
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// A token from CreateToken.
#[derive(Clone)]
pub struct Token {
    pub access_token: String,
    pub expires_in: Duration,
    pub refresh_token: Option<String>,
}

/// The grant CreateToken is called with.
pub enum Grant<'a> {
    DeviceCode(&'a str),
    AuthorizationCode {
        code: &'a str,
        verifier: &'a str,
        redirect_uri: &'a str,
    },
    RefreshToken(&'a str),
}

pub struct Oidc<'a> {
    http: &'a Http,
    base: String,
}

impl<'a> Oidc<'a> {
    /// A client for the service at `base` (no trailing slash needed).
    pub fn new(http: &'a Http, base: &str) -> Oidc<'a> {
        Oidc {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    fn post(&self, path: &str, body: &Value) -> Result<Value, OidcError> {
        let url = format!("{}{path}", self.base);
        let answer = self.http.send(Request::post_json(&url, body))?;
        json_of(answer, &url)
    }

    /// RegisterClient: a public client with `grant_types` (and, for the
    /// authorization code flow, the loopback `redirect_uri`).
    pub fn register_client(
        &self,
        name: &str,
        scopes: &[String],
        grant_types: &[&str],
        redirect_uri: Option<&str>,
        issuer_url: &str,
    ) -> Result<Registration, OidcError> {
        let mut body = json!({
            "clientName": name,
            "clientType": "public",
            "grantTypes": grant_types,
            "issuerUrl": issuer_url,
        });
        if !scopes.is_empty() {
            body["scopes"] = json!(scopes);
        }
        if let Some(uri) = redirect_uri {
            body["redirectUris"] = json!([uri]);
        }
        let url = format!("{}/client/register", self.base);
        let answer = self.post("/client/register", &body)?;
        let text = |key: &'static str| string(&answer, key, &url);
        Ok(Registration {
            client_id: text("clientId")?,
            client_secret: text("clientSecret")?,
            expires_at: UNIX_EPOCH
                + Duration::from_secs(answer["clientSecretExpiresAt"].as_u64().ok_or(
                    OidcError::Malformed {
                        url: url.clone(),
                        what: "clientSecretExpiresAt",
                    },
                )?),
        })
    }

    pub fn start_device_authorization(
        &self,
        client: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, OidcError> {
        let url = format!("{}/device_authorization", self.base);
        let answer = self.post(
            "/device_authorization",
            &json!({
                "clientId": client.client_id,
                "clientSecret": client.client_secret,
                "startUrl": start_url,
            }),
        )?;
        let text = |key: &'static str| string(&answer, key, &url);
        Ok(DeviceAuthorization {
            device_code: text("deviceCode")?,
            user_code: text("userCode")?,
            verification_uri: text("verificationUri")?,
            verification_uri_complete: answer["verificationUriComplete"]
                .as_str()
                .map(str::to_string),
            expires_in: Duration::from_secs(answer["expiresIn"].as_u64().unwrap_or(600).min(3600)),
            interval: Duration::from_secs(answer["interval"].as_u64().unwrap_or(5).clamp(1, 60)),
        })
    }

    pub fn create_token(
        &self,
        client: &Registration,
        grant: Grant<'_>,
    ) -> Result<Token, OidcError> {
        let mut body = json!({
            "clientId": client.client_id,
            "clientSecret": client.client_secret,
        });
        match grant {
            Grant::DeviceCode(code) => {
                body["grantType"] = json!("urn:ietf:params:oauth:grant-type:device_code");
                body["deviceCode"] = json!(code);
            }
            Grant::AuthorizationCode {
                code,
                verifier,
                redirect_uri,
            } => {
                body["grantType"] = json!("authorization_code");
                body["code"] = json!(code);
                body["codeVerifier"] = json!(verifier);
                body["redirectUri"] = json!(redirect_uri);
            }
            Grant::RefreshToken(token) => {
                body["grantType"] = json!("refresh_token");
                body["refreshToken"] = json!(token);
            }
        }
        let url = format!("{}/token", self.base);
        let answer = self.post("/token", &body)?;
        Ok(Token {
            access_token: string(&answer, "accessToken", &url)?,
            expires_in: Duration::from_secs(answer["expiresIn"].as_u64().ok_or(
                OidcError::Malformed {
                    url: url.clone(),
                    what: "expiresIn",
                },
            )?),
            refresh_token: answer["refreshToken"].as_str().map(str::to_string),
        })
    }

    /// The `/authorize` URL the browser opens (authorization code + PKCE).
    pub fn authorize_url(
        &self,
        client: &Registration,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
        scopes: &[String],
    ) -> String {
        let scopes = scopes.join(" ");
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("state", state),
            ("code_challenge_method", "S256"),
            ("code_challenge", challenge),
        ];
        if !scopes.is_empty() {
            pairs.push(("scopes", scopes.as_str()));
        }
        format!("{}/authorize?{}", self.base, form(&pairs))
    }
}

/// The JSON of a successful answer, else the AWS error.
pub(super) fn json_of(answer: Response, url: &str) -> Result<Value, OidcError> {
    if !answer.is_success() {
        return Err(OidcError::Aws(answer.aws_error()));
    }
    answer.json().ok_or(OidcError::Malformed {
        url: super::http::shown(url),
        what: "a JSON body",
    })
}

fn string(answer: &Value, key: &'static str, url: &str) -> Result<String, OidcError> {
    answer[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or(OidcError::Malformed {
            url: super::http::shown(url),
            what: key,
        })
}
