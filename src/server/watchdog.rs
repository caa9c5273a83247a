//! Nothing the command started outlives mfaenv, however mfaenv ends — a
//! `kill -9` included. Once mfaenv is gone its port is free: another local
//! user could listen there, and a process still holding the token would
//! hand it over and take the credentials they choose.
//!
//! The command runs in a process group of its own. A small watchdog process,
//! forked from mfaenv just before the command starts, in a group of its own
//! too (a signal to mfaenv's group or the command's spares it), holds the
//! read end of a pipe whose only write end is mfaenv's. mfaenv writes the
//! command's group into it once the command runs (every signal mfaenv could
//! die of is held back until then); when mfaenv exits, by any signal or
//! none, the kernel closes its end, the watchdog reads end-of-file, sends
//! `SIGTERM` (and `SIGCONT`, for stopped ones) to the command's group, and
//! `SIGKILL` to what is left of it after [`GRACE`]. The command itself also
//! has Linux's parent-death signal ([`super::child`]): for a `kill -9` in
//! the moment between its start and the watchdog's learning its group.
//! What leaves the group (`setsid`, a daemon) escapes both.

use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

/// How long the command's group has, after `SIGTERM`, to end by itself.
pub const GRACE: Duration = Duration::from_secs(1);

/// The watchdog, started before the command: it is told the command's
/// group once the command runs ([`Watchdog::guard`]), and ends that group
/// when mfaenv exits. Dropping this ends the group too.
pub struct Watchdog {
    write_end: OwnedFd,
}

impl Watchdog {
    /// Forks the watchdog. `tty` (or -1): the terminal, given back to
    /// mfaenv's group `home` if the command's group still has it when
    /// mfaenv is gone (a script that ran mfaenv reads it next).
    pub fn start(tty: libc::c_int, home: libc::pid_t) -> std::io::Result<Watchdog> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe writes two descriptors into the array we pass; both
        // are close-on-exec, so no command mfaenv runs holds the write end.
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
                    watch(fds[0], tty, home)
                }
            }
            _ => {
                // SAFETY: the read end is the watchdog's now; the write end
                // is owned from here on.
                unsafe {
                    libc::close(fds[0]);
                    Ok(Watchdog {
                        write_end: OwnedFd::from_raw_fd(fds[1]),
                    })
                }
            }
        }
    }

    /// The group to end when mfaenv exits.
    pub fn guard(&self, group: libc::pid_t) -> std::io::Result<()> {
        let bytes = group.to_ne_bytes();
        // SAFETY: writes the 4 bytes we pass (a pipe takes them at once).
        let n = unsafe {
            libc::write(
                std::os::fd::AsRawFd::as_raw_fd(&self.write_end),
                bytes.as_ptr().cast(),
                bytes.len(),
            )
        };
        if n == bytes.len() as isize {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
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
unsafe fn watch(read_end: libc::c_int, tty: libc::c_int, home: libc::pid_t) -> ! {
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
    // The pipe as 0, the terminal as 1 (both opened after 0-2, so above
    // them), and nothing else: not the listening socket, not a pipe someone
    // waits on.
    let read_end = keep_as(read_end, 0);
    let tty = if tty >= 0 { keep_as(tty, 1) } else { -1 };
    close_from(if tty >= 0 { 2 } else { 1 });
    let mut group = [0u8; 4];
    if read_all(read_end, &mut group) != group.len() {
        libc::_exit(0); // mfaenv ended before the command ran
    }
    let group = libc::pid_t::from_ne_bytes(group);
    let mut byte = [0u8; 1];
    // Nothing more is written: this returns when mfaenv is gone.
    read_all(read_end, &mut byte);
    // SIGTTOU is ignored: the terminal can be given from the background.
    if tty >= 0 && libc::tcgetpgrp(tty) == group {
        libc::tcsetpgrp(tty, home);
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

/// Reads into `buf` until it is full or the pipe ends; how much was read.
unsafe fn read_all(fd: libc::c_int, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        let n = libc::read(fd, buf[got..].as_mut_ptr().cast(), buf.len() - got);
        if n > 0 {
            got += n as usize;
            continue;
        }
        // (Reading errno allocates nothing.)
        let interrupted = std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR);
        if n == 0 || !interrupted {
            break;
        }
    }
    got
}

/// `fd` as `to` (for a descriptor above `to`).
unsafe fn keep_as(fd: libc::c_int, to: libc::c_int) -> libc::c_int {
    libc::dup2(fd, to);
    libc::close(fd);
    to
}

/// Closes every descriptor from `first` on.
unsafe fn close_from(first: libc::c_int) {
    #[cfg(target_os = "linux")]
    if libc::syscall(libc::SYS_close_range, first as u32, u32::MAX, 0u32) == 0 {
        return;
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
    for fd in first..top {
        libc::close(fd);
    }
}
