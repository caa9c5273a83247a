//! `mfaenv add PROFILE [--env] [--backend B]`: store a profile's long-term
//! keys in the OS keyring or the encrypted file store (aws-vault's `add`).
//! The key id and the secret are asked on the terminal (the secret with
//! echo off), or taken from the environment with `--env`; never from argv.
//! `[profile PROFILE]` is added to the config file when missing (no secret
//! goes there), every other byte kept.

use anyhow::{bail, Context, Result};
use zeroize::Zeroizing;

use crate::cli::AddArgs;
use crate::config::{edit, Profiles};
use crate::keystore::{self, index, passphrase, LongTermKey};
use crate::ui;

pub fn run(args: &AddArgs) -> Result<String> {
    let name = &args.profile;
    // Refused before anything is asked: a name the config file cannot hold.
    config_with_profile(name)?;
    let key = if args.env {
        from_env()?
    } else {
        from_terminal()?
    };
    key.check()?;
    let profiles = Profiles::load()?;
    let configured = profiles.get(name).and_then(|p| p.get("key_store"));
    let (backend, why) = keystore::choose(args.backend, configured)?;
    let held = index::lock()?;
    let mut store = keystore::open(backend)?;
    keystore::save(&held, store.as_mut(), name, &key)
        .with_context(|| format!("profile `{name}`: storing its keys in {backend}"))?;
    drop(held);
    if let Some(text) = config_with_profile(name)? {
        let path = Profiles::config_path();
        edit::write_private(&path, &text)?;
        ui::info(format_args!(
            "added [{}] to {}",
            edit::profile_header(name),
            ui::path(&path)
        ));
    }
    ui::info(format_args!(
        "stored key {} of profile `{name}` in {backend} ({why})",
        keystore::key_hint(&key.access_key_id)
    ));
    if profiles
        .get(name)
        .is_some_and(|p| p.get("aws_access_key_id").is_some())
    {
        ui::warning(format_args!(
            "{} still holds keys for `{name}`, and they win over the stored ones: `mfaenv import {name}` moves them out",
            ui::path(&profiles.credentials_path)
        ));
    }
    Ok(String::new())
}

/// The config file's new text when it lacks `[profile NAME]`; `None` when
/// it has it. Checks the name either way.
fn config_with_profile(name: &str) -> Result<Option<String>> {
    let path = Profiles::config_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", ui::path(&path))),
    };
    let new = edit::set_profile_keys(&text, name, &[])?;
    Ok((new != text).then_some(new))
}

/// `--env`: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; temporary keys are refused.
fn from_env() -> Result<LongTermKey> {
    let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if get("AWS_SESSION_TOKEN").is_some() {
        bail!("AWS_SESSION_TOKEN is set: these are temporary keys, and only long-term ones (AKIA…) belong in the store");
    }
    let (Some(id), Some(secret)) = (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) else {
        bail!("--env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    };
    let secret = Zeroizing::new(secret);
    Ok(LongTermKey {
        access_key_id: id,
        secret_access_key: secret.to_string(),
    })
}

/// Asks on the terminal: the key id visibly, the secret with echo off.
fn from_terminal() -> Result<LongTermKey> {
    let no_tty = || {
        anyhow::anyhow!("no terminal to ask the keys on: use --env with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    };
    let id = passphrase::ask_visible("Access key id: ")?.ok_or_else(no_tty)?;
    let secret = passphrase::ask_hidden("Secret access key (not shown): ")?.ok_or_else(no_tty)?;
    Ok(LongTermKey {
        access_key_id: id.trim().to_string(),
        secret_access_key: secret.trim().to_string(),
    })
}
