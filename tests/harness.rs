//! Tests of the test bed itself: moto (forked per test, and the literal
//! `moto_server`), the fake STS, and the AWS CLI against both. How the Rust
//! AWS SDK behaves on the wire is in `sts_contract.rs`.

mod support;

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
        addr_of(&a.raw_endpoint()),
        "AKIDHARNESSA",
        "Action=GetSessionToken&Version=2011-06-15&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice&TokenCode=123456",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<GetSessionTokenResponse"), "{body}");
    signed_sts_post(
        addr_of(&a.raw_endpoint()),
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
        addr_of(&a.raw_endpoint()),
        "AKIDHARNESSA",
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(a.count("GetCallerIdentity"), 1);
    a.stop_recording();
    signed_sts_post(
        addr_of(&a.raw_endpoint()),
        "AKIDHARNESSA",
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert_eq!(
        a.count("GetCallerIdentity"),
        1,
        "stopped recording still recorded"
    );

    // Dropped means gone.
    let addr = addr_of(&a.raw_endpoint());
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
        addr_of(&moto.raw_endpoint()),
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
        addr_of(&moto.raw_endpoint()),
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
    moto.trust("AKIAHARNESSLONGTERM1", "harness-secret");
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
    moto.trust("AKIAHARNESSLONGTERM2", "harness-secret");
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

#[test]
fn moto_parallel_instances_keep_their_own_counts() {
    let threads: Vec<_> = (1..=6)
        .map(|n| {
            std::thread::spawn(move || {
                let Some(moto) = Moto::start() else { return };
                let key = format!("AKIDPARALLEL{n}");
                for _ in 0..n {
                    signed_sts_post(
                        addr_of(&moto.raw_endpoint()),
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
