//! `mfaenv forget [PROFILE | --all]`: delete cached sessions, and the
//! temporary files killed runs left in the cache and beside the AWS files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::cache::{Cache, Removed};
use crate::cli::ForgetArgs;
use crate::config::{edit, Profiles};
use crate::resolve::{self, Options};
use crate::ui;

pub fn run(args: &ForgetArgs) -> Result<String> {
    let cache = Cache::open();
    let Some(dir) = cache.dir().map(Path::to_path_buf) else {
        bail!("no usable cache directory: nothing was forgotten");
    };
    let mut removed = match &args.profile {
        Some(profile) if !args.all => {
            let plan = resolve::plan(profile, &Options::default())?;
            let mut removed = Removed::default();
            for step in resolve::steps(&plan) {
                cache.remove(&step.key, &mut removed);
            }
            removed.failed.extend(cache.remove_stale_temps());
            removed
        }
        _ => cache.clear(),
    };
    for dir in aws_dirs() {
        removed
            .failed
            .extend(crate::files::remove_stale_temps(&dir, edit::TEMP_PREFIX));
    }
    report(&removed, &dir)
}

/// The directories `write` and `setup` write into (a symlinked file's target's).
fn aws_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = [Profiles::credentials_path(), Profiles::config_path()]
        .iter()
        .filter_map(|p| {
            let target = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            target.parent().map(Path::to_path_buf)
        })
        .collect();
    dirs.dedup();
    dirs
}

fn report(removed: &Removed, dir: &Path) -> Result<String> {
    let count = removed.sessions;
    let noun = if count == 1 { "session" } else { "sessions" };
    ui::info(format_args!("forgot {count} cached {noun}"));
    if removed.busy > 0 {
        ui::note(format_args!(
            "another mfaenv is refreshing a session right now ({} lock held); what it gets is cached when it finishes",
            removed.busy
        ));
    }
    let Some((path, first)) = removed.failed.first() else {
        return Ok(String::new());
    };
    let more = match removed.failed.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    bail!(
        "cannot delete {}: {first}{more}; check the permissions of {}",
        ui::path(path),
        ui::path(dir)
    )
}
