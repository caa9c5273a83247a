//! PowerShell 7: single-quoted strings, where `'` and the typographic single
//! quotes U+2018–U+201B all end the string and are escaped by doubling.

/// The shell integration (`mfaenv hook pwsh`); `@MFAENV@` is the binary.
pub const HOOK: &str = include_str!("../../shell/mfaenv.ps1");

use super::Shell;

pub struct Pwsh;

fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

impl Shell for Pwsh {
    fn quote(&self, value: &str) -> String {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('\'');
        for c in value.chars() {
            if is_single_quote(c) {
                out.push(c);
            }
            out.push(c);
        }
        out.push('\'');
        out
    }
    fn set(&self, name: &str, value: &str) -> String {
        format!("${{env:{name}}} = {}\n", self.quote(value))
    }
    // Guarded rather than -ErrorAction SilentlyContinue: removing a missing
    // variable would still set $? to false and add to $Error.
    fn unset(&self, name: &str) -> String {
        format!(
            "if (Test-Path -LiteralPath env:/{name}) {{ Remove-Item -LiteralPath env:/{name} }}\n"
        )
    }
    // A script-terminating error: `mfaenv prod | Invoke-Expression && next`
    // and the rest of a script stop, as `false` stops `eval … &&` in bash.
    fn failure(&self) -> &'static str {
        "throw 'mfaenv failed: see the error above'\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_every_single_quote() {
        assert_eq!(Pwsh.quote("a'b\u{2019}c"), "'a''b\u{2019}\u{2019}c'");
        assert_eq!(Pwsh.set("X", "`$(x)"), "${env:X} = '`$(x)'\n");
    }
}
