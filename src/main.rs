//! The edge: parse the command line, run the command, print its stdout only
//! when everything succeeded, and report errors on stderr.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use mfaenv::cli::{Cli, Command};
use mfaenv::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("mfaenv: error: {err:#}");
            ExitCode::FAILURE
        }
    }
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
        Some(Command::Exec(args)) => return commands::exec::run(args),
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
