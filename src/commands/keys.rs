//! `mfaenv keys [--json]`: every profile with long-term keys and where they
//! live — a line of the config or credentials file, or a key store — with
//! the last four characters of the access key id, and its age (IAM's
//! creation date when mfaenv learned it, else the day it was stored; see
//! `keystore::ages`). Never a secret: the stores are not opened, the index
//! says where their keys are.

use std::time::SystemTime;

use anyhow::Result;
use serde_json::json;

use crate::cli::KeysArgs;
use crate::config::Profiles;
use crate::keystore::{self, ages, index};
use crate::ui::escape;

struct Row {
    profile: String,
    /// `file`, `keyring` or `credentials`/`config` (a plaintext file).
    store: &'static str,
    key_id: String,
    /// The file and line, for plaintext keys; the backend's name otherwise.
    location: String,
}

pub fn run(args: &KeysArgs) -> Result<String> {
    let profiles = Profiles::load()?;
    let rows = rows(&profiles)?;
    let ages = ages::load();
    Ok(if args.json {
        as_json(&rows, &ages)
    } else {
        as_table(&rows, &ages)
    })
}

/// Every long-term key: in the files and in the stores.
fn rows(profiles: &Profiles) -> Result<Vec<Row>> {
    let mut rows = plaintext(profiles);
    let path = index::path()?;
    for (profile, entry) in index::read(&path)?.keys {
        rows.push(Row {
            profile,
            store: entry.backend.name(),
            key_id: entry.access_key_id,
            location: entry.backend.to_string(),
        });
    }
    rows.sort_by(|a, b| a.profile.cmp(&b.profile).then(a.store.cmp(b.store)));
    Ok(rows)
}

/// One line for each key older than its profile's key_max_age (for `status`).
pub fn old_keys() -> Vec<String> {
    let Ok(profiles) = Profiles::load() else {
        return Vec::new();
    };
    let Ok(rows) = rows(&profiles) else {
        return Vec::new();
    };
    let ages = ages::load();
    let now = SystemTime::now();
    rows.iter()
        .filter_map(|r| {
            let configured = profiles.get(&r.profile).and_then(|p| p.get("key_max_age"));
            let limit = ages::max_age(configured);
            let age = ages::too_old(&ages, &r.key_id, limit, now)?;
            Some(escape(&ages::old_key_line(
                &r.profile, &r.key_id, age, limit,
            )))
        })
        .collect()
}

/// Long-term keys in the files: an access key id and no session token.
fn plaintext(profiles: &Profiles) -> Vec<Row> {
    profiles
        .names()
        .filter_map(|name| profiles.get(name))
        .filter(|p| p.get("aws_session_token").is_none())
        .filter_map(|p| {
            let value = p.value("aws_access_key_id")?;
            let store = if value.location.path == profiles.config_path {
                "config"
            } else {
                "credentials"
            };
            Some(Row {
                profile: p.name.clone(),
                store,
                key_id: value.value.clone(),
                location: value.location.to_string(),
            })
        })
        .collect()
}

fn as_json(rows: &[Row], ages: &ages::Ages) -> String {
    let now = SystemTime::now();
    let keys: Vec<_> = rows
        .iter()
        .map(|r| {
            let since = ages.since(&r.key_id);
            json!({
                "profile": r.profile,
                "store": r.store,
                "key_id_last4": keystore::key_hint(&r.key_id).trim_start_matches('…'),
                "location": r.location,
                "created": since.map(|(t, _)| crate::creds::rfc3339(t)),
                "created_from": since.map(|(_, from)| from.name()),
                "age_days": since.map(|(t, _)| now.duration_since(t).unwrap_or_default().as_secs() / 86_400),
            })
        })
        .collect();
    format!("{}\n", json!({ "keys": keys }))
}

fn as_table(rows: &[Row], ages: &ages::Ages) -> String {
    if rows.is_empty() {
        crate::ui::info("no long-term keys: `mfaenv add PROFILE` stores some");
        return String::new();
    }
    let now = SystemTime::now();
    // `120d` (IAM's date), `30d stored` (the day it was stored), `?`.
    let age = |key_id: &str| match ages.since(key_id) {
        Some((t, from)) => {
            let days = now.duration_since(t).unwrap_or_default().as_secs() / 86_400;
            match from {
                ages::Since::Iam => format!("{days}d"),
                ages::Since::Stored => format!("{days}d stored"),
            }
        }
        None => "?".to_string(),
    };
    // Names and paths come from files: no control characters onto the terminal.
    let lines: Vec<[String; 5]> =
        std::iter::once(["PROFILE", "STORE", "KEY", "AGE", "WHERE"].map(String::from))
            .chain(rows.iter().map(|r| {
                [
                    escape(&r.profile),
                    r.store.to_string(),
                    escape(&keystore::key_hint(&r.key_id)),
                    age(&r.key_id),
                    escape(&r.location),
                ]
            }))
            .collect();
    // Columns padded to their widest cell (in characters: `…` is one).
    let width = |i: usize| {
        lines
            .iter()
            .map(|l| l[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2), width(3)];
    lines
        .iter()
        .map(|[profile, store, key, age, location]| {
            format!(
                "{}  {}  {}  {}  {location}\n",
                pad(profile, widths[0]),
                pad(store, widths[1]),
                pad(key, widths[2]),
                pad(age, widths[3])
            )
        })
        .collect()
}

fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.chars().count());
    format!("{text}{}", " ".repeat(fill))
}
