//! KDE's `kdialog --inputbox` (`--password` for a passphrase): the answer
//! on stdout, exit 1 when cancelled. Not run by this test suite with the
//! real program (KDE is not installed here); its wiring is, with a stand-in.

use std::process::Command;
use std::time::Duration;

use zeroize::Zeroizing;

use super::{Driver, PromptError, Question};

pub struct Kdialog;

impl Driver for Kdialog {
    fn name(&self) -> &'static str {
        "kdialog"
    }

    fn ask(&self, q: &Question, timeout: Duration) -> Result<Zeroizing<String>, PromptError> {
        if !super::has_display() {
            return Err(PromptError::Unavailable(
                "kdialog needs a display (DISPLAY or WAYLAND_DISPLAY)".into(),
            ));
        }
        let mut cmd = Command::new("kdialog");
        cmd.arg("--title")
            .arg("mfaenv")
            .arg(if q.hidden { "--password" } else { "--inputbox" })
            // Qt may take text with tags for rich text: entities keep it plain.
            .arg(super::zenity::markup(&q.full_description()));
        super::child::dialog(cmd, "kdialog", timeout)
    }
}
