//! No secret where it does not belong. Every command runs with known
//! secrets — the long-term secret of `base` in the credentials file
//! ([`BASE_SECRET`]), a secret and token the shell held before mfaenv, and
//! the MFA session and role keys the fake STS hands out — and everything a
//! person or another program could see is scanned:
//!
//! - stderr of every run (successful and failing: the whole STS fault
//!   matrix, truncated answers that carry half a secret included);
//! - stdout, where only the intended temporary keys may appear (the final
//!   session's; never the long-term secret, never the intermediate MFA
//!   session of a role profile, never a secret the shell held before);
//! - every `MFAENV_*` variable of every output, in every format, plain or
//!   hex-encoded (`MFAENV_PRIOR` hex-encodes what it keeps);
//! - the argv and the `MFAENV_*` environment of an exec'd child;
//! - every file under the sandbox HOME: the cache (never a long-term key),
//!   the trust store, anything else mfaenv might write.
//!
//! mfaenv has no verbose or log mode; every run here has `RUST_LOG=trace`
//! and `RUST_BACKTRACE=full` set, so a log that appeared would be scanned too.
//!
//! A secret counts as leaked when any 12 characters of it show up (half a
//! secret is a leak).

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::fake_sts::{Creds, FakeSts, Reply};
use support::faults::{self, TEMP_SOURCE_CREDENTIALS};
use support::sandbox::{bash_exports, failure_stdout, Sandbox, BASE_SECRET};

const BASE_KEY_ID: &str = "AKIABASEEXAMPLE00001";
const PRIOR_SECRET: &str = "prior/shell/SECRET+was-here-before";
const PRIOR_TOKEN: &str = "prior-shell-session-token/was+here/before";

/// Keys that look real and share no 12-character run with each other.
fn keys(tag: &str, seed: u64) -> Creds {
    let mut state = seed;
    let mut chars = |n: usize| -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ALPHABET[(state >> 58) as usize] as char
            })
            .collect()
    };
    Creds {
        access_key_id: format!("ASIA{tag}{}", chars(20 - 4 - tag.len())),
        secret_access_key: chars(40),
        session_token: chars(300),
        expiration: Creds::new().expiration,
    }
}

struct Secret {
    what: &'static str,
    value: String,
}

/// Everything secret in this test.
struct Secrets {
    session: Creds,
    role: Creds,
    all: Vec<Secret>,
}

impl Secrets {
    fn new() -> Secrets {
        let session = keys("SESS", 0x5e55_1011);
        let role = keys("ROLE", 0x0de1_7a11);
        let all = vec![
            Secret {
                what: "long-term secret of base",
                value: BASE_SECRET.into(),
            },
            Secret {
                what: "temporary source secret",
                value: "temp/source/SECRET+do-not-leak".into(),
            },
            Secret {
                what: "temporary source token",
                value: "temp-source-token/do-not-leak".into(),
            },
            Secret {
                what: "the shell's prior secret",
                value: PRIOR_SECRET.into(),
            },
            Secret {
                what: "the shell's prior token",
                value: PRIOR_TOKEN.into(),
            },
            Secret {
                what: "MFA session secret",
                value: session.secret_access_key.clone(),
            },
            Secret {
                what: "MFA session token",
                value: session.session_token.clone(),
            },
            Secret {
                what: "role secret",
                value: role.secret_access_key.clone(),
            },
            Secret {
                what: "role token",
                value: role.session_token.clone(),
            },
        ];
        Secrets { session, role, all }
    }

    /// Panics when `text` holds a secret other than those in `allowed`.
    fn scan(&self, place: &str, text: &[u8], allowed: &[&str]) {
        let text = String::from_utf8_lossy(text);
        let lower = text.to_lowercase();
        for secret in &self.all {
            if allowed.contains(&secret.value.as_str()) {
                continue;
            }
            let value = &secret.value;
            let chars: Vec<char> = value.chars().collect();
            for window in chars.windows(12.min(chars.len())) {
                let piece: String = window.iter().collect();
                assert!(
                    !text.contains(&piece),
                    "{place} holds (part of) the {}: {piece:?} in\n{text}",
                    secret.what
                );
            }
            let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
            for piece in hex.as_bytes().chunks(24).filter(|c| c.len() == 24) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(
                    !lower.contains(piece),
                    "{place} holds the {}, hex-encoded, in\n{text}",
                    secret.what
                );
            }
        }
    }

    /// The final keys of a role profile: what stdout may carry.
    fn role_keys(&self) -> [&str; 2] {
        [
            self.role.secret_access_key.as_str(),
            self.role.session_token.as_str(),
        ]
    }
}

/// A sandbox on a fake STS that answers with the known keys, and the shell
/// environment a user had before mfaenv: keys of their own, a profile, a region.
struct Bed {
    fake: FakeSts,
    sb: Sandbox,
    secrets: Secrets,
    /// Where the test keeps its own files (not in HOME, which is scanned).
    scratch: tempfile::TempDir,
}

fn prior_env() -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", "AKIAPRIORSHELLKEY001"),
        ("AWS_SECRET_ACCESS_KEY", PRIOR_SECRET),
        ("AWS_SESSION_TOKEN", PRIOR_TOKEN),
        ("AWS_PROFILE", "old"),
        ("AWS_REGION", "ap-south-1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl Bed {
    fn new() -> Bed {
        let secrets = Secrets::new();
        let fake = FakeSts::start();
        fake.on(
            "GetSessionToken",
            vec![Reply::SessionToken(secrets.session.clone())],
        );
        fake.on("AssumeRole", vec![Reply::AssumeRole(secrets.role.clone())]);
        fake.on(
            "ListMFADevices",
            vec![Reply::Xml(200, list_mfa_devices_xml())],
        );
        let sb = Sandbox::new(&fake.endpoint());
        Bed {
            fake,
            sb,
            secrets,
            scratch: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs mfaenv with `env` on top of the sandbox's, in `dir` (else HOME);
    /// scans stderr, and stdout against `allowed`.
    fn run(
        &self,
        args: &[&str],
        env: &[(String, String)],
        dir: Option<&Path>,
        allowed: &[&str],
    ) -> Output {
        let mut cmd = self.sb.mfaenv(args);
        cmd.envs(env.iter().cloned())
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "full");
        if let Some(dir) = dir {
            cmd.current_dir(dir).env("PWD", dir);
        }
        let out = cmd.output().expect("run mfaenv");
        let place = format!("mfaenv {}", args.join(" "));
        self.secrets
            .scan(&format!("stderr of `{place}`"), &out.stderr, &[]);
        self.secrets
            .scan(&format!("stdout of `{place}`"), &out.stdout, allowed);
        mfaenv_vars_clean(&self.secrets, &place, &out.stdout);
        out
    }

    fn ok(
        &self,
        args: &[&str],
        env: &[(String, String)],
        dir: Option<&Path>,
        allowed: &[&str],
    ) -> String {
        let out = self.run(args, env, dir, allowed);
        assert!(
            out.status.success(),
            "mfaenv {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// Every line of `stdout` that names an `MFAENV_*` variable holds no secret
/// at all (the json format is one line: there, every `MFAENV_*` value).
fn mfaenv_vars_clean(secrets: &Secrets, place: &str, stdout: &[u8]) {
    let text = String::from_utf8_lossy(stdout);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text) {
        for (name, value) in map.iter().filter(|(k, _)| k.starts_with("MFAENV_")) {
            secrets.scan(
                &format!("{name} in the output of `{place}`"),
                value.to_string().as_bytes(),
                &[],
            );
        }
        return;
    }
    for line in text.lines().filter(|l| l.contains("MFAENV_")) {
        secrets.scan(
            &format!("an MFAENV_ line of `{place}`"),
            line.as_bytes(),
            &[],
        );
    }
}

/// IAM's answer to ListMFADevices: one device.
fn list_mfa_devices_xml() -> String {
    "<ListMFADevicesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListMFADevicesResult><MFADevices><member><UserName>fake</UserName><SerialNumber>arn:aws:iam::123456789012:mfa/fake</SerialNumber><EnableDate>2026-01-01T00:00:00Z</EnableDate></member></MFADevices><IsTruncated>false</IsTruncated></ListMFADevicesResult><ResponseMetadata><RequestId>5ec2e75-0000-4000-8000-000000000001</RequestId></ResponseMetadata></ListMFADevicesResponse>".to_string()
}

/// `bash` output applied to an environment: what the shell holds after `eval`.
fn apply(env: &[(String, String)], bash: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = env.to_vec();
    for line in bash.lines() {
        if let Some(name) = line.strip_prefix("unset ").map(|n| n.trim_end_matches(';')) {
            env.retain(|(k, _)| k != name);
        }
    }
    for (k, v) in bash_exports(bash) {
        env.retain(|(n, _)| *n != k);
        env.push((k, v));
    }
    env
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(read) = std::fs::read_dir(dir) {
        for entry in read.filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn every_command_keeps_secrets_where_they_belong() {
    let bed = Bed::new();
    let s = &bed.secrets;
    let role = s.role_keys();
    let prior = prior_env();

    // export, every format. The first one spends the code; the rest use the cache.
    let bash = bed.ok(
        &["export", "--shell", "bash", "-t", "123456", "prod"],
        &prior,
        None,
        &role,
    );
    assert!(bash.contains(&s.role.secret_access_key), "{bash}");
    assert!(bash.contains("MFAENV_PRIOR"), "{bash}");
    for format in ["zsh", "fish", "pwsh", "json", "dotenv"] {
        let out = bed.ok(&["export", "--shell", format, "prod"], &prior, None, &role);
        assert!(out.contains(&s.role.secret_access_key), "{format}: {out}");
    }
    // An MFA-only profile: its session is what the user gets.
    bed.ok(
        &["export", "--shell", "bash", "base"],
        &prior,
        None,
        &[
            s.session.secret_access_key.as_str(),
            s.session.session_token.as_str(),
        ],
    );
    // Again, from inside the loaded shell: the state must not pick up the
    // keys mfaenv itself set.
    let loaded = apply(&prior, &bash);
    assert!(loaded.iter().any(|(k, _)| k == "MFAENV_PRIOR"));
    for format in ["bash", "json"] {
        bed.ok(&["export", "--shell", format, "prod"], &loaded, None, &role);
    }

    // exec: the keys only in the child's environment, never its argv or MFAENV_*.
    let dump = bed.scratch.path().join("child");
    let script = format!(
        "cat /proc/$$/cmdline > '{0}.argv'; env -0 > '{0}.env'",
        dump.display()
    );
    bed.ok(
        &["exec", "prod", "--", "sh", "-c", &script],
        &prior,
        None,
        &[],
    );
    let argv = std::fs::read(dump.with_extension("argv")).unwrap();
    s.scan("the exec'd child's argv", &argv, &[]);
    assert!(String::from_utf8_lossy(&argv).starts_with("sh\0-c\0"));
    let child_env = std::fs::read(dump.with_extension("env")).unwrap();
    let mut saw_secret = false;
    for var in child_env.split(|b| *b == 0) {
        let var = String::from_utf8_lossy(var);
        if var.starts_with("MFAENV_") {
            s.scan("the exec'd child's MFAENV_*", var.as_bytes(), &[]);
        } else {
            saw_secret |= var == format!("AWS_SECRET_ACCESS_KEY={}", s.role.secret_access_key);
            s.scan("the exec'd child's environment", var.as_bytes(), &role);
        }
    }
    assert!(saw_secret, "the child got the role's keys");

    // credential-process: the JSON is the intended place.
    let json = bed.ok(&["credential-process", "prod"], &[], None, &role);
    assert!(json.contains(&s.role.session_token));

    // login, status (all forms, with a profile active), forget.
    bed.ok(&["login", "staging"], &[], None, &[]);
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["status", "--short"],
    ] {
        bed.ok(args, &loaded, None, &[]);
    }
    assert!(bed
        .ok(&["status", "--short"], &loaded, None, &[])
        .contains("prod"));

    // unset: restores what was there, but never a secret the shell held.
    let unset = bed.ok(&["unset", "--shell", "bash"], &loaded, None, &[]);
    assert!(unset.contains("unset AWS_SECRET_ACCESS_KEY"), "{unset}");
    bed.ok(&["unset", "--shell", "json"], &loaded, None, &[]);

    // write: the credentials file is the intended place; nothing on the way out.
    bed.ok(&["write", "prod"], &prior, None, &[]);
    let written = std::fs::read_to_string(bed.sb.credentials()).unwrap();
    assert!(written.contains("[prod-mfa]") && written.contains(&s.role.secret_access_key));

    // The per-directory hook: allow, enter (hook-env), leave, deny.
    let project = bed.sb.home().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".mfaenv"), "profile = \"prod\"\n").unwrap();
    bed.ok(&["allow"], &prior, Some(&project), &[]);
    let mut hook_env = prior.clone();
    hook_env.push(("MFAENV_HOOK_PROMPT".into(), "never".into()));
    let entered = bed.ok(
        &["hook-env", "--shell", "bash"],
        &hook_env,
        Some(&project),
        &role,
    );
    assert!(entered.contains("MFAENV_DIR"), "{entered}");
    let inside = apply(&hook_env, &entered);
    let left = bed.ok(
        &["hook-env", "--shell", "bash"],
        &inside,
        Some(bed.sb.home()),
        &[],
    );
    assert!(left.contains("unset AWS_SECRET_ACCESS_KEY"), "{left}");
    for format in ["fish", "pwsh", "json"] {
        bed.ok(
            &["hook-env", "--shell", format],
            &hook_env,
            Some(&project),
            &role,
        );
    }
    bed.ok(&["deny"], &prior, Some(&project), &[]);
    bed.ok(
        &["hook-env", "--shell", "bash"],
        &inside,
        Some(&project),
        &[],
    );

    // setup: GetCallerIdentity and ListMFADevices with the long-term keys.
    // base has another device already: --force replaces it without asking.
    bed.ok(&["setup", "--force", "base"], &[], None, &[]);
    assert!(bed.fake.count("ListMFADevices") >= 1);

    // Every file mfaenv may have written under HOME.
    let home = bed.sb.home();
    let cache = bed.sb.cache_dir();
    let mut cache_files = 0;
    for file in files_under(home) {
        let bytes = std::fs::read(&file).unwrap();
        let place = file.display().to_string();
        if file == bed.sb.credentials() {
            continue; // holds the long-term keys, and the session `write` put there
        }
        if file.starts_with(&cache) {
            cache_files += 1;
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(BASE_KEY_ID),
                "{place} holds the long-term key id"
            );
            let temporary: Vec<&str> = [
                s.session.secret_access_key.as_str(),
                s.session.session_token.as_str(),
            ]
            .into_iter()
            .chain(role)
            .collect();
            s.scan(&place, &bytes, &temporary);
        } else {
            s.scan(&place, &bytes, &[]);
        }
    }
    assert!(cache_files >= 3, "the cache was scanned");
    bed.ok(&["forget", "staging"], &[], None, &[]);
    bed.ok(&["forget", "--all"], &[], None, &[]);
}

/// Every failing case of the fault matrix, with the same known keys: the
/// error and hint name causes, never keys (a truncated answer holds half of one).
#[test]
fn failures_say_no_secret() {
    let secrets = Secrets::new();
    let matrix = faults::matrix(&secrets.session, &secrets.role);
    assert!(matrix
        .iter()
        .any(|f| f.credentials == Some(TEMP_SOURCE_CREDENTIALS)));
    std::thread::scope(|scope| {
        for fault in &matrix {
            let secrets = &secrets;
            scope.spawn(move || {
                let (_fake, sb) = fault.prepare();
                let out = sb
                    .mfaenv(fault.args)
                    .env("RUST_LOG", "trace")
                    .env("RUST_BACKTRACE", "full")
                    .output()
                    .unwrap();
                assert!(!out.status.success(), "{}", fault.name);
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout),
                    failure_stdout(fault.args),
                    "{}",
                    fault.name
                );
                secrets.scan(
                    &format!("stderr of fault `{}`", fault.name),
                    &out.stderr,
                    &[],
                );
                for file in files_under(&sb.cache_dir()) {
                    let text = std::fs::read_to_string(&file).unwrap();
                    assert!(!text.contains(BASE_SECRET) && !text.contains(BASE_KEY_ID));
                }
            });
        }
    });
}

/// The scanner itself: a piece of a secret, or its hex form, is caught.
#[test]
fn the_scan_catches_partial_and_hex_encoded_secrets() {
    let s = Secrets::new();
    let caught = |text: String| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.scan("probe", text.as_bytes(), &[])
        }))
        .is_err()
    };
    let token = &s.role.session_token;
    assert!(caught(format!("x{}y", &token[100..112])));
    let hex: String = BASE_SECRET.bytes().map(|b| format!("{b:02X}")).collect();
    assert!(caught(format!("MFAENV_PRIOR=AWS_X={hex}")));
    assert!(!caught(format!(
        "{} {}",
        s.role.access_key_id,
        &token[100..111]
    )));
    // What stdout may carry is allowed there.
    s.scan("probe", token.as_bytes(), &[token.as_str()]);
}
