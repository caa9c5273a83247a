//! What can go wrong in a call to AWS, as one error a person can act on:
//! [`StsError`] and [`classify`], which maps every SDK failure to it. The
//! advice on what to do next lives in `crate::advice`.

use std::time::SystemTime;

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::primitives::{DateTime, DateTimeFormat};

use super::sts::{AnswerTooLarge, MAX_ANSWER_BYTES, MAX_ATTEMPTS};

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
    #[error("{op}: the {field} from {endpoint} is {bytes} bytes, more than the {limit} mfaenv accepts (AWS's are at most a few KiB); not used, not cached")]
    Oversized {
        op: &'static str,
        endpoint: String,
        origin: Option<String>,
        field: &'static str,
        bytes: usize,
        limit: usize,
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

/// Where a failed call went, for the error that names it.
pub(super) struct Target {
    pub endpoint: String,
    /// What set the endpoint (`AWS_ENDPOINT_URL`, …); `None` for AWS's own.
    pub origin: Option<String>,
    /// The longest the call was allowed to take.
    pub seconds: u64,
}

/// Turns an SDK error into one line naming the cause. Response bodies are
/// never quoted: a truncated success would carry secrets.
pub(super) fn classify<E>(
    op: &'static str,
    serial: Option<&str>,
    err: SdkError<E, HttpResponse>,
    target: Target,
) -> StsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let Target {
        endpoint,
        origin,
        seconds,
    } = target;
    match &err {
        SdkError::TimeoutError(_) => StsError::Timeout {
            op,
            endpoint,
            origin,
            seconds,
        },
        SdkError::DispatchFailure(f) if f.is_timeout() => StsError::Timeout {
            op,
            endpoint,
            origin,
            seconds,
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

pub(super) fn service_error(
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
pub(super) fn is_clock_skew(code: &str, message: &str) -> bool {
    matches!(
        code,
        "RequestExpired" | "RequestTimeTooSkewed" | "RequestInTheFuture"
    ) || (matches!(code, "SignatureDoesNotMatch" | "InvalidSignatureException")
        && message.contains("Signature expired"))
}

/// AWS's clock minus ours, in seconds, from the answer's `Date` header.
fn skew_of(response: &HttpResponse) -> Option<i64> {
    skew_from_date(response.headers().get("date")?)
}

/// AWS's clock minus ours, in seconds, from an HTTP `Date` value.
pub(super) fn skew_from_date(date: &str) -> Option<i64> {
    let server = DateTime::from_str(date.trim(), DateTimeFormat::HttpDate).ok()?;
    let ours = DateTime::from(SystemTime::now());
    Some(server.secs() - ours.secs())
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
