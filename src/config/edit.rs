//! Editing the AWS files in place: set keys in one section and keep every
//! other byte (comments, order, blank lines, line endings) as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("section [{0}] holds long-term keys (no aws_session_token); refusing to overwrite it — choose another section with --to")]
    LongTermKeys(String),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `text` with `keys` set in section `[header]` (appended when missing).
/// Existing lines of those keys are replaced where they stand; other keys of
/// the section stay. With `protect_keys`, a section holding long-term keys is refused.
pub fn set_keys(
    text: &str,
    header: &str,
    keys: &[(&str, &str)],
    protect_keys: bool,
) -> Result<String, EditError> {
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

/// Sets `keys` in the first section whose header `matches`, else in a new
/// section `[header]` at the end.
fn set_keys_in(
    text: &str,
    matches: &dyn Fn(&str) -> bool,
    header: &str,
    keys: &[(&str, &str)],
    protect_keys: bool,
) -> Result<String, EditError> {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let Some(start) = lines
        .iter()
        .position(|l| header_of(l).is_some_and(|h| matches(&h)))
    else {
        return Ok(append_section(text, header, keys, eol));
    };
    let end = (start + 1..lines.len())
        .find(|&i| lines[i].trim_start().starts_with('['))
        .unwrap_or(lines.len());
    let present: Vec<Option<String>> = lines[start + 1..end].iter().map(|l| key_of(l)).collect();
    let has = |k: &str| present.iter().any(|p| p.as_deref() == Some(k));
    if protect_keys && has("aws_access_key_id") && !has("aws_session_token") {
        return Err(EditError::LongTermKeys(header.to_string()));
    }
    let mut missing = Vec::new();
    for (key, value) in keys {
        match present.iter().position(|p| p.as_deref() == Some(*key)) {
            Some(offset) => {
                let line = &mut lines[start + 1 + offset];
                let ending = if line.ends_with("\r\n") {
                    "\r\n"
                } else if line.ends_with('\n') {
                    "\n"
                } else {
                    ""
                };
                *line = format!("{key} = {value}{ending}");
            }
            None => missing.push(format!("{key} = {value}{eol}")),
        }
    }
    // New keys go after the section's last non-blank line.
    let mut insert_at = end;
    while insert_at > start + 1 && lines[insert_at - 1].trim().is_empty() {
        insert_at -= 1;
    }
    if !missing.is_empty() && !lines[insert_at - 1].ends_with('\n') {
        lines[insert_at - 1].push_str(eol);
    }
    lines.splice(insert_at..insert_at, missing);
    Ok(lines.concat())
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

fn header_of(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    let rest = inner[close + 1..].trim();
    (rest.is_empty() || rest.starts_with('#') || rest.starts_with(';'))
        .then(|| inner[..close].trim().to_string())
}

fn key_of(line: &str) -> Option<String> {
    if line.starts_with([' ', '\t']) {
        return None;
    }
    let t = line.trim();
    if t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    let at = t.find(['=', ':'])?;
    Some(t[..at].trim().to_ascii_lowercase())
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
