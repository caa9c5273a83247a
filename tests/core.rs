//! End to end against real parts: moto's STS, the AWS CLI as consumer, real
//! bash/zsh/fish, and the fake STS for the errors moto cannot give.

mod support;

use std::io::Write;

use support::fake_sts::{FakeSts, Reply};
use support::sandbox::{bash_exports, moto_sandbox, Sandbox, BASE_SECRET};

const SERIAL: &str = "arn:aws:iam::111111111111:mfa/alice";
const ROLE: &str = "arn:aws:iam::222222222222:role/hc/hc-master";

/// Runs `script` in a real shell inside the sandbox; returns (ok, stdout, stderr).
fn shell(sandbox: &Sandbox, program: &str, args: &[&str], script: &str) -> (bool, String, String) {
    support::require_program(program).expect("shell");
    let mut cmd = sandbox.command(program);
    cmd.args(args).arg(script);
    cmd.env("MFAENV", support::mfaenv_bin());
    let out = cmd.output().expect("run shell");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn caller_arn(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["Arn"].as_str().unwrap_or_default().to_string()
}

#[test]
fn bash_eval_gives_the_aws_cli_the_role() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    let (ok, out, err) = shell(
        &sb,
        "bash",
        &["--norc", "--noprofile", "-c"],
        r#"eval "$("$MFAENV" prod --shell bash -t 123456)" || exit 9
           test "$AWS_REGION" = us-west-2 || exit 8
           aws sts get-caller-identity"#,
    );
    assert!(ok, "{err}");
    assert!(
        caller_arn(&out).contains("assumed-role/hc-master/"),
        "{out}"
    );
    let gst: Vec<_> = moto
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gst.len(), 1);
    assert_eq!(gst[0].param("SerialNumber"), Some(SERIAL));
    assert_eq!(gst[0].param("TokenCode"), Some("123456"));
    assert_eq!(
        gst[0].access_key_id.as_deref(),
        Some("AKIABASEEXAMPLE00001")
    );
    let ar: Vec<_> = moto
        .requests()
        .into_iter()
        .filter(|r| r.action == "AssumeRole")
        .collect();
    assert_eq!(ar.len(), 1);
    assert_eq!(ar[0].param("RoleArn"), Some(ROLE));
    assert_eq!(ar[0].param("ExternalId"), Some("ext-069"));
    // Session mode: the role is assumed with the MFA session, no code.
    assert_eq!(ar[0].param("TokenCode"), None);
}

#[test]
fn direct_mode_sends_serial_code_and_external_id_to_assume_role() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    let out = sb.ok(&[
        "export", "--shell", "bash", "--direct", "-t", "654321", "prod",
    ]);
    assert!(out.contains("export AWS_SESSION_TOKEN="));
    assert_eq!(moto.count("GetSessionToken"), 0);
    let ar: Vec<_> = moto
        .requests()
        .into_iter()
        .filter(|r| r.action == "AssumeRole")
        .collect();
    assert_eq!(ar.len(), 1);
    assert_eq!(ar[0].param("SerialNumber"), Some(SERIAL));
    assert_eq!(ar[0].param("TokenCode"), Some("654321"));
    assert_eq!(ar[0].param("ExternalId"), Some("ext-069"));
}

#[test]
fn zsh_eval_gives_the_aws_cli_the_role() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let (ok, out, err) = shell(
        &sb,
        "zsh",
        &["-f", "-c"],
        r#"eval "$("$MFAENV" export --shell zsh -t 123456 prod)" || exit 9
           aws sts get-caller-identity"#,
    );
    assert!(ok, "{err}");
    assert!(
        caller_arn(&out).contains("assumed-role/hc-master/"),
        "{out}"
    );
}

#[test]
fn fish_source_gives_the_aws_cli_the_role() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let (ok, out, err) = shell(
        &sb,
        "fish",
        &["--no-config", "-c"],
        r#"$MFAENV export --shell fish -t 123456 prod | source; or exit 9
           test "$AWS_DEFAULT_REGION" = us-west-2; or exit 8
           aws sts get-caller-identity"#,
    );
    assert!(ok, "{err}");
    assert!(
        caller_arn(&out).contains("assumed-role/hc-master/"),
        "{out}"
    );
}

#[test]
fn mfa_only_profile_uses_get_session_token() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    let out = sb.ok(&["export", "--shell", "bash", "-t", "123456", "base"]);
    let vars = bash_exports(&out);
    let get = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    // moto's GetSessionToken always answers with these keys.
    assert_eq!(get("AWS_ACCESS_KEY_ID"), Some("AKIAIOSFODNN7EXAMPLE"));
    assert!(get("AWS_CREDENTIAL_EXPIRATION").is_some_and(|e| humantime::parse_rfc3339(e).is_ok()));
    assert_eq!(get("AWS_REGION"), Some("us-east-1"));
    assert_eq!(moto.count("GetSessionToken"), 1);
    assert_eq!(moto.count("AssumeRole"), 0);
    assert!(out.contains("unset AWS_SECURITY_TOKEN;") && out.contains("unset AWS_PROFILE;"));
    assert!(!out.contains(BASE_SECRET));
}

#[test]
fn pwsh_output_parses_as_powershell() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let out = sb.ok(&["export", "--shell", "pwsh", "-t", "123456", "prod"]);
    let parsed = support::pwsh::parse(&out);
    assert!(!parsed.has_error, "{:?}\n{out}", parsed.errors);
    let key = parsed
        .assignment_to("${env:AWS_ACCESS_KEY_ID}")
        .expect("assignment");
    assert!(key.verbatim_value().is_ok_and(|v| v.starts_with("ASIA")));
    assert!(out.contains("if (Test-Path -LiteralPath env:/AWS_SECURITY_TOKEN) { Remove-Item -LiteralPath env:/AWS_SECURITY_TOKEN }"));
}

#[test]
fn json_and_dotenv_outputs() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let out = sb.ok(&["export", "--shell", "json", "-t", "123456", "prod"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(v["AWS_SECRET_ACCESS_KEY"].is_string());
    assert!(v["AWS_PROFILE"].is_null());
    let out = sb.ok(&["export", "--shell", "dotenv", "prod"]);
    assert!(out.lines().any(|l| l.starts_with("AWS_SESSION_TOKEN=")));
    assert!(out.lines().all(|l| l.contains('=')));
}

#[test]
fn exec_passes_credentials_and_exit_status() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let out = sb
        .mfaenv(&[
            "exec",
            "-t",
            "123456",
            "prod",
            "--",
            "sh",
            "-c",
            r#"test -n "$AWS_SESSION_TOKEN" && test "$MFAENV_PROFILE" = prod && exit 42"#,
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(42),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sb
        .mfaenv(&["exec", "prod", "--", "aws", "sts", "get-caller-identity"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(caller_arn(&String::from_utf8_lossy(&out.stdout)).contains("assumed-role/hc-master/"));
    // The child's argv is exactly the user's command: no secret in it.
    let out = sb
        .mfaenv(&["exec", "prod", "--", "sh", "-c", "cat /proc/$$/cmdline"])
        .output()
        .expect("run");
    let argv = String::from_utf8_lossy(&out.stdout);
    assert!(!argv.contains("ASIA") && !argv.contains("FQoG"), "{argv}");
}

#[test]
fn exec_of_a_missing_program_fails_cleanly() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let err = sb.fails(&["exec", "-t", "123456", "prod", "--", "no-such-program-xyz"]);
    assert!(err.contains("cannot run `no-such-program-xyz`"), "{err}");
}

#[test]
fn credential_process_is_consumed_by_the_aws_cli() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.add_config(&format!(
        "\n[profile prod-tf]\ncredential_process = {} credential-process prod --token-code 123456\nregion = us-west-2\n",
        support::mfaenv_bin().display()
    ));
    let (ok, out, err) = sb.aws(&[], &["sts", "get-caller-identity", "--profile", "prod-tf"]);
    assert!(ok, "{err}");
    assert!(
        caller_arn(&out).contains("assumed-role/hc-master/"),
        "{out}"
    );
    let json = sb.ok(&["credential-process", "prod"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["Version"], 1);
    assert!(v["Expiration"]
        .as_str()
        .is_some_and(|e| humantime::parse_rfc3339(e).is_ok()));
}

#[test]
fn no_terminal_and_no_code_is_a_clear_error() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    let err = sb.fails(&["prod"]);
    assert!(
        err.contains("no terminal") && err.contains("--token-code"),
        "{err}"
    );
    assert_eq!(moto.count("GetSessionToken"), 0);
    let err = sb.fails(&["prod", "-t", "12345"]);
    assert!(err.contains("6 digits"), "{err}");
}

#[test]
fn mfa_process_supplies_the_code() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.add_config("\n[profile yubi]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/y\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nmfa_process = echo 246810\n");
    sb.ok(&["export", "yubi"]);
    let gst: Vec<_> = moto
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gst[0].param("TokenCode"), Some("246810"));
}

#[test]
fn unknown_profile_lists_close_matches() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let err = sb.fails(&["export", "prdo"]);
    assert!(
        err.contains("profile `prdo` not found") && err.contains("`prod`"),
        "{err}"
    );
}

#[test]
fn config_errors_fail_before_any_request() {
    let fake = FakeSts::start();
    let sb = Sandbox::with(&fake.endpoint(), "[profile a]\nsource_profile = b\nrole_arn = arn:aws:iam::1:role/a\n[profile b]\nsource_profile = a\nrole_arn = arn:aws:iam::1:role/b\n[profile bad\n", "");
    let err = sb.fails(&["export", "a"]);
    assert!(
        err.contains("config:7") && err.contains("unterminated"),
        "{err}"
    );
    std::fs::write(sb.config(), "[profile a]\nsource_profile = b\nrole_arn = arn:aws:iam::1:role/a\n[profile b]\nsource_profile = a\nrole_arn = arn:aws:iam::1:role/b\n").unwrap();
    let err = sb.fails(&["export", "a"]);
    assert!(err.contains("cycle: a -> b -> a"), "{err}");
    assert!(fake.requests().is_empty());
}

// ---- errors moto cannot give: the fake STS ----

fn fake_sandbox(fake: &FakeSts) -> Sandbox {
    Sandbox::new(&fake.endpoint())
}

#[test]
fn wrong_mfa_code_is_named() {
    let fake = FakeSts::start();
    fake.on("GetSessionToken", vec![Reply::invalid_mfa_code()]);
    let sb = fake_sandbox(&fake);
    let err = sb.fails(&["export", "-t", "123456", "prod"]);
    assert!(
        err.contains("AWS rejected the MFA code") && err.contains("wait for the next one"),
        "{err}"
    );
    assert!(!err.contains(BASE_SECRET));
    assert_eq!(
        fake.count("GetSessionToken"),
        1,
        "a rejected code is not retried"
    );
    assert_eq!(fake.count("AssumeRole"), 0);
}

#[test]
fn access_denied_on_assume_role() {
    let fake = FakeSts::start();
    fake.on("GetSessionToken", vec![Reply::session_token()]);
    fake.on("AssumeRole", vec![Reply::access_denied("User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole")]);
    let sb = fake_sandbox(&fake);
    let err = sb.fails(&["export", "-t", "123456", "prod"]);
    assert!(
        err.contains("assuming arn:aws:iam::222222222222:role/hc/hc-master")
            && err.contains("access denied"),
        "{err}"
    );
    assert!(
        err.contains("not authorized to perform: sts:AssumeRole"),
        "{err}"
    );
}

#[test]
fn server_errors_are_retried_then_reported() {
    let fake = FakeSts::start();
    fake.on("GetSessionToken", vec![Reply::internal_failure()]);
    let sb = fake_sandbox(&fake);
    let err = sb.fails(&["export", "-t", "123456", "base"]);
    assert!(
        err.contains("GetSessionToken") && err.contains("InternalFailure"),
        "{err}"
    );
    assert_eq!(fake.count("GetSessionToken"), 3, "3 attempts in all");
    // A 5xx once, then success: the retry hides it.
    let fake = FakeSts::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::internal_failure(), Reply::session_token()],
    );
    let sb = fake_sandbox(&fake);
    sb.ok(&["export", "-t", "123456", "base"]);
    assert_eq!(fake.count("GetSessionToken"), 2);
}

#[test]
fn connection_refused_is_named() {
    let port = support::fake_sts::unused_port();
    let sb = Sandbox::new(&format!("http://127.0.0.1:{port}"));
    let err = sb.fails(&["export", "-t", "123456", "base"]);
    assert!(
        err.contains("cannot reach") && err.to_lowercase().contains("refused"),
        "{err}"
    );
}

// ---- the terminal prompt, in a real pseudo-terminal ----

#[test]
fn prompt_on_the_terminal_while_stdout_is_captured() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    let bash = support::require_program("bash").expect("bash");
    let mut cmd = std::process::Command::new(bash);
    cmd.args(["--norc", "--noprofile"])
        .env_clear()
        .envs(sb.env())
        .env("PS1", "$ ")
        .env("MFAENV", support::mfaenv_bin());
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn bash in a pty");
    p.send_line(r#"out="$("$MFAENV" prod)"; echo "rc=$? bytes=${#out}""#)
        .unwrap();
    p.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    p.send_line("12345").unwrap(); // a typo: asked again
    p.exp_string("6 digits").unwrap();
    p.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    p.send_line("123456").unwrap();
    p.exp_regex("rc=0 bytes=[1-9][0-9]+").unwrap();
    p.send_line(r#"case "$out" in *"MFA code"*) echo LEAKED;; *) echo CLEAN;; esac"#)
        .unwrap();
    p.exp_string("CLEAN").unwrap();
    p.send_line(r#"eval "$out"; aws sts get-caller-identity --query Arn --output text"#)
        .unwrap();
    p.exp_string("assumed-role/hc-master/").unwrap();
    p.send_line("exit").unwrap();
    let gst: Vec<_> = moto
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gst.len(), 1);
    assert_eq!(gst[0].param("TokenCode"), Some("123456"));
}

#[test]
fn rejected_code_at_the_terminal_is_asked_again() {
    let fake = FakeSts::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::invalid_mfa_code(), Reply::session_token()],
    );
    let sb = fake_sandbox(&fake);
    let mut p = sb.in_pty(&["export", "--shell", "bash", "base"], |_| {});
    p.exp_string("MFA code for").unwrap();
    p.send_line("111111").unwrap();
    p.exp_string("AWS rejected the MFA code").unwrap();
    p.exp_string("MFA code for").unwrap();
    p.send_line("222222").unwrap();
    p.exp_string("export AWS_ACCESS_KEY_ID=").unwrap();
    let codes: Vec<_> = fake
        .requests()
        .iter()
        .filter_map(|r| r.param("TokenCode").map(str::to_string))
        .collect();
    assert_eq!(codes, ["111111", "222222"]);
}

#[test]
fn unset_restores_what_was_there() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let (ok, out, err) = shell(
        &sb,
        "bash",
        &["--norc", "--noprofile", "-c"],
        r#"export AWS_PROFILE=old AWS_REGION=ap-south-1
           eval "$("$MFAENV" prod --shell bash -t 123456)" || exit 9
           test -z "${AWS_PROFILE-}" || exit 8
           eval "$("$MFAENV" unset --shell bash)" || exit 7
           echo "profile=$AWS_PROFILE region=$AWS_REGION key=${AWS_ACCESS_KEY_ID-unset} mfaenv=${MFAENV_PRIOR-unset}""#,
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "profile=old region=ap-south-1 key=unset mfaenv=unset"
    );
}

#[test]
fn pwsh_export_snapshot() {
    use mfaenv::creds::Credentials;
    use std::time::{Duration, UNIX_EPOCH};
    let creds = Credentials {
        access_key_id: "ASIAEXAMPLE".into(),
        secret_access_key: "se'cret\u{2019}/+=".into(),
        session_token: Some("tok`$(x)".into()),
        expiration: Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
    };
    let changes = mfaenv::env_vars::for_shell("prod", &creds, Some("us-west-2"), &|_| None);
    let out = mfaenv::shell::render(mfaenv::shell::Format::Pwsh, &changes);
    let parsed = support::pwsh::parse(&out);
    assert!(!parsed.has_error, "{:?}", parsed.errors);
    insta::assert_snapshot!(out);
    let _ = std::io::stderr().flush();
}
