//! The OS keyring through the `keyring` crate: one entry per profile,
//! service `mfaenv`, user = the profile name, the password a small JSON
//! object with the key pair. On Linux that is the Secret Service (GNOME
//! Keyring, KWallet, KeePassXC) over libdbus, found by `secret-tool lookup
//! service mfaenv username PROFILE`; on macOS the Keychain, on Windows the
//! Credential Manager (compiled there only, not run by this test suite).

use zeroize::Zeroizing;

use super::{Backend, KeyStore, KeyStoreError, LongTermKey, SERVICE};

#[cfg(target_os = "linux")]
pub const LABEL: &str = "the Secret Service";
#[cfg(target_os = "macos")]
pub const LABEL: &str = "the macOS Keychain";
#[cfg(windows)]
pub const LABEL: &str = "the Windows Credential Manager";
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub const LABEL: &str = "the OS keyring";

/// What the keyring entry holds (a version, so a later format can tell).
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    version: u32,
    key: LongTermKey,
}

pub struct SystemStore;

fn failed(err: keyring::Error) -> KeyStoreError {
    match err {
        keyring::Error::NoStorageAccess(e) | keyring::Error::PlatformFailure(e) => {
            KeyStoreError::Unavailable {
                backend: Backend::Keyring,
                message: e.to_string(),
            }
        }
        // The crate's other errors carry no secret (lengths, attribute names).
        other => KeyStoreError::Failed {
            backend: Backend::Keyring,
            message: other.to_string(),
        },
    }
}

fn entry(profile: &str) -> Result<keyring::Entry, KeyStoreError> {
    keyring::Entry::new(SERVICE, profile).map_err(failed)
}

impl KeyStore for SystemStore {
    fn backend(&self) -> Backend {
        Backend::Keyring
    }

    fn get(&mut self, profile: &str) -> Result<Option<LongTermKey>, KeyStoreError> {
        let text = match entry(profile)?.get_password() {
            Ok(text) => Zeroizing::new(text),
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(e) => return Err(failed(e)),
        };
        // The entry's text is not shown: it may be someone's secret.
        let stored: Stored =
            serde_json::from_str(&text).map_err(|_| KeyStoreError::Failed {
                backend: Backend::Keyring,
                message: format!(
                    "the entry of profile `{}` (service {SERVICE}) is not mfaenv's: `mfaenv add {}` replaces it",
                    profile.escape_debug(),
                    profile.escape_debug()
                ),
            })?;
        Ok(Some(stored.key))
    }

    fn set(&mut self, profile: &str, key: &LongTermKey) -> Result<(), KeyStoreError> {
        let stored = Stored {
            version: 1,
            key: key.clone(),
        };
        let text =
            Zeroizing::new(
                serde_json::to_string(&stored).map_err(|e| KeyStoreError::Failed {
                    backend: Backend::Keyring,
                    message: e.to_string(),
                })?,
            );
        entry(profile)?.set_password(&text).map_err(failed)
    }

    fn delete(&mut self, profile: &str) -> Result<bool, KeyStoreError> {
        match entry(profile)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, KeyStoreError> {
        list_profiles()
    }
}

/// Every entry of service `mfaenv`: the Secret Service can search by attribute.
#[cfg(target_os = "linux")]
fn list_profiles() -> Result<Vec<String>, KeyStoreError> {
    use dbus_secret_service::{EncryptionType, SecretService};
    let unavailable = |e: dbus_secret_service::Error| KeyStoreError::Unavailable {
        backend: Backend::Keyring,
        message: e.to_string(),
    };
    let ss = SecretService::connect(EncryptionType::Plain).map_err(unavailable)?;
    let found = ss
        .search_items([("service", SERVICE)].into_iter().collect())
        .map_err(unavailable)?;
    let mut names: Vec<String> = found
        .unlocked
        .iter()
        .chain(found.locked.iter())
        .filter_map(|item| item.get_attributes().ok()?.remove("username"))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The Keychain and the Credential Manager cannot be listed through the
/// crate: callers fall back to the index.
#[cfg(not(target_os = "linux"))]
fn list_profiles() -> Result<Vec<String>, KeyStoreError> {
    Err(KeyStoreError::Failed {
        backend: Backend::Keyring,
        message: "cannot list entries here".into(),
    })
}

/// Whether the Secret Service answers on the session bus (a D-Bus round
/// trip; only `add` and `import` ask, to pick the default backend).
#[cfg(target_os = "linux")]
pub fn available() -> bool {
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|d| std::path::Path::new(&d).join("bus").exists());
    bus && dbus_secret_service::SecretService::connect(dbus_secret_service::EncryptionType::Plain)
        .is_ok()
}

#[cfg(not(target_os = "linux"))]
pub fn available() -> bool {
    true
}
