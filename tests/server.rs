//! `mfaenv exec --server`: real SDKs as the child read the role through the
//! credential endpoint and have no key in their environment; short role
//! sessions are renewed with one code typed at the start; the endpoint
//! refuses what is not the exact token + GET + path; signals, exit status,
//! and no socket left behind.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::fake_sts::{Creds, FakeSts, Reply};
use support::moto::Moto;
use support::sandbox::{Sandbox, CONFIG, CREDENTIALS};
use support::sdks::Sdk;

const SERIAL: &str = "arn:aws:iam::111111111111:mfa/alice";

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Python that fails unless the environment is the server's: a loopback
/// FULL_URI, a 64-hex-digit token, no keys, no profile, no relative URI.
const ENV_CHECK: &str = r#"
import os, re, sys, urllib.parse
e = os.environ
for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
          "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
          "AWS_CREDENTIAL_EXPIRATION", "MFAENV_SHELL", "MFAENV_PRIOR",
          "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"):
    assert k not in e, k
url = urllib.parse.urlparse(e["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
assert url.scheme == "http" and url.hostname == "127.0.0.1" and url.port, url
assert re.fullmatch("[0-9a-f]{64}", e["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
assert not any(v.startswith("ASIA") or v.startswith("AKIA") for v in e.values())
"#;

const BOTOCORE: &str = r#"
import botocore.session
s = botocore.session.Session()
c = s.get_credentials()
sts = s.create_client("sts")
print(c.method, s.get_config_variable("region"), sts.get_caller_identity()["Arn"])
"#;

/// The environment a user's shell might have had: keys, a profile, a
/// relative URI, a token file, all of which must not reach the child.
fn hostile_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "AKIASTALEKEY0000000"),
        ("AWS_SECRET_ACCESS_KEY", "stale-secret"),
        ("AWS_SESSION_TOKEN", "stale-token"),
        ("AWS_SECURITY_TOKEN", "stale-token"),
        ("AWS_PROFILE", "prod"),
        (
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/evil",
        ),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/etc/hostname"),
        // A web identity comes before the endpoint in every SDK's chain.
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/etc/hostname"),
        ("AWS_ROLE_ARN", "arn:aws:iam::444444444444:role/web"),
        ("AWS_ROLE_SESSION_NAME", "web"),
        ("MFAENV_SHELL", "bash"),
    ]
}

#[test]
fn botocore_and_the_cli_read_the_role_through_the_endpoint() {
    let Some(moto) = Moto::start() else { return };
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let sb = Sandbox::new(&moto.endpoint());
    let script = format!("{ENV_CHECK}\n{BOTOCORE}");
    let out = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--"])
        .arg(&python)
        .args(["-c", &script])
        .envs(hostile_env())
        .output()
        .unwrap();
    let said = stdout_of(&out);
    assert!(out.status.success(), "{said}\n{}", stderr_of(&out));
    let parts: Vec<&str> = said.split_whitespace().collect();
    assert_eq!(parts[..2], ["container-role", "us-west-2"], "{said}");
    assert!(parts[2].contains(":assumed-role/hc-master/"), "{said}");

    // The AWS CLI, by MFAENV_SERVER=1 this time, from the cached session.
    let out = sb
        .mfaenv(&["exec", "prod", "--", "aws", "sts", "get-caller-identity"])
        .args(["--query", "Arn", "--output", "text"])
        .env("MFAENV_SERVER", "1")
        .envs(hostile_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains(":assumed-role/hc-master/"),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(moto.count("GetSessionToken"), 1);

    // And by the profile key; MFAENV_SERVER=0 turns it off again.
    sb.add_config("mfaenv_server = true\n"); // appended to [profile staging]
    let run = |env: &[(&str, &str)]| {
        sb.mfaenv(&["exec", "staging", "--", "sh", "-c"])
            .arg("echo ${AWS_CONTAINER_CREDENTIALS_FULL_URI:-none} ${AWS_ACCESS_KEY_ID:-none}")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let served = stdout_of(&run(&[]));
    assert!(
        served.starts_with("http://127.0.0.1:") && served.ends_with(" none\n"),
        "{served}"
    );
    let plain = stdout_of(&run(&[("MFAENV_SERVER", "0")]));
    assert!(plain.starts_with("none ASIA"), "{plain}");
    let out = run(&[("MFAENV_SERVER", "maybe")]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("MFAENV_SERVER=maybe"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn the_js_sdk_reads_the_role_through_the_endpoint() {
    let Some(moto) = Moto::start() else { return };
    // No profile argument: client-sts's default chain, whose remote
    // provider reads AWS_CONTAINER_CREDENTIALS_FULL_URI.
    let Some(js) = Sdk::Js.command(None) else {
        return;
    };
    let sb = Sandbox::new(&moto.endpoint());
    let out = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--"])
        .arg(&js.path)
        .args(&js.args)
        .envs(js.env)
        .env("MFAENV_TEST_ENDPOINT", moto.endpoint())
        .envs(hostile_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(said["region"], "us-west-2", "{said}");
    assert!(
        said["arn"]
            .as_str()
            .unwrap()
            .contains(":assumed-role/hc-master/"),
        "{said}"
    );
}

#[test]
fn the_go_sdk_v2_reads_the_role_through_the_endpoint() {
    let Some(moto) = Moto::start() else { return };
    let Some(go) = Sdk::GoV2.command(None) else {
        return;
    };
    let sb = Sandbox::new(&moto.endpoint());
    let out = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--"])
        .arg(&go.path)
        .args(&go.args)
        .env("MFAENV_TEST_ENDPOINT", moto.endpoint())
        .envs(hostile_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(said["source"], "CredentialsEndpointProvider", "{said}");
    assert_eq!(said["region"], "us-west-2", "{said}");
    assert!(
        said["arn"]
            .as_str()
            .unwrap()
            .contains(":assumed-role/hc-master/"),
        "{said}"
    );
}

/// botocore asking every 4 s; role sessions of 6 s, renewed after 3.
const ASK_OVER_TIME: &str = r#"
import time, datetime, botocore.session
c = botocore.session.Session().get_credentials()
for i in range(4):
    f = c.get_frozen_credentials()
    left = (c._expiry_time - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    print("KEY", f.access_key, "%.1f" % left, flush=True)
    time.sleep(4)
# The renewed sessions are the cache's: `mfaenv export` serves the same keys.
import json, os, subprocess, urllib.request
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
auth = {"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]}
for attempt in range(3):
    cached = json.loads(subprocess.check_output(
        [os.environ["MFAENV_BIN"], "export", "--shell", "json", "--min-ttl", "1s", "prod"]))
    served = json.load(urllib.request.urlopen(urllib.request.Request(url, headers=auth)))
    if cached["AWS_ACCESS_KEY_ID"] == served["AccessKeyId"]:
        print("SHARED", flush=True)
        break
print("DONE", flush=True)
"#;

#[test]
fn short_role_sessions_are_renewed_with_one_code_typed_at_the_start() {
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let fake = FakeSts::start();
    // Slow enough for mfaenv's spinner, which must not draw over the command's output.
    fake.on(
        "AssumeRole",
        vec![Reply::Delay(
            Duration::from_millis(500),
            Box::new(Reply::FreshAssumeRole(Duration::from_secs(6))),
        )],
    );
    let sb = Sandbox::new(&fake.endpoint());
    let mut cmd = Command::new(support::mfaenv_bin());
    cmd.args(["exec", "--server", "--min-ttl", "2s", "prod", "--"])
        .arg(&python)
        .args(["-c", &format!("{ENV_CHECK}\n{ASK_OVER_TIME}")])
        .env_clear()
        .envs(sb.env())
        .env("MFAENV_BIN", support::mfaenv_bin())
        .current_dir(sb.home());
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn in a pty");
    p.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    p.send_line("123456").unwrap();
    let mut keys = Vec::new();
    let mut shown = String::new();
    for i in 0..4 {
        let before = p.exp_string("KEY ").unwrap();
        if i > 0 {
            shown.push_str(&before);
        }
        let line = p.read_line().unwrap();
        let mut words = line.split_whitespace();
        let key = words.next().unwrap().to_string();
        let left: f64 = words.next().unwrap().parse().unwrap();
        assert!(left > 0.0, "served expired keys: {line}");
        keys.push(key);
    }
    shown.push_str(&p.exp_string("SHARED").unwrap());
    p.exp_string("DONE").unwrap();
    p.exp_eof().unwrap();
    assert!(
        !shown.contains("mfaenv:"),
        "mfaenv wrote over the command: {shown:?}"
    );
    let mut distinct = keys.clone();
    distinct.dedup();
    assert_eq!(distinct, keys, "new keys each time: {keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("ASIAFAKE")), "{keys:?}");
    let requests = fake.requests();
    let gst: Vec<_> = requests
        .iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gst.len(), 1, "one MFA session");
    assert_eq!(gst[0].param("TokenCode"), Some("123456"));
    let assumed: Vec<_> = requests
        .iter()
        .filter(|r| r.action == "AssumeRole")
        .collect();
    assert!(assumed.len() >= 4, "{} AssumeRole calls", assumed.len());
    // Every renewal is signed with the MFA session's keys, with no code.
    assert!(assumed.iter().all(|r| r.param("TokenCode").is_none()));
    let session_key = assumed[0].access_key_id.clone();
    assert!(assumed.iter().all(|r| r.access_key_id == session_key));
}

/// botocore's container provider, fresh every second: the key, or the
/// error it reports.
const UNTIL_ERROR: &str = r#"
import time, botocore.credentials
for i in range(30):
    try:
        c = botocore.credentials.ContainerProvider().load()
        print("KEY", c.access_key, flush=True)
    except Exception as e:
        print("ERR", type(e).__name__, e, flush=True)
        break
    time.sleep(1)
"#;

#[test]
fn the_end_of_the_mfa_session_is_said_once_then_the_sdk_gets_an_error() {
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let fake = FakeSts::start();
    // The cache counts the MFA session as ended 5 min before its expiry:
    // renewable for 6 more seconds, then no more.
    fake.on(
        "GetSessionToken",
        vec![Reply::SessionToken(
            Creds::new().expiring_in(Duration::from_secs(5 * 60 + 6)),
        )],
    );
    fake.on(
        "AssumeRole",
        vec![Reply::FreshAssumeRole(Duration::from_secs(6))],
    );
    let sb = Sandbox::new(&fake.endpoint());
    let out = sb
        .mfaenv(&[
            "exec",
            "--server",
            "--min-ttl",
            "2s",
            "-t",
            "123456",
            "prod",
            "--",
        ])
        .arg(&python)
        .args(["-c", UNTIL_ERROR])
        .output()
        .unwrap();
    let (said, err) = (stdout_of(&out), stderr_of(&out));
    assert!(out.status.success(), "{said}\n{err}");
    assert_eq!(
        err.matches("the MFA session of `prod` ends at").count(),
        1,
        "{err}"
    );
    assert_eq!(
        err.matches("cannot renew the keys of `prod`").count(),
        1,
        "{err}"
    );
    assert!(err.contains("an MFA code for"), "{err}");
    let last = said.lines().last().unwrap_or_default();
    assert!(last.starts_with("ERR CredentialRetrievalError"), "{said}");
    assert!(last.contains("could not be renewed"), "{said}");
    assert!(
        said.lines().filter(|l| l.starts_with("KEY")).count() >= 6,
        "{said}"
    );
    assert_eq!(fake.count("GetSessionToken"), 1);
}

/// Raw requests over real sockets: prints one status per request.
const REFUSALS: &str = r#"
import os, socket, time, urllib.parse, json
url = urllib.parse.urlparse(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
def ask(raw):
    s = socket.create_connection((url.hostname, url.port), timeout=5)
    s.sendall(raw.encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]) if head else 0, body.decode()
def get(auth, method="GET", path=url.path, extra=""):
    h = "" if auth is None else "Authorization: %s\r\n" % auth
    return "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s\r\n" % (method, path, h, extra)
# A slow client holds a connection open, sending nothing.
slow = socket.create_connection((url.hostname, url.port))
slow.sendall(b"GET ")
status, body = ask(get(token))
secret = json.loads(body)["SecretAccessKey"]
print("good", status)
last = token[:-1] + ("0" if token[-1] != "0" else "1")
cases = {
    "none": get(None),
    "wrong": get("x" * 64),
    "lastbyte": get(last),
    "bearer": get("Bearer " + token),
    "post": get(token, "POST", extra="Content-Length: 2\r\n\r\n{}"),
    "path": get(token, path="/other"),
    "huge": get(token, extra="X-Pad: %s\r\n" % ("a" * 9000)),
}
for name, raw in cases.items():
    status, body = ask(raw)
    assert secret not in body and token not in body, name
    print(name, status)
start = time.monotonic()
print("good-again", ask(get(token))[0], "%.3f" % (time.monotonic() - start))
"#;

#[test]
fn the_endpoint_refuses_what_is_not_the_exact_token_get_and_path() {
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let out = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--"])
        .arg(&python)
        .args(["-c", REFUSALS])
        .output()
        .unwrap();
    let said = stdout_of(&out);
    assert!(out.status.success(), "{said}\n{}", stderr_of(&out));
    let status: std::collections::BTreeMap<&str, &str> = said
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?, w.next()?))
        })
        .collect();
    assert_eq!(status["good"], "200", "{said}");
    for refused in ["none", "wrong", "lastbyte", "bearer", "post", "path"] {
        assert_eq!(status[refused], "403", "{refused}: {said}");
    }
    assert_eq!(status["huge"], "400", "{said}");
    // The slow client, still connected, did not hold up the last request.
    let line = said.lines().find(|l| l.starts_with("good-again")).unwrap();
    let took: f64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert_eq!(status["good-again"], "200");
    assert!(took < 1.0, "{line}");
}

/// Whether a socket listens on 127.0.0.1:`port` (/proc/net/tcp, state 0A).
fn listening(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).any(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        cols.get(1) == Some(&local.as_str()) && cols.get(3) == Some(&"0A")
    })
}

/// Starts `mfaenv exec --server prod -- sh -c SCRIPT` (the script first
/// prints the FULL_URI); returns the child and the port.
fn start_sh(
    sb: &Sandbox,
    script: &str,
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    u16,
) {
    let mut child = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--", "sh", "-c"])
        .arg(format!(
            "echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\"; {script}"
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut uri = String::new();
    out.read_line(&mut uri).unwrap();
    let port = uri
        .trim()
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no FULL_URI: {uri:?}"));
    (child, out, port)
}

#[test]
fn exit_status_and_signals_are_passed_on_and_no_socket_is_left() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    // The command's own status; the listener is not among its descriptors.
    let (mut child, mut out, port) = start_sh(&sb, "ls -l /proc/$$/fd | grep -c socket:; exit 42");
    let mut sockets = String::new();
    out.read_line(&mut sockets).unwrap();
    assert_eq!(sockets.trim(), "0", "the command inherited a socket");
    assert_eq!(child.wait().unwrap().code(), Some(42));
    assert!(!listening(port), "port {port} still listening");
    // mfaenv holds signals back while it starts the command; the command does not.
    let out = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--"])
        .args(["grep", "SigBlk", "/proc/self/status"])
        .output()
        .unwrap();
    let blocked = stdout_of(&out);
    assert_eq!(
        blocked.split_whitespace().nth(1),
        Some("0000000000000000"),
        "{blocked}"
    );

    // SIGTERM sent to mfaenv (by a process) reaches the command: 128+15.
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGHUP, 129)] {
        let (mut child, mut out, port) = start_sh(&sb, "echo READY; exec sleep 30");
        let mut ready = String::new();
        out.read_line(&mut ready).unwrap();
        assert!(listening(port), "port {port} not listening while it runs");
        // SAFETY: kill with a pid we started.
        unsafe { libc::kill(child.id() as i32, signal) };
        let started = Instant::now();
        assert_eq!(child.wait().unwrap().code(), Some(code), "signal {signal}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!listening(port), "port {port} still listening");
    }
}

/// Takes each SIGINT as it comes (blocked, then sigwaitinfo: no handler
/// delay in which two could merge), says who sent each, then exits 7.
const COUNT_INTS: &str = r#"
import signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
print("READY", flush=True)
got = [signal.sigwaitinfo({signal.SIGINT})]
while True:
    info = signal.sigtimedwait({signal.SIGINT}, 1.0)
    if info is None:
        break
    got.append(info)
print("INTS=%d FROM=%s" % (len(got), ",".join(
    "terminal" if i.si_code == 0x80 else "pid%d" % i.si_pid for i in got)), flush=True)
sys.exit(7)
"#;

#[test]
fn ctrl_c_at_the_terminal_reaches_the_command_once() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let mut cmd = Command::new(support::mfaenv_bin());
    cmd.args(["exec", "--server", "-t", "123456", "prod", "--"])
        .arg(python)
        .args(["-c", COUNT_INTS])
        .env_clear()
        .envs(sb.env())
        .current_dir(sb.home());
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    p.exp_string("READY").unwrap();
    p.send_control('c').unwrap();
    // Once: from the terminal, not a second time from mfaenv.
    p.exp_string("INTS=1 FROM=terminal").unwrap();
    p.exp_eof().unwrap();
    match p.process.wait().unwrap() {
        rexpect::process::WaitStatus::Exited(_, code) => assert_eq!(code, 7),
        other => panic!("mfaenv did not exit with the command's status: {other:?}"),
    }
}

#[test]
fn a_default_profile_with_credentials_of_its_own_is_refused_before_the_code() {
    let Some(moto) = Moto::start() else { return };
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    moto.trust("AKIADEFAULT000000001", "default-secret");
    let keys = "[default]\naws_access_key_id = AKIADEFAULT000000001\naws_secret_access_key = default-secret\n";
    // Each way `default` gets credentials the SDKs read before the endpoint.
    let cases = [
        ("aws_access_key_id", CONFIG.to_string(), format!("{CREDENTIALS}{keys}")),
        ("aws_access_key_id", format!("{CONFIG}{keys}"), CREDENTIALS.to_string()),
        (
            "role_arn",
            format!("{CONFIG}[default]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/d\n"),
            CREDENTIALS.to_string(),
        ),
        (
            "credential_process",
            format!("{CONFIG}[default]\ncredential_process = /bin/false\n"),
            CREDENTIALS.to_string(),
        ),
    ];
    for (key, config, credentials) in cases {
        let sb = Sandbox::with(&moto.endpoint(), &config, &credentials);
        let out = sb
            .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--"])
            .arg(&python)
            .args(["-c", BOTOCORE])
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert!(!out.status.success(), "{key}: ran: {}", stdout_of(&out));
        assert_eq!(stdout_of(&out), "", "{key}: the command ran");
        assert!(
            err.contains(&format!(
                "profile `default` has credentials of its own ({key} at "
            )) && err.contains("would run as `default`"),
            "{key}: {err}"
        );
    }
    // Refused before a code is asked for, or a session is got.
    assert_eq!(moto.count("GetSessionToken"), 0);
    // A `default` with no credentials of its own: botocore gets the role.
    let sb = Sandbox::with(
        &moto.endpoint(),
        &format!("{CONFIG}[default]\nregion = eu-north-1\n"),
        CREDENTIALS,
    );
    let out = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--"])
        .arg(&python)
        .args(["-c", BOTOCORE])
        .output()
        .unwrap();
    let said = stdout_of(&out);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(said.starts_with("container-role us-west-2 "), "{said}");
    assert!(said.contains(":assumed-role/hc-master/"), "{said}");
}

/// Run as another user: 100 connections that send half a request and
/// wait; after a second, says how many of them the server has closed.
const HOG: &str = r#"
import os, socket, time, urllib.parse
url = urllib.parse.urlparse(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
held = []
for i in range(100):
    try:
        s = socket.create_connection((url.hostname, url.port))
        s.sendall(b"GET ")
        held.append(s)
    except OSError:
        pass  # closed on us already
time.sleep(1)
closed = 100 - len(held)
for s in held:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print("CLOSED=%d" % closed, flush=True)
time.sleep(30)
"#;

/// The command starts HOG as user UID:GID, then asks for its own keys.
const AGAINST_HOG: &str = r#"
import os, socket, subprocess, sys, time, urllib.parse
uid, gid = int(sys.argv[1]), int(sys.argv[2])
hog = subprocess.Popen(["/usr/bin/python3", "-c", sys.argv[3]], user=uid, group=gid,
                       extra_groups=[], stdout=subprocess.PIPE, text=True, cwd="/")
print(hog.stdout.readline().strip(), flush=True)
url = urllib.parse.urlparse(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
start = time.monotonic()
s = socket.create_connection((url.hostname, url.port), timeout=5)
s.sendall(("GET %s HTTP/1.1\r\nAuthorization: %s\r\n\r\n"
           % (url.path, os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])).encode())
got = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
print("OURS", got.split(b" ")[1].decode(), "%.3f" % (time.monotonic() - start), flush=True)
hog.kill()
"#;

#[test]
fn another_users_slow_connections_are_closed_soon_and_hold_up_nothing() {
    let Some((other, _)) = support::users::two() else {
        return;
    };
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let out = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--"])
        .arg(&python)
        .args(["-c", AGAINST_HOG])
        .args([
            other.uid.to_string(),
            other.gid.to_string(),
            HOG.to_string(),
        ])
        .output()
        .unwrap();
    let said = stdout_of(&out);
    assert!(out.status.success(), "{said}\n{}", stderr_of(&out));
    // Closed at once, as accepted: not held for the 1 s deadline.
    assert!(said.contains("CLOSED=100\n"), "{said}");
    let ours = said.lines().find(|l| l.starts_with("OURS")).unwrap();
    let words: Vec<&str> = ours.split_whitespace().collect();
    assert_eq!(words[1], "200", "{said}");
    let took: f64 = words[2].parse().unwrap();
    assert!(took < 1.0, "{said}");
}

/// Run as another user: holds IDLE idle connections and HALF half-sent
/// requests to the endpoint, opening a new one for each the server closes,
/// for ARGV[1] seconds; says READY once all are open (or tried).
const ATTACK: &str = r#"
import os, resource, select, socket, sys, time, urllib.parse
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
url = urllib.parse.urlparse(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
IDLE, HALF = 300, 1000
poll, socks, opened = select.poll(), {}, 0
def open_one(kind):
    global opened
    try:
        s = socket.create_connection((url.hostname, url.port), timeout=0.5)
        if kind == "half":
            s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthoriz" % url.path).encode())
        s.setblocking(False)
    except OSError:
        return
    opened += 1
    socks[s.fileno()] = (s, kind)
    poll.register(s, select.POLLIN)
for i in range(IDLE):
    open_one("idle")
for i in range(HALF):
    open_one("half")
print("READY", opened, flush=True)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    for fd, _ in poll.poll(50):
        s, kind = socks.pop(fd)
        poll.unregister(fd)
        s.close()
        open_one(kind)
    for kind, want in (("idle", IDLE), ("half", HALF)):
        for i in range(want - sum(1 for _, k in socks.values() if k == kind)):
            open_one(kind)
print("OPENED", opened, flush=True)
"#;

/// The command starts ATTACK as user UID:GID, then asks for its own keys N
/// times as an SDK does (a new connection each, 2 s to answer).
const UNDER_ATTACK: &str = r#"
import os, socket, subprocess, sys, time, urllib.parse
uid, gid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[4])
attack = subprocess.Popen(["/usr/bin/python3", "-c", sys.argv[3], "60"], user=uid, group=gid,
                          extra_groups=[], stdout=subprocess.PIPE, text=True, cwd="/")
print(attack.stdout.readline().strip(), flush=True)
url = urllib.parse.urlparse(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n\r\n"
       % (url.path, os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])).encode()
ok, worst = 0, 0.0
for i in range(n):
    start = time.monotonic()
    try:
        s = socket.create_connection((url.hostname, url.port), timeout=2)
        s.sendall(req)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        s.close()
        ok += got.startswith(b"HTTP/1.1 200 ")
    except OSError as e:
        print("FAILED", i, e, flush=True)
    worst = max(worst, time.monotonic() - start)
print("ANSWERED %d/%d WORST %.3f" % (ok, n, worst), flush=True)
attack.kill()
"#;

#[test]
fn another_user_cannot_starve_the_command_of_its_keys() {
    let Some((other, _)) = support::users::two() else {
        return;
    };
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let n = 300;
    let child = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--"])
        .arg(&python)
        .args(["-c", UNDER_ATTACK])
        .args([
            other.uid.to_string(),
            other.gid.to_string(),
            ATTACK.to_string(),
            n.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = support::users::output_within(child, Duration::from_secs(120), "the attack");
    let said = stdout_of(&out);
    assert!(out.status.success(), "{said}\n{}", stderr_of(&out));
    assert!(said.starts_with("READY "), "{said}");
    let line = said.lines().find(|l| l.starts_with("ANSWERED")).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[1], format!("{n}/{n}"), "{said}");
    let worst: f64 = words[3].parse().unwrap();
    assert!(worst < 1.0, "{said}");
}

/// Whether `pid` is gone (or a zombie nobody reaps: it runs no more).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

fn all_gone_within(pids: &[i32], limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if pids.iter().all(|&p| gone(p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The command: a background job that ignores SIGTERM (as `nohup` and
/// careless scripts do), its pid and the shell's, then waits.
const LEAVES_A_JOB: &str = "trap '' TERM HUP; sleep 300 & echo $! $$; wait";

#[test]
fn nothing_the_command_started_outlives_a_killed_mfaenv() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    for signal in [libc::SIGKILL, libc::SIGUSR1] {
        let (mut child, mut out, port) = start_sh(&sb, LEAVES_A_JOB);
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let pids: Vec<i32> = line
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(pids.len(), 2, "{line:?}");
        assert!(!pids.iter().any(|&p| gone(p)), "not started: {line}");
        // SAFETY: kill with a pid we started.
        unsafe { libc::kill(child.id() as i32, signal) };
        child.wait().unwrap();
        assert!(
            all_gone_within(&pids, Duration::from_secs(3)),
            "signal {signal}: still running: {:?}",
            pids.iter().filter(|&&p| !gone(p)).collect::<Vec<_>>()
        );
        assert!(!listening(port));
    }
    // The command's own end ends what it left running too: nobody serves it.
    let out = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--", "sh", "-c"])
        .arg("trap '' TERM HUP; sleep 300 >/dev/null 2>&1 & echo $!")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let pid: i32 = stdout_of(&out).trim().parse().unwrap();
    assert!(
        all_gone_within(&[pid], Duration::from_secs(3)),
        "{pid} still running"
    );
}

/// Sends `text` as typed (a terminal's Enter is `\r`).
fn typed(session: &mut rexpect::session::PtySession, text: &str) {
    session.send(text).unwrap();
    session.flush().unwrap();
}

/// In a real interactive bash (job control on): the command, in a group of
/// its own, has the terminal — it reads what is typed; Ctrl-Z stops it and
/// mfaenv, and bash takes the terminal back; `fg` gives it to the command.
#[test]
fn the_command_has_the_terminal_and_ctrl_z_and_fg_work_in_bash() {
    use support::shells::{interactive, RealShell, PROMPT};
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let mut bash = interactive(RealShell::Bash, &sb, "", &[]);
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    // Says when it runs again, so the test types only then (as a person would).
    let script = "import signal, sys\nsignal.signal(signal.SIGCONT, lambda *a: print('RESUMED', flush=True))\nprint('READY', flush=True)\nfor i in range(2):\n    print('GOT-' + input(), flush=True)\nsys.exit(3)";
    std::fs::write(sb.home().join("reads.py"), script).unwrap();
    let run = format!(
        "{} exec --server -t 123456 prod -- {} reads.py\r",
        support::mfaenv_bin().display(),
        python.display()
    );
    typed(&mut bash, &run);
    bash.exp_string("READY").unwrap();
    typed(&mut bash, "first\r");
    bash.exp_string("GOT-first").unwrap();
    bash.send_control('z').unwrap();
    bash.exp_string("Stopped").unwrap();
    bash.exp_string(PROMPT).unwrap();
    // bash has the terminal back: it runs what is typed.
    typed(&mut bash, "echo BASH-$((40+2))\r");
    bash.exp_string("BASH-42").unwrap();
    bash.exp_string(PROMPT).unwrap();
    typed(&mut bash, "fg\r");
    bash.exp_string("RESUMED").unwrap();
    typed(&mut bash, "second\r");
    bash.exp_string("GOT-second").unwrap();
    bash.exp_string(PROMPT).unwrap();
    typed(&mut bash, "echo STATUS-$?\r");
    bash.exp_string("STATUS-3").unwrap();
    typed(&mut bash, "exit\r");
    bash.exp_eof().unwrap();
}

/// A script run from an interactive bash (no job control of its own) goes
/// on reading the terminal after mfaenv: after a `kill -9` of mfaenv, the
/// watchdog gives the terminal back from the command's group to the
/// script's.
#[test]
fn after_a_killed_mfaenv_the_script_that_ran_it_has_the_terminal_again() {
    use support::shells::{interactive, RealShell};
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let script = format!(
        "{} exec --server -t 123456 prod -- sh -c 'echo MFAENV-$PPID-; exec sleep 300'\nsleep 0.5\nread x\necho AFTER-$x\n",
        support::mfaenv_bin().display()
    );
    std::fs::write(sb.home().join("script.sh"), script).unwrap();
    let mut bash = interactive(RealShell::Bash, &sb, "", &[]);
    typed(&mut bash, "bash script.sh\r");
    let (_, seen) = bash.exp_regex("MFAENV-[0-9]+-").unwrap();
    let pid: i32 = seen
        .trim_start_matches("MFAENV-")
        .trim_end_matches('-')
        .parse()
        .unwrap();
    // SAFETY: kill of the mfaenv the script started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    typed(&mut bash, "typed\r");
    bash.exp_string("AFTER-typed").unwrap();
    typed(&mut bash, "exit\r");
    bash.exp_eof().unwrap();
}
