//! `mfaenv allow [DIR]` and `mfaenv deny [DIR]`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::hook::logical_cwd;
use crate::cli::TrustArgs;
use crate::hook::dotfile::{self, Found};
use crate::hook::trust::TrustStore;
use crate::ui;

fn target(args: &TrustArgs) -> Result<(Found, TrustStore)> {
    let start = match &args.path {
        Some(p) if p.is_absolute() => p.clone(),
        Some(p) => logical_cwd().join(p),
        None => logical_cwd(),
    };
    let Some(found) = dotfile::find(&start) else {
        bail!(
            "no {} file in {} or above",
            dotfile::FILE_NAME,
            ui::path(&dotfile::normalize(&start))
        );
    };
    let store = TrustStore::open().context("no data directory on this system to keep trust in")?;
    Ok((found, store))
}

pub fn allow(args: &TrustArgs) -> Result<String> {
    let (found, store) = target(args)?;
    let file = found.map_err(|refused| anyhow::anyhow!("{}", refused.message()))?;
    let settings = file
        .settings()
        .map_err(|e| anyhow::anyhow!("{e}; fix it, then allow it"))?;
    store
        .allow(&file)
        .with_context(|| format!("cannot record trust for {}", ui::path(&file.path)))?;
    crate::hook::touch_stamp();
    let link = match &file.link {
        Some(_) => format!(", a symlink to {}", ui::path(&file.real)),
        None => String::new(),
    };
    ui::info(format_args!(
        "allowed {}{link} (profile {})",
        ui::path(&file.path),
        settings.profile
    ));
    Ok(String::new())
}

pub fn deny(args: &TrustArgs) -> Result<String> {
    let (found, store) = target(args)?;
    // A refused file can be blocked too: that silences its hint.
    let path: PathBuf = match found {
        Ok(file) => file.path,
        Err(refused) => refused.path,
    };
    store
        .deny(&path)
        .with_context(|| format!("cannot record the block of {}", ui::path(&path)))?;
    crate::hook::touch_stamp();
    ui::info(format_args!("blocked {}", ui::path(&path)));
    Ok(String::new())
}
