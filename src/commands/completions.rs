//! `mfaenv completions SHELL`: shell completions generated from the clap
//! definitions in `cli.rs`. The same text is checked in under `completions/`
//! (see `tests/generated.rs`, which fails when those files are stale).
//!
//! clap's scripts know flags, subcommands and the values of `--shell`; for
//! bash, zsh and fish a wrapper is added that completes PROFILE with the
//! names of the config files, through the hidden `mfaenv __profiles`.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionShell, CompletionsArgs, ProfilesArgs};
use crate::config::Profiles;

/// Every shell, with the file its completions are checked in as (under `completions/`).
pub const FILES: [(CompletionShell, &str); 5] = [
    (CompletionShell::Bash, "mfaenv.bash"),
    (CompletionShell::Zsh, "_mfaenv"),
    (CompletionShell::Fish, "mfaenv.fish"),
    (CompletionShell::Powershell, "_mfaenv.ps1"),
    (CompletionShell::Elvish, "mfaenv.elv"),
];

const BASH_PROFILES: &str = include_str!("../../shell/profiles.bash");
const ZSH_PROFILES: &str = include_str!("../../shell/profiles.zsh");
const FISH_PROFILES: &str = include_str!("../../shell/profiles.fish");

pub fn run(args: &CompletionsArgs) -> Result<String> {
    Ok(String::from_utf8(generate(args.shell))?)
}

/// The completion script for `shell`.
pub fn generate(shell: CompletionShell) -> Vec<u8> {
    let clap_shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
        CompletionShell::Elvish => Shell::Elvish,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(clap_shell, &mut cmd, "mfaenv", &mut out);
    let script = String::from_utf8_lossy(&out).into_owned();
    match shell {
        CompletionShell::Bash => with_bash_profiles(script),
        CompletionShell::Zsh => with_zsh_profiles(script),
        CompletionShell::Fish => script + FISH_PROFILES,
        CompletionShell::Powershell | CompletionShell::Elvish => script,
    }
    .into_bytes()
}

/// The wrapper goes before the `complete` lines, which then name it.
fn with_bash_profiles(script: String) -> String {
    let registration = "\nif [[ \"${BASH_VERSINFO[0]}\" -eq 4";
    let (functions, register) = script
        .find(registration)
        .map(|at| script.split_at(at))
        .unwrap_or((script.as_str(), ""));
    format!(
        "{functions}{BASH_PROFILES}{}",
        register.replace("complete -F _mfaenv ", "complete -F _mfaenv_profiles ")
    )
}

/// clap's `_mfaenv` becomes `_mfaenv_clap` behind the wrapper. The
/// top-level PROFILE leaves clap's `_arguments` (the wrapper completes it):
/// there it would take a subcommand's name for a profile, so that
/// `mfaenv login -<TAB>` offered the top level's flags, not login's.
fn with_zsh_profiles(script: String) -> String {
    // The first `_arguments` block is the top level's.
    let top_profile = "'::profile -- AWS profile to export";
    let script: String = match script.find(top_profile) {
        Some(at) => {
            let end = script[at..].find('\n').map_or(script.len(), |n| at + n + 1);
            format!("{}{}", &script[..at], &script[end..])
        }
        None => script,
    };
    let script = script
        .replacen("\n_mfaenv() {\n", "\n_mfaenv_clap() {\n", 1)
        .replacen(
            "curcontext=\"${curcontext%:*:*}:mfaenv-command-$line[2]:\"\n        case $line[2] in",
            "curcontext=\"${curcontext%:*:*}:mfaenv-command-$line[1]:\"\n        case $line[1] in",
            1,
        )
        .replacen(
            "        words=($line[2] \"${words[@]}\")",
            "        words=($line[1] \"${words[@]}\")",
            1,
        );
    let end = "\nif [ \"$funcstack[1]\" = \"_mfaenv\" ]; then";
    match script.find(end) {
        Some(at) => format!("{}{ZSH_PROFILES}{}", &script[..at], &script[at..]),
        None => script + ZSH_PROFILES,
    }
}

/// `mfaenv __profiles -- WORDS`: the profile names, one a line, when the word
/// after WORDS is a PROFILE; else nothing. Never fails: a completion has no
/// place for an error.
pub fn profiles(args: &ProfilesArgs) -> String {
    if !wants_profile(&args.words) {
        return String::new();
    }
    let Ok(profiles) = Profiles::load() else {
        return String::new();
    };
    profiles
        .names()
        // One name a line, and nothing a terminal would act on. A space is
        // kept: each shell's script quotes the name it inserts.
        .filter(|n| {
            !n.chars()
                .any(|c| c != ' ' && (c.is_whitespace() || c.is_control()))
        })
        .map(|n| format!("{n}\n"))
        .collect()
}

/// Stands for the word being completed while clap parses the line.
const PROBE: &str = "\u{1}mfaenv-profile-probe";

/// Whether clap reads the word after `words` as a PROFILE: the line is
/// parsed with a probe in that place, errors ignored.
pub fn wants_profile(words: &[String]) -> bool {
    // After `--` come a command's words (`exec -- CMD`), never a profile.
    if words.iter().any(|w| w == "--") {
        return false;
    }
    let argv = std::iter::once("mfaenv")
        .chain(words.iter().map(String::as_str))
        .chain([PROBE]);
    let Ok(top) = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(argv)
    else {
        return false;
    };
    let mut matches = &top;
    while let Some((_, sub)) = matches.subcommand() {
        matches = sub;
    }
    matches
        .try_get_raw("profile")
        .ok()
        .flatten()
        .is_some_and(|mut values| values.any(|v| v == PROBE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wants(line: &str) -> bool {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        wants_profile(&words)
    }

    #[test]
    fn profile_positions() {
        for line in [
            "",
            "-t 123456",
            "--shell fish",
            "export",
            "export --shell=fish --min-ttl 2h",
            "exec",
            "exec --duration 2h",
            "credential-process",
            "login -t 123456",
            "forget",
            "write",
            "setup",
            "plan --json",
        ] {
            assert!(
                wants(line),
                "`mfaenv {line} <TAB>` should complete a profile"
            );
        }
        for line in [
            "prod",
            "export prod",
            "exec prod",
            "exec prod aws",
            "exec --",
            "exec -- ls",
            "--shell",
            "export --shell",
            "login --min-ttl",
            "status",
            "hook",
            "completions",
            "allow",
            "write prod --to",
            "help",
        ] {
            assert!(!wants(line), "`mfaenv {line} <TAB>` is no profile");
        }
    }
}
