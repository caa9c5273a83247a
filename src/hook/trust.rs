//! Trust for `.mfaenv` files, like direnv's: a file is applied only after
//! `mfaenv allow`, which records a hash of its absolute path and content;
//! editing the file changes the hash and so revokes trust. `mfaenv deny`
//! blocks a path whatever its content.
//!
//! Store: `$XDG_DATA_HOME/mfaenv` (or `MFAENV_DATA_DIR`), `allow/<hash>` and
//! `deny/<hash of path>`, each file holding the path for people to read.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::dotfile::DotFile;
use crate::env_vars::hex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    Allowed,
    Denied,
    Unknown,
}

pub struct TrustStore {
    root: PathBuf,
}

/// The file's real path, so a project reached through a symlink is one project.
fn real(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The hash that names one version of one file.
pub fn version_hash(file: &DotFile) -> String {
    let mut h = Sha256::new();
    h.update(real(&file.path).as_os_str().as_encoded_bytes());
    h.update([0u8]);
    h.update(&file.content);
    hex(&h.finalize())
}

fn path_hash(path: &Path) -> String {
    hex(&Sha256::digest(real(path).as_os_str().as_encoded_bytes()))
}

impl TrustStore {
    /// `MFAENV_DATA_DIR`, else the platform data dir + `mfaenv`.
    pub fn open() -> Option<TrustStore> {
        let root = match std::env::var_os("MFAENV_DATA_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => dirs::data_dir()?.join("mfaenv"),
        };
        Some(TrustStore { root })
    }

    /// The data directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn check(&self, file: &DotFile) -> Trust {
        if self.root.join("deny").join(path_hash(&file.path)).exists() {
            Trust::Denied
        } else if self.root.join("allow").join(version_hash(file)).exists() {
            Trust::Allowed
        } else {
            Trust::Unknown
        }
    }

    /// Trusts this version of the file (and forgets older versions and any deny).
    pub fn allow(&self, file: &DotFile) -> std::io::Result<()> {
        self.forget(&file.path)?;
        self.record("allow", &version_hash(file), &file.path)
    }

    /// Blocks the file's path until it is allowed again.
    pub fn deny(&self, file: &DotFile) -> std::io::Result<()> {
        self.forget(&file.path)?;
        self.record("deny", &path_hash(&file.path), &file.path)
    }

    fn record(&self, kind: &str, name: &str, path: &Path) -> std::io::Result<()> {
        let dir = self.root.join(kind);
        create_private_dir(&dir)?;
        let mut text = real(path).as_os_str().as_encoded_bytes().to_vec();
        text.push(b'\n');
        std::fs::write(dir.join(name), text)
    }

    /// Removes every allow and deny entry for `path`.
    fn forget(&self, path: &Path) -> std::io::Result<()> {
        let mut wanted = real(path).as_os_str().as_encoded_bytes().to_vec();
        wanted.push(b'\n');
        for kind in ["allow", "deny"] {
            let Ok(entries) = std::fs::read_dir(self.root.join(kind)) else {
                continue;
            };
            for entry in entries.flatten() {
                if std::fs::read(entry.path()).is_ok_and(|c| c == wanted) {
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

    #[test]
    fn allow_edit_deny() {
        let tmp = tempfile::tempdir().unwrap();
        let store = TrustStore {
            root: tmp.path().join("data"),
        };
        let mut file = DotFile {
            dir: tmp.path().to_path_buf(),
            path: tmp.path().join(".mfaenv"),
            content: b"profile = \"a\"\n".to_vec(),
        };
        assert_eq!(store.check(&file), Trust::Unknown);
        store.allow(&file).unwrap();
        assert_eq!(store.check(&file), Trust::Allowed);
        file.content = b"profile = \"b\"\n".to_vec();
        assert_eq!(store.check(&file), Trust::Unknown, "an edit revokes trust");
        store.allow(&file).unwrap();
        store.deny(&file).unwrap();
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
}
