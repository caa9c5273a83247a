//! PowerShell 7: single-quoted strings, where `'` and the typographic single
//! quotes U+2018–U+201B all end the string and are escaped by doubling.

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
    fn unset(&self, name: &str) -> String {
        format!("Remove-Item -LiteralPath env:/{name} -ErrorAction SilentlyContinue\n")
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
