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
    for (name, _) in &picked {
        refuse_second_key(&path, &text, name)?;
    }
    if picked.is_empty() {
        ui::info(format_args!(
            "{} holds no long-term keys: nothing to import",
            ui::path(&path)
        ));
        return Ok(String::new());
    }
    let merged = Profiles::load()?;
    warn_cli_users(&merged, &picked, args.credential_process);
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
    add_config_sections(&moved, args.credential_process.then_some(&merged))?;
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

/// Refuses a profile whose keys the file sets twice with different values
/// (two `[base]` sections, or a key twice in one): the reader keeps only the
/// last, and removing both would lose the other key.
fn refuse_second_key(path: &Path, text: &str, name: &str) -> Result<()> {
    let lines = edit::conflicting_lines(text, name, &KEYS)?;
    if lines.is_empty() {
        return Ok(());
    }
    let at: Vec<String> = lines
        .iter()
        .map(|l| format!("{}:{l}", ui::path(path)))
        .collect();
    bail!(
        "profile `{}` has two different keys in the credentials file ({}); only the last is read: keep one (or rename the other section) and import again; nothing was changed",
        name.escape_debug(),
        at.join(", ")
    )
}

/// The line that sends the AWS CLI to mfaenv for a profile's keys.
fn credential_process_line(name: &str) -> String {
    format!("mfaenv credential-process {name}")
}

/// The AWS CLI reads keys from the credentials file, never from mfaenv's
/// store: once they move, `aws --profile NAME` finds none, nor does every
/// `aws` command for `[default]`, nor any role whose `source_profile` it
/// is. Said before anything changes; `--credential-process` fixes it.
fn warn_cli_users(merged: &Profiles, picked: &[(String, LongTermKey)], fixing: bool) {
    let affected: Vec<String> = picked
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| {
            merged
                .get(name)
                .is_none_or(|p| p.get("credential_process").is_none())
        })
        .map(|name| describe_user(merged, name))
        .collect();
    if affected.is_empty() {
        return;
    }
    if fixing {
        ui::info(format_args!(
            "adding credential_process = mfaenv credential-process NAME for {}, so the AWS CLI asks mfaenv for their keys",
            affected.join(", ")
        ));
        return;
    }
    ui::warning(format_args!(
        "the AWS CLI reads keys only from the credentials file: after this it finds none for {}. `mfaenv import --credential-process …` adds `credential_process = mfaenv credential-process NAME` to each, or add that line by hand",
        affected.join(", ")
    ));
}

/// `` `base` (source_profile of prod, staging) ``, `` `default` (every aws command without --profile) ``.
fn describe_user(merged: &Profiles, name: &str) -> String {
    let mut why = Vec::new();
    if name == "default" {
        why.push("every aws command without --profile".to_string());
    }
    let roles: Vec<&str> = merged
        .names()
        .filter(|n| *n != name)
        .filter(|n| merged.get(n).and_then(|p| p.get("source_profile")) == Some(name))
        .collect();
    if !roles.is_empty() {
        why.push(format!("source_profile of {}", roles.join(", ")));
    }
    let name = name.escape_debug();
    match why.is_empty() {
        true => format!("`{name}`"),
        false => format!("`{name}` ({})", why.join("; ").escape_debug()),
    }
}

/// `[profile NAME]` in the config file for each moved profile that lacks
/// one; with `merged` (`--credential-process`), its `credential_process`
/// line too, unless it has one.
fn add_config_sections(
    moved: &[(&str, &LongTermKey, Backend)],
    merged: Option<&Profiles>,
) -> Result<()> {
    let path = Profiles::config_path();
    let before = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", ui::path(&path))),
    };
    let mut text = before.clone();
    for (name, _, _) in moved {
        let has_one = |m: &Profiles| {
            m.get(name)
                .is_some_and(|p| p.get("credential_process").is_some())
        };
        let line = credential_process_line(name);
        let keys: &[(&str, &str)] = match merged {
            Some(m) if !has_one(m) => &[("credential_process", line.as_str())],
            _ => &[],
        };
        text = edit::set_profile_keys(&text, name, keys)?;
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
