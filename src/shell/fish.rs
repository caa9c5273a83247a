//! fish: inside single quotes `\'` and `\\` are escapes, so both are escaped
//! (a value ending in `\` would otherwise swallow the closing quote).

/// The shell integration (`mfaenv hook fish`); `@MFAENV@` is the binary.
pub const HOOK: &str = include_str!("../../shell/mfaenv.fish");

use super::Shell;

pub struct Fish;

impl Shell for Fish {
    fn quote(&self, value: &str) -> String {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('\'');
        for c in value.chars() {
            if c == '\'' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('\'');
        out
    }
    fn set(&self, name: &str, value: &str) -> String {
        format!("set -gx {name} {};\n", self.quote(value))
    }
    // -g: erase the global, never a universal variable of the same name.
    // `or true`: erasing a variable that is not set fails with status 4, which
    // would end `mfaenv ... | source` with a failure when all went well.
    fn unset(&self, name: &str) -> String {
        format!("set -e -g {name}; or true;\n")
    }
    fn failure(&self) -> &'static str {
        "false\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_backslash() {
        assert_eq!(Fish.quote(r"a\"), r"'a\\'");
        assert_eq!(Fish.quote("it's"), r"'it\'s'");
    }
}
