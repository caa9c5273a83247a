//! `mfaenv import [PROFILE…|--all] [--backend B]`: move long-term keys out
//! of the credentials file into the key store.
//!
//! Nothing is ever lost, whenever the process dies: every key is first
//! written to the store, read back and compared, and indexed; only then is
//! the credentials file rewritten — once, atomically (temporary file and
//! rename), without exactly those keys, every other byte kept, an emptied
//! section removed, 0600. Killed before the rename, each key is in the file
//! and the store; after it, in the store. A profile that lived only in the
//! credentials file gets its `[profile NAME]` in the config file first, so
//! it still resolves once its section is gone.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::cli::ImportArgs;
use crate::config::{edit, Profiles};
use crate::keystore::{self, index, Backend, KeyStore, LongTermKey};
use crate::ui;

const KEYS: [&str; 2] = ["aws_access_key_id", "aws_secret_access_key"];

pub fn run(args: &ImportArgs) -> Result<String> {
    let path = Profiles::credentials_path();
    let text = read(&path)?;
    let in_file = Profiles::from_texts("", &text)?;
    let picked = pick(&in_file, args)?;
    if picked.is_empty() {
        ui::info(format_args!(
            "{} holds no long-term keys: nothing to import",
            ui::path(&path)
        ));
        return Ok(String::new());
    }
    let merged = Profiles::load()?;
    let held = index::lock()?;
    let mut stores: BTreeMap<&'static str, Box<dyn KeyStore>> = BTreeMap::new();
    let mut moved: Vec<(&str, &LongTermKey, Backend)> = Vec::new();
    for (name, key) in &picked {
        let configured = merged.get(name).and_then(|p| p.get("key_store"));
        let (backend, _) = keystore::choose(args.backend, configured)?;
        let store = match stores.entry(backend.name()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(keystore::open(backend)?),
        };
        keystore::save(&held, store.as_mut(), name, key).with_context(|| {
            format!(
                "profile `{name}`: storing its keys in {backend}; {} is unchanged{}",
                ui::path(&path),
                stored_so_far(&moved)
            )
        })?;
        moved.push((name, key, backend));
    }
    add_config_sections(&moved)?;
    let removed = rewrite_credentials(&path, &moved)?;
    drop(held);
    // IAM's creation dates, where a cached MFA session of the key allows
    // asking without a code (`keys` shows the age).
    for (name, key, _) in &moved {
        super::rotate::learn_dates(&merged, name, key);
    }
    for (name, key, backend) in &moved {
        if removed.contains(name) {
            ui::info(format_args!(
                "moved key {} of profile `{name}` from {} to {backend}",
                keystore::key_hint(&key.access_key_id),
                ui::path(&path)
            ));
        }
    }
    Ok(String::new())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", ui::path(path)))
}

/// ` (already stored, and still in the file: a, b)`, for an error midway.
fn stored_so_far(moved: &[(&str, &LongTermKey, Backend)]) -> String {
    if moved.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = moved.iter().map(|(n, _, _)| *n).collect();
    format!(
        " (stored already, and still in the file: {})",
        names.join(", ")
    )
}

/// The profiles to move and their keys: the named ones (each must hold
/// long-term keys in the file), or with `--all` every section that does.
fn pick(in_file: &Profiles, args: &ImportArgs) -> Result<Vec<(String, LongTermKey)>> {
    let long_term = |name: &str| {
        let p = in_file.get(name)?;
        if p.get("aws_session_token").is_some() {
            return None;
        }
        Some(LongTermKey {
            access_key_id: p.get("aws_access_key_id")?.to_string(),
            secret_access_key: p.get("aws_secret_access_key")?.to_string(),
        })
    };
    let names: Vec<String> = if args.all {
        in_file
            .names()
            .filter(|n| long_term(n).is_some())
            .map(str::to_string)
            .collect()
    } else {
        args.profiles.clone()
    };
    let mut picked = Vec::new();
    for name in names {
        let Some(key) = long_term(&name) else {
            bail!(
                "profile `{}` has no long-term keys in the credentials file (aws_access_key_id and aws_secret_access_key, no aws_session_token); nothing was changed",
                name.escape_debug()
            );
        };
        key.check()
            .with_context(|| format!("profile `{}`; nothing was changed", name.escape_debug()))?;
        // The config section it may need must be writable: checked before any change.
        edit::set_profile_keys("", &name, &[])
            .with_context(|| format!("profile `{}`; nothing was changed", name.escape_debug()))?;
        picked.push((name, key));
    }
    Ok(picked)
}

/// `[profile NAME]` in the config file for each moved profile that lacks one.
fn add_config_sections(moved: &[(&str, &LongTermKey, Backend)]) -> Result<()> {
    let path = Profiles::config_path();
    let before = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", ui::path(&path))),
    };
    let mut text = before.clone();
    for (name, _, _) in moved {
        text = edit::set_profile_keys(&text, name, &[])?;
    }
    if text != before {
        edit::write_private(&path, &text)?;
    }
    Ok(())
}

/// Rewrites the credentials file without the moved keys; returns the
/// profiles whose keys left it. The file is read again here: a key changed
/// in it since (by hand, by another tool) is not the one stored, so it stays.
fn rewrite_credentials<'a>(
    path: &Path,
    moved: &[(&'a str, &LongTermKey, Backend)],
) -> Result<Vec<&'a str>> {
    let before = read(path)?;
    let now = Profiles::from_texts("", &before)?;
    let mut text = before.clone();
    let mut removed = Vec::new();
    for (name, key, backend) in moved {
        let same = now.get(name).is_some_and(|p| {
            p.get("aws_access_key_id") == Some(key.access_key_id.as_str())
                && p.get("aws_secret_access_key") == Some(key.secret_access_key.as_str())
        });
        if !same {
            ui::warning(format_args!(
                "the keys of `{name}` in {} changed while importing: left there (and the ones read first are in {backend})",
                ui::path(path)
            ));
            continue;
        }
        text = edit::remove_keys(&text, name, &KEYS)?;
        removed.push(*name);
    }
    if text != before {
        edit::write_private(path, &text)?;
    }
    Ok(removed)
}
