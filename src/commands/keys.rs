//! `mfaenv keys [--json]`: every profile with long-term keys and where they
//! live — a line of the config or credentials file, or a key store — with
//! the last four characters of the access key id. Never a secret: the
//! stores are not opened, the index says where their keys are.

use anyhow::Result;
use serde_json::json;

use crate::cli::KeysArgs;
use crate::config::Profiles;
use crate::keystore::{self, index};
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
    let mut rows = plaintext(&profiles);
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
    Ok(if args.json {
        as_json(&rows)
    } else {
        as_table(&rows)
    })
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

fn as_json(rows: &[Row]) -> String {
    let keys: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "profile": r.profile,
                "store": r.store,
                "key_id_last4": keystore::key_hint(&r.key_id).trim_start_matches('…'),
                "location": r.location,
            })
        })
        .collect();
    format!("{}\n", json!({ "keys": keys }))
}

fn as_table(rows: &[Row]) -> String {
    if rows.is_empty() {
        crate::ui::info("no long-term keys: `mfaenv add PROFILE` stores some");
        return String::new();
    }
    // Names and paths come from files: no control characters onto the terminal.
    let lines: Vec<[String; 4]> =
        std::iter::once(["PROFILE", "STORE", "KEY", "WHERE"].map(String::from))
            .chain(rows.iter().map(|r| {
                [
                    escape(&r.profile),
                    r.store.to_string(),
                    escape(&keystore::key_hint(&r.key_id)),
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
    let widths = [width(0), width(1), width(2)];
    lines
        .iter()
        .map(|[profile, store, key, location]| {
            format!(
                "{}  {}  {}  {location}\n",
                pad(profile, widths[0]),
                pad(store, widths[1]),
                pad(key, widths[2])
            )
        })
        .collect()
}

fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.chars().count());
    format!("{text}{}", " ".repeat(fill))
}
