//! dotenv: `NAME=value` lines for `--env-file`, docker compose and dotenv
//! libraries. Plain values stay bare; anything else is double-quoted with
//! `\\`, `\"`, `\$`, `\n` escapes. A file cannot remove a variable, so unsets
//! are left out.

use super::Shell;

pub struct Dotenv;

fn is_plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-.:,@%".contains(&b))
}

impl Shell for Dotenv {
    fn quote(&self, value: &str) -> String {
        if is_plain(value) {
            return value.to_string();
        }
        let mut out = String::from("\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '$' => out.push_str("\\$"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                _ => out.push(c),
            }
        }
        out.push('"');
        out
    }
    fn set(&self, name: &str, value: &str) -> String {
        format!("{name}={}\n", self.quote(value))
    }
    fn unset(&self, _name: &str) -> String {
        String::new()
    }
    fn failure(&self) -> &'static str {
        ""
    }
}
