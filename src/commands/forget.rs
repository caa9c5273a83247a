//! `mfaenv forget [PROFILE | --all]`: delete cached sessions.

use anyhow::Result;

use crate::cache::Cache;
use crate::cli::ForgetArgs;
use crate::resolve::{self, Options};

pub fn run(args: &ForgetArgs) -> Result<String> {
    let cache = Cache::open();
    let count = match &args.profile {
        Some(profile) if !args.all => {
            let plan = resolve::plan(profile, &Options::default())?;
            resolve::steps(&plan)
                .iter()
                .filter(|s| cache.remove(&s.key))
                .count()
        }
        _ => cache.clear(),
    };
    let noun = if count == 1 { "session" } else { "sessions" };
    eprintln!("mfaenv: forgot {count} cached {noun}");
    Ok(String::new())
}
