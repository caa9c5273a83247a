//! Editing the AWS files in place: set keys in one section and keep every
//! other byte (comments, order, blank lines, line endings) as it was.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::ini::{self, Entry, Section};
use super::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("section [{0}] holds long-term keys (no aws_session_token); refusing to overwrite it — choose another section with --to")]
    LongTermKeys(String),
    #[error("`{}` cannot be a section name: {reason}", .name.escape_debug())]
    BadSection { name: String, reason: &'static str },
    /// The value is not shown: it may be a secret.
    #[error("refusing to write {key}: its value {reason}, which would change the file's structure; nothing was written")]
    UnsafeValue { key: String, reason: &'static str },
    #[error("cannot edit the file: {0}")]
    Unreadable(ConfigError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Refuses a section name that could not be read back as written.
pub fn check_section_name(name: &str) -> Result<(), EditError> {
    ini::check_section_name(name).map_err(|reason| EditError::BadSection {
        name: name.to_string(),
        reason,
    })
}

/// A profile name of the config file is also split from `profile` by
/// botocore's shlex: no whitespace, quotes or backslashes inside.
fn check_profile_name(name: &str) -> Result<(), EditError> {
    check_section_name(name)?;
    if name.contains(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '\\')) {
        return Err(EditError::BadSection {
            name: name.to_string(),
            reason: "a profile name of the config file holds no whitespace, quotes or backslashes",
        });
    }
    Ok(())
}

/// Refuses any value that would not stay on its own `key = value` line.
fn check_values(keys: &[(&str, &str)]) -> Result<(), EditError> {
    for (key, value) in keys {
        ini::check_value(value).map_err(|reason| EditError::UnsafeValue {
            key: key.to_string(),
            reason,
        })?;
    }
    Ok(())
}

/// `text` with `keys` set in section `[header]` (appended when missing).
/// Existing lines of those keys are replaced where they stand; other keys of
/// the section stay. With `protect_keys`, a section holding long-term keys is
/// refused. A header or value that could change the file's structure is
/// refused, whoever the caller is.
pub fn set_keys(
    text: &str,
    header: &str,
    keys: &[(&str, &str)],
    protect_keys: bool,
) -> Result<String, EditError> {
    check_section_name(header)?;
    set_keys_in(text, &|h| h == header, header, keys, protect_keys)
}

/// The config file's section header of profile `name`: `default` or `profile NAME`.
pub fn profile_header(name: &str) -> String {
    if name == "default" {
        name.to_string()
    } else {
        format!("profile {name}")
    }
}

/// [`set_keys`] for profile `name` of the config file: its section is the
/// first `[profile NAME]` (however spaced) or, for `default`, `[default]` or
/// `[profile default]`, as the AWS CLI reads them; a missing one is appended
/// as [`profile_header`].
pub fn set_profile_keys(
    text: &str,
    name: &str,
    keys: &[(&str, &str)],
) -> Result<String, EditError> {
    check_profile_name(name)?;
    let is_profile = |header: &str| {
        if name == "default" && header == "default" {
            return true;
        }
        header
            .strip_prefix("profile")
            .filter(|rest| rest.starts_with([' ', '\t']))
            .is_some_and(|rest| rest.trim() == name)
    };
    set_keys_in(text, &is_profile, &profile_header(name), keys, false)
}

/// Sets `keys` in every section whose header `matches` (the reader merges
/// them, later ones winning), else in a new section `[header]` at the end.
/// Sections, keys and continuation lines are those the reader sees.
fn set_keys_in(
    text: &str,
    matches: &dyn Fn(&str) -> bool,
    header: &str,
    keys: &[(&str, &str)],
    protect_keys: bool,
) -> Result<String, EditError> {
    check_values(keys)?;
    let file = ini::parse(Path::new("the file"), text).map_err(EditError::Unreadable)?;
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = ini::lines(text).collect();
    let targets: Vec<(usize, &Section)> = file
        .sections
        .iter()
        .enumerate()
        .filter(|(_, s)| matches(&s.header))
        .collect();
    if targets.is_empty() {
        return Ok(append_section(text, header, keys, eol));
    }
    let has = |s: &Section, k: &str| s.entries.iter().any(|e| e.key == k);
    if protect_keys
        && targets
            .iter()
            .any(|(_, s)| has(s, "aws_access_key_id") && !has(s, "aws_session_token"))
    {
        return Err(EditError::LongTermKeys(header.to_string()));
    }
    let mut edits = Edits::default();
    for (i, section) in &targets {
        let end = file
            .sections
            .get(i + 1)
            .map_or(lines.len(), |next| next.line - 1);
        edit_section(&lines, section, end, keys, eol, &mut edits);
    }
    Ok(edits.apply(&lines, eol))
}

/// `text` without `keys` in every section `[header]` (the reader merges
/// them all), continuation lines included; a section left with no entries
/// loses its header line too. Every other line — comments, blank lines,
/// other keys, other sections — stays byte for byte.
pub fn remove_keys(text: &str, header: &str, keys: &[&str]) -> Result<String, EditError> {
    let file = ini::parse(Path::new("the file"), text).map_err(EditError::Unreadable)?;
    // Lines as the reader numbers them (LF, CRLF or a lone CR).
    let lines: Vec<&str> = ini::lines(text).collect();
    let mut edits = Edits::default();
    let removed = |key: &str| keys.contains(&key);
    for section in &file.sections {
        if section.header != header {
            continue;
        }
        for entry in section.entries.iter().filter(|e| removed(&e.key)) {
            edits.replaced.insert(entry.line - 1, None);
            for line in continuation(&lines, entry) {
                edits.replaced.insert(line, None);
            }
        }
        if section.entries.iter().all(|e| removed(&e.key)) {
            edits.replaced.insert(section.line - 1, None);
        }
    }
    Ok(edits.apply(&lines, "\n"))
}

/// The headers of the sections of `text` that set `key` to `value` (as a
/// tool marks the sections it wrote: `mfaenv sso populate`).
pub fn headers_with(text: &str, key: &str, value: &str) -> Result<Vec<String>, EditError> {
    let file = ini::parse(Path::new("the file"), text).map_err(EditError::Unreadable)?;
    Ok(file
        .sections
        .iter()
        .filter(|s| s.entries.iter().any(|e| e.key == key && e.value == value))
        .map(|s| s.header.clone())
        .collect())
}

/// `text` without the sections `[header]` for each of `headers`: each
/// whole, from its header line to the next header. Every other byte stays.
pub fn remove_sections(text: &str, headers: &[String]) -> Result<String, EditError> {
    let file = ini::parse(Path::new("the file"), text).map_err(EditError::Unreadable)?;
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for section in file.sections.iter().filter(|s| headers.contains(&s.header)) {
        let start = section.span.start + file.bom;
        let end = section.span.end + file.bom;
        out.push_str(&text[at..start]);
        at = end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Line edits: replaced or removed lines, and lines inserted before an index.
#[derive(Default)]
struct Edits {
    replaced: BTreeMap<usize, Option<String>>,
    inserted: BTreeMap<usize, Vec<String>>,
}

impl Edits {
    fn apply(&self, lines: &[&str], eol: &str) -> String {
        let mut out = String::new();
        for i in 0..=lines.len() {
            if let Some(new) = self.inserted.get(&i) {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push_str(eol);
                }
                new.iter().for_each(|l| out.push_str(l));
            }
            match (self.replaced.get(&i), lines.get(i)) {
                (Some(Some(new)), _) => out.push_str(new),
                (Some(None), _) | (None, None) => {}
                (None, Some(line)) => out.push_str(line),
            }
        }
        out
    }
}

/// The edits that set `keys` in `section`, which ends before line `end`:
/// the first line of a key is replaced (its continuation lines removed),
/// later duplicates removed, missing keys added after the last non-blank line.
fn edit_section(
    lines: &[&str],
    section: &Section,
    end: usize,
    keys: &[(&str, &str)],
    eol: &str,
    edits: &mut Edits,
) {
    let start = section.line - 1;
    let mut missing = Vec::new();
    for (key, value) in keys {
        let mut at = section.entries.iter().filter(|e| e.key == *key);
        let Some(first) = at.next() else {
            missing.push(format!("{key} = {value}{eol}"));
            continue;
        };
        let ending = line_ending(lines[first.line - 1]);
        edits
            .replaced
            .insert(first.line - 1, Some(format!("{key} = {value}{ending}")));
        for line in continuation(lines, first) {
            edits.replaced.insert(line, None);
        }
        for duplicate in at {
            edits.replaced.insert(duplicate.line - 1, None);
            for line in continuation(lines, duplicate) {
                edits.replaced.insert(line, None);
            }
        }
    }
    let mut insert_at = end;
    while insert_at > start + 1 && lines[insert_at - 1].trim().is_empty() {
        insert_at -= 1;
    }
    if !missing.is_empty() {
        edits.inserted.entry(insert_at).or_default().extend(missing);
    }
}

fn line_ending(line: &str) -> &'static str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else if line.ends_with('\r') {
        "\r"
    } else {
        ""
    }
}

/// The continuation lines of `entry`'s value, as the reader joined them:
/// up to its last line, without the comment and blank lines between.
fn continuation(lines: &[&str], entry: &Entry) -> Vec<usize> {
    (entry.line..entry.end)
        .filter(|&i| {
            let t = lines.get(i).map_or("", |l| l.trim());
            !(t.is_empty() || t.starts_with('#') || t.starts_with(';'))
        })
        .collect()
}

fn append_section(text: &str, header: &str, keys: &[(&str, &str)], eol: &str) -> String {
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(eol);
    }
    if !out.trim().is_empty() {
        out.push_str(eol);
    }
    out.push_str(&format!("[{header}]{eol}"));
    for (key, value) in keys {
        out.push_str(&format!("{key} = {value}{eol}"));
    }
    out
}

/// The prefix of the temporary files [`write_private`] makes.
pub const TEMP_PREFIX: &str = ".mfaenv-";

/// Writes `text` to `path` atomically (temporary file beside it, then
/// rename), following a symlink to its target; the file ends 0600. Stale
/// temporary files of killed runs (they hold keys) are deleted first.
pub fn write_private(path: &Path, text: &str) -> Result<(), EditError> {
    let err = |source| EditError::Write {
        path: path.to_path_buf(),
        source,
    };
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    crate::files::remove_stale_temps(dir, TEMP_PREFIX);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    tmp.persist(&target).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [(&str, &str); 2] = [("aws_access_key_id", "ASIA2"), ("aws_session_token", "T2")];

    #[test]
    fn removes_keys_and_an_emptied_section() {
        let text = "# top\n[a]\naws_access_key_id = A\n  cont\nregion = eu\n\n[b] ; b\r\n# why\r\naws_access_key_id=B\r\naws_secret_access_key :S\r\n\n[a]\naws_secret_access_key = SA\n[c]\nx=1";
        let keys = ["aws_access_key_id", "aws_secret_access_key"];
        let out = remove_keys(text, "a", &keys).unwrap();
        assert_eq!(
            out,
            "# top\n[a]\nregion = eu\n\n[b] ; b\r\n# why\r\naws_access_key_id=B\r\naws_secret_access_key :S\r\n\n[c]\nx=1"
        );
        let out = remove_keys(&out, "b", &keys).unwrap();
        assert_eq!(out, "# top\n[a]\nregion = eu\n\n# why\r\n\n[c]\nx=1");
        assert_eq!(remove_keys(&out, "zzz", &keys).unwrap(), out);
    }

    #[test]
    fn replaces_in_place_and_keeps_the_rest() {
        let text = "# top\n[a]\nx = 1\n\n[b-mfa] ; mine\naws_access_key_id = ASIA1\nregion = eu\n\n\n[c]\ny=2";
        let out = set_keys(text, "b-mfa", &KEYS, false).unwrap();
        assert_eq!(
            out,
            "# top\n[a]\nx = 1\n\n[b-mfa] ; mine\naws_access_key_id = ASIA2\nregion = eu\naws_session_token = T2\n\n\n[c]\ny=2"
        );
    }

    #[test]
    fn appends_a_missing_section() {
        assert_eq!(
            set_keys("[a]\nx=1", "m", &KEYS[..1], true).unwrap(),
            "[a]\nx=1\n\n[m]\naws_access_key_id = ASIA2\n"
        );
        assert_eq!(
            set_keys("", "m", &KEYS[..1], true).unwrap(),
            "[m]\naws_access_key_id = ASIA2\n"
        );
        assert_eq!(
            set_keys("[a]\r\nx=1\r\n", "m", &KEYS[..1], true).unwrap(),
            "[a]\r\nx=1\r\n\r\n[m]\r\naws_access_key_id = ASIA2\r\n"
        );
    }

    #[test]
    fn profile_sections_of_the_config_file() {
        let text = "# my config\n[default]\nregion = eu-west-1\n\n[profile  prod] # main\nrole_arn = r\nMFA_SERIAL = old\n; end\n\n[prod]\nx = 1\n";
        let out = set_profile_keys(text, "prod", &[("mfa_serial", "arn:new")]).unwrap();
        assert_eq!(
            out,
            text.replace("MFA_SERIAL = old", "mfa_serial = arn:new")
        );
        let out = set_profile_keys(text, "default", &[("mfa_serial", "arn:d")]).unwrap();
        assert_eq!(
            out,
            text.replace(
                "region = eu-west-1\n",
                "region = eu-west-1\nmfa_serial = arn:d\n"
            )
        );
        // A bare [dev] is not a profile of the config file: a section is added.
        let out = set_profile_keys("[dev]\nx = 1\n", "dev", &[("mfa_serial", "arn:x")]).unwrap();
        assert_eq!(out, "[dev]\nx = 1\n\n[profile dev]\nmfa_serial = arn:x\n");
        let out =
            set_profile_keys("[profile default]\n", "default", &[("mfa_serial", "a")]).unwrap();
        assert_eq!(out, "[profile default]\nmfa_serial = a\n");
        assert_eq!(
            set_profile_keys("", "default", &[("mfa_serial", "a")]).unwrap(),
            "[default]\nmfa_serial = a\n"
        );
    }

    /// What the reader makes of `text`: section → key → value.
    fn read(text: &str) -> Vec<(String, Vec<(String, String)>)> {
        ini::parse(Path::new("t"), text)
            .unwrap()
            .sections
            .into_iter()
            .map(|s| {
                let entries = s
                    .entries
                    .into_iter()
                    .map(|e| (e.key.clone(), e.value.clone()))
                    .collect();
                (s.header, entries)
            })
            .collect()
    }

    #[test]
    fn refuses_values_that_break_the_line() {
        let text = "[base]\naws_access_key_id = AKIA\n";
        for bad in [
            "\n", "\r", "\r\n", "\0", "\u{2028}", "\x1b", "\x0b", "\u{85}",
        ] {
            let token = format!("T0K3N{bad}[default]{bad}credential_process = /tmp/evil");
            for protect in [true, false] {
                let keys = [
                    ("aws_access_key_id", "ASIA"),
                    ("aws_session_token", token.as_str()),
                ];
                let err = set_keys(text, "m", &keys, protect).unwrap_err();
                assert!(
                    matches!(err, EditError::UnsafeValue { .. }),
                    "{bad:?}: {err}"
                );
                let shown = err.to_string();
                assert!(
                    shown.contains("aws_session_token") && !shown.contains("T0K3N"),
                    "{shown}"
                );
                let err =
                    set_profile_keys(text, "p", &[("mfa_serial", token.as_str())]).unwrap_err();
                assert!(
                    matches!(err, EditError::UnsafeValue { .. }),
                    "{bad:?}: {err}"
                );
            }
        }
    }

    #[test]
    fn refuses_section_names_the_reader_would_see_otherwise() {
        let text = "[base]\naws_access_key_id = AKIA\naws_secret_access_key = s\n";
        for bad in [
            " base", "base ", "\tbase", "a]b", "[a", "a\nb", "a\rb", "a\0b", "",
        ] {
            let err = set_keys(text, bad, &KEYS, true).unwrap_err();
            assert!(
                matches!(err, EditError::BadSection { .. }),
                "{bad:?}: {err}"
            );
            let err = set_profile_keys(text, bad, &[("mfa_serial", "a")]).unwrap_err();
            assert!(
                matches!(err, EditError::BadSection { .. }),
                "{bad:?}: {err}"
            );
        }
        for bad in ["a b", "a'b", "a\"b", "a\\b"] {
            assert!(
                set_profile_keys("", bad, &[("mfa_serial", "a")]).is_err(),
                "{bad:?}"
            );
        }
        // The credentials file allows inner spaces, as botocore does.
        assert!(set_keys("", "my mfa", &KEYS, true).is_ok());
    }

    #[test]
    fn replaces_continuations_and_duplicates_the_reader_would_merge() {
        let text = "[m]\naws_session_token = old\n  [base]\n  x = 1\n# note\nregion = eu\naws_session_token = old2\n[m]\naws_session_token = old3\n";
        let out = set_keys(text, "m", &KEYS[1..], true).unwrap();
        assert_eq!(
            out,
            "[m]\naws_session_token = T2\n# note\nregion = eu\n[m]\naws_session_token = T2\n"
        );
        let read = read(&out);
        assert_eq!(read.len(), 2);
        for (header, entries) in read {
            assert_eq!(header, "m");
            assert!(entries.contains(&("aws_session_token".into(), "T2".into())));
        }
    }

    /// The editor's continuation lines are the reader's: keys indented
    /// alike are separate keys (configparser), not one value, so replacing
    /// one keeps the next; a lone CR ends a line for both.
    #[test]
    fn indented_keys_and_cr_lines_as_the_reader_sees_them() {
        let text = "[m]\n  aws_session_token = old\n    more\n  region = eu\n";
        let out = set_keys(text, "m", &KEYS[1..], true).unwrap();
        assert_eq!(out, "[m]\naws_session_token = T2\n  region = eu\n");
        let out = set_keys(
            "[m]\raws_session_token = old\rregion = eu\r",
            "m",
            &KEYS[1..],
            true,
        )
        .unwrap();
        assert_eq!(out, "[m]\raws_session_token = T2\rregion = eu\r");
    }

    #[test]
    fn the_guard_sees_duplicate_sections() {
        let text = "[m]\naws_session_token = t\n[m]\naws_access_key_id = AKIA\n";
        assert!(matches!(
            set_keys(text, "m", &KEYS, true),
            Err(EditError::LongTermKeys(_))
        ));
    }

    #[test]
    fn refuses_long_term_keys() {
        let text = "[base]\naws_access_key_id = AKIA\naws_secret_access_key = s\n";
        assert!(matches!(
            set_keys(text, "base", &KEYS, true),
            Err(EditError::LongTermKeys(_))
        ));
        assert!(set_keys(text, "base", &KEYS, false).is_ok());
    }
}
