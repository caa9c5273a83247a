//! Two real local users, `mfaenv-test-a` and `mfaenv-test-b`, for what
//! another user can do (plant a symlink, own a file, be kept out of a
//! read-only directory). Created once with `useradd` when the suite runs as
//! root (as under CI); commands run as them with a uid/gid set before exec.
//! Not root: the tests fail, or skip under [`super::may_skip`].

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
}

impl User {
    /// `cmd` runs as this user (no supplementary groups: std drops them
    /// when root sets a uid).
    pub fn command<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.uid(self.uid).gid(self.gid)
    }

    /// Gives `path` and everything below it to this user.
    pub fn own(&self, path: &Path) {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        if std::fs::symlink_metadata(path).unwrap().is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                self.own(&entry.unwrap().path());
            }
        }
    }

    /// Runs `sh -c script` as this user; panics unless it succeeds.
    pub fn sh(&self, script: &str) {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script])
            .env_clear()
            .env("PATH", "/usr/bin:/bin");
        let out = self.command(&mut cmd).output().expect("run sh");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub const NAMES: [&str; 2] = ["mfaenv-test-a", "mfaenv-test-b"];

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn lookup(name: &str) -> Option<User> {
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: a valid C string; the result is read at once, before any other
    // getpw* call of this process (callers hold `LOCK`).
    let pw = unsafe { libc::getpwnam(cname.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    // SAFETY: non-null, so it points at a passwd record.
    let pw = unsafe { &*pw };
    Some(User {
        uid: pw.pw_uid,
        gid: pw.pw_gid,
    })
}

static LOCK: Mutex<()> = Mutex::new(());

/// `name`, created when missing (a system user without home or login).
fn ensure(name: &str) -> User {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..20 {
        if let Some(user) = lookup(name) {
            return user;
        }
        // Another test binary may hold /etc/passwd's lock: look again, retry.
        let _ = Command::new("useradd")
            .args(["--system", "--no-create-home", "--user-group"])
            .args(["--shell", "/usr/sbin/nologin", name])
            .output();
        std::thread::sleep(Duration::from_millis(100));
    }
    lookup(name).unwrap_or_else(|| panic!("cannot create the test user {name} with useradd"))
}

/// Users a and b, or `None` when not root and skipping is allowed.
pub fn two() -> Option<(User, User)> {
    if !is_root() {
        if super::may_skip() {
            eprintln!("SKIP: creating test users needs root");
            return None;
        }
        panic!("this test creates the users {NAMES:?}: run it as root (CI does), or set MFAENV_TEST_ALLOW_SKIP=1");
    }
    Some((ensure(NAMES[0]), ensure(NAMES[1])))
}

/// Waits for `child` for at most `limit`; kills it and panics after that:
/// the hang a test is about becomes a failure, not a stuck suite.
pub fn output_within(child: Child, limit: Duration, what: &str) -> Output {
    let pid = child.id();
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: kill has no memory preconditions; pid is our child.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!(
                "{what} still running after {:?}: it blocked",
                start.elapsed()
            );
        }
    }
}
