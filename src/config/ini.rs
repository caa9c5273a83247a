//! A reader for the AWS shared config and credentials files.
//!
//! It follows the AWS CLI's (Python configparser's) reading: `#`/`;` comment
//! lines, `key = value` or `key: value` split at the first delimiter, keys
//! lower-cased, values kept as written (no inline comments), indented lines
//! continuing the previous value (nested `s3 =` blocks). Every entry keeps
//! its line so errors can point at it.

use std::path::{Path, PathBuf};

use super::ConfigError;

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

// Entries of the credentials file are long-term secrets: wiped on drop.
impl Drop for Entry {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.value);
    }
}

#[derive(Debug, Clone)]
pub struct Section {
    /// The header as written between the brackets (not trimmed: Python's
    /// configparser, and so botocore, reads `[ base]` as section ` base`).
    pub header: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Default)]
pub struct IniFile {
    pub path: PathBuf,
    pub sections: Vec<Section>,
}

/// Parses file bytes; non-UTF-8 content is an error naming the line.
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<IniFile, ConfigError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        syntax(path, line, "the file is not valid UTF-8")
    })?;
    parse(path, text)
}

pub fn parse(path: &Path, text: &str) -> Result<IniFile, ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut file = IniFile {
        path: path.to_path_buf(),
        sections: Vec::new(),
    };
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if indented {
            if let Some(entry) = file.sections.last_mut().and_then(|s| s.entries.last_mut()) {
                entry.value.push('\n');
                entry.value.push_str(trimmed);
                continue;
            }
        }
        if trimmed.starts_with('[') {
            let header = section_header(trimmed)
                .ok_or_else(|| syntax(path, line_no, "unterminated section header"))?;
            file.sections.push(Section {
                header,
                line: line_no,
                entries: Vec::new(),
            });
            continue;
        }
        let Some((key, value)) = split_key_value(trimmed) else {
            return Err(syntax(path, line_no, "expected `key = value`"));
        };
        let Some(section) = file.sections.last_mut() else {
            return Err(syntax(path, line_no, "a key before any [section] header"));
        };
        section.entries.push(Entry {
            key,
            value,
            line: line_no,
        });
    }
    Ok(file)
}

/// `[name]`, optionally followed by a `#` or `;` comment; `line` is trimmed.
/// The name is everything between the first `[` and the last `]`, as
/// written, as configparser reads it.
fn section_header(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    let rest = inner[close + 1..].trim();
    if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
        return None;
    }
    let header = &inner[..close];
    (!header.is_empty()).then(|| header.to_string())
}

/// Why `name` cannot be written as a section `[name]`, if it cannot: the
/// writer, the long-term-keys guard and the reader must all see the same
/// name, so whitespace at the ends (which some readers trim and others
/// keep), brackets and control characters are refused.
pub fn check_section_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("it is empty")
    } else if name.trim() != name {
        Err("it starts or ends with whitespace")
    } else if name.contains(['[', ']']) {
        Err("it contains `[` or `]`")
    } else if name.chars().any(is_line_break_or_control) {
        Err("it contains a control character")
    } else {
        Ok(())
    }
}

/// Why `value` cannot be written as `key = value`, if it cannot: a line
/// break would start a new line, and so a new key or `[section]`, in the
/// file (configparser breaks lines at LF, CR and CRLF); NUL and other
/// control characters have no place in a value either.
pub fn check_value(value: &str) -> Result<(), &'static str> {
    if value.contains(['\n', '\r']) {
        Err("it contains a line break (CR or LF)")
    } else if value.contains('\0') {
        Err("it contains a NUL byte")
    } else if value.chars().any(is_line_break_or_control) {
        Err("it contains a control character")
    } else {
        Ok(())
    }
}

/// Control characters, and the Unicode line and paragraph separators.
fn is_line_break_or_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

fn split_key_value(line: &str) -> Option<(String, String)> {
    let at = line.find(['=', ':'])?;
    let key = line[..at].trim();
    if key.is_empty() {
        return None;
    }
    Some((key.to_ascii_lowercase(), line[at + 1..].trim().to_string()))
}

fn syntax(path: &Path, line: usize, message: &str) -> ConfigError {
    ConfigError::Syntax {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<IniFile, ConfigError> {
        parse(Path::new("cfg"), text)
    }

    #[test]
    fn sections_keys_comments_continuations() {
        let f = p("# top\n[default]\nRegion = us-east-1\n; c\n[profile a] # note\nrole_arn: arn:aws:iam::1:role/x\ns3 =\n  max_concurrent_requests = 4\n").unwrap();
        assert_eq!(f.sections.len(), 2);
        assert_eq!(f.sections[0].entries[0].key, "region");
        assert_eq!(f.sections[1].header, "profile a");
        assert_eq!(f.sections[1].entries[0].value, "arn:aws:iam::1:role/x");
        assert_eq!(
            f.sections[1].entries[1].value,
            "\nmax_concurrent_requests = 4"
        );
        assert_eq!(f.sections[1].entries[1].line, 7);
    }

    #[test]
    fn value_keeps_hash() {
        let f = p("[a]\nk = v # not a comment\n").unwrap();
        assert_eq!(f.sections[0].entries[0].value, "v # not a comment");
    }

    #[test]
    fn errors_name_the_line() {
        let e = p("[a]\nk = v\n[profile b\n").unwrap_err().to_string();
        assert!(e.contains("cfg:3") && e.contains("unterminated"), "{e}");
        let e = p("[a]\njust words\n").unwrap_err().to_string();
        assert!(e.contains("cfg:2"), "{e}");
        let e = p("k = v\n").unwrap_err().to_string();
        assert!(e.contains("cfg:1"), "{e}");
        let e = parse_bytes(Path::new("cfg"), b"[a]\nk = \xff\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cfg:2") && e.contains("UTF-8"), "{e}");
    }
}
