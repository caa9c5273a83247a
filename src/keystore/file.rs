//! The encrypted file store: `keys.enc` under the data dir, for machines
//! without a keyring (servers, WSL, containers).
//!
//! Layout: a 65-byte header (magic, format version, the Argon2id cost
//! m/t/p, a 16-byte salt, a 24-byte nonce), the XChaCha20-Poly1305
//! ciphertext of the JSON key list (the header is its associated data), and
//! a SHA-256 of everything before it. The checksum tells a damaged file
//! (truncated, bit rot) from a wrong passphrase, which only the AEAD tag can
//! tell; neither error changes the file. Writes are atomic (0600 temporary
//! file, rename) under the data dir's lock, which the caller holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{index, passphrase, Backend, KeyStore, KeyStoreError, LongTermKey};

const MAGIC: &[u8; 12] = b"mfaenv-keys\0";
const VERSION: u8 = 1;
const SALT: usize = 16;
const NONCE: usize = 24;
const HEADER: usize = MAGIC.len() + 1 + 12 + SALT + NONCE;
const TAG: usize = 16;
const CHECKSUM: usize = 32;
/// Larger than any real key list; a bigger file is refused unread.
const MAX_SIZE: u64 = 4 << 20;

/// Argon2id cost for new stores: 64 MiB, 3 passes (RFC 9106's second
/// recommendation); about 0.2 s here, paid once per STS call.
const M_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;
const P_COST: u32 = 1;

#[derive(Clone, Copy)]
struct Header {
    m_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: [u8; SALT],
}

#[derive(Default, Serialize, Deserialize)]
struct Entries {
    keys: BTreeMap<String, LongTermKey>,
}

struct Unlocked {
    header: Header,
    key: Zeroizing<[u8; 32]>,
    entries: Entries,
}

pub struct FileStore {
    path: PathBuf,
    unlocked: Option<Unlocked>,
    /// Given by the caller (tools, tests) instead of asked or read from the environment.
    passphrase: Option<Zeroizing<String>>,
}

impl FileStore {
    pub fn open() -> Result<FileStore, KeyStoreError> {
        Ok(FileStore::at(super::data_dir()?.join("keys.enc")))
    }

    pub fn at(path: PathBuf) -> FileStore {
        FileStore {
            path,
            unlocked: None,
            passphrase: None,
        }
    }

    /// The store at `path`, opened with `passphrase` (not asked, not read
    /// from MFAENV_FILE_PASSPHRASE).
    pub fn with_passphrase(path: PathBuf, passphrase: &str) -> FileStore {
        FileStore {
            passphrase: Some(Zeroizing::new(passphrase.to_string())),
            ..FileStore::at(path)
        }
    }

    fn passphrase(&self, new: bool) -> Result<Zeroizing<String>, KeyStoreError> {
        match &self.passphrase {
            Some(pass) => Ok(pass.clone()),
            None => passphrase_for(&self.path, new),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn corrupt(&self, reason: impl Into<String>) -> KeyStoreError {
        KeyStoreError::Corrupt {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    /// Reads and decrypts the file; `None` when it does not exist (no
    /// passphrase is asked then).
    fn load(&mut self) -> Result<Option<&mut Unlocked>, KeyStoreError> {
        if self.unlocked.is_none() {
            let bytes = match crate::files::read_bounded(&self.path, MAX_SIZE) {
                Ok((bytes, meta)) => {
                    index::check_private(&self.path, &meta)?;
                    bytes
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(source) => {
                    return Err(KeyStoreError::Io {
                        path: self.path.clone(),
                        source,
                    })
                }
            };
            let header = self.parse(&bytes)?;
            let pass = self.passphrase(false)?;
            let key = derive(&pass, &header)?;
            let entries = self.decrypt(&bytes, &key)?;
            self.unlocked = Some(Unlocked {
                header,
                key,
                entries,
            });
        }
        Ok(self.unlocked.as_mut())
    }

    /// The loaded store, or a new empty one (asking for a new passphrase).
    fn load_or_create(&mut self) -> Result<&mut Unlocked, KeyStoreError> {
        if self.load()?.is_none() {
            let pass = self.passphrase(true)?;
            let mut salt = [0u8; SALT];
            random(&mut salt)?;
            let header = Header {
                m_kib: M_KIB,
                t_cost: T_COST,
                p_cost: P_COST,
                salt,
            };
            let key = derive(&pass, &header)?;
            self.unlocked = Some(Unlocked {
                header,
                key,
                entries: Entries::default(),
            });
        }
        self.unlocked
            .as_mut()
            .ok_or_else(|| KeyStoreError::NoPassphrase("the store did not open".into()))
    }

    /// Checks everything that needs no passphrase: size, magic, version,
    /// checksum, sane costs.
    fn parse(&self, bytes: &[u8]) -> Result<Header, KeyStoreError> {
        if bytes.len() < HEADER + TAG + CHECKSUM {
            return Err(self.corrupt(format!("truncated: {} bytes", bytes.len())));
        }
        if &bytes[..MAGIC.len()] != MAGIC {
            return Err(self.corrupt("not an mfaenv key store"));
        }
        let version = bytes[MAGIC.len()];
        if version != VERSION {
            return Err(self.corrupt(format!(
                "format version {version}, which this mfaenv does not know"
            )));
        }
        let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM);
        if Sha256::digest(body).as_slice() != sum {
            return Err(self.corrupt("checksum mismatch: truncated or changed"));
        }
        let word = |i: usize| {
            let at = MAGIC.len() + 1 + 4 * i;
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let (m_kib, t_cost, p_cost) = (word(0), word(1), word(2));
        // A crafted file must not make us allocate gigabytes or spin for minutes.
        let sane = (1..=16).contains(&p_cost)
            && (1..=16).contains(&t_cost)
            && (8 * p_cost..=1024 * 1024).contains(&m_kib);
        if !sane {
            return Err(self.corrupt(format!(
                "unreasonable key derivation cost (m={m_kib} KiB, t={t_cost}, p={p_cost})"
            )));
        }
        let mut salt = [0u8; SALT];
        salt.copy_from_slice(&bytes[MAGIC.len() + 13..MAGIC.len() + 13 + SALT]);
        Ok(Header {
            m_kib,
            t_cost,
            p_cost,
            salt,
        })
    }

    fn decrypt(&self, bytes: &[u8], key: &[u8; 32]) -> Result<Entries, KeyStoreError> {
        let aad = &bytes[..HEADER];
        let nonce = XNonce::from_slice(&bytes[HEADER - NONCE..HEADER]);
        let ciphertext = &bytes[HEADER..bytes.len() - CHECKSUM];
        let cipher = XChaCha20Poly1305::new(key.into());
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    nonce,
                    Payload {
                        msg: ciphertext,
                        aad,
                    },
                )
                .map_err(|_| KeyStoreError::WrongPassphrase {
                    path: self.path.clone(),
                })?,
        );
        serde_json::from_slice(&plain).map_err(|_| self.corrupt("its content is not a key list"))
    }

    /// Encrypts the entries with a fresh nonce and replaces the file.
    fn save(&mut self) -> Result<(), KeyStoreError> {
        let path = self.path.clone();
        let Some(unlocked) = self.unlocked.as_ref() else {
            return Ok(());
        };
        index::prepare_dir()?;
        let plain = Zeroizing::new(
            serde_json::to_vec(&unlocked.entries).map_err(|e| self.corrupt(e.to_string()))?,
        );
        let h = unlocked.header;
        let mut out = Vec::with_capacity(HEADER + plain.len() + TAG + CHECKSUM);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        for word in [h.m_kib, h.t_cost, h.p_cost] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&h.salt);
        let mut nonce = [0u8; NONCE];
        random(&mut nonce)?;
        out.extend_from_slice(&nonce);
        let cipher = XChaCha20Poly1305::new((&*unlocked.key).into());
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &out,
                },
            )
            .map_err(|_| self.corrupt("encryption failed"))?;
        out.extend_from_slice(&sealed);
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        index::write_atomic(&path, &out)
    }
}

impl KeyStore for FileStore {
    fn backend(&self) -> Backend {
        Backend::File
    }

    fn get(&mut self, profile: &str) -> Result<Option<LongTermKey>, KeyStoreError> {
        Ok(self
            .load()?
            .and_then(|u| u.entries.keys.get(profile).cloned()))
    }

    fn set(&mut self, profile: &str, key: &LongTermKey) -> Result<(), KeyStoreError> {
        let unlocked = self.load_or_create()?;
        unlocked
            .entries
            .keys
            .insert(profile.to_string(), key.clone());
        self.save()
    }

    fn delete(&mut self, profile: &str) -> Result<bool, KeyStoreError> {
        let Some(unlocked) = self.load()? else {
            return Ok(false);
        };
        if unlocked.entries.keys.remove(profile).is_none() {
            return Ok(false);
        }
        self.save()?;
        Ok(true)
    }

    fn list(&mut self) -> Result<Vec<String>, KeyStoreError> {
        Ok(self
            .load()?
            .map(|u| u.entries.keys.keys().cloned().collect())
            .unwrap_or_default())
    }
}

fn random(buf: &mut [u8]) -> Result<(), KeyStoreError> {
    getrandom::fill(buf).map_err(|e| KeyStoreError::Failed {
        backend: Backend::File,
        message: format!("no randomness from the OS: {e}"),
    })
}

fn derive(pass: &str, h: &Header) -> Result<Zeroizing<[u8; 32]>, KeyStoreError> {
    let bad = |e: argon2::Error| KeyStoreError::Failed {
        backend: Backend::File,
        message: format!("key derivation: {e}"),
    };
    let params = Params::new(h.m_kib, h.t_cost, h.p_cost, Some(32)).map_err(bad)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pass.as_bytes(), &h.salt, &mut *key)
        .map_err(bad)?;
    Ok(key)
}

/// `MFAENV_FILE_PASSPHRASE`, when set: for automation (see docs/key-store.md for
/// what it costs: anyone who can read this process's environment has it).
fn passphrase_setting() -> Option<Zeroizing<String>> {
    crate::settings::file_passphrase().map(Zeroizing::new)
}

/// The passphrase: from the setting, else asked on the terminal (twice for
/// a new store).
fn passphrase_for(path: &Path, new: bool) -> Result<Zeroizing<String>, KeyStoreError> {
    if let Some(pass) = passphrase_setting() {
        return Ok(pass);
    }
    let no_tty = || {
        KeyStoreError::NoPassphrase(
            "no terminal or dialog to ask on; set MFAENV_FILE_PASSPHRASE for automation, or choose a prompt driver (MFAENV_PROMPT)".into(),
        )
    };
    let tty_err = |e: std::io::Error| KeyStoreError::NoPassphrase(e.to_string());
    let question = if new {
        format!("New passphrase for {}: ", path.display())
    } else {
        format!("Passphrase for {}: ", path.display())
    };
    let pass = passphrase::ask_passphrase(&question)
        .map_err(tty_err)?
        .ok_or_else(no_tty)?;
    if new {
        if pass.is_empty() {
            return Err(KeyStoreError::NoPassphrase(
                "an empty passphrase protects nothing".into(),
            ));
        }
        let again = passphrase::ask_passphrase("The same passphrase again: ")
            .map_err(tty_err)?
            .ok_or_else(no_tty)?;
        if *again != *pass {
            return Err(KeyStoreError::NoPassphrase(
                "the two passphrases differ".into(),
            ));
        }
    }
    Ok(pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> LongTermKey {
        LongTermKey {
            access_key_id: id.into(),
            secret_access_key: format!("{id}-secret/+"),
        }
    }

    /// A store with one entry, written with a fixed key (no env, no terminal).
    fn written(dir: &Path) -> FileStore {
        let mut store = FileStore::at(dir.join("keys.enc"));
        let header = Header {
            m_kib: 64,
            t_cost: 1,
            p_cost: 1,
            salt: [7; SALT],
        };
        let mut entries = Entries::default();
        entries
            .keys
            .insert("prod".into(), key("AKIAPRODEXAMPLE00001"));
        store.unlocked = Some(Unlocked {
            header,
            key: derive("right", &header).unwrap(),
            entries,
        });
        std::fs::create_dir_all(dir).unwrap();
        store.save().unwrap();
        store
    }

    fn reopen(path: &Path, pass: &str) -> Result<Entries, KeyStoreError> {
        let store = FileStore::at(path.to_path_buf());
        let bytes = std::fs::read(path).unwrap();
        let header = store.parse(&bytes)?;
        store.decrypt(&bytes, &*derive(pass, &header)?)
    }

    #[test]
    fn round_trip_wrong_passphrase_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = written(dir.path());
        let path = store.path().to_path_buf();
        let back = reopen(&path, "right").unwrap();
        assert_eq!(back.keys["prod"], key("AKIAPRODEXAMPLE00001"));
        let raw = std::fs::read(&path).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"secret"), "no plaintext");

        let e = reopen(&path, "wrong").err().unwrap().to_string();
        assert!(e.starts_with("wrong passphrase for"), "{e}");

        std::fs::write(&path, &raw[..raw.len() - 1]).unwrap();
        let e = reopen(&path, "right").err().unwrap().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
        std::fs::write(&path, &raw[..40]).unwrap();
        let e = reopen(&path, "right").err().unwrap().to_string();
        assert!(e.contains("truncated: 40 bytes"), "{e}");
        let mut flipped = raw.clone();
        flipped[HEADER + 2] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        let e = reopen(&path, "right").err().unwrap().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
    }

    #[test]
    fn a_crafted_cost_is_refused_before_deriving() {
        let dir = tempfile::tempdir().unwrap();
        let store = written(dir.path());
        let mut raw = std::fs::read(store.path()).unwrap();
        raw[MAGIC.len() + 1..MAGIC.len() + 5].copy_from_slice(&u32::MAX.to_le_bytes());
        let body = raw.len() - CHECKSUM;
        let sum = Sha256::digest(&raw[..body]);
        raw[body..].copy_from_slice(&sum);
        let e = store.parse(&raw).err().unwrap().to_string();
        assert!(e.contains("unreasonable key derivation cost"), "{e}");
    }
}
