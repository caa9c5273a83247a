//! Prompt drivers: how mfaenv asks a person for an MFA code or the key
//! store's passphrase. `terminal` (the controlling terminal), `pinentry`
//! (GnuPG's Assuan programs), `zenity`, `kdialog`, and on their platforms
//! `osascript` (macOS) and `wincred` (the Windows credential prompt).
//!
//! Which one: `--prompt NAME`, else `MFAENV_PROMPT`, else the profile's
//! `mfa_prompt`, else `auto`: the terminal when there is one, otherwise the
//! first dialog that can show something here, otherwise an error naming
//! the options. Every driver is bounded by a timeout (`MFAENV_PROMPT_TIMEOUT`,
//! else the profile's `prompt_timeout`, else 120 s), and a
//! program it starts runs as `child` says: its own process group, killed
//! on timeout or Ctrl-C, no secret in its environment, output capped.

pub mod child;
pub mod kdialog;
pub mod osascript;
pub mod pinentry;
#[cfg(unix)]
pub(crate) mod signals;
pub mod terminal;
pub mod wincred;
pub mod zenity;

use std::sync::OnceLock;
use std::time::Duration;

use zeroize::Zeroizing;

pub use terminal::{Echo, Terminal};

/// How long a person has to answer unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest timeout accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// One question to a person.
#[derive(Debug, Clone)]
pub struct Question {
    /// The dialog's text: what is asked, for which profile and device.
    pub description: String,
    /// The short label before the answer (`MFA code`).
    pub label: String,
    /// Whether the answer is hidden (a passphrase).
    pub hidden: bool,
    /// What was wrong with the previous answer, shown with this question.
    pub problem: Option<String>,
    /// The line the terminal shows (`[prod] MFA code for arn:…: `).
    pub terminal: String,
}

impl Question {
    /// An MFA code for `serial`, for `profile`.
    pub fn code(profile: &str, serial: &str) -> Question {
        let profile = crate::ui::escape(profile);
        let serial = crate::ui::escape(serial);
        Question {
            description: format!(
                "Enter the MFA code for AWS profile `{profile}`\n(device {serial})"
            ),
            label: "MFA code:".to_string(),
            hidden: false,
            problem: None,
            terminal: format!("[{profile}] MFA code for {serial}: {}", line_end()),
        }
    }

    /// A hidden answer: `question` as the terminal shows it.
    pub fn secret(question: &str) -> Question {
        let shown = crate::ui::escape(question.trim_end().trim_end_matches(':'));
        Question {
            description: format!("mfaenv: {shown}"),
            label: "Passphrase:".to_string(),
            hidden: true,
            problem: None,
            terminal: crate::ui::escape(question),
        }
    }

    fn terminal_line(&self) -> String {
        self.terminal.clone()
    }

    /// The description with the problem, for a dialog.
    pub fn full_description(&self) -> String {
        match &self.problem {
            Some(p) => format!("{}\n\n{}", crate::ui::escape(p), self.description),
            None => self.description.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cancelled")]
    Cancelled,
    #[error("no answer within {}s", .0.as_secs_f64())]
    TimedOut(Duration),
    /// This driver cannot show anything here (no terminal, no display, not installed).
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Failed(String),
}

/// Something that can ask a person.
pub trait Driver {
    /// The name `--prompt` takes.
    fn name(&self) -> &'static str;
    /// One answer to `q`, within `timeout`.
    fn ask(&self, q: &Question, timeout: Duration) -> Result<Zeroizing<String>, PromptError>;
}

/// A driver by name, or `auto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Terminal,
    /// `pinentry` or a named one (`pinentry-gtk2`, `pinentry-tty`, …).
    Pinentry(String),
    Zenity,
    Kdialog,
    Osascript,
    Wincred,
}

/// The names `--prompt` and `mfa_prompt` take.
pub const NAMES: &str = "auto, terminal, pinentry (or pinentry-NAME), zenity, kdialog, osascript (macOS), wincred (Windows)";

impl std::str::FromStr for Choice {
    type Err = String;

    fn from_str(text: &str) -> Result<Choice, String> {
        Ok(match text.trim() {
            "auto" => Choice::Auto,
            "terminal" | "tty" => Choice::Terminal,
            "zenity" => Choice::Zenity,
            "kdialog" => Choice::Kdialog,
            "osascript" => Choice::Osascript,
            "wincred" => Choice::Wincred,
            name if pinentry::is_program_name(name) => Choice::Pinentry(name.to_string()),
            other => {
                return Err(format!(
                    "`{}` is not a prompt driver; one of: {NAMES}",
                    other.escape_debug()
                ))
            }
        })
    }
}

impl Choice {
    fn driver(&self) -> Result<Box<dyn Driver>, PromptError> {
        Ok(match self {
            Choice::Auto => return auto(),
            Choice::Terminal => Box::new(terminal::TerminalDriver),
            Choice::Pinentry(program) => Box::new(pinentry::Pinentry::new(program)),
            Choice::Zenity => Box::new(zenity::Zenity),
            Choice::Kdialog => Box::new(kdialog::Kdialog),
            Choice::Osascript if cfg!(target_os = "macos") => Box::new(osascript::Osascript),
            Choice::Wincred if cfg!(windows) => Box::new(wincred::Wincred),
            Choice::Osascript => {
                return Err(PromptError::Unavailable(
                    "osascript exists only on macOS".into(),
                ))
            }
            Choice::Wincred => {
                return Err(PromptError::Unavailable(
                    "wincred exists only on Windows".into(),
                ))
            }
        })
    }
}

/// `auto`: the terminal when there is one, else the first dialog that can
/// show something here.
fn auto() -> Result<Box<dyn Driver>, PromptError> {
    if Terminal::present() {
        return Ok(Box::new(terminal::TerminalDriver));
    }
    if cfg!(target_os = "macos") {
        return Ok(Box::new(osascript::Osascript));
    }
    if cfg!(windows) {
        return Ok(Box::new(wincred::Wincred));
    }
    if has_display() {
        for (program, driver) in [
            ("zenity", Choice::Zenity),
            ("kdialog", Choice::Kdialog),
            (
                "pinentry-gnome3",
                Choice::Pinentry("pinentry-gnome3".into()),
            ),
            ("pinentry-qt", Choice::Pinentry("pinentry-qt".into())),
            ("pinentry-gtk2", Choice::Pinentry("pinentry-gtk2".into())),
            ("pinentry-gtk-2", Choice::Pinentry("pinentry-gtk-2".into())),
        ] {
            if on_path(program) {
                return driver.driver();
            }
        }
    }
    Err(PromptError::Unavailable(format!(
        "no terminal{}, and no dialog program (zenity, kdialog, pinentry-gnome3/qt/gtk2) to show one",
        if has_display() { "" } else { " and no display (DISPLAY, WAYLAND_DISPLAY)" }
    )))
}

/// Whether a graphical session is reachable.
pub fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// `--prompt`, once parsed: it beats `MFAENV_PROMPT` and the profile.
static FLAG: OnceLock<Choice> = OnceLock::new();

/// Records `--prompt` for this run.
pub fn choose(choice: Choice) {
    let _ = FLAG.set(choice);
}

/// How a question is asked: the driver chosen and the timeout.
#[derive(Debug, Clone)]
pub struct Settings {
    pub choice: Choice,
    pub timeout: Duration,
}

impl Settings {
    /// `--prompt`, `MFAENV_PROMPT`, then the profile's choice; the
    /// timeout from `MFAENV_PROMPT_TIMEOUT`, then the profile's.
    pub fn resolve(
        profile_choice: Option<&Choice>,
        profile_timeout: Option<Duration>,
    ) -> Result<Settings, PromptError> {
        let from_env = match crate::settings::prompt() {
            Some(text) => Some(text.parse::<Choice>().map_err(|e| {
                PromptError::Failed(format!("{}: {e}", crate::settings::MFAENV_PROMPT))
            })?),
            None => None,
        };
        let choice = FLAG
            .get()
            .cloned()
            .or(from_env)
            .or_else(|| profile_choice.cloned())
            .unwrap_or(Choice::Auto);
        let timeout = crate::settings::prompt_timeout()
            .or(profile_timeout)
            .unwrap_or(DEFAULT_TIMEOUT);
        Ok(Settings { choice, timeout })
    }

    /// Asks `q` with the chosen driver.
    pub fn ask(&self, q: &Question) -> Result<Zeroizing<String>, PromptError> {
        self.choice.driver()?.ask(q, self.timeout)
    }

    /// The driver's name (`auto` resolved), for messages.
    pub fn driver_name(&self) -> Result<&'static str, PromptError> {
        Ok(self.choice.driver()?.name())
    }
}

/// Asks for a hidden answer (the key store's passphrase) with the driver
/// the command line or `MFAENV_PROMPT` chose, else `auto`. `Ok(None)` when
/// nothing can ask here.
pub fn ask_secret(question: &str) -> Result<Option<Zeroizing<String>>, PromptError> {
    let settings = Settings::resolve(None, None)?;
    match settings.ask(&Question::secret(question)) {
        Ok(answer) => Ok(Some(answer)),
        Err(PromptError::Unavailable(_)) if settings.choice == Choice::Auto => Ok(None),
        Err(e) => Err(e),
    }
}

/// An MFA code as a person typed it: spaces (and tabs) removed, so
/// `123 456` is `123456`.
pub fn normalize_code(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!("auto".parse::<Choice>().unwrap(), Choice::Auto);
        assert_eq!(
            "pinentry-gtk2".parse::<Choice>().unwrap(),
            Choice::Pinentry("pinentry-gtk2".into())
        );
        assert!("pinentry/../../bin/sh".parse::<Choice>().is_err());
        assert!("nope".parse::<Choice>().unwrap_err().contains("zenity"));
    }

    #[test]
    fn spaces_in_codes_are_dropped() {
        assert_eq!(normalize_code(" 123 456\t"), "123456");
    }
}

/// What ends the question: nothing (the code is typed after it), except
/// inside direnv's `.envrc` (`use mfaenv`): direnv prints "is taking a
/// while" where the cursor is after a few seconds, so the question ends
/// its line and the notice gets one of its own.
pub(crate) fn line_end() -> &'static str {
    if std::env::var_os("DIRENV_IN_ENVRC").is_some() {
        "\n"
    } else {
        ""
    }
}
