//! Real SDKs written by others read what mfaenv produces, by every route —
//! exported variables (`eval` in bash), `exec`, `credential_process`, and the
//! section `write` wrote — through the signature-checking STS in front of
//! moto, so a wrong secret or token anywhere fails here. The SDKs: Go v1 and
//! v2 (Debian), the JS SDK v3 (npm) and botocore (tests/support/sdks.rs).
//! First the problem mfaenv solves: the Go SDK v1 cannot use an MFA role
//! profile on its own.

mod support;

use std::process::Command;

use support::sandbox::Sandbox;
use support::sdks::Sdk;
use support::signing_sts::signed_sandbox;

/// How the credentials reach the SDK.
#[derive(Clone, Copy, Debug)]
enum Route {
    /// `eval "$(mfaenv export prod)"` in bash, then the SDK as a child.
    Exported,
    /// `mfaenv exec prod -- SDK`.
    Exec,
    /// A profile with `credential_process = mfaenv credential-process prod`.
    CredentialProcess,
    /// The section `mfaenv write prod --to prod-mfa` wrote.
    Written,
}

const ROUTES: [Route; 4] = [
    Route::Exported,
    Route::Exec,
    Route::CredentialProcess,
    Route::Written,
];

/// The SDK's command for `route`; `None` when the SDK may be skipped.
fn command(sb: &Sandbox, sdk: Sdk, route: Route) -> Option<Command> {
    let profile = match route {
        Route::Exported | Route::Exec => None,
        Route::CredentialProcess => Some("via-process"),
        Route::Written => Some("prod-mfa"),
    };
    let support::sdks::Program {
        path: program,
        args,
        env,
    } = sdk.command(profile)?;
    let mut cmd = match route {
        Route::Exported => {
            let bash = support::require_program("bash")?;
            let mut cmd = sb.command(bash);
            cmd.args([
                "--norc",
                "--noprofile",
                "-c",
                r#"eval "$("$MFAENV" export --shell bash prod)" && exec "$@""#,
                "bash",
            ])
            .env("MFAENV", support::mfaenv_bin());
            cmd.arg(&program);
            cmd
        }
        Route::Exec => {
            let mut cmd = sb.mfaenv(&["exec", "prod", "--"]);
            cmd.arg(&program);
            cmd
        }
        Route::CredentialProcess | Route::Written => sb.command(&program),
    };
    cmd.args(args)
        .envs(env)
        .env("MFAENV_TEST_ENDPOINT", &sb.endpoint);
    Some(cmd)
}

fn said(mut cmd: Command, what: &str) -> serde_json::Value {
    let out = cmd.output().expect("run the SDK");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed: {stdout}\n{}",
        support::stderr_of(&out)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what}: {e}: {stdout}"))
}

#[test]
fn the_go_sdk_v1_alone_cannot_use_an_mfa_role_profile() {
    let Some((_moto, sts, sb)) = signed_sandbox() else {
        return;
    };
    let Some(go) = Sdk::GoV1.command(Some("prod")) else {
        return;
    };
    let mut cmd = sb.command(go.path);
    cmd.args(go.args).env("MFAENV_TEST_ENDPOINT", &sb.endpoint);
    let out = cmd.output().unwrap();
    let err = support::stderr_of(&out);
    assert!(!out.status.success());
    assert!(err.contains("AssumeRoleTokenProviderNotSetError"), "{err}");
    assert_eq!(sts.verified(), 0, "it gave up before any call");
}

#[test]
fn every_sdk_reads_every_route_through_the_signature_check() {
    let Some((_moto, sts, sb)) = signed_sandbox() else {
        return;
    };
    sb.ok(&["login", "-t", "123456", "prod"]);
    sb.add_config(&format!(
        "\n[profile via-process]\ncredential_process = {} credential-process prod\nregion = us-west-2\n",
        support::mfaenv_bin().display()
    ));
    sb.ok(&["write", "prod", "--to", "prod-mfa"]);
    let before = sts.verified();
    let mut runs = 0;
    for sdk in Sdk::ALL {
        for route in ROUTES {
            let what = format!("{sdk:?} by {route:?}");
            let Some(cmd) = command(&sb, sdk, route) else {
                continue;
            };
            let said = said(cmd, &what);
            let arn = said["arn"].as_str().unwrap_or_default();
            assert!(arn.contains(":assumed-role/hc-master/"), "{what}: {said}");
            assert_eq!(said["region"], "us-west-2", "{what}: {said}");
            runs += 1;
        }
    }
    if !support::may_skip() {
        assert_eq!(runs, Sdk::ALL.len() * ROUTES.len());
    }
    assert_eq!(sts.refused(), [], "every request verified");
    // One GetCallerIdentity a run, each signed with the role session's keys.
    assert_eq!(sts.verified() - before, runs);
}

/// The check is real for these SDKs too: one byte of the written secret
/// changed, and AWS's own 403 comes back.
#[test]
fn the_sdks_get_the_403_for_a_corrupted_written_secret() {
    let Some((_moto, sts, sb)) = signed_sandbox() else {
        return;
    };
    sb.ok(&["write", "-t", "123456", "prod", "--to", "prod-mfa"]);
    let written = std::fs::read_to_string(sb.credentials()).unwrap();
    let secret = written
        .split("[prod-mfa]")
        .nth(1)
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        })
        .expect("written secret")
        .to_string();
    let mut broken = secret.clone().into_bytes();
    broken[5] = if broken[5] == b'x' { b'y' } else { b'x' };
    let broken = String::from_utf8(broken).unwrap();
    std::fs::write(sb.credentials(), written.replace(&secret, &broken)).unwrap();
    for sdk in [Sdk::GoV1, Sdk::GoV2, Sdk::Js] {
        let Some(mut cmd) = command(&sb, sdk, Route::Written) else {
            continue;
        };
        let out = cmd.output().unwrap();
        let err = support::stderr_of(&out);
        assert!(!out.status.success(), "{sdk:?} passed with a wrong secret");
        assert!(err.contains("SignatureDoesNotMatch"), "{sdk:?}: {err}");
    }
    assert!(sts
        .refused()
        .iter()
        .all(|(_, code)| code == "SignatureDoesNotMatch"));
}
