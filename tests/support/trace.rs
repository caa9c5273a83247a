//! mfaenv under strace: what the real binary opened, connected to or
//! wrote, for tests that prove a path does NOT touch something (the key
//! store on a cached export), and for killing it at the Nth syscall.

use std::path::Path;
use std::process::Output;

use super::sandbox::Sandbox;

/// Runs `mfaenv ARGS` in the sandbox under `strace -f -e trace=SYSCALLS`
/// (with `extra` strace options first, e.g. a fault injection), from
/// `dir`, with `env` on top of the sandbox's; returns its output and the
/// strace log.
pub fn traced(
    sb: &Sandbox,
    strace: &Path,
    extra: &[&str],
    syscalls: &str,
    env: &[(&str, &str)],
    dir: &Path,
    args: &[&str],
) -> (Output, String) {
    let log = sb.home().join("strace.log");
    let _ = std::fs::remove_file(&log);
    let mut cmd = sb.command(strace);
    cmd.args(["-f", "-qq"])
        .args(extra)
        .arg("-e")
        .arg(format!("trace={syscalls}"))
        .arg("-o")
        .arg(&log)
        .arg(super::mfaenv_bin())
        .args(args)
        .current_dir(dir)
        .env("PWD", dir)
        .envs(env.iter().copied());
    let out = cmd.output().expect("run strace");
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    (out, trace)
}
