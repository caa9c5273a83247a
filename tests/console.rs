//! `mfaenv console`: the federation sign-in against the suite's fake
//! federation endpoint (tests/support/fake_federation.rs), which signs in
//! only credentials the suite's STS (moto behind the signature check)
//! issued and only as AWS would, and a real headless Chromium that follows
//! the URL mfaenv built to the fake console page.
//!
//! The browser: a script named `chromium` that runs Debian's `chromium`
//! headless with `--dump-dom`, writing the landed page to `$CONSOLE_DOM`
//! (mfaenv sends a browser's own output nowhere). Its name is what tells
//! mfaenv it is Chromium-based (`--user-data-dir` for `--isolate`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use support::fake_federation::{FakeFederation, Misbehave};
use support::moto::Moto;
use support::sandbox::{Sandbox, BASE_SECRET};
use support::signing_sts::{signed_sandbox, SigningSts};

const PROD_ROLE: &str = "arn:aws:iam::222222222222:role/hc/hc-master";
const STAGING_ROLE: &str = "arn:aws:iam::333333333333:role/hc/hc-staging";

/// A role assumed directly with the long-term keys and the code.
const DIRECT: &str = "
[profile prod-direct]
source_profile = base
role_arn = arn:aws:iam::222222222222:role/hc/hc-master
mfa_serial = arn:aws:iam::111111111111:mfa/alice
mfa_mode = direct
region = us-west-2
";

struct Bed {
    _moto: Moto,
    sts: SigningSts,
    sb: Sandbox,
    fed: FakeFederation,
    /// The browser scripts (`chromium`, a recording `firefox`).
    bin: PathBuf,
}

impl Bed {
    fn start() -> Option<Bed> {
        let (moto, sts, sb) = signed_sandbox()?;
        let fed = FakeFederation::start(sts.issued_log());
        sb.add_config(DIRECT);
        let bin = sb.home().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        Some(Bed {
            _moto: moto,
            sts,
            sb,
            fed,
            bin,
        })
    }

    /// `mfaenv console ARGS` pointed at the fake federation and console.
    fn console(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.sb.mfaenv(&[&["console"], args].concat());
        cmd.env("AWS_ENDPOINT_URL_SIGNIN", self.fed.base())
            .env("MFAENV_CONSOLE_URL", self.fed.base())
            .env("MFAENV_DATA_DIR", self.data_dir());
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd.output().expect("run mfaenv console")
    }

    fn data_dir(&self) -> PathBuf {
        self.sb.home().join("data")
    }

    /// The headless-Chromium browser script (`None`: no chromium, and the
    /// test may skip; under CI=true a missing chromium fails).
    fn chromium(&self) -> Option<PathBuf> {
        let real = support::require_program("chromium")?;
        let script = self.bin.join("chromium");
        let text = format!(
            "#!/bin/sh\n\
             # The browser mfaenv starts: headless Chromium; the landed page's DOM to $CONSOLE_DOM.\n\
             exec {} --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
             --disable-background-networking --disable-component-update --disable-sync \
             --disable-dev-shm-usage --dump-dom \"$@\" > \"$CONSOLE_DOM\" 2>/dev/null\n",
            real.display()
        );
        write_script(&script, &text);
        Some(script)
    }

    /// Everything that must never show: long-term and session secrets and
    /// tokens STS issued, sign-in tokens, and the login URL's markers.
    fn secrets(&self) -> Vec<String> {
        let mut all = vec![
            BASE_SECRET.to_string(),
            "SigninToken=".to_string(),
            "Action=login".to_string(),
            "getSigninToken".to_string(),
        ];
        for issued in self.sts.issued_log().all() {
            all.push(issued.secret);
            all.extend(issued.token);
        }
        all.extend(self.fed.sign_ins().into_iter().map(|s| s.token));
        all
    }

    /// Asserts that no secret is in `text` (`what` names it).
    fn assert_no_secret(&self, text: &str, what: &str) {
        for secret in self.secrets() {
            assert!(!text.contains(&secret), "{what} holds {secret:?}:\n{text}");
        }
    }
}

fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts success with nothing on stdout.
fn opened(out: &Output) {
    assert!(
        out.status.success(),
        "mfaenv console failed: {}",
        stderr(out)
    );
    assert_eq!(stdout(out), "", "stdout of a console that opened");
}

/// Asserts the failure contract: non-zero, nothing on stdout; returns stderr.
fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "should fail; stderr: {}",
        stderr(out)
    );
    assert_eq!(stdout(out), "", "stdout of a failed console");
    stderr(out)
}

/// Waits for Chromium to write the whole page it landed on.
fn landed_dom(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let dom = std::fs::read_to_string(path).unwrap_or_default();
        if dom.contains("</html>") {
            return dom;
        }
        assert!(
            Instant::now() < deadline,
            "Chromium wrote no page to {} in 90 s (so far: {dom:?})",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The principals the console page listed (its `<li class="session">`s).
fn sessions_in(dom: &str) -> Vec<String> {
    dom.split("<li class=\"session\">")
        .skip(1)
        .filter_map(|s| s.split("</li>").next())
        .map(str::to_string)
        .collect()
}

#[test]
fn a_role_session_opens_the_console_in_headless_chromium() {
    let Some(bed) = Bed::start() else { return };
    let Some(chromium) = bed.chromium() else {
        return;
    };
    let dom = bed.sb.home().join("prod.html");
    let out = bed.console(
        &[
            "prod",
            "-t",
            "123456",
            "--browser",
            chromium.to_str().unwrap(),
        ],
        &[("CONSOLE_DOM", dom.to_str().unwrap())],
    );
    opened(&out);
    let page = landed_dom(&dom);
    assert_eq!(sessions_in(&page), [PROD_ROLE], "{page}");
    assert!(
        page.contains("<p id=\"path\">/console/home?region=us-west-2</p>"),
        "{page}"
    );
    let sign_ins = bed.fed.sign_ins();
    assert_eq!(sign_ins.len(), 1);
    assert_eq!(sign_ins[0].action, "AssumeRole");
    assert_eq!(sign_ins[0].session_duration, None, "no SessionDuration");
    bed.assert_no_secret(&stderr(&out), "stderr");
    bed.assert_no_secret(&page, "the landed page");
    assert!(
        stderr(&out).contains("console opened in"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_iam_user_without_a_role_signs_in_through_get_federation_token() {
    let Some(bed) = Bed::start() else { return };
    let Some(chromium) = bed.chromium() else {
        return;
    };
    let dom = bed.sb.home().join("base.html");
    // $BROWSER, no code: GetFederationToken takes none, so nothing asks.
    let out = bed.console(
        &["base", "--service", "ec2", "--duration", "2h"],
        &[
            ("BROWSER", chromium.to_str().unwrap()),
            ("CONSOLE_DOM", dom.to_str().unwrap()),
        ],
    );
    opened(&out);
    let err = stderr(&out);
    assert!(
        err.contains("federated user") && err.contains("without MFA"),
        "{err}"
    );
    let issued = bed.sts.issued_log().all();
    let federation: Vec<_> = issued
        .iter()
        .filter(|i| i.action == "GetFederationToken")
        .collect();
    assert_eq!(federation.len(), 1, "{issued:?}");
    let call = federation[0];
    assert!(call.by_long_term_keys, "made with the long-term keys");
    assert_eq!(
        call.params.get("DurationSeconds").map(String::as_str),
        Some("7200")
    );
    let policy: serde_json::Value =
        serde_json::from_str(&call.params["Policy"]).expect("a JSON policy");
    assert_eq!(policy["Statement"][0]["Action"], "*");
    assert_eq!(policy["Statement"][0]["Resource"], "*");
    assert!(
        issued.iter().all(|i| i.action != "GetSessionToken"),
        "no MFA session: {issued:?}"
    );
    let page = landed_dom(&dom);
    let name = &call.params["Name"];
    assert_eq!(
        sessions_in(&page),
        [format!("federated-user/{name}")],
        "{page}"
    );
    assert!(page.contains("/ec2/home?region=us-east-1"), "{page}");
    bed.assert_no_secret(&err, "stderr");

    // `plan` says so, without calling anything.
    let plan = bed.sb.ok(&["plan", "base"]);
    assert!(
        plan.contains("console      signs in with GetFederationToken")
            && plan.contains("carries no MFA"),
        "{plan}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&bed.sb.ok(&["plan", "--json", "prod"])).unwrap();
    assert_eq!(json["console"]["route"], "session");
}

#[test]
fn print_puts_the_url_on_stdout_and_only_there() {
    let Some(bed) = Bed::start() else { return };
    let out = bed.console(
        &["prod", "-t", "123456", "--print", "--path", "/s3/home"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let url = stdout(&out);
    let prefix = format!(
        "{}/federation?Action=login&Issuer=mfaenv&Destination=",
        bed.fed.base()
    );
    assert!(url.starts_with(&prefix) && url.ends_with('\n'), "{url}");
    assert_eq!(url.lines().count(), 1);
    let err = stderr(&out);
    bed.assert_no_secret(&err, "stderr");
    assert!(err.contains("15 minutes"), "{err}");
    // The URL works once: the fake console is where it leads.
    let path = url.trim().strip_prefix(&bed.fed.base()).unwrap();
    let addr = bed
        .fed
        .base()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let (status, _) =
        support::fake_sts::http_request(addr, "GET", path, &[], b"", Duration::from_secs(10))
            .unwrap();
    assert_eq!(status, 302);
    let (again, _) =
        support::fake_sts::http_request(addr, "GET", path, &[], b"", Duration::from_secs(10))
            .unwrap();
    assert_eq!(again, 400, "a sign-in token works once");

    // --region picks the console's region; a global service gets none.
    let destination = |args: &[&str]| {
        let out = bed.console(&[&["prod", "-t", "123456", "--print"], args].concat(), &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let url = stdout(&out);
        let query = url.trim().split_once('?').unwrap().1;
        support::fake_sts::parse_form(query)["Destination"].clone()
    };
    let base = bed.fed.base();
    assert_eq!(
        destination(&["--region", "eu-central-1", "--service", "lambda"]),
        format!("{base}/lambda/home?region=eu-central-1")
    );
    assert_eq!(
        destination(&["--service", "iam"]),
        format!("{base}/iam/home")
    );
    assert_eq!(
        destination(&["--path", "/ec2/home?#Instances:"]),
        format!("{base}/ec2/home?region=us-west-2#Instances:")
    );
}

#[test]
fn duration_is_a_session_duration_only_for_a_role_assumed_with_long_term_keys() {
    let Some(bed) = Bed::start() else { return };
    let out = bed.console(
        &["prod-direct", "-t", "123456", "--print", "--duration", "2h"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sign_ins = bed.fed.sign_ins();
    assert_eq!(sign_ins.last().unwrap().session_duration, Some(7200));

    // From an MFA session the console ends with the role session, which
    // --duration sets instead; no SessionDuration (AWS would refuse it).
    let out = bed.console(
        &["prod", "-t", "123456", "--print", "--duration", "2h"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("ends with the role session"), "{err}");
    assert_eq!(bed.fed.sign_ins().last().unwrap().session_duration, None);
    let roles: Vec<_> = bed
        .sts
        .issued_log()
        .all()
        .into_iter()
        .filter(|i| i.action == "AssumeRole" && !i.by_long_term_keys)
        .collect();
    assert_eq!(roles.len(), 1);
    assert_eq!(
        roles[0].params.get("DurationSeconds").map(String::as_str),
        Some("7200")
    );

    let err = failed(&bed.console(
        &[
            "prod-direct",
            "-t",
            "123456",
            "--print",
            "--duration",
            "13h",
        ],
        &[],
    ));
    assert!(err.contains("--duration 13h"), "{err}");
    assert!(bed.fed.refused().is_empty(), "refused before any sign-in");
}

#[test]
fn get_session_token_credentials_are_refused_as_aws_refuses_them() {
    let Some(bed) = Bed::start() else { return };
    bed.sb.ok(&["write", "base", "-t", "123456"]);
    let out = bed.console(&["base-mfa", "--print"], &[]);
    let err = failed(&out);
    assert!(err.contains("refused the credentials (HTTP 400)"), "{err}");
    assert!(err.contains("not GetSessionToken's"), "{err}");
    assert_eq!(
        bed.fed.refused(),
        [(
            "getSigninToken".to_string(),
            "GetSessionToken credentials cannot sign in".to_string()
        )]
    );
    bed.assert_no_secret(&err, "stderr");
}

#[test]
fn bad_federation_answers_are_clear_errors_without_secrets() {
    let Some(bed) = Bed::start() else { return };
    // A 403 whose body echoes the session, and a 200 that is not JSON.
    bed.fed.misbehave(Misbehave::Answer(
        403,
        format!("{{\"__type\":\"AccessDenied\",\"message\":\"{BASE_SECRET}\"}}"),
    ));
    let err = failed(&bed.console(&["prod", "-t", "123456", "--print"], &[]));
    assert!(
        err.contains("refused the credentials (HTTP 403 AccessDenied)"),
        "{err}"
    );
    bed.assert_no_secret(&err, "stderr");
    bed.fed
        .misbehave(Misbehave::Answer(200, "<html>sign in</html>".to_string()));
    let err = failed(&bed.console(&["prod", "-t", "123456", "--print"], &[]));
    assert!(err.contains("without a SigninToken"), "{err}");
    bed.assert_no_secret(&err, "stderr");
    // A refusal of a role session says whose.
    bed.fed.misbehave(Misbehave::Answer(400, String::new()));
    let err = failed(&bed.console(&["prod", "-t", "123456", "--print"], &[]));
    assert!(
        err.contains("HTTP 400") && err.contains("did not sign in the session of profile `prod`"),
        "{err}"
    );
    bed.assert_no_secret(&err, "stderr");
    // Nothing listening.
    let nowhere = support::fake_sts::refused_endpoint();
    let err = failed(&bed.console(
        &["prod", "-t", "123456", "--print"],
        &[("AWS_ENDPOINT_URL_SIGNIN", &nowhere)],
    ));
    assert!(err.contains("cannot reach"), "{err}");
    bed.assert_no_secret(&err, "stderr");
    // Plain http off this machine would carry the session in clear.
    let err = failed(&bed.console(
        &["prod", "-t", "123456", "--print"],
        &[("AWS_ENDPOINT_URL_SIGNIN", "http://signin.example")],
    ));
    assert!(err.contains("must be https://"), "{err}");
}

#[test]
fn bad_input_is_refused_before_any_call() {
    let Some(bed) = Bed::start() else { return };
    let cases: &[(&[&str], &str)] = &[
        (
            &["prod", "--service", "nosuch", "--print"],
            "--service `nosuch` is not a service",
        ),
        (
            &["prod", "--path", "//evil.example/x", "--print"],
            "must be a path on the console",
        ),
        (
            &["prod", "--browser", "/nonexistent/chromium"],
            "is not installed",
        ),
        (
            &["prod", "--browser", "true", "--isolate"],
            "not a browser mfaenv knows",
        ),
        (&["prod", "--browser", "'unbalanced"], "unbalanced quotes"),
    ];
    for (args, expect) in cases {
        let err = failed(&bed.console(args, &[]));
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    assert_eq!(bed.sts.verified(), 0, "no STS call for bad input");
    assert!(bed.fed.sign_ins().is_empty());
}

#[test]
fn a_browser_that_fails_is_an_error_that_shows_no_url() {
    let Some(bed) = Bed::start() else { return };
    // A browser that repeats its URL and fails, as xdg-open does.
    let noisy = bed.bin.join("noisy-browser");
    write_script(
        &noisy,
        "#!/bin/sh\necho \"cannot open $1\"; echo \"cannot open $1\" >&2; exit 3\n",
    );
    let out = bed.console(
        &["prod", "-t", "123456", "--browser", noisy.to_str().unwrap()],
        &[],
    );
    let err = failed(&out);
    assert!(err.contains("failed: exit status: 3"), "{err}");
    assert_eq!(bed.fed.sign_ins().len(), 1, "the URL was made");
    bed.assert_no_secret(&err, "stderr");
}

#[test]
fn isolate_gives_each_profile_its_own_browser_profile_and_cookies() {
    let Some(bed) = Bed::start() else { return };
    let Some(chromium) = bed.chromium() else {
        return;
    };
    let open = |profile: &str, n: usize| {
        let dom = bed.sb.home().join(format!("{profile}-{n}.html"));
        let out = bed.console(
            &[
                profile,
                "-t",
                "123456",
                "--isolate",
                "--browser",
                chromium.to_str().unwrap(),
            ],
            &[("CONSOLE_DOM", dom.to_str().unwrap())],
        );
        opened(&out);
        bed.assert_no_secret(&stderr(&out), "stderr");
        // One browser at a time: each run ends when its page is written.
        let page = landed_dom(&dom);
        wait_for_exit_of_chromium_in(&bed.data_dir());
        page
    };
    let first = open("prod", 1);
    assert_eq!(sessions_in(&first), [PROD_ROLE], "{first}");
    let staging = open("staging", 1);
    assert_eq!(sessions_in(&staging), [STAGING_ROLE], "{staging}");
    // prod again: its own earlier cookie came back, and none of staging's.
    let again = open("prod", 2);
    assert_eq!(sessions_in(&again), [PROD_ROLE, PROD_ROLE], "{again}");

    let dirs = bed.data_dir().join("console/chromium");
    for profile in ["prod", "staging"] {
        let dir = dirs.join(profile);
        assert!(
            dir.join("Default").is_dir(),
            "{} is a Chromium profile",
            dir.display()
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
    }
}

/// Waits until no Chromium holds a profile under `data` (its lock is gone).
fn wait_for_exit_of_chromium_in(data: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let locked = || {
        std::fs::read_dir(data.join("console/chromium"))
            .map(|dirs| {
                dirs.flatten()
                    .any(|d| d.path().join("SingletonLock").symlink_metadata().is_ok())
            })
            .unwrap_or(false)
    };
    while locked() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn firefox_gets_a_profile_directory_of_its_own() {
    let Some(bed) = Bed::start() else { return };
    // A stand-in named firefox that records its arguments.
    let args_file = bed.sb.home().join("firefox-args");
    let firefox = bed.bin.join("firefox");
    write_script(
        &firefox,
        &format!(
            "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > {}\n",
            args_file.display()
        ),
    );
    let out = bed.console(
        &[
            "staging",
            "-t",
            "123456",
            "--isolate",
            "--browser",
            firefox.to_str().unwrap(),
        ],
        &[],
    );
    opened(&out);
    let args = std::fs::read_to_string(&args_file).unwrap();
    let args: Vec<&str> = args.lines().collect();
    let dir = bed.data_dir().join("console/firefox/staging");
    assert_eq!(args[..2], ["--profile", dir.to_str().unwrap()], "{args:?}");
    assert!(args[2].starts_with(&format!("{}/federation?Action=login", bed.fed.base())));
    assert!(dir.is_dir());
}

#[test]
fn list_browsers_shows_what_is_on_path() {
    let Some(bed) = Bed::start() else { return };
    for name in ["chromium", "firefox"] {
        write_script(&bed.bin.join(name), "#!/bin/sh\nexit 0\n");
    }
    let out = bed.console(
        &["--list-browsers"],
        &[("PATH", &format!("{}:/usr/bin:/bin", bed.bin.display()))],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "chromium\tchromium\t{}/chromium\n",
            bed.bin.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "firefox\tfirefox\t{}/firefox\n",
            bed.bin.display()
        )),
        "{text}"
    );
    assert!(stderr(&out).contains("--isolate opens"), "{}", stderr(&out));
}

// ---- sources that sign in themselves: IAM Identity Center, `aws login` ----

/// An IAM Identity Center profile, a role on top of it, and an `aws login`
/// profile with a role on top.
const OTHER_SOURCES: &str = "
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile dev-sso]
sso_session = corp
sso_account_id = 444444444444
sso_role_name = Developer
region = eu-west-1

[profile on-sso]
source_profile = dev-sso
role_arn = arn:aws:iam::555555555555:role/deploy
region = eu-west-1

[profile web]
login_session = arn:aws:sts::012345678910:assumed-role/Admin/admin
region = us-east-1

[profile onweb]
source_profile = web
role_arn = arn:aws:iam::222222222222:role/web-admin
region = us-east-1
";

const SSO_ROLE: &str = "arn:aws:iam::444444444444:role/Developer";
const SSO_ACCESS_TOKEN: &str = "sso-access-token-of-the-console-test";

/// A fake IAM Identity Center portal: `GET /federation/credentials` with
/// the cached access token answers `creds` (a role session the suite's STS
/// issued, as the portal's are role sessions); anything else 401/404.
fn fake_portal(creds: serde_json::Value) -> String {
    use std::io::{BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let creds = creds.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                while let Some(req) = support::fake_sts::read_request(&mut reader, &mut writer) {
                    let token = req.headers.get("x-amz-sso_bearer_token").cloned();
                    let (status, body) = if !req.target.starts_with("/federation/credentials?") {
                        (404, "{}".to_string())
                    } else if token.as_deref() != Some(SSO_ACCESS_TOKEN) {
                        (
                            401,
                            r#"{"message":"Session token not found or invalid"}"#.to_string(),
                        )
                    } else {
                        let query = req.target.split_once('?').unwrap().1;
                        let params = support::fake_sts::parse_form(query);
                        let ok = params.get("account_id").map(String::as_str)
                            == Some("444444444444")
                            && params.get("role_name").map(String::as_str) == Some("Developer");
                        match ok {
                            true => (
                                200,
                                serde_json::json!({ "roleCredentials": creds }).to_string(),
                            ),
                            false => (403, r#"{"message":"No access"}"#.to_string()),
                        }
                    };
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if writer.write_all(head.as_bytes()).is_err()
                        || writer.write_all(body.as_bytes()).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    base
}

impl Bed {
    /// The SSO token cache the AWS CLI would have written after a login,
    /// and a portal that hands out a role session STS issued.
    fn sso_ready(&self) -> String {
        use sha1::{Digest, Sha1};
        let dir = self.sb.home().join(".aws/sso/cache");
        std::fs::create_dir_all(&dir).unwrap();
        let name: String = Sha1::digest(b"corp")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let expires = std::time::SystemTime::now() + Duration::from_secs(3600);
        let token = serde_json::json!({
            "startUrl": "https://corp.awsapps.com/start",
            "region": "us-east-1",
            "accessToken": SSO_ACCESS_TOKEN,
            "expiresAt": humantime::format_rfc3339_seconds(expires).to_string(),
        });
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, token.to_string()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        // The role session the portal hands out: made by STS (moto behind
        // the signature check) with the AWS CLI, so the federation endpoint
        // knows it.
        let (ok, out, err) = self.sb.aws(
            &[("AWS_PROFILE".into(), "base".into())],
            &[
                "sts",
                "assume-role",
                "--role-arn",
                SSO_ROLE,
                "--role-session-name",
                "alice",
                "--output",
                "json",
            ],
        );
        assert!(ok, "aws sts assume-role: {err}");
        let c: serde_json::Value = serde_json::from_str(&out).unwrap();
        let c = &c["Credentials"];
        let expiration = std::time::SystemTime::now() + Duration::from_secs(3000);
        let millis = expiration
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        fake_portal(serde_json::json!({
            "accessKeyId": c["AccessKeyId"],
            "secretAccessKey": c["SecretAccessKey"],
            "sessionToken": c["SessionToken"],
            "expiration": millis,
        }))
    }
}

#[test]
fn an_iam_identity_center_profile_opens_the_console_and_so_does_a_role_on_top() {
    let Some(bed) = Bed::start() else { return };
    let Some(chromium) = bed.chromium() else {
        return;
    };
    bed.sb.add_config(OTHER_SOURCES);
    let portal = bed.sso_ready();
    let dom = bed.sb.home().join("sso.html");
    let out = bed.console(
        &[
            "dev-sso",
            "--duration",
            "2h",
            "--browser",
            chromium.to_str().unwrap(),
        ],
        &[
            ("AWS_ENDPOINT_URL_SSO", &portal),
            ("CONSOLE_DOM", dom.to_str().unwrap()),
        ],
    );
    opened(&out);
    let err = stderr(&out);
    assert!(err.contains("--duration 2h: not applied"), "{err}");
    let page = landed_dom(&dom);
    assert_eq!(sessions_in(&page), [SSO_ROLE], "{page}");
    assert!(page.contains("/console/home?region=eu-west-1"), "{page}");
    bed.assert_no_secret(&err, "stderr");
    assert!(!err.contains(SSO_ACCESS_TOKEN), "{err}");

    // A role assumed with the SSO session.
    let out = bed.console(&["on-sso", "--print"], &[("AWS_ENDPOINT_URL_SSO", &portal)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let last = bed.fed.sign_ins().pop().unwrap();
    assert_eq!(last.principal, "arn:aws:iam::555555555555:role/deploy");
    assert_eq!(last.session_duration, None);
    let plan = bed.sb.ok(&["plan", "dev-sso"]);
    assert!(
        plan.contains("console      signs in with the credentials of `dev-sso`'s source"),
        "{plan}"
    );
}

#[test]
fn an_aws_login_profile_opens_the_console_and_so_does_a_role_on_top() {
    let Some(bed) = Bed::start() else { return };
    let Some(chromium) = bed.chromium() else {
        return;
    };
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    bed.sb.add_config(OTHER_SOURCES);
    // The session file `aws login` writes (the real parts: awscrt, botocore).
    let out = std::process::Command::new(python)
        .arg(support::root().join("tests/support/login_cache.py"))
        .arg("write")
        .arg(bed.sb.home().join(".aws/login/cache"))
        .arg("arn:aws:sts::012345678910:assumed-role/Admin/admin")
        .args(["--expires-in=3600", "--access-key-id=ASIALOGINCLI00000001"])
        .output()
        .unwrap();
    assert!(out.status.success(), "login_cache.py: {}", stderr(&out));
    // Its keys are Sign-In's, not STS's: the suite's STS and federation
    // endpoint are told of them.
    bed.sts.trust_session(
        "ASIALOGINCLI00000001",
        "login/cli-written/SECRET",
        "login-cli-written-session-token",
    );
    let dom = bed.sb.home().join("web.html");
    let out = bed.console(
        &["web", "--browser", chromium.to_str().unwrap()],
        &[("CONSOLE_DOM", dom.to_str().unwrap())],
    );
    opened(&out);
    let page = landed_dom(&dom);
    assert_eq!(sessions_in(&page), ["aws login"], "{page}");
    bed.assert_no_secret(&stderr(&out), "stderr");
    assert!(!stderr(&out).contains("login/cli-written/SECRET"));

    let out = bed.console(&["onweb", "--print"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let last = bed.fed.sign_ins().pop().unwrap();
    assert_eq!(last.principal, "arn:aws:iam::222222222222:role/web-admin");
}
