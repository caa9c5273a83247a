//! GnuPG's pinentry programs (pinentry-curses, -tty, -gtk2, -gnome3, -qt,
//! -mac), spoken to in the Assuan protocol: the program greets with `OK`;
//! mfaenv sends `SETTITLE`, `SETDESC`, `SETPROMPT` (and `SETERROR` after a
//! typo), then `GETPIN`, which answers `D <percent-encoded>` lines and `OK`,
//! or `ERR <code> <text>` (cancelled: code 83886179, GPG_ERR_CANCELED from
//! pinentry); then `BYE`. Every line out is percent-escaped; every line in
//! is capped and checked.

use std::process::Command;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::child::Running;
use super::{Driver, PromptError, Question, Terminal};

/// GPG_ERR_CANCELED, GPG_ERR_FULLY_CANCELED, GPG_ERR_TIMEOUT (low 16 bits
/// of an Assuan error; the high bits name the source, pinentry's is 5).
const CANCELED: u32 = 99;
const FULLY_CANCELED: u32 = 198;
const TIMEOUT: u32 = 62;

/// An Assuan line is at most 1000 bytes; this keeps room for the command.
const MAX_ARG: usize = 900;

pub struct Pinentry {
    program: String,
}

/// `pinentry` or `pinentry-NAME` (letters, digits, `-`): a program looked
/// up on PATH, never a path.
pub fn is_program_name(name: &str) -> bool {
    name == "pinentry"
        || name.strip_prefix("pinentry-").is_some_and(|rest| {
            !rest.is_empty()
                && rest.len() <= 32
                && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl Pinentry {
    pub fn new(program: &str) -> Pinentry {
        Pinentry {
            program: program.to_string(),
        }
    }
}

impl Driver for Pinentry {
    fn name(&self) -> &'static str {
        "pinentry"
    }

    fn ask(&self, q: &Question, timeout: Duration) -> Result<Zeroizing<String>, PromptError> {
        let deadline = Instant::now() + timeout;
        let tty = Terminal::open();
        let device = tty.as_ref().and_then(device_of);
        // pinentry-tty and -curses change the terminal's mode; if they are
        // killed (timeout, Ctrl-C) they cannot put it back, so mfaenv does.
        #[cfg(unix)]
        let _mode = tty
            .as_ref()
            .and_then(|t| super::terminal::ModeSnapshot::take(t).ok());
        let mut cmd = Command::new(&self.program);
        if let Some(device) = &device {
            cmd.arg("--ttyname").arg(device);
        }
        let mut running = Running::start(cmd, &self.program, true)?;
        let mut talk = Talk {
            running: &mut running,
            deadline,
            timeout,
            program: &self.program,
        };
        talk.greeting()?;
        if let Some(device) = &device {
            talk.optional(&format!("OPTION ttyname={}", escape(device)))?;
            if let Ok(term) = std::env::var("TERM") {
                talk.optional(&format!("OPTION ttytype={}", escape(&term)))?;
            }
        }
        talk.optional("SETTITLE mfaenv")?;
        talk.command(&format!("SETDESC {}", escape(&q.description)))?;
        talk.command(&format!("SETPROMPT {}", escape(&q.label)))?;
        if let Some(problem) = &q.problem {
            talk.optional(&format!("SETERROR {}", escape(problem)))?;
        }
        let secs = timeout.as_secs().max(1);
        talk.optional(&format!("SETTIMEOUT {secs}"))?;
        let pin = talk.getpin()?;
        // Let it end by itself (and put the terminal back) before it is killed.
        if talk.running.send("BYE").is_ok() {
            let soon = (Instant::now() + Duration::from_millis(500)).min(deadline);
            let _ = talk.running.wait(soon, timeout);
        }
        Ok(pin)
    }
}

#[cfg(unix)]
fn device_of(t: &Terminal) -> Option<String> {
    t.device()
}

#[cfg(not(unix))]
fn device_of(_: &Terminal) -> Option<String> {
    None
}

/// One Assuan conversation.
struct Talk<'a> {
    running: &'a mut Running,
    deadline: Instant,
    timeout: Duration,
    program: &'a str,
}

/// What a command ended with.
enum Reply {
    Ok,
    Err(u32, String),
}

impl Talk<'_> {
    fn greeting(&mut self) -> Result<(), PromptError> {
        match self.reply(None)? {
            Reply::Ok => Ok(()),
            Reply::Err(code, text) => Err(self.failed(code, &text)),
        }
    }

    /// A command that must succeed.
    fn command(&mut self, line: &str) -> Result<(), PromptError> {
        self.running.send(line)?;
        match self.reply(None)? {
            Reply::Ok => Ok(()),
            Reply::Err(code, text) => Err(self.failed(code, &text)),
        }
    }

    /// A command an older pinentry may not know (its ERR is fine), but
    /// which must not be cancelled.
    fn optional(&mut self, line: &str) -> Result<(), PromptError> {
        self.running.send(line)?;
        match self.reply(None)? {
            Reply::Err(code, _) if is_cancel(code) => Err(PromptError::Cancelled),
            _ => Ok(()),
        }
    }

    fn getpin(&mut self) -> Result<Zeroizing<String>, PromptError> {
        self.running.send("GETPIN")?;
        let mut pin = Zeroizing::new(Vec::new());
        match self.reply(Some(&mut pin))? {
            Reply::Ok => {}
            Reply::Err(code, text) => return Err(self.failed(code, &text)),
        }
        let pin = String::from_utf8(pin.to_vec()).map_err(|_| {
            PromptError::Failed(format!(
                "`{}` answered bytes that are not text",
                self.program
            ))
        })?;
        Ok(Zeroizing::new(pin))
    }

    /// Reads lines up to `OK` or `ERR`; `D` lines go into `data` (refused
    /// when no data is expected), status (`S`) and comment (`#`) lines are
    /// skipped; anything else (`INQUIRE` included) is a protocol error.
    fn reply(&mut self, mut data: Option<&mut Zeroizing<Vec<u8>>>) -> Result<Reply, PromptError> {
        loop {
            let Some(line) = self.running.line(self.deadline, self.timeout)? else {
                return Err(PromptError::Failed(format!(
                    "`{}` ended without an answer{}",
                    self.program,
                    self.running.said()
                )));
            };
            let line: &[u8] = line.strip_suffix(b"\r").unwrap_or(&line);
            if line == b"OK" || line.starts_with(b"OK ") {
                return Ok(Reply::Ok);
            }
            if let Some(rest) = line.strip_prefix(b"ERR ") {
                let rest = String::from_utf8_lossy(rest);
                let (code, text) = rest.split_once(' ').unwrap_or((&rest, ""));
                let code = code.parse::<u32>().unwrap_or(0);
                return Ok(Reply::Err(code, text.chars().take(200).collect()));
            }
            if line.starts_with(b"S ") || line == b"S" || line.starts_with(b"#") {
                continue;
            }
            match (line.strip_prefix(b"D "), data.as_deref_mut()) {
                (Some(encoded), Some(out)) => {
                    let decoded = unescape(encoded).ok_or_else(|| self.garbage())?;
                    out.extend_from_slice(&decoded);
                    if out.len() > super::terminal::MAX_LINE {
                        return Err(self.garbage());
                    }
                }
                _ => return Err(self.garbage()),
            }
        }
    }

    fn garbage(&self) -> PromptError {
        PromptError::Failed(format!(
            "`{}` does not speak the pinentry protocol (unexpected answer)",
            self.program
        ))
    }

    fn failed(&self, code: u32, text: &str) -> PromptError {
        if is_cancel(code) {
            return PromptError::Cancelled;
        }
        if code & 0xffff == TIMEOUT {
            return PromptError::TimedOut(self.timeout);
        }
        PromptError::Failed(format!(
            "`{}` failed: ERR {code} {}",
            self.program,
            crate::ui::escape(text)
        ))
    }
}

fn is_cancel(code: u32) -> bool {
    matches!(code & 0xffff, CANCELED | FULLY_CANCELED)
}

/// An Assuan argument: `%`, CR, LF and every other control byte as `%XX`;
/// cut at [`MAX_ARG`] bytes (at a character boundary).
pub fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let piece = match c {
            '%' => "%25".to_string(),
            c if (c as u32) < 0x20 || c == '\x7f' => format!("%{:02X}", c as u32),
            c => c.to_string(),
        };
        if out.len() + piece.len() > MAX_ARG {
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// A `D` line's payload: `%XX` escapes decoded; `None` for a bad escape.
pub fn unescape(encoded: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        if encoded[i] == b'%' {
            let hex = encoded.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(encoded[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_escaped_and_data_unescaped() {
        assert_eq!(escape("a%b\nc\r"), "a%25b%0Ac%0D");
        assert_eq!(unescape(b"12%203%2545").unwrap(), b"12 3%45");
        assert!(unescape(b"12%2").is_none());
        assert!(unescape(b"%zz").is_none());
        assert!(escape(&"x".repeat(5000)).len() <= MAX_ARG);
    }

    #[test]
    fn program_names_are_names() {
        assert!(is_program_name("pinentry"));
        assert!(is_program_name("pinentry-gnome3"));
        assert!(!is_program_name("pinentry-"));
        assert!(!is_program_name("pinentry-../x"));
        assert!(!is_program_name("/usr/bin/pinentry"));
    }
}
