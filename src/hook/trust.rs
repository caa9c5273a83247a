//! Trust for `.mfaenv` files, like direnv's, and bound to the place: `mfaenv
//! allow` records a hash of the path the file was found at (its directory as
//! it was reached, not resolved), the file's real path, what the symlink says
//! when `.mfaenv` is one, and the content. Editing the file, or reaching the
//! same content anywhere else (a symlink, a hard link, a copy, a symlinked
//! directory), gives a file nobody allowed. `mfaenv deny` blocks a path
//! whatever its content.
//!
//! Store: `$XDG_DATA_HOME/mfaenv` (or `MFAENV_DATA_DIR`), `allow/<hash>` and
//! `deny/<hash of path>`, each file holding the path for people to read. An
//! entry counts only when it is a regular file of ours; it is looked at, not
//! read, on the hook path.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::dotfile::DotFile;
use crate::env_vars::hex;
use crate::files;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    Allowed,
    Denied,
    Unknown,
}

pub struct TrustStore {
    root: PathBuf,
}

/// Adds `bytes` to `h` with their length first, so no two lists of fields
/// hash alike.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

/// The hash that names one version of one file at one place.
pub fn version_hash(file: &DotFile) -> String {
    let mut h = Sha256::new();
    field(&mut h, b"mfaenv allow v2");
    field(&mut h, bytes(&file.path));
    field(&mut h, bytes(&file.real));
    match &file.link {
        Some(link) => {
            field(&mut h, b"symlink");
            field(&mut h, bytes(link));
        }
        None => field(&mut h, b"file"),
    }
    field(&mut h, &file.content);
    hex(&h.finalize())
}

/// The hash that names a path as found (what `deny` blocks).
fn path_hash(path: &Path) -> String {
    let mut h = Sha256::new();
    field(&mut h, b"mfaenv deny v2");
    field(&mut h, bytes(path));
    hex(&h.finalize())
}

/// Whether `entry` is a regular file of ours (a planted one is no entry).
fn is_entry(entry: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(entry) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.is_file() && meta.uid() == files::uid()
    }
    #[cfg(not(unix))]
    meta.is_file()
}

impl TrustStore {
    /// In the data directory (see [`crate::settings::data_dir`]).
    pub fn open() -> Option<TrustStore> {
        Some(TrustStore {
            root: crate::settings::data_dir()?,
        })
    }

    /// The data directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn check(&self, file: &DotFile) -> Trust {
        if self.is_denied(&file.path) {
            Trust::Denied
        } else if is_entry(&self.root.join("allow").join(version_hash(file))) {
            Trust::Allowed
        } else {
            Trust::Unknown
        }
    }

    /// Whether `mfaenv deny` blocked the `.mfaenv` at `path`.
    pub fn is_denied(&self, path: &Path) -> bool {
        is_entry(&self.root.join("deny").join(path_hash(path)))
    }

    /// Trusts this version of the file (and forgets older versions and any deny).
    pub fn allow(&self, file: &DotFile) -> std::io::Result<()> {
        self.forget(&file.path)?;
        self.record("allow", &version_hash(file), &file.path)
    }

    /// Blocks the `.mfaenv` at `path` until it is allowed again.
    pub fn deny(&self, path: &Path) -> std::io::Result<()> {
        self.forget(path)?;
        self.record("deny", &path_hash(path), path)
    }

    fn record(&self, kind: &str, name: &str, path: &Path) -> std::io::Result<()> {
        let dir = self.root.join(kind);
        create_private_dir(&dir)?;
        let mut text = bytes(path).to_vec();
        text.push(b'\n');
        std::fs::write(dir.join(name), text)
    }

    /// Removes every allow and deny entry for `path`.
    fn forget(&self, path: &Path) -> std::io::Result<()> {
        let mut wanted = bytes(path).to_vec();
        wanted.push(b'\n');
        for kind in ["allow", "deny"] {
            let Ok(entries) = std::fs::read_dir(self.root.join(kind)) else {
                continue;
            };
            for entry in entries.flatten() {
                let cap = wanted.len() as u64;
                if files::read_bounded(&entry.path(), cap).is_ok_and(|(c, _)| c == wanted) {
                    std::fs::remove_file(entry.path())?;
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tmp: &tempfile::TempDir) -> TrustStore {
        TrustStore {
            root: tmp.path().join("data"),
        }
    }

    fn dotfile(dir: &Path, content: &str) -> DotFile {
        DotFile {
            dir: dir.to_path_buf(),
            path: dir.join(".mfaenv"),
            real: dir.join(".mfaenv"),
            link: None,
            content: content.as_bytes().to_vec(),
        }
    }

    #[test]
    fn allow_edit_deny() {
        let tmp = tempfile::tempdir().unwrap();
        let store = store(&tmp);
        let mut file = dotfile(tmp.path(), "profile = \"a\"\n");
        assert_eq!(store.check(&file), Trust::Unknown);
        store.allow(&file).unwrap();
        assert_eq!(store.check(&file), Trust::Allowed);
        file.content = b"profile = \"b\"\n".to_vec();
        assert_eq!(store.check(&file), Trust::Unknown, "an edit revokes trust");
        store.allow(&file).unwrap();
        store.deny(&file.path).unwrap();
        assert_eq!(store.check(&file), Trust::Denied);
        store.allow(&file).unwrap();
        assert_eq!(store.check(&file), Trust::Allowed);
        assert_eq!(
            std::fs::read_dir(tmp.path().join("data/allow"))
                .unwrap()
                .count(),
            1
        );
    }

    #[test]
    fn trust_is_per_place_and_deny_is_per_project() {
        let tmp = tempfile::tempdir().unwrap();
        let store = store(&tmp);
        let a = dotfile(&tmp.path().join("a"), "profile = \"prod\"\n");
        let b = dotfile(&tmp.path().join("b"), "profile = \"prod\"\n");
        store.allow(&a).unwrap();
        assert_eq!(store.check(&b), Trust::Unknown, "same content elsewhere");
        store.allow(&b).unwrap();
        store.deny(&a.path).unwrap();
        assert_eq!(store.check(&a), Trust::Denied);
        assert_eq!(
            store.check(&b),
            Trust::Allowed,
            "another project is unaffected"
        );
        assert!(!store.is_denied(&b.path));
        // The same file reached through another path, or through a symlink.
        let via = DotFile {
            real: b.path.clone(),
            ..dotfile(&tmp.path().join("via"), "profile = \"prod\"\n")
        };
        assert_eq!(store.check(&via), Trust::Unknown);
        let link = DotFile {
            link: Some(b.path.clone()),
            ..b.clone()
        };
        assert_eq!(
            store.check(&link),
            Trust::Unknown,
            "a symlink is not the file"
        );
        let moved = DotFile {
            real: tmp.path().join("elsewhere/.mfaenv"),
            ..b.clone()
        };
        assert_eq!(
            store.check(&moved),
            Trust::Unknown,
            "the place now leads elsewhere"
        );
    }

    #[test]
    fn a_planted_entry_is_no_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let store = store(&tmp);
        let a = dotfile(tmp.path(), "profile = \"prod\"\n");
        let allow = tmp.path().join("data/allow");
        std::fs::create_dir_all(&allow).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", allow.join(version_hash(&a))).unwrap();
        assert_eq!(store.check(&a), Trust::Unknown, "a symlink entry");
    }
}
