//! Long-term keys in a real Secret Service (gnome-keyring-daemon on a
//! private D-Bus session bus): `add` stores them where `secret-tool` finds
//! them, the signature-checking STS sees that key sign the call, and the
//! cached paths (export, credential-process, the hook's `cd`) never open
//! the key store: strace shows no connection to the bus and no open of the
//! file store, while a fresh login shows both (so the probe is not blind).

mod support;

use std::path::Path;

use support::keyring::SecretService;
use support::moto::Moto;
use support::sandbox::{Sandbox, CONFIG};
use support::signing_sts::SigningSts;
use support::trace::traced;

const KEY_ID: &str = "AKIAKEYRINGEXAMPLE01";
const SECRET: &str = "keyring/SECRET+never-in-a-file";

fn run(
    sb: &Sandbox,
    ss: &SecretService,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = sb.mfaenv(args);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
    cmd.envs(env.iter().copied());
    cmd.output().expect("run mfaenv")
}

fn ok(out: &std::process::Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{what} failed: {stderr}");
    assert!(!stderr.contains(SECRET), "{what}: the secret on stderr");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(SECRET),
        "{what}: the secret on stdout"
    );
    stderr
}

fn add_env() -> [(&'static str, &'static str); 2] {
    [
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ]
}

/// No file under HOME but the keyring daemon's own (encrypted) holds the secret.
fn assert_no_plaintext(home: &Path) {
    for dir in [".aws", ".cache", ".local/share/mfaenv"] {
        let Ok(entries) = std::fs::read_dir(home.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(SECRET),
                    "the secret in plaintext in {}",
                    entry.path().display()
                );
            }
        }
    }
}

#[test]
fn the_secret_service_key_signs_the_sts_call() {
    let Some(moto) = Moto::start() else { return };
    let sts = SigningSts::start(&moto.raw_endpoint(), &[(KEY_ID, SECRET)]);
    // base has mfa_serial and no keys anywhere in the files; prod assumes a role from it.
    let sb = Sandbox::with(&sts.endpoint(), CONFIG, "");
    let Some(ss) = SecretService::start(sb.home()) else {
        return;
    };

    let stderr = ok(&run(&sb, &ss, &["add", "--env", "base"], &add_env()), "add");
    assert!(
        stderr.contains("stored key …LE01 of profile `base` in the Secret Service"),
        "{stderr}"
    );
    let entry = ss
        .lookup(sb.home(), "base")
        .expect("secret-tool finds the entry");
    assert!(entry.contains(KEY_ID) && entry.contains(SECRET), "{entry}");
    assert_no_plaintext(sb.home());

    let keys = ok(&run(&sb, &ss, &["keys", "--json"], &[]), "keys");
    let json: serde_json::Value =
        serde_json::from_slice(&run(&sb, &ss, &["keys", "--json"], &[]).stdout).unwrap();
    let row = &json["keys"][0];
    for (field, want) in [
        ("profile", "base"),
        ("store", "keyring"),
        ("key_id_last4", "LE01"),
        ("location", "the Secret Service"),
        ("created_from", "stored"),
    ] {
        assert_eq!(row[field], want, "{field}: {keys}");
    }
    assert_eq!(row["age_days"], 0, "{keys}");
    assert!(
        row["created"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{keys}"
    );

    // `plan` says where the keys are: the backend and the entry.
    let plan = ok(&run(&sb, &ss, &["plan", "prod"], &[]), "plan");
    let out = run(&sb, &ss, &["plan", "prod"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("from the Secret Service, entry service mfaenv user base"),
        "{text}{plan}"
    );
    ok(
        &run(&sb, &ss, &["login", "-t", "123456", "prod"], &[]),
        "login",
    );
    assert_eq!(sts.refused(), Vec::<(String, String)>::new());
    let signers = sts.verified_by();
    assert_eq!(
        signers.first().map(String::as_str),
        Some(KEY_ID),
        "GetSessionToken is signed with the keyring's key: {signers:?}"
    );
    assert_eq!(
        signers.len(),
        2,
        "then AssumeRole with the session: {signers:?}"
    );

    // Cached: no bus at all is needed.
    let out = sb.ok(&["export", "-s", "json", "prod"]);
    assert!(out.contains("AWS_SESSION_TOKEN"), "{out}");
    assert_no_plaintext(sb.home());
}

#[test]
fn a_vanished_keyring_entry_is_a_clear_error_and_add_mends_it() {
    let Some(moto) = Moto::start() else { return };
    moto.trust(KEY_ID, SECRET);
    let sb = Sandbox::with(&moto.endpoint(), CONFIG, "");
    let Some(ss) = SecretService::start(sb.home()) else {
        return;
    };
    ok(&run(&sb, &ss, &["add", "--env", "base"], &add_env()), "add");
    ss.clear(sb.home(), "base");
    let out = run(&sb, &ss, &["login", "-t", "123456", "base"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the Secret Service has no keys for it")
            && stderr.contains("mfaenv add base"),
        "{stderr}"
    );
    ok(
        &run(&sb, &ss, &["add", "--env", "base"], &add_env()),
        "add again",
    );
    ok(
        &run(&sb, &ss, &["login", "-t", "123456", "base"], &[]),
        "login",
    );
}

#[test]
fn remove_deletes_the_entry_and_its_sessions() {
    let Some(moto) = Moto::start() else { return };
    moto.trust(KEY_ID, SECRET);
    let sb = Sandbox::with(&moto.endpoint(), CONFIG, "");
    let Some(ss) = SecretService::start(sb.home()) else {
        return;
    };
    ok(&run(&sb, &ss, &["add", "--env", "base"], &add_env()), "add");
    ok(
        &run(&sb, &ss, &["login", "-t", "123456", "prod"], &[]),
        "login",
    );
    // No terminal, no --yes: refused, nothing deleted.
    let out = run(&sb, &ss, &["remove", "base"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(ss.lookup(sb.home(), "base").is_some());

    let stderr = ok(&run(&sb, &ss, &["remove", "--yes", "base"], &[]), "remove");
    // It names the profiles whose sessions went (prod's role, base's MFA session).
    assert!(
        stderr.contains("and 2 cached sessions made from it (of base, prod)"),
        "{stderr}"
    );
    assert_eq!(ss.lookup(sb.home(), "base"), None, "the entry is gone");
    let cached = std::fs::read_dir(sb.cache_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .count();
    assert_eq!(cached, 0, "the sessions made from the key are gone");
    let listed = sb.ok(&["keys", "--json"]);
    assert_eq!(listed.trim(), r#"{"keys":[]}"#);
}

/// Lines of an strace log that touch the key store: a connection to the
/// session bus's socket, or an open of the file store.
fn store_touches<'a>(trace: &'a str, bus_path: &str) -> Vec<&'a str> {
    trace
        .lines()
        .filter(|l| (l.contains("connect(") && l.contains(bus_path)) || l.contains("keys.enc"))
        .collect()
}

#[test]
fn cached_paths_never_open_the_key_store() {
    let Some(strace) = support::require_program("strace") else {
        return;
    };
    let Some(moto) = Moto::start() else { return };
    moto.trust(KEY_ID, SECRET);
    moto.trust("AKIAFILESTOREEXAMP01", "file/SECRET");
    let config = format!(
        "{CONFIG}
[profile fbase]
mfa_serial = arn:aws:iam::111111111111:mfa/alice
[profile fprod]
source_profile = fbase
role_arn = arn:aws:iam::444444444444:role/file
"
    );
    let sb = Sandbox::with(&moto.endpoint(), &config, "");
    let Some(ss) = SecretService::start(sb.home()) else {
        return;
    };
    let bus_path = ss
        .address
        .trim_start_matches("unix:path=")
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let pass = ("MFAENV_FILE_PASSPHRASE", "file-store-pass");
    ok(
        &run(&sb, &ss, &["add", "--env", "base"], &add_env()),
        "add base",
    );
    let file_key = [
        ("AWS_ACCESS_KEY_ID", "AKIAFILESTOREEXAMP01"),
        ("AWS_SECRET_ACCESS_KEY", "file/SECRET"),
        pass,
    ];
    ok(
        &run(
            &sb,
            &ss,
            &["add", "--env", "--backend", "file", "fbase"],
            &file_key,
        ),
        "add fbase",
    );
    let home = sb.home().to_path_buf();
    let bus = ("DBUS_SESSION_BUS_ADDRESS", ss.address.as_str());
    let env = [bus, pass];
    let syscalls = "connect,open,openat";

    // The probe sees both stores when STS is called.
    for profile in ["prod", "fprod"] {
        let (out, trace) = traced(
            &sb,
            &strace,
            &[],
            syscalls,
            &env,
            &home,
            &["login", "-t", "123456", profile],
        );
        ok(&out, "login");
        let touched = store_touches(&trace, &bus_path);
        let expect = if profile == "prod" {
            &bus_path[..]
        } else {
            "keys.enc"
        };
        assert!(
            touched.iter().any(|l| l.contains(expect)),
            "a fresh login of {profile} must read its key store ({expect}); the probe is blind:\n{trace}"
        );
    }

    let proj = home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".mfaenv"), "profile = \"fprod\"\n").unwrap();
    sb.ok(&["allow", &proj.display().to_string()]);
    for (what, dir, args) in [
        (
            "a cached export",
            &home,
            &["export", "-s", "bash", "prod"][..],
        ),
        (
            "a cached export (file store)",
            &home,
            &["export", "-s", "bash", "fprod"],
        ),
        (
            "a cached credential-process",
            &home,
            &["credential-process", "fprod"],
        ),
        ("hook-env entering", &proj, &["hook-env", "--shell", "json"]),
        ("status", &home, &["status"]),
    ] {
        let (out, trace) = traced(&sb, &strace, &[], syscalls, &env, dir, args);
        ok(&out, what);
        assert!(!out.stdout.is_empty(), "{what}: no output");
        let touched = store_touches(&trace, &bus_path);
        assert!(
            touched.is_empty(),
            "{what} opened the key store: {touched:?}"
        );
    }
}

/// The Secret Service gone (the session ended) after the keys went in: the
/// error says which store was tried, why it failed in words (not the bus's
/// own text), and how to choose another; nothing falls back to the file
/// store. `add` with no store named and no bus at all refuses likewise.
#[test]
fn a_keyring_that_does_not_answer_is_explained_and_never_replaced_silently() {
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, "");
    let Some(ss) = SecretService::start(sb.home()) else {
        return;
    };
    ok(&run(&sb, &ss, &["add", "--env", "base"], &add_env()), "add");
    let address = ss.address.clone();
    drop(ss);
    let out = sb
        .mfaenv(&["login", "-t", "123456", "prod"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(
            "the Secret Service is not available: the D-Bus session bus cannot be reached"
        ),
        "{err}"
    );
    assert!(
        err.contains("hint:")
            && err.contains("--backend file")
            && err.contains("MFAENV_BACKEND=file"),
        "{err}"
    );
    // The bus's own words (its error text after the name) are not shown.
    assert!(!err.contains("Failed to connect to socket"), "{err}");
    assert!(!sb.home().join(".local/share/mfaenv/keys.enc").exists());

    // New keys with no store named: refused, not put in the file store.
    let out = sb
        .mfaenv(&["add", "--env", "other"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .envs(add_env())
        .env("MFAENV_FILE_PASSPHRASE", "p")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("no key store was chosen, and the Secret Service was tried"),
        "{err}"
    );
    assert!(!sb.home().join(".local/share/mfaenv/keys.enc").exists());
}
