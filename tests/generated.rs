//! The checked-in files generated from the clap definitions (`src/cli.rs`):
//! shell completions under `completions/` and man pages under `man/`. They
//! are regenerated here in memory; a difference fails the test.
//!
//! Refresh them with:
//!
//! ```sh
//! MFAENV_UPDATE_GENERATED=1 cargo test --test generated
//! ```
//!
//! Also: every subcommand's `--help` ends with real examples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{CommandFactory, Parser};
use mfaenv::cli::Cli;
use mfaenv::commands::completions;

const REFRESH: &str = "MFAENV_UPDATE_GENERATED=1 cargo test --test generated";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mfaenv(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mfaenv"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run mfaenv")
}

/// Every generated file, by path relative to the project root.
fn generated() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for (shell, name) in completions::FILES {
        files.insert(
            Path::new("completions").join(name),
            completions::generate(shell),
        );
    }
    for (name, page) in man_pages() {
        files.insert(Path::new("man").join(name), page);
    }
    files
}

/// `mfaenv.1` and one `mfaenv-SUBCOMMAND.1` per visible subcommand, as
/// `clap_mangen::generate_to` names them, with the examples of `after_help`
/// rendered verbatim.
fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    collect(&cmd, &mut pages);
    pages
}

fn collect(cmd: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) {
    let man =
        clap_mangen::Man::new(cmd.clone()).source(format!("mfaenv {}", env!("CARGO_PKG_VERSION")));
    pages.push((man.get_filename(), render(&man, cmd)));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, pages);
    }
}

/// `Man::render` without its "EXTRA" section, which fills the example
/// lines into one paragraph: they go into an EXAMPLES section in no-fill mode.
fn render(man: &clap_mangen::Man, cmd: &clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    let io = "rendering a man page into memory";
    man.render_title(&mut out).expect(io);
    man.render_name_section(&mut out).expect(io);
    man.render_synopsis_section(&mut out).expect(io);
    man.render_description_section(&mut out).expect(io);
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out).expect(io);
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut out).expect(io);
    }
    if let Some(after) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        out.extend(examples_section(&after.to_string()).into_bytes());
    }
    if cmd.get_version().or(cmd.get_long_version()).is_some() {
        man.render_version_section(&mut out).expect(io);
    }
    out
}

/// `Examples:\n  lines…` → `.SH EXAMPLES` and the lines, unfilled.
fn examples_section(text: &str) -> String {
    let mut lines = text.lines();
    let title = match text.lines().next() {
        Some(first) if first.ends_with(':') && !first.starts_with(' ') => {
            lines.next();
            first.trim_end_matches(':').to_uppercase()
        }
        _ => "NOTES".to_string(),
    };
    let mut out = format!(".SH {title}\n.nf\n");
    for line in lines {
        let escaped = line.replace('\\', "\\e").replace('-', "\\-");
        if escaped.starts_with(['.', '\'']) {
            out.push_str("\\&");
        }
        out.push_str(&escaped);
        out.push('\n');
    }
    out.push_str(".fi\n");
    out
}

/// Files in `dir` (relative to the root) whose name passes `ours`.
fn on_disk(dir: &str, ours: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| ours(name))
        .map(|name| Path::new(dir).join(name))
        .collect();
    found.sort();
    found
}

#[test]
fn checked_in_files_are_up_to_date() {
    let update = std::env::var("MFAENV_UPDATE_GENERATED").as_deref() == Ok("1");
    let expected = generated();
    let mut stale = Vec::new();
    for (path, bytes) in &expected {
        let full = root().join(path);
        if std::fs::read(&full).ok().as_deref() != Some(bytes.as_slice()) {
            stale.push(format!("{} differs or is missing", path.display()));
            if update {
                std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
                std::fs::write(&full, bytes).expect("write a generated file");
            }
        }
    }
    // A page of a subcommand that no longer exists is stale too.
    let leftovers = on_disk("man", |n| n.ends_with(".1"))
        .into_iter()
        .chain(on_disk("completions", |_| true))
        .filter(|p| !expected.contains_key(p));
    for path in leftovers {
        stale.push(format!("{} is not generated any more", path.display()));
        if update {
            std::fs::remove_file(root().join(&path)).expect("remove a stale file");
        }
    }
    if update {
        for line in &stale {
            eprintln!("refreshed: {line}");
        }
        return;
    }
    assert!(
        stale.is_empty(),
        "generated files are stale (src/cli.rs changed):\n  {}\nrefresh them with:\n  {REFRESH}",
        stale.join("\n  ")
    );
}

#[test]
fn completions_command_prints_the_checked_in_scripts() {
    use mfaenv::cli::CompletionShell::*;
    for (name, shell) in [
        ("bash", Bash),
        ("zsh", Zsh),
        ("fish", Fish),
        ("powershell", Powershell),
        ("pwsh", Powershell),
        ("elvish", Elvish),
    ] {
        let out = mfaenv(&["completions", name]);
        assert!(out.status.success(), "completions {name}: {out:?}");
        assert_eq!(
            out.stdout,
            completions::generate(shell),
            "completions {name}"
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("credential-process"),
            "completions {name} lists the subcommands"
        );
    }
    let out = mfaenv(&["completions", "tcsh"]);
    assert!(!out.status.success() && out.stdout.is_empty());
}

/// The checked-in scripts parse in the shells that are installed (bash -n,
/// zsh -n, fish --no-execute); a shell that is missing is skipped.
#[test]
fn completion_scripts_parse() {
    for (shell, flag, file) in [
        ("bash", "-n", "mfaenv.bash"),
        ("zsh", "-n", "_mfaenv"),
        ("fish", "--no-execute", "mfaenv.fish"),
    ] {
        let path = root().join("completions").join(file);
        match Command::new(shell).arg(flag).arg(&path).output() {
            Ok(out) => assert!(
                out.status.success(),
                "{shell} {flag} {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("SKIP: {shell} is not installed")
            }
            Err(e) => panic!("cannot run {shell}: {e}"),
        }
    }
}

/// The mfaenv command lines in an example line: each `mfaenv ARGS` up to a
/// shell operator, a closing `)`, a quote or a comment.
fn invocations(line: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("mfaenv ") {
        let before = rest[..at].chars().last();
        let after = &rest[at + "mfaenv ".len()..];
        rest = after;
        if before.is_some_and(|c| !matches!(c, ' ' | '(' | '"' | '\'')) {
            continue;
        }
        let end = after
            .find(['|', '>', ')', '#', ';', '"', '&', '<'])
            .unwrap_or(after.len());
        let args = after[..end]
            .split_whitespace()
            .map(str::to_string)
            .collect();
        found.push(args);
    }
    found
}

#[test]
fn every_help_ends_with_real_examples() {
    let cli = Cli::command();
    let mut paths: Vec<Vec<String>> = vec![Vec::new()];
    paths.extend(
        cli.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| vec![s.get_name().to_string()]),
    );
    let mut problems = Vec::new();
    for path in &paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = mfaenv(&args);
        let shown = format!("mfaenv {}", args.join(" "));
        if !out.status.success() {
            problems.push(format!("{shown}: exit {}", out.status));
            continue;
        }
        let help = String::from_utf8(out.stdout).expect("utf-8 help");
        let Some((_, examples)) = help.split_once("\nExamples:\n") else {
            problems.push(format!("{shown}: no `Examples:` section"));
            continue;
        };
        // The last section: nothing after it but indented lines.
        if let Some(heading) = examples
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with(' '))
        {
            problems.push(format!(
                "{shown}: `Examples:` is not the last section (`{heading}` follows)"
            ));
        }
        let calls: Vec<Vec<String>> = examples.lines().flat_map(invocations).collect();
        if calls.is_empty() {
            problems.push(format!("{shown}: no example runs mfaenv"));
        }
        // Each example parses with the real command line.
        for call in calls {
            let argv = std::iter::once("mfaenv".to_string()).chain(call.iter().cloned());
            if let Err(e) = Cli::try_parse_from(argv) {
                problems.push(format!(
                    "{shown}: example `mfaenv {}` does not parse: {}",
                    call.join(" "),
                    e.kind()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn examples_parser_finds_invocations() {
    assert_eq!(
        invocations(r#"  eval "$(mfaenv export prod)"   # bash"#),
        [["export", "prod"]]
    );
    assert_eq!(
        invocations("  credential_process = mfaenv credential-process prod"),
        [["credential-process", "prod"]]
    );
    assert_eq!(
        invocations("  mfaenv completions zsh > ~/.zfunc/_mfaenv"),
        [["completions", "zsh"]]
    );
    assert!(invocations("  AWS_PROFILE=prod-mfa terraform plan # _mfaenv x").is_empty());
    assert_eq!(
        invocations("  mfaenv exec prod -- terraform plan"),
        [["exec", "prod", "--", "terraform", "plan"]]
    );
}
