//! dotenv: `NAME=value` lines for `--env-file`, docker compose and dotenv
//! libraries. A file cannot remove a variable, so unsets are left out.
//!
//! dotenv has no standard; each value is written in the form that python-dotenv
//! (1.x, as `load_dotenv`/`dotenv_values` read it, with or without
//! interpolation) and docker compose's documented `.env` rules both read back
//! exactly, and a value no such form exists for is refused ([`encode`]):
//!
//! - plain (`[A-Za-z0-9+/=_.:,@%-]`, non-empty: every key, token, region and
//!   date mfaenv sets) stays bare;
//! - else single quotes, which both read literally apart from `\'` (compose:
//!   "single-quoted values are used literally", "quotes can be escaped with
//!   `\`"; python-dotenv also turns `\\` into `\`). So a `\` may not stand
//!   before `\`, `'` or the closing quote, and a line break, which compose
//!   documents only for double quotes, may not appear;
//! - else double quotes with `\\ \" \n \r`, the escapes both document; both
//!   expand `$` there (compose `$VAR`, python-dotenv `${VAR}`) and neither has
//!   an escape for it that the other reads, so only for values without `$`.
//! - `${` anywhere is refused: python-dotenv expands it even in single quotes.

use super::Shell;

pub struct Dotenv;

fn is_plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-.:,@%".contains(&b))
}

/// Whether `value` reads back the same inside single quotes (with `'` as `\'`).
fn single_quotable(value: &str) -> bool {
    let bytes = value.as_bytes();
    !value.contains(['\n', '\r'])
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| *b != b'\\' || !matches!(bytes.get(i + 1), None | Some(b'\\' | b'\'')))
}

/// The literal both readers turn back into `value`, or why there is none.
pub fn encode(value: &str) -> Result<String, &'static str> {
    if value.contains("${") {
        return Err("it holds `${`, which python-dotenv expands in any quoting");
    }
    if is_plain(value) {
        return Ok(value.to_string());
    }
    if single_quotable(value) {
        return Ok(format!("'{}'", value.replace('\'', "\\'")));
    }
    if value.contains('$') {
        return Err("it holds `$` (expanded inside double quotes) and a line break or a `\\` that single quotes cannot hold");
    }
    Ok(double_quoted(value))
}

fn double_quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Shell for Dotenv {
    /// [`encode`]'s literal. A value it refuses is stopped by
    /// `shell::try_render` before anything is printed; here it gets the
    /// double-quoted form, which is exact for python-dotenv without
    /// interpolation only.
    fn quote(&self, value: &str) -> String {
        encode(value).unwrap_or_else(|_| double_quoted(value))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            encode("AKIAIOSFODNN7EXAMPLE/+=").unwrap(),
            "AKIAIOSFODNN7EXAMPLE/+="
        );
        assert_eq!(encode("").unwrap(), "''");
        assert_eq!(encode("a b$c").unwrap(), "'a b$c'");
        assert_eq!(encode("it's").unwrap(), "'it\\'s'");
        assert_eq!(encode("a\\b").unwrap(), "'a\\b'");
        assert_eq!(encode("a\\").unwrap(), "\"a\\\\\"");
        assert_eq!(encode("l1\nl2\"").unwrap(), "\"l1\\nl2\\\"\"");
        assert!(encode("${HOME}").is_err());
        assert!(encode("$x\n").is_err());
        assert!(encode("$x\\\\").is_err());
    }
}
