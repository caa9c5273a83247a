//! The session cache: one file per session key under the platform cache dir
//! (`$XDG_CACHE_HOME/mfaenv`, or `MFAENV_CACHE_DIR`).
//!
//! - The directory is 0700 and every file 0600; a file that is not ours, not
//!   private or not readable is ignored with a warning, never trusted.
//! - Writes go to a temporary file in the same directory, then `rename`.
//! - A lock file per key: when many processes need the same session, one
//!   refreshes it (asking for the code) while the rest wait, then read it.
//!   The holder removes the lock file as it lets go (a waiter that then holds
//!   a removed file notices and starts over), so a run leaves no lock file.
//! - Only temporary credentials are stored, never long-term keys.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::creds::{rfc3339, Credentials};
use crate::settings;

/// How long a waiting process waits for another one that is refreshing
/// (it may be waiting for a person to type a code).
const LOCK_WAIT: Duration = Duration::from_secs(180);

const FORMAT_VERSION: u32 = 1;

/// A session entry is a few KiB; a bigger file is not one of ours.
const MAX_ENTRY: u64 = 64 * 1024;

/// The prefix of the cache's temporary files (see [`write_atomic`]).
const TEMP_PREFIX: &str = ".tmp-";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("gave up after {}s waiting for another mfaenv that is refreshing `{label}`; run `mfaenv login` and try again", LOCK_WAIT.as_secs())]
    LockTimeout { label: String },
    #[error("another mfaenv was refreshing `{label}` and did not finish (cancelled or failed); run the command again")]
    OtherFailed { label: String },
}

/// What a cached session is, shown by `mfaenv status`. Nothing secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Label {
    /// `mfa-session`, `session` (GetSessionToken without MFA) or `role`.
    pub kind: String,
    /// The profile that made it.
    pub profile: String,
    /// The MFA device or role ARN.
    pub target: String,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    label: Label,
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

/// A cached session as `status` lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub path: PathBuf,
    pub label: Label,
    pub access_key_id: String,
    pub expiration: SystemTime,
}

/// A key: a hash of everything that changes the session it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    pub fn new(parts: &[&str]) -> Key {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        let digest = hasher.finalize();
        Key(crate::env_vars::hex(&digest[..16]))
    }
}

pub struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// Opens (creating) the cache directory. When it cannot be used, mfaenv
    /// still works, without a cache, after one warning.
    pub fn open() -> Cache {
        // Cached sessions are secrets too: no core dump from here on.
        crate::harden::protect();
        let Some(dir) = default_dir() else {
            warn("no cache directory on this system; sessions are not cached");
            return Cache { dir: None };
        };
        match prepare_dir(&dir) {
            Ok(()) => Cache { dir: Some(dir) },
            Err(reason) => {
                warn(&format!(
                    "not caching sessions: {}: {reason} ({}=DIR caches elsewhere)",
                    dir.display(),
                    settings::MFAENV_CACHE_DIR
                ));
                Cache { dir: None }
            }
        }
    }

    /// Prepares `dir` as [`Cache::open`] prepares the cache directory.
    #[cfg(test)]
    pub(crate) fn open_at_for_tests(dir: &Path) {
        prepare_dir(dir).unwrap();
    }

    /// No cache: nothing is read or written.
    pub fn none() -> Cache {
        Cache { dir: None }
    }

    pub fn at(dir: PathBuf) -> Cache {
        Cache { dir: Some(dir) }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn path(&self, key: &Key, ext: &str) -> Option<PathBuf> {
        Some(self.dir.as_ref()?.join(format!("{}.{ext}", key.0)))
    }

    /// The cached credentials for `key` when at least `min_ttl` is left.
    pub fn get(&self, key: &Key, min_ttl: Duration) -> Option<Credentials> {
        let path = self.path(key, "json")?;
        let creds = read_entry(&path)?.1;
        let left = creds.time_left(SystemTime::now())?;
        (left >= min_ttl).then_some(creds)
    }

    /// Cached credentials, or `refresh()` under the key's lock, stored.
    /// A process that had to wait for another never calls `refresh`: it
    /// reads what the other stored.
    pub fn get_or_refresh(
        &self,
        key: &Key,
        label: &Label,
        min_ttl: Duration,
        refresh: impl FnOnce() -> anyhow::Result<Credentials>,
    ) -> anyhow::Result<Credentials> {
        if let Some(creds) = self.get(key, min_ttl) {
            return Ok(creds);
        }
        let Some(lock_path) = self.path(key, "lock") else {
            return refresh();
        };
        let Some((_lock, waited)) = lock(&lock_path, &label.target)? else {
            return refresh();
        };
        if waited {
            // Someone else held it: they refreshed, or they failed.
            return self.get(key, min_ttl).ok_or_else(|| {
                CacheError::OtherFailed {
                    label: label.target.clone(),
                }
                .into()
            });
        }
        // Another process may have finished between our read and our lock.
        if let Some(creds) = self.get(key, min_ttl) {
            return Ok(creds);
        }
        let creds = refresh()?;
        self.put(key, label, &creds);
        Ok(creds)
        // The lock is released when `_lock` is dropped (and by the kernel on a crash or Ctrl-C).
    }

    /// Runs `work` holding the lock of `key` (for what is not a session
    /// of this cache: a sign-in shared with other tools, say); `work` is
    /// told whether another process held the lock first. With no cache
    /// directory, or no lock possible, `work` runs unlocked.
    pub fn with_lock<T>(
        &self,
        key: &Key,
        what: &str,
        work: impl FnOnce(bool) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let Some(lock_path) = self.path(key, "lock") else {
            return work(false);
        };
        match lock(&lock_path, what)? {
            Some((_held, waited)) => work(waited),
            None => work(false),
        }
    }

    /// Runs `f` holding the lock for `key` (waiting while another process
    /// holds it): for a refresh whose result lives elsewhere (an `aws
    /// login` session's file), so that parallel callers make one refresh.
    pub fn locked<T>(
        &self,
        key: &Key,
        what: &str,
        f: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let held = match self.path(key, "lock") {
            Some(path) => lock(&path, what)?,
            None => None,
        };
        let result = f();
        drop(held);
        result
    }

    /// Removes the session for `key` when it still holds the keys
    /// `access_key_id` (AWS refused them): the next run starts a new one.
    /// The lock file is left alone. True if it was removed.
    pub fn drop_session(&self, key: &Key, access_key_id: &str) -> bool {
        let Some(path) = self.path(key, "json") else {
            return false;
        };
        match read_entry(&path) {
            Some((_, creds)) if creds.access_key_id == access_key_id => {
                std::fs::remove_file(&path).is_ok()
            }
            _ => false,
        }
    }

    /// Stores `creds` atomically; a failure is a warning, never an error.
    pub fn put(&self, key: &Key, label: &Label, creds: &Credentials) {
        let (Some(dir), Some(path)) = (self.dir.as_ref(), self.path(key, "json")) else {
            return;
        };
        let (Some(token), Some(exp)) = (&creds.session_token, creds.expiration) else {
            return; // long-term keys are never cached
        };
        let entry = Entry {
            version: FORMAT_VERSION,
            label: label.clone(),
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.clone(),
            session_token: token.clone(),
            expiration: rfc3339(exp),
        };
        if let Err(e) = write_atomic(dir, &path, &entry) {
            warn(&format!(
                "cannot write the cache file {}: {e}",
                path.display()
            ));
        }
    }

    /// The bytes of a non-secret index file (`KEY.index`, e.g. where the
    /// profiles of a large config are: `config::index`), when it is ours,
    /// private and small; `None` otherwise (nothing is said: the caller
    /// rebuilds it).
    pub fn read_index(&self, key: &Key) -> Option<Vec<u8>> {
        let file = open_nofollow(&self.path(key, "index")?).ok()?;
        check_private(&file).ok()?;
        let mut bytes = Vec::new();
        file.take(MAX_ENTRY + 1).read_to_end(&mut bytes).ok()?;
        (bytes.len() as u64 <= MAX_ENTRY).then_some(bytes)
    }

    /// Writes `KEY.index` atomically, 0600 (a failure only costs speed).
    pub fn write_index(&self, key: &Key, bytes: &[u8]) {
        let (Some(dir), Some(path)) = (self.dir.as_ref(), self.path(key, "index")) else {
            return;
        };
        let written = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir)
            .and_then(|mut tmp| {
                tmp.write_all(bytes)?;
                tmp.persist(&path).map_err(|e| e.error)
            });
        if let Err(e) = written {
            warn(&format!(
                "cannot write the index file {}: {e}",
                path.display()
            ));
        }
    }

    /// Every readable cached session (expired ones too).
    pub fn list(&self) -> Vec<Listed> {
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let Ok(read) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut listed: Vec<Listed> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|path| {
                let (label, mut creds) = read_entry(&path)?;
                Some(Listed {
                    path,
                    label,
                    access_key_id: std::mem::take(&mut creds.access_key_id),
                    expiration: creds.expiration?,
                })
            })
            .collect();
        listed.sort_by(|a, b| {
            (&a.label.profile, &a.label.kind).cmp(&(&b.label.profile, &b.label.kind))
        });
        listed
    }

    /// Deletes the session for `key` and its lock file unless another
    /// process holds it; counts into `removed`.
    pub fn remove(&self, key: &Key, removed: &mut Removed) {
        if let Some(p) = self.path(key, "json") {
            remove_session(&p, removed);
        }
        if let Some(p) = self.path(key, "lock") {
            release_lock(&p, removed);
        }
    }

    /// Deletes every session, every lock file nobody holds, and what killed
    /// runs left behind.
    pub fn clear(&self) -> Removed {
        let mut removed = Removed::default();
        let Some(dir) = &self.dir else {
            return removed;
        };
        let read = match std::fs::read_dir(dir) {
            Ok(read) => read,
            Err(e) => {
                removed.failed.push((dir.clone(), e));
                return removed;
            }
        };
        for path in read.filter_map(|e| e.ok().map(|e| e.path())) {
            match path.extension().and_then(|x| x.to_str()) {
                Some("json") => remove_session(&path, &mut removed),
                Some("lock") => release_lock(&path, &mut removed),
                _ => {}
            }
        }
        removed.failed.extend(self.remove_stale_temps());
        removed
    }

    /// Deletes the temporary files killed runs left in the cache directory;
    /// returns the ones that could not be deleted.
    pub fn remove_stale_temps(&self) -> Vec<(PathBuf, std::io::Error)> {
        match &self.dir {
            Some(dir) => crate::files::remove_stale_temps(dir, TEMP_PREFIX),
            None => Vec::new(),
        }
    }
}

/// What [`Cache::remove`] and [`Cache::clear`] did.
#[derive(Debug, Default)]
pub struct Removed {
    pub sessions: usize,
    /// Lock files another mfaenv holds (it is refreshing): left alone.
    pub busy: usize,
    pub failed: Vec<(PathBuf, std::io::Error)>,
}

fn remove_session(path: &Path, removed: &mut Removed) {
    match std::fs::remove_file(path) {
        Ok(()) => removed.sessions += 1,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => removed.failed.push((path.to_path_buf(), e)),
    }
}

/// Removes the lock file at `path` only after taking the lock: unlinking a
/// held one would let the next process lock a fresh file and refresh (and
/// spend a code) beside the holder. Removed while held, as [`Held`] does.
fn release_lock(path: &Path, removed: &mut Removed) {
    let file = match open_lock(path, false) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => return removed.failed.push((path.to_path_buf(), e)),
    };
    match file.try_lock() {
        Ok(()) => {
            if REMOVE_LOCK_FILES && is_at(&file, path) {
                if let Err(e) = std::fs::remove_file(path) {
                    removed.failed.push((path.to_path_buf(), e));
                }
            }
        }
        Err(std::fs::TryLockError::WouldBlock) => removed.busy += 1,
        Err(std::fs::TryLockError::Error(e)) => removed.failed.push((path.to_path_buf(), e)),
    }
}

/// `MFAENV_CACHE_DIR`, else the platform cache dir + `mfaenv`.
pub fn default_dir() -> Option<PathBuf> {
    settings::cache_dir().or_else(|| dirs::cache_dir().map(|d| d.join("mfaenv")))
}

/// A warning on stderr, once per process for the same text: a bad file is
/// looked at several times in one run (the final session, then under the
/// lock) and the user needs to hear about it once.
fn warn(message: &str) {
    static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if !said.iter().any(|m| m == message) {
        said.push(message.to_string());
        crate::ui::warning(message);
    }
}

/// A held per-key lock. Dropping it removes the lock file, then lets go.
struct Held {
    file: File,
    path: PathBuf,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Removed while still held, and only when the path still names the
        // file we hold (`forget` may have removed it): a process that opened
        // this file in the meantime finds, once it holds it, that the path
        // no longer names it, and starts over on a new file (see `lock`).
        if REMOVE_LOCK_FILES && is_at(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Takes the lock at `path`, waiting (with one line on stderr) while another
/// process holds it. `Some((lock, waited))`; `None` when locking is
/// impossible here (warned: the caller goes on without a lock).
fn lock(path: &Path, what: &str) -> anyhow::Result<Option<(Held, bool)>> {
    let start = Instant::now();
    let mut waited = false;
    loop {
        let file = match open_private(path) {
            Ok(file) => file,
            Err(e) => {
                warn(&format!(
                    "cannot lock {}: {e}; refreshing without a lock",
                    path.display()
                ));
                return Ok(None);
            }
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                if !waited {
                    crate::ui::info(format_args!(
                        "waiting for another mfaenv that is refreshing {what}…"
                    ));
                }
                waited = true;
                wait_for_lock(&file, what, start)?;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                warn(&format!("cannot lock the cache: {e}"));
                return Ok(None);
            }
        }
        if is_at(&file, path) {
            return Ok(Some((
                Held {
                    file,
                    path: path.to_path_buf(),
                },
                waited,
            )));
        }
        // The holder removed this file as it let go: lock the current one.
    }
}

/// Blocks until `lock` is ours, for at most [`LOCK_WAIT`] since `start`.
fn wait_for_lock(lock: &File, what: &str, start: Instant) -> anyhow::Result<()> {
    while start.elapsed() < LOCK_WAIT {
        std::thread::sleep(Duration::from_millis(50));
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
    }
    Err(CacheError::LockTimeout {
        label: what.to_string(),
    }
    .into())
}

/// Reads an entry, ignoring (with a warning) anything we must not trust.
fn read_entry(path: &Path) -> Option<(Label, Credentials)> {
    let file = match open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            warn(&format!("ignoring cache file {}: {e}", path.display()));
            return None;
        }
    };
    if let Err(reason) = check_private(&file) {
        warn(&format!("ignoring cache file {}: {reason}", path.display()));
        return None;
    }
    if file.metadata().is_ok_and(|m| m.len() > MAX_ENTRY) {
        warn(&format!(
            "ignoring cache file {}: larger than {} KiB",
            path.display(),
            MAX_ENTRY >> 10
        ));
        return None;
    }
    let reader = std::io::BufReader::new(file.take(MAX_ENTRY));
    let entry: Entry = match serde_json::from_reader(reader) {
        Ok(e) => e,
        Err(_) => {
            warn(&format!("ignoring corrupt cache file {}", path.display()));
            return None;
        }
    };
    let expiration = humantime::parse_rfc3339(&entry.expiration).ok();
    if entry.version != FORMAT_VERSION || expiration.is_none() {
        warn(&format!(
            "ignoring cache file {} of another format",
            path.display()
        ));
        return None;
    }
    Some((
        entry.label,
        Credentials {
            access_key_id: entry.access_key_id,
            secret_access_key: entry.secret_access_key,
            session_token: Some(entry.session_token),
            expiration,
        },
    ))
}

fn write_atomic(dir: &Path, path: &Path, entry: &Entry) -> std::io::Result<()> {
    // What a killed run left behind goes first: it may hold a session.
    crate::files::remove_stale_temps(dir, TEMP_PREFIX);
    // NamedTempFile creates 0600 files with a random name in `dir`.
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    serde_json::to_writer(&mut tmp, entry)?;
    tmp.write_all(b"\n")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
mod platform {
    use std::fs::{DirBuilder, File, OpenOptions};
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    fn uid() -> u32 {
        // SAFETY: getuid has no preconditions and cannot fail.
        unsafe { libc::getuid() }
    }

    pub fn prepare_dir(dir: &Path) -> Result<(), String> {
        if let Ok(meta) = std::fs::symlink_metadata(dir) {
            if meta.file_type().is_symlink() {
                return Err("it is a symlink, not a directory".into());
            }
            if !meta.is_dir() {
                return Err("it exists and is not a directory".into());
            }
        }
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| e.to_string())?;
        let meta = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
        if !meta.is_dir() {
            return Err("not a directory".into());
        }
        if meta.uid() != uid() {
            return Err("owned by another user".into());
        }
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("cannot make it private: {e}"))?;
        }
        Ok(())
    }

    /// `O_NONBLOCK`: a FIFO planted at the path opens at once (and is then
    /// refused by `check_private`) instead of blocking.
    pub fn open_nofollow(path: &Path) -> std::io::Result<File> {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
    }

    /// A lock file: created 0600, never through a symlink, never blocking,
    /// and a regular file (a FIFO or device there is refused).
    pub fn open_private(path: &Path) -> std::io::Result<File> {
        let file = open_lock(path, true)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::other(format!(
                "not a regular file ({})",
                crate::files::kind(&meta)
            )));
        }
        Ok(file)
    }

    /// Opens an existing lock file (`create` false) or makes it.
    pub fn open_lock(path: &Path, create: bool) -> std::io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
    }

    /// Removing a lock file is safe where `is_at` can tell a removed file.
    pub const REMOVE_LOCK_FILES: bool = true;

    /// Whether `path` still names the open `file` (same device and inode).
    pub fn is_at(file: &File, path: &Path) -> bool {
        match (file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }

    pub fn check_private(file: &File) -> Result<(), String> {
        let meta = file.metadata().map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        if meta.uid() != uid() {
            return Err("owned by another user".into());
        }
        if meta.mode() & 0o077 != 0 {
            return Err(format!(
                "readable by others (mode {:o}); delete it or `chmod 600` it",
                meta.mode() & 0o777
            ));
        }
        Ok(())
    }
}

#[cfg(not(unix))]
mod platform {
    use std::fs::{File, OpenOptions};
    use std::path::Path;

    pub fn prepare_dir(dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())
    }
    pub fn open_nofollow(path: &Path) -> std::io::Result<File> {
        File::open(path)
    }
    pub fn open_private(path: &Path) -> std::io::Result<File> {
        open_lock(path, true)
    }
    pub fn open_lock(path: &Path, create: bool) -> std::io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(path)
    }
    pub fn check_private(_: &File) -> Result<(), String> {
        Ok(())
    }

    /// Lock files stay: without inodes a removed one cannot be told apart.
    pub const REMOVE_LOCK_FILES: bool = false;

    pub fn is_at(_: &File, _: &Path) -> bool {
        true
    }
}

use platform::{
    check_private, is_at, open_lock, open_nofollow, open_private, prepare_dir, REMOVE_LOCK_FILES,
};

/// A directory of ours made (or tightened to) 0700; the key store's data dir
/// uses the cache's rules.
pub fn prepare_private_dir(dir: &Path) -> Result<(), String> {
    prepare_dir(dir)
}

/// A lock file created 0600, never through a symlink, never blocking.
pub fn open_private_file(path: &Path) -> std::io::Result<File> {
    open_private(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn creds(secs: u64) -> Credentials {
        Credentials {
            access_key_id: "ASIAX".into(),
            secret_access_key: "sec".into(),
            session_token: Some("tok".into()),
            expiration: Some(SystemTime::now() + Duration::from_secs(secs)),
        }
    }

    fn label() -> Label {
        Label {
            kind: "role".into(),
            profile: "p".into(),
            target: "arn".into(),
        }
    }

    #[test]
    fn put_get_ttl_and_permissions() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        prepare_dir(&dir).unwrap();
        let cache = Cache::at(dir.clone());
        let key = Key::new(&["a"]);
        cache.put(&key, &label(), &creds(3600));
        assert!(cache.get(&key, Duration::from_secs(60)).is_some());
        assert!(cache.get(&key, Duration::from_secs(7200)).is_none());
        let file = dir.join(format!("{}.json", key.0));
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            cache.get(&key, Duration::ZERO).is_none(),
            "a world-readable file is not trusted"
        );
        std::fs::write(&file, "{not json").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(cache.get(&key, Duration::ZERO).is_none());
        let c = cache
            .get_or_refresh(&key, &label(), Duration::ZERO, || Ok(creds(100)))
            .unwrap();
        assert_eq!(c.access_key_id, "ASIAX");
        assert!(
            cache.get(&key, Duration::ZERO).is_some(),
            "a corrupt file is replaced"
        );
        assert_eq!(cache.list().len(), 1);
        let mut removed = Removed::default();
        cache.remove(&key, &mut removed);
        assert_eq!((removed.sessions, removed.busy), (1, 0));
        assert!(removed.failed.is_empty());
        assert!(cache.list().is_empty());
    }

    #[test]
    fn a_waiter_reads_what_the_holder_stored_and_no_lock_file_stays() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        prepare_dir(&dir).unwrap();
        let key = Key::new(&["shared"]);
        let (started, go) = std::sync::mpsc::channel();
        let holder = {
            let dir = dir.clone();
            let key = key.clone();
            std::thread::spawn(move || {
                Cache::at(dir).get_or_refresh(&key, &label(), Duration::ZERO, || {
                    started.send(()).unwrap();
                    std::thread::sleep(Duration::from_millis(300));
                    Ok(creds(3600))
                })
            })
        };
        go.recv().unwrap();
        let lock_file = dir.join(format!("{}.lock", key.0));
        assert!(lock_file.exists(), "held while refreshing");
        let waited = Cache::at(dir.clone())
            .get_or_refresh(&key, &label(), Duration::ZERO, || {
                panic!("a waiter never refreshes")
            })
            .unwrap();
        assert_eq!(waited.access_key_id, "ASIAX");
        holder.join().unwrap().unwrap();
        assert!(!lock_file.exists(), "the last holder removed the lock file");
        // A failed refresh leaves nothing either.
        let other = Key::new(&["failing"]);
        let cache = Cache::at(dir.clone());
        assert!(cache
            .get_or_refresh(&other, &label(), Duration::ZERO, || anyhow::bail!("no"))
            .is_err());
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from(format!("{}.json", key.0))]);
    }

    #[test]
    fn clear_leaves_a_held_lock_and_removes_a_free_one() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        prepare_dir(&dir).unwrap();
        let cache = Cache::at(dir.clone());
        let key = Key::new(&["held"]);
        cache.put(&key, &label(), &creds(3600));
        let lock_file = dir.join(format!("{}.lock", key.0));
        let held = lock(&lock_file, "arn").unwrap().expect("locked");
        let removed = cache.clear();
        assert_eq!((removed.sessions, removed.busy), (1, 1));
        assert!(lock_file.exists(), "a held lock file stays");
        drop(held);
        // A lock file a killed run left (nobody holds it) goes.
        std::fs::write(&lock_file, "").unwrap();
        let removed = cache.clear();
        assert_eq!((removed.sessions, removed.busy), (0, 0));
        assert!(!lock_file.exists());
        assert!(removed.failed.is_empty());
    }

    #[test]
    fn loose_dir_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare_dir(&dir).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
