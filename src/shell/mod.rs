//! Output formats: how each shell sets, unsets and quotes a variable.
//!
//! One file per shell. Everything mfaenv prints for `eval` goes through
//! [`render`], so escaping lives in exactly one place per shell.

mod bash;
mod dotenv;
mod fish;
mod json;
mod pwsh;
mod terragrunt;
mod zsh;

use std::fmt;
use std::str::FromStr;

/// What [`render`] writes; it lives with the variables it is about.
pub use crate::env_vars::Change;
pub use bash::Bash;
pub use dotenv::Dotenv;
pub use fish::Fish;
pub use pwsh::Pwsh;
pub use zsh::Zsh;

/// A shell whose code mfaenv prints.
pub trait Shell {
    /// A literal that the shell reads back as exactly `value`.
    fn quote(&self, value: &str) -> String;
    /// One statement (with its line end) that exports `name=value`.
    fn set(&self, name: &str, value: &str) -> String;
    /// One statement (with its line end) that removes `name` from the environment.
    fn unset(&self, name: &str) -> String;
    /// What stdout holds when the command failed: one statement that changes
    /// nothing and fails, so `eval "$(mfaenv …)" && next` stops (empty for
    /// the data formats, which have no statement to fail with).
    fn failure(&self) -> &'static str;
}

/// Every output format: the four shells plus `json`, `dotenv` and
/// `terragrunt`. A clap `ValueEnum`, so `--shell` completes these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[value(alias = "sh")]
    Bash,
    Zsh,
    Fish,
    #[value(alias = "powershell")]
    Pwsh,
    Json,
    Dotenv,
    // The JSON Terragrunt's `--auth-provider-cmd` reads.
    Terragrunt,
}

/// The shells `mfaenv hook` (and the hook's `hook-env`) is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HookShell {
    #[value(alias = "sh")]
    Bash,
    Zsh,
    Fish,
    #[value(alias = "powershell")]
    Pwsh,
}

impl From<HookShell> for Format {
    fn from(shell: HookShell) -> Format {
        match shell {
            HookShell::Bash => Format::Bash,
            HookShell::Zsh => Format::Zsh,
            HookShell::Fish => Format::Fish,
            HookShell::Pwsh => Format::Pwsh,
        }
    }
}

impl FromStr for HookShell {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <HookShell as clap::ValueEnum>::from_str(s, false)
            .map_err(|_| format!("unknown shell `{s}` (expected bash, zsh, fish or pwsh)"))
    }
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Bash,
        Format::Zsh,
        Format::Fish,
        Format::Pwsh,
        Format::Json,
        Format::Dotenv,
        Format::Terragrunt,
    ];

    /// Whether this is a shell's code (else data: json, dotenv, terragrunt).
    pub fn is_shell(self) -> bool {
        matches!(
            self,
            Format::Bash | Format::Zsh | Format::Fish | Format::Pwsh
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Bash => "bash",
            Format::Zsh => "zsh",
            Format::Fish => "fish",
            Format::Pwsh => "pwsh",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Terragrunt => "terragrunt",
        }
    }

    /// The format for a login shell path such as `/usr/bin/zsh` (from `$SHELL`).
    pub fn from_shell_path(path: &str) -> Option<Format> {
        let base = path.rsplit('/').next().unwrap_or(path);
        let base = base.strip_suffix(".exe").unwrap_or(base);
        match base.trim_start_matches('-') {
            "bash" | "sh" | "dash" | "ksh" => Some(Format::Bash),
            "zsh" => Some(Format::Zsh),
            "fish" => Some(Format::Fish),
            "pwsh" | "powershell" => Some(Format::Pwsh),
            _ => None,
        }
    }

    /// The format to use when `--shell` is not given: the hook's own setting
    /// (`MFAENV_SHELL`, which the hook's `mfaenv` function passes to this one
    /// call and never exports), else the shell that started mfaenv (the one
    /// running `eval`/`source`), else `$SHELL`, else bash.
    pub fn detect() -> Format {
        let hook = crate::settings::shell().and_then(|s| s.parse().ok());
        hook.or_else(parent_shell)
            .or_else(|| {
                std::env::var("SHELL")
                    .ok()
                    .and_then(|s| Format::from_shell_path(&s))
            })
            .unwrap_or(Format::Bash)
    }

    /// What stdout holds when the command failed (see [`Shell::failure`]).
    pub fn failure(self) -> &'static str {
        match self {
            Format::Bash => Bash.failure(),
            Format::Zsh => Zsh.failure(),
            Format::Fish => Fish.failure(),
            Format::Pwsh => Pwsh.failure(),
            Format::Dotenv => Dotenv.failure(),
            Format::Json | Format::Terragrunt => "",
        }
    }

    /// The shell integration script, with `mfaenv` at `binary`; `None` for
    /// the data formats.
    pub fn hook(self, binary: &str) -> Option<String> {
        let (shell, script): (&dyn Shell, &str) = match self {
            Format::Bash => (&Bash, bash::HOOK),
            Format::Zsh => (&Zsh, zsh::HOOK),
            Format::Fish => (&Fish, fish::HOOK),
            Format::Pwsh => (&Pwsh, pwsh::HOOK),
            Format::Json | Format::Dotenv | Format::Terragrunt => return None,
        };
        Some(script.replace("@MFAENV@", &shell.quote(binary)))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names (and aliases) clap accepts, for the fast argv parser and the
/// environment; clap itself uses the `ValueEnum`.
impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Format as clap::ValueEnum>::from_str(s, false).map_err(|_| {
            format!(
                "unknown shell `{s}` (expected bash, zsh, fish, pwsh, json, dotenv or terragrunt)"
            )
        })
    }
}

/// The shell of the parent process, from its command name: one read of
/// `/proc/PPID/comm`, no process started. Linux only; elsewhere `None`.
#[cfg(target_os = "linux")]
fn parent_shell() -> Option<Format> {
    // SAFETY: getppid has no preconditions and cannot fail.
    let ppid = unsafe { libc::getppid() };
    let comm = std::fs::read_to_string(format!("/proc/{ppid}/comm")).ok()?;
    Format::from_shell_path(comm.trim_end())
}

#[cfg(not(target_os = "linux"))]
fn parent_shell() -> Option<Format> {
    None
}

/// Renders `changes` as code (or data) for `format`.
pub fn render(format: Format, changes: &[Change]) -> String {
    match format {
        Format::Bash => render_with(&Bash, changes),
        Format::Zsh => render_with(&Zsh, changes),
        Format::Fish => render_with(&Fish, changes),
        Format::Pwsh => render_with(&Pwsh, changes),
        Format::Dotenv => render_with(&Dotenv, changes),
        Format::Json => json::render(changes),
        Format::Terragrunt => terragrunt::render(changes),
    }
}

/// A value the format cannot hold exactly (only dotenv has such values).
/// Names the variable, never the value: it may be a secret.
#[derive(Debug, thiserror::Error)]
#[error("{name} cannot be written in {format} format exactly (as python-dotenv and docker compose both read it): {reason}")]
pub struct Unwritable {
    pub name: String,
    pub format: Format,
    pub reason: &'static str,
}

/// [`render`], refusing a value the format cannot hold exactly.
pub fn try_render(format: Format, changes: &[Change]) -> Result<String, Unwritable> {
    if format == Format::Dotenv {
        for change in changes {
            if let Change::Set(name, value) = change {
                dotenv::encode(value).map_err(|reason| Unwritable {
                    name: name.clone(),
                    format,
                    reason,
                })?;
            }
        }
    }
    Ok(render(format, changes))
}

fn render_with(shell: &dyn Shell, changes: &[Change]) -> String {
    changes
        .iter()
        .map(|change| match change {
            Change::Set(name, value) => shell.set(name, value),
            Change::Unset(name) => shell.unset(name),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_path_detection() {
        assert_eq!(Format::from_shell_path("/usr/bin/zsh"), Some(Format::Zsh));
        assert_eq!(Format::from_shell_path("-bash"), Some(Format::Bash));
        assert_eq!(
            Format::from_shell_path("/opt/homebrew/bin/fish"),
            Some(Format::Fish)
        );
        assert_eq!(Format::from_shell_path("pwsh.exe"), Some(Format::Pwsh));
        assert_eq!(Format::from_shell_path("/bin/tcsh"), None);
    }

    #[test]
    fn debug_hides_values() {
        let c = Change::Set("AWS_SECRET_ACCESS_KEY".into(), "s3cr3t".into());
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
