//! Failure behaviour, end to end through the binary: docs/troubleshooting.md's "Failure
//! behaviour" table is this file.
//!
//! - The STS fault matrix (tests/support/faults.rs) through the fake STS or a
//!   dead port. Each case: exit 1, stdout empty, one `error:` line naming the
//!   cause plus at most one `hint:` line saying what to do, nothing else on
//!   stderr, the cache directory untouched (no file created, changed or
//!   removed, lock files included) and the wall time under the case's bound.
//! - At the terminal: a rejected code is explained and asked again.
//! - Ctrl-C at the MFA prompt leaves nothing behind.
//! - Config errors name file and line, and no request leaves.
//! - Cache faults: a bad file or directory costs one warning, never trust.
//!
//! `cargo test --test faults -- --nocapture` prints each case's measured
//! time and the lines the user sees.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use support::fake_sts::{Creds, FakeSts, Reply};
use support::faults::{self, Fault, SERIAL};
use support::sandbox::{failure_stdout, Sandbox};
use support::stderr_of;

fn session_creds() -> Creds {
    Creds::new()
}

fn role_creds() -> Creds {
    Creds::new()
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// What a file in the cache directory is: bytes, mode, owner, mtime.
type FileState = (Vec<u8>, u32, u32, SystemTime);

/// Every file in `dir` (none when it does not exist) but the profile
/// indexes (`*.index`: where the config's sections are, no session).
fn snapshot(dir: &Path) -> BTreeMap<String, FileState> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    read.filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_none_or(|x| x != "index"))
        .map(|e| {
            let meta = std::fs::symlink_metadata(e.path()).expect("stat");
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (
                e.file_name().to_string_lossy().into_owned(),
                (
                    bytes,
                    meta.mode(),
                    meta.uid(),
                    meta.modified().expect("mtime"),
                ),
            )
        })
        .collect()
}

/// The lines of stderr, split into the `error:` lines, the `hint:` lines
/// and anything else.
struct Said {
    errors: Vec<String>,
    hints: Vec<String>,
    warnings: Vec<String>,
    other: Vec<String>,
}

fn said(stderr: &str) -> Said {
    let mut s = Said {
        errors: Vec::new(),
        hints: Vec::new(),
        warnings: Vec::new(),
        other: Vec::new(),
    };
    for line in stderr.lines() {
        let line = line.to_string();
        if line.starts_with("mfaenv: error: ") {
            s.errors.push(line);
        } else if line.starts_with("mfaenv: hint: ") {
            s.hints.push(line);
        } else if line.starts_with("mfaenv: warning: ") {
            s.warnings.push(line);
        } else {
            s.other.push(line);
        }
    }
    s
}

fn contains_all(line: &str, parts: &[&str]) -> bool {
    let lower = line.to_lowercase();
    parts.iter().all(|p| lower.contains(&p.to_lowercase()))
}

// ---------------------------------------------------------------------------
// The STS fault matrix
// ---------------------------------------------------------------------------

/// Runs one case of the matrix and checks the failure contract.
fn check(name: &str) {
    let fault: Fault = faults::case(name, &session_creds(), &role_creds());
    let (fake, sb) = fault.prepare();
    let cache_before = snapshot(&sb.cache_dir());
    let started = Instant::now();
    let out = sb.run(fault.args);
    let took = started.elapsed();
    let stderr = stderr_of(&out);
    let context = format!("fault `{name}` ({took:?}):\n{stderr}");

    assert_eq!(out.status.code(), Some(1), "{context}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        failure_stdout(fault.args),
        "stdout holds only the failing statement\n{context}"
    );
    let s = said(&stderr);
    assert_eq!(s.errors.len(), 1, "exactly one error line\n{context}");
    assert!(
        stderr.starts_with("mfaenv: error: "),
        "the error comes first\n{context}"
    );
    assert!(
        s.warnings.is_empty() && s.other.is_empty(),
        "nothing but the error and its hint\n{context}"
    );
    assert!(
        contains_all(&s.errors[0], fault.error),
        "the error line must say {:?}\n{context}",
        fault.error
    );
    if fault.hint.is_empty() {
        assert!(s.hints.is_empty(), "no hint expected\n{context}");
    } else {
        assert_eq!(s.hints.len(), 1, "one hint line\n{context}");
        assert!(
            contains_all(&s.hints[0], fault.hint),
            "the hint must say {:?}\n{context}",
            fault.hint
        );
    }
    if let (Some((action, n)), Some(fake)) = (fault.attempts, &fake) {
        let before = if action == "GetSessionToken" {
            fault.requests_before()
        } else {
            0
        };
        assert_eq!(
            fake.count(action) - before,
            n,
            "{action} attempts\n{context}"
        );
    }
    assert!(
        took < fault.bound,
        "took {took:?}, bound {:?}\n{context}",
        fault.bound
    );

    let cache_after = snapshot(&sb.cache_dir());
    if fault.drops_mfa_session {
        // The refused MFA session is gone; nothing else changed.
        let gone: Vec<_> = cache_before
            .keys()
            .filter(|k| !cache_after.contains_key(*k))
            .collect();
        assert_eq!(gone.len(), 1, "{gone:?}\n{context}");
        let text = String::from_utf8_lossy(&cache_before[gone[0]].0).into_owned();
        assert!(text.contains("\"mfa-session\""), "{text}");
        for (k, v) in &cache_after {
            assert_eq!(cache_before.get(k), Some(v), "{k} changed\n{context}");
        }
    } else {
        assert!(
            cache_before == cache_after,
            "the cache must be untouched: before {:?}, after {:?}\n{context}",
            cache_before.keys().collect::<Vec<_>>(),
            cache_after.keys().collect::<Vec<_>>()
        );
    }
    eprintln!(
        "FAULT {name:<18} {:>6} ms  {}  {}",
        took.as_millis(),
        s.errors[0],
        s.hints.first().map(String::as_str).unwrap_or("")
    );
}

macro_rules! fault_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check($name);
            }
        )*

        /// Every case of the matrix has its test here.
        #[test]
        fn every_fault_has_a_test() {
            let tested = [$($name),*];
            for fault in faults::matrix(&Creds::new(), &Creds::new()) {
                assert!(tested.contains(&fault.name), "no test for `{}`", fault.name);
            }
        }
    };
}

fault_tests! {
    sts_connection_refused => "refused",
    sts_never_answers => "hang",
    sts_http_500_is_retried_then_reported => "http500",
    sts_throttling_is_retried_with_backoff_then_gives_up => "throttling",
    sts_access_denied_on_assume_role => "access-denied",
    sts_wrong_mfa_code => "wrong-code",
    sts_already_used_mfa_code => "reused-code",
    sts_wrong_mfa_code_direct => "wrong-code-direct",
    sts_unknown_mfa_device => "unknown-device",
    sts_expired_cached_session => "expired-session",
    sts_expired_source_keys => "expired-source",
    sts_invalid_long_term_keys => "bad-keys",
    sts_malformed_answer => "garbage",
    sts_truncated_xml => "truncated",
    sts_truncated_xml_assume_role => "truncated-role",
    sts_connection_cut_mid_answer => "cut-off",
    sts_connection_closed_without_answer => "closed",
    sts_clock_skew_keeps_the_cached_session => "clock-skew",
    sts_clock_skew_with_long_term_keys => "clock-skew-session",
    sts_huge_answer_is_cut_off => "huge",
    sts_huge_declared_answer_is_refused => "huge-declared",
}

/// Runs mfaenv with its address space capped at 1 GiB (so a version that
/// buffers everything fails instead of taking the machine's memory) and
/// returns (exit code, stderr, its peak RSS in KiB). The peak comes from GNU
/// time, whose child mfaenv is: a child forked from this (large, threaded)
/// test process would count the test's own pages in its peak until exec.
fn run_measured(sb: &Sandbox, args: &[&str]) -> (Option<i32>, String, i64) {
    let time = support::require_program("/usr/bin/time").expect("GNU time");
    let prlimit = support::require_program("prlimit").expect("prlimit (util-linux)");
    let dir = tempfile::tempdir().unwrap();
    let (peak, err) = (dir.path().join("peak"), dir.path().join("stderr"));
    let status = sb
        .command(time)
        .args(["-f", "%M", "-o"])
        .arg(&peak)
        .arg(prlimit)
        .arg(format!("--as={}", 1u64 << 30))
        .arg(support::mfaenv_bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .status()
        .expect("run mfaenv under GNU time");
    let peak = std::fs::read_to_string(&peak).unwrap_or_default();
    let kib = peak
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<i64>().ok())
        .unwrap_or_else(|| panic!("no peak from GNU time: {peak}"));
    (status.code(), std::fs::read_to_string(&err).unwrap(), kib)
}

/// A huge or endless answer is cut at 1 MiB: mfaenv's memory stays small.
#[test]
fn a_huge_answer_keeps_memory_bounded() {
    for (bytes, declared) in [(1u64 << 40, false), (1 << 40, true), (8 << 20, false)] {
        let fake = FakeSts::start();
        fake.on("GetSessionToken", vec![Reply::Huge { bytes, declared }]);
        let sb = Sandbox::new(&fake.endpoint());
        let started = Instant::now();
        let (code, stderr, peak_kib) =
            run_measured(&sb, &["export", "--shell", "json", "-t", "123456", "base"]);
        let took = started.elapsed();
        let context =
            format!("{bytes} bytes, declared {declared}: {took:?}, {peak_kib} KiB\n{stderr}");
        assert_eq!(code, Some(1), "{context}");
        assert!(stderr.contains("larger than 1024 KiB"), "{context}");
        assert!(peak_kib < 100 * 1024, "peak RSS over 100 MB: {context}");
        assert!(took < Duration::from_secs(10), "{context}");
        eprintln!("HUGE {context}");
    }
}

/// An expiry far beyond what was asked for is capped, and said.
#[test]
fn an_expiry_years_ahead_is_capped_at_what_was_asked() {
    let fake = FakeSts::start();
    let far = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_214_400); // 9999-12-31
    fake.on(
        "GetSessionToken",
        vec![Reply::SessionToken(Creds::new().expiring_at(far))],
    );
    fake.on(
        "AssumeRole",
        vec![Reply::AssumeRole(Creds::new().expiring_at(far))],
    );
    let sb = Sandbox::new(&fake.endpoint());
    let out = sb.run(&["credential-process", "-t", "123456", "prod"]);
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("longer than the").count(), 2, "{stderr}");
    assert!(stderr.contains("9999-12-31"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expiry = humantime::parse_rfc3339(json["Expiration"].as_str().unwrap()).unwrap();
    // The role's default hour, not the year 9999.
    let left = expiry.duration_since(SystemTime::now()).unwrap();
    assert!(left <= Duration::from_secs(3600), "{left:?}");
    // The cache holds the capped expiry: status shows hours, not millennia.
    let status = sb.ok(&["status", "--json"]);
    assert!(!status.contains("9999"), "{status}");
}

/// Throttling: three attempts, spread by the SDK's backoff, then a stop.
#[test]
fn throttling_backs_off_between_attempts() {
    let fake = FakeSts::start();
    fake.on("GetSessionToken", vec![Reply::throttling()]);
    let sb = Sandbox::new(&fake.endpoint());
    let started = Instant::now();
    sb.fails(&["export", "-t", "123456", "base"]);
    let took = started.elapsed();
    assert_eq!(fake.count("GetSessionToken"), 3);
    // 200 ms initial backoff, doubling, jittered, at most 2 s: the whole run
    // stays far below the 6 s budget.
    assert!(took < Duration::from_secs(3), "{took:?}");
    // Throttled once, then served: the retry hides it.
    let fake = FakeSts::start();
    fake.on(
        "GetSessionToken",
        vec![Reply::throttling(), Reply::session_token()],
    );
    let sb = Sandbox::new(&fake.endpoint());
    sb.ok(&["export", "-t", "123456", "base"]);
    assert_eq!(fake.count("GetSessionToken"), 2);
}

/// After AWS refused the cached MFA session, the next run asks for a code
/// and starts a new session instead of failing the same way again.
#[test]
fn a_refused_session_is_replaced_on_the_next_run() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    sb.ok(&["login", "-t", "123456", "base"]);
    fake.on(
        "AssumeRole",
        vec![Reply::expired_token(), Reply::assume_role()],
    );
    let err = sb.fails(&["export", "prod"]);
    assert!(err.contains("dropped it"), "{err}");
    // No cached session any more: without a code there is nothing to use.
    let err = sb.fails(&["export", "prod"]);
    assert!(err.contains("no terminal"), "{err}");
    sb.ok(&["export", "-t", "654321", "prod"]);
    assert_eq!(fake.count("GetSessionToken"), 2);
    assert_eq!(fake.count("AssumeRole"), 2);
}

// ---------------------------------------------------------------------------
// At the terminal
// ---------------------------------------------------------------------------

/// mfaenv in a pseudo-terminal (so it can prompt on /dev/tty) with its
/// stdout going to a file, as under `$(…)`: returns the session and the file.
fn in_pty(sb: &Sandbox, args: &[&str]) -> (rexpect::session::PtySession, std::path::PathBuf) {
    let stdout = sb.home().join(format!("stdout-{}", std::process::id()));
    let p = sb.in_pty(args, |cmd| {
        cmd.stdout(std::fs::File::create(&stdout).expect("stdout file"));
    });
    (p, stdout)
}

/// Waits (at most `limit`) for the pty's process to end.
fn ended(p: &rexpect::session::PtySession, limit: Duration) -> rexpect::process::WaitStatus {
    use rexpect::process::WaitStatus;
    let deadline = Instant::now() + limit;
    loop {
        match p.process.status() {
            Some(WaitStatus::StillAlive) | None if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Some(status) => return status,
            None => panic!("mfaenv did not end within {limit:?}"),
        }
    }
}

fn exited_with(status: &rexpect::process::WaitStatus, code: i32) -> bool {
    matches!(status, rexpect::process::WaitStatus::Exited(_, c) if *c == code)
}

#[test]
fn rejected_code_at_the_terminal_is_asked_again_in_direct_mode() {
    let fake = FakeSts::start();
    let role = role_creds();
    fake.on(
        "AssumeRole",
        vec![Reply::invalid_mfa_code(), Reply::AssumeRole(role.clone())],
    );
    let sb = Sandbox::new(&fake.endpoint());
    let (mut p, stdout) = in_pty(&sb, &["export", "--shell", "bash", "--direct", "prod"]);
    p.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    p.send_line("111111").unwrap();
    // AWS cannot tell a wrong code from a used one: both are said.
    p.exp_string("AWS rejected the MFA code").unwrap();
    p.exp_string("wait for the next one").unwrap();
    p.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    p.send_line("222222").unwrap();
    let status = ended(&p, Duration::from_secs(10));
    assert!(exited_with(&status, 0), "{status:?}");
    let out = std::fs::read_to_string(&stdout).unwrap();
    assert!(
        out.contains(&format!(
            "export AWS_ACCESS_KEY_ID='{}'",
            role.access_key_id
        )),
        "{out}"
    );
    let codes: Vec<_> = fake
        .requests()
        .iter()
        .filter(|r| r.action == "AssumeRole")
        .filter_map(|r| r.param("TokenCode").map(str::to_string))
        .collect();
    assert_eq!(codes, ["111111", "222222"]);
    assert_eq!(fake.count("GetSessionToken"), 0);
}

#[test]
fn three_rejected_codes_at_the_terminal_end_with_the_reason() {
    let fake = FakeSts::start();
    fake.on("GetSessionToken", vec![Reply::invalid_mfa_code()]);
    let sb = Sandbox::new(&fake.endpoint());
    let (mut p, stdout) = in_pty(&sb, &["export", "--shell", "bash", "base"]);
    for code in ["111111", "222222", "333333"] {
        p.exp_string("MFA code for").unwrap();
        p.send_line(code).unwrap();
    }
    // stderr is the terminal here: the label is coloured.
    p.exp_regex(
        "mfaenv: .*error:.* profile `base`: MFA session for `base`: AWS rejected the MFA code",
    )
    .unwrap();
    let status = ended(&p, Duration::from_secs(10));
    assert!(exited_with(&status, 1), "{status:?}");
    assert_eq!(std::fs::read(&stdout).unwrap(), b"false\n");
    assert_eq!(fake.count("GetSessionToken"), 3);
    assert!(snapshot(&sb.cache_dir()).is_empty());
}

// ---------------------------------------------------------------------------
// Ctrl-C at the prompt
// ---------------------------------------------------------------------------

/// Files in the cache dir: none may be a session, a temporary file, or a
/// lock someone holds.
fn assert_nothing_left(dir: &Path) {
    for name in snapshot(dir).keys() {
        assert!(
            name.ends_with(".lock"),
            "{name} left in the cache after Ctrl-C"
        );
        let file = std::fs::File::open(dir.join(name)).unwrap();
        assert!(file.try_lock().is_ok(), "{name} is still locked");
    }
}

#[test]
fn ctrl_c_at_the_prompt_leaves_nothing_behind() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let (mut p, stdout) = in_pty(&sb, &["export", "--shell", "bash", "prod"]);
    p.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    p.send_control('c').unwrap();
    // Generous: seen still alive after 5 s once, on a machine also running
    // a clean release build and benchmarks.
    let status = ended(&p, Duration::from_secs(20));
    assert!(
        matches!(
            status,
            rexpect::process::WaitStatus::Signaled(_, rexpect::process::Signal::SIGINT, _)
        ),
        "{status:?}"
    );
    assert!(std::fs::read(&stdout).unwrap().is_empty(), "stdout empty");
    assert_nothing_left(&sb.cache_dir());
    assert!(fake.requests().is_empty());
    // The next run needs the same MFA session and goes at once.
    let started = Instant::now();
    let out = sb.run(&["export", "--shell", "bash", "-t", "123456", "prod"]);
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("waiting"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // A finished run leaves its sessions, and no lock file.
    let left: Vec<String> = snapshot(&sb.cache_dir()).into_keys().collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|n| n.ends_with(".json")), "{left:?}");
}

#[test]
fn ctrl_c_while_another_run_waits_releases_it() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let (mut p, stdout) = in_pty(&sb, &["export", "--shell", "bash", "prod"]);
    p.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    // A second run needs the same MFA session: it waits for the lock.
    let waiter_err = sb.home().join("waiter.stderr");
    let waiter = sb
        .mfaenv(&["export", "--shell", "bash", "-t", "123456", "prod"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&waiter_err).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&waiter_err)
        .unwrap()
        .contains("waiting for another mfaenv")
    {
        assert!(Instant::now() < deadline, "the second run never waited");
        std::thread::sleep(Duration::from_millis(20));
    }
    p.send_control('c').unwrap();
    ended(&p, Duration::from_secs(20));
    assert!(std::fs::read(&stdout).unwrap().is_empty());
    // The waiter gets the lock at once and, never prompting itself, says
    // that the other run did not finish.
    let started = Instant::now();
    let out = waiter.wait_with_output().unwrap();
    let stderr = std::fs::read_to_string(&waiter_err).unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(out.stdout, b"false\n");
    assert!(stderr.contains("did not finish"), "{stderr}");
    assert!(fake.requests().is_empty());
    // Whoever held the lock last removed it.
    assert!(snapshot(&sb.cache_dir()).is_empty());
}

// ---------------------------------------------------------------------------
// Config errors: file and line, before any request
// ---------------------------------------------------------------------------

struct ConfigCase {
    name: &'static str,
    config: Vec<u8>,
    credentials: &'static str,
    profile: &'static str,
    /// `config` or `credentials`, and the line.
    at: (&'static str, usize),
    says: &'static [&'static str],
}

fn deep_chain() -> Vec<u8> {
    let mut config = String::new();
    for i in 0..12 {
        config.push_str(&format!(
            "[profile p{i}]\nrole_arn = arn:aws:iam::1:role/r{i}\nsource_profile = p{}\n",
            i + 1
        ));
    }
    config.push_str("[profile p12]\nmfa_serial = arn:aws:iam::1:mfa/x\n");
    config.into_bytes()
}

const KEYS: &str = "[base]\naws_access_key_id = AKIABASEEXAMPLE00001\naws_secret_access_key = base/long-term/SECRET+do-not-leak\n[p12]\naws_access_key_id = AKIAP12\naws_secret_access_key = p12-secret\n";

fn config_cases() -> Vec<ConfigCase> {
    let role =
        "[profile prod]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/x\n";
    vec![
        ConfigCase {
            name: "malformed line",
            config: format!("{role}this line has no delimiter\n").into_bytes(),
            credentials: KEYS,
            profile: "prod",
            at: ("config", 4),
            says: &["expected `key = value`"],
        },
        ConfigCase {
            name: "key before any section",
            config: format!("region = us-east-1\n{role}").into_bytes(),
            credentials: KEYS,
            profile: "prod",
            at: ("config", 1),
            says: &["before any [section]"],
        },
        ConfigCase {
            name: "unterminated section header",
            config: format!("{role}[profile staging\nregion = eu-west-1\n").into_bytes(),
            credentials: KEYS,
            profile: "prod",
            at: ("config", 4),
            says: &["unterminated section header"],
        },
        ConfigCase {
            name: "non-UTF-8 bytes",
            config: [role.as_bytes(), b"region = eu-\xff\xfe\n"].concat(),
            credentials: KEYS,
            profile: "prod",
            at: ("config", 4),
            says: &["not valid UTF-8"],
        },
        ConfigCase {
            name: "malformed credentials file",
            config: role.as_bytes().to_vec(),
            credentials: "[base]\naws_access_key_id AKIABASEEXAMPLE00001\n",
            profile: "prod",
            at: ("credentials", 2),
            says: &["expected `key = value`"],
        },
        ConfigCase {
            name: "missing source_profile",
            config: b"[profile prod]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = nope\n"
                .to_vec(),
            credentials: KEYS,
            profile: "prod",
            at: ("config", 3),
            says: &["profile `prod`", "source_profile `nope` does not exist"],
        },
        ConfigCase {
            name: "role without a source",
            config: b"[profile prod]\nrole_arn = arn:aws:iam::1:role/x\n".to_vec(),
            credentials: KEYS,
            profile: "prod",
            at: ("config", 2),
            says: &["role_arn needs source_profile or credential_source"],
        },
        ConfigCase {
            name: "chain deeper than 10",
            config: deep_chain(),
            credentials: KEYS,
            profile: "p0",
            at: ("config", 30),
            says: &["profile `p0`", "deeper than 10"],
        },
        ConfigCase {
            name: "cycle",
            config: b"[profile a]\nsource_profile = b\nrole_arn = arn:aws:iam::1:role/a\n[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n".to_vec(),
            credentials: KEYS,
            profile: "a",
            at: ("config", 6),
            says: &["source_profile cycle: a -> b -> a"],
        },
        ConfigCase {
            name: "bad duration",
            config: format!("{role}duration_seconds = 50000\n").into_bytes(),
            credentials: KEYS,
            profile: "prod",
            at: ("config", 4),
            says: &["AssumeRole lasts 900-43200 seconds", "`50000`"],
        },
    ]
}

#[test]
fn config_errors_name_file_and_line_and_send_nothing() {
    for case in config_cases() {
        let fake = FakeSts::start();
        let sb = Sandbox::with(&fake.endpoint(), "", case.credentials);
        std::fs::write(sb.config(), &case.config).unwrap();
        let out = sb.run(&["export", "-t", "123456", case.profile]);
        let stderr = stderr_of(&out);
        let context = format!("{}:\n{stderr}", case.name);
        assert_eq!(out.status.code(), Some(1), "{context}");
        assert_eq!(out.stdout, b"false\n", "{context}");
        let s = said(&stderr);
        assert_eq!(s.errors.len(), 1, "{context}");
        assert!(
            s.hints.is_empty() && s.other.is_empty() && s.warnings.is_empty(),
            "{context}"
        );
        let file = match case.at.0 {
            "config" => sb.config(),
            _ => sb.credentials(),
        };
        let at = format!("{}:{}: ", file.display(), case.at.1);
        assert!(s.errors[0].contains(&at), "expected {at}\n{context}");
        assert!(contains_all(&s.errors[0], case.says), "{context}");
        assert!(fake.requests().is_empty(), "{context}");
        assert!(!sb.cache_dir().exists(), "{context}");
        eprintln!("CONFIG {:<28} {}", case.name, s.errors[0]);
    }
}

#[test]
fn unknown_keys_and_sections_are_ignored() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    sb.add_config(
        "\n[profile odd]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/odd\n\
         mfa_serial = arn:aws:iam::111111111111:mfa/alice\nsome_future_key = whatever\ncli_pager =\n\
         s3 =\n  max_concurrent_requests = 20\n  addressing_style = path\nUPPER_Case_Key = kept as is\n\
         [sso-session corp]\nsso_region = us-east-1\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:9\n\
         [plugins]\ncli_legacy_plugin_path = /nowhere\n",
    );
    let out = sb.run(&["export", "--shell", "bash", "-t", "123456", "odd"]);
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    // Nothing about the unknown keys; `odd` has no region, so base's is taken.
    assert_eq!(
        stderr, "mfaenv: note: region us-east-1 from source profile base\n",
        "{stderr}"
    );
    assert_eq!(fake.count("GetSessionToken"), 1);
    assert_eq!(fake.count("AssumeRole"), 1);
}

// ---------------------------------------------------------------------------
// Cache faults: one warning, never trusted, mfaenv still works
// ---------------------------------------------------------------------------

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn chown_tree(path: &Path, uid: u32) {
    chown(path, uid);
    if std::fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid);
        }
    }
}

/// Keys no fresh session has: seeing them in the output means a bad file was trusted.
const PLANTED: &str = "ASIAPLANTEDPLANTED01";

/// Rewrites the cache file as a well-formed session with [`PLANTED`] keys.
fn plant(file: &Path) {
    let mut entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    entry["access_key_id"] = PLANTED.into();
    entry["secret_access_key"] = "planted-secret".into();
    entry["session_token"] = "planted-token".into();
    std::fs::write(file, entry.to_string()).unwrap();
}

/// Who runs the checked command.
#[derive(Clone, Copy, PartialEq, Eq)]
enum As {
    Us,
    /// uid 65534 (we are root): the sandbox is handed over to it first.
    Nobody,
}

/// Logs `base` in (its MFA session is the one cache file), plants fake keys
/// in that file, lets `arrange` break the file or the directory, then runs
/// `export -t … base`: it must succeed with fresh keys from STS, say exactly
/// one warning holding `warning`, and nothing else.
fn cache_fault(run_as: As, arrange: impl FnOnce(&Sandbox, &Path), warning: &[&str]) {
    let fake = FakeSts::start();
    let fresh = session_creds();
    let sb = Sandbox::new(&fake.endpoint());
    sb.ok(&["login", "-t", "123456", "base"]);
    fake.on("GetSessionToken", vec![Reply::SessionToken(fresh.clone())]);
    let files: Vec<String> = snapshot(&sb.cache_dir()).into_keys().collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = sb.cache_dir().join(&files[0]);
    plant(&file);
    assert!(
        sb.ok(&["export", "--shell", "bash", "base"])
            .contains(PLANTED),
        "the planted file is used while it is sound"
    );
    arrange(&sb, &file);
    let mut cmd = sb.mfaenv(&["export", "--shell", "bash", "-t", "123456", "base"]);
    if run_as == As::Nobody {
        use std::os::unix::process::CommandExt;
        // std drops the supplementary groups too when root sets a uid.
        cmd.uid(NOBODY).gid(NOBODY);
    }
    let out = cmd.output().unwrap();
    let stderr = stderr_of(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!(
            "export AWS_ACCESS_KEY_ID='{}'",
            fresh.access_key_id
        )),
        "{stdout}"
    );
    assert!(
        !stdout.contains(PLANTED) && !stdout.contains("planted"),
        "trusted: {stdout}"
    );
    let s = said(&stderr);
    assert_eq!(s.warnings.len(), 1, "one warning:\n{stderr}");
    assert!(contains_all(&s.warnings[0], warning), "{stderr}");
    assert!(
        s.errors.is_empty() && s.hints.is_empty() && s.other.is_empty(),
        "{stderr}"
    );
    assert_eq!(
        fake.count("GetSessionToken"),
        2,
        "a fresh session was fetched"
    );
    eprintln!("CACHE {}", s.warnings[0]);
}

#[test]
fn corrupt_cache_file() {
    cache_fault(
        As::Us,
        |_, file| std::fs::write(file, "{\"version\":1,\"label\":").unwrap(),
        &["ignoring corrupt cache file"],
    );
}

#[test]
fn cache_file_of_another_format() {
    cache_fault(
        As::Us,
        |_, file| {
            let text = std::fs::read_to_string(file).unwrap();
            std::fs::write(file, text.replace("\"version\":1", "\"version\":99")).unwrap();
        },
        &["of another format"],
    );
}

#[test]
fn cache_file_readable_by_others() {
    cache_fault(
        As::Us,
        |_, file| std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap(),
        &["readable by others (mode 644)", "chmod 600"],
    );
}

#[test]
fn cache_file_of_another_user() {
    if !is_root() {
        eprintln!("SKIP cache_file_of_another_user: only root can give a file to another user");
        return;
    }
    cache_fault(
        As::Us,
        |_, file| chown(file, NOBODY),
        &["owned by another user"],
    );
}

#[test]
fn cache_file_that_is_a_symlink() {
    cache_fault(
        As::Us,
        |sb, file| {
            let elsewhere = sb.home().join("elsewhere.json");
            std::fs::rename(file, &elsewhere).unwrap();
            std::os::unix::fs::symlink(&elsewhere, file).unwrap();
        },
        &["ignoring cache file"],
    );
}

#[test]
fn unreadable_cache_file() {
    // chmod 000 stops everyone but root. As root the test runs mfaenv as
    // uid 65534, owner of the sandbox, so the file is really unreadable.
    let run_as = if is_root() { As::Nobody } else { As::Us };
    cache_fault(
        run_as,
        |sb, file| {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o000)).unwrap();
            if run_as == As::Nobody {
                chown_tree(sb.home(), NOBODY);
            }
        },
        &["ignoring cache file", "permission denied"],
    );
}

#[test]
fn cache_dir_is_a_file() {
    cache_fault(
        As::Us,
        |sb, _| {
            std::fs::remove_dir_all(sb.cache_dir()).unwrap();
            std::fs::write(sb.cache_dir(), "not a directory").unwrap();
        },
        &["not caching sessions"],
    );
}

#[test]
fn cache_dir_cannot_be_created() {
    let run_as = if is_root() { As::Nobody } else { As::Us };
    cache_fault(
        run_as,
        |sb, _| {
            let parent = sb.home().join(".cache");
            std::fs::remove_dir_all(sb.cache_dir()).unwrap();
            if run_as == As::Nobody {
                // The sandbox is nobody's, but ~/.cache stays root's 0755.
                chown_tree(sb.home(), NOBODY);
                chown(&parent, 0);
            }
            std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o555)).unwrap();
        },
        &["not caching sessions", "permission denied"],
    );
}

#[test]
fn cache_dir_of_another_user() {
    if !is_root() {
        eprintln!("SKIP cache_dir_of_another_user: only root can give a directory to another user");
        return;
    }
    cache_fault(
        As::Us,
        |sb, _| chown(&sb.cache_dir(), NOBODY),
        &["not caching sessions", "owned by another user"],
    );
}

/// A corrupt role session of a two-step profile is looked at three times in
/// one run (the final session, then twice under its lock): one warning.
#[test]
fn corrupt_role_session_warns_once() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    sb.ok(&["login", "-t", "123456", "prod"]);
    let mut corrupted = 0;
    for (name, (bytes, ..)) in snapshot(&sb.cache_dir()) {
        if String::from_utf8_lossy(&bytes).contains("\"kind\":\"role\"") {
            std::fs::write(sb.cache_dir().join(name), "garbage").unwrap();
            corrupted += 1;
        }
    }
    assert_eq!(corrupted, 1);
    let out = sb.run(&["export", "--shell", "bash", "prod"]);
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(said(&stderr).warnings.len(), 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // The MFA session still served: no code was needed, a new role session was made.
    assert_eq!(fake.count("GetSessionToken"), 1);
    assert_eq!(fake.count("AssumeRole"), 2);
}
