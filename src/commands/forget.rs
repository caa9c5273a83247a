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
            let mut removed = forget_profile(&cache, profile)?;
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

/// The sessions `status` lists under `profile` (whatever keys, device or
/// options made them: a rotated key or a new `mfa_serial` leaves older
/// ones), and those the profile uses now, shared ones included (its MFA
/// session may carry its source's name). A profile the config no longer
/// resolves still loses the sessions labelled with its name.
fn forget_profile(cache: &Cache, profile: &str) -> Result<Removed> {
    let listed = cache.list();
    let plan = resolve::plan(profile, &Options::default());
    let steps = plan.as_ref().map(resolve::steps).unwrap_or_default();
    let mut removed = Removed::default();
    for session in &listed {
        let current = steps.iter().any(|s| cache.is_of(session, &s.key));
        if current || session.label.profile == profile {
            cache.remove_listed(session, &mut removed);
        }
    }
    // Lock files of sessions not cached (a refresh killed midway).
    for step in &steps {
        cache.remove(&step.key, &mut removed);
    }
    match plan {
        Err(e) if removed.sessions == 0 => Err(e),
        _ => Ok(removed),
    }
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
    ui::info(format_args!(
        "forgot {count} cached {noun}{}",
        of_profiles(&removed.profiles)
    ));
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

/// ` of prod, base`: the profiles whose sessions went (none: nothing).
pub fn of_profiles(profiles: &std::collections::BTreeSet<String>) -> String {
    if profiles.is_empty() {
        return String::new();
    }
    let names: Vec<String> = profiles.iter().map(|p| ui::escape(p)).collect();
    format!(" of {}", names.join(", "))
}
