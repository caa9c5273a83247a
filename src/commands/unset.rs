//! `mfaenv unset`: undo what mfaenv set in this shell.

use anyhow::Result;

use super::current_env;
use crate::cli::UnsetArgs;
use crate::env_vars;
use crate::shell::{self, Format};

pub fn run(args: &UnsetArgs) -> Result<String> {
    let format = args.shell.unwrap_or_else(Format::detect);
    let (changes, notes) = env_vars::for_unset(&current_env, args.all);
    for note in notes {
        eprintln!("mfaenv: {note}");
    }
    Ok(shell::render(format, &changes))
}
