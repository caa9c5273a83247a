//! Long-term keys kept out of plaintext: the OS keyring (Secret Service on
//! Linux, the Keychain on macOS, the Credential Manager on Windows) or an
//! encrypted file under the data dir, behind one [`KeyStore`] trait.
//!
//! Opening a store costs a D-Bus round trip or a memory-hard key
//! derivation, so the paths that only read the cache never do: a profile's
//! access key id (part of every cache key) comes from the non-secret
//! [`index`], and the secret is fetched only right before an STS call
//! (`resolve::source_keys`).

pub mod ages;
pub mod file;
pub mod index;
pub mod passphrase;
pub mod rotations;
pub mod system;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::creds::Credentials;

/// The service name every entry of ours carries in the OS keyring.
pub const SERVICE: &str = "mfaenv";

/// Where long-term keys are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// The OS keyring (Secret Service, macOS Keychain, Windows Credential Manager)
    #[value(alias = "secret-service", alias = "keychain", alias = "wincred")]
    Keyring,
    /// The encrypted file store under the data dir
    File,
}

impl Backend {
    /// The name `--backend`, `MFAENV_BACKEND`, `key_store` and the index use.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Keyring => "keyring",
            Backend::File => "file",
        }
    }

    fn parse(text: &str) -> Option<Backend> {
        <Backend as clap::ValueEnum>::from_str(text.trim(), true).ok()
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Keyring => f.write_str(system::LABEL),
            Backend::File => f.write_str("the encrypted file store"),
        }
    }
}

/// A long-term key pair as a store holds it. The secret is wiped on drop
/// and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LongTermKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Drop for LongTermKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret_access_key);
    }
}

impl fmt::Debug for LongTermKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LongTermKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl LongTermKey {
    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: None,
            expiration: None,
        }
    }

    /// Refuses what AWS would never have issued (and what could not be
    /// stored or shown safely): control characters, spaces, empty parts.
    pub fn check(&self) -> Result<(), KeyStoreError> {
        let id_ok = (16..=128).contains(&self.access_key_id.len())
            && self
                .access_key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric());
        if !id_ok {
            return Err(KeyStoreError::BadKey(
                "the access key id must be 16-128 letters and digits (like AKIA…)",
            ));
        }
        let secret_ok = !self.secret_access_key.is_empty()
            && self.secret_access_key.len() <= 256
            && self.secret_access_key.bytes().all(|b| b.is_ascii_graphic());
        if !secret_ok {
            return Err(KeyStoreError::BadKey(
                "the secret access key must be 1-256 printable characters without spaces",
            ));
        }
        Ok(())
    }
}

/// The last four characters of an access key id, for lists and messages.
pub fn key_hint(access_key_id: &str) -> String {
    let tail: String = access_key_id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("{backend} is not available: {message}")]
    Unavailable { backend: Backend, message: String },
    #[error("{backend}: {message}")]
    Failed { backend: Backend, message: String },
    #[error("wrong passphrase for {} (nothing was changed)", .path.display())]
    WrongPassphrase { path: PathBuf },
    #[error("{} is damaged ({reason}); it was left as it is", .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{} is not safe to use: {reason}", .path.display())]
    Unsafe { path: PathBuf, reason: String },
    #[error("the encrypted file store needs its passphrase: {0}")]
    NoPassphrase(String),
    #[error("cannot use {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no data directory for the key store (set {} or HOME)",
        crate::settings::MFAENV_DATA_DIR
    )]
    NoDataDir,
    #[error("{0}")]
    BadKey(&'static str),
    #[error(
        "no key store was chosen, and {} was tried: {why}; nothing was changed",
        system::LABEL
    )]
    NoDefault { why: String },
    #[error("{name}={0:?} is not a backend (keyring or file)", name = crate::settings::MFAENV_BACKEND)]
    BadSetting(String),
}

/// A store of long-term keys, by profile name.
pub trait KeyStore {
    fn backend(&self) -> Backend;
    /// The profile's keys; `None` when the store has no entry for it.
    fn get(&mut self, profile: &str) -> Result<Option<LongTermKey>, KeyStoreError>;
    fn set(&mut self, profile: &str, key: &LongTermKey) -> Result<(), KeyStoreError>;
    /// Whether there was an entry to delete.
    fn delete(&mut self, profile: &str) -> Result<bool, KeyStoreError>;
    /// The profiles the store holds keys of.
    fn list(&mut self) -> Result<Vec<String>, KeyStoreError>;
}

/// Opens `backend` (lazily: nothing is read or connected before the first call).
pub fn open(backend: Backend) -> Result<Box<dyn KeyStore>, KeyStoreError> {
    Ok(match backend {
        Backend::Keyring => Box::new(system::SystemStore),
        Backend::File => Box::new(file::FileStore::open()?),
    })
}

/// The data directory (see [`crate::settings::data_dir`]).
pub fn data_dir() -> Result<PathBuf, KeyStoreError> {
    crate::settings::data_dir().ok_or(KeyStoreError::NoDataDir)
}

/// `MFAENV_BACKEND`, when set.
fn backend_setting() -> Result<Option<Backend>, KeyStoreError> {
    match crate::settings::backend() {
        Some(text) => Backend::parse(&text)
            .map(Some)
            .ok_or(KeyStoreError::BadSetting(text)),
        None => Ok(None),
    }
}

/// Where new keys go: `--backend`, else `MFAENV_BACKEND`, else the
/// profile's `key_store` key (`keyring` or `file`), else the OS keyring when
/// it answers, else the file. With it, what chose it (for messages).
pub fn choose(
    flag: Option<Backend>,
    configured: Option<&str>,
) -> Result<(Backend, &'static str), KeyStoreError> {
    if let Some(b) = flag {
        return Ok((b, "from --backend"));
    }
    if let Some(b) = backend_setting()? {
        return Ok((b, "from MFAENV_BACKEND"));
    }
    if let Some(text) = configured {
        let b = Backend::parse(text).ok_or_else(|| KeyStoreError::BadSetting(text.to_string()))?;
        return Ok((b, "from key_store in the config"));
    }
    match system::probe() {
        Ok(()) => Ok((Backend::Keyring, "the default: a keyring answers")),
        // Never another store without a word: asked on a terminal, else an
        // error that says how to choose.
        Err(why) => {
            let question = format!(
                "mfaenv: {} was tried: {why}.\nKeep the keys in the encrypted file store instead? [y/N] ",
                Backend::Keyring
            );
            match passphrase::ask_visible(&question) {
                Ok(Some(a)) if matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes") => {
                    Ok((Backend::File, "chosen on the terminal: no keyring answers"))
                }
                _ => Err(KeyStoreError::NoDefault { why }),
            }
        }
    }
}

/// Stores `key` for `profile` in `store` and then records it in the index,
/// under the data dir's lock (`held`): written, read back and compared, and
/// only then indexed. An entry the profile had in the other backend is
/// deleted last (a failure there is a warning: the new entry is in place).
pub fn save(
    held: &index::Locked,
    store: &mut dyn KeyStore,
    profile: &str,
    key: &LongTermKey,
) -> Result<(), KeyStoreError> {
    key.check()?;
    let backend = store.backend();
    store.set(profile, key)?;
    let back = store.get(profile)?;
    if back.as_ref() != Some(key) {
        return Err(KeyStoreError::Failed {
            backend,
            message: format!(
                "the entry of profile `{}` did not read back as written",
                profile.escape_debug()
            ),
        });
    }
    let before = index::read(&index::path()?)?.keys.remove(profile);
    index::update(held, |index| {
        index.keys.insert(
            profile.to_string(),
            index::Entry {
                access_key_id: key.access_key_id.clone(),
                backend,
            },
        );
    })?;
    ages::record_stored(&key.access_key_id);
    if let Some(old) = before.filter(|old| old.backend != backend) {
        let removed = open(old.backend).and_then(|mut s| s.delete(profile));
        if let Err(e) = removed {
            crate::ui::warning(format_args!(
                "the old entry of profile `{}` in {} is still there: {e}",
                profile.escape_debug(),
                old.backend
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hints() {
        assert_eq!(Backend::parse("secret-service"), Some(Backend::Keyring));
        assert_eq!(Backend::parse("FILE"), Some(Backend::File));
        assert_eq!(Backend::parse("vault"), None);
        assert_eq!(key_hint("AKIABASEEXAMPLE00001"), "…0001");
        assert_eq!(key_hint("AB"), "…AB");
    }

    #[test]
    fn keys_are_checked_and_debug_redacts() {
        let key = LongTermKey {
            access_key_id: "AKIABASEEXAMPLE00001".into(),
            secret_access_key: "s3cr3t/+x".into(),
        };
        assert!(key.check().is_ok());
        assert!(!format!("{key:?}").contains("s3cr3t"));
        let mut bad = key.clone();
        bad.secret_access_key = "a b".into();
        assert!(bad.check().is_err());
        let mut bad = key.clone();
        bad.access_key_id = "AKIA\n1234567890123".into();
        assert!(bad.check().is_err());
    }
}
