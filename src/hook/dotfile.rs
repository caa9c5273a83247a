//! The per-directory `.mfaenv` file: TOML with `profile` and an optional
//! `region`. It applies to its directory and everything below; the nearest wins.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const FILE_NAME: &str = ".mfaenv";

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub profile: String,
    pub region: Option<String>,
}

/// A `.mfaenv` file as found on disk.
#[derive(Debug, Clone)]
pub struct DotFile {
    /// The directory it applies to.
    pub dir: PathBuf,
    pub path: PathBuf,
    pub content: Vec<u8>,
}

impl DotFile {
    pub fn settings(&self) -> Result<Settings, String> {
        let text = std::str::from_utf8(&self.content)
            .map_err(|_| format!("{} is not UTF-8", self.path.display()))?;
        let settings: Settings = toml::from_str(text)
            .map_err(|e| format!("{}: {}", self.path.display(), e.message()))?;
        if settings.profile.trim().is_empty() {
            return Err(format!("{}: `profile` is empty", self.path.display()));
        }
        Ok(settings)
    }
}

/// The nearest `.mfaenv` at or above `start`.
pub fn find(start: &Path) -> Option<DotFile> {
    start.ancestors().find_map(|dir| {
        let path = dir.join(FILE_NAME);
        let content = std::fs::read(&path).ok()?;
        Some(DotFile {
            dir: dir.to_path_buf(),
            path,
            content,
        })
    })
}

/// `start` itself when it is a `.mfaenv` file, else the nearest one above the directory.
pub fn find_for(start: &Path) -> Option<DotFile> {
    if start.is_file() {
        let content = std::fs::read(start).ok()?;
        let dir = start.parent()?.to_path_buf();
        return Some(DotFile {
            dir,
            path: start.to_path_buf(),
            content,
        });
    }
    find(start)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let found = find(&root.join("a/b/c")).unwrap();
        assert_eq!(found.dir, root.join("a/b"));
        assert_eq!(
            found.settings().unwrap().region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            find(&root.join("a")).unwrap().settings().unwrap().profile,
            "prod"
        );
        std::fs::write(root.join("a/.mfaenv"), "profil = \"prod\"\n").unwrap();
        assert!(find(&root.join("a"))
            .unwrap()
            .settings()
            .unwrap_err()
            .contains("unknown field"));
    }
}
