//! `mfaenv rotate` against moto's IAM and STS behind the suite's
//! signature-checking proxy (tests/support/signing_sts.rs), which also plays
//! AWS's faults here: throttling, LimitExceeded, AccessDenied, and IAM's
//! eventual consistency (a new key refused for its first seconds).
//!
//! After every run — finished, failed, or `kill -9`ed at a step — the key
//! the store holds must be one IAM lists as active, and it must work: keys
//! IAM no longer lists are made unknown to the proxy, and a `login` without
//! a cache signs GetSessionToken with the stored secret. At the end exactly
//! one key remains. The stores: the credentials file (every other byte
//! kept), the encrypted file store, and a real Secret Service.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::fake_sts::Reply;
use support::keyring::SecretService;
use support::moto::{iam, xml_value, Moto};
use support::sandbox::Sandbox;

const CODE: &str = "123456";

const CONFIG: &str = "\
# hand-written, keep me
[profile alice]
region = us-east-1
mfa_serial = arn:aws:iam::123456789012:mfa/alice

[profile prod]
source_profile = alice
role_arn = arn:aws:iam::123456789012:role/admin
region = us-west-2
";

/// Where the test keeps alice's key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Credentials,
    FileStore,
    Keyring,
}

struct Bed {
    moto: Moto,
    sb: Sandbox,
    kind: Kind,
    keyring: Option<SecretService>,
    /// Every key id IAM ever listed for alice.
    seen: std::cell::RefCell<BTreeSet<String>>,
    /// The credentials file's text around alice's two lines.
    credentials_before: String,
}

fn credentials_text(id: &str, secret: &str) -> String {
    format!(
        "# my keys\n[other]\naws_access_key_id = AKIAOTHEROTHER000001\naws_secret_access_key = other-secret\n\n[alice]   ; the one\naws_access_key_id = {id}\n# between\naws_secret_access_key = {secret}\nregion = us-east-1\n"
    )
}

impl Bed {
    fn new(kind: Kind) -> Option<Bed> {
        let moto = Moto::start()?;
        iam(&moto, "CreateUser", &[("UserName", "alice")]);
        let xml = iam(&moto, "CreateAccessKey", &[("UserName", "alice")]);
        let (id, secret) = (
            xml_value(&xml, "AccessKeyId"),
            xml_value(&xml, "SecretAccessKey"),
        );
        moto.trust(&id, &secret);
        let credentials = match kind {
            Kind::Credentials => credentials_text(&id, &secret),
            _ => String::new(),
        };
        let sb = Sandbox::with(&moto.endpoint(), CONFIG, &credentials);
        let keyring = match kind {
            Kind::Keyring => Some(SecretService::start(sb.home())?),
            _ => None,
        };
        let bed = Bed {
            moto,
            sb,
            kind,
            keyring,
            seen: Default::default(),
            credentials_before: credentials,
        };
        if kind != Kind::Credentials {
            let out = bed
                .command(&["add", "--env", "alice"])
                .env("AWS_ACCESS_KEY_ID", &id)
                .env("AWS_SECRET_ACCESS_KEY", &secret)
                .output()
                .unwrap();
            assert!(out.status.success(), "add: {}", support::stderr_of(&out));
        }
        bed.seen.borrow_mut().insert(id);
        Some(bed)
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.sb.mfaenv(args);
        match self.kind {
            Kind::Credentials => {}
            Kind::FileStore => {
                cmd.env("MFAENV_BACKEND", "file")
                    .env("MFAENV_FILE_PASSPHRASE", "correct horse");
            }
            Kind::Keyring => {
                let ss = self.keyring.as_ref().expect("keyring");
                cmd.env("MFAENV_BACKEND", "keyring")
                    .env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
            }
        }
        cmd.env("MFAENV_ROTATE_WAIT", "10");
        cmd
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.command(args).output().expect("run mfaenv");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        (out.status.success(), stdout, stderr)
    }

    fn rotate(&self) -> String {
        let (ok, out, err) = self.run(&["rotate", "-t", CODE, "alice"]);
        assert!(ok, "rotate failed: {err}");
        assert_eq!(out, "", "rotate prints nothing on stdout");
        err
    }

    /// alice's keys as IAM lists them (straight from moto): (id, status).
    fn iam_keys(&self) -> Vec<(String, String)> {
        let xml = iam(&self.moto, "ListAccessKeys", &[("UserName", "alice")]);
        let keys: Vec<(String, String)> = xml
            .split("<member>")
            .skip(1)
            .map(|m| (xml_value(m, "AccessKeyId"), xml_value(m, "Status")))
            .collect();
        self.seen
            .borrow_mut()
            .extend(keys.iter().map(|(id, _)| id.clone()));
        keys
    }

    /// The key id the store (or file) holds for alice.
    fn stored(&self) -> String {
        if self.kind == Kind::Credentials {
            let text = std::fs::read_to_string(self.sb.credentials()).unwrap();
            let section = text.split("[alice]").nth(1).expect("[alice] section");
            let line = section
                .lines()
                .find(|l| l.starts_with("aws_access_key_id"))
                .expect("key line");
            return line.split('=').nth(1).unwrap().trim().to_string();
        }
        let (ok, out, err) = self.run(&["keys", "--json"]);
        assert!(ok, "keys: {err}");
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        let last4 = json["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["profile"] == "alice")
            .expect("alice in keys")["key_id_last4"]
            .as_str()
            .unwrap()
            .to_string();
        let seen = self.seen.borrow();
        let found: Vec<&String> = seen.iter().filter(|id| id.ends_with(&last4)).collect();
        assert_eq!(found.len(), 1, "the stored …{last4} is none of {seen:?}");
        found[0].clone()
    }

    /// The invariant: the store holds a key IAM lists as active, and that
    /// key (with the stored secret) signs a GetSessionToken the proxy checks,
    /// while every key IAM no longer lists is refused.
    fn assert_store_works(&self, when: &str) -> String {
        let listed = self.iam_keys();
        for id in self.seen.borrow().iter() {
            if !listed.iter().any(|(l, _)| l == id) {
                self.moto.untrust(id);
            }
        }
        let stored = self.stored();
        assert!(
            listed.iter().any(|(id, s)| *id == stored && s == "Active"),
            "{when}: the store holds {stored}, IAM lists {listed:?}"
        );
        let fresh_cache = tempfile::tempdir().unwrap();
        let out = self
            .command(&["login", "-t", CODE, "alice"])
            .env("MFAENV_CACHE_DIR", fresh_cache.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{when}: the stored key {stored} does not work: {}",
            support::stderr_of(&out)
        );
        stored
    }

    fn assert_one_key_left(&self, when: &str) -> String {
        let stored = self.assert_store_works(when);
        let listed = self.iam_keys();
        assert_eq!(
            listed,
            vec![(stored.clone(), "Active".to_string())],
            "{when}: exactly the stored key remains"
        );
        assert!(
            !self
                .sb
                .home()
                .join(".local/share/mfaenv/rotations.json")
                .exists(),
            "{when}: no rotation left recorded"
        );
        stored
    }

    /// `rotate` paused before `step` (the test hook), with stdin a pipe the
    /// test holds; returns the child once it says it paused.
    fn paused_at(&self, step: &str) -> (Child, mpsc::Receiver<String>) {
        let mut child = self
            .command(&["rotate", "-t", CODE, "alice"])
            .env("MFAENV_TEST_ROTATE_PAUSE", step)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut said = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(&format!("paused before {step}")) => break,
                Ok(line) => said.push(line),
                Err(_) => {
                    let _ = child.kill();
                    panic!("rotate never paused before {step}: {said:#?}")
                }
            }
        }
        (child, rx)
    }
}

/// The names in mfaenv's data dir.
fn data_files(bed: &Bed) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(bed.sb.home().join(".local/share/mfaenv"))
        .map(|r| {
            r.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn no_secret(bed: &Bed, text: &str) {
    let creds = std::fs::read_to_string(bed.sb.credentials()).unwrap_or_default();
    for line in creds
        .lines()
        .filter(|l| l.starts_with("aws_secret_access_key"))
    {
        let secret = line.split('=').nth(1).unwrap().trim();
        assert!(!text.contains(secret), "a secret in the output: {text}");
    }
}

// ---------------------------------------------------------------------------

#[test]
fn rotates_a_key_in_the_credentials_file_with_one_code_keeping_every_other_byte() {
    let Some(bed) = Bed::new(Kind::Credentials) else {
        return;
    };
    let old = bed.assert_store_works("before");
    // Sessions made from the old key: the MFA session and prod's role.
    let (ok, _, err) = bed.run(&["login", "-t", CODE, "prod"]);
    assert!(ok, "{err}");
    assert_eq!(
        bed.sb.session_files().len(),
        2,
        "{:?}",
        bed.sb.session_files()
    );
    bed.moto.start_recording();

    let data_before = data_files(&bed);
    let (ok, dry, err) = bed.run(&["rotate", "--dry-run", "alice"]);
    assert!(ok, "{err}");
    assert!(
        dry.contains(&old) && dry.contains("cached, no code"),
        "{dry}"
    );
    assert!(bed.moto.requests().is_empty(), "--dry-run calls nothing");
    assert_eq!(data_files(&bed), data_before, "--dry-run writes nothing");
    // A role profile rotates its source's key.
    let (ok, dry, err) = bed.run(&["rotate", "--dry-run", "prod"]);
    assert!(ok, "{err}");
    assert!(err.contains("uses the keys of `alice`"), "{err}");
    assert!(
        dry.contains(&format!("rotate the key {old} of profile `alice`")),
        "{dry}"
    );

    let err = bed.rotate();
    let new = bed.assert_one_key_left("after");
    assert_ne!(new, old);
    assert!(
        err.contains(&old) && err.contains(&new),
        "both key ids: {err}"
    );
    no_secret(&bed, &err);
    // The cached MFA session was reused: no code spent, no GetSessionToken.
    let actions: Vec<String> = bed
        .moto
        .requests()
        .iter()
        .map(|r| r.action.clone())
        .collect();
    assert_eq!(
        &actions[..5],
        [
            "GetCallerIdentity",
            "ListAccessKeys",
            "CreateAccessKey",
            "GetCallerIdentity",
            "DeleteAccessKey"
        ],
        "{actions:?}"
    );
    // The old key's sessions are gone.
    assert!(
        bed.sb.session_files().is_empty(),
        "{:?}",
        bed.sb.session_files()
    );
    // The file: only alice's two values changed.
    let text = std::fs::read_to_string(bed.sb.credentials()).unwrap();
    let old_secret_line = bed
        .credentials_before
        .lines()
        .find(|l| l.starts_with("aws_secret_access_key") && !l.contains("other-secret"))
        .unwrap()
        .to_string();
    let new_secret_line = text
        .lines()
        .find(|l| l.starts_with("aws_secret_access_key") && !l.contains("other-secret"))
        .unwrap()
        .to_string();
    assert_ne!(old_secret_line, new_secret_line);
    assert_eq!(
        text,
        bed.credentials_before
            .replace(&old, &new)
            .replace(&old_secret_line, &new_secret_line)
    );
    // Its age comes from IAM now.
    let (ok, out, _) = bed.run(&["keys", "--json"]);
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let alice = json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["profile"] == "alice")
        .unwrap()
        .clone();
    assert_eq!(alice["created_from"], "iam", "{out}");
    assert_eq!(alice["age_days"], 0, "{out}");
    assert!(bed.moto.refused().is_empty(), "{:?}", bed.moto.refused());
    // And prod works from the new key.
    let (ok, _, err) = bed.run(&["login", "-t", CODE, "prod"]);
    assert!(ok, "{err}");
}

/// `kill -9` before each step, then a plain `rotate` finishes the job.
fn kill_at_every_step(kind: Kind, steps: &[&str]) {
    let Some(bed) = Bed::new(kind) else { return };
    let mut keys = vec![bed.assert_store_works("start")];
    for step in steps {
        let (mut child, _rx) = bed.paused_at(step);
        child.kill().unwrap();
        child.wait().unwrap();
        bed.assert_store_works(&format!("killed before {step}"));
        assert_record_is_private(&bed, step);
        let err = bed.rotate();
        let now = bed.assert_one_key_left(&format!("resumed after a kill before {step}"));
        assert!(
            !keys.contains(&now),
            "{step}: a new key, not an old one: {err}"
        );
        keys.push(now);
    }
}

/// The record of the rotation in progress, when there is one: 0600, and
/// nothing in it but key ids, the user and a date.
fn assert_record_is_private(bed: &Bed, step: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = bed.sb.home().join(".local/share/mfaenv/rotations.json");
    // Recorded from CreateAccessKey on, until the old key is deleted.
    let recorded = !["session", "identity", "create"].contains(&step);
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(!recorded, "{step}: no record of the rotation");
        return;
    };
    assert!(
        recorded,
        "{step}: a record before anything was made: {text}"
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{step}: rotations.json");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let record = json["rotations"]["alice"]
        .as_object()
        .expect("alice's record");
    for (field, value) in record {
        assert!(
            ["old", "new", "user", "started"].contains(&field.as_str()),
            "{step}: {field} in {text}"
        );
        let value = value.as_str().unwrap();
        assert!(
            value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-:TZ".contains(c)),
            "{step}: {field} = {value}"
        );
    }
}

const STEPS: &[&str] = &[
    "session", "identity", "create", "store", "wait", "drop", "delete", "done",
];

#[test]
fn kill_9_at_every_step_then_resume_credentials_file() {
    kill_at_every_step(Kind::Credentials, STEPS);
}

#[test]
fn kill_9_at_every_step_then_resume_file_store() {
    let mut steps = STEPS.to_vec();
    steps.insert(4, "index");
    kill_at_every_step(Kind::FileStore, &steps);
}

#[test]
fn kill_9_at_every_step_then_resume_secret_service() {
    let mut steps = STEPS.to_vec();
    steps.insert(4, "index");
    kill_at_every_step(Kind::Keyring, &steps);
}

#[test]
fn a_user_with_two_keys_is_refused_naming_them() {
    let Some(bed) = Bed::new(Kind::FileStore) else {
        return;
    };
    let old = bed.assert_store_works("start");
    let xml = iam(&bed.moto, "CreateAccessKey", &[("UserName", "alice")]);
    let other = xml_value(&xml, "AccessKeyId");
    let (ok, out, err) = bed.run(&["rotate", "-t", CODE, "alice"]);
    assert!(!ok && out.is_empty(), "{err}");
    assert!(
        err.contains("already has two access keys") && err.contains(&old) && err.contains(&other),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(bed.iam_keys().len(), 2);
    assert_eq!(bed.stored(), old);
}

#[test]
fn create_access_key_refused_changes_nothing() {
    let Some(bed) = Bed::new(Kind::Credentials) else {
        return;
    };
    let old = bed.assert_store_works("start");
    let proxy = bed.moto.checked().expect("signing proxy");
    for (reply, said) in [
        (
            Reply::error(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2"),
            "LimitExceeded",
        ),
        (
            Reply::access_denied("User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:CreateAccessKey with an explicit deny"),
            "access denied",
        ),
    ] {
        proxy.fail("CreateAccessKey", 1, reply);
        let (ok, out, err) = bed.run(&["rotate", "-t", CODE, "alice"]);
        assert!(!ok && out.is_empty(), "{err}");
        assert!(err.contains(said) && err.contains("nothing was changed"), "{err}");
        assert!(err.contains(&format!("still holds {old}")), "{err}");
        assert_eq!(bed.assert_one_key_left(said), old);
    }
    // The next run works.
    bed.rotate();
    assert_ne!(bed.assert_one_key_left("after"), old);
}

#[test]
fn throttling_is_retried_and_a_new_key_is_waited_for() {
    let Some(bed) = Bed::new(Kind::FileStore) else {
        return;
    };
    let old = bed.assert_store_works("start");
    let proxy = bed.moto.checked().expect("signing proxy");
    // Two throttled answers: the third attempt goes through (src/aws/query.rs).
    proxy.fail("CreateAccessKey", 2, Reply::throttling());
    proxy.fail("ListAccessKeys", 1, Reply::throttling());
    // IAM is eventually consistent: the new key is refused for 3 s.
    proxy.delay_new_keys(Duration::from_secs(3));
    let start = Instant::now();
    let err = bed.rotate();
    assert!(start.elapsed() >= Duration::from_secs(3), "{err}");
    assert!(
        err.contains("waiting for IAM to accept the new key"),
        "{err}"
    );
    let new = bed.assert_one_key_left("after");
    assert_ne!(new, old);
    // Throttled for good: stops, says so, nothing lost.
    proxy.delay_new_keys(Duration::ZERO);
    proxy.fail("CreateAccessKey", 10, Reply::throttling());
    let (ok, _, err) = bed.run(&["rotate", "-t", CODE, "alice"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("throttling") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(bed.assert_one_key_left("throttled"), new);
}

#[test]
fn a_new_key_that_never_works_puts_the_old_one_back() {
    let Some(bed) = Bed::new(Kind::Credentials) else {
        return;
    };
    let old = bed.assert_store_works("start");
    let proxy = bed.moto.checked().expect("signing proxy");
    proxy.delay_new_keys(Duration::from_secs(3600));
    let (ok, out, err) = bed
        .command(&["rotate", "-t", CODE, "alice"])
        .env("MFAENV_ROTATE_WAIT", "3")
        .output()
        .map(|o| {
            (
                o.status.success(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert!(!ok && out.is_empty(), "{err}");
    assert!(
        err.contains("did not start working") && err.contains("Nothing was deleted"),
        "{err}"
    );
    assert!(
        err.contains(&format!("holds the old key {old} again")),
        "{err}"
    );
    assert_eq!(bed.assert_store_works("never worked"), old);
    assert_eq!(bed.iam_keys().len(), 2, "both keys: nothing deleted");
    assert_eq!(
        bed.credentials_before,
        std::fs::read_to_string(bed.sb.credentials()).unwrap()
    );
    // Later, IAM is fine again: the next run deletes the unused key and rotates.
    proxy.delay_new_keys(Duration::ZERO);
    let err = bed.rotate();
    assert!(err.contains("never stored"), "{err}");
    assert_ne!(bed.assert_one_key_left("after"), old);
}

#[test]
fn a_store_that_cannot_be_written_stops_before_deleting() {
    let Some(bed) = Bed::new(Kind::FileStore) else {
        return;
    };
    let old = bed.assert_store_works("start");
    let store = bed.sb.home().join(".local/share/mfaenv/keys.enc");
    let saved = std::fs::read(&store).unwrap();
    let (mut child, rx) = bed.paused_at("store");
    // The store breaks between CreateAccessKey and the write.
    std::fs::remove_file(&store).unwrap();
    std::fs::create_dir(&store).unwrap();
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let status = child.wait().unwrap();
    let err: Vec<String> = rx.try_iter().collect();
    let err = err.join("\n");
    assert!(!status.success(), "{err}");
    assert!(
        err.contains("cannot store the new key") && err.contains("Nothing was deleted"),
        "{err}"
    );
    assert!(err.contains(&old), "{err}");
    assert_eq!(bed.iam_keys().len(), 2, "nothing deleted: {err}");
    // The store is repaired: the next run deletes the key it could not
    // store and rotates.
    std::fs::remove_dir(&store).unwrap();
    std::fs::write(&store, saved).unwrap();
    std::fs::set_permissions(&store, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    bed.assert_store_works("repaired");
    bed.rotate();
    assert_ne!(bed.assert_one_key_left("after"), old);
}

#[test]
fn old_keys_are_said_once_a_day_and_shown_by_status_and_rotate_all() {
    let Some(bed) = Bed::new(Kind::FileStore) else {
        return;
    };
    let old = bed.assert_store_works("start");
    // 0 days old: nothing to say, nothing for --all.
    let (ok, _, err) = bed.run(&["rotate", "--all", "-t", CODE]);
    assert!(ok && err.contains("nothing to rotate"), "{err}");
    // With a limit below its age (a second), the key is old.
    let limit = [("MFAENV_KEY_MAX_AGE", "1s")];
    std::thread::sleep(Duration::from_secs(2));
    let fresh = tempfile::tempdir().unwrap();
    let login = |bed: &Bed| {
        let out = bed
            .command(&["login", "-t", CODE, "prod"])
            .envs(limit)
            .env("MFAENV_CACHE_DIR", fresh.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", support::stderr_of(&out));
        std::fs::remove_dir_all(fresh.path()).ok();
        support::stderr_of(&out)
    };
    let first = login(&bed);
    assert!(
        first.contains(&format!("long-term key …{}", &old[old.len() - 4..]))
            && first.contains("mfaenv rotate alice"),
        "{first}"
    );
    let second = login(&bed);
    assert!(!second.contains("mfaenv rotate"), "once a day: {second}");
    let out = bed.command(&["status"]).envs(limit).output().unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(
        status.contains("old key:") && status.contains("mfaenv rotate alice"),
        "{status}"
    );
    let out = bed
        .command(&["rotate", "--all", "-t", CODE])
        .envs(limit)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    assert_ne!(bed.assert_one_key_left("after --all"), old);
}

#[test]
fn a_lost_answer_to_create_access_key_is_cleaned_up_by_the_next_run() {
    let Some(bed) = Bed::new(Kind::Credentials) else {
        return;
    };
    let old = bed.assert_store_works("start");
    let proxy = bed.moto.checked().expect("signing proxy");
    // IAM makes the key; its answer arrives as garbage.
    proxy.lose_answer(
        "CreateAccessKey",
        1,
        Reply::Garbage(b"<html>proxy error</html>".to_vec()),
    );
    let (ok, out, err) = bed.run(&["rotate", "-t", CODE, "alice"]);
    assert!(!ok && out.is_empty(), "{err}");
    assert!(err.contains("may have made a key"), "{err}");
    assert_eq!(bed.iam_keys().len(), 2, "IAM made one: {err}");
    assert_eq!(bed.assert_store_works("answer lost"), old);
    let err = bed.rotate();
    assert!(err.contains("never stored"), "{err}");
    assert_ne!(bed.assert_one_key_left("after"), old);
}

/// A 5xx to CreateAccessKey may come after IAM made the key: it is never
/// sent again (a second key could go unnoticed), the run says a key may
/// have been made, and the next run deletes it and rotates.
#[test]
fn a_5xx_to_create_access_key_is_not_sent_again_and_cleaned_up() {
    let Some(bed) = Bed::new(Kind::FileStore) else {
        return;
    };
    let old = bed.assert_store_works("start");
    let proxy = bed.moto.checked().expect("signing proxy");
    proxy.lose_answer("CreateAccessKey", 1, Reply::internal_failure());
    let (ok, out, err) = bed.run(&["rotate", "-t", CODE, "alice"]);
    assert!(!ok && out.is_empty(), "{err}");
    assert!(
        err.contains("InternalFailure") && err.contains("may have made a key"),
        "{err}"
    );
    assert_eq!(proxy.attempts("CreateAccessKey"), 1, "sent once: {err}");
    assert_eq!(bed.iam_keys().len(), 2, "IAM made one: {err}");
    assert_eq!(bed.assert_store_works("5xx"), old);
    let err = bed.rotate();
    assert!(err.contains("never stored"), "{err}");
    assert_ne!(bed.assert_one_key_left("after"), old);
    assert_eq!(proxy.attempts("CreateAccessKey"), 2);
}

#[test]
fn import_learns_the_creation_date_from_a_cached_session() {
    let Some(bed) = Bed::new(Kind::Credentials) else {
        return;
    };
    let (ok, _, err) = bed.run(&["login", "-t", CODE, "alice"]);
    assert!(ok, "{err}");
    let out = bed
        .command(&["import", "alice"])
        .env("MFAENV_BACKEND", "file")
        .env("MFAENV_FILE_PASSPHRASE", "correct horse")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    let (ok, keys, err) = bed.run(&["keys", "--json"]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&keys).unwrap();
    let alice = json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["profile"] == "alice")
        .cloned()
        .unwrap();
    assert_eq!(alice["store"], "file", "{keys}");
    assert_eq!(alice["created_from"], "iam", "{keys}");
    // Without a cached session import calls nothing: the date it was stored.
    let other = bed.moto.count("ListAccessKeys");
    assert_eq!(other, 1, "one ListAccessKeys, with alice's cached session");
}

#[test]
fn throttled_for_good_at_the_delete_the_next_run_finishes() {
    let Some(bed) = Bed::new(Kind::FileStore) else {
        return;
    };
    let old = bed.assert_store_works("start");
    let proxy = bed.moto.checked().expect("signing proxy");
    // Every attempt of one run (3: src/aws/query.rs).
    proxy.fail("DeleteAccessKey", 3, Reply::throttling());
    let (ok, out, err) = bed.run(&["rotate", "-t", CODE, "alice"]);
    assert!(!ok && out.is_empty(), "{err}");
    assert!(
        err.contains("is stored and works, but the old key") && err.contains(&old),
        "{err}"
    );
    let new = bed.assert_store_works("throttled at the delete");
    assert_ne!(new, old);
    assert_eq!(bed.iam_keys().len(), 2, "the old key is still there");
    let err = bed.rotate();
    assert!(err.contains("finishing the interrupted rotation"), "{err}");
    assert_eq!(bed.assert_one_key_left("finished"), new, "no third key");
}
