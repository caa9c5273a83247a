//! The release artefacts of `scripts/package`: the .deb installs on this
//! machine with `dpkg -i` (root, as under CI) and gives a fresh user — made
//! with `useradd -m`, dotfiles from /etc/skel, nothing else configured —
//! `mfaenv` on PATH, its man pages and TAB completion in bash, zsh and fish;
//! lintian finds no error in it; the .rpm holds the same files; the .tar.gz
//! holds the binary, completions, man pages, README and licences; and
//! `cargo package` ships everything the build includes.
//!
//! The artefacts: by default the test runs `scripts/package` (a release
//! build: minutes when cold). With `MFAENV_TEST_DIST=DIR` it takes the ones
//! already in DIR (one .deb, one .rpm, one .tar.gz), e.g. after
//! `scripts/package` (or `scripts/package --no-build`) put them in
//! target/dist (`$CARGO_TARGET_DIR/dist` when that is set). The packaged binary must say this crate's version either way.
//!
//! The zsh user's ~/.zshrc has the one line every zsh user with completion
//! has, `autoload -Uz compinit && compinit`: zsh itself completes nothing
//! without it. bash and fish get nothing but /etc/skel.
//!
//! Installing puts /usr/bin/mfaenv on the machine while this file's tests
//! run; every other test file runs the binary under test by its path
//! (CARGO_BIN_EXE_mfaenv), and the package is removed (`dpkg -r`) before
//! this test ends, even when it fails.

mod support;

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rexpect::session::PtySession;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The three artefacts.
#[derive(Clone, Debug)]
struct Dist {
    deb: PathBuf,
    rpm: PathBuf,
    tgz: PathBuf,
}

static DIST: Mutex<Option<Result<Dist, String>>> = Mutex::new(None);

/// The artefacts, made once for all tests of this file.
fn dist() -> Dist {
    let mut slot = DIST.lock().unwrap_or_else(|e| e.into_inner());
    slot.get_or_insert_with(make_dist)
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn make_dist() -> Result<Dist, String> {
    let dir = match std::env::var_os("MFAENV_TEST_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let started = Instant::now();
            let out = Command::new(support::root().join("scripts/package"))
                .output()
                .map_err(|e| format!("cannot run scripts/package: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "scripts/package failed ({}): {}",
                    out.status,
                    support::stderr_of(&out)
                ));
            }
            eprintln!("scripts/package took {:?}", started.elapsed());
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| support::root().join("target"))
                .join("dist")
        }
    };
    Ok(Dist {
        deb: one_file(&dir, ".deb")?,
        rpm: one_file(&dir, ".rpm")?,
        tgz: one_file(&dir, ".tar.gz")?,
    })
}

fn one_file(dir: &Path, suffix: &str) -> Result<PathBuf, String> {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .map(|entry| entry.expect("read_dir").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "{} must hold exactly one *{suffix}, it holds {found:?}",
            dir.display()
        )),
    }
}

/// Runs `cmd`; panics unless it succeeds.
fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        support::stderr_of(&out)
    );
    out
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The files (not directories) the installed package holds, by `dpkg -c`.
fn deb_files(deb: &Path) -> BTreeSet<String> {
    let out = run_ok(Command::new("dpkg").arg("-c").arg(deb));
    stdout_of(&out)
        .lines()
        .filter(|line| !line.starts_with('d'))
        .filter_map(|line| line.split_whitespace().nth(5))
        .map(|path| path.trim_start_matches('.').to_string())
        .collect()
}

/// What every package installs, the zsh function into `zsh_dir`.
fn expected_files(zsh_dir: &str) -> BTreeSet<String> {
    let mut files: BTreeSet<String> = [
        "/usr/bin/mfaenv".to_string(),
        "/usr/share/bash-completion/completions/mfaenv".to_string(),
        format!("{zsh_dir}/_mfaenv"),
        "/usr/share/fish/vendor_completions.d/mfaenv.fish".to_string(),
        "/usr/share/doc/mfaenv/README.md".to_string(),
    ]
    .into();
    for page in repo_dir_files("man") {
        files.insert(format!("/usr/share/man/man1/{page}.gz"));
    }
    files
}

/// The names of the files in the repository's directory `dir`.
fn repo_dir_files(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(support::root().join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn lintian_finds_no_error_or_warning_in_the_deb() {
    let Some(lintian) = support::require_program("lintian") else {
        return;
    };
    let dist = dist();
    // lintian exits non-zero on errors; the E: lines say which.
    let out = Command::new(lintian)
        .arg(&dist.deb)
        .output()
        .expect("run lintian");
    let report = format!("{}{}", stdout_of(&out), support::stderr_of(&out));
    eprintln!("lintian:\n{report}");
    // Errors and warnings both: the two that do not apply to a static
    // binary built outside Debian are overridden, with the reason, in
    // scripts/package.d/lintian-overrides.
    let found: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("E:") || l.starts_with("W:"))
        .collect();
    assert!(found.is_empty(), "lintian errors or warnings: {found:#?}");
    assert!(out.status.success(), "lintian failed: {report}");
}

#[test]
fn the_rpm_holds_the_files_of_the_deb() {
    for program in ["rpm", "dpkg"] {
        if support::require_program(program).is_none() {
            return;
        }
    }
    let dist = dist();
    let deb = deb_files(&dist.deb);
    let out = run_ok(Command::new("rpm").arg("-qlp").arg(&dist.rpm));
    let rpm: BTreeSet<String> = stdout_of(&out).lines().map(str::to_string).collect();

    let shared_deb = expected_files("/usr/share/zsh/vendor-completions");
    let shared_rpm = expected_files("/usr/share/zsh/site-functions");
    // Each format's own place for the copyright and licence texts; the
    // .deb's notes to lintian.
    let deb_only: BTreeSet<String> = [
        "/usr/share/doc/mfaenv/copyright",
        "/usr/share/doc/mfaenv/changelog.Debian.gz",
        "/usr/share/lintian/overrides/mfaenv",
    ]
    .map(String::from)
    .into();
    let rpm_only: BTreeSet<String> = [
        "/usr/share/licenses/mfaenv/LICENSE-MIT",
        "/usr/share/licenses/mfaenv/LICENSE-APACHE",
    ]
    .map(String::from)
    .into();
    assert_eq!(deb, &shared_deb | &deb_only, ".deb files");
    assert_eq!(rpm, &shared_rpm | &rpm_only, ".rpm files");

    // The binary is executable in both.
    let out = run_ok(Command::new("rpm").args(["-qlvp"]).arg(&dist.rpm));
    let line = stdout_of(&out)
        .lines()
        .find(|l| l.ends_with(" /usr/bin/mfaenv"))
        .map(str::to_string)
        .expect("rpm lists /usr/bin/mfaenv");
    assert!(line.starts_with("-rwxr-xr-x"), "{line}");
    let out = run_ok(Command::new("dpkg").arg("-c").arg(&dist.deb));
    let line = stdout_of(&out)
        .lines()
        .find(|l| l.ends_with(" ./usr/bin/mfaenv"))
        .map(str::to_string)
        .expect("dpkg -c lists /usr/bin/mfaenv");
    assert!(line.starts_with("-rwxr-xr-x"), "{line}");
}

#[test]
fn the_tarball_holds_binary_completions_man_pages_readme_and_licences() {
    let dist = dist();
    let out = run_ok(Command::new("tar").arg("-tzf").arg(&dist.tgz));
    let listed: BTreeSet<String> = stdout_of(&out)
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(str::to_string)
        .collect();
    let name = dist.tgz.file_name().unwrap().to_string_lossy().into_owned();
    let top = name.trim_end_matches(".tar.gz");
    assert!(
        top.starts_with(&format!("mfaenv-{VERSION}-")),
        "{name} names another version than {VERSION}"
    );
    let mut want: BTreeSet<String> = ["mfaenv", "README.md", "LICENSE-MIT", "LICENSE-APACHE"]
        .iter()
        .map(|f| format!("{top}/{f}"))
        .collect();
    for dir in ["completions", "man"] {
        for file in repo_dir_files(dir) {
            want.insert(format!("{top}/{dir}/{file}"));
        }
    }
    assert_eq!(listed, want);

    // Unpacked, it runs and holds the repository's files as they are.
    let tmp = tempfile::tempdir().unwrap();
    run_ok(
        Command::new("tar")
            .arg("-xzf")
            .arg(&dist.tgz)
            .arg("-C")
            .arg(tmp.path()),
    );
    let unpacked = tmp.path().join(top);
    let out = run_ok(Command::new(unpacked.join("mfaenv")).arg("--version"));
    assert_eq!(stdout_of(&out).trim(), format!("mfaenv {VERSION}"));
    for file in want.iter().filter(|f| !f.ends_with("/mfaenv")) {
        let inner = file.strip_prefix(&format!("{top}/")).unwrap();
        assert_eq!(
            std::fs::read(tmp.path().join(file)).unwrap(),
            std::fs::read(support::root().join(inner)).unwrap(),
            "{inner} differs from the repository's"
        );
    }
}

/// The paths `include_str!`/`include_bytes!` read, relative to the root.
fn included_files() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut dirs = vec![support::root().join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for macro_name in ["include_str!(\"", "include_bytes!(\""] {
                for (at, _) in text.match_indices(macro_name) {
                    let rest = &text[at + macro_name.len()..];
                    let rel = &rest[..rest.find('"').unwrap()];
                    let file = path.parent().unwrap().join(rel);
                    let file = file
                        .canonicalize()
                        .unwrap_or_else(|e| panic!("{} includes {rel}: {e}", path.display()));
                    let root = support::root().canonicalize().unwrap();
                    found.insert(
                        file.strip_prefix(&root)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
            }
        }
    }
    found
}

#[test]
fn cargo_package_ships_what_the_build_includes_and_the_generated_files() {
    let included = included_files();
    assert!(
        included.iter().any(|f| f.starts_with("shell/")),
        "no include_str! of shell/ found: {included:?}"
    );
    // A target dir of its own: the .crate goes there, and no lock of the
    // suite's target dir is waited for.
    let target = tempfile::tempdir().unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run_ok(
        Command::new(&cargo)
            .args(["package", "--locked", "--no-verify", "--allow-dirty"])
            .current_dir(support::root())
            .env("CARGO_TARGET_DIR", target.path()),
    );
    let krate = target
        .path()
        .join(format!("package/mfaenv-{VERSION}.crate"));
    let out = run_ok(Command::new("tar").arg("-tzf").arg(&krate));
    let prefix = format!("mfaenv-{VERSION}/");
    let shipped: BTreeSet<String> = stdout_of(&out)
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
        .collect();
    let mut want = included;
    for dir in ["shell", "completions", "man"] {
        for file in repo_dir_files(dir) {
            want.insert(format!("{dir}/{file}"));
        }
    }
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
    ] {
        want.insert(file.to_string());
    }
    let missing: Vec<&String> = want.difference(&shipped).collect();
    assert!(missing.is_empty(), "the .crate lacks {missing:?}");
}

/// Removes the package (and its files) when dropped, even after a failure.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let out = dpkg(&["--purge", "mfaenv"]);
        if !out.status.success() {
            eprintln!("dpkg --purge mfaenv: {}", support::stderr_of(&out));
        }
    }
}

/// `dpkg ARGS`, waiting out another dpkg/apt holding the lock (up to 2 min).
fn dpkg(args: &[&str]) -> Output {
    waiting_out_the_dpkg_lock(|| Command::new("dpkg").args(args).output().expect("run dpkg"))
}

/// Runs `run` again while another dpkg/apt holds the lock (up to 2 min).
fn waiting_out_the_dpkg_lock(run: impl Fn() -> Output) -> Output {
    let started = Instant::now();
    loop {
        let out = run();
        let locked = support::stderr_of(&out).contains("lock");
        if out.status.success() || !locked || started.elapsed() > Duration::from_secs(120) {
            return out;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// A new local user made by `useradd -m` (home from /etc/skel); deleted with
/// its home when dropped.
struct FreshUser {
    name: String,
    uid: u32,
    gid: u32,
    home: PathBuf,
    /// The PATH its programs get: the system's, as a login gives it.
    path: String,
}

impl FreshUser {
    fn new() -> FreshUser {
        let name = format!("mfaenv-fresh-{}", std::process::id());
        let _ = Command::new("userdel").args(["-r", "-f", &name]).output();
        run_ok(Command::new("useradd").args(["-m", "-s", "/bin/bash", &name]));
        let id = |flag: &str| -> u32 {
            let out = run_ok(Command::new("id").args([flag, &name]));
            stdout_of(&out).trim().parse().unwrap()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        FreshUser {
            home: PathBuf::from(format!("/home/{name}")),
            name,
            uid,
            gid,
            path: "/usr/local/bin:/usr/bin:/bin".to_string(),
        }
    }

    /// `program ARGS` as this user, as a login would start it: HOME, USER,
    /// SHELL, the system PATH, in the home directory.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name)
            .env("SHELL", format!("/usr/bin/{program}"))
            .env("PATH", &self.path)
            .env("LANG", "C.UTF-8")
            .env("TERM", "dumb")
            .current_dir(&self.home)
            .uid(self.uid)
            .gid(self.gid);
        cmd
    }

    /// Writes `text` to `~/name`, owned by the user.
    fn write_dotfile(&self, name: &str, text: &str) {
        let path = self.home.join(name);
        std::fs::write(&path, text).unwrap();
        std::os::unix::fs::chown(&path, Some(self.uid), Some(self.gid)).unwrap();
    }
}

impl Drop for FreshUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel")
            .args(["-r", "-f", &self.name])
            .output();
    }
}

/// An interactive `shell` of `user` in a pseudo-terminal, ready for input.
/// fish gets a terminal that can move the cursor: on a dumb one it draws no
/// list of candidates (bash and zsh list on any).
fn start_shell(user: &FreshUser, shell: &str) -> PtySession {
    let mut cmd = user.command(shell, &["-i"]);
    if shell == "fish" {
        cmd.env("TERM", "xterm-256color");
    }
    let mut s = rexpect::session::spawn_command(cmd, Some(30_000))
        .unwrap_or_else(|e| panic!("spawn {shell}: {e}"));
    // A terminal echoes what is typed; rexpect's pty starts without echo,
    // and readline would then show no input.
    s.send_line("stty echo; echo MARK''ER").unwrap();
    s.exp_string("MARKER")
        .unwrap_or_else(|e| panic!("{shell} did not start: {e}"));
    s
}

/// A regex for `word` as a terminal shows it: fish's list of candidates
/// puts colour and charset sequences between its letters (`ex` underlined,
/// then `ec`).
fn on_screen(word: &str) -> String {
    const CONTROL: &str = r"(?:\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z])*";
    let letters: Vec<String> = word.chars().map(|c| c.to_string()).collect();
    letters.join(CONTROL)
}

/// Types `mfaenv ex` and TAB (bash lists on the second TAB, zsh and fish
/// on the first); both subcommands must be offered.
fn completes_ex(user: &FreshUser, shell: &str) {
    let mut s = start_shell(user, shell);
    s.send("mfaenv ex").unwrap();
    s.send(if shell == "bash" { "\t\t" } else { "\t" }).unwrap();
    s.flush().unwrap();
    let (exec, export) = (on_screen("exec"), on_screen("export"));
    s.exp_regex(&format!(r"{exec}[\s\S]*{export}|{export}[\s\S]*{exec}"))
        .unwrap_or_else(|e| panic!("{shell}: `mfaenv ex<TAB>` did not offer exec and export: {e}"));
    s.send_control('u').unwrap();
    s.send_line("exit").unwrap();
    let _ = s.exp_eof();
}

#[test]
fn the_deb_installs_mfaenv_its_man_pages_and_completions_for_a_fresh_user() {
    for program in ["dpkg", "man", "useradd", "bash", "zsh", "fish"] {
        if support::require_program(program).is_none() {
            return;
        }
    }
    if !is_root() {
        if support::may_skip() {
            eprintln!("SKIP: dpkg -i needs root");
            return;
        }
        panic!("this test installs the .deb with dpkg -i: run it as root (CI does), or set MFAENV_TEST_ALLOW_SKIP=1");
    }
    let dist = dist();
    let _one_at_a_time = one_install_at_a_time();
    let started = Instant::now();
    let installed = Installed;
    // docs/install.md's own line, in a directory whose target/dist is
    // where the artefacts are. The test runs as root: `sudo` is dropped.
    let block = install_block("dpkg -i");
    let line = block.trim_start_matches("sudo ");
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("target")).unwrap();
    std::os::unix::fs::symlink(dist.deb.parent().unwrap(), cwd.path().join("target/dist")).unwrap();
    let out = waiting_out_the_dpkg_lock(|| {
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", line])
            .current_dir(cwd.path())
            .output()
            .expect("run bash")
    });
    assert!(
        out.status.success(),
        "docs/install.md: {line}: {}",
        support::stderr_of(&out)
    );

    let user = FreshUser::new();
    let out = run_ok(&mut user.command("sh", &["-c", "command -v mfaenv && mfaenv --version"]));
    assert_eq!(
        stdout_of(&out),
        format!("/usr/bin/mfaenv\nmfaenv {VERSION}\n")
    );
    for page in ["mfaenv", "mfaenv-exec"] {
        let out = run_ok(&mut user.command("man", &["-w", page]));
        assert_eq!(
            stdout_of(&out).trim(),
            format!("/usr/share/man/man1/{page}.1.gz")
        );
    }

    user.write_dotfile(".zshrc", "autoload -Uz compinit && compinit\n");
    for shell in ["bash", "zsh", "fish"] {
        completes_ex(&user, shell);
    }
    drop(user);

    drop(installed);
    for file in expected_files("/usr/share/zsh/vendor-completions") {
        assert!(
            !Path::new(&file).exists(),
            "{file} is left after dpkg --purge"
        );
    }
    eprintln!("install, checks and removal took {:?}", started.elapsed());
}

/// The `sh install` blocks of docs/install.md: the lines a reader types to
/// install mfaenv, each run by a test of this file.
fn install_blocks() -> Vec<String> {
    let text = std::fs::read_to_string(support::root().join("docs/install.md")).unwrap();
    let mut blocks = Vec::new();
    let mut open: Option<String> = None;
    for line in text.lines() {
        match open.as_mut() {
            None if line.trim() == "```sh install" => open = Some(String::new()),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => blocks.extend(open.take()),
            Some(body) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    blocks
}

/// The words that find each `sh install` block, in the test that runs it.
const INSTALL_BLOCKS_RUN: [&str; 3] = ["dpkg -i", "cargo install", "mfaenv completions bash"];

/// The one `sh install` block of docs/install.md that holds `words`.
fn install_block(words: &str) -> String {
    let found: Vec<String> = install_blocks()
        .into_iter()
        .filter(|b| b.contains(words))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "docs/install.md must have one ```sh install block with {words:?}: {found:#?}"
    );
    found[0].clone()
}

#[test]
fn every_install_block_of_the_docs_is_run_by_a_test() {
    let blocks = install_blocks();
    assert_eq!(blocks.len(), INSTALL_BLOCKS_RUN.len(), "{blocks:#?}");
    for block in &blocks {
        assert!(
            INSTALL_BLOCKS_RUN.iter().any(|w| block.contains(w)),
            "no test runs this block of docs/install.md:\n{block}"
        );
    }
}

/// The .deb test and the source route both put completions where a fresh
/// shell finds them: one at a time, or each could pass on the other's files.
fn one_install_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        !Path::new("/usr/bin/mfaenv").exists(),
        "/usr/bin/mfaenv is installed: remove it (dpkg --purge mfaenv) first"
    );
    guard
}

/// docs/install.md's source route, as written: `cargo install --locked
/// --path .` from the checkout into a fresh user's ~/.cargo, then the
/// completion and man-page lines as that user. Then `man -w` finds the
/// pages through PATH alone, and `mfaenv ex<TAB>` completes in bash, zsh
/// (with the ~/.zshrc line the block names) and fish.
#[test]
fn the_source_route_of_the_docs_gives_a_fresh_user_man_pages_and_completions() {
    for program in ["man", "useradd", "bash", "zsh", "fish"] {
        if support::require_program(program).is_none() {
            return;
        }
    }
    if !is_root() {
        if support::may_skip() {
            eprintln!("SKIP: useradd needs root");
            return;
        }
        panic!("this test makes a local user: run it as root (CI does), or set MFAENV_TEST_ALLOW_SKIP=1");
    }
    let _one_at_a_time = one_install_at_a_time();
    let mut user = FreshUser::new();
    let cargo_root = user.home.join(".cargo");

    // cargo install, as root (the toolchain and registry are root's), into
    // the user's ~/.cargo; the suite's target dir keeps it incremental.
    let install = install_block("cargo install");
    let cargo = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    let path = match cargo.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
        None => std::env::var("PATH").unwrap_or_default(),
    };
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::root().join("target"));
    let started = Instant::now();
    run_ok(
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &install])
            .current_dir(support::root())
            .env("PATH", path)
            .env("CARGO_INSTALL_ROOT", &cargo_root)
            .env("CARGO_TARGET_DIR", &target),
    );
    eprintln!("cargo install took {:?}", started.elapsed());
    run_ok(
        Command::new("chown")
            .arg("-R")
            .arg(format!("{}:{}", user.uid, user.gid))
            .arg(&cargo_root),
    );

    // The rest as the user, from the checkout, with ~/.cargo/bin on PATH.
    user.path = format!("{}:{}", cargo_root.join("bin").display(), user.path);
    let files = install_block("mfaenv completions bash");
    let mut cmd = user.command("bash", &["-euo", "pipefail", "-c", &files]);
    run_ok(cmd.current_dir(support::root()));

    let out = run_ok(&mut user.command("sh", &["-c", "command -v mfaenv && mfaenv --version"]));
    assert_eq!(
        stdout_of(&out),
        format!(
            "{}\nmfaenv {VERSION}\n",
            cargo_root.join("bin/mfaenv").display()
        )
    );
    for page in ["mfaenv", "mfaenv-exec"] {
        let out = run_ok(&mut user.command("man", &["-w", page]));
        assert_eq!(
            stdout_of(&out).trim(),
            cargo_root
                .join(format!("share/man/man1/{page}.1"))
                .display()
                .to_string()
        );
    }
    // The ~/.zshrc line the block's comment asks for.
    let zshrc = files
        .lines()
        .find_map(|l| l.trim_start_matches(['#', ' ']).strip_prefix("fpath="))
        .map(|rest| format!("fpath={rest}\n"))
        .expect("the block names the ~/.zshrc line (fpath=…)");
    user.write_dotfile(".zshrc", &zshrc);
    for shell in ["bash", "zsh", "fish"] {
        completes_ex(&user, shell);
    }
}
