//! Secrets typed on the controlling terminal with echo off: the file store's
//! passphrase and `mfaenv add`'s secret access key. Never stdin/stdout,
//! which a caller may be capturing.

use std::io::{BufRead, BufReader, Write};

use zeroize::Zeroizing;

use crate::mfa::open_tty;

/// Longest line read from the terminal (a passphrase or a key).
const MAX_LINE: u64 = 1024;

/// Asks `question` on the terminal; the answer is not echoed. `None` when
/// there is no terminal.
pub fn ask_hidden(question: &str) -> std::io::Result<Option<Zeroizing<String>>> {
    ask(question, false)
}

/// Asks `question` on the terminal with echo (for the access key id).
pub fn ask_visible(question: &str) -> std::io::Result<Option<Zeroizing<String>>> {
    ask(question, true)
}

fn ask(question: &str, echo: bool) -> std::io::Result<Option<Zeroizing<String>>> {
    let Some(tty) = open_tty() else {
        return Ok(None);
    };
    let mut output = &tty.output;
    write!(output, "{question}")?;
    output.flush()?;
    let line = {
        let _quiet = if echo {
            None
        } else {
            Some(EchoOff::on(&tty.input)?)
        };
        let mut line = Zeroizing::new(String::new());
        BufReader::new(std::io::Read::take(&tty.input, MAX_LINE)).read_line(&mut line)?;
        line
    };
    if !echo {
        // The user's Enter was not echoed either.
        writeln!(output)?;
    }
    let trimmed = line.trim_end_matches(['\r', '\n']);
    Ok(Some(Zeroizing::new(trimmed.to_string())))
}

/// Echo switched off on the terminal until dropped.
struct EchoOff {
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
    #[cfg(unix)]
    saved: libc::termios,
}

#[cfg(unix)]
impl EchoOff {
    fn on(input: &std::fs::File) -> std::io::Result<EchoOff> {
        use std::os::fd::AsRawFd;
        let fd = input.as_raw_fd();
        // SAFETY: termios is plain data; tcgetattr fills it for a valid fd.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut quiet = saved;
        quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
        quiet.c_lflag |= libc::ICANON;
        // SAFETY: fd is open and quiet a valid termios from tcgetattr.
        if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(EchoOff { fd, saved })
    }
}

#[cfg(unix)]
impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read from the same, still open fd.
        unsafe { libc::tcsetattr(self.fd, libc::TCSAFLUSH, &self.saved) };
    }
}

/// The Windows console has its own echo mode; this build does not switch
/// it (not run by this test suite), so it refuses to ask rather than echo.
#[cfg(not(unix))]
impl EchoOff {
    fn on(_: &std::fs::File) -> std::io::Result<EchoOff> {
        Err(std::io::Error::other(
            "cannot switch off echo on this console; set MFAENV_FILE_PASSPHRASE or use --env",
        ))
    }
}
