//! IAM Identity Center as a chain source, end to end: the real mfaenv
//! binary against the suite's fake Identity Center (tests/support/fake_sso.rs)
//! and fake STS, with a "browser" that is a script in `$BROWSER` following
//! the URL with curl (so the authorization code flow runs through mfaenv's
//! loopback listener for real). The token cache is checked against the AWS
//! SDK's own reader and writer (botocore from the test venv) and the AWS CLI.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use sha1::{Digest, Sha1};
use support::fake_sso::{Authorize, FakeSso};
use support::fake_sts::FakeSts;
use support::sandbox::{bash_exports, Sandbox};

const CONFIG: &str = "\
# the user's own comment
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Dev
region = eu-west-1

[profile admin]
source_profile = dev
role_arn = arn:aws:iam::444455556666:role/admin
region = us-east-1

[profile legacy]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 444455556666
sso_role_name = Admin

[profile noaccess]
sso_session = corp
sso_account_id = 999999999999
sso_role_name = Dev
";

struct World {
    sso: FakeSso,
    sts: FakeSts,
    sb: Sandbox,
}

fn world() -> Option<World> {
    support::require_program("curl")?;
    let sso = FakeSso::start();
    let sts = FakeSts::start();
    let sb = Sandbox::with(&sts.endpoint(), CONFIG, "");
    let script = sb.home().join("browser.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"$1\" >> \"$HOME/browser.log\"\nenv >> \"$HOME/browser.env\"\nexec curl -sS -L --max-time 10 -o /dev/null \"$1\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    Some(World { sso, sts, sb })
}

impl World {
    /// mfaenv pointed at the fakes; with `browser`, `$BROWSER` is the curl script.
    fn mfaenv(&self, args: &[&str], browser: bool) -> Command {
        let mut cmd = self.sb.mfaenv(args);
        cmd.envs(self.sso.env());
        cmd.env("MFAENV_LOGIN_TIMEOUT", "20");
        if browser {
            cmd.env("BROWSER", self.sb.home().join("browser.sh"));
        }
        cmd
    }

    fn run(&self, args: &[&str], browser: bool) -> Output {
        self.mfaenv(args, browser).output().unwrap()
    }

    fn ok(&self, args: &[&str], browser: bool) -> String {
        let out = self.run(args, browser);
        assert!(
            out.status.success(),
            "mfaenv {args:?}: {}",
            support::stderr_of(&out)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and asserts the failure contract; returns stderr.
    fn fails(&self, args: &[&str], browser: bool) -> String {
        let out = self.run(args, browser);
        let stderr = support::stderr_of(&out);
        assert!(
            !out.status.success(),
            "mfaenv {args:?} should fail: {stderr}"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            support::sandbox::failure_stdout(args),
            "stdout of a failure: {stderr}"
        );
        stderr
    }

    fn token_path(&self, name: &str) -> PathBuf {
        let hex: String = Sha1::digest(name.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.sb.home().join(format!(".aws/sso/cache/{hex}.json"))
    }

    fn token(&self, name: &str) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.token_path(name)).unwrap()).unwrap()
    }

    fn browser_opened(&self) -> Vec<String> {
        std::fs::read_to_string(self.sb.home().join("browser.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Writes a token cache file as the AWS CLI writes it.
    fn write_token(
        &self,
        name: &str,
        access: &str,
        expires_in: i64,
        refresh: Option<(&str, &str, &str)>,
    ) {
        let at = |secs: i64| {
            let t = if secs >= 0 {
                SystemTime::now() + Duration::from_secs(secs as u64)
            } else {
                SystemTime::now() - Duration::from_secs((-secs) as u64)
            };
            humantime::format_rfc3339_seconds(t).to_string()
        };
        let mut v = serde_json::json!({
            "startUrl": "https://corp.awsapps.com/start",
            "region": "eu-west-1",
            "accessToken": access,
            "expiresAt": at(expires_in),
        });
        if let Some((rt, id, secret)) = refresh {
            v["refreshToken"] = rt.into();
            v["clientId"] = id.into();
            v["clientSecret"] = secret.into();
            v["registrationExpiresAt"] = at(86400).into();
        }
        let path = self.token_path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, v.to_string()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn key_of(exports: &str) -> String {
    bash_exports(exports)
        .into_iter()
        .find(|(k, _)| k == "AWS_ACCESS_KEY_ID")
        .map(|(_, v)| v)
        .unwrap_or_default()
}

#[test]
fn login_in_the_browser_then_cached_export_calls_nothing() {
    let Some(w) = world() else { return };
    let out = w
        .mfaenv(&["login", "dev"], true)
        .env("AWS_SECRET_ACCESS_KEY", "shell-secret-not-for-the-browser")
        .output()
        .unwrap();
    let stderr = support::stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty(), "login prints nothing on stdout");
    let browser_env = std::fs::read_to_string(w.sb.home().join("browser.env")).unwrap();
    assert!(!browser_env.contains("shell-secret-not-for-the-browser"));
    // The URL is always shown, and the browser got it.
    let opened = w.browser_opened();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(stderr.contains(&opened[0]), "{stderr}");
    let q = support::fake_sso::query_of(&opened[0]);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["redirect_uri"].starts_with("http://127.0.0.1:"), "{q:?}");
    assert!(q["redirect_uri"].ends_with("/oauth/callback"));
    assert!(q["state"].len() >= 40, "{q:?}");
    // The AWS CLI's file, its fields, 0600.
    let token = w.token("corp");
    for field in [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "refreshToken",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
    ] {
        assert!(token[field].is_string(), "{field}: {token}");
    }
    assert_eq!(token["startUrl"], "https://corp.awsapps.com/start");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(w.token_path("corp"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // No secret in what was printed.
    assert!(!stderr.contains(token["accessToken"].as_str().unwrap()));
    assert!(!stderr.contains(token["refreshToken"].as_str().unwrap()));
    let role_calls = w.sso.count("GetRoleCredentials");
    assert_eq!(role_calls, 1);
    // Cached: no call at all, no browser.
    let exports = w.ok(&["export", "--shell", "bash", "dev"], false);
    assert!(key_of(&exports).starts_with("ASIASSO"), "{exports}");
    assert_eq!(w.sso.count("GetRoleCredentials"), role_calls);
    assert_eq!(w.sso.count("RegisterClient"), 1);
    let status = w.ok(&["status"], false);
    assert!(
        status.contains("sso") && status.contains("111122223333/Dev"),
        "{status}"
    );
}

#[test]
fn a_role_chains_on_the_sso_credentials() {
    let Some(w) = world() else { return };
    let (access, ..) = w.sso.issue(3600);
    w.write_token("corp", &access, 3600, None);
    let exports = w.ok(&["export", "--shell", "bash", "admin"], false);
    let assume: Vec<_> = w
        .sts
        .requests()
        .into_iter()
        .filter(|r| r.action == "AssumeRole")
        .collect();
    assert_eq!(assume.len(), 1);
    let sso_key = assume[0].access_key_id.clone().unwrap_or_default();
    assert!(
        sso_key.starts_with("ASIASSO"),
        "AssumeRole signed with the SSO keys: {sso_key}"
    );
    assert_eq!(
        assume[0].param("RoleArn"),
        Some("arn:aws:iam::444455556666:role/admin")
    );
    assert!(!key_of(&exports).is_empty());
    // Both steps cached: the next export calls nothing.
    let before = (w.sso.calls().len(), w.sts.requests().len());
    w.ok(&["export", "--shell", "bash", "admin"], false);
    assert_eq!(before, (w.sso.calls().len(), w.sts.requests().len()));
    // exec and credential-process take the same way.
    let out = w.ok(&["credential-process", "admin"], false);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Version"], 1);
}

#[test]
fn device_code_login_waits_through_pending_and_slow_down() {
    let Some(w) = world() else { return };
    w.sso
        .pending(1)
        .fail("CreateToken", 400, "SlowDownException", "slow down");
    let out = w.run(&["login", "--use-device-code", "dev"], true);
    let stderr = support::stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("CODE-"), "the user code is shown: {stderr}");
    assert!(w.sso.count("CreateToken") >= 3, "{:?}", w.sso.calls());
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 1);
    assert!(w.token("corp")["refreshToken"].is_string());
}

#[test]
fn an_expired_token_is_refreshed_with_no_browser() {
    let Some(w) = world() else { return };
    let (_, refresh, client, secret) = w.sso.issue(-10);
    w.write_token("corp", "stale", -60, Some((&refresh, &client, &secret)));
    let exports = w.ok(&["export", "--shell", "bash", "dev"], false);
    assert!(key_of(&exports).starts_with("ASIASSO"));
    let grants: Vec<_> = w.sso.calls().into_iter().filter_map(|c| c.grant).collect();
    assert_eq!(grants, ["refresh_token"]);
    assert_eq!(w.sso.count("RegisterClient"), 0);
    let token = w.token("corp");
    assert_ne!(token["accessToken"], "stale");
    assert_ne!(
        token["refreshToken"],
        refresh.as_str(),
        "the new refresh token is kept"
    );
    assert_eq!(token["clientId"], client.as_str());
}

#[test]
fn with_no_terminal_and_no_browser_no_login_is_started() {
    let Some(w) = world() else { return };
    for args in [
        &["export", "--shell", "bash", "dev"][..],
        &["credential-process", "admin"][..],
    ] {
        let stderr = w.fails(args, false);
        assert!(stderr.contains("run `mfaenv login dev`"), "{stderr}");
    }
    assert!(
        w.sso.calls().is_empty(),
        "nothing was called: {:?}",
        w.sso.calls()
    );
    assert!(!w.token_path("corp").exists());
}

#[test]
fn a_revoked_token_or_a_role_not_assigned_is_said_and_nothing_is_lost() {
    let Some(w) = world() else { return };
    let (access, ..) = w.sso.issue(3600);
    w.write_token("corp", &access, 3600, None);
    let before = std::fs::read(w.token_path("corp")).unwrap();
    let stderr = w.fails(&["export", "--shell", "bash", "noaccess"], false);
    assert!(
        stderr.contains("profile `noaccess`")
            && stderr.contains("does not give you role `Dev` in account 999999999999"),
        "{stderr}"
    );
    w.sso.revoke_all();
    let stderr = w.fails(&["export", "--shell", "bash", "dev"], false);
    assert!(
        stderr.contains("UnauthorizedException") && stderr.contains("run `mfaenv login dev`"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(w.token_path("corp")).unwrap(), before);
}

#[test]
fn a_refresh_token_refused_falls_back_to_a_login() {
    let Some(w) = world() else { return };
    w.write_token(
        "corp",
        "stale",
        -60,
        Some(("unknown-refresh", "client-x", "s")),
    );
    // No browser: the refusal and what to do.
    let stderr = w.fails(&["export", "--shell", "bash", "dev"], false);
    assert!(
        stderr.contains("run `mfaenv login dev`") && stderr.contains("refresh"),
        "{stderr}"
    );
    // With a browser: a login replaces it.
    w.ok(&["export", "--shell", "bash", "dev"], true);
    assert_eq!(w.browser_opened().len(), 1);
    assert_ne!(w.token("corp")["accessToken"], "stale");
}

#[test]
fn oidc_errors_end_the_login_clearly_and_keep_the_cache() {
    let Some(w) = world() else { return };
    w.write_token("corp", "old", -60, None);
    let before = std::fs::read(w.token_path("corp")).unwrap();
    for (code, said) in [
        ("AccessDeniedException", "denied"),
        ("ExpiredTokenException", "expired before it was approved"),
        ("InvalidGrantException", "refused the login's grant"),
    ] {
        w.sso.fail("CreateToken", 400, code, "no");
        let out = w.run(&["login", "--use-device-code", "dev"], true);
        let stderr = support::stderr_of(&out);
        assert!(
            !out.status.success() && out.stdout.is_empty(),
            "{code}: {stderr}"
        );
        assert!(
            stderr.contains("profile `dev`") && stderr.contains(said) && stderr.contains(code),
            "{code}: {stderr}"
        );
        assert_eq!(
            std::fs::read(w.token_path("corp")).unwrap(),
            before,
            "{code}"
        );
    }
}

#[test]
fn the_listener_takes_only_its_own_state_and_times_out() {
    let Some(w) = world() else { return };
    w.sso.authorize(Authorize::WrongState);
    let out = w
        .mfaenv(&["login", "dev"], true)
        .env("MFAENV_LOGIN_TIMEOUT", "3")
        .output()
        .unwrap();
    let stderr = support::stderr_of(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("wrong `state`"), "{stderr}");
    assert!(stderr.contains("not finished within 3s"), "{stderr}");
    assert_eq!(
        w.sso.count("CreateToken"),
        0,
        "a forged code is never exchanged"
    );
    assert!(!w.token_path("corp").exists());
    // Denied in the browser: said at once.
    w.sso.authorize(Authorize::Deny);
    let stderr = w.fails(&["login", "dev"], true);
    assert!(stderr.contains("access_denied"), "{stderr}");
}

#[test]
fn another_local_connection_cannot_inject_a_code() {
    let Some(w) = world() else { return };
    // A browser script that first sends the listener requests of its own:
    // another path, the right path with a forged state, then the real one.
    let script = w.sb.home().join("browser.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"$1\" >> \"$HOME/browser.log\"\n\
         loc=$(curl -sS -o /dev/null -w '%{redirect_url}' \"$1\")\n\
         base=${loc%%\\?*}\n\
         curl -sS -o /dev/null \"${base%/oauth/callback}/other\"\n\
         curl -sS -o /dev/null \"$base?code=evil&state=guess\"\n\
         exec curl -sS -o /dev/null \"$loc\"\n",
    )
    .unwrap();
    let out = w.run(&["login", "dev"], true);
    let stderr = support::stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("wrong `state`"), "{stderr}");
    let grants: Vec<_> = w
        .sso
        .calls()
        .into_iter()
        .filter(|c| c.op == "CreateToken")
        .collect();
    assert_eq!(grants.len(), 1, "only the real code is exchanged");
}

#[test]
fn many_parallel_callers_make_one_login() {
    let Some(w) = world() else { return };
    let children: Vec<_> = (0..6)
        .map(|_| {
            w.mfaenv(&["credential-process", "admin"], true)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut keys = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", support::stderr_of(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        keys.push(v["AccessKeyId"].as_str().unwrap().to_string());
    }
    assert_eq!(w.browser_opened().len(), 1, "one browser tab");
    assert_eq!(w.sso.count("RegisterClient"), 1);
    assert_eq!(w.sso.count("GetRoleCredentials"), 1);
    keys.dedup();
    assert_eq!(keys.len(), 1, "everyone got the same keys");
}

#[test]
fn bad_token_cache_files_are_refused_not_trusted() {
    let Some(w) = world() else { return };
    let path = w.token_path("corp");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // Malformed, huge, a FIFO: a warning, then the no-login error; never a hang.
    type Make<'a> = Box<dyn Fn() + 'a>;
    let cases: Vec<(&str, Make)> = vec![
        (
            "not a JSON object",
            Box::new(|| std::fs::write(&path, "{nope").unwrap()),
        ),
        (
            "larger than",
            Box::new(|| std::fs::write(&path, vec![b' '; 200_000]).unwrap()),
        ),
        (
            "not a regular file",
            Box::new(|| {
                assert!(Command::new("mkfifo")
                    .arg(&path)
                    .status()
                    .unwrap()
                    .success());
            }),
        ),
    ];
    let mut cases = cases;
    cases.push((
        "writable by others",
        Box::new(|| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(&path, "{}").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        }),
    ));
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        cases.push((
            "owned by another user",
            Box::new(|| {
                std::fs::write(&path, "{}").unwrap();
                std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
            }),
        ));
    }
    for (said, make) in cases {
        let _ = std::fs::remove_file(&path);
        make();
        let started = std::time::Instant::now();
        let stderr = w.fails(&["export", "--shell", "bash", "dev"], false);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            stderr.contains(said) && stderr.contains("run `mfaenv login dev`"),
            "{said}: {stderr}"
        );
    }
    // A login replaces the bad file.
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, "{nope").unwrap();
    w.ok(&["export", "--shell", "bash", "dev"], true);
    assert!(w.token("corp")["accessToken"].is_string());
}

#[test]
fn plan_shows_the_sso_step_and_calls_nothing() {
    let Some(w) = world() else { return };
    let text = w.ok(&["plan", "admin"], false);
    assert!(text.contains("GetRoleCredentials"), "{text}");
    assert!(text.contains("https://corp.awsapps.com/start"), "{text}");
    assert!(text.contains("account 111122223333, role Dev"), "{text}");
    assert!(text.contains("no token cached"), "{text}");
    assert!(text.contains("AssumeRole"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&w.ok(&["plan", "--json", "dev"], false)).unwrap();
    assert_eq!(json["steps"][0]["call"], "GetRoleCredentials");
    assert_eq!(json["steps"][0]["sso_session"], "corp");
    assert_eq!(json["source"]["origin"]["kind"], "sso");
    assert!(w.sso.calls().is_empty());
    assert!(w.sts.requests().is_empty());
}

#[test]
fn legacy_profile_logs_in_with_the_device_flow_and_its_own_cache_file() {
    let Some(w) = world() else { return };
    let out = w.run(&["login", "legacy"], true);
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 1);
    let token = w.token("https://old.awsapps.com/start");
    assert_eq!(token["startUrl"], "https://old.awsapps.com/start");
}

#[test]
fn sso_populate_writes_marked_profiles_and_keeps_every_other_byte() {
    let Some(w) = world() else { return };
    let (access, ..) = w.sso.issue(3600);
    w.write_token("corp", &access, 3600, None);
    w.ok(&["sso", "populate", "--prefix", "c-", "corp"], false);
    let text = std::fs::read_to_string(w.sb.config()).unwrap();
    assert!(
        text.starts_with(CONFIG),
        "the user's part stays byte for byte:\n{text}"
    );
    for name in [
        "c-Dev-Account-Dev",
        "c-Dev-Account-ReadOnly",
        "c-prod-Admin",
    ] {
        assert!(
            text.contains(&format!("[profile {name}]")),
            "{name}:\n{text}"
        );
    }
    assert_eq!(w.sso.count("ListAccounts"), 2, "two pages");
    // Every profile it wrote works.
    let exports = w.ok(&["export", "--shell", "bash", "c-prod-Admin"], false);
    assert!(key_of(&exports).starts_with("ASIASSO"));
    // A re-run after a role went away: only its section goes.
    w.sso
        .accounts(&[("111122223333", "Dev Account", &["Dev", "ReadOnly"])]);
    w.ok(&["sso", "populate", "--prefix", "c-", "corp"], false);
    let again = std::fs::read_to_string(w.sb.config()).unwrap();
    assert!(again.starts_with(CONFIG), "{again}");
    assert!(!again.contains("c-prod-Admin"), "{again}");
    assert!(again.contains("[profile c-Dev-Account-Dev]"), "{again}");
    // The AWS SDK reads what was written.
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let out = w
        .sb
        .command(python)
        .envs(w.sso.env())
        .args(["-c", "import botocore.session as s; print(s.Session(profile='c-Dev-Account-ReadOnly').get_credentials().access_key)"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ASIASSO"));
}

/// botocore (the AWS CLI's SDK) against the same fake: it uses the token
/// mfaenv's login wrote, and mfaenv uses the token botocore refreshed.
#[test]
fn the_token_cache_is_shared_with_botocore_and_the_aws_cli_both_ways() {
    let Some(w) = world() else { return };
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    w.ok(&["login", "dev"], true);
    let token = w.token("corp");
    let ours = token["accessToken"].as_str().unwrap().to_string();
    let botocore = |code: &str| {
        let out =
            w.sb.command(&python)
                .envs(w.sso.env())
                .args(["-c", code])
                .output()
                .unwrap();
        assert!(out.status.success(), "{}", support::stderr_of(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let key = botocore("import botocore.session as s; print(s.Session(profile='dev').get_credentials().access_key)");
    assert!(key.starts_with("ASIASSO"), "{key}");
    let used: Vec<_> = w.sso.calls().into_iter().filter_map(|c| c.bearer).collect();
    assert!(
        used.iter().all(|b| *b == ours),
        "botocore used mfaenv's token: {used:?}"
    );
    // The AWS CLI: `aws sts get-caller-identity --profile dev` with no login of its own.
    let (ok, out, err) = w.sb.aws(
        &w.sso.env(),
        &["sts", "get-caller-identity", "--profile", "dev"],
    );
    assert!(ok, "{out}{err}");
    let signed = w
        .sts
        .requests()
        .last()
        .and_then(|r| r.access_key_id.clone())
        .unwrap_or_default();
    assert!(signed.starts_with("ASIASSO"), "{signed}");
    // botocore refreshes an expired token and writes it back; mfaenv uses
    // that one without calling OIDC.
    let mut t = token.clone();
    t["expiresAt"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(w.token_path("corp"), t.to_string()).unwrap();
    botocore("import botocore.session as s; print(s.Session(profile='dev').get_credentials().access_key)");
    let refreshed = w.token("corp");
    assert_ne!(
        refreshed["accessToken"],
        ours.as_str(),
        "botocore refreshed"
    );
    let oidc_calls = w.sso.count("CreateToken");
    w.ok(&["forget", "dev"], false);
    w.ok(&["export", "--shell", "bash", "dev"], false);
    assert_eq!(
        w.sso.count("CreateToken"),
        oidc_calls,
        "mfaenv used botocore's token"
    );
    let last = w
        .sso
        .calls()
        .into_iter()
        .rev()
        .find_map(|c| c.bearer)
        .unwrap();
    assert_eq!(last, refreshed["accessToken"].as_str().unwrap());
}

/// The hook in a real shell: an SSO-chained project says to log in, and
/// loads once `mfaenv login` ran in that shell.
fn hook_loads_after_login(sh: support::shells::RealShell) {
    use support::shells::{interactive, PROMPT};
    let Some(w) = world() else { return };
    if sh.require().is_none() {
        return;
    }
    let home = w.sb.home();
    std::fs::create_dir_all(home.join("proj")).unwrap();
    std::fs::write(home.join("proj/.mfaenv"), "profile = \"admin\"\n").unwrap();
    let browser = home.join("browser.sh").display().to_string();
    let mut env: Vec<(String, String)> = w.sso.env();
    env.push(("BROWSER".into(), browser));
    env.push(("MFAENV_HOOK_PROMPT".into(), "never".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut s = interactive(sh, &w.sb, &sh.hook_rc(&support::mfaenv_bin()), &env);
    s.send_line("mfaenv allow proj").unwrap();
    s.exp_string("mfaenv: allowed ").unwrap();
    s.exp_string(PROMPT).unwrap();
    s.send_line("cd proj").unwrap();
    s.exp_string("needs an IAM Identity Center login: run `mfaenv login admin`")
        .unwrap();
    s.send_line("mfaenv login admin").unwrap();
    s.exp_string("loaded admin").unwrap();
    s.send_line("echo KEY=$AWS_ACCESS_KEY_ID").unwrap();
    let (_, key) = s.exp_regex(r"KEY=ASIA\S+").unwrap();
    assert!(key.len() > 8, "{sh:?}: {key}");
    s.send_line("exit").unwrap();
    assert_eq!(w.browser_opened().len(), 1);
}

#[test]
fn bash_hook_loads_an_sso_profile_once_logged_in() {
    hook_loads_after_login(support::shells::RealShell::Bash);
}

#[test]
fn zsh_hook_loads_an_sso_profile_once_logged_in() {
    hook_loads_after_login(support::shells::RealShell::Zsh);
}

#[test]
fn fish_hook_loads_an_sso_profile_once_logged_in() {
    hook_loads_after_login(support::shells::RealShell::Fish);
}

/// The hook's refresh before expiry in bash, for `profile`: its keys last
/// 15 minutes (`sso_seconds` the portal's, the role's 15 minutes), the
/// window is 20: due as soon as they are loaded. With a valid SSO token
/// (`logged_in`) the next prompt loads new keys with exactly one more
/// GetRoleCredentials (and one AssumeRole for a role) and no OIDC call;
/// with a token that expired, a hint and no call.
fn hook_refreshes(profile: &str, sso_seconds: u64, logged_in: bool) {
    use support::shells::{interactive, RealShell, PROMPT};
    let sh = RealShell::Bash;
    let Some(w) = world() else { return };
    if sh.require().is_none() {
        return;
    }
    let (access, ..) = w.sso.issue(3600);
    w.write_token("corp", &access, 3600, None);
    w.sso.role_seconds(sso_seconds);
    w.sts.on(
        "AssumeRole",
        vec![support::fake_sts::Reply::FreshAssumeRole(
            Duration::from_secs(900),
        )],
    );
    let home = w.sb.home();
    std::fs::create_dir_all(home.join("proj")).unwrap();
    std::fs::write(
        home.join("proj/.mfaenv"),
        format!("profile = \"{profile}\"\nrefresh_before = \"20m\"\n"),
    )
    .unwrap();
    let mut env: Vec<(String, String)> = w.sso.env();
    env.push(("MFAENV_HOOK_PROMPT".into(), "never".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut s = interactive(sh, &w.sb, &sh.hook_rc(&support::mfaenv_bin()), &env);
    s.send_line("mfaenv allow proj").unwrap();
    s.exp_string("mfaenv: allowed ").unwrap();
    s.exp_string(PROMPT).unwrap();
    s.send_line("cd proj").unwrap();
    s.exp_string(&format!("loaded {profile}")).unwrap();
    s.exp_string(PROMPT).unwrap();
    if !logged_in {
        // Expired, with no refresh token: only a login renews it.
        w.write_token("corp", &access, -60, None);
    }
    let (roles, assumed) = (w.sso.count("GetRoleCredentials"), w.sts.count("AssumeRole"));
    s.send_line("echo KEY=$AWS_ACCESS_KEY_ID").unwrap();
    let (_, loaded) = s.exp_regex(r"KEY=ASIA\S+").unwrap();
    if logged_in {
        s.exp_string(&format!("mfaenv: refreshed {profile} ("))
            .unwrap();
    } else {
        s.exp_string(&format!("{profile} credentials expire in 1"))
            .unwrap();
        s.exp_string(&format!("run `mfaenv login {profile}`"))
            .unwrap();
    }
    s.exp_string(PROMPT).unwrap();
    s.send_line("echo KEY=$AWS_ACCESS_KEY_ID").unwrap();
    let (_, fresh) = s.exp_regex(r"KEY=ASIA\S+").unwrap();
    s.exp_string(PROMPT).unwrap();
    // Renewed (or said) once: the next prompts leave them.
    for _ in 0..3 {
        s.send_line("").unwrap();
        s.exp_string(PROMPT).unwrap();
    }
    s.send_line("echo KEY=$AWS_ACCESS_KEY_ID").unwrap();
    let (_, last) = s.exp_regex(r"KEY=ASIA\S+").unwrap();
    s.send_line("exit").unwrap();
    assert_eq!(last, fresh, "{profile}: renewed again");
    let calls = (
        w.sso.count("GetRoleCredentials") - roles,
        w.sts.count("AssumeRole") - assumed,
    );
    if logged_in {
        assert_ne!(fresh, loaded, "{profile}: the keys did not change");
        let role = usize::from(profile == "admin");
        assert_eq!(calls, (1, role), "{profile}: calls of the refresh");
    } else {
        assert_eq!(fresh, loaded, "{profile}");
        assert_eq!(calls, (0, 0), "{profile}: calls with no login");
    }
    for op in ["RegisterClient", "StartDeviceAuthorization", "CreateToken"] {
        assert_eq!(w.sso.count(op), 0, "{profile}: {op}");
    }
    assert!(w.browser_opened().is_empty());
}

#[test]
fn bash_hook_refreshes_sso_keys_before_expiry() {
    hook_refreshes("dev", 900, true);
}

/// A role on SSO whose SSO keys are past the cache's minimum TTL: the
/// refresh makes both again.
#[test]
fn bash_hook_refreshes_a_role_on_sso_before_expiry() {
    hook_refreshes("admin", 120, true);
}

#[test]
fn bash_hook_says_to_log_in_when_the_sso_token_expired() {
    hook_refreshes("dev", 900, false);
}

/// `exec`, `exec --server` and `write` take the SSO chain too.
#[test]
fn exec_server_and_write_routes() {
    let Some(w) = world() else { return };
    let (access, ..) = w.sso.issue(3600);
    w.write_token("corp", &access, 3600, None);
    let out = w.ok(
        &["exec", "dev", "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"],
        false,
    );
    assert!(out.trim().starts_with("ASIASSO"), "{out}");
    let out = w.ok(
        &[
            "exec",
            "--server",
            "admin",
            "--",
            "sh",
            "-c",
            "curl -sS -H \"Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN\" \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\"",
        ],
        false,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(
        v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{v}"
    );
    w.ok(&["write", "dev"], false);
    let creds = std::fs::read_to_string(w.sb.credentials()).unwrap();
    assert!(
        creds.contains("[dev-mfa]") && creds.contains("ASIASSO"),
        "{creds}"
    );
}

/// `exec --server` renews the child's keys near their expiry with no
/// person: the cached SSO token is valid, so one more GetRoleCredentials
/// (and, for a role on it, one more AssumeRole) and no OIDC call. The
/// child asks the endpoint twice, across the refresh.
fn server_renews(profile: &str) {
    let Some(w) = world() else { return };
    let (access, ..) = w.sso.issue(3600);
    w.write_token("corp", &access, 3600, None);
    // Role credentials lasting 10 s: with --min-ttl 2s the server renews
    // them halfway, after 5 s, and next after 10 s; the child asks at once
    // and after 7 s.
    w.sso.role_seconds(10);
    w.sts.on(
        "AssumeRole",
        vec![support::fake_sts::Reply::FreshAssumeRole(
            Duration::from_secs(10),
        )],
    );
    let (roles, assumed) = (w.sso.count("GetRoleCredentials"), w.sts.count("AssumeRole"));
    let ask = "curl -sS -H \"Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN\" \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\"";
    let out = w.ok(
        &[
            "exec",
            "--server",
            "--min-ttl",
            "2s",
            profile,
            "--",
            "sh",
            "-c",
            &format!("{ask}; echo; sleep 7; {ask}; echo"),
        ],
        false,
    );
    let keys: Vec<String> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{profile}: {e}: {out}"));
            v["AccessKeyId"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(keys.len(), 2, "{profile}: {out}");
    assert!(keys.iter().all(|k| k.starts_with("ASIA")), "{keys:?}");
    assert_ne!(
        keys[0], keys[1],
        "{profile}: the same keys after the refresh"
    );
    // One GetRoleCredentials to start, exactly one more for the refresh.
    assert_eq!(w.sso.count("GetRoleCredentials") - roles, 2, "{profile}");
    if profile == "admin" {
        assert_eq!(w.sts.count("AssumeRole") - assumed, 2, "{profile}");
    }
    for op in ["RegisterClient", "StartDeviceAuthorization", "CreateToken"] {
        assert_eq!(w.sso.count(op), 0, "{profile}: {op}");
    }
    assert!(w.browser_opened().is_empty());
}

#[test]
fn exec_server_renews_sso_keys_with_no_browser() {
    server_renews("dev");
}

#[test]
fn exec_server_renews_a_role_on_sso_with_no_browser() {
    server_renews("admin");
}

/// A cached export or credential-process of an SSO profile (and of a role
/// on it) starts no runtime (tests/fast_path.rs's probe: tokio's epoll).
#[test]
fn cached_sso_exports_start_no_runtime() {
    let Some(w) = world() else { return };
    let Some(strace) = support::require_program("strace") else {
        return;
    };
    let (access, ..) = w.sso.issue(3600);
    w.write_token("corp", &access, 3600, None);
    w.ok(&["export", "--shell", "bash", "admin"], false);
    let count = |args: &[&str]| {
        let log = w.sb.home().join("strace.log");
        let mut cmd = w.sb.command(&strace);
        cmd.args(["-f", "-qq", "-e", "trace=epoll_create,epoll_create1", "-o"])
            .arg(&log)
            .arg(support::mfaenv_bin())
            .args(args)
            .envs(w.sso.env());
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", support::stderr_of(&out));
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter(|l| l.contains("epoll_create"))
            .count()
    };
    for args in [
        &["export", "--shell", "bash", "dev"][..],
        &["export", "--shell", "bash", "admin"][..],
        &["credential-process", "admin"][..],
        &["plan", "admin"][..],
    ] {
        assert_eq!(count(args), 0, "{args:?}");
    }
    // The probe sees a runtime when there is one: a fresh fetch.
    w.ok(&["forget", "dev"], false);
    assert!(count(&["export", "--shell", "bash", "dev"]) > 0);
}

/// Ctrl-C while the login waits for the browser: mfaenv ends, nothing is
/// written, and the next login goes at once (no stale lock).
#[test]
fn ctrl_c_cancels_a_login_cleanly() {
    let Some(w) = world() else { return };
    let mut p = w.sb.in_pty(&["login", "dev"], |cmd| {
        cmd.envs(w.sso.env()).env("BROWSER", "true");
    });
    p.exp_string("/authorize?").unwrap();
    p.send_control('c').unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        match p.process.status() {
            Some(rexpect::process::WaitStatus::StillAlive) | None => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "still running after Ctrl-C"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            Some(other) => break other,
        }
    };
    assert!(
        !matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    assert!(!w.token_path("corp").exists());
    assert_eq!(w.sso.count("CreateToken"), 0);
    let started = std::time::Instant::now();
    w.ok(&["login", "dev"], true);
    assert!(started.elapsed() < Duration::from_secs(15));
}

/// An expired client registration cannot refresh: the next login registers anew.
#[test]
fn an_expired_registration_is_renewed_by_the_next_login() {
    let Some(w) = world() else { return };
    let (_, refresh, client, secret) = w.sso.issue(-10);
    w.write_token("corp", "stale", -60, Some((&refresh, &client, &secret)));
    let path = w.token_path("corp");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["registrationExpiresAt"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&path, v.to_string()).unwrap();
    w.ok(&["export", "--shell", "bash", "dev"], true);
    let grants: Vec<_> = w.sso.calls().into_iter().filter_map(|c| c.grant).collect();
    assert_eq!(
        grants,
        ["authorization_code"],
        "no refresh with an expired registration"
    );
    assert_eq!(w.sso.count("RegisterClient"), 1);
    let token = w.token("corp");
    assert_ne!(token["clientId"], client.as_str());
    let renewed = token["registrationExpiresAt"].as_str().unwrap();
    assert!(renewed > "2026", "{renewed}");
}

/// direnv's `use mfaenv` takes an SSO chain like any profile.
#[test]
fn direnv_uses_an_sso_profile() {
    let Some(w) = world() else { return };
    let Some(direnv) = support::require_program("direnv") else {
        return;
    };
    let (access, ..) = w.sso.issue(3600);
    w.write_token("corp", &access, 3600, None);
    let home = w.sb.home();
    let lib = w.ok(&["direnv"], false);
    std::fs::create_dir_all(home.join(".config/direnv")).unwrap();
    std::fs::write(home.join(".config/direnv/direnvrc"), lib).unwrap();
    let proj = home.join("proj-d");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".envrc"), "use mfaenv admin\n").unwrap();
    let run = |args: &[&str]| {
        let out =
            w.sb.command(&direnv)
                .args(args)
                .envs(w.sso.env())
                .output()
                .unwrap();
        assert!(out.status.success(), "{}", support::stderr_of(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["allow", proj.to_str().unwrap()]);
    let out = run(&[
        "exec",
        proj.to_str().unwrap(),
        "sh",
        "-c",
        "echo KEY=$AWS_ACCESS_KEY_ID",
    ]);
    assert!(out.contains("KEY=ASIA"), "{out}");
    assert_eq!(w.sso.count("GetRoleCredentials"), 1);
}

/// A profile with only `sso_session` (what `aws sso login --profile` uses)
/// logs in to its session.
#[test]
fn login_of_a_session_only_profile() {
    let Some(w) = world() else { return };
    w.sb.add_config("\n[profile corp-login]\nsso_session = corp\n");
    let out = w.run(&["login", "corp-login"], true);
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    assert!(w.token("corp")["accessToken"].is_string());
    assert_eq!(w.sso.count("GetRoleCredentials"), 0);
    // Anything else that does not resolve is still an error.
    let stderr = w.fails(&["login", "nosuch"], true);
    assert!(stderr.contains("nosuch"), "{stderr}");
}

/// Another local user, connecting to the login's listener while it waits:
/// with a guessed `state` (and any code) it is refused, and the login then
/// takes the real redirect.
#[test]
fn another_local_user_cannot_inject_a_code() {
    let Some(w) = world() else { return };
    let Some((other, _)) = support::users::two() else {
        return;
    };
    // A "browser" that only notes the URL: the test plays the rest.
    let script = w.sb.home().join("browser.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"$1\" >> \"$HOME/browser.log\"\n").unwrap();
    let child = w
        .mfaenv(&["login", "dev"], true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let url = loop {
        if let Some(url) = w.browser_opened().first() {
            break url.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no URL opened");
        std::thread::sleep(Duration::from_millis(50));
    };
    // Where IAM Identity Center would send the browser back.
    let curl = |user: Option<support::users::User>, args: &[&str]| {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "5"]).args(args);
        if let Some(u) = user {
            u.command(&mut cmd);
        }
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let location = curl(None, &["-o", "/dev/null", "-w", "%{redirect_url}", &url]);
    assert!(location.contains("/oauth/callback?code="), "{location}");
    let base = location.split('?').next().unwrap().to_string();
    let code_forged = curl(
        Some(other),
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{base}?code=evil&state=guess"),
        ],
    );
    assert_eq!(code_forged, "400", "a guessed state is refused");
    let other_path = curl(
        Some(other),
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &base.replace("/oauth/callback", "/"),
        ],
    );
    assert_eq!(other_path, "404");
    assert_eq!(
        curl(None, &["-o", "/dev/null", "-w", "%{http_code}", &location]),
        "200"
    );
    let out = child.wait_with_output().unwrap();
    let stderr = support::stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("wrong `state`"), "{stderr}");
    let exchanged: Vec<_> = w
        .sso
        .calls()
        .into_iter()
        .filter(|c| c.op == "CreateToken")
        .collect();
    assert_eq!(exchanged.len(), 1, "only the real code is exchanged");
}
