//! What unlocks or selects the key store (`MFAENV_FILE_PASSPHRASE`,
//! `MFAENV_BACKEND`) never reaches a process mfaenv starts: the `exec`
//! command, the command of `exec --server`, `mfa_process`.

mod support;

use support::fake_sts::FakeSts;
use support::sandbox::Sandbox;

const PASSPHRASE: &str = "key-store-passphrase-do-not-leak";

/// The key-store variables, and a marker that must get through.
fn key_store_env() -> [(&'static str, &'static str); 3] {
    [
        ("MFAENV_FILE_PASSPHRASE", PASSPHRASE),
        ("MFAENV_BACKEND", "file"),
        ("MFAENV_TEST_MARKER", "passed-on"),
    ]
}

fn assert_clean(env: &str) {
    assert!(env.contains("MFAENV_TEST_MARKER=passed-on"), "{env}");
    assert!(!env.contains("MFAENV_FILE_PASSPHRASE"), "{env}");
    assert!(!env.contains(PASSPHRASE), "{env}");
    assert!(!env.contains("MFAENV_BACKEND"), "{env}");
}

#[test]
fn the_exec_command_gets_no_key_store_variable() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let out = sb
        .mfaenv(&["exec", "-t", "123456", "prod", "--", "env"])
        .envs(key_store_env())
        .output()
        .unwrap();
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.contains("AWS_ACCESS_KEY_ID=ASIA"), "{env}");
    assert_clean(&env);
}

#[test]
fn the_server_command_gets_no_key_store_variable() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let out = sb
        .mfaenv(&["exec", "--server", "-t", "123456", "prod", "--", "env"])
        .envs(key_store_env())
        .output()
        .unwrap();
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI="), "{env}");
    assert_clean(&env);
}

#[test]
fn mfa_process_gets_no_key_store_variable() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let dump = sb.home().join("mfa_process.env");
    sb.add_config(&format!(
        "\n[profile yubi]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/y\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nmfa_process = env > '{}'; echo 246810\n",
        dump.display()
    ));
    let out = sb
        .mfaenv(&["export", "yubi"])
        .envs(key_store_env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_clean(&std::fs::read_to_string(&dump).unwrap());
}
