//! The command under `exec --server`: mfaenv stays its parent, so it must
//! behave like the command for whoever started it. Signals sent to mfaenv
//! by a process (`kill`, a supervisor, a CI runner) go on to the command;
//! those the terminal sends (Ctrl-C, Ctrl-\, a resize, a hangup) reach the
//! command directly, as it is in mfaenv's process group, so they are not
//! sent twice — mfaenv itself ignores them and keeps serving (Terraform's
//! graceful stop after a first Ctrl-C still needs credentials). The exit
//! status is the command's; 128+N when a signal ended it.

use std::ffi::OsStr;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::{Context, Result};

/// The child's pid while it runs and is not reaped; 0 otherwise.
static CHILD: AtomicI32 = AtomicI32::new(0);

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
    // SAFETY: only getrlimit/setrlimit, an atomic read and pthread_sigmask
    // between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            crate::harden::restore_for_exec();
            // The fork inherited the mask of `block`: the command's signals are its own.
            mask(libc::SIG_UNBLOCK);
            Ok(())
        });
    }
    install()?;
    let spawned = cmd.spawn();
    if let Ok(child) = &spawned {
        CHILD.store(i32::try_from(child.id()).unwrap_or(0), Ordering::SeqCst);
    }
    // What came while the pid was not known yet is delivered now.
    mask(libc::SIG_UNBLOCK);
    let mut child =
        spawned.with_context(|| format!("cannot run `{}`", program.to_string_lossy()))?;
    let pid = CHILD.load(Ordering::SeqCst);
    let waited = wait_exited(pid);
    // No signal may go to a pid that, once reaped, another process may get.
    CHILD.store(0, Ordering::SeqCst);
    waited.with_context(|| format!("waiting for `{}`", program.to_string_lossy()))?;
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{}`", program.to_string_lossy()))?;
    Ok(exit_code(status))
}

/// Holds the forwarded signals back from this thread and every thread it
/// starts from now on, until [`run`] knows the child's pid (the child may
/// run, and be signalled, before `spawn` returns). Then only the main
/// thread takes them. The child starts with an empty mask (std resets it).
pub fn block() {
    mask(libc::SIG_BLOCK);
}

fn mask(how: libc::c_int) {
    // SAFETY: a signal set we own, filled by sigemptyset/sigaddset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in FORWARDED {
            libc::sigaddset(&mut set, signal);
        }
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

/// Waits until `pid` has exited, leaving it unreaped (`WNOWAIT`).
fn wait_exited(pid: i32) -> std::io::Result<()> {
    loop {
        // SAFETY: waitid writes only into `info`, which we own.
        let rc = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
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
/// terminal (the kernel's, `SI_KERNEL`) reached the child already. With no
/// child (not started yet, or ended, or this is the child before its exec)
/// the signal does what it would have done without the handler.
extern "C" fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let pid = CHILD.load(Ordering::SeqCst);
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let from_terminal = !info.is_null() && unsafe { (*info).si_code } == libc::SI_KERNEL;
    // SAFETY: kill, signal and raise are async-signal-safe.
    unsafe {
        if pid > 0 && pid != libc::getpid() {
            if !from_terminal {
                libc::kill(pid, signal);
            }
        } else {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}
