//! `mfaenv remove PROFILE [--yes]`: delete a profile's stored keys and the
//! cached sessions made from them (its own and those of every profile that
//! uses it as a source). Asks on the terminal unless `--yes`.

use anyhow::{bail, Context, Result};

use crate::cache::{Cache, Removed};
use crate::cli::RemoveArgs;
use crate::config::{KeyOrigin, Profiles};
use crate::keystore::{self, index, passphrase};
use crate::resolve;
use crate::ui;

pub fn run(args: &RemoveArgs) -> Result<String> {
    let name = &args.profile;
    let Some(entry) = index::read(&index::path()?)?.keys.remove(name) else {
        bail!("profile `{name}` has no stored keys (`mfaenv keys` lists the profiles that have)");
    };
    let backend = entry.backend;
    let hint = keystore::key_hint(&entry.access_key_id);
    if !args.yes
        && !confirmed(&format!(
            "Delete key {hint} of profile `{name}` from {backend}? [y/N] "
        ))?
    {
        bail!("nothing was deleted");
    }
    // The sessions go first: finding them needs the index entry.
    let forgotten = forget_sessions(name);
    let held = index::lock()?;
    let deleted = keystore::open(backend)
        .and_then(|mut store| store.delete(name))
        .with_context(|| format!("profile `{name}`: deleting its keys from {backend}"))?;
    index::update(&held, |index| {
        index.keys.remove(name);
    })?;
    if !deleted {
        ui::note(format_args!("{backend} had no entry for `{name}` any more"));
    }
    let count = forgotten.sessions;
    let noun = if count == 1 { "session" } else { "sessions" };
    ui::info(format_args!(
        "deleted key {hint} of profile `{name}` from {backend}, and {count} cached {noun} made from it{}",
        match super::forget::of_profiles(&forgotten.profiles).trim_start() {
            "" => String::new(),
            whose => format!(" ({whose})"),
        }
    ));
    Ok(String::new())
}

/// Asks `question` on the terminal; only `y`/`yes` is a yes.
fn confirmed(question: &str) -> Result<bool> {
    let answer = passphrase::ask_visible(question)?
        .context("no terminal to ask for confirmation on: pass --yes")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Removes the cached sessions of every profile whose keys are `name`'s
/// stored ones; says how many went, and whose.
fn forget_sessions(name: &str) -> Removed {
    let Ok(profiles) = Profiles::load() else {
        return Removed::default();
    };
    let cache = Cache::open();
    let mut removed = Removed::default();
    let env = |v: &str| crate::env_vars::get(v);
    for profile in profiles.names() {
        let Ok(plan) = crate::config::resolve(&profiles, profile, &env) else {
            continue;
        };
        if plan.source.profile != name || !matches!(plan.source.origin, KeyOrigin::Store(_)) {
            continue;
        }
        for step in resolve::steps(&plan) {
            cache.remove(&step.key, &mut removed);
        }
    }
    removed
}
