//! The edge: parse the command line, run the command, print its stdout only
//! when everything succeeded, and report errors on stderr.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use mfaenv::cli::{Cli, Command};
use mfaenv::commands;

fn main() -> ExitCode {
    let cli = mfaenv::cli::parse_fast(std::env::args_os())
        .unwrap_or_else(|| mfaenv::cli::parse(std::env::args_os()));
    let profile = profile_of(&cli);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            mfaenv::ui::error(format_args!("{err:#}"));
            if let Some(next) = mfaenv::ui::next_step(&err, &profile) {
                mfaenv::ui::hint(next);
            }
            ExitCode::FAILURE
        }
    }
}

/// The profile the command is for, for the hint after an error.
fn profile_of(cli: &Cli) -> String {
    let named = match &cli.command {
        Some(Command::Export(a)) => a.target.profile.clone(),
        Some(Command::Exec(a)) => a.target.profile.clone(),
        Some(Command::Write(a)) => a.target.profile.clone(),
        Some(Command::CredentialProcess(a) | Command::Login(a)) => a.profile.clone(),
        Some(Command::Setup(a)) => a.profile.clone(),
        None => cli.export.target.profile.clone(),
        _ => None,
    };
    named.unwrap_or_else(mfaenv::resolve::default_profile)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let stdout = match &cli.command {
        Some(Command::Export(args)) => commands::export::run(args)?,
        Some(Command::CredentialProcess(args)) => commands::credential_process::run(args)?,
        Some(Command::Unset(args)) => commands::unset::run(args)?,
        Some(Command::Login(args)) => commands::login::run(args)?,
        Some(Command::Status(args)) => commands::status::run(args)?,
        Some(Command::Forget(args)) => commands::forget::run(args)?,
        Some(Command::Write(args)) => commands::write::run(args)?,
        Some(Command::Hook(args)) => commands::hook::run(args)?,
        Some(Command::HookEnv(args)) => commands::hook::hook_env(args),
        Some(Command::Allow(args)) => commands::trust::allow(args)?,
        Some(Command::Deny(args)) => commands::trust::deny(args)?,
        Some(Command::Direnv) => commands::hook::direnv(),
        Some(Command::Exec(args)) => return commands::exec::run(args),
        Some(Command::Completions(args)) => commands::completions::run(args)?,
        Some(Command::Profiles(args)) => commands::completions::profiles(args),
        Some(Command::Setup(args)) => commands::setup::run(args)?,
        None if cli.export.target.profile.is_some() => commands::export::run(&cli.export)?,
        None => {
            let _ = Cli::command().write_help(&mut std::io::stderr());
            return Ok(ExitCode::from(2));
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(stdout.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
