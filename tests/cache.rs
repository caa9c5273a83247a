//! The session cache end to end: one code for every role, parallel-safe,
//! private files, and the commands around it (login, status, forget, write).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use support::sandbox::{moto_sandbox, Sandbox, BASE_SECRET};

fn cache_files(sb: &Sandbox) -> Vec<std::path::PathBuf> {
    sb.session_files()
}

#[test]
fn second_export_needs_no_code_and_no_request() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    let first = sb.ok(&["export", "--shell", "bash", "-t", "123456", "prod"]);
    let requests = moto.requests().len();
    // No terminal, no --token-code: only the cache can answer.
    let second = sb.ok(&["export", "--shell", "bash", "prod"]);
    assert_eq!(moto.requests().len(), requests, "no STS request at all");
    let key = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("export AWS_ACCESS_KEY_ID="))
            .map(str::to_string)
    };
    assert_eq!(key(&first), key(&second));
}

#[test]
fn two_roles_sharing_a_source_take_one_code() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.ok(&["export", "-t", "123456", "prod"]);
    sb.ok(&["export", "staging"]); // no code: the MFA session is cached
    assert_eq!(moto.count("GetSessionToken"), 1);
    assert_eq!(moto.count("AssumeRole"), 2);
}

#[test]
fn sixteen_parallel_credential_processes_make_one_session() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    let counter = sb.home().join("codes-asked");
    sb.add_config(&format!(
        "\n[profile par]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/par\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nmfa_process = echo asked >> '{}'; sleep 0.3; echo 123456\n",
        counter.display()
    ));
    let children: Vec<_> = (0..16)
        .map(|_| {
            sb.mfaenv(&["credential-process", "par"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
        assert_eq!(v["Version"], 1);
        assert!(v["SessionToken"].is_string());
    }
    assert_eq!(moto.count("GetSessionToken"), 1);
    assert_eq!(moto.count("AssumeRole"), 1);
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        1,
        "exactly one code asked"
    );
}

#[test]
fn cache_is_private_and_holds_no_long_term_secret() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.ok(&["login", "-t", "123456", "prod"]);
    let dir = sb.cache_dir();
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let files = cache_files(&sb);
    assert_eq!(
        files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .count(),
        2
    );
    for f in &files {
        assert_eq!(
            std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
            0o600,
            "{}",
            f.display()
        );
        let text = std::fs::read_to_string(f).unwrap();
        assert!(
            !text.contains(BASE_SECRET) && !text.contains("AKIABASEEXAMPLE00001"),
            "{}",
            f.display()
        );
    }
}

#[test]
fn corrupt_and_loose_cache_files_are_not_trusted() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.ok(&["login", "-t", "123456", "base"]);
    let file = cache_files(&sb)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    std::fs::write(&file, "{\"version\":1,").unwrap();
    let out = sb.run(&["export", "-t", "123456", "base"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ignoring corrupt cache file"));
    assert_eq!(
        moto.count("GetSessionToken"),
        2,
        "a corrupt file is replaced by a fresh session"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = sb.run(&["export", "-t", "123456", "base"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("readable by others"));
    assert_eq!(
        moto.count("GetSessionToken"),
        3,
        "a world-readable file is not trusted"
    );
    // Without a code and without a trusted cache there is nothing to use.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    sb.fails(&["export", "base"]);
}

#[test]
fn an_unusable_cache_dir_still_works_with_a_warning() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    std::fs::create_dir_all(sb.home().join(".cache")).unwrap();
    std::fs::write(sb.cache_dir(), "a file where the directory should be").unwrap();
    let out = sb.run(&["export", "-t", "123456", "base"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not caching sessions"));
    assert_eq!(moto.count("GetSessionToken"), 1);
}

#[test]
fn min_ttl_forces_a_new_role_session() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.add_config("\n[profile long]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/long\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nduration_seconds = 7200\n");
    sb.ok(&["login", "-t", "123456", "long"]);
    sb.ok(&["export", "--min-ttl", "1h", "long"]);
    assert_eq!(moto.count("AssumeRole"), 1, "1h59m left is enough for 1h");
    sb.ok(&["export", "--min-ttl", "2h", "long"]);
    assert_eq!(
        moto.count("AssumeRole"),
        2,
        "less than 2h left: a new role session"
    );
    assert_eq!(
        moto.count("GetSessionToken"),
        1,
        "the 12h MFA session still serves"
    );
    let err = sb.fails(&["export", "--min-ttl", "3h", "long"]);
    assert!(
        err.contains("cannot be met") && err.contains("lasts 2h"),
        "{err}"
    );
    assert_eq!(moto.count("AssumeRole"), 2);
}

#[test]
fn status_forget_and_login() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let out = sb.run(&["login", "-t", "123456", "prod"]);
    assert!(out.status.success() && out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("prod: session valid until"));
    let json = sb.ok(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("status --json parses");
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions
        .iter()
        .any(|s| s["kind"] == "role" && s["profile"] == "prod"));
    assert!(sessions
        .iter()
        .all(|s| s["seconds_left"].as_u64().unwrap() > 3000));
    assert!(
        !json.contains("ASIA") && !json.contains("FQoG"),
        "nothing secret in status"
    );
    let table = sb.ok(&["status"]);
    assert!(
        table.contains("hc-master") && table.contains("active in this shell: none"),
        "{table}"
    );
    sb.ok(&["forget", "prod"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&sb.ok(&["status", "--json"])).unwrap()
            ["sessions"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    sb.ok(&["login", "-t", "123456", "base"]);
    sb.ok(&["forget", "--all"]);
    assert!(sb.ok(&["status"]).contains("no cached sessions"));
}

const GOLDEN: &str = "\
# my credentials — hand-written, keep this comment
[base]
aws_access_key_id = AKIABASEEXAMPLE00001
aws_secret_access_key = base/long-term/SECRET+do-not-leak

; the session section below is rewritten by mfaenv
[prod-mfa]
region = us-west-2
aws_access_key_id = ASIAOLD
aws_session_token = OLD

[zz-other]
aws_access_key_id = AKIAOTHER
aws_secret_access_key = other
";

#[test]
fn write_keeps_every_other_byte_and_the_cli_uses_it() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    std::fs::write(sb.credentials(), GOLDEN).unwrap();
    std::fs::set_permissions(sb.credentials(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = sb.run(&["write", "-t", "123456", "prod"]);
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(sb.credentials()).unwrap();
    assert_eq!(
        std::fs::metadata(sb.credentials())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // Every line but the three mfaenv owns in [prod-mfa] is as it was, in place.
    let before: Vec<&str> = GOLDEN.lines().collect();
    let after: Vec<&str> = text.lines().collect();
    let (head, rest) = after.split_at(9);
    assert_eq!(head[..8], before[..8]);
    assert!(
        head[8].starts_with("aws_access_key_id = ASIA") && head[8] != "aws_access_key_id = ASIAOLD"
    );
    assert!(rest[0].starts_with("aws_session_token = ") && rest[0] != "aws_session_token = OLD");
    assert!(rest[1].starts_with("aws_secret_access_key = "));
    assert!(
        rest[2].starts_with("expiration = ") && humantime::parse_rfc3339(&rest[2][13..]).is_ok()
    );
    assert_eq!(rest[3..], before[10..]);
    let (ok, out, err) = sb.aws(
        &[],
        &["sts", "get-caller-identity", "--profile", "prod-mfa"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("assumed-role/hc-master/"), "{out}");
    // A section with long-term keys is never overwritten.
    let err = sb.fails(&["write", "prod", "--to", "base"]);
    assert!(err.contains("long-term keys"), "{err}");
    assert!(std::fs::read_to_string(sb.credentials())
        .unwrap()
        .contains(BASE_SECRET));
}
