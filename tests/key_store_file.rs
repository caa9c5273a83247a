//! The encrypted file store end to end (the real binary, the
//! signature-checking STS): round trip, wrong passphrase, a damaged store,
//! permissions; and `import` moving keys out of a credentials file with
//! comments and odd spacing (golden files), every other byte kept.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use support::moto::Moto;
use support::sandbox::{Sandbox, BASE_SECRET, CONFIG};
use support::signing_sts::SigningSts;

const KEY_ID: &str = "AKIAFILESTOREEXAMP01";
const SECRET: &str = "file/SECRET+never-in-plaintext";
const PASS: (&str, &str) = ("MFAENV_FILE_PASSPHRASE", "correct horse");

fn store(sb: &Sandbox) -> PathBuf {
    sb.home().join(".local/share/mfaenv/keys.enc")
}

fn run(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = sb.mfaenv(args).envs(env.iter().copied()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains(SECRET) && !stderr.contains(PASS.1),
        "{stderr}"
    );
    (out.status.success(), stderr)
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn file_store_round_trip_wrong_passphrase_damage_and_permissions() {
    let Some(moto) = Moto::start() else { return };
    let sts = SigningSts::start(&moto.raw_endpoint(), &[(KEY_ID, SECRET)]);
    let sb = Sandbox::with(&sts.endpoint(), CONFIG, "");
    let keys = [
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        PASS,
    ];
    // No bus in the sandbox and no terminal: no store is chosen silently.
    let (ok, err) = run(&sb, &["add", "--env", "base"], &keys);
    assert!(!ok, "{err}");
    assert!(
        err.contains("no key store was chosen, and the Secret Service was tried: there is no D-Bus session bus here")
            && err.contains("`--backend file`")
            && err.contains("MFAENV_BACKEND=file"),
        "{err}"
    );
    assert!(!store(&sb).exists());
    let (ok, err) = run(
        &sb,
        &["add", "--env", "base"],
        &[keys[0], keys[1], PASS, ("MFAENV_BACKEND", "file")],
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("in the encrypted file store (from MFAENV_BACKEND"),
        "{err}"
    );
    let path = store(&sb);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !String::from_utf8_lossy(&bytes).contains("SECRET"),
        "plaintext in the store"
    );

    let (ok, err) = run(&sb, &["login", "-t", "123456", "prod"], &[PASS]);
    assert!(ok, "{err}");
    assert_eq!(sts.verified_by().first().map(String::as_str), Some(KEY_ID));
    assert!(sts.refused().is_empty(), "{:?}", sts.refused());
    sb.ok(&["forget", "--all"]);

    // A wrong passphrase: a clear error, the store untouched, for reads and writes.
    let wrong = [("MFAENV_FILE_PASSPHRASE", "wrong")];
    let (ok, err) = run(&sb, &["login", "-t", "123456", "prod"], &wrong);
    assert!(!ok && err.contains("wrong passphrase for"), "{err}");
    let other = [
        ("AWS_ACCESS_KEY_ID", "AKIAOTHEREXAMPLE0001"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        wrong[0],
    ];
    let (ok, err) = run(&sb, &["add", "--env", "--backend", "file", "other"], &other);
    assert!(!ok && err.contains("wrong passphrase"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "a wrong passphrase changed the store"
    );

    // No passphrase and no terminal.
    let (ok, err) = run(&sb, &["login", "-t", "123456", "prod"], &[]);
    assert!(!ok && err.contains("MFAENV_FILE_PASSPHRASE"), "{err}");

    // Damaged: truncated. Reads fail clearly, writes do not overwrite it.
    let half = &bytes[..bytes.len() / 2];
    std::fs::write(&path, half).unwrap();
    let (ok, err) = run(&sb, &["login", "-t", "123456", "prod"], &[PASS]);
    assert!(
        !ok && err.contains("is damaged (truncated") && err.contains("left as it is"),
        "{err}"
    );
    let other = [
        ("AWS_ACCESS_KEY_ID", "AKIAOTHEREXAMPLE0001"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        PASS,
    ];
    let (ok, err) = run(&sb, &["add", "--env", "--backend", "file", "other"], &other);
    assert!(!ok && err.contains("is damaged"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        half,
        "a damaged store was overwritten"
    );

    // Open to others: refused; private again: works.
    std::fs::write(&path, &bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, err) = run(&sb, &["login", "-t", "123456", "prod"], &[PASS]);
    assert!(!ok && err.contains("open to others (mode 644)"), "{err}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (ok, err) = run(&sb, &["login", "-t", "123456", "prod"], &[PASS]);
    assert!(ok, "{err}");
}

#[test]
fn import_moves_the_keys_and_keeps_every_other_byte() {
    let Some(moto) = Moto::start() else { return };
    let before =
        std::fs::read_to_string(support::root().join("tests/golden/import-before.ini")).unwrap();
    let after =
        std::fs::read_to_string(support::root().join("tests/golden/import-after.ini")).unwrap();
    let sts = SigningSts::start(
        &moto.raw_endpoint(),
        &[
            ("AKIABASEEXAMPLE00001", BASE_SECRET),
            ("AKIAOTHEREXAMPLE0001", "other+secret/XYZ"),
        ],
    );
    let sb = Sandbox::with(&sts.endpoint(), CONFIG, &before);
    std::fs::set_permissions(sb.credentials(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let config_before = std::fs::read_to_string(sb.config()).unwrap();

    // A profile without long-term keys in the file: refused, nothing changed.
    let (ok, err) = run(&sb, &["import", "--backend", "file", "temp"], &[PASS]);
    assert!(!ok && err.contains("nothing was changed"), "{err}");
    assert_eq!(std::fs::read_to_string(sb.credentials()).unwrap(), before);

    let (ok, err) = run(&sb, &["import", "--backend", "file", "--all"], &[PASS]);
    assert!(ok, "{err}");
    assert!(err.contains("moved key …0001 of profile `base`"), "{err}");
    assert!(err.contains("moved key …0001 of profile `other`"), "{err}");
    assert_eq!(std::fs::read_to_string(sb.credentials()).unwrap(), after);
    assert_eq!(mode(&sb.credentials()), 0o600);
    // `other` lived only in the credentials file: it got a config section.
    let config = std::fs::read_to_string(sb.config()).unwrap();
    assert_eq!(config, format!("{config_before}\n[profile other]\n"));

    let listed = sb.ok(&["keys", "--json"]);
    for profile in ["base", "other"] {
        assert!(
            listed.contains(&format!(r#""profile":"{profile}","store":"file""#)),
            "{listed}"
        );
    }
    // The moved keys sign STS calls from the store.
    let (ok, err) = run(&sb, &["login", "-t", "123456", "prod"], &[PASS]);
    assert!(ok, "{err}");
    let (ok, err) = run(&sb, &["login", "other"], &[PASS]);
    assert!(ok, "{err}");
    let signers = sts.verified_by();
    assert!(
        signers.contains(&"AKIABASEEXAMPLE00001".to_string()),
        "{signers:?}"
    );
    assert!(
        signers.contains(&"AKIAOTHEREXAMPLE0001".to_string()),
        "{signers:?}"
    );
    assert!(sts.refused().is_empty(), "{:?}", sts.refused());
}

/// `import --all` killed (SIGKILL, by strace's fault injection) at the Nth
/// write, rename, fsync and unlink, for every N until it runs through: each
/// time the credentials file is whole (the old or the new text), and a key
/// that left it is in the store (readable, same key) and in the index.
#[test]
fn an_import_killed_at_any_step_loses_no_key() {
    use mfaenv::keystore::file::FileStore;
    use mfaenv::keystore::KeyStore;
    let Some(strace) = support::require_program("strace") else {
        return;
    };
    let before =
        std::fs::read_to_string(support::root().join("tests/golden/import-before.ini")).unwrap();
    let after =
        std::fs::read_to_string(support::root().join("tests/golden/import-after.ini")).unwrap();
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, &before);
    let config = std::fs::read_to_string(sb.config()).unwrap();
    let data = sb.home().join(".local/share/mfaenv");
    let keys = [
        ("base", "AKIABASEEXAMPLE00001", BASE_SECRET),
        ("other", "AKIAOTHEREXAMPLE0001", "other+secret/XYZ"),
    ];
    let mut kills = 0;
    for syscall in ["write", "rename", "fsync", "unlink"] {
        for n in 1.. {
            assert!(n < 500, "{syscall}: import never ran through");
            std::fs::write(sb.credentials(), &before).unwrap();
            std::fs::write(sb.config(), &config).unwrap();
            let _ = std::fs::remove_dir_all(&data);
            let inject = format!("inject={syscall}:signal=KILL:when={n}");
            let (out, _) = support::trace::traced(
                &sb,
                &strace,
                &["-e", &inject],
                syscall,
                &[PASS],
                sb.home(),
                &["import", "--backend", "file", "--all"],
            );
            let text = std::fs::read_to_string(sb.credentials()).unwrap();
            assert!(
                text == before || text == after,
                "{syscall} #{n}: a torn credentials file:\n{text}"
            );
            let index = std::fs::read_to_string(data.join("keys.json")).unwrap_or_default();
            let mut store = FileStore::with_passphrase(data.join("keys.enc"), PASS.1);
            let stored = |store: &mut FileStore, profile: &str| store.get(profile);
            for (profile, id, secret) in keys {
                let got = stored(&mut store, profile)
                    .unwrap_or_else(|e| panic!("{syscall} #{n}: the store is unreadable: {e}"));
                if let Some(key) = &got {
                    assert_eq!(
                        (key.access_key_id.as_str(), key.secret_access_key.as_str()),
                        (id, secret)
                    );
                }
                if text == after {
                    assert!(
                        got.is_some(),
                        "{syscall} #{n}: `{profile}` is in neither place"
                    );
                    assert!(
                        index.contains(id),
                        "{syscall} #{n}: `{profile}` left the file unindexed"
                    );
                }
            }
            if out.status.success() {
                assert_eq!(
                    text, after,
                    "{syscall}: ran through but the keys are still in the file"
                );
                break;
            }
            kills += 1;
        }
    }
    eprintln!("import killed at {kills} points");
    assert!(
        kills > 10,
        "only {kills} kill points: the injection did not work"
    );
}

/// `add` on a real terminal (echo on, as in a user's shell): the key id is
/// echoed, the secret is not, and what was typed is what was stored.
#[test]
fn add_asks_on_the_terminal_and_does_not_echo_the_secret() {
    use mfaenv::keystore::file::FileStore;
    use mfaenv::keystore::KeyStore;
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, "");
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "stty echo; exec \"$MFAENV\" add --backend file base"])
        .env_clear()
        .envs(sb.env())
        .env("MFAENV", support::mfaenv_bin())
        .env(PASS.0, PASS.1);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    let mut seen = p.exp_string("Access key id: ").unwrap();
    p.send_line(KEY_ID).unwrap();
    seen += &p.exp_string("Secret access key (not shown): ").unwrap();
    assert!(seen.contains(KEY_ID), "the key id is echoed: {seen:?}");
    p.send_line(SECRET).unwrap();
    seen += &p.exp_string("MP01 of profile `base`").unwrap();
    seen += &p.exp_eof().unwrap();
    assert!(!seen.contains(SECRET), "the secret was echoed: {seen:?}");
    let path = store(&sb);
    let key = FileStore::with_passphrase(path, PASS.1)
        .get("base")
        .unwrap()
        .unwrap();
    assert_eq!(
        (key.access_key_id.as_str(), key.secret_access_key.as_str()),
        (KEY_ID, SECRET)
    );
}

/// Two `[base]` sections with different keys: the reader keeps the last, so
/// an import would store one and remove both. Refused, naming both lines;
/// the file and the store unchanged. The same key twice is no conflict.
#[test]
fn import_refuses_two_different_keys_for_one_profile() {
    let credentials = "\
[base]
aws_access_key_id = AKIAFIRSTEXAMPLE0001
aws_secret_access_key = first-secret

[other]
aws_access_key_id = AKIAOTHEREXAMPLE0001
aws_secret_access_key = other-secret

[base]
aws_access_key_id = AKIASECONDEXAMPLE001
aws_secret_access_key = second-secret
";
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, credentials);
    for args in [
        &["import", "--backend", "file", "base"][..],
        &["import", "--backend", "file", "--all"],
    ] {
        let (ok, err) = run(&sb, args, &[PASS]);
        assert!(!ok, "{args:?}: {err}");
        assert!(
            err.contains("profile `base` has two different keys")
                && err.contains("credentials:2")
                && err.contains("credentials:10")
                && err.contains("nothing was changed"),
            "{args:?}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(sb.credentials()).unwrap(),
            credentials
        );
        assert!(!store(&sb).exists(), "{args:?} stored a key");
    }
    // One pair written twice loses nothing: imported.
    let same = "[base]\naws_access_key_id = AKIAFIRSTEXAMPLE0001\naws_secret_access_key = s\n\n[base]\naws_access_key_id = AKIAFIRSTEXAMPLE0001\n";
    std::fs::write(sb.credentials(), same).unwrap();
    let (ok, err) = run(&sb, &["import", "--backend", "file", "base"], &[PASS]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read_to_string(sb.credentials()).unwrap(), "");
}

/// `plan` of a profile whose keys are in the store says so: the backend
/// and the entry, in text and JSON; never a line of a file they left.
#[test]
fn plan_says_where_stored_keys_live() {
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, "");
    let keys = [
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        PASS,
    ];
    let (ok, err) = run(&sb, &["add", "--env", "--backend", "file", "base"], &keys);
    assert!(ok, "{err}");
    let path = store(&sb);
    let text = sb.ok(&["plan", "prod"]);
    assert!(
        text.contains(&format!(
            "from the encrypted file store, entry base of {}",
            path.display()
        )),
        "{text}"
    );
    assert!(!text.contains("credentials:0"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&sb.ok(&["plan", "--json", "prod"])).unwrap();
    let origin = &json["source"]["origin"];
    assert_eq!(origin["kind"], "key-store", "{origin}");
    assert_eq!(origin["backend"], "file", "{origin}");
    assert_eq!(origin["entry"], "base", "{origin}");
    assert_eq!(origin["path"], path.display().to_string(), "{origin}");
    assert!(origin.get("line").is_none(), "{origin}");
}

const DEFAULT_KEY: &str = "AKIADEFAULTEXAMPLE01";
const DEFAULT_SECRET: &str = "default/SECRET+never-in-plaintext";

fn default_and_base() -> String {
    format!(
        "[default]\naws_access_key_id = {DEFAULT_KEY}\naws_secret_access_key = {DEFAULT_SECRET}\n\n[base]\naws_access_key_id = {}\naws_secret_access_key = {BASE_SECRET}\n",
        support::sandbox::BASE_KEY
    )
}

/// `import --all` of `[default]` and of a `source_profile`: the AWS CLI
/// reads keys only from the credentials file, so it is warned before
/// anything moves; `--credential-process` adds the line that sends the AWS
/// CLI to mfaenv, and the real AWS CLI then still works with both.
#[test]
fn import_keeps_the_aws_cli_working_for_default_and_source_profiles() {
    let Some(moto) = Moto::start() else { return };
    if support::require_venv_bin("aws").is_none() {
        return;
    }
    moto.trust(DEFAULT_KEY, DEFAULT_SECRET);
    let config = format!("[default]\nregion = us-east-1\n\n{CONFIG}");

    // Without the flag: warned before the keys move.
    let sb = Sandbox::with(&moto.endpoint(), &config, &default_and_base());
    let (ok, err) = run(&sb, &["import", "--backend", "file", "--all"], &[PASS]);
    assert!(ok, "{err}");
    let warned = err
        .find("the AWS CLI reads keys only from the credentials file")
        .unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(warned < err.find("moved key").unwrap(), "{err}");
    assert!(
        err.contains("`default` (every aws command without --profile)")
            && err.contains("`base` (source_profile of prod, staging)")
            && err.contains("mfaenv import --credential-process"),
        "{err}"
    );

    // With it: the config says where the keys are, the credentials file is
    // empty (no blank lines left), and the AWS CLI works through mfaenv.
    let sb = Sandbox::with(&moto.endpoint(), &config, &default_and_base());
    let (ok, err) = run(
        &sb,
        &[
            "import",
            "--backend",
            "file",
            "--all",
            "--credential-process",
        ],
        &[PASS],
    );
    assert!(ok, "{err}");
    assert_eq!(std::fs::read_to_string(sb.credentials()).unwrap(), "");
    let written = std::fs::read_to_string(sb.config()).unwrap();
    assert!(
        written.starts_with(
            "[default]\nregion = us-east-1\ncredential_process = mfaenv credential-process default\n\n"
        ) && written.contains(
            "[profile base]\nregion = us-east-1\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\ncredential_process = mfaenv credential-process base\n"
        ),
        "{written}"
    );
    let bin = sb.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(support::mfaenv_bin(), bin.join("mfaenv")).unwrap();
    let path = sb
        .env()
        .into_iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| format!("{}:{v}", bin.display()))
        .unwrap();
    let extra = [
        ("PATH".to_string(), path),
        (PASS.0.to_string(), PASS.1.to_string()),
    ];
    let (ok, out, err) = sb.aws(&extra, &["sts", "get-caller-identity"]);
    assert!(ok, "aws with [default]: {err}");
    assert!(out.contains("\"Account\""), "{out}");
    // base has an MFA device: mfaenv serves its cached MFA session.
    let (ok, err) = run(&sb, &["login", "-t", "123456", "base"], &[PASS]);
    assert!(ok, "{err}");
    let (ok, out, err) = sb.aws(&extra, &["--profile", "base", "sts", "get-caller-identity"]);
    assert!(ok, "aws --profile base: {err}");
    assert!(out.contains("\"Account\""), "{out}");
    assert!(moto.refused().is_empty(), "{:?}", moto.refused());
}

/// `write --to NAME` where NAME's keys moved to the store: the file shows
/// no keys there any more, but the section is still theirs. Refused before
/// any code is spent; the file untouched.
#[test]
fn write_refuses_a_section_whose_keys_are_stored() {
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, "[base]\nregion = us-east-1\n");
    let keys = [
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        PASS,
    ];
    let (ok, err) = run(&sb, &["add", "--env", "--backend", "file", "base"], &keys);
    assert!(ok, "{err}");
    let (ok, err) = run(
        &sb,
        &["write", "-t", "123456", "prod", "--to", "base"],
        &[PASS],
    );
    assert!(!ok, "{err}");
    assert!(
        err.contains("profile `base` keeps its long-term keys in the encrypted file store")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.credentials()).unwrap(),
        "[base]\nregion = us-east-1\n"
    );
}

/// `import` with no session bus and no store named: refused (no terminal to
/// ask), never a silent move to the file store; the file unchanged.
#[test]
fn import_without_a_bus_or_a_choice_changes_nothing() {
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, &default_and_base());
    let (ok, err) = run(&sb, &["import", "--all"], &[PASS]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("no key store was chosen, and the Secret Service was tried: there is no D-Bus session bus here")
            && err.contains("nothing was changed")
            && err.contains("`--backend file`"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.credentials()).unwrap(),
        default_and_base()
    );
    assert!(!store(&sb).exists());
}
