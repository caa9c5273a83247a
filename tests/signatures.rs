//! Through a signature-checking STS (tests/support/signing_sts.rs, in front
//! of moto): mfaenv signs its own calls with the right secrets, and what it
//! hands out — exported variables, `exec`, `credential_process`, the section
//! `write` wrote — is accepted by the AWS CLI with signatures AWS would
//! accept. One corrupted byte of a secret or token gets AWS's 403.

mod support;

use support::sandbox::{bash_exports, BASE_KEY, BASE_SECRET};
use support::signing_sts::signed_sandbox as signed;

fn caller_arn(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["Arn"].as_str().unwrap_or_default().to_string()
}

/// One byte of `text` changed (the middle one, to another character).
fn corrupt(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn mfaenvs_own_calls_are_signed_with_the_right_secrets() {
    let Some((_moto, sts, sb)) = signed() else {
        return;
    };
    // GetSessionToken with the long-term key, AssumeRole with the session's.
    sb.ok(&["login", "-t", "123456", "prod"]);
    assert_eq!(sts.refused(), [], "every call verified");
    assert_eq!(sts.verified(), 2);
}

#[test]
fn one_wrong_byte_of_the_long_term_secret_gets_signature_does_not_match() {
    let Some((_moto, sts, sb)) = signed() else {
        return;
    };
    let credentials = std::fs::read_to_string(sb.credentials()).unwrap();
    std::fs::write(
        sb.credentials(),
        credentials.replace(BASE_SECRET, &corrupt(BASE_SECRET)),
    )
    .unwrap();
    let err = sb.fails(&["login", "-t", "123456", "prod"]);
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert_eq!(
        sts.refused(),
        [(BASE_KEY.to_string(), "SignatureDoesNotMatch".to_string())]
    );
}

#[test]
fn exported_keys_pass_and_a_corrupted_secret_or_token_is_refused() {
    let Some((_moto, sts, sb)) = signed() else {
        return;
    };
    let exports: Vec<(String, String)> =
        bash_exports(&sb.ok(&["export", "--shell", "bash", "-t", "123456", "prod"]));
    let (ok, out, err) = sb.aws(&exports, &["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
    assert!(
        caller_arn(&out).contains("assumed-role/hc-master/"),
        "{out}"
    );
    assert_eq!(sts.refused(), []);
    for (name, code) in [
        ("AWS_SECRET_ACCESS_KEY", "SignatureDoesNotMatch"),
        ("AWS_SESSION_TOKEN", "InvalidClientTokenId"),
    ] {
        let broken: Vec<(String, String)> = exports
            .iter()
            .map(|(k, v)| (k.clone(), if k == name { corrupt(v) } else { v.clone() }))
            .collect();
        let (ok, _, err) = sb.aws(&broken, &["sts", "get-caller-identity"]);
        assert!(!ok && err.contains(code), "{name}: {err}");
        assert_eq!(sts.refused().last().map(|r| r.1.as_str()), Some(code));
    }
}

#[test]
fn exec_credential_process_and_write_pass_the_signature_check() {
    let Some((_moto, sts, sb)) = signed() else {
        return;
    };
    sb.ok(&["login", "-t", "123456", "prod"]);
    // exec: the CLI as the child.
    let out = sb.ok(&["exec", "prod", "--", "aws", "sts", "get-caller-identity"]);
    assert!(
        caller_arn(&out).contains("assumed-role/hc-master/"),
        "{out}"
    );
    // credential_process: the CLI runs mfaenv itself.
    sb.add_config(&format!(
        "\n[profile via-process]\ncredential_process = {} credential-process prod\nregion = us-west-2\n",
        support::mfaenv_bin().display()
    ));
    let profile = [("AWS_PROFILE".to_string(), "via-process".to_string())];
    let (ok, out, err) = sb.aws(&profile, &["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
    assert!(
        caller_arn(&out).contains("assumed-role/hc-master/"),
        "{out}"
    );
    // write: the CLI reads the section.
    sb.ok(&["write", "prod", "--to", "prod-mfa"]);
    let profile = [
        ("AWS_PROFILE".to_string(), "prod-mfa".to_string()),
        ("AWS_DEFAULT_REGION".to_string(), "us-west-2".to_string()),
    ];
    let (ok, out, err) = sb.aws(&profile, &["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
    assert!(
        caller_arn(&out).contains("assumed-role/hc-master/"),
        "{out}"
    );
    assert_eq!(
        sts.refused(),
        [],
        "every route signed with the secret STS issued"
    );
}
