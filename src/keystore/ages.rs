//! How old each long-term key is, by access key id, in `key-ages.json`
//! under the data dir (0600, dir 0700; no secret in it): the creation date
//! IAM gave (`iam:ListAccessKeys` on `setup` and `rotate`, `CreateAccessKey`
//! on `rotate`), else the date mfaenv stored the key (`add`, `import`), and
//! when mfaenv last said the key is old (at most once a day per key).
//!
//! Only the paths that are about to call AWS with a long-term key read it
//! (`resolve::source_keys`), and `keys`/`status`: never the cached export.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{data_dir, index, KeyStoreError};
use crate::creds::rfc3339;

/// AWS's advice: rotate long-term keys every 90 days.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(90 * 86_400);

/// How often the same key is said to be old.
const WARN_EVERY: Duration = Duration::from_secs(86_400);

const MAX_SIZE: u64 = 4 << 20;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ages {
    #[serde(default)]
    pub keys: BTreeMap<String, Record>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    /// When IAM says the key was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When mfaenv stored it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<String>,
    /// When mfaenv last said it is old (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned: Option<String>,
}

/// Where a key's age comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// IAM's creation date.
    Iam,
    /// The day mfaenv stored it.
    Stored,
}

impl Since {
    pub fn name(self) -> &'static str {
        match self {
            Since::Iam => "iam",
            Since::Stored => "stored",
        }
    }
}

impl Record {
    /// The key's birth: IAM's date, else the day it was stored.
    pub fn since(&self) -> Option<(SystemTime, Since)> {
        let parse =
            |t: &Option<String>| t.as_deref().and_then(|t| humantime::parse_rfc3339(t).ok());
        parse(&self.created)
            .map(|t| (t, Since::Iam))
            .or_else(|| parse(&self.stored).map(|t| (t, Since::Stored)))
    }
}

impl Ages {
    pub fn since(&self, key_id: &str) -> Option<(SystemTime, Since)> {
        self.keys.get(key_id)?.since()
    }
}

pub fn path() -> Result<PathBuf, KeyStoreError> {
    Ok(data_dir()?.join("key-ages.json"))
}

/// The ages: missing → none; damaged or not private → none, with a warning.
pub fn load() -> Ages {
    let Ok(path) = path() else {
        return Ages::default();
    };
    match read(&path) {
        Ok(ages) => ages,
        Err(e) => {
            crate::ui::warning(format_args!("ignoring the key ages: {e}"));
            Ages::default()
        }
    }
}

fn read(path: &std::path::Path) -> Result<Ages, KeyStoreError> {
    let (bytes, meta) = match crate::files::read_bounded(path, MAX_SIZE) {
        Ok(found) => found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ages::default()),
        Err(source) => {
            return Err(KeyStoreError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    index::check_private(path, &meta)?;
    serde_json::from_slice(&bytes).map_err(|e| KeyStoreError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Changes the ages under their own lock (not the index's: `keystore::save`
/// records a date while holding that one), atomically.
pub fn change(edit: impl FnOnce(&mut Ages)) -> Result<(), KeyStoreError> {
    let dir = index::prepare_dir()?;
    let lock_path = dir.join("key-ages.lock");
    let io = |source| KeyStoreError::Io {
        path: lock_path.clone(),
        source,
    };
    let lock = crate::cache::open_private_file(&lock_path).map_err(io)?;
    lock.lock().map_err(io)?;
    let path = path()?;
    // A damaged file is replaced: it holds nothing that cannot be learned again.
    let mut ages = read(&path).unwrap_or_default();
    edit(&mut ages);
    let mut text = serde_json::to_vec_pretty(&ages).map_err(|e| KeyStoreError::Corrupt {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    text.push(b'\n');
    index::write_atomic(&path, &text)
}

/// Records IAM's creation dates of `keys` (id, date).
pub fn record_created(keys: &[(String, SystemTime)]) {
    if keys.is_empty() {
        return;
    }
    let done = change(|ages| {
        for (id, created) in keys {
            ages.keys.entry(id.clone()).or_default().created = Some(rfc3339(*created));
        }
    });
    if let Err(e) = done {
        crate::ui::warning(format_args!("cannot record the keys' creation dates: {e}"));
    }
}

/// Records that `key_id` was stored now (kept when already known).
pub fn record_stored(key_id: &str) {
    let now = rfc3339(SystemTime::now());
    let done = change(|ages| {
        let record = ages.keys.entry(key_id.to_string()).or_default();
        record.stored.get_or_insert(now);
    });
    if let Err(e) = done {
        crate::ui::warning(format_args!("cannot record when the key was stored: {e}"));
    }
}

/// Forgets a deleted key.
pub fn forget(key_id: &str) {
    let _ = change(|ages| {
        ages.keys.remove(key_id);
    });
}

/// The age limit: `MFAENV_KEY_MAX_AGE`, else the profile's `key_max_age`
/// (`configured`), else 90 days. A value that is no duration is said and
/// the default used.
pub fn max_age(configured: Option<&str>) -> Duration {
    let (text, from) = match crate::settings::key_max_age() {
        Some(text) => (text, crate::settings::MFAENV_KEY_MAX_AGE),
        None => match configured {
            Some(text) => (text.to_string(), "key_max_age"),
            None => return DEFAULT_MAX_AGE,
        },
    };
    match crate::duration::parse(&text) {
        Ok(d) if d > Duration::ZERO => d,
        _ => {
            crate::ui::warning(format_args!(
                "{from} = {} is not a duration like 90d: using 90 days",
                text.escape_debug()
            ));
            DEFAULT_MAX_AGE
        }
    }
}

/// `120 days`, `1 day`, `0 days`.
pub fn days(age: Duration) -> String {
    match age.as_secs() / 86_400 {
        1 => "1 day".to_string(),
        n => format!("{n} days"),
    }
}

/// How old the key is when it is over `limit`.
pub fn too_old(ages: &Ages, key_id: &str, limit: Duration, now: SystemTime) -> Option<Duration> {
    let (since, _) = ages.since(key_id)?;
    let age = now.duration_since(since).unwrap_or_default();
    (age > limit).then_some(age)
}

/// One line on stderr when the key `key_id` of `profile` is older than the
/// limit, at most once a day per key.
pub fn warn_if_old(profile: &str, key_id: &str, configured: Option<&str>) {
    let ages = load();
    let limit = max_age(configured);
    let now = SystemTime::now();
    let Some(age) = too_old(&ages, key_id, limit, now) else {
        return;
    };
    let warned = ages
        .keys
        .get(key_id)
        .and_then(|r| r.warned.as_deref())
        .and_then(|t| humantime::parse_rfc3339(t).ok());
    if warned.is_some_and(|t| now.duration_since(t).unwrap_or_default() < WARN_EVERY) {
        return;
    }
    crate::ui::warning(format_args!(
        "{}",
        old_key_line(profile, key_id, age, limit)
    ));
    let _ = change(|ages| {
        ages.keys.entry(key_id.to_string()).or_default().warned = Some(rfc3339(now));
    });
}

/// What `warn_if_old` and `status` say about an old key.
pub fn old_key_line(profile: &str, key_id: &str, age: Duration, limit: Duration) -> String {
    format!(
        "the long-term key {} of profile `{}` is {} old (key_max_age: {}): `mfaenv rotate {}` replaces it",
        super::key_hint(key_id),
        profile.escape_debug(),
        days(age),
        days(limit),
        profile.escape_debug()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_date_wins_and_age_is_counted() {
        let mut ages = Ages::default();
        ages.keys.insert(
            "AKIA1".into(),
            Record {
                created: Some("2026-01-01T00:00:00Z".into()),
                stored: Some("2026-03-01T00:00:00Z".into()),
                warned: None,
            },
        );
        ages.keys.insert(
            "AKIA2".into(),
            Record {
                stored: Some("2026-03-01T00:00:00Z".into()),
                ..Record::default()
            },
        );
        let now = humantime::parse_rfc3339("2026-04-11T00:00:00Z").unwrap();
        assert_eq!(ages.since("AKIA1").unwrap().1, Since::Iam);
        assert_eq!(ages.since("AKIA2").unwrap().1, Since::Stored);
        let limit = DEFAULT_MAX_AGE;
        assert_eq!(
            too_old(&ages, "AKIA1", limit, now).map(days).as_deref(),
            Some("100 days")
        );
        assert_eq!(too_old(&ages, "AKIA2", limit, now), None);
        assert_eq!(too_old(&ages, "AKIA3", limit, now), None);
    }

    #[test]
    fn the_limit_comes_from_the_profile_else_90_days() {
        if crate::settings::key_max_age().is_some() {
            return; // the variable wins; this test is about the profile key
        }
        assert_eq!(max_age(Some("30d")), Duration::from_secs(30 * 86_400));
        assert_eq!(max_age(Some("2160h")), DEFAULT_MAX_AGE);
        assert_eq!(max_age(None), DEFAULT_MAX_AGE);
        assert_eq!(
            max_age(Some("soon")),
            DEFAULT_MAX_AGE,
            "said, and the default"
        );
        assert_eq!(max_age(Some("0")), DEFAULT_MAX_AGE);
        assert_eq!(days(Duration::from_secs(86_400 + 5)), "1 day");
    }
}
