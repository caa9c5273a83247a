//! No core dump while mfaenv holds a secret: at the MFA prompt (the long-term
//! key is in memory, the user may press Ctrl-\) the process is non-dumpable
//! and its core limit is 0, though it started under `ulimit -c unlimited`.
//! The machine's `core_pattern` is not ours to change, so the test reads
//! what the kernel shows of the waiting process instead of dumping it.
#![cfg(target_os = "linux")]

mod support;

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

use support::moto::Moto;
use support::sandbox::Sandbox;

/// Who runs mfaenv: under root the test drops to `nobody`, since for a
/// process of root's the kernel shows root as the owner of /proc/PID either way.
const NOBODY: u32 = 65534;

fn run_as() -> Option<u32> {
    // SAFETY: geteuid has no preconditions.
    (unsafe { libc::geteuid() } == 0).then_some(NOBODY)
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown");
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).expect("read_dir") {
            chown_tree(&entry.expect("entry").path(), uid);
        }
    }
}

/// The soft and hard "Max core file size" of /proc/PID/limits.
fn core_limits(pid: i32) -> (String, String) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let line = text
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("core line");
    let mut fields = line["Max core file size".len()..].split_whitespace();
    (
        fields.next().unwrap_or_default().to_string(),
        fields.next().unwrap_or_default().to_string(),
    )
}

/// Raises the soft core limit to the hard one (`ulimit -c unlimited` where allowed).
fn unlimited_core(cmd: &mut std::process::Command) {
    // SAFETY: getrlimit/setrlimit are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_CORE, &mut limit);
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
            Ok(())
        });
    }
}

fn become_user(cmd: &mut std::process::Command, uid: u32) {
    // SAFETY: setgroups/setgid/setuid are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(uid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn not_dumpable_and_no_core_at_the_mfa_prompt() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let sb = Sandbox::new(&moto.endpoint());
    let user = run_as();
    if let Some(uid) = user {
        chown_tree(sb.home(), uid);
    }
    let mut p = sb.in_pty(&["export", "--shell", "bash", "prod"], |cmd| {
        unlimited_core(cmd);
        if let Some(uid) = user {
            become_user(cmd, uid);
        }
    });
    p.exp_string("MFA code for").unwrap();
    // Waiting at the prompt, after the credentials file was read.
    let pid = p.process.child_pid.as_raw();
    let (soft, hard) = core_limits(pid);
    assert_ne!(hard, "0", "the test needs a hard core limit above 0");
    assert_eq!(soft, "0", "core limit at the prompt (started with {hard})");
    // A non-dumpable process's /proc/PID files (not the directory) belong
    // to root, not to its user: the kernel's task_dump_owner.
    let owner = std::fs::metadata(format!("/proc/{pid}/environ"))
        .expect("proc")
        .uid();
    let runs_as = user.unwrap_or_else(|| unsafe { libc::geteuid() });
    assert_ne!(runs_as, 0);
    assert_eq!(
        owner, 0,
        "/proc/{pid}/environ of a process of uid {runs_as}"
    );
    p.send_line("123456").unwrap();
    p.exp_string("export AWS_ACCESS_KEY_ID=").unwrap();
}

#[test]
fn exec_gives_the_command_its_core_limit_back() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let sb = Sandbox::new(&moto.endpoint());
    let mut cmd = sb.mfaenv(&[
        "exec",
        "-t",
        "123456",
        "prod",
        "--",
        "sh",
        "-c",
        "ulimit -c; ulimit -H -c",
    ]);
    unlimited_core(&mut cmd);
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(
        lines[0], lines[1],
        "soft limit back at the hard one: {text}"
    );
    assert_ne!(lines[0], "0", "{text}");
}
