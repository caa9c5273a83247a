//! moto's server as a real STS/IAM emulator on 127.0.0.1, one per test.
//!
//! # One moto per test, forked from a warm parent
//!
//! Tests run in parallel threads and assert things like "exactly one
//! GetSessionToken reached the emulator", so each test needs its own request
//! log and its own state. A shared server would need a global `reset` (which
//! races with other tests) and could not tell whose requests were whose:
//! moto's GetSessionToken hands every caller the same keys, so even the access
//! key id of a following AssumeRole does not identify the test.
//!
//! Starting `moto_server -H 127.0.0.1 -p 0` costs 0.3–0.6 s until it prints
//! its port on this machine (2 cores), plus 0.07–0.2 s for the first STS
//! request, which imports the STS backend lazily. Nearly all of it is Python
//! importing moto, boto3 and Flask: CPU-bound, so parallel tests do not hide
//! it, and with dozens of tests it adds up to many seconds.
//!
//! So [`Moto::start`] forks: a "zygote" Python process (one per test binary,
//! started on first use) imports moto once, builds moto's own server app
//! exactly as `moto.server.main` does (`DomainDispatcherApplication(
//! create_backend_app)` with `MotoRequestHandler`, threaded werkzeug
//! `make_server`), warms the STS and IAM backends with one request each and
//! resets them, then forks one child server per test: a listening socket on
//! port 0, its own state, its own recorder file (`MOTO_RECORDER_FILEPATH`), its
//! own log. Measured: the zygote once ~0.5–0.6 s, then ~15 ms per instance
//! until it has answered (fork ~5 ms) and a few ms for its first STS call,
//! against ~0.4–0.8 s for a fresh `moto_server`. The zygote exits, killing its
//! children, when the test process closes its stdin (at exit, however it
//! ends); children also get `PR_SET_PDEATHSIG`.
//!
//! `MFAENV_TEST_MOTO=process` (and non-Unix hosts) start the literal
//! `moto_server` binary per test instead ([`Moto::start_process`]).
//!
//! # moto's quirks (5.2.5)
//!
//! - Accepts any MFA code and any role ARN; GetSessionToken always returns the
//!   same keys (`AKIAIOSFODNN7EXAMPLE`…); AssumeRole returns fresh ones, and
//!   GetCallerIdentity with them shows the assumed role.
//! - Routes by the SigV4 `Authorization` header's credential scope: an
//!   unsigned request (plain curl) goes to S3, not STS.
//! - The recorder appends one JSON object per line (`headers`, `method`, `url`,
//!   `body`, `body_encoded`; the body base64 when `body_encoded`), written
//!   *before* the request is handled. It records `/moto-api/*` calls other
//!   than the recorder's own; [`Moto::requests`] drops them. Its file
//!   defaults to `./moto_recording` in the server's cwd and survives restarts;
//!   `download-recording` fails (500) while the file does not exist, so every
//!   instance gets a fresh file in its own temporary directory.
//! - `start-recording` only sets a flag: it does not clear the log. With
//!   `MOTO_ENABLE_RECORDING=True` recording is on from the start anyway.
//! - A request without `Content-Length` (chunked) is recorded with an empty body.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub use super::fake_sts::Recorded;
use super::fake_sts::{base64_decode, http_request, percent_encode};
use super::sandbox::{BASE_KEY, BASE_SECRET};
use super::signing_sts::SigningSts;

/// How long a request to moto's own API may take.
const API_TIMEOUT: Duration = Duration::from_secs(30);

/// A running moto server, killed (and reaped) on drop.
pub struct Moto {
    port: u16,
    dir: tempfile::TempDir,
    handle: Handle,
    /// The signature check in front of it (moto checks none): what
    /// [`Moto::endpoint`] names, so every test's requests are verified.
    checked: Option<SigningSts>,
}

enum Handle {
    /// A child of the zygote, by pid.
    Forked(u32),
    /// A `moto_server` process of our own.
    Process(Child),
}

impl Moto {
    /// Starts a fresh moto for this test. `None` only when the venv is missing
    /// and [`super::may_skip`] allows a skip; otherwise a missing venv panics.
    pub fn start() -> Option<Moto> {
        if cfg!(not(unix)) || std::env::var("MFAENV_TEST_MOTO").as_deref() == Ok("process") {
            return Moto::start_process();
        }
        super::require_venv_bin("moto_server")?;
        let python = super::require_venv_bin("python")?;
        let dir = instance_dir();
        let (port, pid) =
            zygote(&python).spawn(&dir.path().join("recording"), &dir.path().join("moto.log"));
        let mut moto = Moto {
            port,
            dir,
            handle: Handle::Forked(pid),
            checked: None,
        };
        moto.wait_ready(Instant::now() + Duration::from_secs(30));
        moto.checked = Some(SigningSts::start(
            &moto.raw_endpoint(),
            &[(BASE_KEY, BASE_SECRET)],
        ));
        Some(moto)
    }

    /// Starts the literal `<venv>/bin/moto_server -H 127.0.0.1 -p 0` (slow:
    /// ~0.6 s). Same `None`/panic rule as [`Moto::start`].
    pub fn start_process() -> Option<Moto> {
        let bin = super::require_venv_bin("moto_server")?;
        let dir = instance_dir();
        let log_path = dir.path().join("moto.log");
        let log = std::fs::File::create(&log_path).expect("create moto.log");
        let mut cmd = Command::new(&bin);
        cmd.args(["-H", "127.0.0.1", "-p", "0"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup moto.log"))
            .stderr(log);
        isolated_env(&mut cmd, dir.path());
        cmd.env("MOTO_RECORDER_FILEPATH", dir.path().join("recording"));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        // werkzeug prints " * Running on http://127.0.0.1:PORT" (to stderr).
        let deadline = Instant::now() + Duration::from_secs(60);
        let port = loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(port) = parse_running_on(&text) {
                break port;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("moto_server exited ({status}) before printing its port:\n{text}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("moto_server printed no port within 60 s:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let moto = Moto {
            port,
            dir,
            handle: Handle::Process(child),
            checked: None,
        };
        moto.wait_ready(deadline);
        Some(moto)
    }

    /// Where mfaenv and the SDKs under test go: the signature-checking STS
    /// (tests/support/signing_sts.rs) in front of moto, which knows the
    /// sandbox's long-term key and every key moto hands out through it;
    /// moto itself when it was started without (process mode).
    pub fn endpoint(&self) -> String {
        match &self.checked {
            Some(checked) => checked.endpoint(),
            None => self.raw_endpoint(),
        }
    }

    /// moto itself, `http://127.0.0.1:PORT`: for seeding it and for the
    /// tests of moto (no signature is checked here).
    pub fn raw_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// moto's own port (see [`Moto::raw_endpoint`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Makes the signature check accept a long-term key created behind its
    /// back (seeded straight into moto).
    pub fn trust(&self, access_key_id: &str, secret: &str) {
        if let Some(checked) = &self.checked {
            checked.trust(access_key_id, secret);
        }
    }

    /// What STS handed out through the signature check (`None` in
    /// process mode, which has none): the fake federation endpoint checks
    /// sessions against it.
    pub fn issued_log(&self) -> Option<super::signing_sts::IssuedLog> {
        self.checked.as_ref().map(SigningSts::issued_log)
    }

    /// Makes the signature check accept a temporary key issued elsewhere
    /// (an `aws login` session's), with its session token.
    pub fn trust_session(&self, access_key_id: &str, secret: &str, token: &str) {
        if let Some(checked) = &self.checked {
            checked.trust_session(access_key_id, secret, token);
        }
    }

    /// Makes the signature check refuse `access_key_id` (a deleted key).
    pub fn untrust(&self, access_key_id: &str) {
        if let Some(checked) = &self.checked {
            checked.untrust(access_key_id);
        }
    }

    /// The signature check in front of moto (none in process mode).
    pub fn checked(&self) -> Option<&SigningSts> {
        self.checked.as_ref()
    }

    /// The signature check's refusals, (access key id, error code).
    pub fn refused(&self) -> Vec<(String, String)> {
        self.checked
            .as_ref()
            .map(SigningSts::refused)
            .unwrap_or_default()
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Resets every backend's state (`POST /moto-api/reset`). The request log
    /// is kept; see [`Moto::start_recording`].
    pub fn reset(&self) {
        self.api("POST", "/moto-api/reset");
    }

    /// Clears the request log and records from now on. (Recording is on from
    /// the start; call this to forget setup requests before the part under test.)
    pub fn start_recording(&self) {
        self.api("POST", "/moto-api/recorder/reset-recording");
        self.api("POST", "/moto-api/recorder/start-recording");
    }

    /// Stops recording (the log is kept).
    pub fn stop_recording(&self) {
        self.api("POST", "/moto-api/recorder/stop-recording");
    }

    /// The AWS API requests recorded so far (moto's own `/moto-api` calls left
    /// out), in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        let text = String::from_utf8(self.api("GET", "/moto-api/recorder/download-recording"))
            .expect("moto recording is not UTF-8");
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                parse_recording_line(line)
                    .unwrap_or_else(|e| panic!("moto recording line unreadable ({e}): {line}"))
            })
            .filter(|r| !r.path.starts_with("/moto-api"))
            .collect()
    }

    /// How many requests with this Action were recorded.
    pub fn count(&self, action: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.action == action)
            .count()
    }

    /// What an AWS CLI or SDK child needs to talk to this moto:
    /// `AWS_ENDPOINT_URL`, `AWS_DEFAULT_REGION=us-east-1`,
    /// `AWS_EC2_METADATA_DISABLED=true`. Config and credentials files are the
    /// caller's (see [`run_aws`] for its defaults).
    pub fn aws_env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ]
    }

    /// The server's own log (werkzeug's request lines, tracebacks).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default()
    }

    /// One request to moto's own API; panics unless it answers 200.
    fn api(&self, method: &str, path: &str) -> Vec<u8> {
        match http_request(self.addr(), method, path, &[], b"", API_TIMEOUT) {
            Ok((200, body)) => body,
            Ok((status, body)) => panic!(
                "moto {method} {path}: HTTP {status}: {}\n--- moto log ---\n{}",
                String::from_utf8_lossy(&body),
                self.log()
            ),
            Err(e) => panic!(
                "moto {method} {path}: {e}\n--- moto log ---\n{}",
                self.log()
            ),
        }
    }

    /// Until moto answers: one `reset-recording` (which also creates the
    /// recorder's file, without which `download-recording` fails).
    fn wait_ready(&self, deadline: Instant) {
        loop {
            match http_request(
                self.addr(),
                "POST",
                "/moto-api/recorder/reset-recording",
                &[],
                b"",
                API_TIMEOUT,
            ) {
                Ok((200, _)) => return,
                other if Instant::now() > deadline => {
                    panic!(
                        "moto did not answer: {other:?}\n--- moto log ---\n{}",
                        self.log()
                    )
                }
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        match &mut self.handle {
            Handle::Forked(pid) => {
                if let Some(z) = ZYGOTE.get() {
                    lock(z).stop(*pid);
                }
            }
            Handle::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn instance_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mfaenv-moto-")
        .tempdir()
        .expect("create a temporary directory for moto")
}

/// A clean environment for moto: nothing from the developer's shell (no AWS
/// keys or profiles, no proxies), dummy credentials so no library goes looking
/// for real ones, instance metadata off.
fn isolated_env(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LC_ALL", "C.UTF-8")
        .env("PYTHONUNBUFFERED", "1")
        .env("MOTO_ENABLE_RECORDING", "True")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        );
}

/// ` * Running on http://127.0.0.1:PORT` → PORT
fn parse_running_on(text: &str) -> Option<u16> {
    let rest = text.split("Running on http://127.0.0.1:").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One line of moto's recording → [`Recorded`].
fn parse_recording_line(line: &str) -> Result<Recorded, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let method = v["method"].as_str().unwrap_or_default();
    let url = v["url"].as_str().ok_or("no url")?;
    // http://127.0.0.1:PORT/path?query → /path?query
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    };
    let headers: BTreeMap<String, String> = v["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    (k.to_ascii_lowercase(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    let body = match (&v["body"], v["body_encoded"].as_bool().unwrap_or(false)) {
        (serde_json::Value::String(b), true) => {
            base64_decode(b).ok_or("body is not valid base64")?
        }
        (serde_json::Value::String(b), false) => b.clone().into_bytes(),
        _ => Vec::new(),
    };
    Ok(Recorded::new(method, path, headers, &body, None))
}

// ---------------------------------------------------------------------------
// The zygote
// ---------------------------------------------------------------------------

static ZYGOTE: OnceLock<Mutex<Zygote>> = OnceLock::new();

fn lock(z: &Mutex<Zygote>) -> MutexGuard<'_, Zygote> {
    z.lock().unwrap_or_else(|e| e.into_inner())
}

fn zygote(python: &Path) -> MutexGuard<'static, Zygote> {
    lock(ZYGOTE.get_or_init(|| Mutex::new(Zygote::start(python))))
}

struct Zygote {
    // Never waited for: it exits when this process does (stdin EOF), and
    // removes its temporary directory then.
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// The zygote's program. Protocol on stdin/stdout, one line each way:
/// `start\tRECORDING\tLOG` → `started PORT PID`; `stop PID` → `stopped`.
const ZYGOTE_PY: &str = r#"
import ctypes, os, shutil, signal, sys
from werkzeug.serving import make_server
from werkzeug.test import Client
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.moto_api import recorder

app = DomainDispatcherApplication(create_backend_app)
app.debug = True

# Warm up: import and build the STS and IAM backend apps once, then forget
# their state. Not recorded.
recorder._user_enabled = False
client = Client(app)
for service, body in (("sts", "Action=GetCallerIdentity&Version=2011-06-15"),
                      ("iam", "Action=ListUsers&Version=2010-05-08")):
    auth = ("AWS4-HMAC-SHA256 Credential=AKIDWARMUP/20260101/us-east-1/%s/aws4_request, "
            "SignedHeaders=host, Signature=0" % service)
    r = client.post("/", data=body, content_type="application/x-www-form-urlencoded",
                    headers={"Authorization": auth})
    assert r.status_code == 200, (service, r.status_code, r.get_data())
assert client.post("/moto-api/reset").status_code == 200

try:
    libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    libc = None
zygote_pid = os.getpid()
children = set()

def serve(srv, port, recording, log):
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.close(null)
    if libc is not None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != zygote_pid:
        os._exit(1)
    os.environ["MOTO_PORT"] = str(port)
    recorder._location = recording
    recorder._user_enabled = True
    print(" * Running on http://127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    srv.serve_forever()

print("ready", flush=True)
while True:
    line = sys.stdin.readline()
    if not line:
        break
    words = line.rstrip("\n").split("\t")
    if words[0] == "start":
        srv = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        port = srv.server_port
        pid = os.fork()
        if pid == 0:
            try:
                serve(srv, port, words[1], words[2])
            finally:
                os._exit(0)
        srv.server_close()
        children.add(pid)
        print("started %d %d" % (port, pid), flush=True)
    elif words[0] == "stop":
        pid = int(words[1])
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        children.discard(pid)
        print("stopped", flush=True)

for pid in children:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
# Its temporary directory (the cwd) is ours to remove: the test process never
# drops the zygote.
shutil.rmtree(os.getcwd(), ignore_errors=True)
"#;

impl Zygote {
    fn start(python: &Path) -> Zygote {
        let home = tempfile::Builder::new()
            .prefix("mfaenv-moto-zygote-")
            .tempdir()
            .expect("create a temporary directory for moto")
            .keep();
        let mut cmd = Command::new(python);
        cmd.args(["-c", ZYGOTE_PY])
            .current_dir(&home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // A traceback, if any, goes straight to the terminal.
            .stderr(Stdio::inherit());
        isolated_env(&mut cmd, &home);
        cmd.env("MOTO_RECORDER_FILEPATH", home.join("recording"));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let stdin = child.stdin.take().expect("zygote stdin");
        let stdout = BufReader::new(child.stdout.take().expect("zygote stdout"));
        let mut z = Zygote {
            _child: child,
            stdin,
            stdout,
        };
        let line = z.read_line();
        assert_eq!(
            line, "ready",
            "moto zygote failed to start (its traceback is above)"
        );
        z
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(n) if n > 0 => line.trim_end().to_string(),
            other => panic!("moto zygote died ({other:?}); its traceback is above"),
        }
    }

    fn send(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("moto zygote is gone ({e}); its traceback is above"));
    }

    /// Forks one server; returns (port, pid).
    fn spawn(&mut self, recording: &Path, log: &Path) -> (u16, u32) {
        let (recording, log) = (recording.display().to_string(), log.display().to_string());
        assert!(
            !format!("{recording}{log}").contains(['\t', '\n']),
            "temporary paths with tabs or newlines are not supported"
        );
        self.send(&format!("start\t{recording}\t{log}"));
        let line = self.read_line();
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("started"), Some(port), Some(pid)) => (
                port.parse().expect("zygote port"),
                pid.parse().expect("zygote pid"),
            ),
            _ => panic!("moto zygote answered {line:?}"),
        }
    }

    fn stop(&mut self, pid: u32) {
        self.send(&format!("stop\t{pid}"));
        let line = self.read_line();
        assert_eq!(line, "stopped", "moto zygote answered {line:?}");
    }
}

// ---------------------------------------------------------------------------
// The AWS CLI
// ---------------------------------------------------------------------------

/// How long one `aws` command may run before it is killed.
const AWS_CLI_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the venv's `aws` CLI with `args` in a clean environment plus `env`;
/// returns (status, stdout, stderr). Panics when the venv lacks `aws` (tests
/// that may skip check [`super::require_venv_bin`]`("aws")` first).
///
/// The environment starts empty but for `PATH`, `LC_ALL=C.UTF-8`, a fresh
/// temporary `HOME`, `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`
/// pointing at files that do not exist, `AWS_EC2_METADATA_DISABLED=true` and
/// `AWS_PAGER=`; `env` is applied on top and may override any of them.
pub fn run_aws<I, K, V>(env: I, args: &[&str]) -> (ExitStatus, String, String)
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let aws = super::venv_bin("aws");
    assert!(
        aws.exists(),
        "{} is missing; run scripts/test to create the test venv",
        aws.display()
    );
    let home = tempfile::Builder::new()
        .prefix("mfaenv-aws-home-")
        .tempdir()
        .expect("create a temporary HOME");
    let mut cmd = Command::new(&aws);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LC_ALL", "C.UTF-8")
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "")
        .envs(env)
        .stdin(Stdio::null());
    run_with_timeout(cmd, AWS_CLI_TIMEOUT)
}

/// Runs `cmd` capturing stdout and stderr; kills it after `timeout` and panics.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> (ExitStatus, String, String) {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{shown} ran longer than {timeout:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let out = out.join().expect("stdout reader");
    let err = err.join().expect("stderr reader");
    (status, out, err)
}

fn drain(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// An IAM call straight to moto, for seeding users, keys and MFA devices
/// (moto checks no signature); returns the XML answer.
pub fn iam(moto: &Moto, action: &str, params: &[(&str, &str)]) -> String {
    let mut body = format!("Action={action}&Version=2010-05-08");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", percent_encode(v)));
    }
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDSEED/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0";
    let (status, reply) = http_request(
        SocketAddr::from(([127, 0, 0, 1], moto.port())),
        "POST",
        "/",
        &[
            ("Authorization", auth),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
        Duration::from_secs(30),
    )
    .unwrap_or_else(|e| panic!("moto IAM {action}: {e}"));
    let reply = String::from_utf8_lossy(&reply).into_owned();
    assert_eq!(status, 200, "moto IAM {action}: {reply}");
    reply
}

/// The text of the first `<tag>` in `xml`.
pub fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = xml[start..].find("</").expect("closing tag") + start;
    xml[start..end].to_string()
}

/// Creates a virtual MFA device and enables it for `user`; returns its ARN.
pub fn seed_device(moto: &Moto, user: &str, device: &str) -> String {
    let xml = iam(
        moto,
        "CreateVirtualMFADevice",
        &[("VirtualMFADeviceName", device)],
    );
    let serial = xml_value(&xml, "SerialNumber");
    iam(
        moto,
        "EnableMFADevice",
        &[
            ("UserName", user),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", "123456"),
            ("AuthenticationCode2", "654321"),
        ],
    );
    serial
}
