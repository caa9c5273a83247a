//! Keeps secrets out of core dumps: a SIGQUIT (Ctrl-\) at the MFA prompt, or
//! a crash, under `ulimit -c unlimited` would otherwise write the long-term
//! key mfaenv read from `~/.aws/credentials` into a file.
//!
//! [`protect`] runs once, before the first file that holds a secret is read
//! (the credentials file, the cache): on Linux `PR_SET_DUMPABLE=0`, which
//! also stops other processes of the same user reading our memory through
//! `/proc/PID/mem` or ptrace; on every Unix a soft `RLIMIT_CORE` of 0. Both
//! together, because a kernel with `fs.suid_dumpable=2` still dumps a
//! non-dumpable process (to root), and a piped `core_pattern` ignores the
//! limit. The cost is three system calls (measured in docs/troubleshooting.md, Failure
//! behaviour). Windows has no equivalent a process can set on itself
//! (Windows Error Reporting is configured machine-wide); nothing is done there.

#[cfg(unix)]
use std::sync::OnceLock;

/// The soft core-size limit the process started with: what a command
/// `mfaenv exec` runs gets back.
#[cfg(unix)]
static STARTED_WITH: OnceLock<Option<libc::rlim_t>> = OnceLock::new();

/// Makes this process non-dumpable and its core limit 0; idempotent.
pub fn protect() {
    #[cfg(unix)]
    STARTED_WITH.get_or_init(|| {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: prctl with PR_SET_DUMPABLE takes integer arguments only.
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit read and write the struct we pass.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) != 0 {
                return None;
            }
            let before = limit.rlim_cur;
            // The hard limit stays, so the soft one can be given back to `exec`'s command.
            limit.rlim_cur = 0;
            if libc::setrlimit(libc::RLIMIT_CORE, &limit) != 0 {
                return None;
            }
            Some(before)
        }
    });
}

/// Gives a command that is about to replace this process (`exec`) the core
/// limit the user had. Its own dumpable flag is reset by the kernel at exec.
pub fn restore_for_exec() {
    #[cfg(unix)]
    if let Some(Some(before)) = STARTED_WITH.get() {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as in `protect`.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
                limit.rlim_cur = *before;
                libc::setrlimit(libc::RLIMIT_CORE, &limit);
            }
        }
    }
}
