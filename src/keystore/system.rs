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
                message: explain(&e.to_string()),
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
        message: explain(&e.to_string()),
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
/// trip; only `add` and `import` ask, to pick the default backend); if not,
/// why, in words.
#[cfg(target_os = "linux")]
pub fn probe() -> Result<(), String> {
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|d| std::path::Path::new(&d).join("bus").exists());
    if !bus {
        return Err(
            "there is no D-Bus session bus here (DBUS_SESSION_BUS_ADDRESS is not set)".into(),
        );
    }
    dbus_secret_service::SecretService::connect(dbus_secret_service::EncryptionType::Plain)
        .map(drop)
        .map_err(|e| explain(&e.to_string()))
}

#[cfg(not(target_os = "linux"))]
pub fn probe() -> Result<(), String> {
    Ok(())
}

/// A D-Bus or Secret Service failure in words: what went wrong and what
/// usually causes it, not the bus's own text (which names interfaces and
/// object paths). The D-Bus error name is kept, for a search.
pub fn explain(raw: &str) -> String {
    let has = |words: &[&str]| words.iter().any(|w| raw.contains(w));
    let why = if has(&["ServiceUnknown", "org.freedesktop.secrets was not provided"]) {
        "no Secret Service runs on the session bus (GNOME Keyring, KWallet or KeePassXC provide one)"
    } else if has(&[
        "NoServer",
        "Failed to connect",
        "Connection refused",
        "No such file",
        "autolaunch",
        "DBUS_SESSION_BUS_ADDRESS",
    ]) {
        "the D-Bus session bus cannot be reached (DBUS_SESSION_BUS_ADDRESS names no running bus)"
    } else if has(&["NoReply", "Timeout", "timed out"]) {
        "the Secret Service did not answer in time"
    } else if has(&["ocked", "ismissed", "Prompt"]) {
        "the keyring is locked, and unlocking it was refused or not possible here"
    } else if has(&["AccessDenied", "Permission denied"]) {
        "the session bus refused access"
    } else {
        "the Secret Service refused the request"
    };
    match dbus_error_name(raw) {
        Some(name) => format!("{why} ({name})"),
        None => why.to_string(),
    }
}

/// `org.freedesktop.DBus.Error.ServiceUnknown` in a D-Bus error text.
fn dbus_error_name(raw: &str) -> Option<&str> {
    let at = raw.find("org.freedesktop.")?;
    let name = &raw[at..];
    let end = name
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .unwrap_or(name.len());
    Some(name[..end].trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::explain;

    #[test]
    fn dbus_errors_in_words() {
        assert_eq!(
            explain("org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files"),
            "no Secret Service runs on the session bus (GNOME Keyring, KWallet or KeePassXC provide one) (org.freedesktop.DBus.Error.ServiceUnknown)"
        );
        assert!(explain(
            "D-Bus error: Failed to connect to socket /tmp/x: No such file or directory"
        )
        .starts_with("the D-Bus session bus cannot be reached"));
        assert!(!explain("weird \x1b text").contains("weird"));
    }
}
