//! A throwaway HOME with AWS config files, a cache dir, and the mfaenv binary
//! pointed at an emulator: how every end-to-end test runs mfaenv.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The role profile, its source, and an MFA-only profile.
pub const CONFIG: &str = "\
# demo profiles for mfaenv's tests
[profile base]
region = us-east-1
mfa_serial = arn:aws:iam::111111111111:mfa/alice

[profile prod]
source_profile = base
role_arn = arn:aws:iam::222222222222:role/hc/hc-master
mfa_serial = arn:aws:iam::111111111111:mfa/alice
external_id = ext-069
region = us-west-2

[profile staging]
source_profile = base
role_arn = arn:aws:iam::333333333333:role/hc/hc-staging
mfa_serial = arn:aws:iam::111111111111:mfa/alice
region = eu-west-1
";

pub const CREDENTIALS: &str = "\
[base]
aws_access_key_id = AKIABASEEXAMPLE00001
aws_secret_access_key = base/long-term/SECRET+do-not-leak
";

/// The long-term access key id of `base`.
pub const BASE_KEY: &str = "AKIABASEEXAMPLE00001";

/// The long-term secret of `base`: must never appear in output, cache or state.
pub const BASE_SECRET: &str = "base/long-term/SECRET+do-not-leak";

pub struct Sandbox {
    dir: tempfile::TempDir,
    pub endpoint: String,
}

impl Sandbox {
    pub fn new(endpoint: &str) -> Sandbox {
        Sandbox::with(endpoint, CONFIG, CREDENTIALS)
    }

    pub fn with(endpoint: &str, config: &str, credentials: &str) -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("mfaenv-test-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir_all(dir.path().join(".aws")).expect("mkdir .aws");
        let sandbox = Sandbox {
            dir,
            endpoint: endpoint.to_string(),
        };
        std::fs::write(sandbox.config(), config).expect("write config");
        std::fs::write(sandbox.credentials(), credentials).expect("write credentials");
        sandbox
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }
    pub fn config(&self) -> PathBuf {
        self.home().join(".aws/config")
    }
    pub fn credentials(&self) -> PathBuf {
        self.home().join(".aws/credentials")
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.home().join(".cache/mfaenv")
    }

    /// Appends to the config file.
    /// The files of the session cache: every entry of the cache directory
    /// but the profile indexes (`*.index`, src/config/index.rs).
    pub fn session_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.cache_dir())
            .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_none_or(|x| x != "index"));
        files.sort();
        files
    }

    pub fn add_config(&self, text: &str) {
        let mut config = std::fs::read_to_string(self.config()).expect("read config");
        config.push_str(text);
        std::fs::write(self.config(), config).expect("write config");
    }

    /// The environment a user's shell would have, minus everything of ours.
    pub fn env(&self) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_default();
        let venv_bin = super::venv().join("bin");
        vec![
            ("PATH".into(), format!("{}:{path}", venv_bin.display())),
            ("HOME".into(), self.home().display().to_string()),
            ("LC_ALL".into(), "C.UTF-8".into()),
            (
                "XDG_CACHE_HOME".into(),
                self.home().join(".cache").display().to_string(),
            ),
            (
                "AWS_CONFIG_FILE".into(),
                self.config().display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                self.credentials().display().to_string(),
            ),
            ("AWS_ENDPOINT_URL".into(), self.endpoint.clone()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("AWS_PAGER".into(), String::new()),
            ("MFAENV_STS_TIMEOUT".into(), "2".into()),
        ]
    }

    /// `program` in the sandbox environment, with no controlling terminal
    /// and stdin closed: nothing can be typed unless a test says so.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .envs(self.env())
            .current_dir(self.home())
            .stdin(Stdio::null());
        detach(&mut cmd);
        cmd
    }

    pub fn mfaenv(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(super::mfaenv_bin());
        cmd.args(args);
        cmd
    }

    /// mfaenv with a pseudo-terminal for its terminal (so it can prompt on
    /// /dev/tty, and its stderr is a terminal), in the sandbox environment;
    /// `prepare` may redirect stdout or add variables first.
    pub fn in_pty(
        &self,
        args: &[&str],
        prepare: impl FnOnce(&mut Command),
    ) -> rexpect::session::PtySession {
        let mut cmd = Command::new(super::mfaenv_bin());
        cmd.args(args)
            .env_clear()
            .envs(self.env())
            .current_dir(self.home());
        prepare(&mut cmd);
        rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn mfaenv in a pty")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.mfaenv(args).output().expect("run mfaenv")
    }

    /// Runs mfaenv and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "mfaenv {args:?} failed: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs mfaenv and asserts the failure contract: non-zero, and stdout
    /// exactly [`failure_stdout`] (one failing statement for the shell
    /// formats, nothing for the others). Returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "mfaenv {args:?} should fail; stderr: {stderr}"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            failure_stdout(args),
            "stdout on error of mfaenv {args:?}"
        );
        stderr
    }

    /// Runs the venv's AWS CLI in this sandbox, with `extra` env on top.
    pub fn aws(&self, extra: &[(String, String)], args: &[&str]) -> (bool, String, String) {
        let mut env = self.env();
        env.extend(extra.iter().cloned());
        let (status, out, err) = super::moto::run_aws(env, args);
        (status.success(), out, err)
    }
}

/// What stdout must hold when `mfaenv ARGS` fails: `false` for the commands
/// that print shell code in a shell format (bash by default here: the
/// sandbox has no `$SHELL` and the test is no shell), PowerShell's failing
/// statement for pwsh, and nothing for everything else.
pub fn failure_stdout(args: &[&str]) -> &'static str {
    const OTHERS: &[&str] = &[
        "exec",
        "credential-process",
        "login",
        "status",
        "forget",
        "write",
        "hook",
        "allow",
        "deny",
        "direnv",
        "hook-env",
        "completions",
        "setup",
        "plan",
        "add",
        "keys",
        "remove",
        "import",
        "rotate",
        "console",
        "help",
        "__profiles",
    ];
    let Some(first) = args.iter().find(|a| !a.starts_with('-')) else {
        return "";
    };
    if OTHERS.contains(first) {
        return "";
    }
    let shell = args
        .windows(2)
        .find(|w| w[0] == "--shell" || w[0] == "-s")
        .map(|w| w[1]);
    match shell {
        Some("json" | "dotenv" | "terragrunt") => "",
        Some("pwsh" | "powershell") => "throw 'mfaenv failed: see the error above'\n",
        _ => "false\n",
    }
}

/// Starts the child in a new session: no controlling terminal, so /dev/tty
/// cannot be opened, as under CI or a daemon.
fn detach(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

/// moto, and a sandbox pointed at it (`None`: moto is not installed and the
/// test may skip, see [`super::may_skip`]).
pub fn moto_sandbox() -> Option<(super::moto::Moto, Sandbox)> {
    let moto = super::moto::Moto::start()?;
    let sandbox = Sandbox::new(&moto.endpoint());
    Some((moto, sandbox))
}

/// Parses `export NAME='value';` lines of mfaenv's bash output (values
/// without single quotes) into pairs; for tests that read what was set.
pub fn bash_exports(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| {
            let (name, rest) = l.split_once('=')?;
            let value = rest.trim_end_matches(';').trim_matches('\'');
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}
