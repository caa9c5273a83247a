//! Windows: the system's credential prompt, shown by Windows PowerShell's
//! `$Host.UI.PromptForCredential` (CredUI) in a child process, so that the
//! timeout and the kill work as for every other driver. The text goes in
//! as a single-quoted PowerShell string (quotes doubled), the script as
//! `-EncodedCommand` (UTF-16LE, base64): nothing is parsed from the text.
//! A cancelled dialog returns no credential: the script exits 1. Offered
//! only on Windows; not run by this test suite (no Windows here).

use std::process::Command;
use std::time::Duration;

use zeroize::Zeroizing;

use super::{Driver, PromptError, Question};

pub struct Wincred;

/// The PowerShell script that asks and prints the answer.
pub fn script(description: &str) -> String {
    let text = description.replace('\'', "''");
    format!(
        "$c = $Host.UI.PromptForCredential('mfaenv', '{text}', 'mfaenv', '');\
         if ($c -eq $null) {{ exit 1 }};\
         [Console]::Out.WriteLine($c.GetNetworkCredential().Password)"
    )
}

/// `script` as `-EncodedCommand` wants it: base64 of its UTF-16LE bytes.
pub fn encoded(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64(&bytes)
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Driver for Wincred {
    fn name(&self) -> &'static str {
        "wincred"
    }

    fn ask(&self, q: &Question, timeout: Duration) -> Result<Zeroizing<String>, PromptError> {
        let mut cmd = Command::new("powershell.exe");
        cmd.args(["-NoProfile", "-NoLogo", "-EncodedCommand"])
            .arg(encoded(&script(&q.full_description())));
        super::child::dialog(cmd, "powershell.exe (credential prompt)", timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_a_quoted_string_and_the_script_is_encoded() {
        assert!(script("it's `x`; $(y)").contains("'it''s `x`; $(y)'"));
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(encoded("a"), "YQA=");
    }
}
