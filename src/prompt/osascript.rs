//! macOS: `osascript` shows `display dialog … default answer ""` (`with
//! hidden answer` for a passphrase). The text is passed as an argument of
//! the script (`on run argv`), never spliced into it. Cancel is exit 1
//! ("User canceled. (-128)"). Offered only on macOS; not run by this test
//! suite (no macOS here).

use std::process::Command;
use std::time::Duration;

use zeroize::Zeroizing;

use super::{Driver, PromptError, Question};

pub struct Osascript;

/// The script: its one argument is the text; it prints the answer.
pub fn script(hidden: bool, timeout: Duration) -> Vec<String> {
    let hidden = if hidden { " with hidden answer" } else { "" };
    vec![
        "on run argv".to_string(),
        format!(
            "display dialog (item 1 of argv) default answer \"\"{hidden} with title \"mfaenv\" giving up after {}",
            timeout.as_secs().max(1)
        ),
        "if gave up of result then error number -128".to_string(),
        "text returned of result".to_string(),
        "end run".to_string(),
    ]
}

impl Driver for Osascript {
    fn name(&self) -> &'static str {
        "osascript"
    }

    fn ask(&self, q: &Question, timeout: Duration) -> Result<Zeroizing<String>, PromptError> {
        let mut cmd = Command::new("osascript");
        for line in script(q.hidden, timeout) {
            cmd.arg("-e").arg(line);
        }
        cmd.arg(q.full_description());
        super::child::dialog(cmd, "osascript", timeout)
    }
}
