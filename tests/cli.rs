//! The command line as aws-vault and granted users type it: `exec PROFILE CMD`
//! without `--`, `--duration`, the messages a new user meets, `hook` refusing
//! a data format, and `--shell terragrunt` for Terragrunt's
//! `--auth-provider-cmd`. Against moto, with the AWS CLI as the consumer.

mod support;

use std::process::Stdio;

use support::moto::Moto;
use support::sandbox::{moto_sandbox, Sandbox};
use support::stderr_of;

// ---------------------------------------------------------------- exec

/// `mfaenv exec prod CMD ARGS…` with no `--`: the command's own flags stay
/// its own, even `--region`, which mfaenv has too.
#[test]
fn exec_without_dashes_runs_the_command_with_its_own_flags() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let out = sb.ok(&[
        "exec",
        "-t",
        "123456",
        "prod",
        "sh",
        "-c",
        r#"printf '%s|' "$@"; printf 'key=%s' "${AWS_ACCESS_KEY_ID:+set}""#,
        "sh",
        "-la",
        "--region",
        "eu-west-1",
        "--",
        "-t",
    ]);
    assert_eq!(out, "-la|--region|eu-west-1|--|-t|key=set", "{out}");
    // The AWS CLI as the command, its --region untouched; the keys are the role's.
    let out = sb.ok(&[
        "exec",
        "prod",
        "aws",
        "sts",
        "get-caller-identity",
        "--region",
        "eu-west-1",
    ]);
    assert!(out.contains("assumed-role/hc-master/"), "{out}");
}

/// `exec -- CMD` still means "the profile from AWS_PROFILE".
#[test]
fn exec_dashes_first_takes_the_profile_from_the_environment() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let out = sb
        .mfaenv(&[
            "exec",
            "-t",
            "123456",
            "--",
            "sh",
            "-c",
            "echo $MFAENV_PROFILE",
        ])
        .env("AWS_PROFILE", "staging")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "staging\n");
    let err = sb.fails(&["exec", "prod"]);
    assert!(err.contains("no command to run"), "{err}");
}

// ---------------------------------------------------------------- --duration

fn param(moto: &Moto, action: &str, name: &str) -> Vec<String> {
    moto.requests()
        .into_iter()
        .filter(|r| r.action == action)
        .map(|r| r.param(name).unwrap_or_default().to_string())
        .collect()
}

/// aws-vault's meaning: the session the user gets lasts `--duration` — the
/// role's DurationSeconds; the MFA session in front of it keeps its 12 h.
#[test]
fn duration_sets_the_role_session_and_the_plain_mfa_session() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.ok(&["login", "--duration", "2h", "-t", "123456", "prod"]);
    assert_eq!(param(&moto, "AssumeRole", "DurationSeconds"), ["7200"]);
    assert_eq!(
        param(&moto, "GetSessionToken", "DurationSeconds"),
        ["43200"]
    );
    // A profile without a role: the MFA session is what the user gets.
    sb.ok(&["forget", "--all"]);
    moto.start_recording();
    sb.ok(&["export", "-s", "json", "-d", "90m", "-t", "123456", "base"]);
    assert_eq!(param(&moto, "GetSessionToken", "DurationSeconds"), ["5400"]);
}

/// Outside what STS accepts: refused before any code is asked or STS called.
#[test]
fn duration_outside_the_sts_limits_is_refused_before_a_code() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.add_config(
        "\n[profile deeper]\nsource_profile = prod\nrole_arn = arn:aws:iam::333333333333:role/deep\n",
    );
    moto.start_recording();
    for (args, why) in [
        (&["--duration", "2h", "deeper"][..], "900-3600"),
        (&["--duration", "13h", "prod"][..], "900-43200"),
        (&["--duration", "10m", "prod"][..], "900-43200"),
        (&["--duration", "37h", "base"][..], "900-129600"),
    ] {
        let mut all = vec!["login", "-t", "123456"];
        all.extend_from_slice(args);
        let err = sb.fails(&all);
        assert!(
            err.contains("--duration") && err.contains(why),
            "{args:?}: {err}"
        );
    }
    assert!(moto.requests().is_empty(), "STS was called");
}

// ---------------------------------------------------------------- messages

#[test]
fn a_missing_config_file_is_named() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    std::fs::remove_file(sb.config()).unwrap();
    let err = sb.fails(&["login", "prod"]);
    assert!(
        err.contains("not found") && err.contains("config does not exist"),
        "{err}"
    );
}

/// The cause of a read error is said once, not twice.
#[test]
fn an_unreadable_config_says_its_cause_once() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    std::fs::remove_file(sb.config()).unwrap();
    // A directory cannot be read as a file, even by root.
    std::fs::create_dir(sb.config()).unwrap();
    let err = sb.fails(&["login", "prod"]);
    assert_eq!(err.matches("a directory").count(), 1, "{err}");
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn forget_alone_shows_both_ways() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let err = sb.fails(&["forget"]);
    assert!(err.contains("mfaenv forget <PROFILE|--all>"), "{err}");
}

/// A session without MFA is listed as `session`, not `mfa-session`.
#[test]
fn status_names_a_session_without_mfa() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.add_config("\n[profile nomfa]\nregion = us-east-1\n");
    let mut creds = std::fs::read_to_string(sb.credentials()).unwrap();
    creds.push_str(
        "[nomfa]\naws_access_key_id = AKIANOMFAEXAMPLE0001\naws_secret_access_key = nomfa-secret\n",
    );
    std::fs::write(sb.credentials(), creds).unwrap();
    moto.trust("AKIANOMFAEXAMPLE0001", "nomfa-secret");
    sb.ok(&["login", "nomfa"]);
    let table = sb.ok(&["status"]);
    let row = table.lines().find(|l| l.starts_with("nomfa")).unwrap();
    assert_eq!(row.split_whitespace().nth(1), Some("session"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&sb.ok(&["status", "--json"])).unwrap();
    assert_eq!(json["sessions"][0]["kind"], "session", "{json}");
}

/// The help says what bare `mfaenv` does and names AWS_DEFAULT_PROFILE as
/// the README does; bare `mfaenv` prints the help even with AWS_PROFILE set.
#[test]
fn help_says_where_the_profile_comes_from() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let top = sb.ok(&["--help"]);
    assert!(
        top.contains("`mfaenv` alone prints this help") && top.contains("AWS_DEFAULT_PROFILE"),
        "{top}"
    );
    let login = sb.ok(&["login", "--help"]);
    assert!(
        login.contains("AWS_PROFILE, else AWS_DEFAULT_PROFILE, else `default`"),
        "{login}"
    );
    let out = sb.mfaenv(&[]).env("AWS_PROFILE", "prod").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // stdout holds only the failing statement, for `eval "$(mfaenv)"`.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("AWS_") && stdout.trim() == "false",
        "{stdout}"
    );
    assert!(stderr_of(&out).contains("Usage: mfaenv"));
}

/// `hook` takes only the four shells, and clap says so at parse time.
#[test]
fn hook_refuses_a_data_format() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    for format in ["json", "dotenv", "terragrunt"] {
        let out = sb.run(&["hook", format]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(out.stdout.is_empty());
        let err = stderr_of(&out);
        assert!(
            err.contains("[possible values: bash, zsh, fish, pwsh]"),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------- terragrunt

/// What Terragrunt's externalcmd provider reads: awsCredentials (mapped to
/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and envs.
fn terragrunt_env(json: &[u8]) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(json).expect("terragrunt JSON");
    let creds = &v["awsCredentials"];
    let mut env: Vec<(String, String)> = v["envs"]
        .as_object()
        .expect("envs")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_string()))
        .collect();
    for (key, var) in [
        ("ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
        ("SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        ("SESSION_TOKEN", "AWS_SESSION_TOKEN"),
    ] {
        let value = creds[key].as_str().expect(key);
        assert!(!value.is_empty(), "{key} empty");
        env.push((var.to_string(), value.to_string()));
    }
    env
}

/// A `run-all` starts the command once per unit, at once: one code for all,
/// and every unit's JSON works with the AWS CLI.
#[test]
fn terragrunt_units_in_parallel_take_one_code() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    let counter = sb.home().join("codes-asked");
    sb.add_config(&format!(
        "\n[profile tg]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/tg\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nregion = eu-central-1\nmfa_process = echo asked >> '{}'; sleep 0.3; echo 123456\n",
        counter.display()
    ));
    // Terragrunt splits the command at spaces: plain words. A third of the
    // units name no profile: AWS_PROFILE, which Terragrunt passes on, does.
    let children: Vec<_> = (0..6)
        .map(|i| {
            let mut cmd = match i % 3 {
                0 => sb.mfaenv(&["export", "--shell", "terragrunt", "tg"]),
                1 => sb.mfaenv(&["-s", "terragrunt", "tg"]),
                _ => {
                    let mut cmd = sb.mfaenv(&["export", "--shell", "terragrunt"]);
                    cmd.env("AWS_PROFILE", "tg");
                    cmd
                }
            };
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut outputs = Vec::new();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", stderr_of(&out));
        outputs.push(out.stdout);
    }
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        1
    );
    assert_eq!(moto.count("GetSessionToken"), 1);
    assert_eq!(moto.count("AssumeRole"), 1);
    for (i, out) in outputs.iter().enumerate() {
        let env = terragrunt_env(out);
        let get = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("AWS_REGION"), Some("eu-central-1"));
        // The caller's AWS_PROFILE must not win over the keys in Terraform
        // (the Go SDK ignores it empty); one that is not set is left alone.
        let profile = if i % 3 == 2 { Some("") } else { None };
        assert_eq!(get("AWS_PROFILE"), profile, "unit {i}");
        assert!(get("AWS_CREDENTIAL_EXPIRATION").is_some());
        assert!(!env
            .iter()
            .any(|(n, _)| n == "MFAENV_PRIOR" || n == "MFAENV_SET"));
    }
    let (ok, out, err) = sb.aws(
        &terragrunt_env(&outputs[0]),
        &["sts", "get-caller-identity"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("assumed-role/tg/"), "{out}");
}

/// On error Terragrunt must read nothing: stdout stays empty, like json.
#[test]
fn terragrunt_error_prints_nothing() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let err = sb.fails(&["export", "--shell", "terragrunt", "nope"]);
    assert!(err.contains("not found"), "{err}");
    sb.fails(&["-s", "terragrunt", "nope"]);
}
