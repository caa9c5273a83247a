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

/// aws-vault's shapes: MFA sessions of `vault-a`/`vault-b` on `GEHC-000`'s
/// keys, and a role profile that takes its role from a template section.
const VAULT_CONFIG: &str = "\
[profile GEHC-000]
region = us-west-2

[profile vault-a]
source_profile = GEHC-000
mfa_serial = arn:aws:iam::111111111111:mfa/alice
mfa_session_duration = 1h

[profile vault-b]
source_profile = GEHC-000
mfa_serial = arn:aws:iam::111111111111:mfa/bob
region = eu-west-1

[profile role-template]
role_arn = arn:aws:iam::222222222222:role/hc/vault-admin
region = ap-south-1

[profile vault-admin]
include_profile = role-template
source_profile = vault-a
";

fn sandbox(config: &str) -> Option<(Moto, Sandbox)> {
    let moto = Moto::start()?;
    moto.trust("AKIAGEHC000EXAMPLE01", "gehc/long-term/SECRET");
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
    // From the cache: the same region, and the note is not said again
    // (once per profile, remembered in the cache directory, 0600).
    let out = sb.run(&["GEHC-056", "--shell", "bash"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches(NOTE).count(), 0, "{stderr}");
    let again = sb.run(&["exec", "GEHC-056", "--", "true"]);
    assert_eq!(
        String::from_utf8_lossy(&again.stderr).matches(NOTE).count(),
        0
    );
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in std::fs::read_dir(sb.cache_dir()).unwrap().flatten() {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{:?}", entry.path());
        }
    }
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

#[test]
fn aws_vault_session_profiles_use_the_source_keys_and_their_own_device() {
    let Some((moto, sb)) = sandbox(VAULT_CONFIG) else {
        return;
    };
    let (ok, out, err) = bash(
        &sb,
        r#"eval "$("$MFAENV" vault-a --shell bash -t 123456)" || exit 9
           test "$AWS_REGION" = us-west-2 || exit 8
           aws sts get-caller-identity --query Account --output text"#,
    );
    assert!(ok, "stdout: {out}\nstderr: {err}");
    assert!(
        err.contains("region us-west-2 from source profile GEHC-000"),
        "{err}"
    );
    // Another device on the same keys: its own MFA session, not vault-a's.
    let out = sb.ok(&["vault-b", "--shell", "bash", "-t", "654321"]);
    let exports = bash_exports(&out);
    assert_eq!(value(&exports, "AWS_REGION"), Some("eu-west-1"));
    let gst: Vec<_> = moto
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gst.len(), 2, "one MFA session per device");
    assert_eq!(gst[0].param("SerialNumber"), Some(SERIAL));
    assert_eq!(gst[0].param("DurationSeconds"), Some("3600"));
    assert_eq!(gst[0].param("TokenCode"), Some("123456"));
    assert_eq!(
        gst[1].param("SerialNumber"),
        Some("arn:aws:iam::111111111111:mfa/bob")
    );
    assert_eq!(gst[1].param("TokenCode"), Some("654321"));
    for request in &gst {
        assert_eq!(
            request.access_key_id.as_deref(),
            Some("AKIAGEHC000EXAMPLE01")
        );
    }
}

#[test]
fn include_profile_supplies_the_role_and_the_region() {
    let Some((moto, sb)) = sandbox(VAULT_CONFIG) else {
        return;
    };
    let (ok, out, err) = bash(
        &sb,
        r#"eval "$("$MFAENV" vault-admin --shell bash -t 123456)" || exit 9
           test "$AWS_REGION" = ap-south-1 || exit 8
           aws sts get-caller-identity --query Arn --output text"#,
    );
    assert!(ok, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("assumed-role/vault-admin/"), "{out}");
    // The MFA session is vault-a's (its device), then the role with no code.
    let gst: Vec<_> = moto
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gst.len(), 1);
    assert_eq!(gst[0].param("SerialNumber"), Some(SERIAL));
    let ar: Vec<_> = moto
        .requests()
        .into_iter()
        .filter(|r| r.action == "AssumeRole")
        .collect();
    assert_eq!(ar.len(), 1);
    assert_eq!(
        ar[0].param("RoleArn"),
        Some("arn:aws:iam::222222222222:role/hc/vault-admin")
    );
    assert_eq!(ar[0].param("TokenCode"), None);
    // vault-a now comes from the cache: no second code.
    sb.ok(&["vault-a", "--shell", "bash"]);
    assert_eq!(moto.count("GetSessionToken"), 1);
}

#[test]
fn include_profile_loop_is_named_before_any_request() {
    let Some((moto, sb)) = sandbox(
        "[profile a]\ninclude_profile = b\nsource_profile = GEHC-000\n[profile b]\nparent_profile = a\n",
    ) else {
        return;
    };
    let err = sb.fails(&["a", "--shell", "json", "-t", "123456"]);
    assert!(err.contains("include_profile cycle: a -> b -> a"), "{err}");
    assert!(moto.requests().is_empty());
}
