//! Tests of the test bed itself: moto (forked per test, and the literal
//! `moto_server`), the fake STS, the AWS CLI helper, and how the Rust AWS SDK's
//! HTTP client behaves on the wire.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::fake_sts::{self, http_request, Creds, FakeSts, Reply, INVALID_MFA_CODE};
use support::moto::{run_aws, Moto};

const MFA_SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";

/// A request moto routes to STS: it only looks at the SigV4 credential scope,
/// not at the signature.
fn signed_sts_post(addr: SocketAddr, access_key: &str, body: &str) -> (u16, String) {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00"
    );
    let (status, body) = http_request(
        addr,
        "POST",
        "/",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
        Duration::from_secs(30),
    )
    .expect("request");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn addr_of(endpoint: &str) -> SocketAddr {
    endpoint
        .strip_prefix("http://")
        .expect("http endpoint")
        .parse()
        .expect("socket address")
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

// ---------------------------------------------------------------------------
// moto
// ---------------------------------------------------------------------------

#[test]
fn moto_instances_are_isolated_and_fast() {
    let t = Instant::now();
    let Some(a) = Moto::start() else { return };
    let first = t.elapsed();
    let t = Instant::now();
    let Some(b) = Moto::start() else { return };
    let second = t.elapsed();
    eprintln!("moto start: first {first:?} (may include the zygote), then {second:?}");
    assert_ne!(a.port(), b.port());

    let (status, body) = signed_sts_post(
        addr_of(&a.endpoint()),
        "AKIDHARNESSA",
        "Action=GetSessionToken&Version=2011-06-15&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice&TokenCode=123456",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<GetSessionTokenResponse"), "{body}");
    signed_sts_post(
        addr_of(&a.endpoint()),
        "AKIDHARNESSA",
        "Action=GetCallerIdentity&Version=2011-06-15",
    );

    // Each instance has its own log.
    assert_eq!(a.count("GetSessionToken"), 1);
    assert_eq!(a.count("GetCallerIdentity"), 1);
    assert_eq!(b.requests(), vec![]);
    let r = &a.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/");
    assert_eq!(r.access_key_id.as_deref(), Some("AKIDHARNESSA"));
    assert_eq!(r.signing_service().as_deref(), Some("sts"));
    assert_eq!(r.param("SerialNumber"), Some(MFA_SERIAL));
    assert_eq!(r.param("TokenCode"), Some("123456"));
    assert_eq!(r.param("Version"), Some("2011-06-15"));

    // reset() keeps the log; start_recording() clears it.
    a.reset();
    assert_eq!(
        a.count("GetSessionToken"),
        1,
        "reset must not clear the log"
    );
    a.start_recording();
    assert_eq!(a.requests(), vec![]);
    signed_sts_post(
        addr_of(&a.endpoint()),
        "AKIDHARNESSA",
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(a.count("GetCallerIdentity"), 1);
    a.stop_recording();
    signed_sts_post(
        addr_of(&a.endpoint()),
        "AKIDHARNESSA",
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(
        a.count("GetCallerIdentity"),
        1,
        "stopped recording still recorded"
    );

    // Dropped means gone.
    let addr = addr_of(&a.endpoint());
    drop(a);
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "moto still listens after drop"
    );
    assert_eq!(b.requests(), vec![], "b is unaffected by a's drop");
}

#[test]
fn moto_routes_unsigned_requests_to_s3() {
    let Some(moto) = Moto::start() else { return };
    let (status, body) = http_request(
        addr_of(&moto.endpoint()),
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=GetSessionToken&Version=2011-06-15",
        Duration::from_secs(30),
    )
    .expect("request");
    let body = String::from_utf8_lossy(&body);
    assert!(
        !body.contains("GetSessionTokenResponse"),
        "moto answered an unsigned request as STS ({status}): {body}"
    );
}

#[test]
fn moto_process_mode_runs_the_real_moto_server() {
    let t = Instant::now();
    let Some(moto) = Moto::start_process() else {
        return;
    };
    eprintln!(
        "moto_server start (process, until it answers): {:?}",
        t.elapsed()
    );
    let t = Instant::now();
    let (status, body) = signed_sts_post(
        addr_of(&moto.endpoint()),
        "AKIDPROCESS",
        "Action=GetSessionToken&Version=2011-06-15",
    );
    eprintln!("moto_server first STS call: {:?}", t.elapsed());
    assert_eq!(status, 200, "{body}");
    assert_eq!(moto.count("GetSessionToken"), 1);
    assert_eq!(
        moto.requests()[0].access_key_id.as_deref(),
        Some("AKIDPROCESS")
    );
    assert!(
        moto.log().contains("Running on http://127.0.0.1:"),
        "{}",
        moto.log()
    );
}

#[test]
fn aws_cli_get_session_token_against_moto() {
    let Some(moto) = Moto::start() else { return };
    let mut env = moto.aws_env();
    env.push(("AWS_ACCESS_KEY_ID".into(), "AKIAHARNESSLONGTERM1".into()));
    env.push(("AWS_SECRET_ACCESS_KEY".into(), "harness-secret".into()));
    let (status, out, err) = run_aws(
        env,
        &[
            "sts",
            "get-session-token",
            "--serial-number",
            MFA_SERIAL,
            "--token-code",
            "123456",
            "--duration-seconds",
            "900",
            "--output",
            "json",
        ],
    );
    assert!(status.success(), "aws failed: {err}");
    let v = json(&out);
    let creds = &v["Credentials"];
    assert!(
        creds["AccessKeyId"].as_str().is_some_and(|k| !k.is_empty()),
        "{out}"
    );
    assert!(creds["SessionToken"].as_str().is_some(), "{out}");

    let requests = moto.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let r = &requests[0];
    assert_eq!(r.action, "GetSessionToken");
    assert_eq!(r.access_key_id.as_deref(), Some("AKIAHARNESSLONGTERM1"));
    assert_eq!(r.param("SerialNumber"), Some(MFA_SERIAL));
    assert_eq!(r.param("TokenCode"), Some("123456"));
    assert_eq!(r.param("DurationSeconds"), Some("900"));
}

#[test]
fn aws_cli_assume_role_against_moto_shows_the_role() {
    let Some(moto) = Moto::start() else { return };
    let mut env = moto.aws_env();
    env.push(("AWS_ACCESS_KEY_ID".into(), "AKIAHARNESSLONGTERM2".into()));
    env.push(("AWS_SECRET_ACCESS_KEY".into(), "harness-secret".into()));
    let role = "arn:aws:iam::123456789012:role/deploy";
    let (status, out, err) = run_aws(
        env,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            role,
            "--role-session-name",
            "harness",
            "--serial-number",
            MFA_SERIAL,
            "--token-code",
            "654321",
            "--external-id",
            "ext-42",
            "--output",
            "json",
        ],
    );
    assert!(status.success(), "aws failed: {err}");
    let v = json(&out);
    assert_eq!(
        v["AssumedRoleUser"]["Arn"].as_str(),
        Some("arn:aws:sts::123456789012:assumed-role/deploy/harness"),
        "{out}"
    );
    let creds = &v["Credentials"];
    let key = creds["AccessKeyId"]
        .as_str()
        .expect("AccessKeyId")
        .to_string();

    let r = &moto.requests()[0];
    assert_eq!(r.action, "AssumeRole");
    assert_eq!(r.param("RoleArn"), Some(role));
    assert_eq!(r.param("RoleSessionName"), Some("harness"));
    assert_eq!(r.param("SerialNumber"), Some(MFA_SERIAL));
    assert_eq!(r.param("TokenCode"), Some("654321"));
    assert_eq!(r.param("ExternalId"), Some("ext-42"));

    // The role's keys are what moto's GetCallerIdentity knows as the role.
    let mut env = moto.aws_env();
    env.push(("AWS_ACCESS_KEY_ID".into(), key.clone()));
    env.push((
        "AWS_SECRET_ACCESS_KEY".into(),
        creds["SecretAccessKey"].as_str().expect("secret").into(),
    ));
    env.push((
        "AWS_SESSION_TOKEN".into(),
        creds["SessionToken"].as_str().expect("token").into(),
    ));
    let (status, out, err) = run_aws(env, &["sts", "get-caller-identity", "--output", "json"]);
    assert!(status.success(), "aws failed: {err}");
    assert_eq!(
        json(&out)["Arn"].as_str(),
        Some("arn:aws:sts::123456789012:assumed-role/deploy/harness"),
        "{out}"
    );
    let r = &moto.requests()[1];
    assert_eq!(r.action, "GetCallerIdentity");
    assert_eq!(r.access_key_id.as_deref(), Some(key.as_str()));
    assert!(r.header("X-Amz-Security-Token").is_some(), "{r:#?}");
    assert_eq!(moto.count("AssumeRole"), 1);
}

// ---------------------------------------------------------------------------
// The fake STS, raw
// ---------------------------------------------------------------------------

fn post(fake: &FakeSts, body: &str) -> (u16, String) {
    let (status, body) = http_request(
        fake.addr(),
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDRAW/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00",
            ),
        ],
        body.as_bytes(),
        Duration::from_secs(10),
    )
    .expect("request");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn fake_scripts_replies_per_action_and_the_last_repeats() {
    let fake = FakeSts::start();
    let creds = Creds::new().expiring_in(Duration::from_secs(900));
    fake.on(
        "GetSessionToken",
        vec![Reply::throttling(), Reply::SessionToken(creds.clone())],
    );
    fake.on("AssumeRole", vec![Reply::invalid_mfa_code()]);

    let (s, b) = post(
        &fake,
        "Action=GetSessionToken&Version=2011-06-15&TokenCode=111111",
    );
    assert_eq!(s, 400);
    assert!(
        b.contains("<Code>Throttling</Code><Message>Rate exceeded</Message>"),
        "{b}"
    );
    assert!(b.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"), "{b}");
    for _ in 0..2 {
        let (s, b) = post(&fake, "Action=GetSessionToken&Version=2011-06-15");
        assert_eq!(s, 200);
        assert!(
            b.contains(&format!(
                "<AccessKeyId>{}</AccessKeyId>",
                creds.access_key_id
            )),
            "{b}"
        );
        assert!(
            b.contains(&format!("<Expiration>{}</Expiration>", creds.expiration)),
            "{b}"
        );
        assert!(b.starts_with("<GetSessionTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetSessionTokenResult><Credentials>"), "{b}");
    }
    let (s, b) = post(&fake, "Action=AssumeRole&RoleArn=x&TokenCode=222222");
    assert_eq!(s, 403);
    assert!(
        b.contains(&format!(
            "<Code>AccessDenied</Code><Message>{INVALID_MFA_CODE}</Message>"
        )),
        "{b}"
    );

    // Unscripted actions: AssumeRole success derived from the request, unknown → InvalidAction.
    let fake2 = FakeSts::start();
    let (s, b) = post(
        &fake2,
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fops%2Fadmin&RoleSessionName=me",
    );
    assert_eq!(s, 200);
    assert!(
        b.contains("<Arn>arn:aws:sts::111122223333:assumed-role/admin/me</Arn>"),
        "{b}"
    );
    let (s, b) = post(&fake2, "Action=Nope&Version=2011-06-15");
    assert_eq!(s, 400);
    assert!(b.contains("InvalidAction"), "{b}");

    assert_eq!(fake.count("GetSessionToken"), 3);
    assert_eq!(fake.count("AssumeRole"), 1);
    let r = &fake.requests()[0];
    assert_eq!(r.param("TokenCode"), Some("111111"));
    assert_eq!(r.access_key_id.as_deref(), Some("AKIDRAW"));
    assert_eq!(fake.requests()[3].param("TokenCode"), Some("222222"));
}

#[test]
fn fake_speaks_http11_keep_alive_chunked_and_expect_continue() {
    let fake = FakeSts::start();
    let stream = TcpStream::connect(fake.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut w = stream.try_clone().expect("clone");
    let mut r = BufReader::new(stream);

    fn response(r: &mut impl BufRead) -> (String, String) {
        let mut status = String::new();
        r.read_line(&mut status).expect("status line");
        let mut len = 0;
        loop {
            let mut line = String::new();
            r.read_line(&mut line).expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().expect("length");
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).expect("body");
        (
            status.trim_end().to_string(),
            String::from_utf8(body).expect("utf8"),
        )
    }

    // 1: Content-Length.
    let body = "Action=GetSessionToken&TokenCode=000001";
    write!(w, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    assert!(response(&mut r).0.starts_with("HTTP/1.1 200"));
    // 2: chunked, same connection.
    write!(w, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nAction=\r\n20\r\nGetSessionToken&TokenCode=000002\r\n0\r\n\r\n").unwrap();
    let (status, body2) = response(&mut r);
    assert!(status.starts_with("HTTP/1.1 200"), "{status} {body2}");
    // 3: Expect: 100-continue: the body goes only after the interim response.
    let body = "Action=GetSessionToken&TokenCode=000003";
    write!(w, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
    let mut interim = String::new();
    r.read_line(&mut interim).unwrap();
    assert_eq!(interim, "HTTP/1.1 100 Continue\r\n");
    let mut blank = String::new();
    r.read_line(&mut blank).unwrap();
    w.write_all(body.as_bytes()).unwrap();
    assert!(response(&mut r).0.starts_with("HTTP/1.1 200"));

    let reqs = fake.requests();
    let codes: Vec<_> = reqs
        .iter()
        .map(|q| q.param("TokenCode").unwrap_or(""))
        .collect();
    assert_eq!(codes, ["000001", "000002", "000003"]);
    assert!(reqs.iter().all(|q| q.connection == Some(0)), "{reqs:#?}");
    assert_eq!(fake.connections(), 1);
}

#[test]
fn fake_garbage_raw_close_and_truncated() {
    let fake = FakeSts::start();
    fake.on(
        "GetSessionToken",
        vec![
            Reply::Garbage(b"\x00\xffnot xml".to_vec()),
            Reply::truncated(Reply::session_token()),
            Reply::Raw(b"SSH-2.0-OpenSSH\r\n".to_vec()),
            Reply::Close,
            Reply::Delay(
                Duration::from_millis(50),
                Box::new(Reply::internal_failure()),
            ),
        ],
    );
    let gst = "Action=GetSessionToken";
    let (s, b) = post(&fake, gst);
    assert_eq!((s, b.as_str()), (200, "\u{0}\u{fffd}not xml"));
    let (s, b) = post(&fake, gst);
    assert_eq!(s, 200);
    assert!(
        b.starts_with("<GetSessionTokenResponse") && !b.contains("</GetSessionTokenResponse>"),
        "{b}"
    );
    let e = http_request(
        fake.addr(),
        "POST",
        "/",
        &[],
        gst.as_bytes(),
        Duration::from_secs(5),
    );
    assert!(e.is_err(), "raw bytes parsed as HTTP: {e:?}");
    let e = http_request(
        fake.addr(),
        "POST",
        "/",
        &[],
        gst.as_bytes(),
        Duration::from_secs(5),
    );
    assert!(e.is_err(), "closed connection gave a response: {e:?}");
    let t = Instant::now();
    let (s, b) = post(&fake, gst);
    assert!(t.elapsed() >= Duration::from_millis(50));
    assert_eq!(s, 500);
    assert!(
        b.contains("<Type>Receiver</Type><Code>InternalFailure</Code>"),
        "{b}"
    );
    assert_eq!(fake.count("GetSessionToken"), 5);
}

#[test]
fn unused_port_refuses_connections() {
    let endpoint = fake_sts::refused_endpoint();
    let err = TcpStream::connect_timeout(&addr_of(&endpoint), Duration::from_secs(1))
        .expect_err("something listens");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn rfc3339_formats_utc() {
    use std::time::UNIX_EPOCH;
    assert_eq!(fake_sts::rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    assert_eq!(
        fake_sts::rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_000_000)),
        "2026-11-18T11:06:40Z"
    );
    assert_eq!(
        fake_sts::rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
        "2000-02-29T00:00:00Z"
    );
}

// ---------------------------------------------------------------------------
// The AWS CLI against the fake
// ---------------------------------------------------------------------------

fn fake_env(fake: &FakeSts) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", fake.endpoint().as_str()),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKIAHARNESSFAKE00001"),
        ("AWS_SECRET_ACCESS_KEY", "harness-secret"),
        ("AWS_MAX_ATTEMPTS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn aws_cli_sees_access_denied_from_the_fake() {
    if support::require_venv_bin("aws").is_none() {
        return;
    }
    let fake = FakeSts::start();
    fake.on("GetSessionToken", vec![Reply::invalid_mfa_code()]);
    let (status, out, err) = run_aws(
        fake_env(&fake),
        &[
            "sts",
            "get-session-token",
            "--serial-number",
            MFA_SERIAL,
            "--token-code",
            "000000",
        ],
    );
    assert!(!status.success());
    assert_eq!(out, "");
    assert!(
        err.contains("An error occurred (AccessDenied) when calling the GetSessionToken operation: MultiFactorAuthentication failed with invalid MFA one time pass code."),
        "{err}"
    );
    assert_eq!(fake.count("GetSessionToken"), 1);
    assert_eq!(fake.requests()[0].param("TokenCode"), Some("000000"));
}

#[test]
fn aws_cli_read_timeout_cuts_a_hang() {
    if support::require_venv_bin("aws").is_none() {
        return;
    }
    let fake = FakeSts::start();
    fake.on("GetCallerIdentity", vec![Reply::Hang]);
    let t = Instant::now();
    let (status, _, err) = run_aws(
        fake_env(&fake),
        &["sts", "get-caller-identity", "--cli-read-timeout", "1"],
    );
    assert!(!status.success());
    assert!(err.contains("Read timeout"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(30));
    assert_eq!(fake.count("GetCallerIdentity"), 1);
}

// ---------------------------------------------------------------------------
// The Rust AWS SDK on the wire (what mfaenv's STS calls look like)
// ---------------------------------------------------------------------------

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

#[test]
fn moto_parallel_instances_keep_their_own_counts() {
    let threads: Vec<_> = (1..=6)
        .map(|n| {
            std::thread::spawn(move || {
                let Some(moto) = Moto::start() else { return };
                let key = format!("AKIDPARALLEL{n}");
                for _ in 0..n {
                    signed_sts_post(
                        addr_of(&moto.endpoint()),
                        &key,
                        "Action=GetSessionToken&Version=2011-06-15",
                    );
                }
                assert_eq!(moto.count("GetSessionToken"), n);
                assert!(moto
                    .requests()
                    .iter()
                    .all(|r| r.access_key_id.as_deref() == Some(key.as_str())));
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
}
