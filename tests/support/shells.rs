//! Real bash, zsh and fish: evaluate shell code the way a user's `eval` does,
//! then look at the environment a child process inherits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use mfaenv::shell::Format;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealShell {
    Bash,
    Zsh,
    Fish,
}

impl RealShell {
    pub const ALL: [RealShell; 3] = [RealShell::Bash, RealShell::Zsh, RealShell::Fish];

    pub fn program(self) -> &'static str {
        match self {
            RealShell::Bash => "bash",
            RealShell::Zsh => "zsh",
            RealShell::Fish => "fish",
        }
    }

    pub fn format(self) -> Format {
        match self {
            RealShell::Bash => Format::Bash,
            RealShell::Zsh => Format::Zsh,
            RealShell::Fish => Format::Fish,
        }
    }

    /// The line that installs mfaenv's hook (the binary at `mfaenv`) in an rc file.
    pub fn hook_rc(self, mfaenv: &Path) -> String {
        let bin = mfaenv.display();
        match self {
            RealShell::Fish => format!("'{bin}' hook fish | source"),
            _ => format!("eval \"$('{bin}' hook {})\"", self.program()),
        }
    }

    /// The line that exports `name` (`value` as the shell reads it).
    pub fn export_line(self, name: &str, value: &str) -> String {
        match self {
            RealShell::Fish => format!("set -gx {name} {value}"),
            _ => format!("export {name}={value}"),
        }
    }

    /// The line that prints the last command's status as `st=N`.
    pub fn status_line(self) -> &'static str {
        match self {
            RealShell::Fish => "echo \"st=$status\"",
            _ => "echo \"st=$?\"",
        }
    }

    /// The installed shell; see [`super::require_program`] for when it is missing.
    pub fn require(self) -> Option<PathBuf> {
        super::require_program(self.program())
    }

    /// Arguments that read no startup files, `eval` the code in file `$1` as
    /// a user's rc file does with mfaenv's output, then `exec env -0 >$2`.
    fn eval_args(self) -> &'static [&'static str] {
        match self {
            RealShell::Bash => &[
                "--norc",
                "--noprofile",
                "-c",
                r#"eval "$(<"$1")" && exec env -0 >"$2""#,
                "bash",
            ],
            RealShell::Zsh => &["-f", "-c", r#"eval "$(<"$1")" && exec env -0 >"$2""#, "zsh"],
            // `mfaenv ... | source` is the fish idiom; `source FILE` parses the same way.
            RealShell::Fish => &[
                "--no-config",
                "-c",
                "source $argv[1]; and exec env -0 >$argv[2]",
            ],
        }
    }
}

/// What came of evaluating some code.
#[derive(Debug)]
pub struct EvalRun {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The environment of a child started after the eval (empty if it never ran).
    pub env: BTreeMap<String, Vec<u8>>,
}

impl EvalRun {
    /// Exit 0 and nothing on stdout or stderr.
    pub fn clean(&self) -> bool {
        self.status.success() && self.stdout.is_empty() && self.stderr.is_empty()
    }

    pub fn describe(&self) -> String {
        format!(
            "{}; stdout {:?}; stderr {:?}",
            self.status,
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
        )
    }
}

/// Runs `program` (the `shell`) in `dir` with a clean environment (PATH, HOME
/// and XDG dirs in `dir`, plus `env`) to evaluate `code`, then dumps the
/// environment a child inherits. Files it makes in `dir`: `code`, `env0`,
/// `stdout`, `stderr`. Panics after 60 s.
pub fn eval_then_env(
    shell: RealShell,
    program: &Path,
    code: &str,
    dir: &Path,
    env: &[(&str, &str)],
) -> EvalRun {
    let code_file = dir.join("code");
    let env_file = dir.join("env0");
    std::fs::write(&code_file, code).unwrap();
    let _ = std::fs::remove_file(&env_file);
    // Output goes to files: a blocked pipe cannot hang the wait below.
    let stdout = std::fs::File::create(dir.join("stdout")).unwrap();
    let stderr = std::fs::File::create(dir.join("stderr")).unwrap();
    let mut cmd = Command::new(program);
    cmd.args(shell.eval_args())
        .arg(&code_file)
        .arg(&env_file)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .env("XDG_DATA_HOME", dir)
        .env("XDG_CACHE_HOME", dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!(
                "{} did not finish evaluating the code in 60 s",
                shell.program()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    EvalRun {
        status,
        stdout: std::fs::read(dir.join("stdout")).unwrap(),
        stderr: std::fs::read(dir.join("stderr")).unwrap(),
        env: std::fs::read(&env_file)
            .map(|raw| parse_env0(&raw))
            .unwrap_or_default(),
    }
}

/// `env -0` output: `NAME=value` entries, each ended by NUL.
pub fn parse_env0(raw: &[u8]) -> BTreeMap<String, Vec<u8>> {
    raw.split(|&b| b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let eq = entry.iter().position(|&b| b == b'=').unwrap_or(entry.len());
            let value = entry.get(eq + 1..).unwrap_or_default().to_vec();
            (String::from_utf8_lossy(&entry[..eq]).into_owned(), value)
        })
        .collect()
}

/// The prompt of [`interactive`] shells.
pub const PROMPT: &str = "PROMPT> ";

/// An interactive `shell` in a pseudo-terminal, in the sandbox's HOME and
/// environment (plus `env`), with no startup files of the user's: only the
/// prompt [`PROMPT`] and the lines `rc` (e.g. `eval "$(mfaenv hook bash)"`).
/// Returns once the first prompt is shown.
pub fn interactive(
    shell: RealShell,
    sb: &super::sandbox::Sandbox,
    rc: &str,
    env: &[(&str, &str)],
) -> rexpect::session::PtySession {
    let program = shell.require().expect("shell");
    let home = sb.home();
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .envs(sb.env())
        .env("TERM", "dumb")
        .envs(env.iter().copied())
        .current_dir(home);
    match shell {
        RealShell::Bash => {
            let file = home.join("bashrc");
            std::fs::write(&file, format!("PS1='{PROMPT}'\n{rc}\n")).unwrap();
            cmd.args(["--noprofile", "--rcfile"]).arg(&file).arg("-i");
        }
        RealShell::Zsh => {
            let dir = home.join("zdot");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join(".zshrc"),
                format!("PS1='{PROMPT}'\nunsetopt zle\n{rc}\n"),
            )
            .unwrap();
            cmd.env("ZDOTDIR", &dir).arg("-i");
        }
        RealShell::Fish => {
            let file = home.join("rc.fish");
            std::fs::write(
                &file,
                format!("function fish_prompt; echo -n '{PROMPT}'; end\n{rc}\n"),
            )
            .unwrap();
            cmd.args(["--no-config", "-i", "-C"])
                .arg(format!("source {}", file.display()))
                .env("XDG_CONFIG_HOME", home.join("fishconf"));
        }
    }
    let mut session =
        rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn shell in a pty");
    session.exp_string(PROMPT).expect("first prompt");
    session
}

/// Types `line` and waits until it has run; returns what was printed
/// meanwhile (the echo of the line included). The end is a marker the line
/// echoes, written so that the typed text does not contain it: a prompt
/// alone would not do, as fish draws its prompt again while reading a line.
pub fn type_line(session: &mut rexpect::session::PtySession, line: &str) -> String {
    session
        .send_line(&format!("{line}; echo __DO''NE"))
        .unwrap();
    session.exp_string("__DONE").unwrap()
}
