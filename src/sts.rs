//! The one module that talks to AWS: builds an STS client from the parsed
//! profile (never the SDK's default loader, which probes EC2 metadata and
//! drops `mfa_serial`), with short timeouts and few retries for interactive
//! use, and maps every failure to a message a person can act on.
//!
//! Nothing here runs unless a command really needs STS: the runtime and the
//! HTTP client are built in [`Sts::new`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{
    BehaviorVersion, ConfigBag, Intercept, Region, RuntimeComponents, SharedHttpClient,
};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::primitives::{DateTime, DateTimeFormat};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_types::body::SdkBody;

use crate::creds::{rfc3339, Credentials};
use crate::duration::human;

/// The region STS is called in when no profile or variable names one.
pub const FALLBACK_REGION: &str = "us-east-1";

static STARTED: AtomicBool = AtomicBool::new(false);

/// Whether this process has built an STS client (and so a runtime and TLS).
/// The fast paths (cached export, the prompt hook) must keep this false.
pub fn started() -> bool {
    STARTED.load(Ordering::Relaxed)
}

/// How many times one call is tried (throttling, 5xx and timeouts are retried).
pub const MAX_ATTEMPTS: u32 = 3;

/// The most of one answer mfaenv reads: STS's and IAM's are a few KB, and a
/// hostile or broken endpoint must not make mfaenv buffer a gigabyte.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// How much later than asked for a session may say it expires (the two
/// clocks may differ by a few minutes) before mfaenv caps the expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum StsError {
    #[error("AWS rejected the MFA code for {serial}: {message} A code is accepted once: if it was just used, wait for the next one.")]
    MfaCodeRejected { serial: String, message: String },
    #[error("AWS could not validate the MFA device {serial}: {message}")]
    MfaDeviceRejected { serial: String, message: String },
    #[error("{op}: access denied: {message}")]
    AccessDenied { op: &'static str, message: String },
    #[error("{op}: the keys used have expired ({message})")]
    ExpiredToken { op: &'static str, message: String },
    /// AWS refused the request's signing time: this machine's clock is off.
    /// `skew`: AWS's clock minus ours, in seconds, from the answer's `Date`.
    #[error("{op}: AWS refused the request as signed at the wrong time ({message})")]
    ClockSkew {
        op: &'static str,
        message: String,
        skew: Option<i64>,
    },
    #[error("{op}: the answer from {endpoint} is larger than {} KiB; mfaenv stopped reading it", MAX_ANSWER_BYTES / 1024)]
    TooLarge {
        op: &'static str,
        endpoint: String,
        origin: Option<String>,
    },
    #[error("{op}: AWS kept throttling the request ({message}) and mfaenv gave up after {MAX_ATTEMPTS} attempts; try again in a minute")]
    Throttled { op: &'static str, message: String },
    #[error("{op}: {code}: {message}")]
    Service {
        op: &'static str,
        code: String,
        message: String,
        /// The HTTP status of the last answer.
        status: u16,
    },
    #[error("{op}: no answer from {endpoint} within {seconds}s")]
    Timeout {
        op: &'static str,
        endpoint: String,
        /// What set the endpoint (`AWS_ENDPOINT_URL`, …); `None` for AWS's own.
        origin: Option<String>,
        seconds: u64,
    },
    #[error("{op}: cannot reach {endpoint} ({detail})")]
    Connect {
        op: &'static str,
        endpoint: String,
        origin: Option<String>,
        detail: String,
    },
    #[error("{op}: the connection to {endpoint} broke off during the answer ({detail})")]
    Interrupted {
        op: &'static str,
        endpoint: String,
        origin: Option<String>,
        detail: String,
    },
    #[error("{op}: the answer from {endpoint} is not a readable STS response{status}")]
    Malformed {
        op: &'static str,
        endpoint: String,
        origin: Option<String>,
        status: String,
    },
    #[error("cannot start the STS client: {0}")]
    Setup(String),
}

impl StsError {
    /// What the user can do about it, for the `hint:` line after the error;
    /// `profile` is the profile the command was run for.
    pub fn next_step(&self, profile: &str) -> Option<String> {
        let endpoint_check = |endpoint: &str, origin: &Option<String>| match origin {
            Some(origin) => format!("that {endpoint} (set by {origin}) is the endpoint you want"),
            None => format!("that {endpoint} can be reached from here (proxy, firewall, VPN)"),
        };
        match self {
            StsError::MfaCodeRejected { .. } | StsError::Throttled { .. } | StsError::Setup(_) => {
                None
            }
            StsError::MfaDeviceRejected { .. } => Some(format!(
                "check mfa_serial of `{profile}`: it must be an MFA device of the IAM user whose keys are used; `mfaenv setup {profile}` looks it up"
            )),
            StsError::AccessDenied { op: "AssumeRole", .. } => Some(
                "check the role's trust policy: it must allow your IAM user to call sts:AssumeRole (with MFA when it requires aws:MultiFactorAuthPresent), and your user's own policies must allow sts:AssumeRole on the role".to_string(),
            ),
            StsError::AccessDenied { op, .. } => Some(format!(
                "check the IAM policies of the user whose keys are used: they must allow sts:{op}"
            )),
            StsError::ClockSkew { skew, .. } => Some(clock_hint(*skew)),
            StsError::TooLarge {
                endpoint, origin, ..
            } => Some(match origin {
                Some(origin) => format!(
                    "{endpoint} (set by {origin}) may not be an STS endpoint: check it"
                ),
                None => "the answer was garbled on the way (a proxy?): try again".to_string(),
            }),
            StsError::ExpiredToken { .. } => Some(format!(
                "a cached session of `{profile}` may have been revoked: `mfaenv forget {profile}`, then `mfaenv login {profile}`; if the profile's own keys are temporary, renew them"
            )),
            StsError::Service { status, .. } if *status >= 500 => Some(format!(
                "STS failed on its side {MAX_ATTEMPTS} times in a row: try again in a minute"
            )),
            StsError::Service { code, .. }
                if matches!(
                    code.as_str(),
                    "InvalidClientTokenId" | "SignatureDoesNotMatch" | "UnrecognizedClientException"
                ) =>
            {
                Some(format!(
                    "AWS does not accept the long-term keys `{profile}` uses: check aws_access_key_id and aws_secret_access_key, and that the key is still active"
                ))
            }
            StsError::Service { .. } => None,
            StsError::Timeout {
                endpoint, origin, ..
            } => Some(format!(
                "check your network connection and {}; MFAENV_STS_TIMEOUT=SECONDS waits longer",
                endpoint_check(endpoint, origin)
            )),
            StsError::Connect {
                endpoint, origin, ..
            }
            | StsError::Interrupted {
                endpoint, origin, ..
            } => Some(format!(
                "check your network connection and {}",
                endpoint_check(endpoint, origin)
            )),
            StsError::Malformed {
                endpoint, origin, ..
            } => Some(match origin {
                Some(origin) => format!(
                    "{endpoint} (set by {origin}) may not be an STS endpoint: check it"
                ),
                None => "the answer was garbled on the way (a proxy?): try again".to_string(),
            }),
        }
    }
}

/// An MFA device and the code it showed.
pub struct Mfa<'a> {
    pub serial: &'a str,
    pub code: &'a str,
}

pub struct AssumeRole<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub external_id: Option<&'a str>,
    pub duration_seconds: Option<u32>,
    pub mfa: Option<Mfa<'a>>,
}

pub struct Sts {
    runtime: tokio::runtime::Runtime,
    http: SharedHttpClient,
    region: String,
    endpoint: Option<String>,
    /// What set `endpoint`, for messages.
    origin: Option<String>,
    timeouts: Timeouts,
}

#[derive(Clone, Copy)]
struct Timeouts {
    connect: Duration,
    attempt: Duration,
    total: Duration,
}

impl Timeouts {
    /// 2 s to connect, 5 s an attempt, 3 attempts, 15 s in all.
    /// `MFAENV_STS_TIMEOUT=SECONDS` sets the attempt timeout (total: 3x).
    fn from_env() -> Timeouts {
        let attempt = std::env::var("MFAENV_STS_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0 && *s < 600.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs(5));
        Timeouts {
            connect: attempt.min(Duration::from_secs(2)),
            attempt,
            total: attempt * 3,
        }
    }
}

impl Sts {
    /// `region`: where to call STS (else us-east-1); `endpoint`: an override URL.
    pub fn new(region: Option<&str>, endpoint: Option<&str>) -> Result<Sts, StsError> {
        STARTED.store(true, Ordering::Relaxed);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StsError::Setup(e.to_string()))?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        Ok(Sts {
            runtime,
            http,
            region: region.unwrap_or(FALLBACK_REGION).to_string(),
            endpoint: endpoint.map(str::to_string),
            origin: None,
            timeouts: Timeouts::from_env(),
        })
    }

    /// Names what set the endpoint (`AWS_ENDPOINT_URL`, `--endpoint-url`, …),
    /// for the hint after a network error.
    pub fn endpoint_origin(mut self, origin: Option<String>) -> Sts {
        self.origin = origin;
        self
    }

    /// Where requests go, for messages.
    pub fn endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("sts.{}.amazonaws.com", self.region))
    }

    fn client(&self, creds: &Credentials) -> aws_sdk_sts::Client {
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(sdk_credentials(creds))
            .http_client(self.http.clone())
            .interceptor(AnswerCap)
            .timeout_config(self.timeout_config())
            .retry_config(retry_config());
        if let Some(url) = &self.endpoint {
            config = config.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(config.build())
    }

    /// Short timeouts for interactive use (the same for STS and IAM).
    fn timeout_config(&self) -> TimeoutConfig {
        let t = self.timeouts;
        TimeoutConfig::builder()
            .connect_timeout(t.connect)
            .read_timeout(t.attempt)
            .operation_attempt_timeout(t.attempt)
            .operation_timeout(t.total)
            .build()
    }

    /// GetSessionToken, with the MFA device when given.
    pub fn get_session_token(
        &self,
        creds: &Credentials,
        duration_seconds: u32,
        mfa: Option<Mfa<'_>>,
    ) -> Result<Credentials, StsError> {
        const OP: &str = "GetSessionToken";
        let _progress = crate::ui::progress(format!("{OP} at {}", self.endpoint()));
        let mut call = self
            .client(creds)
            .get_session_token()
            .duration_seconds(duration_seconds as i32);
        if let Some(m) = &mfa {
            call = call.serial_number(m.serial).token_code(m.code);
        }
        let out = self
            .runtime
            .block_on(call.send())
            .map_err(|e| self.classify(OP, mfa.as_ref().map(|m| m.serial), e))?;
        self.convert(OP, out.credentials(), duration_seconds)
    }

    pub fn assume_role(
        &self,
        creds: &Credentials,
        req: &AssumeRole<'_>,
    ) -> Result<Credentials, StsError> {
        const OP: &str = "AssumeRole";
        let _progress = crate::ui::progress(format!("{OP} at {}", self.endpoint()));
        let mut call = self
            .client(creds)
            .assume_role()
            .role_arn(req.role_arn)
            .role_session_name(req.session_name)
            .set_external_id(req.external_id.map(str::to_string))
            .set_duration_seconds(req.duration_seconds.map(|d| d as i32));
        if let Some(m) = &req.mfa {
            call = call.serial_number(m.serial).token_code(m.code);
        }
        let out = self
            .runtime
            .block_on(call.send())
            .map_err(|e| self.classify(OP, req.mfa.as_ref().map(|m| m.serial), e))?;
        // AWS's default for a role session is one hour.
        self.convert(OP, out.credentials(), req.duration_seconds.unwrap_or(3600))
    }

    /// The SDK's credentials as mfaenv's; `asked`: the seconds asked for.
    fn convert(
        &self,
        op: &'static str,
        creds: Option<&aws_sdk_sts::types::Credentials>,
        asked: u32,
    ) -> Result<Credentials, StsError> {
        let malformed = || StsError::Malformed {
            op,
            endpoint: self.endpoint(),
            origin: self.origin.clone(),
            status: " (no credentials in it)".to_string(),
        };
        let c = creds.ok_or_else(malformed)?;
        let expiration = SystemTime::try_from(*c.expiration()).map_err(|_| malformed())?;
        // The SDK reads a truncated 200 as success with empty fields and a
        // 1970 expiry: only complete, unexpired credentials count.
        let empty = c.access_key_id().is_empty()
            || c.secret_access_key().is_empty()
            || c.session_token().is_empty();
        let now = SystemTime::now();
        if empty || expiration <= now {
            return Err(malformed());
        }
        let expiration = capped_expiry(op, expiration, now, asked);
        Ok(Credentials {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
            session_token: Some(c.session_token().to_string()),
            expiration: Some(expiration),
        })
    }

    /// Turns an SDK error into one line naming the cause. Response bodies are
    /// never quoted: a truncated success would carry secrets.
    fn classify<E>(
        &self,
        op: &'static str,
        serial: Option<&str>,
        err: SdkError<E, HttpResponse>,
    ) -> StsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let endpoint = self.endpoint();
        let origin = self.origin.clone();
        match &err {
            SdkError::TimeoutError(_) => StsError::Timeout {
                op,
                endpoint,
                origin,
                seconds: self.timeouts.total.as_secs().max(1),
            },
            SdkError::DispatchFailure(f) if f.is_timeout() => StsError::Timeout {
                op,
                endpoint,
                origin,
                seconds: self.timeouts.total.as_secs().max(1),
            },
            SdkError::DispatchFailure(f) => StsError::Connect {
                op,
                endpoint,
                origin,
                detail: f
                    .as_connector_error()
                    .map(|e| root_cause(e))
                    .unwrap_or_else(|| "the request could not be sent".to_string()),
            },
            _ if too_large(&err) => StsError::TooLarge {
                op,
                endpoint,
                origin,
            },
            SdkError::ServiceError(ctx) => {
                let status = ctx.raw().status().as_u16();
                let code = err.code().unwrap_or_default().to_string();
                let message = err.message().unwrap_or_default().trim().to_string();
                if is_clock_skew(&code, &message) {
                    return StsError::ClockSkew {
                        op,
                        message,
                        skew: skew_of(ctx.raw()),
                    };
                }
                service_error(op, serial, status, code, message).unwrap_or(StsError::Malformed {
                    op,
                    endpoint,
                    origin,
                    status: format!(" (HTTP {status})"),
                })
            }
            SdkError::ResponseError(_) if transport_failure(&err) => StsError::Interrupted {
                op,
                endpoint,
                origin,
                detail: root_cause(&err),
            },
            _ => StsError::Malformed {
                op,
                endpoint,
                origin,
                status: String::new(),
            },
        }
    }
}

fn service_error(
    op: &'static str,
    serial: Option<&str>,
    status: u16,
    code: String,
    message: String,
) -> Option<StsError> {
    if code.is_empty() {
        return None;
    }
    let serial = || serial.unwrap_or("the MFA device").to_string();
    Some(match code.as_str() {
        // AWS says the same for a wrong code and for one already used.
        "AccessDenied"
            if message.contains("MultiFactorAuthentication")
                && message.contains("one time pass code") =>
        {
            StsError::MfaCodeRejected {
                serial: serial(),
                message: with_period(message),
            }
        }
        // "unable to validate MFA code. Please verify your MFA serial number…"
        "AccessDenied" if message.contains("MultiFactorAuthentication") => {
            StsError::MfaDeviceRejected {
                serial: serial(),
                message,
            }
        }
        "AccessDenied" => StsError::AccessDenied { op, message },
        "ExpiredToken" | "ExpiredTokenException" => StsError::ExpiredToken { op, message },
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => {
            StsError::Throttled { op, message }
        }
        _ => StsError::Service {
            op,
            code,
            message,
            status,
        },
    })
}

/// AWS's ways of saying the request was signed too far from its own clock
/// (RequestExpired is not about the keys: they may be fine).
fn is_clock_skew(code: &str, message: &str) -> bool {
    matches!(
        code,
        "RequestExpired" | "RequestTimeTooSkewed" | "RequestInTheFuture"
    ) || (matches!(code, "SignatureDoesNotMatch" | "InvalidSignatureException")
        && message.contains("Signature expired"))
}

/// AWS's clock minus ours, in seconds, from the answer's `Date` header.
fn skew_of(response: &HttpResponse) -> Option<i64> {
    let date = response.headers().get("date")?;
    let server = DateTime::from_str(date.trim(), DateTimeFormat::HttpDate).ok()?;
    let ours = DateTime::from(SystemTime::now());
    Some(server.secs() - ours.secs())
}

fn clock_hint(skew: Option<i64>) -> String {
    let keep = "your cached sessions were kept";
    match skew {
        Some(s) if s.abs() >= 60 => format!(
            "your clock is off by {} ({} AWS's): set it right (e.g. `timedatectl set-ntp true`) and run again; {keep}",
            human(Duration::from_secs(s.unsigned_abs())),
            if s > 0 { "behind" } else { "ahead of" }
        ),
        _ => format!(
            "your clock (or its time zone) is off by more than AWS allows: set it right (e.g. `timedatectl set-ntp true`) and run again; {keep}"
        ),
    }
}

/// An expiry no later than what was asked for (plus a margin for the
/// clocks): a hostile STS saying 9999-12-31 must not make mfaenv trust the
/// keys, and serve them from the cache, for ever.
fn capped_expiry(op: &str, expiration: SystemTime, now: SystemTime, asked: u32) -> SystemTime {
    let asked = Duration::from_secs(asked.into());
    let allowed = now + asked;
    if expiration <= allowed + EXPIRY_MARGIN {
        return expiration;
    }
    crate::ui::warning(format_args!(
        "{op}: STS says the session lasts until {}, longer than the {} asked for; mfaenv counts it as ending at {}",
        rfc3339(expiration),
        human(asked),
        rfc3339(allowed)
    ));
    allowed
}

/// Installs [`CappedBody`] on every answer, before the SDK reads it.
#[derive(Debug)]
struct AnswerCap;

impl Intercept for AnswerCap {
    fn name(&self) -> &'static str {
        "mfaenv::AnswerCap"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let response = context.response_mut();
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() = SdkBody::from_body_1_x(CappedBody {
            inner: Box::pin(body),
            // A declared size over the cap fails before a byte is read.
            left: match declared {
                Some(n) if n > MAX_ANSWER_BYTES as u64 => None,
                _ => Some(MAX_ANSWER_BYTES),
            },
        });
        Ok(())
    }
}

/// Reading more than this many bytes of an answer was refused.
#[derive(Debug, thiserror::Error)]
#[error("the answer is larger than {MAX_ANSWER_BYTES} bytes")]
struct AnswerTooLarge;

/// A body that fails once more than [`MAX_ANSWER_BYTES`] have come.
struct CappedBody {
    inner: Pin<Box<SdkBody>>,
    /// Bytes still allowed; `None`: the answer said it is too large.
    left: Option<usize>,
}

impl http_body::Body for CappedBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let Some(left) = self.left else {
            return Poll::Ready(Some(Err(Box::new(AnswerTooLarge))));
        };
        let frame = match self.inner.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        let size = frame.data_ref().map_or(0, |d| d.len());
        if size > left {
            self.left = None;
            return Poll::Ready(Some(Err(Box::new(AnswerTooLarge))));
        }
        self.left = Some(left - size);
        Poll::Ready(Some(Ok(frame)))
    }
}

/// Whether reading the answer stopped at [`MAX_ANSWER_BYTES`].
fn too_large(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<AnswerTooLarge>() {
            return true;
        }
        cur = e.source();
    }
    false
}

fn with_period(mut s: String) -> String {
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// Whether reading the answer failed on the connection (an I/O error
/// somewhere in the chain) rather than on its content.
fn transport_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<std::io::Error>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The innermost cause, e.g. "Connection refused (os error 111)".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Who a set of keys belongs to (`sts:GetCallerIdentity`).
#[derive(Debug, Clone)]
pub struct Identity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
}

/// One MFA device of an IAM user (`iam:ListMFADevices`).
#[derive(Debug, Clone)]
pub struct MfaDevice {
    pub serial: String,
    /// When it was enabled (RFC 3339), when IAM says.
    pub enabled: Option<String>,
}

impl Sts {
    /// GetCallerIdentity: the ARN and account of `creds`.
    pub fn get_caller_identity(&self, creds: &Credentials) -> Result<Identity, StsError> {
        const OP: &str = "GetCallerIdentity";
        let _progress = crate::ui::progress(format!("{OP} at {}", self.endpoint()));
        let out = self
            .runtime
            .block_on(self.client(creds).get_caller_identity().send())
            .map_err(|e| self.classify(OP, None, e))?;
        match out.arn() {
            Some(arn) if !arn.is_empty() => Ok(Identity {
                arn: arn.to_string(),
                account: out.account().unwrap_or_default().to_string(),
                user_id: out.user_id().unwrap_or_default().to_string(),
            }),
            _ => Err(StsError::Malformed {
                op: OP,
                endpoint: self.endpoint(),
                origin: self.origin.clone(),
                status: " (no ARN in it)".to_string(),
            }),
        }
    }

    /// ListMFADevices of `user` (the caller's own user when `None`), every
    /// page. `endpoint` overrides the IAM endpoint.
    pub fn list_mfa_devices(
        &self,
        creds: &Credentials,
        endpoint: Option<&str>,
        user: Option<&str>,
    ) -> Result<Vec<MfaDevice>, StsError> {
        const OP: &str = "ListMFADevices";
        let shown = endpoint.map_or_else(|| "iam.amazonaws.com".to_string(), str::to_string);
        let client = self.iam_client(creds, endpoint);
        let _progress = crate::ui::progress(format!("{OP} at {shown}"));
        let mut devices = Vec::new();
        let mut marker: Option<String> = None;
        // IAM allows 8 devices a user: a few pages at most.
        for _ in 0..50 {
            let call = client
                .list_mfa_devices()
                .set_user_name(user.map(str::to_string))
                .set_marker(marker.take());
            let out = self
                .runtime
                .block_on(call.send())
                .map_err(|e| at_endpoint(self.classify(OP, None, e), &shown))?;
            devices.extend(out.mfa_devices().iter().map(|d| {
                MfaDevice {
                    serial: d.serial_number().to_string(),
                    enabled: SystemTime::try_from(*d.enable_date())
                        .ok()
                        .filter(|t| *t > SystemTime::UNIX_EPOCH)
                        .map(crate::creds::rfc3339),
                }
            }));
            match out.marker() {
                Some(next) if out.is_truncated() && !next.is_empty() => {
                    marker = Some(next.to_string())
                }
                _ => break,
            }
        }
        Ok(devices)
    }

    fn iam_client(&self, creds: &Credentials, endpoint: Option<&str>) -> aws_sdk_iam::Client {
        // IAM is global in its partition: the SDK picks the partition's
        // endpoint (and signing region) from the profile's region.
        let mut config = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new(self.region.clone()))
            .credentials_provider(sdk_credentials(creds))
            .http_client(self.http.clone())
            .interceptor(AnswerCap)
            .timeout_config(self.timeout_config())
            .retry_config(retry_config());
        if let Some(url) = endpoint {
            config = config.endpoint_url(url);
        }
        aws_sdk_iam::Client::from_conf(config.build())
    }
}

/// A few quick retries with backoff: throttling and 5xx, never a wrong code.
fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(2))
}

fn sdk_credentials(creds: &Credentials) -> aws_sdk_sts::config::Credentials {
    aws_sdk_sts::config::Credentials::new(
        &creds.access_key_id,
        &creds.secret_access_key,
        creds.session_token.clone(),
        None,
        "mfaenv",
    )
}

/// `err` naming `endpoint` (classify names the STS endpoint).
fn at_endpoint(mut err: StsError, shown: &str) -> StsError {
    match &mut err {
        StsError::Timeout {
            endpoint, origin, ..
        }
        | StsError::Connect {
            endpoint, origin, ..
        }
        | StsError::Interrupted {
            endpoint, origin, ..
        }
        | StsError::Malformed {
            endpoint, origin, ..
        }
        | StsError::TooLarge {
            endpoint, origin, ..
        } => {
            *endpoint = shown.to_string();
            *origin = None;
        }
        _ => {}
    }
    err
}
