//! Messages on stderr (`mfaenv: error: …`, `warning:`, `hint:`, `note:`)
//! and a spinner while mfaenv waits. A leaf: it knows nothing of the rest of
//! the crate (what to say after an error is `advice`'s).
//!
//! Colour and the spinner appear only when stderr is a terminal; colour also
//! needs `NO_COLOR` unset or empty (<https://no-color.org>) and `TERM` other
//! than `dumb`. Nothing here ever writes to stdout.
//!
//! Every message passes through [`escape`]: a directory name, a profile or
//! an error text from outside cannot move the cursor, erase a line or paint
//! a fake "mfaenv: loaded prod".

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::Duration;

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn stderr_is_terminal() -> bool {
    static TTY: OnceLock<bool> = OnceLock::new();
    *TTY.get_or_init(|| {
        std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_none_or(|t| t.as_encoded_bytes() != b"dumb")
    })
}

/// Whether messages on stderr get colour.
pub fn color() -> bool {
    stderr_is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` safe to show on a terminal: control characters (C0, DEL, C1) and
/// the Unicode bidi controls that reorder what is shown are written as
/// escapes (`\n`, `\r`, `\t`, `\x1b`, `\u{202e}`); everything else is kept.
/// The one function every message to a person goes through.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// A message of several lines (mfaenv's own, like the commands to run after
/// an error) as [`escape`] shows each line, the lines after the first
/// indented, so no line of it can pass for a message of its own
/// (`mfaenv: loaded prod`).
pub fn escape_lines(text: &str) -> String {
    let text = text.trim_end_matches('\n');
    let lines: Vec<String> = text.split('\n').map(escape).collect();
    lines.join("\n    ")
}

/// A path as [`escape`] shows it.
pub fn path(path: &std::path::Path) -> String {
    escape(&path.display().to_string())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `mfaenv: LABEL: message`, the label coloured when [`color`] allows.
fn say(label: &str, code: &str, message: impl Display) {
    let message = escape_lines(&message.to_string());
    let line = if color() {
        format!("mfaenv: {code}{label}:{RESET} {message}\n")
    } else {
        format!("mfaenv: {label}: {message}\n")
    };
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

pub fn error(message: impl Display) {
    say("error", RED, message);
}

pub fn warning(message: impl Display) {
    say("warning", YELLOW, message);
}

/// What the user can do next.
pub fn hint(message: impl Display) {
    say("hint", CYAN, message);
}

pub fn note(message: impl Display) {
    say("note", BOLD, message);
}

/// A plain `mfaenv: message` line: what mfaenv is doing or did.
pub fn info(message: impl Display) {
    let line = format!("mfaenv: {}\n", escape_lines(&message.to_string()));
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// A spinner on stderr (`⠋ mfaenv: message`) while the guard lives, shown
/// only on a terminal and only once the wait has lasted a moment; the line
/// is erased when the guard is dropped.
pub struct Progress {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// How long a wait lasts before the spinner shows.
const SPINNER_DELAY: Duration = Duration::from_millis(300);
const SPINNER_TICK: Duration = Duration::from_millis(100);
const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// No spinner from now on: the terminal is another program's (`exec
/// --server` refreshes behind its command, whose output a `\r` line would
/// garble).
pub fn no_spinner() {
    NO_SPINNER.store(true, std::sync::atomic::Ordering::Relaxed);
}

static NO_SPINNER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn progress(message: impl Display) -> Progress {
    if !stderr_is_terminal() || NO_SPINNER.load(std::sync::atomic::Ordering::Relaxed) {
        return Progress {
            stop: None,
            thread: None,
        };
    }
    let message = escape(&message.to_string());
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("mfaenv-progress".into())
        .spawn(move || {
            let mut wait = SPINNER_DELAY;
            let mut shown = false;
            for frame in FRAMES.iter().cycle() {
                match stopped.recv_timeout(wait) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
                let _ = write!(std::io::stderr(), "\r{frame} mfaenv: {message}");
                shown = true;
                wait = SPINNER_TICK;
            }
            if shown {
                // Spaces, not an escape sequence: NO_COLOR users get no escapes at all.
                let blank = " ".repeat(message.chars().count() + 10);
                let _ = write!(std::io::stderr(), "\r{blank}\r");
            }
        })
        .ok();
    Progress {
        stop: Some(stop),
        thread,
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_indented_and_each_escaped() {
        assert_eq!(
            escape_lines("no device; run:\n  aws iam x\r\nmfaenv: loaded prod\n"),
            "no device; run:\n      aws iam x\\r\n    mfaenv: loaded prod"
        );
        assert_eq!(escape_lines("one \x1b line"), "one \\x1b line");
    }

    #[test]
    fn escape_shows_control_characters() {
        assert_eq!(
            escape("a\x1b[2K\rmfaenv: loaded prod\n\t\x7f\u{9b}\u{202e}z"),
            "a\\x1b[2K\\rmfaenv: loaded prod\\n\\t\\x7f\\u{9b}\\u{202e}z"
        );
        assert_eq!(
            escape("~/src/infra-prod é ü 日本"),
            "~/src/infra-prod é ü 日本"
        );
        assert_eq!(
            escape(&escape("\x1b")),
            "\\x1b",
            "escaping twice is harmless"
        );
    }
}
