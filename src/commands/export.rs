//! `mfaenv export PROFILE` (and bare `mfaenv PROFILE`).

use anyhow::Result;

use super::{credentials, current_env, note_region};
use crate::cli::ExportArgs;
use crate::env_vars;
use crate::shell::{self, Format};

pub fn run(args: &ExportArgs) -> Result<String> {
    let format = args.shell.unwrap_or_else(Format::detect);
    let (plan, creds) = credentials(&args.target)?;
    note_region(&plan);
    let changes = env_vars::for_shell(&plan.profile, &creds, plan.region.as_deref(), &current_env);
    Ok(shell::try_render(format, &changes)?)
}
