//! A reader for the AWS shared config and credentials files.
//!
//! It follows the AWS CLI's (Python configparser's) reading: `#`/`;` comment
//! lines, `key = value` or `key: value` split at the first delimiter, keys
//! lower-cased, values kept as written (no inline comments), lines indented
//! deeper than their key continuing its value (nested `s3 =` blocks), lines
//! broken at LF, CRLF or CR. Every entry keeps its line so errors can point
//! at it.

use std::path::{Path, PathBuf};

use super::ConfigError;

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
    /// The last line of the value (its last continuation line).
    pub end: usize,
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
    /// Its bytes in the text (after any BOM): from the start of its header
    /// line to the start of the next header line, or the end. Parsed alone,
    /// they give this section (see `config::index`).
    pub span: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct IniFile {
    pub path: PathBuf,
    pub sections: Vec<Section>,
    /// The bytes of a byte-order mark before the text (0 or 3): the spans
    /// of the sections start after it.
    pub bom: usize,
}

impl Section {
    /// This section as if its header were at line `line` (it was parsed
    /// alone, from line 1).
    pub fn moved_to(mut self, line: usize) -> Section {
        let by = line - self.line;
        self.line = line;
        for entry in &mut self.entries {
            entry.line += by;
            entry.end += by;
        }
        self
    }
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
    let stripped = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut file = IniFile {
        path: path.to_path_buf(),
        sections: Vec::new(),
        bom: text.len() - stripped.len(),
    };
    let text = stripped;
    let mut offset = 0;
    // configparser's state: the indentation of the line that started the
    // value being read (none right after a header), and the blank lines
    // seen since, which belong to the value when a continuation follows.
    let mut key_indent: Option<usize> = None;
    let mut blanks = 0;
    for (index, raw) in lines(text).enumerate() {
        let line_no = index + 1;
        let starts = offset;
        offset += raw.len();
        let raw = raw.trim_end_matches(['\r', '\n']);
        let trimmed = py_strip(raw);
        if trimmed.is_empty() {
            blanks += 1;
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indent = raw.chars().take_while(|c| is_py_space(*c)).count();
        if key_indent.is_some_and(|level| indent > level) {
            if let Some(entry) = file.sections.last_mut().and_then(|s| s.entries.last_mut()) {
                for _ in 0..=blanks {
                    entry.value.push('\n');
                }
                entry.value.push_str(trimmed);
                entry.end = line_no;
                blanks = 0;
                continue;
            }
        }
        blanks = 0;
        if let Some(header) = section_header(trimmed) {
            if let Some(last) = file.sections.last_mut() {
                last.span.end = starts;
            }
            file.sections.push(Section {
                header,
                line: line_no,
                entries: Vec::new(),
                span: starts..text.len(),
            });
            key_indent = None;
            continue;
        }
        let Some((key, value)) = split_key_value(trimmed) else {
            let message = if trimmed.starts_with('[') {
                "unterminated section header"
            } else {
                "expected `key = value`"
            };
            return Err(syntax(path, line_no, message));
        };
        let Some(section) = file.sections.last_mut() else {
            return Err(syntax(path, line_no, "a key before any [section] header"));
        };
        section.entries.push(Entry {
            key,
            value,
            line: line_no,
            end: line_no,
        });
        key_indent = Some(indent);
    }
    Ok(file)
}

/// The lines of `text`, each with its line break, broken where Python's
/// universal newlines break them (and so configparser): LF, CRLF and a lone CR.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = match rest.find(['\r', '\n']) {
            None => rest.len(),
            Some(at) if rest[at..].starts_with("\r\n") => at + 2,
            Some(at) => at + 1,
        };
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// Python's `str.isspace`, which `str.strip` and configparser's indentation
/// use: Unicode whitespace and the separators U+001C to U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip(text: &str) -> &str {
    text.trim_matches(is_py_space)
}

/// `[name]`, as configparser reads it: `line` (trimmed) starts with `[`,
/// and the name is everything between it and the last `]`, as written;
/// what follows that `]` (a comment, or anything) is ignored.
fn section_header(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?;
    let close = inner.rfind(']')?;
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

/// configparser's `key = value` / `key: value`: split at the first
/// delimiter, both sides stripped, the key lower-cased as Python's
/// `str.lower` does (Unicode: `\u{212a}` KELVIN SIGN is a `k`).
fn split_key_value(line: &str) -> Option<(String, String)> {
    let at = line.find(['=', ':'])?;
    let key = py_strip(&line[..at]);
    if key.is_empty() {
        return None;
    }
    Some((key.to_lowercase(), py_strip(&line[at + 1..]).to_string()))
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

    /// configparser's reading, each checked against botocore by
    /// tests/botocore_diff.rs: a line continues a value only when indented
    /// deeper than its key; blank lines inside a value are kept; CR alone
    /// breaks a line; text after a header's `]` is ignored; `[a=b` is a key.
    #[test]
    fn reads_as_configparser_does() {
        let f = p("[a]\n  k = 1\n  j = 2\n    more\n\n\n    last\n\n").unwrap();
        let e = &f.sections[0].entries;
        assert_eq!((e[0].key.as_str(), e[0].value.as_str()), ("k", "1"));
        assert_eq!(e[1].value, "2\nmore\n\n\nlast");
        assert_eq!((e[1].line, e[1].end), (3, 7));
        let f = p("[a] junk\rk = 1\r[b]x]\r\nK\u{212a} = 2\n[c=d\n").unwrap();
        assert_eq!(f.sections[0].header, "a");
        assert_eq!(f.sections[0].entries[0].value, "1");
        assert_eq!(f.sections[1].header, "b]x");
        assert_eq!(f.sections[1].line, 3);
        assert_eq!(f.sections[1].entries[0].key, "kk");
        assert_eq!(f.sections[1].entries[1].key, "[c");
        assert_eq!(f.sections[1].entries[1].line, 5);
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
