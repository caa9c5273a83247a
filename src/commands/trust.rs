//! `mfaenv allow [DIR]` and `mfaenv deny [DIR]`.

use anyhow::{bail, Context, Result};

use super::hook::logical_cwd;
use crate::cli::TrustArgs;
use crate::hook::dotfile::{self, DotFile};
use crate::hook::trust::TrustStore;

fn target(args: &TrustArgs) -> Result<(DotFile, TrustStore)> {
    let start = match &args.path {
        Some(p) if p.is_absolute() => p.clone(),
        Some(p) => logical_cwd().join(p),
        None => logical_cwd(),
    };
    let Some(file) = dotfile::find_for(&start) else {
        bail!(
            "no {} file in {} or above",
            dotfile::FILE_NAME,
            start.display()
        );
    };
    let store = TrustStore::open().context("no data directory on this system to keep trust in")?;
    Ok((file, store))
}

pub fn allow(args: &TrustArgs) -> Result<String> {
    let (file, store) = target(args)?;
    let settings = file
        .settings()
        .map_err(|e| anyhow::anyhow!("{e}; fix it, then allow it"))?;
    store
        .allow(&file)
        .with_context(|| format!("cannot record trust for {}", file.path.display()))?;
    crate::hook::touch_stamp();
    eprintln!(
        "mfaenv: allowed {} (profile {})",
        file.path.display(),
        settings.profile
    );
    Ok(String::new())
}

pub fn deny(args: &TrustArgs) -> Result<String> {
    let (file, store) = target(args)?;
    store
        .deny(&file)
        .with_context(|| format!("cannot record the block of {}", file.path.display()))?;
    crate::hook::touch_stamp();
    eprintln!("mfaenv: blocked {}", file.path.display());
    Ok(String::new())
}
