//! Shared test support: where the real parts live, and how a missing one fails.
//!
//! Each integration test file does `mod support;`. Submodules hold the
//! fixtures (moto, fake STS, shells, PowerShell parser).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The project root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python venv with moto, awscli and tree-sitter: `$MFAENV_TEST_VENV`, else `<root>/.venv`.
pub fn venv() -> PathBuf {
    std::env::var_os("MFAENV_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv"))
}

/// A program from the test venv's `bin/`.
pub fn venv_bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

/// Whether a missing real part may skip a test: never under `CI=true`, and
/// otherwise only when `MFAENV_TEST_ALLOW_SKIP=1` asks for it.
pub fn may_skip() -> bool {
    std::env::var("CI").as_deref() != Ok("true")
        && std::env::var("MFAENV_TEST_ALLOW_SKIP").as_deref() == Ok("1")
}

/// Finds `name` on PATH (or at an absolute path). When it is missing the test
/// fails, unless [`may_skip`] allows a skip, in which case `None` is returned.
pub fn require_program(name: &str) -> Option<PathBuf> {
    if let Some(found) = find_on_path(name) {
        return Some(found);
    }
    if may_skip() {
        eprintln!("SKIP: `{name}` is not installed");
        return None;
    }
    panic!("{}", missing_program(name));
}

/// What to say when `name` is missing: the apt-get line that installs it
/// (its package, when scripts/apt-packages.txt lists one of that name, else
/// the whole list).
pub fn missing_program(name: &str) -> String {
    let list = std::fs::read_to_string(root().join("scripts/apt-packages.txt")).unwrap_or_default();
    let packages: Vec<&str> = list
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(str::split_whitespace)
        .collect();
    let install = if packages.contains(&name) {
        name.to_string()
    } else {
        packages.join(" ")
    };
    format!(
        "`{name}` is required by this test and is not installed: run `sudo apt-get install {install}` \
         (scripts/apt-packages.txt lists every package the tests need; scripts/test installs them when run as root)"
    )
}

/// Like [`require_program`] for a program of the test venv.
pub fn require_venv_bin(name: &str) -> Option<PathBuf> {
    let path = venv_bin(name);
    if path.exists() {
        return Some(path);
    }
    if may_skip() {
        eprintln!("SKIP: {} is missing", path.display());
        return None;
    }
    panic!(
        "{} is missing; run scripts/test to create the test venv",
        path.display()
    );
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let candidate = Path::new(name);
    if candidate.is_absolute() {
        return candidate.exists().then(|| candidate.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A command's stderr as text.
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Caps `cmd`'s address space at `bytes`, so a version that buffers without
/// bound fails instead of taking the machine's memory.
pub fn cap_memory(cmd: &mut std::process::Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
            Ok(())
        });
    }
}

/// The mfaenv binary under test.
pub fn mfaenv_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mfaenv"))
}

pub mod fake_federation;
pub mod fake_signin;
pub mod fake_sso;
pub mod fake_sts;
pub mod faults;
pub mod keyring;
pub mod moto;
pub mod pwsh;
pub mod sandbox;
pub mod sdks;
pub mod shells;
pub mod signing_sts;
pub mod trace;
pub mod users;
