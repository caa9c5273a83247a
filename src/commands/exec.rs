//! `mfaenv exec PROFILE -- CMD ARGS…`: run one command with the credentials
//! in its environment. On Unix the command replaces mfaenv (exec), so its
//! exit status and signals are its own; secrets travel only in the environment.

use std::process::Command;

use anyhow::{bail, Context, Result};

use super::note_region;
use crate::cli::ExecArgs;
use crate::env_vars;
use crate::settings;
use crate::shell::Change;

pub fn run(args: &ExecArgs) -> Result<std::process::ExitCode> {
    let (program, rest) = args
        .command
        .split_first()
        .context("no command to run: `mfaenv exec PROFILE COMMAND [ARGS]…`")?;
    let serve = if args.server {
        Some(true)
    } else {
        server_from_env()?
    };
    let opts = crate::resolve::Options::from(&args.target.auth);
    let plan = crate::resolve::plan(&args.target.name(), &opts)?;
    let serve = serve.unwrap_or(plan.server);
    if serve {
        // Before a code is asked for: a command that would not get the
        // profile must not cost one.
        server_check(&plan)?;
    }
    let creds = crate::resolve::credentials(&plan, &opts, &crate::cache::Cache::open())?;
    note_region(&plan);
    if serve {
        return serve_to(program, rest, &plan, &opts, &creds);
    }
    let mut cmd = Command::new(program);
    cmd.args(rest);
    for change in env_vars::for_child(&plan.profile, &creds, plan.region.as_deref()) {
        match change {
            Change::Set(name, value) => cmd.env(name, value),
            Change::Unset(name) => cmd.env_remove(name),
        };
    }
    // Shell state is for the shell, not its children: a script the command
    // runs must not inherit the hook's output format.
    cmd.env_remove(settings::MFAENV_PRIOR);
    cmd.env_remove(settings::MFAENV_SHELL);
    for name in settings::KEY_STORE_VARS {
        cmd.env_remove(name);
    }
    run_command(cmd, program)
}

#[cfg(unix)]
use crate::server::{check as server_check, from_env as server_from_env, run as serve_to};

#[cfg(not(unix))]
fn server_from_env() -> Result<Option<bool>> {
    Ok(None)
}

#[cfg(not(unix))]
fn server_check(_: &crate::config::Plan) -> Result<()> {
    Ok(())
}

#[cfg(not(unix))]
fn serve_to(
    _: &std::ffi::OsStr,
    _: &[std::ffi::OsString],
    _: &crate::config::Plan,
    _: &crate::resolve::Options,
    _: &crate::creds::Credentials,
) -> Result<std::process::ExitCode> {
    bail!("`exec --server` needs a Unix system")
}

#[cfg(unix)]
fn run_command(mut cmd: Command, program: &std::ffi::OsStr) -> Result<std::process::ExitCode> {
    use std::os::unix::process::CommandExt;
    crate::harden::restore_for_exec();
    let err = cmd.exec();
    bail!("cannot run `{}`: {err}", program.to_string_lossy())
}

#[cfg(not(unix))]
fn run_command(mut cmd: Command, program: &std::ffi::OsStr) -> Result<std::process::ExitCode> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run `{}`", program.to_string_lossy()))?;
    let code = status.code().unwrap_or(1);
    Ok(std::process::ExitCode::from(
        u8::try_from(code).unwrap_or(1),
    ))
}
