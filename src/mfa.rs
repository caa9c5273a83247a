//! Where an MFA code comes from, in order: `--token-code`, the profile's
//! `mfa_process`, a prompt on the controlling terminal. Never stdin or
//! stdout: stdout is being `eval`ed and stdin may be the caller's data.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

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

/// How many times a person may mistype (or have AWS reject) a code.
const ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("`{0}` is not an MFA code: a code is 6 digits")]
    NotACode(String),
    #[error("mfa_process `{command}` failed: {reason}")]
    Process { command: String, reason: String },
    #[error("no terminal to ask for the MFA code of {serial}: pass --token-code CODE, or set mfa_process in the profile")]
    NoTerminal { serial: String },
    #[error("no MFA code given")]
    Cancelled,
    #[error("an MFA code for {serial} is needed")]
    PromptNotAllowed { serial: String },
    #[error("no valid MFA code after {ATTEMPTS} tries")]
    TooManyTries,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Flag,
    Process,
    Terminal,
}

/// Hands out MFA codes for one command.
pub struct CodeSource {
    token_code: Option<String>,
    mfa_process: Option<String>,
    /// Whether the terminal may be asked (the hook's cache-only pass says no).
    prompt: bool,
    last: Option<Origin>,
    asked: u32,
}

impl CodeSource {
    pub fn new(
        token_code: Option<String>,
        mfa_process: Option<String>,
        prompt: bool,
    ) -> CodeSource {
        CodeSource {
            token_code,
            mfa_process,
            prompt,
            last: None,
            asked: 0,
        }
    }

    /// A code for `serial`. `retry` says why the previous code failed; then
    /// only a terminal can give another one.
    pub fn code(&mut self, serial: &str, retry: Option<&str>) -> Result<String, MfaError> {
        if let Some(reason) = retry {
            if !self.can_ask_again() {
                return Err(MfaError::TooManyTries);
            }
            let _ = self.tell(&format!("mfaenv: {}", crate::ui::escape(reason)));
            return self.prompt(serial);
        }
        if let Some(code) = self.token_code.take() {
            self.last = Some(Origin::Flag);
            return checked(code.trim());
        }
        if let Some(command) = self.mfa_process.clone() {
            self.last = Some(Origin::Process);
            return run_process(&command);
        }
        self.prompt(serial)
    }

    /// Whether another code can be had after AWS rejected one.
    pub fn can_ask_again(&self) -> bool {
        self.last == Some(Origin::Terminal) && self.asked < ATTEMPTS
    }

    fn prompt(&mut self, serial: &str) -> Result<String, MfaError> {
        if !self.prompt {
            return Err(MfaError::PromptNotAllowed {
                serial: serial.to_string(),
            });
        }
        self.last = Some(Origin::Terminal);
        let tty = open_tty().ok_or_else(|| MfaError::NoTerminal {
            serial: serial.to_string(),
        })?;
        let mut reader = BufReader::new(&tty.input);
        self.ask(&mut reader, &mut &tty.output, serial)
    }

    /// Asks for a code: the question on `output`, the answer from `input`.
    fn ask(
        &mut self,
        input: &mut dyn BufRead,
        output: &mut dyn Write,
        serial: &str,
    ) -> Result<String, MfaError> {
        while self.asked < ATTEMPTS {
            self.asked += 1;
            write!(output, "MFA code for {}: ", crate::ui::escape(serial))
                .map_err(|_| no_tty(serial))?;
            let _ = output.flush();
            let mut line = String::new();
            let read = input.read_line(&mut line).map_err(|_| no_tty(serial))?;
            let answer = line.trim();
            if read == 0 || answer.is_empty() {
                return Err(MfaError::Cancelled);
            }
            match checked(answer) {
                Ok(code) => return Ok(code),
                Err(_) => {
                    let _ = writeln!(output, "mfaenv: an MFA code is 6 digits; try again");
                }
            }
        }
        Err(MfaError::TooManyTries)
    }

    fn tell(&self, line: &str) -> std::io::Result<()> {
        match open_tty() {
            Some(tty) => writeln!(&tty.output, "{line}"),
            None => writeln!(std::io::stderr(), "{line}"),
        }
    }
}

fn no_tty(serial: &str) -> MfaError {
    MfaError::NoTerminal {
        serial: serial.to_string(),
    }
}

/// The controlling terminal, for questions that must not touch stdin/stdout:
/// answers are read from `input`, questions written to `output`.
pub struct Tty {
    pub input: std::fs::File,
    pub output: std::fs::File,
}

/// Opens the controlling terminal; `None` when there is none.
pub fn open_tty() -> Option<Tty> {
    Some(Tty {
        input: open_console(TTY_IN)?,
        output: open_console(TTY_OUT)?,
    })
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

/// Six ASCII digits, else an error that does not echo a long input back.
fn checked(code: &str) -> Result<String, MfaError> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_string())
    } else {
        let shown: String = code.chars().take(12).collect();
        Err(MfaError::NotACode(shown))
    }
}

/// Runs `mfa_process` through the shell; its stdout is the code, its stderr
/// (e.g. "Touch your YubiKey") goes to the user.
fn run_process(command: &str) -> Result<String, MfaError> {
    let fail = |reason: String| MfaError::Process {
        command: command.to_string(),
        reason,
    };
    #[cfg(unix)]
    let mut cmd = {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(command);
        c
    };
    #[cfg(windows)]
    let mut cmd = {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    };
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(format!("it exited with {}", out.status)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    checked(text.trim()).map_err(|_| fail("it did not print a 6-digit code".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The question goes to the terminal's output, the answer comes from its
    /// input: on Windows those are CONOUT$ and CONIN$, two handles.
    #[test]
    fn questions_go_to_the_output_answers_come_from_the_input() {
        #[cfg(windows)]
        assert_eq!((TTY_IN, TTY_OUT), ("CONIN$", "CONOUT$"));
        let mut s = CodeSource::new(None, None, true);
        let mut input = std::io::Cursor::new(b"12x\n123456\n".to_vec());
        let mut output = Vec::new();
        assert_eq!(s.ask(&mut input, &mut output, "arn").unwrap(), "123456");
        assert_eq!(
            String::from_utf8(output).unwrap(),
            "MFA code for arn: mfaenv: an MFA code is 6 digits; try again\nMFA code for arn: "
        );
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(checked("123456").unwrap(), "123456");
        assert!(checked("12345").is_err());
        assert!(checked("12345a").is_err());
        assert!(checked("1234567").is_err());
    }

    #[test]
    fn flag_then_process() {
        let mut s = CodeSource::new(Some(" 654321 ".into()), None, true);
        assert_eq!(s.code("arn", None).unwrap(), "654321");
        assert!(!s.can_ask_again());
        let mut s = CodeSource::new(None, Some("echo 111222".into()), true);
        assert_eq!(s.code("arn", None).unwrap(), "111222");
        let mut s = CodeSource::new(None, Some("echo nope".into()), true);
        assert!(s
            .code("arn", None)
            .unwrap_err()
            .to_string()
            .contains("6-digit"));
        let mut s = CodeSource::new(None, Some("exit 3".into()), true);
        assert!(s
            .code("arn", None)
            .unwrap_err()
            .to_string()
            .contains("exited"));
    }
}
