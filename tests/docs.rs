//! The documentation's examples run. Every fenced block in README.md and
//! docs/*.md whose info string is `sh test` is a bash script that this test
//! runs, as a person would type it, against the suite's STS (moto behind the
//! signature-checking proxy): in a pseudo-terminal, so an MFA prompt on
//! /dev/tty is answered with a code and Enter (`\r`), in a throwaway HOME
//! whose ~/.aws holds the demo profiles `base`, `prod` and `staging`
//! (tests/support/sandbox.rs), with mfaenv and the venv's AWS CLI on PATH.
//! A block passes when bash exits 0 under `set -euo pipefail`.
//!
//! Programs that are not part of this machine (terraform, eksctl,
//! terragrunt) are small scripts here that show what they would see: they
//! run the real AWS CLI's `sts get-caller-identity` with the environment
//! they were given, so an example that hands them no credentials fails.
//!
//! `MFAENV_DOCS_BLOCK=FILE:LINE` runs one block.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::sandbox::moto_sandbox;

/// One runnable block: where it is and its text.
struct Block {
    file: PathBuf,
    line: usize,
    text: String,
}

/// Every `sh test` block of README.md and docs/*.md.
fn blocks() -> Vec<Block> {
    let root = support::root();
    let mut files = vec![root.join("README.md")];
    if let Ok(entries) = std::fs::read_dir(root.join("docs")) {
        let mut docs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        docs.sort();
        files.extend(docs);
    }
    files.iter().flat_map(|f| blocks_of(f)).collect()
}

fn blocks_of(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(file).expect("read a doc");
    let mut found = Vec::new();
    let mut open: Option<(usize, bool, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None if trimmed.starts_with("```") => {
                let info: Vec<&str> = trimmed.trim_start_matches('`').split_whitespace().collect();
                let runnable = info.first() == Some(&"sh") && info.contains(&"test");
                open = Some((i + 1, runnable, String::new()));
            }
            None => {}
            Some((start, runnable, body)) => {
                if trimmed.starts_with("```") {
                    if *runnable {
                        found.push(Block {
                            file: file.to_path_buf(),
                            line: *start,
                            text: std::mem::take(body),
                        });
                    }
                    open = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    found
}

/// The stand-ins for tools this machine does not have: each prints the
/// identity the real AWS CLI sees with the environment it was given.
fn shims(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir shims");
    for name in ["terraform", "eksctl", "terragrunt", "cdk"] {
        let path = dir.join(name);
        std::fs::write(
            &path,
            "#!/bin/sh\n# a stand-in: what credentials would this tool get?\nexec aws sts get-caller-identity --output text\n",
        )
        .expect("write shim");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

fn run_block(block: &Block) -> Result<(), String> {
    let Some((_moto, sandbox)) = moto_sandbox() else {
        return Ok(());
    };
    let shim_dir = sandbox.home().join(".shims");
    shims(&shim_dir);
    let script = sandbox.home().join("example.sh");
    std::fs::write(
        &script,
        format!("set -euo pipefail\ncd \"$HOME\"\n{}", block.text),
    )
    .expect("write script");
    let bin_dir = support::mfaenv_bin()
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("--noprofile")
        .arg("--norc")
        .arg(&script)
        .env_clear()
        .envs(sandbox.env())
        .current_dir(sandbox.home());
    let path = sandbox
        .env()
        .into_iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v)
        .unwrap_or_default();
    cmd.env(
        "PATH",
        format!("{}:{}:{path}", bin_dir.display(), shim_dir.display()),
    );
    let mut session =
        rexpect::session::spawn_command(cmd, Some(60_000)).map_err(|e| e.to_string())?;
    let mut seen = String::new();
    // Answer every MFA prompt as a person would; stop at the end of output.
    loop {
        match session.exp_regex(r"MFA code for [^\r\n]*: ") {
            Ok((before, prompt)) => {
                seen.push_str(&before);
                seen.push_str(&prompt);
                // Enter is CR on a terminal; rexpect flushes only on LF.
                session
                    .send("123456\r")
                    .and_then(|_| session.flush())
                    .map_err(|e| format!("typing a code: {e}"))?;
            }
            Err(rexpect::error::Error::EOF { got, .. }) => {
                seen.push_str(&got);
                break;
            }
            Err(e) => return Err(format!("{e}\n--- output so far:\n{seen}")),
        }
    }
    let status = session
        .process
        .wait()
        .map_err(|e| format!("waiting for bash: {e}"))?;
    match status {
        rexpect::process::wait::WaitStatus::Exited(_, 0) => Ok(()),
        other => Err(format!("{other:?}\n--- output:\n{seen}")),
    }
}

#[test]
fn every_runnable_example_in_the_docs_runs() {
    let only = std::env::var("MFAENV_DOCS_BLOCK").ok();
    let all = blocks();
    assert!(
        !all.is_empty(),
        "no ```sh test blocks found in README.md or docs/"
    );
    let mut failures = Vec::new();
    let mut ran = 0;
    for block in &all {
        let name = format!(
            "{}:{}",
            block
                .file
                .strip_prefix(support::root())
                .unwrap_or(&block.file)
                .display(),
            block.line
        );
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        ran += 1;
        if let Err(why) = run_block(block) {
            failures.push(format!("{name}:\n{}\n{why}", block.text));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(ran > 0, "MFAENV_DOCS_BLOCK={only:?} names no block");
    assert!(
        failures.is_empty(),
        "{} of {ran} doc examples failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_block_reader_finds_only_marked_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("x.md");
    std::fs::write(
        &doc,
        "text\n```sh\nnot run\n```\n```sh test\necho one\n```\n```ini\n[profile x]\n```\n```sh test\necho two\n```\n",
    )
    .unwrap();
    let found = blocks_of(&doc);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].text, "echo one\n");
    assert_eq!(found[0].line, 5);
    assert_eq!(found[1].text, "echo two\n");
}
