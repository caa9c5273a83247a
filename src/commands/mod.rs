//! One file per subcommand. Each returns what goes to stdout; `main` prints
//! it only when the whole command succeeded.

pub mod add;
pub mod completions;
pub mod console;
pub mod credential_process;
pub mod exec;
pub mod export;
pub mod forget;
pub mod hook;
pub mod import;
pub mod keys;
pub mod login;
pub mod plan;
pub mod reload;
pub mod remove;
pub mod rotate;
pub mod setup;
pub mod sso;
pub mod status;
pub mod trust;
pub mod unset;
pub mod write;

use anyhow::Result;

use crate::cache::Cache;
use crate::cli::{AuthArgs, ProfileArgs};
use crate::config::Plan;
use crate::creds::Credentials;
use crate::resolve::{self, Options};

impl From<&AuthArgs> for Options {
    fn from(a: &AuthArgs) -> Options {
        Options {
            token_code: a.token_code.clone(),
            region: a.region.clone(),
            region_from: "--region",
            endpoint_url: a.endpoint_url.clone(),
            direct: a.direct,
            min_ttl: a.min_ttl.unwrap_or(resolve::DEFAULT_MIN_TTL),
            duration: a.duration,
            prompt: true,
            mfa_process: true,
        }
    }
}

/// The plan and fresh credentials for the profile named on the command line.
pub fn credentials(target: &ProfileArgs) -> Result<(Plan, Credentials)> {
    let profile = target.name();
    let opts = Options::from(&target.auth);
    let plan = resolve::plan(&profile, &opts)?;
    let creds = resolve::credentials(&plan, &opts, &Cache::open())?;
    Ok((plan, creds))
}

/// Says where the exported region came from when the profile has none of
/// its own: once per profile, region and source (remembered in the cache
/// directory), not at every export.
pub fn note_region(plan: &Plan) {
    if let (Some(region), Some(from)) = (&plan.region, &plan.region_from) {
        let what = format!("region\0{}\0{region}\0{from}", plan.profile);
        if !Cache::open().first_time(&what) {
            return;
        }
        // Both come from the config file: no control characters onto the terminal.
        crate::ui::note(format_args!(
            "region {} from source profile {}",
            region.escape_debug(),
            from.escape_debug()
        ));
    }
}

pub use crate::env_vars::get as current_env;
