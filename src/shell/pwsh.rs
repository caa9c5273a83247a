//! PowerShell (7, and Windows PowerShell 5.1): single-quoted strings, where
//! `'` and the typographic single quotes U+2018–U+201B all end the string and
//! are escaped by doubling.
//!
//! Everything printed for PowerShell is printable ASCII. PowerShell decodes a
//! native command's stdout with `[Console]::OutputEncoding` (an OEM or ANSI
//! code page on Windows), so UTF-8 bytes would arrive garbled, and under
//! cp1252 and its siblings the continuation bytes 0x82/0x91/0x92 decode to
//! U+201A/U+2018/U+2019, which end a single-quoted string: `Ñ` (C3 91) would
//! close the quotes around a directory name. Any other character is written
//! as `[char]0xHHHH` (one per UTF-16 unit) in a parenthesised concatenation
//! that starts with a string, so `+` concatenates; this reads the same in
//! 5.1 and 7. Line ends inside a value go the same way, because PowerShell
//! splits native output into lines and `Out-String` rejoins them with its
//! own newline.

/// The shell integration (`mfaenv hook pwsh`); `@MFAENV@` is the binary,
/// `@STAMP@` the file `mfaenv allow|deny|login` touch (see
/// `crate::hook::touch_stamp`).
pub const HOOK: &str = include_str!("../../shell/mfaenv.ps1");

use std::fmt::Write as _;

use super::Shell;

pub struct Pwsh;

fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// What may stand as itself inside `'…'`: printable ASCII.
fn is_plain(c: char) -> bool {
    matches!(c, ' '..='~')
}

impl Shell for Pwsh {
    fn quote(&self, value: &str) -> String {
        if value.chars().all(is_plain) {
            return verbatim(value);
        }
        // ('run' + [char]0x00E9 + 'run' ...): the first term is a string.
        let mut out = String::from("(");
        let mut rest = value;
        let mut first = true;
        while !rest.is_empty() {
            let plain_len = rest.find(|c: char| !is_plain(c)).unwrap_or(rest.len());
            let (plain, tail) = rest.split_at(plain_len);
            if first || !plain.is_empty() {
                if !first {
                    out.push_str(" + ");
                }
                out.push_str(&verbatim(plain));
                first = false;
            }
            let other_len = tail.find(is_plain).unwrap_or(tail.len());
            let (other, tail) = tail.split_at(other_len);
            for unit in other.encode_utf16() {
                let _ = write!(out, " + [char]0x{unit:04X}");
            }
            rest = tail;
        }
        out.push(')');
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

/// `'value'`, with every single quote doubled. Only `'` can occur once the
/// caller has taken out everything that is not printable ASCII, but the rule
/// is PowerShell's for all five.
fn verbatim(value: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_one_verbatim_string() {
        assert_eq!(Pwsh.quote(""), "''");
        assert_eq!(Pwsh.quote("a b"), "'a b'");
        assert_eq!(Pwsh.set("X", "`$(x)"), "${env:X} = '`$(x)'\n");
        assert_eq!(Pwsh.quote("$env:PATH \"x\" @'"), "'$env:PATH \"x\" @'''");
    }

    #[test]
    fn doubles_the_ascii_single_quote() {
        assert_eq!(Pwsh.quote("a'b"), "'a''b'");
        assert_eq!(Pwsh.quote("''"), "''''''");
    }

    #[test]
    fn typographic_single_quotes_become_chars() {
        for (c, code) in [
            ('\u{2018}', "0x2018"),
            ('\u{2019}', "0x2019"),
            ('\u{201A}', "0x201A"),
            ('\u{201B}', "0x201B"),
        ] {
            assert_eq!(
                Pwsh.quote(&format!("a{c}b")),
                format!("('a' + [char]{code} + 'b')")
            );
        }
        assert_eq!(Pwsh.quote("a'b\u{2019}c"), "('a''b' + [char]0x2019 + 'c')");
    }

    #[test]
    fn non_ascii_starts_with_a_string_and_uses_utf16_units() {
        assert_eq!(Pwsh.quote("\u{E9}"), "('' + [char]0x00E9)");
        assert_eq!(
            Pwsh.quote("x\u{E9}\u{DF}"),
            "('x' + [char]0x00E9 + [char]0x00DF)"
        );
        // Outside the BMP: a surrogate pair, high first.
        assert_eq!(
            Pwsh.quote("\u{1F980}!"),
            "('' + [char]0xD83E + [char]0xDD80 + '!')"
        );
        assert_eq!(
            Pwsh.quote("\u{10FFFF}"),
            "('' + [char]0xDBFF + [char]0xDFFF)"
        );
    }

    #[test]
    fn control_characters_and_line_ends_become_chars() {
        assert_eq!(
            Pwsh.quote("a\r\nb\tc\u{1B}[0m\u{7F}"),
            "('a' + [char]0x000D + [char]0x000A + 'b' + [char]0x0009 + 'c' + [char]0x001B + '[0m' + [char]0x007F)"
        );
    }

    /// Characters whose UTF-8 form holds a byte that some Windows code page
    /// reads as a single quote (0x82 U+201A, 0x91 U+2018, 0x92 U+2019 in
    /// cp1250..cp1258): as ASCII output no byte of them is left to misread.
    #[test]
    fn code_page_traps_leave_no_byte_above_ascii() {
        let traps: Vec<char> = ('\u{80}'..='\u{FFFF}')
            .filter(|c| {
                let mut buf = [0; 4];
                c.encode_utf8(&mut buf)
                    .bytes()
                    .any(|b| matches!(b, 0x82 | 0x91 | 0x92))
            })
            .collect();
        // e.g. Ñ (C3 91), Â (C3 82), Ò (C3 92), đ (C4 91).
        assert!(['\u{D1}', '\u{C2}', '\u{D2}', '\u{111}']
            .iter()
            .all(|c| traps.contains(c)));
        for c in traps {
            let value = format!("dir{c}x");
            let out = Pwsh.set("MFAENV_DIR", &value);
            assert!(out.is_ascii(), "{c:?}: {out}");
            assert_eq!(
                out,
                format!(
                    "${{env:MFAENV_DIR}} = ('dir' + [char]0x{:04X} + 'x')\n",
                    c as u32
                )
            );
        }
    }

    #[test]
    fn unset_is_guarded() {
        assert_eq!(
            Pwsh.unset("AWS_PROFILE"),
            "if (Test-Path -LiteralPath env:/AWS_PROFILE) { Remove-Item -LiteralPath env:/AWS_PROFILE }\n"
        );
    }
}
