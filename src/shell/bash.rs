//! bash: POSIX single quotes; nothing inside them is special but `'` itself.

/// The shell integration (`mfaenv hook bash`); `@MFAENV@` is the binary.
pub const HOOK: &str = include_str!("../../shell/mfaenv.bash");

use super::Shell;

pub struct Bash;

/// `'…'`, with each `'` written as `'\''` (close, escaped quote, reopen).
pub(crate) fn posix_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

impl Shell for Bash {
    fn quote(&self, value: &str) -> String {
        posix_quote(value)
    }
    fn set(&self, name: &str, value: &str) -> String {
        format!("export {name}={};\n", posix_quote(value))
    }
    fn unset(&self, name: &str) -> String {
        format!("unset {name};\n")
    }
    fn failure(&self) -> &'static str {
        "false\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes() {
        assert_eq!(posix_quote("a'b"), r"'a'\''b'");
        assert_eq!(posix_quote(""), "''");
        assert_eq!(Bash.set("X", "$(id)"), "export X='$(id)';\n");
    }
}
