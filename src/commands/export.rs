//! `mfaenv export PROFILE` (and bare `mfaenv PROFILE`).

use anyhow::Result;

use super::{credentials, current_env};
use crate::cli::ExportArgs;
use crate::env_vars;
use crate::shell::{self, Change, Format};

pub fn run(args: &ExportArgs) -> Result<String> {
    let format = args.shell.unwrap_or_else(Format::detect);
    let (plan, creds) = credentials(&args.target)?;
    let region = plan.region.as_deref();
    // Terragrunt hands the variables to each unit's run: nothing for
    // `mfaenv unset` to restore there, so no shell state. It cannot remove a
    // variable, only set it empty: done only for one that is set (an empty
    // AWS_PROFILE is ignored by the Go SDKs, refused by botocore).
    let changes = if format == Format::Terragrunt {
        env_vars::for_child(&plan.profile, &creds, region)
            .into_iter()
            .filter(|c| !matches!(c, Change::Unset(name) if current_env(name).is_none()))
            .collect()
    } else {
        env_vars::for_shell(&plan.profile, &creds, region, &current_env)
    };
    Ok(shell::render(format, &changes))
}
