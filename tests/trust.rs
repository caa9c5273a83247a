//! Security review items around the hook and the cache: trust bound to the
//! place a `.mfaenv` was found (two real users: a victim and an attacker),
//! files that would block or fill memory, control bytes in names, and what
//! `forget` does with temporary files, read-only caches and held locks.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, SystemTime};

use support::fake_sts::{Creds, FakeSts, Reply};
use support::moto::Moto;
use support::sandbox::{bash_exports, Sandbox};
use support::stderr_of;
use support::users::{self, output_within, User};

/// Long enough for a loaded machine; a blocked read never ends.
const LIMIT: Duration = Duration::from_secs(20);

/// Nothing listens there: for tests that never reach STS.
const NOWHERE: &str = "http://127.0.0.1:9";

/// A sandbox with prod logged in (its session cached) when `logged_in`.
fn sandbox(logged_in: bool) -> Option<(Option<Moto>, Sandbox)> {
    if !logged_in {
        return Some((None, Sandbox::new(NOWHERE)));
    }
    let moto = Moto::start()?;
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "prod"]);
    Some((Some(moto), sb))
}

/// `dir/.mfaenv` with `profile = "prod"`, the directory made first.
fn project(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(".mfaenv");
    std::fs::write(&file, "profile = \"prod\"\n").unwrap();
    file
}

/// mfaenv in the sandbox, as `user` when given, bounded by [`LIMIT`].
fn mfaenv(
    sb: &Sandbox,
    user: Option<User>,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = sb.mfaenv(args);
    cmd.current_dir(dir).env("PWD", dir);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(user) = user {
        user.command(&mut cmd);
    }
    let child = cmd.spawn().expect("spawn mfaenv");
    output_within(
        child,
        LIMIT,
        &format!("mfaenv {args:?} in {}", dir.display()),
    )
}

/// One prompt of the hook in `dir`: (what was exported, stderr).
fn hook(sb: &Sandbox, user: Option<User>, dir: &Path) -> (Vec<(String, String)>, String) {
    hook_with(sb, user, dir, &[])
}

fn hook_with(
    sb: &Sandbox,
    user: Option<User>,
    dir: &Path,
    env: &[(&str, &str)],
) -> (Vec<(String, String)>, String) {
    let out = mfaenv(sb, user, dir, &["hook-env", "--shell", "bash"], env);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "hook-env failed: {stderr}");
    (bash_exports(&String::from_utf8_lossy(&out.stdout)), stderr)
}

fn loaded(vars: &[(String, String)]) -> bool {
    vars.iter()
        .any(|(k, v)| k == "AWS_ACCESS_KEY_ID" && v.starts_with("ASIA"))
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; mkfifo has no other preconditions.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {}",
        path.display()
    );
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

// ---------------------------------------------------------------------------
// Trust is bound to the place
// ---------------------------------------------------------------------------

#[test]
fn another_users_symlink_to_a_trusted_file_loads_nothing() {
    let Some((victim, attacker)) = users::two() else {
        return;
    };
    let Some((_moto, sb)) = sandbox(true) else {
        return;
    };
    let home = sb.home().to_path_buf();
    let prod = home.join("infra-prod");
    let file = project(&prod);
    victim.own(&home);
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = mfaenv(&sb, Some(victim), &prod, &["allow"], &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let (vars, err) = hook(&sb, Some(victim), &prod);
    assert!(loaded(&vars), "the victim's own project loads: {err}");

    // A shared directory like /tmp (sticky, world-writable) where the
    // attacker plants links to the victim's file, which they cannot read.
    let shared = tempfile::Builder::new()
        .prefix("mfaenv-shared-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let evil = shared.path().join("evil");
    let copy = shared.path().join("copy");
    attacker.sh(&format!(
        "mkdir '{0}' && ln -s '{1}' '{0}/.mfaenv' && ! cat '{1}' 2>/dev/null",
        s(&evil),
        s(&file)
    ));
    attacker.sh(&format!(
        "mkdir '{0}' && printf 'profile = \"prod\"\\n' > '{0}/.mfaenv' && chmod 644 '{0}/.mfaenv'",
        s(&copy)
    ));

    let (vars, err) = hook(&sb, Some(victim), &evil);
    assert!(!loaded(&vars), "the attacker's link loaded prod: {err}");
    assert!(err.contains("is a symlink of another user"), "{err}");
    assert!(!err.contains("needs an MFA code"), "{err}");
    let out = mfaenv(&sb, Some(victim), &evil, &["allow"], &[]);
    assert!(
        !out.status.success(),
        "allow of another user's link: {}",
        stderr_of(&out)
    );
    assert!(
        stderr_of(&out).contains("only your own files"),
        "{}",
        stderr_of(&out)
    );

    let (vars, err) = hook(&sb, Some(victim), &copy);
    assert!(!loaded(&vars), "{err}");
    assert!(err.contains("is owned by another user"), "{err}");
}

#[test]
fn trust_is_bound_to_the_place_not_only_the_content() {
    let Some((_moto, sb)) = sandbox(true) else {
        return;
    };
    let home = sb.home();
    let prod = home.join("infra-prod");
    let file = project(&prod);
    sb.ok(&["allow", s(&prod)]);
    assert!(loaded(&hook(&sb, None, &prod).0));

    // Our own symlink elsewhere: not allowed until the link itself is.
    let other = home.join("other");
    std::fs::create_dir(&other).unwrap();
    std::os::unix::fs::symlink("../infra-prod/.mfaenv", other.join(".mfaenv")).unwrap();
    let (vars, err) = hook(&sb, None, &other);
    assert!(!loaded(&vars), "{err}");
    assert!(
        err.contains("is a symlink to") && err.contains("not allowed yet"),
        "{err}"
    );
    let out = sb.run(&["allow", s(&other)]);
    assert!(
        stderr_of(&out).contains("a symlink to"),
        "{}",
        stderr_of(&out)
    );
    assert!(loaded(&hook(&sb, None, &other).0));

    // A hard link, a copy, a symlinked directory: each a file nobody allowed.
    let hard = home.join("hard");
    std::fs::create_dir(&hard).unwrap();
    std::fs::hard_link(&file, hard.join(".mfaenv")).unwrap();
    let copy = home.join("copy");
    project(&copy);
    let linked = home.join("linked");
    std::os::unix::fs::symlink(&prod, &linked).unwrap();
    for dir in [&hard, &copy, &linked] {
        let (vars, err) = hook(&sb, None, dir);
        assert!(!loaded(&vars), "{}: {err}", dir.display());
        assert!(err.contains("not allowed yet"), "{err}");
    }

    // Writable by others: refused, with what to do.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (vars, err) = hook(&sb, None, &prod);
    assert!(!loaded(&vars), "{err}");
    assert!(
        err.contains("is writable by others (mode 666)") && err.contains("chmod go-w"),
        "{err}"
    );
}

#[test]
fn deny_blocks_one_project_and_not_another() {
    let Some((_moto, sb)) = sandbox(true) else {
        return;
    };
    let a = sb.home().join("proj-a");
    let b = sb.home().join("proj-b");
    project(&a);
    project(&b);
    sb.ok(&["allow", s(&a)]);
    sb.ok(&["allow", s(&b)]);
    sb.ok(&["deny", s(&a)]);
    let (vars, err) = hook(&sb, None, &a);
    assert!(!loaded(&vars) && err.contains("is blocked"), "{err}");
    let (vars, err) = hook(&sb, None, &b);
    assert!(loaded(&vars), "denying proj-a blocked proj-b: {err}");
}

#[test]
fn mfaenv_data_dir_holds_the_trust_store() {
    let Some((_moto, sb)) = sandbox(false) else {
        return;
    };
    let proj = sb.home().join("proj");
    project(&proj);
    let store = sb.home().join("trust-store");
    let env = [("MFAENV_DATA_DIR", s(&store))];
    let out = mfaenv(&sb, None, &proj, &["allow"], &env);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(std::fs::read_dir(store.join("allow")).unwrap().count(), 1);
    assert!(
        !sb.home().join(".local/share/mfaenv").exists(),
        "the default store was used"
    );
    let (_, err) = hook_with(&sb, None, &proj, &env);
    assert!(
        err.contains("prod needs an MFA code"),
        "allowed there: {err}"
    );
    // Empty means unset: the default store, which allowed nothing.
    let (_, err) = hook_with(&sb, None, &proj, &[("MFAENV_DATA_DIR", "")]);
    assert!(err.contains("not allowed yet"), "{err}");
}

// ---------------------------------------------------------------------------
// Nothing on the hook path blocks or fills memory
// ---------------------------------------------------------------------------

#[test]
fn a_fifo_or_device_mfaenv_never_blocks_the_prompt() {
    let Some((_moto, sb)) = sandbox(false) else {
        return;
    };
    let proj = sb.home().join("proj");
    std::fs::create_dir_all(proj.join("sub")).unwrap();
    mkfifo(&proj.join(".mfaenv"));
    let (vars, err) = hook(&sb, None, &proj.join("sub"));
    assert!(
        err.contains("not a regular file (a FIFO): not loaded"),
        "{err}"
    );
    let hint = vars
        .iter()
        .find(|(k, _)| k == "MFAENV_HINT")
        .expect("hint state")
        .1
        .clone();
    let (_, err) = hook_with(&sb, None, &proj, &[("MFAENV_HINT", &hint)]);
    assert!(err.is_empty(), "one hint per file: {err}");

    // A link to /dev/zero: refused before a byte is read. (The address
    // space limit turns the old read-until-out-of-memory into a failure.)
    let zero = sb.home().join("zero");
    std::fs::create_dir(&zero).unwrap();
    std::os::unix::fs::symlink("/dev/zero", zero.join(".mfaenv")).unwrap();
    let mut cmd = sb.mfaenv(&["hook-env", "--shell", "bash"]);
    cmd.current_dir(&zero).env("PWD", &zero);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    support::cap_memory(&mut cmd, 1 << 30);
    let out = output_within(cmd.spawn().unwrap(), LIMIT, "hook-env with /dev/zero");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("not a regular file (a character device)"),
        "{}",
        stderr_of(&out)
    );

    // A huge sparse file: refused by its size.
    let big = sb.home().join("big");
    std::fs::create_dir(&big).unwrap();
    std::fs::File::create(big.join(".mfaenv"))
        .unwrap()
        .set_len(200 << 20)
        .unwrap();
    let (_, err) = hook(&sb, None, &big);
    assert!(err.contains("larger than 64 KiB"), "{err}");
}

#[test]
fn a_fifo_aws_config_never_blocks_the_prompt() {
    let Some((_moto, sb)) = sandbox(false) else {
        return;
    };
    let proj = sb.home().join("proj");
    project(&proj);
    sb.ok(&["allow", s(&proj)]);
    std::fs::remove_file(sb.config()).unwrap();
    mkfifo(&sb.config());
    let (vars, err) = hook(&sb, None, &proj);
    assert!(!loaded(&vars));
    assert!(
        err.contains("cannot load prod") && err.contains("not a regular file (a FIFO)"),
        "{err}"
    );
}

#[test]
fn a_fifo_cache_file_never_blocks_export_or_status() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "base"]);
    let entries: Vec<PathBuf> = sb.session_files();
    assert_eq!(entries.len(), 1, "{entries:?}");
    std::fs::remove_file(&entries[0]).unwrap();
    mkfifo(&entries[0]);
    let home = sb.home().to_path_buf();
    let out = mfaenv(
        &sb,
        None,
        &home,
        &["export", "--shell", "bash", "-t", "123456", "base"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("export AWS_SESSION_TOKEN="), "{stdout}");
    assert!(
        stderr_of(&out).contains("not a regular file"),
        "{}",
        stderr_of(&out)
    );
    // `export` replaced it; plant it again for `status`.
    std::fs::remove_file(&entries[0]).unwrap();
    mkfifo(&entries[0]);
    let out = mfaenv(&sb, None, &home, &["status"], &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("not a regular file"),
        "{}",
        stderr_of(&out)
    );
}

// ---------------------------------------------------------------------------
// Names shown to a person are escaped
// ---------------------------------------------------------------------------

#[test]
fn control_bytes_in_a_directory_name_are_shown_escaped() {
    let Some((_moto, sb)) = sandbox(false) else {
        return;
    };
    let name = "evil\x1b[2K\rmfaenv: loaded prod\x07\nx";
    let shown = "evil\\x1b[2K\\rmfaenv: loaded prod\\x07\\nx";
    let dir = sb.home().join(name);
    project(&dir);
    let raw =
        |text: &str| text.bytes().any(|b| b < 0x20 && b != b'\n') || text.lines().count() != 1;
    let (_, err) = hook(&sb, None, &dir);
    assert!(!raw(&err), "raw control bytes: {err:?}");
    assert!(
        err.contains(&format!("{shown}/.mfaenv is not allowed yet")),
        "{err:?}"
    );
    for args in [["allow"], ["deny"]] {
        let out = mfaenv(&sb, None, &dir, &args, &[]);
        let err = stderr_of(&out);
        assert!(out.status.success() && !raw(&err), "{args:?}: {err:?}");
        assert!(err.contains(shown), "{args:?}: {err:?}");
    }
    let (_, err) = hook(&sb, None, &dir);
    assert!(
        !raw(&err) && err.contains(&format!("{shown}/.mfaenv is blocked")),
        "{err:?}"
    );
    // An error names the directory too.
    let empty = sb.home().join("e\x1b]0;title\x07");
    std::fs::create_dir(&empty).unwrap();
    let out = mfaenv(&sb, None, &empty, &["allow"], &[]);
    let err = stderr_of(&out);
    assert!(!out.status.success() && !raw(&err), "{err:?}");
    assert!(err.contains("e\\x1b]0;title\\x07 or above"), "{err:?}");
    // And `status` shows the active profile escaped.
    let home = sb.home().to_path_buf();
    let out = mfaenv(
        &sb,
        None,
        &home,
        &["status"],
        &[("MFAENV_PROFILE", "p\x1b[31mq")],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("active in this shell: p\\x1b[31mq") && !text.contains('\x1b'),
        "{text:?}"
    );
}

// ---------------------------------------------------------------------------
// forget: temporary files, read-only caches, held locks
// ---------------------------------------------------------------------------

/// Creates `path` (0600) as a temporary file a killed run left `age` ago.
fn leftover(path: &Path, age: Duration) {
    std::fs::write(path, "{\"secret_access_key\":\"left-behind\"}").unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn stale_temp_files_are_cleaned_on_the_next_write_and_on_forget() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "base"]);
    let old = Duration::from_secs(120);
    let cache_tmp = sb.cache_dir().join(".tmp-Ab12Cd");
    let aws_tmp = sb.home().join(".aws/.mfaenv-Xy34Zw");
    let fresh = sb.cache_dir().join(".tmp-Fresh1");
    let not_ours = sb.home().join(".aws/.mfaenv-notes");
    let plant = || {
        leftover(&cache_tmp, old);
        leftover(&aws_tmp, old);
    };
    plant();
    leftover(&fresh, Duration::ZERO);
    leftover(&not_ours, old);
    sb.ok(&["forget", "--all"]);
    assert!(
        !cache_tmp.exists() && !aws_tmp.exists(),
        "forget --all left them"
    );
    assert!(fresh.exists(), "a live write's file stays");
    assert!(not_ours.exists(), "a name tempfile never makes stays");

    plant();
    sb.ok(&["forget", "base"]);
    assert!(
        !cache_tmp.exists() && !aws_tmp.exists(),
        "forget PROFILE left them"
    );

    plant();
    sb.ok(&["login", "-t", "123456", "base"]);
    assert!(!cache_tmp.exists(), "the next cache write left it");
    sb.ok(&["write", "base"]);
    assert!(
        !aws_tmp.exists(),
        "the next write of the credentials file left it"
    );
    assert!(not_ours.exists());
}

#[test]
fn forget_on_a_read_only_cache_fails_and_says_why() {
    let Some((user, _)) = users::two() else {
        return;
    };
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "base"]);
    user.own(sb.home());
    std::fs::set_permissions(sb.cache_dir(), std::fs::Permissions::from_mode(0o500)).unwrap();
    let home = sb.home().to_path_buf();
    for args in [&["forget", "--all"][..], &["forget", "base"]] {
        let out = mfaenv(&sb, Some(user), &home, args, &[]);
        let err = stderr_of(&out);
        assert!(!out.status.success(), "{args:?} succeeded: {err}");
        assert!(
            err.contains("cannot delete") && err.contains("Permission denied"),
            "{err}"
        );
        assert!(err.contains("forgot 0 cached sessions"), "{err}");
    }
    assert_eq!(sb.session_files().len(), 1, "the session is still there");
}

#[test]
fn forget_during_a_login_leaves_its_lock_so_one_code_is_spent() {
    let fake = FakeSts::start();
    let slow = Reply::Delay(
        Duration::from_secs(2),
        Box::new(Reply::SessionToken(Creds::new())),
    );
    fake.on("GetSessionToken", vec![slow]);
    let sb = Sandbox::new(&fake.endpoint());
    // One attempt each: the delay is well within the timeout.
    let login = |code: &str| {
        let mut cmd = sb.mfaenv(&["login", "-t", code, "base"]);
        cmd.env("MFAENV_STS_TIMEOUT", "15").stderr(Stdio::piped());
        cmd
    };
    let first = login("123456").spawn().unwrap();
    // Wait until the first login holds its lock and is talking to STS.
    let start = std::time::Instant::now();
    while fake.count("GetSessionToken") == 0 {
        assert!(start.elapsed() < LIMIT, "the first login never called STS");
        std::thread::sleep(Duration::from_millis(20));
    }
    let forget = sb.run(&["forget", "--all"]);
    let second = login("654321").output().unwrap();
    let first = output_within(first, LIMIT, "the first login");
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert!(second.status.success(), "{}", stderr_of(&second));
    assert_eq!(fake.count("GetSessionToken"), 1, "a second code was spent");
    assert!(
        stderr_of(&second).contains("waiting for another mfaenv"),
        "{}",
        stderr_of(&second)
    );
    assert!(forget.status.success(), "{}", stderr_of(&forget));
    assert!(
        stderr_of(&forget).contains("another mfaenv is refreshing"),
        "{}",
        stderr_of(&forget)
    );
}

#[test]
fn a_shell_without_a_hook_is_named_in_the_refusal() {
    let sb = Sandbox::new(NOWHERE);
    let out = sb.run(&["hook", "json"]);
    // A usage mistake, refused by clap before anything runs.
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("invalid value 'json'") && err.contains("bash, zsh, fish, pwsh"),
        "{err}"
    );
}

/// Every dotenv line is `NAME=value` with exactly the value JSON gives, plain
/// values bare (the STS values are all plain).
#[test]
fn dotenv_values_are_exact_and_plain_ones_bare() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    let json = sb.ok(&["export", "--shell", "json", "-t", "123456", "prod"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let dotenv = sb.ok(&["export", "--shell", "dotenv", "prod"]);
    let mut names = Vec::new();
    for line in dotenv.lines() {
        let (name, value) = line.split_once('=').expect("NAME=value");
        // mfaenv's own state has spaces: quoted, and read back by escaping.rs.
        if name.starts_with("AWS_") {
            assert_eq!(json[name].as_str(), Some(value), "{line}");
        }
        names.push(name);
    }
    names.sort_unstable();
    let mut want: Vec<&str> = json
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.is_string())
        .map(|(k, _)| k.as_str())
        // dotenv carries no shell state (MFAENV_PRIOR, MFAENV_SET…): no
        // `mfaenv unset` reads a dotenv file.
        .filter(|k| !k.starts_with("MFAENV_") || *k == "MFAENV_PROFILE")
        .collect();
    want.sort_unstable();
    assert_eq!(names, want, "{dotenv}");
    assert!(names.contains(&"MFAENV_PROFILE"), "{dotenv}");
    assert!(names.contains(&"AWS_SESSION_TOKEN") && names.contains(&"AWS_REGION"));
}
