//! The controlling terminal: the one place where mfaenv reads what a person
//! types (an MFA code, the key store's passphrase, `setup`'s choice, `add`'s
//! keys). Never stdin or stdout: stdout is being `eval`ed and stdin may be
//! the caller's data.
//!
//! Whatever mode the shell left the terminal in (fish keeps its own while a
//! hook runs: no line editing, no echo, Enter sends a bare CR), every read
//! happens in canonical mode with CR turned into NL and echo as asked, and
//! the exact previous mode comes back on every way out: return, error, and
//! SIGINT/SIGTERM/SIGHUP/SIGQUIT (see `signals`). A CR or LF ends the line
//! either way. Each read is bounded in time and length.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::{Driver, PromptError, Question};

// Questions are read from the terminal's input and written to its output.
// On Unix both are /dev/tty; on Windows the console's input buffer `CONIN$`
// only reads, and a prompt written to it is lost: it goes to `CONOUT$`.
#[cfg(unix)]
const TTY_IN: &str = "/dev/tty";
#[cfg(unix)]
const TTY_OUT: &str = "/dev/tty";
#[cfg(windows)]
const TTY_IN: &str = "CONIN$";
#[cfg(windows)]
const TTY_OUT: &str = "CONOUT$";

/// The longest answer kept (a passphrase, a key, a code); the rest of a
/// longer line is read and dropped.
pub const MAX_LINE: usize = 1024;

/// Whether what is typed is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    On,
    Off,
}

/// The controlling terminal: answers are read from `input`, questions
/// written to `output`.
pub struct Terminal {
    pub input: std::fs::File,
    pub output: std::fs::File,
}

impl Terminal {
    /// The controlling terminal; `None` when there is none.
    pub fn open() -> Option<Terminal> {
        Some(Terminal {
            input: open_console(TTY_IN)?,
            output: open_console(TTY_OUT)?,
        })
    }

    /// Whether this process has a controlling terminal.
    pub fn present() -> bool {
        Terminal::open().is_some()
    }

    /// Writes `text` as it is (the caller escapes what came from outside).
    pub fn say(&self, text: &str) -> std::io::Result<()> {
        let mut out = &self.output;
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Asks `question` and reads one line, in canonical mode with `echo`,
    /// within `timeout`. `None`: end of input (Ctrl-D). The line comes
    /// without its CR/LF.
    pub fn ask(
        &self,
        question: &str,
        echo: Echo,
        timeout: Duration,
    ) -> std::io::Result<Option<Zeroizing<String>>> {
        let line = {
            let _mode = LineMode::set(&self.input, echo)?;
            self.say(question)?;
            let line = read_line(&self.input, Instant::now() + timeout);
            if echo == Echo::Off {
                // The Enter was not echoed either.
                let _ = self.say("\n");
            }
            line?
        };
        Ok(line.map(|bytes| Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned())))
    }

    /// The terminal's device name (`/dev/pts/3`), for programs told where
    /// to draw (pinentry-curses and -tty) from another session, where
    /// `/dev/tty` means nothing: the one of stdin, stdout or stderr that is
    /// this controlling terminal, else (Linux) the pseudo-terminal that
    /// /proc names as it.
    #[cfg(unix)]
    pub fn device(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let controlling = controlling_tty();
        for fd in 0..3 {
            let Some(name) = tty_name(fd) else { continue };
            let same = match (controlling, std::fs::metadata(&name)) {
                (Some((major, minor)), Ok(meta)) => meta.rdev() == linux_dev(major, minor),
                (None, Ok(_)) => true,
                _ => false,
            };
            if same && name != "/dev/tty" {
                return Some(name);
            }
        }
        let (major, minor) = controlling?;
        // Unix98 pseudo-terminals: majors 136 to 143.
        (136..=143)
            .contains(&major)
            .then(|| format!("/dev/pts/{}", (major - 136) * 256 + minor))
    }
}

/// The name of the terminal open on `fd`, if it is one.
#[cfg(unix)]
fn tty_name(fd: libc::c_int) -> Option<String> {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: the buffer is ours and its length is passed.
    if unsafe { libc::ttyname_r(fd, buf.as_mut_ptr(), buf.len()) } != 0 {
        return None;
    }
    // SAFETY: ttyname_r wrote a NUL-terminated string into buf.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    name.to_str().ok().map(str::to_string)
}

/// The controlling terminal's (major, minor) from `tty_nr` in
/// /proc/self/stat; `None` where there is no /proc (then stdin, stdout or
/// stderr is trusted to be it).
#[cfg(unix)]
fn controlling_tty() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which may hold spaces and `)`.
    let rest = stat.rsplit_once(')')?.1;
    let number: u64 = rest.split_whitespace().nth(4)?.parse().ok()?;
    if number == 0 {
        return None;
    }
    // tty_nr: major in bits 8-15, minor in bits 0-7 and 20-31.
    Some((
        (number >> 8) & 0xff,
        (number & 0xff) | ((number >> 12) & 0xfff00),
    ))
}

/// `st_rdev` of a device on Linux (glibc's `makedev`).
#[cfg(unix)]
fn linux_dev(major: u64, minor: u64) -> u64 {
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}

// Both read and write: Windows wants GENERIC_READ | GENERIC_WRITE on a
// console handle for anything beyond plain reading or writing.
fn open_console(path: &str) -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .ok()
}

/// Reads up to a CR or LF (whichever the terminal sends), keeping at most
/// [`MAX_LINE`] bytes. `None` at end of input before any byte.
fn read_line(input: &std::fs::File, deadline: Instant) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        wait_readable(input, deadline)?;
        let n = match (&*input).read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok((!line.is_empty()).then_some(line));
        }
        let chunk = &buf[..n];
        let end = chunk.iter().position(|&b| b == b'\n' || b == b'\r');
        let take = &chunk[..end.unwrap_or(n)];
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&take[..take.len().min(room)]);
        if end.is_some() {
            buf.fill(0);
            return Ok(Some(line));
        }
    }
}

/// Waits until the terminal has something to read, or fails with
/// `TimedOut` at `deadline`.
#[cfg(unix)]
fn wait_readable(input: &std::fs::File, deadline: Instant) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer in time",
            ));
        }
        let mut fd = libc::pollfd {
            fd: input.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
        // SAFETY: one pollfd of ours.
        let rc = unsafe { libc::poll(&mut fd, 1, ms) };
        if rc > 0 {
            return Ok(());
        }
        if rc < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// The Windows console blocks in `ReadFile`; the timeout is not enforced there.
#[cfg(not(unix))]
fn wait_readable(_: &std::fs::File, _: Instant) -> std::io::Result<()> {
    Ok(())
}

/// The terminal in canonical mode (line editing, Enter = CR or NL ends the
/// line, Ctrl-C interrupts) with echo on or off, until dropped; then exactly
/// the mode it had before, also when a signal ends mfaenv meanwhile.
pub struct LineMode {
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
    #[cfg(unix)]
    saved: libc::termios,
    #[cfg(unix)]
    _signals: super::signals::Hold,
}

#[cfg(unix)]
impl LineMode {
    pub fn set(input: &std::fs::File, echo: Echo) -> std::io::Result<LineMode> {
        use std::os::fd::AsRawFd;
        let fd = input.as_raw_fd();
        let saved = get_mode(fd)?;
        let signals = super::signals::restore_terminal_on_signal(fd, saved);
        let mut mode = saved;
        mode.c_lflag |= libc::ICANON | libc::ISIG | libc::IEXTEN;
        match echo {
            Echo::On => mode.c_lflag |= libc::ECHO | libc::ECHOE | libc::ECHOK,
            Echo::Off => mode.c_lflag &= !(libc::ECHO | libc::ECHOE | libc::ECHOK | libc::ECHONL),
        }
        mode.c_iflag |= libc::ICRNL;
        mode.c_iflag &= !(libc::INLCR | libc::IGNCR);
        mode.c_oflag |= libc::OPOST | libc::ONLCR;
        set_mode(fd, &mode)?;
        Ok(LineMode {
            fd,
            saved,
            _signals: signals,
        })
    }
}

#[cfg(unix)]
impl Drop for LineMode {
    fn drop(&mut self) {
        // Before the signal hold is released (fields drop after this).
        let _ = set_mode(self.fd, &self.saved);
    }
}

/// The terminal's mode now, restored exactly when dropped (also on a
/// signal): around a program that changes it and may be killed before it
/// can put it back (pinentry-tty, pinentry-curses).
#[cfg(unix)]
pub struct ModeSnapshot {
    fd: std::os::fd::RawFd,
    saved: libc::termios,
    _signals: super::signals::Hold,
}

#[cfg(unix)]
impl ModeSnapshot {
    pub fn take(terminal: &Terminal) -> std::io::Result<ModeSnapshot> {
        use std::os::fd::AsRawFd;
        let fd = terminal.input.as_raw_fd();
        let saved = get_mode(fd)?;
        Ok(ModeSnapshot {
            fd,
            saved,
            _signals: super::signals::restore_terminal_on_signal(fd, saved),
        })
    }
}

#[cfg(unix)]
impl Drop for ModeSnapshot {
    fn drop(&mut self) {
        let _ = set_mode(self.fd, &self.saved);
    }
}

#[cfg(unix)]
fn get_mode(fd: libc::c_int) -> std::io::Result<libc::termios> {
    // SAFETY: termios is plain data; tcgetattr fills it for a valid fd.
    let mut mode: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut mode) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(mode)
}

#[cfg(unix)]
fn set_mode(fd: libc::c_int, mode: &libc::termios) -> std::io::Result<()> {
    // TCSADRAIN: the question is out before the mode changes; what was
    // typed ahead stays.
    // SAFETY: fd is open and mode a valid termios from tcgetattr.
    if unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, mode) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The Windows console is in line mode with echo unless a program changed
/// it; switching echo off is not done by this build (not run by this test
/// suite), so it refuses to ask for a hidden answer rather than echo it.
#[cfg(not(unix))]
impl LineMode {
    pub fn set(_: &std::fs::File, echo: Echo) -> std::io::Result<LineMode> {
        match echo {
            Echo::On => Ok(LineMode {}),
            Echo::Off => Err(std::io::Error::other(
                "cannot switch off echo on this console; use the credential prompt (MFAENV_PROMPT=wincred) or MFAENV_FILE_PASSPHRASE",
            )),
        }
    }
}

/// Today's prompt on the controlling terminal.
pub struct TerminalDriver;

impl Driver for TerminalDriver {
    fn name(&self) -> &'static str {
        "terminal"
    }

    fn ask(&self, q: &Question, timeout: Duration) -> Result<Zeroizing<String>, PromptError> {
        let tty =
            Terminal::open().ok_or(PromptError::Unavailable("there is no terminal".to_string()))?;
        if let Some(problem) = &q.problem {
            let _ = tty.say(&format!("mfaenv: {}\n", crate::ui::escape(problem)));
        }
        let echo = if q.hidden { Echo::Off } else { Echo::On };
        match tty.ask(&q.terminal_line(), echo, timeout) {
            Ok(Some(answer)) if !answer.trim().is_empty() => Ok(answer),
            Ok(_) => Err(PromptError::Cancelled),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                let _ = tty.say("\n");
                Err(PromptError::TimedOut(timeout))
            }
            Err(e) => Err(PromptError::Failed(format!("the terminal: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(bytes: &[u8]) -> Option<Vec<u8>> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        std::io::Seek::rewind(&mut file).unwrap();
        read_line(&file, Instant::now() + Duration::from_secs(5)).unwrap()
    }

    /// A CR (a terminal's Enter in raw mode), an LF or a CRLF ends the line.
    #[test]
    fn cr_lf_and_crlf_end_a_line() {
        assert_eq!(line_of(b"123 456\r").unwrap(), b"123 456");
        assert_eq!(line_of(b"123456\n").unwrap(), b"123456");
        assert_eq!(line_of(b"123456\r\nrest").unwrap(), b"123456");
        assert_eq!(line_of(b"tail").unwrap(), b"tail");
        assert_eq!(line_of(b""), None);
    }

    #[test]
    fn a_long_line_is_cut() {
        let long = [b'x'; 10 * MAX_LINE];
        let mut input = long.to_vec();
        input.push(b'\n');
        assert_eq!(line_of(&input).unwrap().len(), MAX_LINE);
    }
}
