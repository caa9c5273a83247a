//! `mfaenv hook SHELL`, the hidden `mfaenv hook-env` the hook runs, and
//! `mfaenv direnv`.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::current_env;
use crate::cli::{HookArgs, HookEnvArgs};
use crate::hook::{self, Context};
use crate::shell::{self, Bash, Format, Pwsh, Shell};

/// The path the scripts call mfaenv by: this very binary.
fn binary() -> String {
    std::env::current_exe()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "mfaenv".to_string())
}

pub fn run(args: &HookArgs) -> Result<String> {
    let format = Format::from(args.shell);
    let script = format
        .hook(&binary())
        .with_context(|| format!("there is no hook for `{format}`"))?;
    Ok(match format {
        Format::Pwsh => script.replace("@STAMP@", &Pwsh.quote(&stamp())),
        _ => script,
    })
}

/// The stamp file the PowerShell hook watches (empty: none on this system).
fn stamp() -> String {
    hook::stamp_path()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Never fails: whatever goes wrong is said on stderr, and stdout holds only
/// changes that are safe to apply.
pub fn hook_env(args: &HookEnvArgs) -> String {
    let ctx = Context {
        cwd: logical_cwd(),
        env: &current_env,
        may_prompt: crate::settings::hook_may_prompt(&current_env),
    };
    let outcome = hook::on_prompt(&ctx);
    for message in &outcome.messages {
        crate::ui::info(message);
    }
    shell::render(args.shell, &outcome.changes)
}

/// `$PWD` as the shell sees it (through symlinks), else the real cwd.
pub fn logical_cwd() -> PathBuf {
    let real = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    match std::env::var_os("PWD").map(PathBuf::from) {
        Some(pwd) if pwd.is_absolute() && same_dir(&pwd, &real) => pwd,
        _ => real,
    }
}

fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

const DIRENV: &str = include_str!("../../shell/direnv.bash");

pub fn direnv() -> String {
    let cache = crate::cache::default_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    DIRENV
        .replace("@MFAENV@", &Bash.quote(&binary()))
        .replace("@CACHE_DIR@", &Bash.quote(&cache))
}
