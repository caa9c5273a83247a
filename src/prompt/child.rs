//! A prompt program (pinentry, zenity, kdialog, osascript, PowerShell) or
//! `mfa_process`, run so that it cannot hurt: in a session and process group
//! of its own (killed whole on timeout, on Ctrl-C/SIGTERM/SIGHUP of mfaenv,
//! and when mfaenv dies on Linux), without any AWS secret or key-store
//! variable in its environment, its output read on threads with size caps.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::PromptError;

/// Variables no program mfaenv starts for a code or a passphrase may see:
/// the keys in this shell (perhaps the very session being replaced) and
/// whatever unlocks or selects the key store.
pub const SECRET_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
];

/// The longest line kept from a program's stdout; the most lines kept.
const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 64;
/// The most of its stderr kept (for an error message).
const MAX_STDERR: usize = 16 * 1024;

/// Removes [`SECRET_VARS`] and the key-store variables
/// ([`crate::settings::KEY_STORE_VARS`]) from `cmd`'s environment.
pub fn scrub(cmd: &mut Command) {
    for name in SECRET_VARS.iter().chain(&crate::settings::KEY_STORE_VARS) {
        cmd.env_remove(name);
    }
}

/// Makes `cmd` lead a new session (so a process group of its own, and no
/// controlling terminal to stop on), ended with mfaenv on Linux.
pub fn own_session(cmd: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        #[cfg(target_os = "linux")]
        // SAFETY: getpid is async-signal-safe.
        let parent = unsafe { libc::getpid() };
        // SAFETY: setsid, prctl and getppid are async-signal-safe and touch
        // no memory of ours.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                #[cfg(target_os = "linux")]
                {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    // mfaenv died before the line above: do not outlive it.
                    if libc::getppid() != parent {
                        libc::_exit(1);
                    }
                }
                Ok(())
            });
        }
    }
    #[cfg(not(unix))]
    let _ = cmd;
}

/// A running prompt program.
pub struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Zeroizing<Vec<u8>>>,
    stderr: mpsc::Receiver<Vec<u8>>,
    what: String,
    #[cfg(unix)]
    _group: super::signals::Hold,
}

impl Running {
    /// Starts `cmd` (stdin a pipe when `with_stdin`, else /dev/null).
    pub fn start(mut cmd: Command, what: &str, with_stdin: bool) -> Result<Running, PromptError> {
        scrub(&mut cmd);
        own_session(&mut cmd);
        cmd.stdin(if with_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        #[cfg(unix)]
        let group = super::signals::before_spawn();
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                PromptError::Unavailable(format!("`{what}` is not installed"))
            } else {
                PromptError::Failed(format!("cannot start `{what}`: {e}"))
            }
        })?;
        #[cfg(unix)]
        group.started(child.id() as libc::pid_t);
        let lines = read_lines(child.stdout.take());
        let stderr = read_stderr(child.stderr.take());
        Ok(Running {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            what: what.to_string(),
            #[cfg(unix)]
            _group: group,
        })
    }

    /// Writes one line to its stdin.
    pub fn send(&mut self, line: &str) -> Result<(), PromptError> {
        let what = &self.what;
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| PromptError::Failed(format!("`{what}` has no input")))?;
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|_| stdin.flush())
            .map_err(|_| PromptError::Failed(format!("`{what}` ended early{}", self.said())))
    }

    /// The next line of its stdout (without the newline); `None` when its
    /// stdout ended. `TimedOut` at `deadline`.
    pub fn line(
        &mut self,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, PromptError> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => Ok(Some(line)),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(PromptError::TimedOut(timeout)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Ok(None),
        }
    }

    /// Waits for it to exit by `deadline`.
    pub fn wait(
        &mut self,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<ExitStatus, PromptError> {
        drop(self.stdin.take());
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) => {}
                Err(e) => return Err(PromptError::Failed(format!("`{}`: {e}", self.what))),
            }
            if Instant::now() >= deadline {
                return Err(PromptError::TimedOut(timeout));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// What it said on stderr (escaped, capped), as `: …` for a message.
    pub fn said(&self) -> String {
        let mut text = Vec::new();
        while let Ok(chunk) = self.stderr.recv_timeout(Duration::from_millis(50)) {
            text.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&text);
        let text = text.trim();
        if text.is_empty() {
            return String::new();
        }
        let short: String = text.chars().take(300).collect();
        format!(": {}", crate::ui::escape(&short))
    }
}

impl Drop for Running {
    /// Kills its process group (it and whatever it started), then reaps it.
    fn drop(&mut self) {
        drop(self.stdin.take());
        #[cfg(unix)]
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill has no memory effects; -pid is the group it leads.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Its stdout as lines on a thread: each line cut at [`MAX_LINE`], at most
/// [`MAX_LINES`] passed on, the rest read and dropped (so it never blocks).
fn read_lines(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Zeroizing<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    let Some(mut pipe) = pipe else { return rx };
    std::thread::spawn(move || {
        let mut line = Zeroizing::new(Vec::new());
        let mut sent = 0;
        let mut buf = Zeroizing::new([0u8; 512]);
        while let Ok(n @ 1..) = pipe.read(&mut buf[..]) {
            for &b in &buf[..n] {
                if b == b'\n' {
                    if sent < MAX_LINES && tx.send(std::mem::take(&mut line)).is_ok() {
                        sent += 1;
                    }
                    line.clear();
                } else if line.len() < MAX_LINE {
                    line.push(b);
                }
            }
        }
        if !line.is_empty() && sent < MAX_LINES {
            let _ = tx.send(line);
        }
    });
    rx
}

fn read_stderr(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    let Some(mut pipe) = pipe else { return rx };
    std::thread::spawn(move || {
        let mut kept = 0;
        let mut buf = [0u8; 512];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            if kept < MAX_STDERR && tx.send(buf[..n].to_vec()).is_ok() {
                kept += n;
            }
        }
    });
    rx
}

/// Runs a dialog program to its end: its first stdout line is the answer
/// on exit 0; exit 1 (every dialog's Cancel) is [`PromptError::Cancelled`].
pub fn dialog(
    cmd: Command,
    what: &str,
    timeout: Duration,
) -> Result<Zeroizing<String>, PromptError> {
    let deadline = Instant::now() + timeout;
    let mut running = Running::start(cmd, what, false)?;
    let status = running.wait(deadline, timeout)?;
    match status.code() {
        Some(0) => {}
        Some(1) => return Err(PromptError::Cancelled),
        _ => {
            return Err(PromptError::Failed(format!(
                "`{what}` exited with {status}{}",
                running.said()
            )))
        }
    }
    // Its output is complete once it exited, but a child it left may hold
    // the pipe: take what is there.
    let first = running
        .line(Instant::now() + Duration::from_millis(200), timeout)
        .ok()
        .flatten()
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&first)
        .trim_end_matches('\r')
        .to_string();
    Ok(Zeroizing::new(text))
}
