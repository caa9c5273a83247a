//! The STS client: built from the parsed
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
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_types::body::SdkBody;

use super::error::{classify, StsError, Target};
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

/// Records that this process built a runtime and an HTTP client (STS or
/// [`super::http::Http`]).
pub(super) fn mark_started() {
    STARTED.store(true, Ordering::Relaxed);
}

/// How many times one call is tried (throttling, 5xx and timeouts are retried).
pub const MAX_ATTEMPTS: u32 = 3;

/// The most of one answer mfaenv reads: STS's and IAM's are a few KB, and a
/// hostile or broken endpoint must not make mfaenv buffer a gigabyte.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The largest fields of temporary credentials mfaenv takes. AWS's access
/// key ids are 16-128 characters, its secrets 40, its session tokens a few
/// hundred bytes to a few KiB (session tags and policies make them longer);
/// 32 KiB keeps a cache entry well inside the cache's 64 KiB.
pub const MAX_ACCESS_KEY_ID: usize = 128;
pub const MAX_SECRET: usize = 256;
pub const MAX_SESSION_TOKEN: usize = 32 * 1024;

/// How much later than asked for a session may say it expires (the two
/// clocks may differ by a few minutes) before mfaenv caps the expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(15 * 60);

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
    pub(super) runtime: tokio::runtime::Runtime,
    pub(super) http: SharedHttpClient,
    pub(super) region: String,
    endpoint: Option<String>,
    /// What set `endpoint`, for messages.
    pub(super) origin: Option<String>,
    timeouts: Timeouts,
    /// IAM's HTTP client (src/aws/query.rs), built on its first call.
    pub(super) iam_http: std::sync::OnceLock<super::http::Http>,
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
        let attempt = crate::settings::sts_timeout().unwrap_or(Duration::from_secs(5));
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
        mark_started();
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
            iam_http: std::sync::OnceLock::new(),
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

    pub(super) fn client(&self, creds: &Credentials) -> aws_sdk_sts::Client {
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

    /// Short timeouts for interactive use (IAM's calls, src/aws/query.rs,
    /// use the same figures: [`Sts::attempt_and_total`]).
    pub(super) fn timeout_config(&self) -> TimeoutConfig {
        let t = self.timeouts;
        TimeoutConfig::builder()
            .connect_timeout(t.connect)
            .read_timeout(t.attempt)
            .operation_attempt_timeout(t.attempt)
            .operation_timeout(t.total)
            .build()
    }

    /// The longest one attempt and a whole call (all attempts) may take.
    pub(super) fn attempt_and_total(&self) -> (Duration, Duration) {
        (self.timeouts.attempt, self.timeouts.total)
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

    /// GetFederationToken with long-term keys: a federated user `name`
    /// whose permissions are `policy` intersected with the user's own.
    /// No MFA: AWS takes no code here, so the session carries none.
    pub fn get_federation_token(
        &self,
        creds: &Credentials,
        name: &str,
        policy: &str,
        duration_seconds: u32,
    ) -> Result<Credentials, StsError> {
        const OP: &str = "GetFederationToken";
        let _progress = crate::ui::progress(format!("{OP} at {}", self.endpoint()));
        let call = self
            .client(creds)
            .get_federation_token()
            .name(name)
            .policy(policy)
            .duration_seconds(duration_seconds as i32);
        let out = self
            .runtime
            .block_on(call.send())
            .map_err(|e| self.classify(OP, None, e))?;
        self.convert(OP, out.credentials(), duration_seconds)
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
        self.check_sizes(op, c)?;
        let expiration = capped_expiry(op, expiration, now, asked);
        Ok(Credentials {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
            session_token: Some(c.session_token().to_string()),
            expiration: Some(expiration),
        })
    }

    /// Refuses fields larger than AWS ever issues, before they are used or
    /// cached: a cache entry must fit what the cache reads back
    /// (`cache::MAX_ENTRY`), and an exported variable what the kernel passes
    /// to a program (128 KiB a string on Linux).
    fn check_sizes(
        &self,
        op: &'static str,
        c: &aws_sdk_sts::types::Credentials,
    ) -> Result<(), StsError> {
        let fields = [
            ("access key id", c.access_key_id().len(), MAX_ACCESS_KEY_ID),
            ("secret access key", c.secret_access_key().len(), MAX_SECRET),
            ("session token", c.session_token().len(), MAX_SESSION_TOKEN),
        ];
        match fields.into_iter().find(|(_, len, limit)| len > limit) {
            Some((field, bytes, limit)) => Err(StsError::Oversized {
                op,
                endpoint: self.endpoint(),
                origin: self.origin.clone(),
                field,
                bytes,
                limit,
            }),
            None => Ok(()),
        }
    }

    /// [`classify`] for a call of this client.
    pub(super) fn classify<E>(
        &self,
        op: &'static str,
        serial: Option<&str>,
        err: SdkError<E, HttpResponse>,
    ) -> StsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let target = Target {
            endpoint: self.endpoint(),
            origin: self.origin.clone(),
            seconds: self.timeouts.total.as_secs().max(1),
        };
        classify(op, serial, err, target)
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
pub(super) struct AnswerCap;

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
pub(super) struct AnswerTooLarge;

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

/// A few quick retries with backoff: throttling and 5xx, never a wrong code.
pub(super) fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(2))
}

pub(super) fn sdk_credentials(creds: &Credentials) -> aws_sdk_sts::config::Credentials {
    aws_sdk_sts::config::Credentials::new(
        &creds.access_key_id,
        &creds.secret_access_key,
        creds.session_token.clone(),
        None,
        "mfaenv",
    )
}
