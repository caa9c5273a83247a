//! The non-secret index of stored keys: profile → access key id and the
//! backend that holds the secret, in `keys.json` under the data dir (0600,
//! dir 0700). The export and hook paths read it — a small file — instead
//! of opening the keyring: the access key id is part of every cache key, so
//! a replaced key never serves the old key's sessions, and the secret is
//! fetched only when STS is called.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{data_dir, Backend, KeyStoreError};

/// Larger than any index of real profiles; a bigger file is not read.
const MAX_SIZE: u64 = 4 << 20;

const TEMP_PREFIX: &str = ".keys-";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub access_key_id: String,
    pub backend: Backend,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Index {
    #[serde(default)]
    pub keys: BTreeMap<String, Entry>,
}

pub fn path() -> Result<PathBuf, KeyStoreError> {
    Ok(data_dir()?.join("keys.json"))
}

/// The index for resolving profiles: a missing one is empty; one that is
/// damaged or not private to this user is ignored with a warning.
pub fn load() -> Index {
    let Ok(path) = path() else {
        return Index::default();
    };
    match read(&path) {
        Ok(index) => index,
        Err(e) => {
            crate::ui::warning(format_args!("ignoring the key index: {e}"));
            Index::default()
        }
    }
}

/// Reads the index at `path` (missing: empty).
pub fn read(path: &Path) -> Result<Index, KeyStoreError> {
    let (bytes, meta) = match crate::files::read_bounded(path, MAX_SIZE) {
        Ok(found) => found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Index::default()),
        Err(source) => {
            return Err(KeyStoreError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    check_private(path, &meta)?;
    serde_json::from_slice(&bytes).map_err(|e| KeyStoreError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Refuses a file another user owns or others may write or read.
pub fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyStoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let reason = if meta.uid() != crate::files::uid() {
            Some("owned by another user".to_string())
        } else if meta.mode() & 0o077 != 0 {
            Some(format!(
                "open to others (mode {:o}); `chmod 600` it",
                meta.mode() & 0o777
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(KeyStoreError::Unsafe {
                path: path.to_path_buf(),
                reason,
            });
        }
    }
    let _ = (path, meta);
    Ok(())
}

/// The data dir, made 0700 (an existing one is tightened; a symlink, a
/// file or another user's directory is refused).
pub fn prepare_dir() -> Result<PathBuf, KeyStoreError> {
    let dir = data_dir()?;
    crate::cache::prepare_private_dir(&dir).map_err(|reason| KeyStoreError::Unsafe {
        path: dir.clone(),
        reason,
    })?;
    Ok(dir)
}

/// An exclusive lock on the data dir's `keys.lock`: one writer of the index
/// and the file store at a time. Released on drop.
pub struct Locked {
    _file: File,
}

pub fn lock() -> Result<Locked, KeyStoreError> {
    let dir = prepare_dir()?;
    let path = dir.join("keys.lock");
    let io = |source| KeyStoreError::Io {
        path: path.clone(),
        source,
    };
    let file = crate::cache::open_private_file(&path).map_err(io)?;
    file.lock().map_err(io)?;
    Ok(Locked { _file: file })
}

/// Changes the index under the lock the caller holds, atomically.
pub fn update(_held: &Locked, change: impl FnOnce(&mut Index)) -> Result<(), KeyStoreError> {
    let path = path()?;
    let mut index = read(&path)?;
    change(&mut index);
    let mut text = serde_json::to_vec_pretty(&index).map_err(|e| KeyStoreError::Corrupt {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    text.push(b'\n');
    write_atomic(&path, &text)
}

/// Writes `bytes` to `path` through a 0600 temporary file beside it and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), KeyStoreError> {
    let io = |source| KeyStoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::files::remove_stale_temps(dir, TEMP_PREFIX);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        assert!(read(&path).unwrap().keys.is_empty(), "missing: empty");
        let mut index = Index::default();
        index.keys.insert(
            "prod".into(),
            Entry {
                access_key_id: "AKIAEXAMPLE0000001".into(),
                backend: Backend::File,
            },
        );
        write_atomic(&path, &serde_json::to_vec(&index).unwrap()).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back.keys, index.keys);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = read(&path).unwrap_err().to_string();
            assert!(e.contains("open to others (mode 644)"), "{e}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&path, b"{\"keys\": {\"p\": 1").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("is damaged"), "{e}");
    }
}
