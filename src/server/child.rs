//! The command under `exec --server`: mfaenv stays its parent, so it must
//! behave like the command for whoever started it, and must not leave it
//! behind. Signals sent to mfaenv by a process (`kill`, a supervisor, a CI
//! runner) go on to the command. The command runs in a process group of its
//! own (so that the whole group can be ended with mfaenv: [`super::watchdog`]);
//! when mfaenv's group has the terminal, the command's group gets it, as a
//! shell gives it to a job, so the terminal's signals (Ctrl-C, Ctrl-\, a
//! resize) reach the command directly and are not sent twice — mfaenv keeps
//! serving (Terraform's graceful stop after a first Ctrl-C still needs
//! credentials). Ctrl-Z stops the command, then mfaenv, so the shell takes
//! the terminal back; `fg` gives it to the command again. On Linux the
//! command also dies with mfaenv (`PR_SET_PDEATHSIG`). The exit status is
//! the command's; 128+N when a signal ended it.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::{Context, Result};

/// The child's pid while it runs and is not reaped; 0 otherwise.
static CHILD: AtomicI32 = AtomicI32::new(0);

/// The controlling terminal (`/dev/tty`), or -1: for the signal handler.
static TERMINAL: AtomicI32 = AtomicI32::new(-1);

const FORWARDED: [libc::c_int; 5] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGWINCH,
];

/// Runs `cmd` to its end; its exit status as ours.
pub fn run(mut cmd: Command, program: &OsStr) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let terminal = open_terminal();
    let tty = terminal.as_ref().map_or(-1, |t| t.as_raw_fd());
    // SAFETY: getpgrp/tcgetpgrp have no memory preconditions.
    let foreground = tty >= 0 && unsafe { libc::tcgetpgrp(tty) == libc::getpgrp() };
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: only async-signal-safe calls (setpgid, tcsetpgrp, prctl,
    // getppid, getrlimit/setrlimit, pthread_sigmask) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            own_group(if foreground { tty } else { -1 })?;
            die_with(parent)?;
            crate::harden::restore_for_exec();
            // The fork inherited the mask of `block`: the command's signals are its own.
            mask(libc::SIG_UNBLOCK);
            Ok(())
        });
    }
    install()?;
    // Before the command, so that no moment of its life goes unwatched.
    // SAFETY: getpgrp has no preconditions.
    let watchdog = super::watchdog::Watchdog::start(tty, unsafe { libc::getpgrp() });
    let spawned = cmd.spawn();
    if let Ok(child) = &spawned {
        let pid = i32::try_from(child.id()).unwrap_or(0);
        CHILD.store(pid, Ordering::SeqCst);
        TERMINAL.store(tty, Ordering::SeqCst);
        let guarded = match &watchdog {
            Ok(watchdog) => watchdog.guard(pid).map_err(|e| e.to_string()),
            Err(err) => Err(err.to_string()),
        };
        if let Err(err) = guarded {
            crate::ui::warning(format_args!(
                "credential server: no watchdog ({err}): what the command leaves running may outlive mfaenv"
            ));
        }
    }
    // What came while the pid was not known yet is delivered now.
    mask(libc::SIG_UNBLOCK);
    let mut child =
        spawned.with_context(|| format!("cannot run `{}`", program.to_string_lossy()))?;
    let pid = CHILD.load(Ordering::SeqCst);
    let waited = wait_exited(pid, terminal.as_ref());
    // No signal may go to a pid that, once reaped, another process may get.
    CHILD.store(0, Ordering::SeqCst);
    if let Some(terminal) = &terminal {
        take_back(terminal, pid);
    }
    waited.with_context(|| format!("waiting for `{}`", program.to_string_lossy()))?;
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{}`", program.to_string_lossy()))?;
    Ok(exit_code(status))
}

/// The controlling terminal, if there is one (close-on-exec, as std opens).
fn open_terminal() -> Option<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open("/dev/tty")
        .ok()
        .map(OwnedFd::from)
}

/// In the child before exec: a process group of its own, given the terminal
/// (`tty` >= 0) when mfaenv's group had it.
fn own_group(tty: libc::c_int) -> std::io::Result<()> {
    // SAFETY: setpgid/getpid on ourselves; tcsetpgrp on a descriptor we hold.
    unsafe {
        if libc::setpgid(0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if tty >= 0 {
            with_ttou_blocked(|| {
                libc::tcsetpgrp(tty, libc::getpid());
            });
        }
    }
    Ok(())
}

/// In the child before exec (Linux): killed when mfaenv dies. mfaenv may
/// have died already, before this was set: then the parent is no longer
/// `parent`, and the command is not run. (The signal follows the thread
/// that forked: the main thread, which lives as long as mfaenv.)
fn die_with(parent: libc::pid_t) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: prctl with integer arguments; getppid has no preconditions.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::getppid() != parent {
            return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = parent;
    Ok(())
}

/// Runs `f` with SIGTTOU blocked: a process not in the terminal's
/// foreground group may then still give the terminal away.
fn with_ttou_blocked(f: impl FnOnce()) {
    // SAFETY: signal sets we own, filled by sigemptyset/sigaddset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// Gives the terminal back to mfaenv's group if the command's group has it.
fn take_back(terminal: &OwnedFd, group: libc::pid_t) {
    let tty = terminal.as_raw_fd();
    // SAFETY: tcgetpgrp/tcsetpgrp on a descriptor we hold.
    unsafe {
        if libc::tcgetpgrp(tty) == group {
            with_ttou_blocked(|| {
                libc::tcsetpgrp(tty, libc::getpgrp());
            });
        }
    }
}

/// The command stopped (Ctrl-Z, or it read the terminal without having
/// it). Unless mfaenv's group has the terminal, mfaenv stops too (taking
/// the terminal back from the command first), so the shell sees the job
/// stopped; once it runs again with the terminal, the command gets it. Then
/// the command goes on. With no terminal, whoever stopped it continues it.
fn stopped(pid: libc::pid_t, terminal: Option<&OwnedFd>) {
    let Some(terminal) = terminal else { return };
    let tty = terminal.as_raw_fd();
    // SAFETY: terminal calls on a descriptor we hold; raise and kill.
    unsafe {
        if libc::tcgetpgrp(tty) != libc::getpgrp() {
            take_back(terminal, pid);
            libc::raise(libc::SIGTSTP);
        }
        if libc::tcgetpgrp(tty) == libc::getpgrp() {
            with_ttou_blocked(|| {
                libc::tcsetpgrp(tty, pid);
            });
        }
        libc::kill(-pid, libc::SIGCONT);
    }
}

/// Holds every signal back from this thread and every thread it starts
/// from now on, until [`run`] knows the child's pid (the child may run, and
/// be signalled, before `spawn` returns) and the watchdog knows its group:
/// a signal that ends mfaenv then (`SIGUSR1`, say) cannot leave the command
/// unwatched. Then only the main thread takes signals. The child starts
/// with an empty mask.
pub fn block() {
    mask(libc::SIG_BLOCK);
}

fn mask(how: libc::c_int) {
    // SAFETY: a signal set we own, filled by sigfillset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Waits until `pid` has exited, leaving it unreaped (`WNOWAIT`); a stop
/// on the way is dealt with ([`stopped`]).
fn wait_exited(pid: i32, terminal: Option<&OwnedFd>) -> std::io::Result<()> {
    loop {
        // SAFETY: waitid writes only into `info`, which we own.
        let (rc, code) = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let rc = libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WSTOPPED | libc::WNOWAIT,
            );
            (rc, info.si_code)
        };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err);
            }
            continue;
        }
        if code != libc::CLD_STOPPED && code != libc::CLD_TRAPPED {
            return Ok(());
        }
        // SAFETY: as above; this time the stop is taken, not left.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WSTOPPED | libc::WNOHANG,
            );
        }
        stopped(pid, terminal);
    }
}

fn install() -> Result<()> {
    for signal in FORWARDED {
        // SAFETY: a zeroed sigaction with our handler and flags; the
        // handler only calls async-signal-safe functions.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot handle signal {signal}"));
        }
    }
    Ok(())
}

/// The handler: a signal from a process goes to the child; one from the
/// terminal (the kernel's, `SI_KERNEL`) too, unless the child's group has
/// the terminal (then it reached the child already: a hangup). With no
/// child (not started yet, or ended, or this is the child before its exec)
/// the signal does what it would have done without the handler.
extern "C" fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let pid = CHILD.load(Ordering::SeqCst);
    let tty = TERMINAL.load(Ordering::SeqCst);
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let from_terminal = !info.is_null() && unsafe { (*info).si_code } == libc::SI_KERNEL;
    // SAFETY: kill, signal, raise and tcgetpgrp are async-signal-safe.
    unsafe {
        if pid > 0 && pid != libc::getpid() {
            let reached = from_terminal && tty >= 0 && libc::tcgetpgrp(tty) == pid;
            if !reached {
                libc::kill(pid, signal);
            }
        } else {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    /// The race: mfaenv died before the command could ask to die with it.
    /// Then the command's parent is no longer mfaenv, and it is not run.
    #[test]
    fn a_command_whose_parent_is_gone_is_not_run() {
        // SAFETY: getpid has no preconditions.
        let us = unsafe { libc::getpid() };
        let mut cmd = Command::new("true");
        // SAFETY: die_with calls only prctl and getppid.
        unsafe { cmd.pre_exec(move || die_with(us + 1)) };
        let err = cmd.spawn().expect_err("ran under another parent");
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH), "{err}");
        let mut cmd = Command::new("true");
        // SAFETY: as above.
        unsafe { cmd.pre_exec(move || die_with(us)) };
        assert!(cmd.status().unwrap().success());
    }
}
