//! IAM's calls over AWS's Query protocol, without an SDK: a form POST
//! (`Action=…&Version=2010-05-08&…`) signed with SigV4 (`aws-sigv4`, the
//! signer the STS SDK uses), sent through [`super::http`] (the one HTTP
//! path: same connector, TLS, timeouts and answer cap), the XML answer read
//! by [`super::xml`]. Failures become the same [`StsError`]s the SDK path
//! gives, so messages and advice do not change.
//!
//! Retries follow the SDK's standard mode as `retry_config()` sets it
//! ([`MAX_ATTEMPTS`] attempts, backoff 200 ms doubling up to 2 s, full
//! jitter) on throttling, 5xx, timeouts and broken connections; except that
//! a call that makes something (CreateAccessKey) is retried only when IAM
//! surely did nothing: throttled, or the connection refused. A lost answer
//! to it is returned as lost (rotate records it and cleans up), never sent
//! again: a second key could go unnoticed.

use std::time::{Duration, Instant, SystemTime};

use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SigningParams, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use super::error::{is_clock_skew, service_error, skew_from_date, StsError};
use super::http::{Http, HttpError, Request, Response};
use super::sts::{sdk_credentials, Sts, MAX_ATTEMPTS};
use super::xml::{self, Element};
use crate::creds::Credentials;

/// IAM's API version, sent with every call.
const VERSION: &str = "2010-05-08";

/// Whether a call may be sent again after an answer that did not arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resend {
    /// Reads and deletes: sending twice does no harm.
    Always,
    /// Calls that make something: only when IAM surely did nothing.
    OnlyUnsent,
}

/// One IAM call: where, what, with which keys.
pub(super) struct Call<'a> {
    pub op: &'static str,
    pub params: &'a [(&'a str, &'a str)],
    pub resend: Resend,
    /// The URL requests go to (an override, or the partition's endpoint).
    pub url: String,
    /// The endpoint as messages name it.
    pub shown: String,
}

/// Why one attempt failed, and whether another may follow.
struct Failed {
    err: StsError,
    kind: Transient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transient {
    /// Not worth another attempt (a refusal, a garbled answer).
    No,
    /// IAM refused for now: it did nothing.
    Throttled,
    /// The connection was refused: nothing was sent.
    Refused,
    /// 5xx, a timeout, a broken connection: IAM may have acted.
    Maybe,
}

impl Transient {
    fn retry(self, resend: Resend) -> bool {
        match self {
            Transient::No => false,
            Transient::Throttled | Transient::Refused => true,
            Transient::Maybe => resend == Resend::Always,
        }
    }
}

impl Sts {
    /// Sends `call` (retrying as the module says) and returns the root of
    /// its XML answer (`<{op}Response>`), or the empty element for an
    /// answer with no body.
    pub(super) fn query(&self, creds: &Credentials, call: &Call<'_>) -> Result<Element, StsError> {
        let http = self.query_http()?;
        let (attempt_limit, total) = self.attempt_and_total();
        let start = Instant::now();
        let mut waited = Duration::ZERO;
        let mut attempt = 1;
        loop {
            let limit = attempt_limit.min(total.saturating_sub(start.elapsed()));
            let failed = match self.attempt(http, creds, call, limit) {
                Ok(answer) => return Ok(answer),
                Err(failed) => failed,
            };
            waited += limit;
            let pause = backoff(attempt);
            let time_left = start.elapsed() + pause < total;
            let retry = failed.kind.retry(call.resend);
            if attempt >= MAX_ATTEMPTS || !retry || !time_left {
                // As the SDK says it: the whole call's bound when it was
                // retried, else the one attempt's.
                let waited = if retry { total } else { waited };
                return Err(match failed.err {
                    StsError::Timeout {
                        op,
                        endpoint,
                        origin,
                        ..
                    } => StsError::Timeout {
                        op,
                        endpoint,
                        origin,
                        seconds: waited.as_secs().max(1),
                    },
                    other => other,
                });
            }
            std::thread::sleep(pause);
            attempt += 1;
        }
    }

    /// The HTTP client for IAM, built on first use.
    fn query_http(&self) -> Result<&Http, StsError> {
        if let Some(http) = self.iam_http.get() {
            return Ok(http);
        }
        let (attempt, _) = self.attempt_and_total();
        let http = Http::with_timeout(attempt).map_err(|e| StsError::Setup(e.to_string()))?;
        Ok(self.iam_http.get_or_init(|| http))
    }

    fn attempt(
        &self,
        http: &Http,
        creds: &Credentials,
        call: &Call<'_>,
        limit: Duration,
    ) -> Result<Element, Failed> {
        let mut pairs = vec![("Action", call.op), ("Version", VERSION)];
        pairs.extend_from_slice(call.params);
        let request = Request::post_form(call.url.clone(), &pairs);
        let region = iam_signing_region(&self.region);
        let request =
            signed(request, creds, region, SystemTime::now()).map_err(|detail| Failed {
                err: StsError::Connect {
                    op: call.op,
                    endpoint: call.shown.clone(),
                    origin: None,
                    detail,
                },
                kind: Transient::No,
            })?;
        let seconds = limit.as_secs().max(1);
        let mut answer = http
            .send_within(request, limit)
            .map_err(|e| transport_error(call, e, seconds))?;
        let read = if !answer.is_success() {
            Err(answer_error(call, &answer))
        } else if answer.body.iter().all(u8::is_ascii_whitespace) {
            Ok(Element::default())
        } else {
            xml::parse(&answer.body).map_err(|_| Failed {
                err: malformed(call, String::new()),
                kind: Transient::No,
            })
        };
        // CreateAccessKey's answer holds the new secret.
        zeroize::Zeroize::zeroize(&mut answer.body);
        read
    }
}

/// The region IAM's requests are signed for: IAM is global in each
/// partition, signed for the partition's first region (what the SDK does).
pub fn iam_signing_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "cn-north-1"
    } else if region.starts_with("us-gov-") {
        "us-gov-west-1"
    } else {
        "us-east-1"
    }
}

/// `request` with SigV4's headers for service `iam` in `region` at `time`:
/// `x-amz-date`, `authorization` and, for temporary keys,
/// `x-amz-security-token`.
fn signed(
    mut request: Request,
    creds: &Credentials,
    region: &str,
    time: SystemTime,
) -> Result<Request, String> {
    let identity: Identity = sdk_credentials(creds).into();
    let params: SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("iam")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let headers = request.headers.iter().map(|(n, v)| (*n, v.as_str()));
    let signable = SignableRequest::new(
        request.method,
        request.url.as_str(),
        headers,
        SignableBody::Bytes(&request.body),
    )
    .and_then(|r| sign(r, &params))
    .map_err(|_| "cannot sign the request (is the endpoint a URL?)".to_string())?;
    let (instructions, _signature) = signable.into_parts();
    let (added, _query) = instructions.into_parts();
    for header in added {
        request = request.header(header.name(), header.value().to_string());
    }
    Ok(request)
}

fn transport_error(call: &Call<'_>, err: HttpError, seconds: u64) -> Failed {
    let (op, endpoint) = (call.op, call.shown.clone());
    let (err, kind) = match err {
        HttpError::Timeout { .. } => (
            StsError::Timeout {
                op,
                endpoint,
                origin: None,
                seconds,
            },
            Transient::Maybe,
        ),
        HttpError::TooLarge { .. } => (
            StsError::TooLarge {
                op,
                endpoint,
                origin: None,
            },
            Transient::No,
        ),
        HttpError::Refused { reason, .. } => (
            StsError::Connect {
                op,
                endpoint,
                origin: None,
                detail: reason,
            },
            Transient::Refused,
        ),
        // A request that may have reached IAM: for a call that makes
        // something, its answer is lost, not refused.
        HttpError::Network { reason, .. } if call.resend == Resend::OnlyUnsent => (
            StsError::Interrupted {
                op,
                endpoint,
                origin: None,
                detail: reason,
            },
            Transient::Maybe,
        ),
        HttpError::Network { reason, .. } => (
            StsError::Connect {
                op,
                endpoint,
                origin: None,
                detail: reason,
            },
            Transient::Maybe,
        ),
        HttpError::Interrupted { reason, .. } => (
            StsError::Interrupted {
                op,
                endpoint,
                origin: None,
                detail: reason,
            },
            Transient::Maybe,
        ),
        HttpError::Url(_) => (
            StsError::Connect {
                op,
                endpoint,
                origin: None,
                detail: "not a valid URL".to_string(),
            },
            Transient::No,
        ),
        HttpError::Setup(e) => (StsError::Setup(e), Transient::No),
    };
    Failed { err, kind }
}

/// An error answer (`<ErrorResponse><Error><Code/><Message/></Error>`) as
/// the SDK path classifies it.
fn answer_error(call: &Call<'_>, answer: &Response) -> Failed {
    let status = answer.status;
    let server_side = matches!(status, 500 | 502 | 503 | 504);
    let (code, message) = error_of(&answer.body);
    let kind = |code: &str| {
        if matches!(
            code,
            "Throttling" | "ThrottlingException" | "RequestLimitExceeded"
        ) {
            Transient::Throttled
        } else if server_side {
            Transient::Maybe
        } else {
            Transient::No
        }
    };
    let kind = kind(&code);
    if is_clock_skew(&code, &message) {
        let skew = answer.header("date").and_then(skew_from_date);
        return Failed {
            err: StsError::ClockSkew {
                op: call.op,
                message,
                skew,
            },
            kind,
        };
    }
    let err = service_error(call.op, None, status, code, message)
        .unwrap_or_else(|| malformed(call, format!(" (HTTP {status})")));
    Failed { err, kind }
}

/// The code and message of an AWS error document; empty when unreadable.
/// The code is kept only in AWS's shape (it is matched and shown); the
/// message is capped (it is shown, escaped on the way out).
fn error_of(body: &[u8]) -> (String, String) {
    let Ok(doc) = xml::parse(body) else {
        return (String::new(), String::new());
    };
    // `<ErrorResponse><Error>`, or `<Response><Errors><Error>` (EC2's).
    let error = doc.child("Error").or_else(|| doc.at(&["Errors", "Error"]));
    let Some(error) = error else {
        return (String::new(), String::new());
    };
    let code = error.text_of("Code").unwrap_or_default();
    let plain = code.len() <= 128
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:#".contains(c));
    let code = if plain { code } else { "" };
    let message: String = error
        .text_of("Message")
        .unwrap_or_default()
        .chars()
        .take(1000)
        .collect();
    (code.to_string(), message)
}

fn malformed(call: &Call<'_>, status: String) -> StsError {
    StsError::Malformed {
        op: call.op,
        endpoint: call.shown.clone(),
        origin: None,
        status,
    }
}

/// The SDK's standard backoff: up to 200 ms × 2^(attempt-1), at most 2 s,
/// times a random factor in [0, 1) (full jitter).
fn backoff(attempt: u32) -> Duration {
    let ceiling = Duration::from_millis(200)
        .saturating_mul(1 << attempt.saturating_sub(1).min(10))
        .min(Duration::from_secs(2));
    let jitter = getrandom::u32().unwrap_or(u32::MAX / 2);
    ceiling.mul_f64(f64::from(jitter) / (f64::from(u32::MAX) + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_region_follows_the_partition() {
        assert_eq!(iam_signing_region("eu-west-1"), "us-east-1");
        assert_eq!(iam_signing_region("us-east-1"), "us-east-1");
        assert_eq!(iam_signing_region("cn-northwest-1"), "cn-north-1");
        assert_eq!(iam_signing_region("us-gov-east-1"), "us-gov-west-1");
    }

    fn creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_string),
            expiration: None,
        }
    }

    fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
        req.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_request_is_signed_for_iam_in_the_partitions_region() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let req = Request::post_form(
            "https://iam.cn-north-1.amazonaws.com.cn/",
            &[("Action", "ListAccessKeys"), ("Version", VERSION)],
        );
        let region = iam_signing_region("cn-northwest-1");
        let out = signed(req.clone(), &creds(None), region, time).unwrap();
        let auth = header(&out, "authorization").unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/cn-north-1/iam/aws4_request"
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date"),
            "{auth}"
        );
        assert_eq!(header(&out, "x-amz-date"), Some("20231114T221320Z"));
        assert_eq!(header(&out, "x-amz-security-token"), None);
        // A session's token goes along, signed.
        let out = signed(req, &creds(Some("tok")), "us-east-1", time).unwrap();
        assert_eq!(header(&out, "x-amz-security-token"), Some("tok"));
        let auth = header(&out, "authorization").unwrap();
        assert!(auth.contains("/us-east-1/iam/aws4_request"), "{auth}");
        assert!(auth.contains("x-amz-security-token"), "{auth}");
        assert!(!auth.contains("wJalr"), "no secret: {auth}");
    }

    #[test]
    fn error_documents_give_code_and_message() {
        let body = br#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name x cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
        assert_eq!(
            error_of(body),
            (
                "NoSuchEntity".to_string(),
                "The user with name x cannot be found.".to_string()
            )
        );
        let ec2 = b"<Response><Errors><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></Errors></Response>";
        assert_eq!(error_of(ec2).0, "Throttling");
        for bad in [
            &b"<html>proxy error</html>"[..],
            b"",
            b"<ErrorResponse><Error><Code>A\x1b[2KB</Code></Error></ErrorResponse>",
            b"<ErrorResponse><Error><Code>Throttling</Code>",
        ] {
            assert_eq!(error_of(bad).0, "", "{}", String::from_utf8_lossy(bad));
        }
        let long = format!(
            "<ErrorResponse><Error><Code>X</Code><Message>{}</Message></Error></ErrorResponse>",
            "m".repeat(5000)
        );
        assert_eq!(error_of(long.as_bytes()).1.len(), 1000);
    }

    fn call(resend: Resend) -> Call<'static> {
        Call {
            op: "CreateAccessKey",
            params: &[],
            resend,
            url: "https://iam.amazonaws.com/".into(),
            shown: "iam.amazonaws.com".into(),
        }
    }

    fn answer(status: u16, code: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: format!(
                "<ErrorResponse><Error><Code>{code}</Code><Message>m</Message></Error></ErrorResponse>"
            )
            .into_bytes(),
        }
    }

    #[test]
    fn what_is_retried_and_what_it_becomes() {
        let make = call(Resend::OnlyUnsent);
        let read = call(Resend::Always);
        let throttled = answer_error(&make, &answer(400, "Throttling"));
        assert!(matches!(throttled.err, StsError::Throttled { .. }));
        assert!(throttled.kind.retry(Resend::OnlyUnsent));
        let failed = answer_error(&make, &answer(500, "InternalFailure"));
        assert!(matches!(failed.err, StsError::Service { status: 500, .. }));
        assert!(!failed.kind.retry(Resend::OnlyUnsent));
        assert!(failed.kind.retry(Resend::Always));
        let denied = answer_error(&read, &answer(403, "AccessDenied"));
        assert!(matches!(denied.err, StsError::AccessDenied { .. }));
        assert!(!denied.kind.retry(Resend::Always));
        let limit = answer_error(&make, &answer(409, "LimitExceeded"));
        assert!(!limit.kind.retry(Resend::Always), "not throttling");
        let skew = answer_error(&read, &answer(403, "RequestExpired"));
        assert!(matches!(skew.err, StsError::ClockSkew { .. }));
        let garbage = Response {
            status: 502,
            headers: vec![],
            body: b"<html>bad gateway</html".to_vec(),
        };
        let garbled = answer_error(&read, &garbage);
        assert!(
            matches!(&garbled.err, StsError::Malformed { status, .. } if status == " (HTTP 502)")
        );
        assert!(garbled.kind.retry(Resend::Always));
        // A request that may have reached IAM: lost for CreateAccessKey.
        let cut = || HttpError::Network {
            url: "u".into(),
            reason: "reset".into(),
        };
        let lost = transport_error(&make, cut(), 5);
        assert!(matches!(lost.err, StsError::Interrupted { .. }));
        assert!(!lost.kind.retry(Resend::OnlyUnsent));
        assert!(matches!(
            transport_error(&read, cut(), 5).err,
            StsError::Connect { .. }
        ));
        let refused = transport_error(
            &make,
            HttpError::Refused {
                url: "u".into(),
                reason: "refused".into(),
            },
            5,
        );
        assert!(refused.kind.retry(Resend::OnlyUnsent));
    }

    #[test]
    fn backoff_is_bounded_and_grows() {
        for attempt in 1..40 {
            let pause = backoff(attempt);
            assert!(pause < Duration::from_secs(2), "{attempt}: {pause:?}");
        }
        assert!(backoff(1) < Duration::from_millis(200));
    }
}
