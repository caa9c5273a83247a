//! Nothing the command started outlives mfaenv, however mfaenv ends — a
//! `kill -9` included. Once mfaenv is gone its port is free: another local
//! user could listen there, and a process still holding the token would
//! hand it over and take the credentials they choose.
//!
//! The command runs in a process group of its own. A small watchdog process,
//! forked from mfaenv, in a group of its own too (a signal to mfaenv's group
//! or the command's spares it), holds the read end of a pipe whose only
//! write end is mfaenv's. When mfaenv exits, by any signal or none, the
//! kernel closes that end; the watchdog reads end-of-file, sends `SIGTERM`
//! (and `SIGCONT`, for stopped ones) to the command's group, and `SIGKILL`
//! to what is left of it after [`GRACE`]. The command itself also has
//! Linux's parent-death signal ([`super::child`]), for the moment before the
//! watchdog runs. What leaves the group (`setsid`, a daemon) escapes both.

use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

/// How long the command's group has, after `SIGTERM`, to end by itself.
pub const GRACE: Duration = Duration::from_secs(1);

/// Starts the watchdog for the process group `group`. The returned write
/// end must stay open until mfaenv exits (dropping it ends the group).
pub fn start(group: libc::pid_t) -> std::io::Result<OwnedFd> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe writes two descriptors into the array we pass; both are
    // close-on-exec, so no command mfaenv runs holds the write end.
    if unsafe { pipe_cloexec(&mut fds) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fork in a process with threads: the child calls only
    // async-signal-safe functions (no allocation, no locks) until `_exit`.
    match unsafe { libc::fork() } {
        -1 => {
            let err = std::io::Error::last_os_error();
            // SAFETY: the descriptors pipe gave us, closed once.
            unsafe {
                libc::close(fds[0]);
                libc::close(fds[1]);
            }
            Err(err)
        }
        0 => {
            // SAFETY: in the forked child: its own copies of the descriptors.
            unsafe {
                libc::close(fds[1]);
                watch(fds[0], group)
            }
        }
        _ => {
            // SAFETY: the read end is the watchdog's now; the write end is
            // owned from here on.
            unsafe {
                libc::close(fds[0]);
                Ok(OwnedFd::from_raw_fd(fds[1]))
            }
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn pipe_cloexec(fds: &mut [libc::c_int; 2]) -> libc::c_int {
    libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
unsafe fn pipe_cloexec(fds: &mut [libc::c_int; 2]) -> libc::c_int {
    if libc::pipe(fds.as_mut_ptr()) != 0 {
        return -1;
    }
    for fd in *fds {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    0
}

/// The watchdog: async-signal-safe calls only.
unsafe fn watch(read_end: libc::c_int, group: libc::pid_t) -> ! {
    libc::setpgid(0, 0);
    for signal in [
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGTSTP,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGPIPE,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
    ] {
        libc::signal(signal, libc::SIG_IGN);
    }
    let mut set: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut set);
    libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    // Not the listening socket, not the terminal, not a pipe someone waits on.
    close_all_but(read_end);
    let mut byte = 0u8;
    loop {
        let n = libc::read(read_end, (&mut byte as *mut u8).cast(), 1);
        // (Reading errno allocates nothing.)
        let interrupted = std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR);
        if n == 0 || (n < 0 && !interrupted) {
            break;
        }
    }
    libc::kill(-group, libc::SIGTERM);
    libc::kill(-group, libc::SIGCONT);
    let step = libc::timespec {
        tv_sec: 0,
        tv_nsec: 50_000_000,
    };
    let steps = GRACE.as_millis() / 50;
    for _ in 0..steps {
        if libc::kill(-group, 0) != 0 {
            libc::_exit(0); // the group is empty
        }
        libc::nanosleep(&step, std::ptr::null_mut());
    }
    libc::kill(-group, libc::SIGKILL);
    libc::_exit(0)
}

unsafe fn close_all_but(keep: libc::c_int) {
    #[cfg(target_os = "linux")]
    {
        let below = if keep > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, (keep - 1) as u32, 0u32)
        } else {
            0
        };
        let above = libc::syscall(libc::SYS_close_range, (keep + 1) as u32, u32::MAX, 0u32);
        if below == 0 && above == 0 {
            return;
        }
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let top = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
        limit.rlim_cur.min(1 << 16) as libc::c_int
    } else {
        1024
    };
    for fd in 0..top {
        if fd != keep {
            libc::close(fd);
        }
    }
}
