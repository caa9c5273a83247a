//! `mfaenv completions SHELL`: shell completions generated from the clap
//! definitions in `cli.rs`. The same text is checked in under `completions/`
//! (see `tests/generated.rs`, which fails when those files are stale).

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionShell, CompletionsArgs};

/// Every shell, with the file its completions are checked in as (under `completions/`).
pub const FILES: [(CompletionShell, &str); 5] = [
    (CompletionShell::Bash, "mfaenv.bash"),
    (CompletionShell::Zsh, "_mfaenv"),
    (CompletionShell::Fish, "mfaenv.fish"),
    (CompletionShell::Powershell, "_mfaenv.ps1"),
    (CompletionShell::Elvish, "mfaenv.elv"),
];

pub fn run(args: &CompletionsArgs) -> Result<String> {
    Ok(String::from_utf8(generate(args.shell))?)
}

/// The completion script for `shell`.
pub fn generate(shell: CompletionShell) -> Vec<u8> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
        CompletionShell::Elvish => Shell::Elvish,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "mfaenv", &mut out);
    out
}
