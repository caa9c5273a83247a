//! Profile shapes new users bring, end to end against moto with the AWS CLI
//! as the consumer: a role profile that leaves `region` to its source, and
//! aws-vault's profiles (`source_profile` + `mfa_serial` without a role,
//! `include_profile`).

mod support;

use support::moto::Moto;
use support::sandbox::{bash_exports, Sandbox};

const SERIAL: &str = "arn:aws:iam::111111111111:mfa/alice";

/// The issue's shape: the role profile has no `region`, its source has one.
/// Nothing else anywhere names a region.
const NO_REGION_CONFIG: &str = "\
[profile GEHC-000]
region = us-west-2
mfa_serial = arn:aws:iam::111111111111:mfa/alice

[profile GEHC-056]
source_profile = GEHC-000
role_arn = arn:aws:iam::222222222222:role/hc/hc-056
mfa_serial = arn:aws:iam::111111111111:mfa/alice
";

const GEHC_CREDENTIALS: &str = "\
[GEHC-000]
aws_access_key_id = AKIAGEHC000EXAMPLE01
aws_secret_access_key = gehc/long-term/SECRET
";

fn sandbox(config: &str) -> Option<(Moto, Sandbox)> {
    let moto = Moto::start()?;
    let sandbox = Sandbox::with(&moto.endpoint(), config, GEHC_CREDENTIALS);
    Some((moto, sandbox))
}

/// `script` in a real bash in the sandbox, `$MFAENV` set; (ok, stdout, stderr).
fn bash(sandbox: &Sandbox, script: &str) -> (bool, String, String) {
    let program = support::require_program("bash").expect("bash");
    let mut cmd = sandbox.command(program);
    cmd.args(["--norc", "--noprofile", "-c", script])
        .env("MFAENV", support::mfaenv_bin());
    let out = cmd.output().expect("run bash");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn value<'a>(exports: &'a [(String, String)], name: &str) -> Option<&'a str> {
    exports
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

const NOTE: &str = "region us-west-2 from source profile GEHC-000";

#[test]
fn eval_takes_the_region_from_the_source_profile() {
    let Some((_moto, sb)) = sandbox(NO_REGION_CONFIG) else {
        return;
    };
    // The issue's sequence: eval, then the AWS CLI with no region anywhere else.
    let (ok, out, err) = bash(
        &sb,
        r#"unset AWS_REGION AWS_DEFAULT_REGION
           eval "$("$MFAENV" GEHC-056 --shell bash -t 123456)" || exit 9
           test "$AWS_REGION" = us-west-2 || exit 8
           test "$AWS_DEFAULT_REGION" = us-west-2 || exit 7
           aws sts get-caller-identity --query Arn --output text"#,
    );
    assert!(ok, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("assumed-role/hc-056/"), "{out}");
    assert_eq!(err.matches(NOTE).count(), 1, "one note on stderr: {err}");
    // From the cache: the same region, the same single note.
    let out = sb.run(&["GEHC-056", "--shell", "bash"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches(NOTE).count(), 1, "{stderr}");
    let exports = bash_exports(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(value(&exports, "AWS_REGION"), Some("us-west-2"));
}

#[test]
fn region_flag_wins_over_the_source_profile() {
    let Some((_moto, sb)) = sandbox(NO_REGION_CONFIG) else {
        return;
    };
    let out = sb.run(&[
        "GEHC-056",
        "--shell",
        "bash",
        "-t",
        "123456",
        "--region",
        "eu-north-1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let exports = bash_exports(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(value(&exports, "AWS_REGION"), Some("eu-north-1"));
    assert_eq!(value(&exports, "AWS_DEFAULT_REGION"), Some("eu-north-1"));
    assert!(!stderr.contains("from source profile"), "{stderr}");
}

#[test]
fn exec_takes_the_region_from_the_source_profile() {
    let Some((_moto, sb)) = sandbox(NO_REGION_CONFIG) else {
        return;
    };
    let out = sb
        .mfaenv(&[
            "exec",
            "-t",
            "123456",
            "GEHC-056",
            "--",
            "aws",
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("assumed-role/hc-056/"));
    assert_eq!(stderr.matches(NOTE).count(), 1, "{stderr}");
}

#[test]
fn credential_process_says_nothing_about_the_region() {
    let Some((_moto, sb)) = sandbox(NO_REGION_CONFIG) else {
        return;
    };
    let out = sb.run(&["credential-process", "-t", "123456", "GEHC-056"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("region"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v.get("Region").is_none(), "{v}");
}
