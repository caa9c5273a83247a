//! zsh: the same POSIX single quotes as bash (`'\''` works with or without RC_QUOTES).

/// The shell integration (`mfaenv hook zsh`); `@MFAENV@` is the binary.
pub const HOOK: &str = include_str!("../../shell/mfaenv.zsh");

use super::bash::posix_quote;
use super::Shell;

pub struct Zsh;

impl Shell for Zsh {
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
