//! `mfaenv allow [DIR]` and `mfaenv deny [DIR]`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::hook::logical_cwd;
use crate::cli::TrustArgs;
use crate::hook::dotfile::{self, Found};
use crate::hook::trust::TrustStore;
use crate::resolve::{self, Options};
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
        what_loads(&settings)
    ));
    Ok(String::new())
}

/// `prod, account 222222222222, region us-west-2`: what entering will load,
/// read from the config alone (nothing is called). A profile that does not
/// resolve is allowed all the same (trust is about the file), with a
/// warning saying why entering will fail.
fn what_loads(settings: &dotfile::Settings) -> String {
    let name = ui::escape(&settings.profile);
    let opts = Options {
        region: settings.region.clone(),
        region_from: "`region` of the .mfaenv file",
        ..Options::default()
    };
    let plan = match resolve::plan(&settings.profile, &opts) {
        Ok(plan) => plan,
        Err(e) => {
            ui::warning(format_args!(
                "profile {name} of this file cannot be loaded: {e:#}; entering will fail until that is fixed"
            ));
            return name;
        }
    };
    // The account whose keys the shell gets: the last role's, else the MFA device's.
    let arn = plan
        .roles
        .last()
        .map(|r| r.role_arn.as_str())
        .or(plan.mfa_serial.as_deref());
    let account = arn
        .and_then(|arn| arn.split(':').nth(4))
        .filter(|a| !a.is_empty())
        .map_or("unknown until loaded".to_string(), ui::escape);
    let region = plan
        .region
        .as_deref()
        .map_or("none".to_string(), ui::escape);
    format!("{name}, account {account}, region {region}")
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
