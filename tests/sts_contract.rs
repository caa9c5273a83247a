//! The contract between mfaenv's STS client and the AWS SDK for Rust, on
//! the wire: what its requests look like (plain HTTP/1.1 with keep-alive,
//! recorded by moto) and which SDK error each failure mode gives, the errors
//! `aws::error::classify` maps. When an SDK upgrade changes any of it, this
//! file says so before a user does.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::fake_sts::{self, Creds, FakeSts, Reply};
use support::moto::Moto;

const MFA_SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";

fn sdk_client(endpoint: &str, attempts: u32, attempt_timeout: Duration) -> aws_sdk_sts::Client {
    use aws_sdk_sts::config::{retry::RetryConfig, timeout::TimeoutConfig};
    use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::tls;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "AKIAHARNESSSDK000001",
            "harness-secret",
            None,
            None,
            "harness",
        ))
        .http_client(http)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        )
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

#[test]
fn sdk_requests_are_plain_http11_with_keep_alive() {
    let fake = FakeSts::start();
    let creds = Creds::new();
    fake.on("GetSessionToken", vec![Reply::SessionToken(creds.clone())]);
    let client = sdk_client(&fake.endpoint(), 1, Duration::from_secs(5));
    runtime().block_on(async {
        for code in ["123456", "654321"] {
            let out = client
                .get_session_token()
                .serial_number(MFA_SERIAL)
                .token_code(code)
                .duration_seconds(900)
                .send()
                .await
                .expect("GetSessionToken");
            let c = out.credentials().expect("credentials");
            assert_eq!(c.access_key_id(), creds.access_key_id);
            assert_eq!(c.session_token(), creds.session_token);
        }
        let out = client
            .assume_role()
            .role_arn("arn:aws:iam::123456789012:role/deploy")
            .role_session_name("sdk")
            .external_id("ext-1")
            .send()
            .await
            .expect("AssumeRole");
        assert_eq!(
            out.assumed_role_user().map(|u| u.arn()),
            Some("arn:aws:sts::123456789012:assumed-role/deploy/sdk")
        );
    });
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        eprintln!("SDK request headers: {:?}", r.headers);
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/");
        assert!(r.header("content-length").is_some(), "{r:#?}");
        assert_eq!(r.header("expect"), None);
        assert_eq!(r.header("transfer-encoding"), None);
        assert_eq!(
            r.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(r.access_key_id.as_deref(), Some("AKIAHARNESSSDK000001"));
        assert_eq!(r.signing_service().as_deref(), Some("sts"));
        assert_eq!(r.param("Version"), Some("2011-06-15"));
    }
    assert_eq!(reqs[0].param("TokenCode"), Some("123456"));
    assert_eq!(reqs[1].param("TokenCode"), Some("654321"));
    assert_eq!(reqs[2].param("ExternalId"), Some("ext-1"));
    assert_eq!(
        fake.connections(),
        1,
        "the SDK did not reuse its connection"
    );
}

#[test]
fn sdk_against_moto_is_recorded() {
    let Some(moto) = Moto::start() else { return };
    moto.trust("AKIAHARNESSSDK000001", "harness-secret");
    let client = sdk_client(&moto.endpoint(), 1, Duration::from_secs(30));
    runtime().block_on(async {
        client
            .get_session_token()
            .serial_number(MFA_SERIAL)
            .token_code("123456")
            .send()
            .await
            .expect("GetSessionToken against moto");
    });
    let reqs = moto.requests();
    assert_eq!(reqs.len(), 1, "{reqs:#?}");
    assert_eq!(reqs[0].param("TokenCode"), Some("123456"));
    assert_eq!(
        reqs[0].access_key_id.as_deref(),
        Some("AKIAHARNESSSDK000001")
    );
}

/// What the SDK makes of each failure the fake can produce. Findings that
/// mfaenv's code must allow for are asserted; the error texts are printed
/// (`-- --nocapture`).
#[test]
fn sdk_errors_for_each_failure_mode() {
    type Keys = Option<(String, String, String, String)>;
    let fake = FakeSts::start();
    let rt = runtime();
    let call = |reply: Vec<Reply>, attempts: u32, timeout: Duration| {
        fake.on("GetSessionToken", reply);
        let before = fake.count("GetSessionToken");
        let client = sdk_client(&fake.endpoint(), attempts, timeout);
        let t = Instant::now();
        let result = rt.block_on(async {
            client
                .get_session_token()
                .serial_number(MFA_SERIAL)
                .token_code("123456")
                .send()
                .await
        });
        let calls = fake.count("GetSessionToken") - before;
        let keys = result.map(|out| -> Keys {
            out.credentials().map(|c| {
                (
                    c.access_key_id().to_string(),
                    c.secret_access_key().to_string(),
                    c.session_token().to_string(),
                    c.expiration().to_string(),
                )
            })
        });
        (keys, calls, t.elapsed())
    };
    let code = |e: &aws_sdk_sts::error::SdkError<_>| {
        use aws_sdk_sts::error::ProvideErrorMetadata;
        e.as_service_error().and_then(
            |s: &aws_sdk_sts::operation::get_session_token::GetSessionTokenError| {
                s.code().map(str::to_string)
            },
        )
    };
    let mut seen = BTreeMap::new();
    let long = Duration::from_secs(5);

    // AccessDenied is not retried.
    let (r, calls, _) = call(vec![Reply::invalid_mfa_code()], 3, long);
    let e = r.expect_err("AccessDenied");
    assert_eq!(code(&e).as_deref(), Some("AccessDenied"));
    assert_eq!(calls, 1);
    seen.insert("AccessDenied", format!("{e:?}"));

    // Throttling, InternalFailure and a 502 HTML page are retried (standard mode).
    let (r, calls, _) = call(
        vec![
            Reply::throttling(),
            Reply::internal_failure(),
            Reply::Xml(502, "<html>Bad Gateway</html>".into()),
            Reply::session_token(),
        ],
        4,
        long,
    );
    r.expect("retried to success");
    assert_eq!(calls, 4);

    // A 200 that is not STS XML is an error.
    let (r, calls, _) = call(
        vec![Reply::Garbage(b"<html>proxy</html>".to_vec())],
        3,
        long,
    );
    seen.insert("Garbage", format!("{:?}", r.expect_err("garbage")));
    assert_eq!(calls, 1);

    // SURPRISE: a complete HTTP message whose XML is cut short is *accepted*:
    // missing fields come back empty and a missing Expiration as 1970-01-01,
    // a text cut mid-way as the part that arrived. mfaenv must check that
    // every key is non-empty and that the expiry is in the future.
    for reply in [
        Reply::truncated(Reply::session_token()),
        Reply::Xml(200, {
            let full = fake_sts::session_token_xml(&Creds::new());
            full[..full.find("<SessionToken>").expect("token") + 20].to_string()
        }),
    ] {
        let (r, _, _) = call(vec![reply], 1, long);
        seen.insert("Truncated XML", format!("{r:?}"));
        if let Ok(keys) = r {
            let (_, _, token, expiration) = keys.expect("Credentials element present");
            assert!(
                token.is_empty() || expiration.starts_with("1970-"),
                "a truncated body looked complete: {token:?} {expiration:?}"
            );
        }
    }

    // A connection lost mid-body is an error, and retried (even for a 403).
    let (r, calls, _) = call(
        vec![Reply::CutOff(Box::new(Reply::session_token()))],
        2,
        long,
    );
    seen.insert("CutOff", format!("{:?}", r.expect_err("cut off")));
    assert_eq!(calls, 2);

    // A hang is cut by the attempt timeout (the SDK has none by default).
    let (r, calls, elapsed) = call(vec![Reply::Hang], 1, Duration::from_millis(300));
    let e = r.expect_err("hang");
    assert!(
        matches!(e, aws_sdk_sts::error::SdkError::TimeoutError(_)),
        "{e:?}"
    );
    assert!(elapsed < long, "{elapsed:?}");
    assert_eq!(calls, 1);
    seen.insert("Hang", format!("{e:?}"));

    // A connection closed without a response.
    let (r, _, _) = call(vec![Reply::Close], 1, long);
    seen.insert("Close", format!("{:?}", r.expect_err("close")));

    // Connection refused.
    let client = sdk_client(&fake_sts::refused_endpoint(), 1, long);
    let e = rt
        .block_on(async { client.get_caller_identity().send().await })
        .expect_err("refused");
    assert!(
        matches!(e, aws_sdk_sts::error::SdkError::DispatchFailure(_)),
        "{e:?}"
    );
    seen.insert("Refused", format!("{e:?}"));

    for (k, v) in seen {
        eprintln!("{k}: {}", v.chars().take(400).collect::<String>());
    }
}
