//! `mfaenv write` leaves a profile that real SDKs can use as it is: keys in
//! the credentials file, the region in `[profile SECTION]` of the config
//! file. Read back by botocore, the AWS CLI and the JS SDK v3 (npm), each
//! calling GetCallerIdentity on moto with the written keys.

mod support;

use std::process::Command;

use support::moto::Moto;
use support::sandbox::{Sandbox, CONFIG, CREDENTIALS};
use support::sdks::js_sdk;

fn run(mut cmd: Command) -> String {
    let out = cmd.output().expect("run client");
    assert!(
        out.status.success(),
        "{:?} failed: {}\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const BOTOCORE: &str = r#"
import os, sys, botocore.session
s = botocore.session.Session(profile=sys.argv[1])
region = s.get_config_variable("region")
c = s.create_client("sts", endpoint_url=os.environ["MFAENV_TEST_ENDPOINT"])
print(region, c.meta.region_name, c.get_caller_identity()["Arn"])
"#;

#[test]
fn write_leaves_a_profile_botocore_the_cli_and_the_js_sdk_use() {
    let Some(moto) = Moto::start() else { return };
    let Some(node) = support::require_program("node") else {
        return;
    };
    let Some(js) = js_sdk() else { return };
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let sb = Sandbox::new(&moto.endpoint());
    let out = sb.run(&["write", "-t", "123456", "prod"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("set region = us-west-2 in [profile prod-mfa]"),
        "{err}"
    );
    let config = std::fs::read_to_string(sb.config()).unwrap();
    assert_eq!(
        config,
        format!("{CONFIG}\n[profile prod-mfa]\nregion = us-west-2\n")
    );
    let credentials = std::fs::read_to_string(sb.credentials()).unwrap();
    assert!(credentials.starts_with(CREDENTIALS), "{credentials}");
    // Nothing in the environment names a region: it must come from the files.
    let env: Vec<_> = sb
        .env()
        .into_iter()
        .chain([("MFAENV_TEST_ENDPOINT".to_string(), moto.endpoint())])
        .collect();
    assert!(env.iter().all(|(k, _)| !k.contains("REGION")));

    let mut cmd = sb.command(&python);
    cmd.envs(env.clone()).args(["-c", BOTOCORE, "prod-mfa"]);
    let said = run(cmd);
    let parts: Vec<&str> = said.split_whitespace().collect();
    assert_eq!(parts[..2], ["us-west-2", "us-west-2"], "botocore: {said}");
    assert!(
        parts[2].contains(":assumed-role/hc-master/"),
        "botocore: {said}"
    );

    let (ok, region, e) = sb.aws(
        &[],
        &["configure", "get", "region", "--profile", "prod-mfa"],
    );
    assert!(ok && region.trim() == "us-west-2", "aws cli: {region} {e}");

    let mut cmd = sb.command(&node);
    cmd.envs(env)
        .env("NODE_PATH", &js)
        .arg(support::root().join("tests/support/js_sts.cjs"))
        .arg("prod-mfa");
    let said: serde_json::Value = serde_json::from_str(&run(cmd)).unwrap();
    assert_eq!(said["region"], "us-west-2", "JS SDK: {said}");
    assert!(
        said["arn"]
            .as_str()
            .unwrap()
            .contains(":assumed-role/hc-master/"),
        "JS SDK: {said}"
    );

    // Written again: the region line is there already, the config unchanged.
    sb.ok(&["write", "prod"]);
    assert_eq!(std::fs::read_to_string(sb.config()).unwrap(), config);
}

#[test]
fn write_refuses_a_region_that_breaks_the_line_and_writes_neither_file() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    // The session is cached first: STS itself refuses such a region.
    sb.ok(&["login", "-t", "123456", "prod"]);
    for hostile in [
        "us-west-2\n[default]\ncredential_process = /tmp/evil",
        "us-west-2\r[default]",
        "us-west-2\u{b}x",
    ] {
        let err = sb.fails(&["write", "--region", hostile, "prod"]);
        // Refused as no region at all, before the writer's own guard
        // (src/config/edit.rs's tests keep that one covered).
        assert!(
            err.contains("unknown (set by --region)") || err.contains("refusing to write region"),
            "{hostile:?}: {err}"
        );
        assert_eq!(std::fs::read_to_string(sb.config()).unwrap(), CONFIG);
        assert_eq!(
            std::fs::read_to_string(sb.credentials()).unwrap(),
            CREDENTIALS
        );
    }
}
