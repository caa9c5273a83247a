//! GNOME's `zenity --entry` (with `--hide-text` for a passphrase): the
//! answer on stdout, exit 1 when cancelled, 5 when its own timeout passed.

use std::process::Command;
use std::time::Duration;

use zeroize::Zeroizing;

use super::{Driver, PromptError, Question};

pub struct Zenity;

impl Driver for Zenity {
    fn name(&self) -> &'static str {
        "zenity"
    }

    fn ask(&self, q: &Question, timeout: Duration) -> Result<Zeroizing<String>, PromptError> {
        if !super::has_display() {
            return Err(PromptError::Unavailable(
                "zenity needs a display (DISPLAY or WAYLAND_DISPLAY)".into(),
            ));
        }
        let mut cmd = Command::new("zenity");
        cmd.arg("--entry")
            .arg("--title=mfaenv")
            .arg(format!("--text={}", markup(&q.full_description())))
            .arg(format!("--timeout={}", timeout.as_secs().max(1)));
        if q.hidden {
            cmd.arg("--hide-text");
        }
        match super::child::dialog(cmd, "zenity", timeout) {
            Err(PromptError::Failed(text)) if text.contains("exit status: 5") => {
                Err(PromptError::TimedOut(timeout))
            }
            other => other,
        }
    }
}

/// zenity's `--text` is Pango markup: `&`, `<`, `>` as entities, so a
/// profile name shows as written.
pub fn markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
