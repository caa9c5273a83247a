//! `mfaenv export PROFILE` (and bare `mfaenv PROFILE`).

use std::io::IsTerminal;

use anyhow::Result;

use super::{credentials, current_env, note_region};
use crate::cli::ExportArgs;
use crate::env_vars;
use crate::shell::{self, Change, Format, Shell};

/// `mfaenv PROFILE` typed at a terminal, without `eval`: the keys would only
/// be shown on screen (and in the scrollback), never loaded.
#[derive(Debug, thiserror::Error)]
#[error("stdout is a terminal, so the keys would only be shown on screen, not loaded: run `{usage}` (or pass --shell or --force to print them)")]
pub struct ToTerminal {
    usage: String,
}

pub fn run(args: &ExportArgs) -> Result<String> {
    let format = args.shell.unwrap_or_else(Format::detect);
    let profile = args.target.name();
    if args.shell.is_none() && !args.force && std::io::stdout().is_terminal() {
        return Err(ToTerminal {
            usage: usage(format, &profile),
        }
        .into());
    }
    let (plan, creds) = credentials(&args.target)?;
    note_region(&plan);
    let region = plan.region.as_deref();
    // Terragrunt hands the variables to each unit's run: nothing for
    // `mfaenv unset` to restore there, so no shell state. It cannot remove a
    // variable, only set it empty: done only for one that is set (an empty
    // AWS_PROFILE is ignored by the Go SDKs, refused by botocore).
    // A dotenv file is read by docker or a library, never by `mfaenv
    // unset`: the keys and region only, no shell state (MFAENV_PRIOR…).
    let changes = if format == Format::Dotenv {
        env_vars::for_child(&plan.profile, &creds, region)
    } else if format == Format::Terragrunt {
        env_vars::for_child(&plan.profile, &creds, region)
            .into_iter()
            .filter(|c| !matches!(c, Change::Unset(name) if current_env(name).is_none()))
            .collect()
    } else {
        env_vars::for_shell(&plan.profile, &creds, region, &current_env)
    };
    Ok(shell::try_render(format, &changes)?)
}

/// How `format`'s shell loads the export of `profile`.
fn usage(format: Format, profile: &str) -> String {
    let plain = profile
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-@+".contains(&b));
    let quoted = match (plain, format) {
        (true, _) => profile.to_string(),
        (false, Format::Fish) => shell::Fish.quote(profile),
        (false, Format::Pwsh) => shell::Pwsh.quote(profile),
        (false, _) => shell::Bash.quote(profile),
    };
    match format {
        Format::Fish => format!("mfaenv {quoted} | source"),
        Format::Pwsh => format!("mfaenv {quoted} | Invoke-Expression"),
        _ => format!("eval \"$(mfaenv {quoted})\""),
    }
}
