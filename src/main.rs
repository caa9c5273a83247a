//! The edge: parse the command line, run the command, print its stdout only
//! when everything succeeded, and report errors on stderr.
//!
//! On an error, stdout holds nothing that changes the environment: for the
//! shell formats one statement that fails (`false`), so `eval "$(mfaenv
//! prod)" && terraform apply` stops; for the data formats, nothing.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;
use mfaenv::cli::{Cli, Command};
use mfaenv::commands;
use mfaenv::shell::Format;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match mfaenv::cli::parse_fast(args.iter().cloned()) {
        Some(cli) => cli,
        None => match mfaenv::cli::try_parse(args.iter().cloned()) {
            Ok(cli) => cli,
            Err(err) => return usage_error(&err, &args),
        },
    };
    let profile = cli.profile();
    let on_error = failure_output(&cli);
    match run(cli) {
        Ok(ExitCode::SUCCESS) => ExitCode::SUCCESS,
        Ok(code) => {
            print_failure(on_error);
            code
        }
        Err(err) => {
            mfaenv::ui::error(format_args!("{err:#}"));
            if let Some(next) = mfaenv::advice::next_step(&err, &profile) {
                mfaenv::ui::hint(next);
            }
            print_failure(on_error);
            ExitCode::FAILURE
        }
    }
}

/// The failing statement on stdout, unless stdout is a terminal: nobody
/// evaluates a terminal, and there it would only be noise.
fn print_failure(on_error: &str) {
    if !on_error.is_empty() && !std::io::stdout().is_terminal() {
        let _ = print(on_error);
    }
}

/// A command line clap refused (or `--help`/`--version`, which it prints).
/// A mistyped `eval "$(mfaenv prod --typo)"` must fail the `eval` too.
fn usage_error(err: &clap::Error, args: &[OsString]) -> ExitCode {
    if err.kind() == clap::error::ErrorKind::UnknownArgument {
        let _ = std::io::stderr().write_all(without_dash_tip(&err.render().to_string()).as_bytes());
    } else {
        let _ = err.print();
    }
    if err.use_stderr() {
        print_failure(guess_failure_output(args));
    }
    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
}

/// clap's "tip: to pass '--typo' as a value, use '-- --typo'" dropped: the
/// value there is a profile, and no profile is called `--typo`; a typo'd
/// flag it is. clap's other tips (a similar flag) stay.
fn without_dash_tip(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("tip: to pass '") {
            if out.last().is_some_and(|l| l.trim().is_empty()) {
                out.pop();
            }
            continue;
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

/// [`failure_output`] for a command line that did not parse: shell code is
/// what `export`, `unset` and a bare `mfaenv [PROFILE]` print; its format
/// is the `--shell` given, if it names one, else the detected one.
fn guess_failure_output(args: &[OsString]) -> &'static str {
    let args: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let command = Cli::command();
    let first = args.iter().find(|a| !a.starts_with('-'));
    let other_command = first.is_some_and(|name| {
        !matches!(name.as_str(), "export" | "unset")
            && command
                .get_subcommands()
                .any(|c| c.get_name() == name || c.get_all_aliases().any(|a| a == name))
    });
    if other_command {
        return "";
    }
    let named = args.iter().enumerate().find_map(|(i, a)| match a.as_str() {
        "--shell" | "-s" => args.get(i + 1).cloned(),
        _ => a.strip_prefix("--shell=").map(str::to_string),
    });
    named
        .and_then(|name| name.parse::<Format>().ok())
        .unwrap_or_else(Format::detect)
        .failure()
}

/// What stdout holds when the command fails: the failing statement of the
/// shell format for the commands that print shell code, else nothing.
fn failure_output(cli: &Cli) -> &'static str {
    let shell = match &cli.command {
        Some(Command::Export(a)) => a.shell,
        Some(Command::Unset(a)) => a.shell,
        None => cli.export.shell,
        _ => return "",
    };
    shell.unwrap_or_else(Format::detect).failure()
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(choice) = cli.prompt() {
        mfaenv::prompt::choose(choice);
    }
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
        Some(Command::Reload) => commands::reload::run()?,
        Some(Command::Direnv) => commands::hook::direnv(),
        Some(Command::Exec(args)) => return commands::exec::run(args),
        Some(Command::Completions(args)) => commands::completions::run(args)?,
        Some(Command::Profiles(args)) => commands::completions::profiles(args),
        Some(Command::Setup(args)) => commands::setup::run(args)?,
        Some(Command::Plan(args)) => commands::plan::run(args)?,
        Some(Command::Add(args)) => commands::add::run(args)?,
        Some(Command::Keys(args)) => commands::keys::run(args)?,
        Some(Command::Remove(args)) => commands::remove::run(args)?,
        Some(Command::Import(args)) => commands::import::run(args)?,
        Some(Command::Console(args)) => commands::console::run(args)?,
        Some(Command::Sso(cmd)) => commands::sso::run(cmd)?,
        Some(Command::Rotate(args)) => commands::rotate::run(args)?,
        None if cli.export.target.profile.is_some() => commands::export::run(&cli.export)?,
        None => {
            // Bare `mfaenv`: no profile, so nothing to export (and `eval` must fail).
            let _ = Cli::command().write_help(&mut std::io::stderr());
            return Ok(ExitCode::from(2));
        }
    };
    print(&stdout).context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to stdout. A closed or broken stdout is an error: the
/// caller's `eval` got nothing, so the command did not succeed.
fn print(text: &str) -> std::io::Result<()> {
    if stdout_was_closed() {
        return Err(std::io::Error::from_raw_os_error(libc::EBADF));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Whether fd 1 was closed when the process started (`mfaenv prod >&-`).
/// Rust's runtime puts /dev/null on a closed standard fd before `main`, so
/// writes would "succeed" into nothing; a constructor that runs before the
/// runtime (ELF `.init_array`) looks first.
#[cfg(target_os = "linux")]
fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(not(target_os = "linux"))]
fn stdout_was_closed() -> bool {
    false
}

#[cfg(target_os = "linux")]
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static CHECK_STDOUT: extern "C" fn() = {
    extern "C" fn check() {
        // SAFETY: fcntl(F_GETFD) only reads the descriptor table.
        let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
        STDOUT_CLOSED.store(closed, std::sync::atomic::Ordering::Relaxed);
    }
    check
};
