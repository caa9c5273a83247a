//! `aws login` sessions (`login_session`) as a chain source, end to end:
//! session caches written by the real parts (awscrt's P-256 key, botocore's
//! JSONFileCache: tests/support/login_cache.py), refreshes against the
//! suite's Sign-In (tests/support/fake_signin.rs, which verifies every DPoP
//! proof), roles on top through moto behind the signature check, and
//! botocore's login provider as the differential client both ways.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::fake_signin::{Fail, FakeSignin};
use support::moto::Moto;
use support::sandbox::{bash_exports, Sandbox};

const SESSION: &str = "arn:aws:sts::012345678910:assumed-role/Admin/admin";
const OTHER_SESSION: &str = "arn:aws:sts::012345678910:assumed-role/Admin/other";
const CLIENT_ID: &str = "arn:aws:signin:::devtools/same-device";
const ROLE: &str = "arn:aws:iam::222222222222:role/web-admin";
/// What login_cache.py writes as the CLI's own credentials.
const CLI_KEY: &str = "ASIALOGINCLI00000001";
const CLI_SECRET: &str = "login/cli-written/SECRET";
const CLI_TOKEN: &str = "login-cli-written-session-token";

fn config() -> String {
    format!(
        "\
[profile web]
login_session = {SESSION}
region = us-east-1

[profile onweb]
source_profile = web
role_arn = {ROLE}
region = us-east-1

[profile web2]
login_session = {OTHER_SESSION}
region = us-east-1
"
    )
}

/// A sandbox whose `web` profile is an `aws login` session, a fake Sign-In,
/// and (for roles on top) moto behind the signature check.
struct Login {
    fake: FakeSignin,
    sandbox: Sandbox,
    moto: Option<Moto>,
    python: PathBuf,
}

/// What login_cache.py wrote: the key's public half and the file.
struct Written {
    path: PathBuf,
}

impl Login {
    fn new(with_moto: bool) -> Option<Login> {
        let python = support::require_venv_bin("python")?;
        let moto = if with_moto {
            Some(Moto::start()?)
        } else {
            None
        };
        let endpoint = moto
            .as_ref()
            .map(Moto::endpoint)
            .unwrap_or_else(|| "http://127.0.0.1:9".into());
        let sandbox = Sandbox::with(&endpoint, &config(), "");
        if let Some(moto) = &moto {
            // The keys the CLI wrote and the fake issues (serials 1..): the
            // signature check must accept the login session's keys.
            moto.trust_session(CLI_KEY, CLI_SECRET, CLI_TOKEN);
            for serial in 1..=8u64 {
                moto.trust_session(
                    &format!("ASIASIGNIN{serial:010}"),
                    &format!("signin/refreshed/SECRET-{serial}"),
                    &format!("signin-session-token-{serial}"),
                );
            }
        }
        Some(Login {
            fake: FakeSignin::start(),
            sandbox,
            moto,
            python,
        })
    }

    fn cache_dir(&self) -> PathBuf {
        self.sandbox.home().join(".aws/login/cache")
    }

    /// Writes the session file of `session` as `aws login` does, and tells
    /// the fake about the session.
    fn write(&self, session: &str, args: &[&str]) -> Written {
        let out = Command::new(&self.python)
            .arg(support::root().join("tests/support/login_cache.py"))
            .arg("write")
            .arg(self.cache_dir())
            .arg(session)
            .args(args)
            .output()
            .expect("run login_cache.py");
        assert!(
            out.status.success(),
            "login_cache.py: {}",
            support::stderr_of(&out)
        );
        let info: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("login_cache.py JSON");
        let refresh = args
            .iter()
            .find_map(|a| a.strip_prefix("--refresh-token="))
            .unwrap_or("ASOR-first-refresh-token");
        self.fake.add_session(
            CLIENT_ID,
            refresh,
            info["x"].as_str().unwrap(),
            info["y"].as_str().unwrap(),
        );
        Written {
            path: PathBuf::from(info["path"].as_str().unwrap()),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.sandbox.mfaenv(args);
        cmd.env("AWS_ENDPOINT_URL_SIGNIN", self.fake.endpoint());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let (status, stdout, stderr) =
            support::moto::run_with_timeout(self.command(args), Duration::from_secs(30));
        Output {
            status,
            stdout: stdout.into_bytes(),
            stderr: stderr.into_bytes(),
        }
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "mfaenv {args:?} failed: {}",
            support::stderr_of(&out)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs mfaenv expecting the failure contract; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = support::stderr_of(&out);
        assert!(
            !out.status.success(),
            "mfaenv {args:?} should fail: {stderr}"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            support::sandbox::failure_stdout(args),
            "stdout on error of {args:?}"
        );
        stderr
    }

    /// botocore's credentials for `profile` (its own login provider).
    fn botocore(&self, profile: &str) -> serde_json::Value {
        let mut cmd = self.sandbox.command(&self.python);
        cmd.arg(support::root().join("tests/support/login_cache.py"))
            .args(["botocore", profile])
            .env("AWS_ENDPOINT_URL_SIGNIN", self.fake.endpoint());
        let (status, out, err) = support::moto::run_with_timeout(cmd, Duration::from_secs(60));
        assert!(status.success(), "botocore for {profile}: {err}");
        serde_json::from_str(&out).expect("botocore JSON")
    }

    fn moto(&self) -> &Moto {
        self.moto.as_ref().expect("this test started moto")
    }
}

fn exported(text: &str, name: &str) -> String {
    bash_exports(text)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{name} not exported: {text}"))
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The members of a JSON object in document order.
fn member_names(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut names = Vec::new();
    let mut depth = 0;
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    let mut current = String::new();
    let mut escaped = false;
    while let Some(c) = chars.next() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                let rest: String = chars
                    .clone()
                    .take_while(|c| c.is_whitespace() || *c == ':')
                    .collect();
                if depth == 1 && rest.contains(':') {
                    names.push(current.clone());
                }
            } else {
                current.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                current.clear();
            }
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    names
}

#[test]
fn a_fresh_session_is_served_from_its_file_by_every_route_with_and_without_a_role() {
    let Some(t) = Login::new(true) else { return };
    t.write(SESSION, &["--expires-in=600"]);

    // No role: the session's own credentials, straight from its file.
    let out = t.ok(&["export", "web", "--shell", "bash"]);
    assert_eq!(exported(&out, "AWS_ACCESS_KEY_ID"), CLI_KEY);
    assert_eq!(exported(&out, "AWS_SECRET_ACCESS_KEY"), CLI_SECRET);
    assert_eq!(
        exported(&out, "AWS_SESSION_TOKEN"),
        "login-cli-written-session-token"
    );
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["credential-process", "web"])).unwrap();
    assert_eq!(json["Version"], 1);
    assert_eq!(json["AccessKeyId"], CLI_KEY);
    assert!(json["Expiration"].as_str().is_some());
    let child = t.ok(&[
        "exec",
        "web",
        "--",
        "sh",
        "-c",
        "printf %s \"$AWS_ACCESS_KEY_ID\"",
    ]);
    assert_eq!(child, CLI_KEY);
    let plan = t.ok(&["plan", "web"]);
    assert!(plan.contains("aws login"), "{plan}");
    assert!(plan.contains(".aws/login/cache/4b0ba8f99f075c0633e122fd73346ce203a3faf18ea0310eb2d29df1bab2e255.json"), "{plan}");
    let plan_json: serde_json::Value =
        serde_json::from_str(&t.ok(&["plan", "web", "--json"])).unwrap();
    let text = plan_json.to_string();
    assert!(
        text.contains("login_session") && text.contains("cache_file"),
        "{text}"
    );
    for shown in [&plan, &text] {
        assert!(
            !shown.contains(CLI_SECRET) && !shown.contains("ASOR-"),
            "no secret in plan: {shown}"
        );
    }
    assert_eq!(t.fake.seen().len(), 0, "nothing refreshed");
    assert!(
        t.sandbox.session_files().is_empty(),
        "the login session is not copied into mfaenv's cache: {:?}",
        t.sandbox.session_files()
    );

    // A role on top: assumed with the session's keys (through the
    // signature check), then cached by mfaenv.
    let out = t.ok(&["export", "onweb", "--shell", "bash"]);
    let role_key = exported(&out, "AWS_ACCESS_KEY_ID");
    assert_ne!(role_key, CLI_KEY);
    assert_eq!(t.moto().count("AssumeRole"), 1);
    let assumed = &t.moto().requests()[0];
    assert_eq!(
        assumed.access_key_id.as_deref(),
        Some(CLI_KEY),
        "signed with the login keys"
    );
    assert!(t.moto().refused().is_empty(), "{:?}", t.moto().refused());
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["credential-process", "onweb"])).unwrap();
    assert_eq!(json["AccessKeyId"], role_key.as_str());
    let child = t.ok(&[
        "exec",
        "onweb",
        "--",
        "sh",
        "-c",
        "printf %s \"$AWS_ACCESS_KEY_ID\"",
    ]);
    assert_eq!(child, role_key);
    assert_eq!(
        t.moto().count("AssumeRole"),
        1,
        "the role session is cached"
    );
    // The credential server hands botocore the same role session.
    let script = "import botocore.session\nc = botocore.session.Session().get_credentials()\nprint(c.method, c.get_frozen_credentials().access_key)";
    let python = t.python.to_str().unwrap();
    let served = t.ok(&["exec", "--server", "onweb", "--", python, "-c", script]);
    assert_eq!(served.trim(), format!("container-role {role_key}"));
    // `write`: a credentials-file section with the login session's keys.
    t.ok(&["write", "web"]);
    let written = std::fs::read_to_string(t.sandbox.credentials()).unwrap();
    assert!(
        written.contains("[web-mfa]") && written.contains(CLI_KEY),
        "{written}"
    );
    let plan = t.ok(&["plan", "onweb"]);
    assert!(plan.contains(ROLE) && plan.contains("aws login"), "{plan}");
    assert_eq!(
        t.sandbox.session_files().len(),
        1,
        "only the role session is mfaenv's"
    );
    assert_eq!(t.fake.seen().len(), 0);
}

#[test]
fn an_expiring_session_is_refreshed_with_a_dpop_proof_and_written_back_as_the_cli_does() {
    let Some(t) = Login::new(true) else { return };
    for (session, key, profile) in [(SESSION, "sec1", "web"), (OTHER_SESSION, "pkcs8", "web2")] {
        let w = t.write(session, &["--expires-in=120", &format!("--key={key}")]);
        let before = read_json(&w.path);
        let names_before = member_names(&w.path);
        let out = t.ok(&["export", profile, "--shell", "bash"]);
        let issued = t.fake.issued();
        let (new_key, new_secret) = issued.last().unwrap().clone();
        assert_eq!(exported(&out, "AWS_ACCESS_KEY_ID"), new_key, "{key}");
        assert_eq!(exported(&out, "AWS_SECRET_ACCESS_KEY"), new_secret);
        let seen = t.fake.seen();
        assert!(seen.iter().all(|s| s.refused.is_none()), "{seen:?}");
        assert_eq!(
            seen.last().unwrap().htu.as_deref(),
            Some(format!("{}/v1/token", t.fake.endpoint()).as_str())
        );

        // Written back: botocore's members, the rest kept, 0600, one file.
        let after = read_json(&w.path);
        assert_eq!(after["accessToken"]["accessKeyId"], new_key.as_str());
        assert_eq!(after["accessToken"]["secretAccessKey"], new_secret.as_str());
        assert_eq!(
            after["accessToken"]["accountId"],
            before["accessToken"]["accountId"]
        );
        assert_eq!(
            after["refreshToken"],
            format!("ASOR-refresh-{}", issued.len())
        );
        for kept in ["idToken", "dpopKey", "clientId", "tokenType"] {
            assert_eq!(after[kept], before[kept], "{kept} kept");
        }
        let expires =
            humantime::parse_rfc3339(after["accessToken"]["expiresAt"].as_str().unwrap()).unwrap();
        let left = expires
            .duration_since(std::time::SystemTime::now())
            .unwrap();
        assert!(
            left > Duration::from_secs(850) && left <= Duration::from_secs(900),
            "{left:?}"
        );
        assert_eq!(member_names(&w.path), names_before, "member order kept");
        assert_eq!(mode(&w.path), 0o600);
        let files: Vec<_> = std::fs::read_dir(t.cache_dir()).unwrap().collect();
        assert_eq!(
            files.len(),
            if profile == "web" { 1 } else { 2 },
            "no temporary file left"
        );
    }
    let refreshes = t.fake.refreshes();
    t.ok(&["export", "web", "--shell", "bash"]);
    assert_eq!(
        t.fake.refreshes(),
        refreshes,
        "the refreshed session serves"
    );

    // A role on top of a session that needs a refresh: one refresh, then
    // AssumeRole signed with the new keys.
    t.write(
        SESSION,
        &["--expires-in=60", "--refresh-token=ASOR-rewritten"],
    );
    let out = t.ok(&["export", "onweb", "--shell", "bash"]);
    assert_eq!(t.fake.refreshes(), refreshes + 1);
    let (new_key, _) = t.fake.issued().last().unwrap().clone();
    let assumed = t
        .moto()
        .requests()
        .into_iter()
        .find(|r| r.action == "AssumeRole")
        .unwrap();
    assert_eq!(assumed.access_key_id.as_deref(), Some(new_key.as_str()));
    assert_ne!(exported(&out, "AWS_ACCESS_KEY_ID"), new_key);
    assert!(t.moto().refused().is_empty(), "{:?}", t.moto().refused());
}

#[test]
fn botocore_reads_what_mfaenv_wrote_back_and_mfaenv_reads_what_botocore_refreshed() {
    let Some(t) = Login::new(false) else { return };
    // mfaenv refreshes; botocore then serves the same keys without a refresh.
    t.write(SESSION, &["--expires-in=60"]);
    let out = t.ok(&["export", "web", "--shell", "bash"]);
    assert_eq!(t.fake.refreshes(), 1);
    let theirs = t.botocore("web");
    assert_eq!(
        theirs["access_key_id"],
        exported(&out, "AWS_ACCESS_KEY_ID").as_str()
    );
    assert_eq!(
        theirs["secret_access_key"],
        exported(&out, "AWS_SECRET_ACCESS_KEY").as_str()
    );
    assert_eq!(
        theirs["session_token"],
        exported(&out, "AWS_SESSION_TOKEN").as_str()
    );
    assert_eq!(t.fake.refreshes(), 1, "botocore did not refresh again");

    // botocore refreshes (the fake verifies its proof too); mfaenv then
    // serves what botocore wrote, without a refresh of its own.
    t.write(
        OTHER_SESSION,
        &["--expires-in=60", "--refresh-token=ASOR-other"],
    );
    let theirs = t.botocore("web2");
    assert_eq!(t.fake.refreshes(), 2, "{:?}", t.fake.seen());
    assert!(
        t.fake.seen().iter().all(|s| s.refused.is_none()),
        "{:?}",
        t.fake.seen()
    );
    let out = t.ok(&["export", "web2", "--shell", "bash"]);
    assert_eq!(
        theirs["access_key_id"],
        exported(&out, "AWS_ACCESS_KEY_ID").as_str()
    );
    assert_eq!(
        theirs["session_token"],
        exported(&out, "AWS_SESSION_TOKEN").as_str()
    );
    assert_eq!(t.fake.refreshes(), 2, "mfaenv did not refresh again");
}

#[test]
fn parallel_callers_make_one_refresh() {
    let Some(t) = Login::new(false) else { return };
    t.write(SESSION, &["--expires-in=30"]);
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut cmd = t.command(&["credential-process", "web"]);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let keys: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", support::stderr_of(&out));
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            json["AccessKeyId"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(t.fake.refreshes(), 1, "{:?}", t.fake.seen());
    assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
}

#[test]
fn bad_cache_files_are_refused_with_the_profile_and_what_to_do() {
    let Some(t) = Login::new(false) else { return };
    let args = ["export", "web", "--shell", "bash"];
    let stderr = t.fails(&args);
    assert!(
        stderr.contains("profile `web`") && stderr.contains("run `aws login --profile web`"),
        "not logged in: {stderr}"
    );

    let w = t.write(SESSION, &["--expires-in=600"]);
    let good = std::fs::read(&w.path).unwrap();
    let set = |bytes: &[u8], mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::remove_file(&w.path);
        std::fs::write(&w.path, bytes).unwrap();
        std::fs::set_permissions(&w.path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    set(b"{\"accessToken\": ", 0o600);
    let stderr = t.fails(&args);
    assert!(
        stderr.contains("profile `web`") && stderr.contains("not a usable session"),
        "{stderr}"
    );
    assert!(stderr.contains("aws login --profile web"), "{stderr}");

    set(&good, 0o640);
    let stderr = t.fails(&args);
    assert!(
        stderr.contains("profile `web`") && stderr.contains("mode 640"),
        "{stderr}"
    );
    assert!(stderr.contains("chmod 600"), "{stderr}");

    let mut huge = good.clone();
    huge.extend(std::iter::repeat_n(b' ', 100 * 1024));
    set(&huge, 0o600);
    let stderr = t.fails(&args);
    assert!(stderr.contains("larger than 64 KiB"), "{stderr}");

    std::fs::remove_file(&w.path).unwrap();
    let fifo = std::ffi::CString::new(w.path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let stderr = t.fails(&args);
    assert!(
        stderr.contains("a FIFO") && stderr.contains("profile `web`"),
        "{stderr}"
    );

    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        set(&good, 0o600);
        let path = std::ffi::CString::new(w.path.to_str().unwrap()).unwrap();
        // SAFETY: a valid path; 65534 is nobody.
        assert_eq!(unsafe { libc::chown(path.as_ptr(), 65534, 65534) }, 0);
        let stderr = t.fails(&args);
        assert!(stderr.contains("owned by another user"), "{stderr}");
        assert!(stderr.contains("aws login --profile web"), "{stderr}");
    } else {
        eprintln!("not root: the foreign-owned case needs chown (it runs as root in CI)");
    }
    assert_eq!(t.fake.seen().len(), 0, "no bad file led to a refresh");
}

#[test]
fn a_session_that_cannot_be_refreshed_says_run_aws_login() {
    let Some(t) = Login::new(false) else { return };
    let args = ["credential-process", "web"];
    t.write(SESSION, &["--expires-in=-60", "--omit=refreshToken"]);
    let stderr = t.fails(&args);
    assert!(
        stderr.contains("no refresh token") && stderr.contains("run `aws login --profile web`"),
        "{stderr}"
    );

    t.write(SESSION, &["--expires-in=-60", "--key=p384"]);
    let stderr = t.fails(&args);
    assert!(
        stderr.contains("P-384") && stderr.contains("not P-256"),
        "{stderr}"
    );
    assert!(stderr.contains("run `aws login --profile web`"), "{stderr}");
    assert_eq!(t.fake.seen().len(), 0);

    for error in ["TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED"] {
        let w = t.write(SESSION, &["--expires-in=-60"]);
        let before = std::fs::read(&w.path).unwrap();
        t.fake.fail_next(vec![Fail::AccessDenied(error)]);
        let stderr = t.fails(&args);
        assert!(
            stderr.contains(error) && stderr.contains("profile `web`"),
            "{stderr}"
        );
        assert!(stderr.contains("run `aws login --profile web`"), "{stderr}");
        assert_eq!(
            std::fs::read(&w.path).unwrap(),
            before,
            "the file is left as it was"
        );
    }
    t.write(SESSION, &["--expires-in=-60"]);
    t.fake
        .fail_next(vec![Fail::AccessDenied("INSUFFICIENT_PERMISSIONS")]);
    let stderr = t.fails(&args);
    assert!(
        stderr.contains("lacks permission") && stderr.contains("aws login --profile web"),
        "{stderr}"
    );
}

#[test]
fn sign_in_failing_or_silent_is_an_error_unless_the_old_credentials_still_last() {
    let Some(t) = Login::new(false) else { return };
    let args = ["export", "web", "--shell", "bash"];
    t.write(SESSION, &["--expires-in=-60"]);
    t.fake
        .fail_next(vec![Fail::ServerError(500), Fail::ServerError(503)]);
    let stderr = t.fails(&args);
    assert!(
        stderr.contains("failed on its side") && stderr.contains("profile `web`"),
        "{stderr}"
    );
    assert!(stderr.contains("try again in a minute"), "{stderr}");

    t.write(SESSION, &["--expires-in=-60"]);
    t.fake.fail_next(vec![Fail::Hang]);
    let started = std::time::Instant::now();
    let mut cmd = t.command(&args);
    cmd.env("MFAENV_STS_TIMEOUT", "1");
    let (status, stdout, stderr) = support::moto::run_with_timeout(cmd, Duration::from_secs(20));
    assert!(!status.success() && stdout == "false\n", "{stderr}");
    assert!(
        stderr.contains("timed out") || stderr.contains("did not answer within"),
        "{stderr}"
    );
    assert!(
        stderr.contains("profile `web`") && stderr.contains("try again"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // Still valid for 3 minutes: used, with a warning, as the SDKs do.
    let w = t.write(SESSION, &["--expires-in=180"]);
    let before = std::fs::read(&w.path).unwrap();
    t.fake
        .fail_next(vec![Fail::ServerError(500), Fail::ServerError(500)]);
    let out = t.run(&args);
    let stderr = support::stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        exported(&String::from_utf8(out.stdout).unwrap(), "AWS_ACCESS_KEY_ID"),
        CLI_KEY
    );
    assert!(stderr.contains("using its current credentials"), "{stderr}");
    assert_eq!(std::fs::read(&w.path).unwrap(), before);
}

/// Runs mfaenv under strace from `dir`; its stdout and the number of
/// epoll instances it created (tokio's runtime makes one; std alone never
/// does: tests/fast_path.rs).
fn traced(t: &Login, strace: &Path, dir: &Path, args: &[&str]) -> (String, usize) {
    let log = t.sandbox.home().join("strace.log");
    let _ = std::fs::remove_file(&log);
    let mut cmd = t.sandbox.command(strace);
    cmd.args(["-f", "-qq", "-e", "trace=epoll_create,epoll_create1", "-o"])
        .arg(&log)
        .arg(support::mfaenv_bin())
        .args(args)
        .current_dir(dir)
        .env("PWD", dir)
        .env("AWS_ENDPOINT_URL_SIGNIN", t.fake.endpoint());
    let out = cmd.output().expect("run strace");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        support::stderr_of(&out)
    );
    let trace = std::fs::read_to_string(&log).expect("strace log");
    let count = trace.lines().filter(|l| l.contains("epoll_create")).count();
    (String::from_utf8(out.stdout).unwrap(), count)
}

#[test]
fn a_served_session_starts_no_runtime_and_a_refresh_does() {
    let Some(strace) = support::require_program("strace") else {
        return;
    };
    let Some(t) = Login::new(false) else { return };
    t.write(SESSION, &["--expires-in=600"]);
    let home = t.sandbox.home().to_path_buf();
    let proj = home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".mfaenv"), "profile = \"web\"\n").unwrap();
    t.ok(&["allow", proj.to_str().unwrap()]);
    for (dir, args) in [
        (&home, &["export", "web", "--shell", "bash"][..]),
        (&home, &["credential-process", "web"]),
        (&home, &["plan", "web"]),
        // The hook entering a project of an `aws login` profile.
        (&proj, &["hook-env", "--shell", "json"]),
    ] {
        let (out, runtimes) = traced(&t, &strace, dir, args);
        assert_eq!(runtimes, 0, "{args:?}");
        if args[0] != "plan" {
            assert!(out.contains(CLI_KEY), "{args:?}: {out}");
        }
    }
    t.write(SESSION, &["--expires-in=60"]);
    let (_, runtimes) = traced(&t, &strace, &home, &["export", "web", "--shell", "bash"]);
    assert!(runtimes >= 1, "the probe sees the refresh's runtime");
    assert_eq!(t.fake.refreshes(), 1);
}
