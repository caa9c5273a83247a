//! The per-directory `.mfaenv` file: TOML with `profile` and an optional
//! `region`. It applies to its directory and everything below; the nearest wins.
//!
//! Only a regular file owned by the user (or root) and not writable by group
//! or others is read, at most [`MAX_SIZE`] bytes, never blocking (see
//! [`crate::files::read_bounded`]). A `.mfaenv` that is a symlink is read
//! through (its link must be ours or root's too); trust then names the link
//! itself (see `trust.rs`). Anything else at the nearest `.mfaenv` is
//! [`Refused`]: it is the nearest one, so nothing above it applies either.

use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::files;
use crate::ui;

pub const FILE_NAME: &str = ".mfaenv";

/// A `.mfaenv` holds two short lines; anything larger is not one.
pub const MAX_SIZE: u64 = 64 * 1024;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub profile: String,
    pub region: Option<String>,
    /// How long before expiry the hook refreshes: `"15m"` or seconds.
    pub refresh_before: Option<DurationSetting>,
}

/// A duration in a `.mfaenv`: `900` or `"15m"`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum DurationSetting {
    Seconds(u64),
    Text(String),
}

impl DurationSetting {
    pub fn duration(&self) -> Result<std::time::Duration, String> {
        match self {
            DurationSetting::Seconds(s) => Ok(std::time::Duration::from_secs(*s)),
            DurationSetting::Text(t) => crate::duration::parse(t),
        }
    }
}

/// A `.mfaenv` file as found on disk.
#[derive(Debug, Clone)]
pub struct DotFile {
    /// The directory it applies to, as it was reached (not resolved).
    pub dir: PathBuf,
    /// `dir/.mfaenv`.
    pub path: PathBuf,
    /// The file's real path (the target, when `path` is a symlink).
    pub real: PathBuf,
    /// What the symlink says, when `path` is one.
    pub link: Option<PathBuf>,
    pub content: Vec<u8>,
}

/// A `.mfaenv` that is not read, and why.
#[derive(Debug, Clone)]
pub struct Refused {
    pub dir: PathBuf,
    pub path: PathBuf,
    /// `is owned by another user (uid 1001)`, `is not a regular file (a FIFO)`, ….
    pub reason: String,
    /// What to do about it.
    pub fix: String,
}

impl Refused {
    /// One line for people: the escaped path, why, and what to do.
    pub fn message(&self) -> String {
        format!(
            "{} {}: not loaded — {}",
            ui::path(&self.path),
            self.reason,
            self.fix
        )
    }
}

pub type Found = Result<DotFile, Refused>;

impl DotFile {
    pub fn settings(&self) -> Result<Settings, String> {
        let shown = ui::path(&self.path);
        let text =
            std::str::from_utf8(&self.content).map_err(|_| format!("{shown} is not UTF-8"))?;
        let settings: Settings = toml::from_str(text).map_err(|e| toml_error(&shown, text, &e))?;
        if settings.profile.trim().is_empty() {
            return Err(format!("{shown}: `profile` is empty"));
        }
        if let Some(Err(e)) = settings.refresh_before.as_ref().map(|d| d.duration()) {
            return Err(format!("{shown}: refresh_before: {e}"));
        }
        Ok(settings)
    }
}

/// A TOML error with the line it is on and that line (escaped): `path:2:
/// invalid string (`profile = prod`)`.
fn toml_error(shown: &str, text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim_end();
    let Some(start) = err.span().map(|s| s.start) else {
        return format!("{shown}: {message}");
    };
    let line = text.get(..start).map_or(1, |t| t.matches('\n').count() + 1);
    let content = text.lines().nth(line - 1).unwrap_or_default().trim();
    format!("{shown}:{line}: {message} (`{}`)", ui::escape(content))
}

/// The nearest `.mfaenv` at or above `start`, read or refused. `start` may
/// name a file (`mfaenv allow proj/.mfaenv`): its directory is searched.
pub fn find(start: &Path) -> Option<Found> {
    normalize(start).ancestors().find_map(|dir| {
        let path = dir.join(FILE_NAME);
        // No `.mfaenv` here (a directory of that name is not one either).
        let link_meta = std::fs::symlink_metadata(&path).ok()?;
        if link_meta.is_dir() {
            return None;
        }
        Some(read(dir, path, &link_meta))
    })
}

/// `path` with `.` and `..` taken out as the shell's `cd` does (by name, not
/// by following symlinks), so `allow ../proj` names what `cd ../proj` reaches.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                // `/..` is `/`; a relative path keeps its leading `..`s.
                let after_parent =
                    matches!(out.components().next_back(), Some(Component::ParentDir));
                if after_parent || (!out.pop() && !out.has_root()) {
                    out.push(part);
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn read(dir: &Path, path: PathBuf, link_meta: &std::fs::Metadata) -> Found {
    let refuse = |reason: String, fix: &str| Refused {
        dir: dir.to_path_buf(),
        path: path.clone(),
        reason,
        fix: fix.to_string(),
    };
    let is_link = link_meta.file_type().is_symlink();
    if is_link {
        if let Some(owner) = foreign_owner(link_meta) {
            return Err(refuse(
                format!("is a symlink of another user (uid {owner})"),
                "only your own files (or root's) are read",
            ));
        }
    }
    let (content, meta) = match files::read_bounded(&path, MAX_SIZE) {
        Ok(read) => read,
        Err(e) => {
            return Err(refuse(
                format!("cannot be read: {e}"),
                "remove it or fix it",
            ))
        }
    };
    if let Some(owner) = foreign_owner(&meta) {
        return Err(refuse(
            format!("is owned by another user (uid {owner})"),
            "only your own files (or root's) are read",
        ));
    }
    if let Some(mode) = writable_by_others(&meta) {
        return Err(refuse(
            format!("is writable by others (mode {mode:o})"),
            "`chmod go-w` it, then `mfaenv allow`",
        ));
    }
    let link = if is_link {
        std::fs::read_link(&path).ok()
    } else {
        None
    };
    let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    Ok(DotFile {
        dir: dir.to_path_buf(),
        path,
        real,
        link,
        content,
    })
}

/// The owner, when it is neither the user nor root.
fn foreign_owner(meta: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let owner = meta.uid();
        (owner != files::uid() && owner != 0).then_some(owner)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// The mode, when group or others may write the file.
fn writable_by_others(meta: &std::fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o7777;
        (mode & 0o022 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn found(start: &Path) -> DotFile {
        find(start).expect("a .mfaenv").expect("read")
    }

    #[test]
    fn nearest_wins_and_settings_parse() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        std::fs::write(root.join("a/.mfaenv"), "profile = \"prod\"\n").unwrap();
        std::fs::write(
            root.join("a/b/.mfaenv"),
            "profile = \"dev\"\nregion = \"eu-west-1\"\n",
        )
        .unwrap();
        let file = found(&root.join("a/b/c"));
        assert_eq!(file.dir, root.join("a/b"));
        assert_eq!(file.path, root.join("a/b/.mfaenv"));
        assert_eq!(file.link, None);
        assert_eq!(
            file.settings().unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(found(&root.join("a")).settings().unwrap().profile, "prod");
        assert_eq!(found(&root.join("a/b/c/../..")).dir, root.join("a"));
        std::fs::write(root.join("a/.mfaenv"), "profil = \"prod\"\n").unwrap();
        assert!(found(&root.join("a"))
            .settings()
            .unwrap_err()
            .contains("unknown field"));
        assert!(find(root).is_none());
    }

    #[test]
    fn a_symlink_is_read_and_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::create_dir_all(root.join("other")).unwrap();
        std::fs::write(root.join("real/.mfaenv"), "profile = \"prod\"\n").unwrap();
        std::os::unix::fs::symlink("../real/.mfaenv", root.join("other/.mfaenv")).unwrap();
        let file = found(&root.join("other"));
        assert_eq!(file.dir, root.join("other"));
        assert_eq!(file.link.as_deref(), Some(Path::new("../real/.mfaenv")));
        assert_eq!(
            file.real,
            std::fs::canonicalize(root.join("real/.mfaenv")).unwrap()
        );
        let via_file = found(&root.join("other/.mfaenv"));
        assert_eq!(via_file.path, file.path);
        assert_eq!(via_file.dir, file.dir);
    }

    #[test]
    fn the_nearest_unreadable_kind_is_refused_not_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/.mfaenv"), "profile = \"prod\"\n").unwrap();
        let fifo = std::ffi::CString::new(
            root.join("a/b/.mfaenv")
                .into_os_string()
                .into_encoded_bytes(),
        )
        .unwrap();
        // SAFETY: a valid C string; mkfifo has no other preconditions.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let refused = find(&root.join("a/b")).unwrap().unwrap_err();
        assert_eq!(
            refused.reason,
            "cannot be read: not a regular file (a FIFO)"
        );
        assert_eq!(refused.dir, root.join("a/b"));
        std::fs::remove_file(root.join("a/b/.mfaenv")).unwrap();
        std::fs::create_dir(root.join("a/b/.mfaenv")).unwrap();
        assert_eq!(
            found(&root.join("a/b")).dir,
            root.join("a"),
            "a directory is no .mfaenv"
        );
        let file = root.join("a/.mfaenv");
        for mode in [0o664, 0o646] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let refused = find(&root.join("a")).unwrap().unwrap_err();
            assert_eq!(
                refused.reason,
                format!("is writable by others (mode {mode:o})")
            );
            assert!(refused.message().contains("chmod go-w"));
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(&file, vec![b'#'; MAX_SIZE as usize + 1]).unwrap();
        let refused = find(&root.join("a")).unwrap().unwrap_err();
        assert_eq!(refused.reason, "cannot be read: larger than 64 KiB");
    }

    #[test]
    fn normalize_is_by_name() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d/..")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/..")), Path::new("/"));
        assert_eq!(normalize(Path::new("../a/../../b")), Path::new("../../b"));
        assert_eq!(normalize(Path::new("../b")), Path::new("../b"));
    }
}
