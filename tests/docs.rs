//! The documentation's examples run. Every fenced block in README.md and
//! docs/*.md whose info string holds the word `test` is run here, as a
//! person would type it, against the suite's STS (one moto behind the
//! signature-checking proxy for all blocks, reset before each): in a
//! pseudo-terminal, in a throwaway HOME whose ~/.aws holds the demo profiles
//! `base`, `prod` and `staging` (tests/support/sandbox.rs), with mfaenv and
//! the venv's AWS CLI on PATH.
//!
//! The info string says how: its first word is the language (`sh` runs in
//! bash under `set -euo pipefail`; `fish` in fish, every top-level command
//! checked; `ini` is a file, see `systemd`), then `test`, then words that
//! choose the setup:
//!
//! - `zsh`, `fish`: that shell instead of bash.
//! - `shells`: each line runs in the shell its comment names — a trailing
//!   comment, or a comment line that heads the lines below it, whose first
//!   word is `bash`, `zsh`, `fish`, `elvish`, `PowerShell`/`pwsh` or a
//!   startup file (`~/.bashrc`, `~/.zshrc`, `~/.config/fish/config.fish`).
//!   PowerShell is not installable here: its lines are parsed with the
//!   suite's tree-sitter grammar (tests/support/pwsh.rs), and the output of
//!   each `mfaenv …` they run is produced for real and parsed too.
//! - `hook`: an interactive shell with the hook installed, typed into line
//!   by line; every line must succeed, and a `# mfaenv: NOTICE` comment
//!   (trailing, or on a line of its own after the command) must appear in
//!   that line's output, up to its variable part (a digit, `(`, `…`, ` — `;
//!   `~/` is HOME). An indented line that is only such a comment presses
//!   Enter (the notice comes at the next prompt). The project
//!   `~/src/infra-prod` holds `.mfaenv` (`profile = "prod"`); `allowed`
//!   allows it first.
//! - `interactive`: typed into an interactive shell line by line like
//!   `hook`, without the hook (a prompt setting needs a prompt).
//! - `iam`: moto holds the IAM user `alice`, whose access key is the one in
//!   `[base]`, with MFA devices `alice` and `alice-yubikey` (account
//!   123456789012), so `setup`, `rotate` and key ages work.
//! - `store`: the encrypted file store (`MFAENV_BACKEND=file`); a second
//!   profile `other` with keys in ~/.aws/credentials.
//! - `sso`: the suite's fake IAM Identity Center (tests/support/fake_sso.rs)
//!   and fake STS; the config is docs/sso-and-login.md's own `[sso-session
//!   corp]` ini block; `$BROWSER` follows the URL with curl.
//! - `login`: the `aws login` ini block of that page, a session cache
//!   written as the AWS CLI writes it (tests/support/login_cache.py), the
//!   fake Sign-In.
//! - `console`: the fake federation endpoint and console; `$BROWSER` (and a
//!   `chromium` on PATH) is a script that follows the URL with curl.
//! - `cron`: each line is a crontab line; its command part runs under
//!   `sh -c` with no terminal, as cron runs it.
//! - `systemd` (on an `ini` block): the unit files it shows (each after its
//!   `# ~/.config/systemd/user/NAME` comment) are checked with
//!   `systemd-analyze --user verify`, and the service's `ExecStart` runs with
//!   no terminal.
//! - `with=NAME`: adds the extra demo profile NAME (`prod-tf`, `prod-ide`).
//! - `NAME=value` (upper case): sets that variable for the block.
//!
//! An unknown word fails the block. Prompts are answered from one table
//! ([`ANSWERS`]: the MFA code, `add`'s key id and secret, the file store's
//! passphrase, a `[y/N]`, setup's device number); any other prompt that
//! waits for input fails the block with its text when nothing more comes.
//!
//! Programs that are not part of this machine (terraform, eksctl,
//! terragrunt, cdk) are small scripts here that show what they would see:
//! they run the real AWS CLI's `sts get-caller-identity` with the
//! environment (and `--profile`) they were given, so an example that hands
//! them no credentials fails; terragrunt runs its `--auth-provider-cmd` and
//! uses the keys it printed; eksctl creates the cluster of its `-f` file.
//!
//! `MFAENV_DOCS_BLOCK=FILE:LINE` runs one block; `MFAENV_DOCS_VERBOSE=1`
//! prints what each printed.
//!
//! Blocks not run here: `install` (docs/install.md's install lines, run by
//! tests/package.rs) and `ci` (lines of `.ci/run`, checked against it).
//! Any other shell block must be in [`NOT_RUN`] with its reason.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::fake_federation::FakeFederation;
use support::fake_signin::FakeSignin;
use support::fake_sso::FakeSso;
use support::fake_sts::FakeSts;
use support::moto::{iam, seed_device, xml_value, Moto};
use support::sandbox::{Sandbox, BASE_KEY, BASE_SECRET};

/// How long a block may print nothing while it runs before it counts as
/// waiting for an answer nobody gives.
const QUIET: Duration = Duration::from_secs(30);

/// The code typed at every MFA prompt, and the file store's passphrase.
const CODE: &str = "123456";
const PASSPHRASE: &str = "correct horse battery staple";

/// One runnable block: where it is, its info string and its text.
struct Block {
    file: PathBuf,
    line: usize,
    info: Vec<String>,
    text: String,
}

impl Block {
    fn name(&self) -> String {
        let file = self
            .file
            .strip_prefix(support::root())
            .unwrap_or(&self.file);
        format!("{}:{}", file.display(), self.line)
    }
}

/// Every block of README.md and docs/*.md whose info string holds `test`.
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
    all_blocks(file)
        .into_iter()
        .filter(|b| b.info.iter().any(|w| w == "test"))
        .collect()
}

/// Every fenced block of `file`, marked or not.
fn all_blocks(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(file).expect("read a doc");
    let mut found = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let fence = trimmed.starts_with("```");
        match open.as_mut() {
            None if fence => {
                open = Some(Block {
                    file: file.to_path_buf(),
                    line: i + 1,
                    info: trimmed
                        .trim_start_matches('`')
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                    text: String::new(),
                });
            }
            None => {}
            Some(_) if fence => found.extend(open.take()),
            Some(block) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------
// What the info string asks for
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sh {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Pwsh,
}

impl Sh {
    /// The shell a comment names by its first word, if it names one.
    fn named(comment: &str) -> Option<Sh> {
        let word = comment.split_whitespace().next()?;
        let word = word.trim_end_matches([',', ':']).to_ascii_lowercase();
        match word.as_str() {
            "bash" | "~/.bashrc" => Some(Sh::Bash),
            "zsh" | "~/.zshrc" => Some(Sh::Zsh),
            "fish" | "~/.config/fish/config.fish" => Some(Sh::Fish),
            "elvish" => Some(Sh::Elvish),
            "powershell" | "pwsh" => Some(Sh::Pwsh),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct Kind {
    shell: Option<Sh>,
    shells: bool,
    hook: bool,
    interactive: bool,
    allowed: bool,
    iam: bool,
    store: bool,
    sso: bool,
    login: bool,
    console: bool,
    cron: bool,
    systemd: bool,
    with: Vec<String>,
    env: Vec<(String, String)>,
}

fn kind_of(info: &[String]) -> Result<Kind, String> {
    let mut kind = Kind::default();
    let (lang, words) = info.split_first().ok_or("no info string")?;
    match lang.as_str() {
        "sh" => {}
        "fish" => kind.shell = Some(Sh::Fish),
        "ini" => {}
        other => return Err(format!("cannot run a `{other}` block")),
    }
    for word in words {
        match word.as_str() {
            "test" => {}
            "zsh" => kind.shell = Some(Sh::Zsh),
            "fish" => kind.shell = Some(Sh::Fish),
            "shells" => kind.shells = true,
            "hook" => kind.hook = true,
            "interactive" => kind.interactive = true,
            "allowed" => kind.allowed = true,
            "iam" => kind.iam = true,
            "store" => kind.store = true,
            "sso" => kind.sso = true,
            "login" => kind.login = true,
            "console" => kind.console = true,
            "cron" => kind.cron = true,
            "systemd" => kind.systemd = true,
            w => match w.split_once('=') {
                Some(("with", name)) if extra_profile(name).is_some() => {
                    kind.with.push(name.to_string())
                }
                Some((name, value))
                    if !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') =>
                {
                    kind.env.push((name.to_string(), value.to_string()))
                }
                _ => return Err(format!("unknown word `{w}` in the info string")),
            },
        }
    }
    if (lang == "ini") != kind.systemd {
        return Err("`systemd` goes with an ini block, and an ini block needs it".into());
    }
    Ok(kind)
}

/// Extra demo profiles a block can ask for with `with=NAME`.
fn extra_profile(name: &str) -> Option<&'static str> {
    match name {
        // README's tour, recipe 3.
        "prod-tf" => Some(
            "\n[profile prod-tf]\ncredential_process = mfaenv credential-process prod\nregion = us-west-2\n",
        ),
        // docs/prompts.md: what IDEs and the CDK use.
        "prod-ide" => Some(
            "\n[profile prod-ide]\ncredential_process = mfaenv credential-process prod\nregion = us-west-2\n",
        ),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// The parts every block shares, and each block's own HOME
// ---------------------------------------------------------------------------

struct World {
    moto: Moto,
    sso: FakeSso,
    sso_sts: FakeSts,
    signin: FakeSignin,
    federation: FakeFederation,
}

impl World {
    fn start() -> Option<World> {
        let moto = Moto::start()?;
        let issued = moto
            .issued_log()
            .expect("the docs run behind the signature check (not MFAENV_TEST_MOTO=process)");
        let sso = FakeSso::start();
        // The role names of docs/sso-and-login.md.
        sso.accounts(&[
            ("111122223333", "Dev Account", &["Developer", "ReadOnly"]),
            ("444455556666", "prod", &["Admin"]),
        ]);
        Some(World {
            moto,
            sso,
            sso_sts: FakeSts::start(),
            signin: FakeSignin::start(),
            federation: FakeFederation::start(issued),
        })
    }
}

/// One block's HOME and environment.
struct Bed {
    sb: Sandbox,
    env: Vec<(String, String)>,
    /// The long-term keys of `base` (what `add` is told).
    keys: (String, String),
}

impl Bed {
    fn home(&self) -> &Path {
        self.sb.home()
    }

    fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_string(), value));
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.home());
        cmd
    }
}

fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, text).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The stand-ins for tools this machine does not have.
fn shims(dir: &Path) {
    // Each runs the real AWS CLI with the environment it was given, and
    // the profile of its `--profile`, as the tool's SDK would.
    let identity = "#!/bin/bash\n# a stand-in: what credentials would this tool get?\n\
        profile=()\n\
        while [ $# -gt 0 ]; do case \"$1\" in --profile) profile=(--profile \"$2\"); shift;; esac; shift; done\n\
        exec aws sts get-caller-identity --output text \"${profile[@]}\"\n";
    for name in ["terraform", "cdk"] {
        write_script(&dir.join(name), identity);
    }
    // eksctl creates the cluster its file names (EKS in moto), with the
    // credentials of its environment.
    write_script(
        &dir.join("eksctl"),
        "#!/bin/bash\n# a stand-in for eksctl: creates the cluster of `-f FILE` in moto's EKS\nset -euo pipefail\n\
        file=\n\
        while [ $# -gt 0 ]; do case \"$1\" in -f) file=$2; shift;; esac; shift; done\n\
        name=$(sed -n 's/^  name: *//p' \"$file\")\n\
        region=$(sed -n 's/^  region: *//p' \"$file\")\n\
        aws sts get-caller-identity --output text\n\
        aws eks create-cluster --region \"$region\" --name \"$name\" --role-arn arn:aws:iam::222222222222:role/eks \
        --resources-vpc-config subnetIds=subnet-0a1b2c3d >/dev/null\n",
    );
    // terragrunt runs `--auth-provider-cmd` (or TG_AUTH_PROVIDER_CMD), split
    // at spaces, and gives the command's awsCredentials to the unit.
    write_script(
        &dir.join("terragrunt"),
        "#!/bin/bash\n# a stand-in for terragrunt's externalcmd auth provider\nset -euo pipefail\n\
        cmd=${TG_AUTH_PROVIDER_CMD:-}\n\
        while [ $# -gt 0 ]; do case \"$1\" in --auth-provider-cmd) cmd=$2; shift;; esac; shift; done\n\
        if [ -n \"$cmd\" ]; then\n\
          json=$($cmd)\n\
          export AWS_ACCESS_KEY_ID=$(jq -er .awsCredentials.ACCESS_KEY_ID <<<\"$json\")\n\
          export AWS_SECRET_ACCESS_KEY=$(jq -er .awsCredentials.SECRET_ACCESS_KEY <<<\"$json\")\n\
          export AWS_SESSION_TOKEN=$(jq -er .awsCredentials.SESSION_TOKEN <<<\"$json\")\n\
          eval \"$(jq -r '.envs | to_entries[] | \"export \\(.key)=\\(.value | @sh)\"' <<<\"$json\")\"\n\
          unset AWS_PROFILE\n\
        fi\n\
        exec aws sts get-caller-identity --output text\n",
    );
    // A browser: records the URL (its last argument) and follows it.
    let browser =
        "#!/bin/sh\n# a stand-in browser: follows the URL with curl\nfor url; do :; done\n\
        echo \"$url\" >> \"$HOME/browser.log\"\n\
        exec curl -sS -f -L --max-time 10 -o /dev/null \"$url\"\n";
    write_script(&dir.join("browser"), browser);
    write_script(&dir.join("chromium"), browser);
}

/// docs/sso-and-login.md's ini block that holds `marker`.
fn sso_page_ini(marker: &str) -> String {
    all_blocks(&support::root().join("docs/sso-and-login.md"))
        .into_iter()
        .find(|b| b.info.first().map(String::as_str) == Some("ini") && b.text.contains(marker))
        .unwrap_or_else(|| panic!("docs/sso-and-login.md has no ini block with {marker}"))
        .text
}

fn prepare(world: &World, kind: &Kind) -> Bed {
    let moto = &world.moto;
    moto.reset();
    let mut credentials = support::sandbox::CREDENTIALS.to_string();
    let mut keys = (BASE_KEY.to_string(), BASE_SECRET.to_string());
    if kind.iam {
        keys = seed_alice(moto);
        credentials = format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            keys.0, keys.1
        );
    }
    if kind.store {
        credentials.push_str(
            "\n[other]\naws_access_key_id = AKIAOTHEREXAMPLE0001\naws_secret_access_key = other/long-term/SECRET\n",
        );
    }
    let sb = Sandbox::with(&moto.endpoint(), support::sandbox::CONFIG, &credentials);
    for name in &kind.with {
        sb.add_config(extra_profile(name).expect("checked"));
    }
    let home = sb.home().to_path_buf();
    let shim_dir = home.join(".shims");
    shims(&shim_dir);
    let bin_dir = support::mfaenv_bin()
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let mut bed = Bed {
        env: sb.env(),
        sb,
        keys,
    };
    let path = bed
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    bed.set(
        "PATH",
        format!("{}:{}:{path}", bin_dir.display(), shim_dir.display()),
    );
    bed.set("TERM", "dumb");
    bed.set(
        "MFAENV_DATA_DIR",
        home.join(".local/share/mfaenv").display().to_string(),
    );
    // What eksctl's example names.
    std::fs::write(
        home.join("cluster.yaml"),
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod-cluster\n  region: us-west-2\n",
    )
    .expect("write cluster.yaml");
    // What the hook's examples name.
    std::fs::create_dir_all(home.join("src/infra-prod")).expect("mkdir project");
    std::fs::write(home.join("src/infra-prod/.mfaenv"), "profile = \"prod\"\n")
        .expect("write .mfaenv");
    if kind.store {
        bed.set("MFAENV_BACKEND", "file");
        // What `add --env` reads, as under `aws-vault exec base --`.
        bed.set("AWS_ACCESS_KEY_ID", bed.keys.0.clone());
        bed.set("AWS_SECRET_ACCESS_KEY", bed.keys.1.clone());
    }
    if kind.sso {
        bed.sb
            .add_config(&format!("\n{}", sso_page_ini("[sso-session corp]")));
        bed.set("AWS_ENDPOINT_URL", world.sso_sts.endpoint());
        for (k, v) in world.sso.env() {
            bed.set(&k, v);
        }
        bed.set("MFAENV_LOGIN_TIMEOUT", "20");
        bed.set("BROWSER", shim_dir.join("browser").display().to_string());
    }
    if kind.login {
        let ini = sso_page_ini("login_session");
        bed.sb.add_config(&format!("\n{ini}"));
        let session = ini
            .lines()
            .find_map(|l| l.strip_prefix("login_session = "))
            .expect("the login ini block names its session");
        write_login_cache(world, &bed, session);
        bed.set("AWS_ENDPOINT_URL_SIGNIN", world.signin.endpoint());
    }
    if kind.console {
        bed.set("AWS_ENDPOINT_URL_SIGNIN", world.federation.base());
        bed.set("MFAENV_CONSOLE_URL", world.federation.base());
        // Named `chromium`: a browser `--isolate` knows.
        bed.set("BROWSER", shim_dir.join("chromium").display().to_string());
    }
    if kind.cron || kind.systemd {
        // Where the examples' paths point: a `cargo install`ed mfaenv.
        let cargo_bin = home.join(".cargo/bin");
        std::fs::create_dir_all(&cargo_bin).expect("mkdir ~/.cargo/bin");
        std::os::unix::fs::symlink(support::mfaenv_bin(), cargo_bin.join("mfaenv"))
            .expect("link mfaenv");
        std::fs::create_dir_all(home.join(".local/state")).expect("mkdir ~/.local/state");
    }
    for (k, v) in &kind.env {
        bed.set(k, v.clone());
    }
    bed
}

/// IAM user alice with a key (returned) and two MFA devices.
fn seed_alice(moto: &Moto) -> (String, String) {
    iam(moto, "CreateUser", &[("UserName", "alice")]);
    let xml = iam(moto, "CreateAccessKey", &[("UserName", "alice")]);
    let keys = (
        xml_value(&xml, "AccessKeyId"),
        xml_value(&xml, "SecretAccessKey"),
    );
    moto.trust(&keys.0, &keys.1);
    for device in ["alice", "alice-yubikey"] {
        seed_device(moto, "alice", device);
    }
    keys
}

/// The `aws login` cache of `session`, as the CLI writes it; Sign-In and the
/// signature check know its keys.
fn write_login_cache(world: &World, bed: &Bed, session: &str) {
    let python = support::venv_bin("python");
    let out = Command::new(&python)
        .arg(support::root().join("tests/support/login_cache.py"))
        .arg("write")
        .arg(bed.home().join(".aws/login/cache"))
        .arg(session)
        .args(["--expires-in", "3600"])
        .output()
        .expect("run login_cache.py");
    assert!(
        out.status.success(),
        "login_cache.py: {}",
        support::stderr_of(&out)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).expect("login_cache.py JSON");
    world.signin.add_session(
        "arn:aws:signin:::devtools/same-device",
        "ASOR-first-refresh-token",
        info["x"].as_str().expect("x"),
        info["y"].as_str().expect("y"),
    );
    world.moto.trust_session(
        "ASIALOGINCLI00000001",
        "login/cli-written/SECRET",
        "login-cli-written-session-token",
    );
}

// ---------------------------------------------------------------------------
// Running in a pseudo-terminal, answering the prompts of the table
// ---------------------------------------------------------------------------

/// A prompt the runner answers: its regex (for rexpect), a test that tells
/// it from the others in the matched text, and what is typed.
struct Answer {
    regex: &'static str,
    is: fn(&str) -> bool,
    typed: fn(&Bed) -> String,
}

const ANSWERS: &[Answer] = &[
    Answer {
        regex: r"MFA code for [^\r\n]*: ",
        is: |m| m.contains("MFA code for"),
        typed: |_| CODE.into(),
    },
    Answer {
        regex: r"Access key id: ",
        is: |m| m.contains("Access key id: "),
        typed: |bed| bed.keys.0.clone(),
    },
    Answer {
        regex: r"Secret access key \(not shown\): ",
        is: |m| m.contains("Secret access key"),
        typed: |bed| bed.keys.1.clone(),
    },
    Answer {
        regex: r"(New passphrase|Passphrase) for [^\r\n]*: |The same passphrase again: ",
        is: |m| m.contains("assphrase"),
        typed: |_| PASSPHRASE.into(),
    },
    Answer {
        regex: r"\[y/N\] ",
        is: |m| m.contains("[y/N]"),
        typed: |_| "y".into(),
    },
    Answer {
        regex: r"\[1-[0-9]+\]: ",
        is: |m| m.contains("[1-"),
        typed: |_| "1".into(),
    },
];

/// Until `until` matches (None: the end of output), answers every prompt of
/// [`ANSWERS`]; what was printed, or why it stopped. Output that stops
/// without a known prompt or the end for `quiet` is a prompt nobody answers.
fn drive(
    session: &mut rexpect::session::PtySession,
    bed: &Bed,
    until: Option<&str>,
    quiet: Duration,
) -> Result<String, String> {
    let mut alternatives: Vec<&str> = ANSWERS.iter().map(|a| a.regex).collect();
    if let Some(until) = until {
        alternatives.push(until);
    }
    let regex = format!("(?:{})", alternatives.join("|"));
    let mut seen = String::new();
    loop {
        match session.exp_regex(&regex) {
            Ok((before, matched)) => {
                seen.push_str(&before);
                seen.push_str(&matched);
                let Some(answer) = ANSWERS.iter().find(|a| (a.is)(&matched)) else {
                    return Ok(seen); // `until`
                };
                // Enter is CR on a terminal; rexpect flushes only on LF.
                session
                    .send(&format!("{}\r", (answer.typed)(bed)))
                    .and_then(|_| session.flush())
                    .map_err(|e| format!("typing an answer: {e}\n--- output:\n{seen}"))?;
            }
            Err(rexpect::error::Error::EOF { got, .. }) if until.is_none() => {
                seen.push_str(&got);
                return Ok(seen);
            }
            Err(rexpect::error::Error::Timeout { got, .. }) => {
                seen.push_str(&got);
                let last = seen
                    .trim_end()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .to_string();
                return Err(format!(
                    "waited {quiet:?} with no output: a prompt nobody answers? last line: {last:?}\n--- output:\n{seen}"
                ));
            }
            Err(e) => return Err(format!("{e}\n--- output:\n{seen}")),
        }
    }
}

/// Runs `cmd` in a pseudo-terminal to its end, answering prompts; Ok when
/// it exits 0.
fn run_in_pty(cmd: Command, bed: &Bed, quiet: Duration) -> Result<String, String> {
    let mut session = rexpect::session::spawn_command(cmd, Some(quiet.as_millis() as u64))
        .map_err(|e| e.to_string())?;
    let seen = drive(&mut session, bed, None, quiet)?;
    if std::env::var_os("MFAENV_DOCS_VERBOSE").is_some() {
        eprintln!("{seen}");
    }
    match session.process.wait() {
        Ok(rexpect::process::wait::WaitStatus::Exited(_, 0)) => Ok(seen),
        Ok(other) => Err(format!("{other:?}\n--- output:\n{seen}")),
        Err(e) => Err(format!("waiting: {e}\n--- output:\n{seen}")),
    }
}

// ---------------------------------------------------------------------------
// The kinds of block
// ---------------------------------------------------------------------------

fn run_block(world: &World, block: &Block, quiet: Duration) -> Result<(), String> {
    let kind = kind_of(&block.info)?;
    let bed = prepare(world, &kind);
    if kind.systemd {
        return run_units(&bed, &block.text);
    }
    if kind.cron {
        return run_cron(&bed, &block.text);
    }
    let segments = if kind.shells {
        segments_by_comment(&block.text)
    } else {
        vec![(kind.shell.unwrap_or(Sh::Bash), block.text.clone())]
    };
    for (shell, text) in segments {
        let typed = (kind.hook || kind.interactive) && shell != Sh::Pwsh;
        if typed {
            run_typed(&bed, shell, &kind, &text, quiet)
        } else {
            run_script(&bed, shell, &text, quiet)
        }
        .map_err(|e| format!("[{shell:?}] {e}"))?;
    }
    Ok(())
}

/// The lines of a `shells` block, grouped into runs of one shell each.
fn segments_by_comment(text: &str) -> Vec<(Sh, String)> {
    let mut segments: Vec<(Sh, String)> = Vec::new();
    let mut heading = Sh::Bash;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let shell = if let Some(comment) = trimmed.strip_prefix('#') {
            if let Some(named) = Sh::named(comment) {
                heading = named;
            }
            heading
        } else {
            split_comment(line).1.and_then(Sh::named).unwrap_or(heading)
        };
        match segments.last_mut() {
            Some((last, body)) if *last == shell => {
                body.push_str(line);
                body.push('\n');
            }
            _ => segments.push((shell, format!("{line}\n"))),
        }
    }
    segments
}

/// A line's command and its trailing comment (a `#` after a blank, outside
/// quotes).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev.is_whitespace() => {
                return (line[..i].trim_end(), Some(line[i + 1..].trim()));
            }
            _ => {}
        }
        prev = c;
    }
    (line.trim_end(), None)
}

/// Runs `text` as a script of `shell` in a pseudo-terminal, failing at the
/// first command that fails.
fn run_script(bed: &Bed, shell: Sh, text: &str, quiet: Duration) -> Result<(), String> {
    let (program, file, script, args): (&str, &str, String, &[&str]) = match shell {
        Sh::Bash => (
            "bash",
            "example.sh",
            format!("set -euo pipefail\ncd \"$HOME\"\n{text}"),
            &["--noprofile", "--norc"],
        ),
        Sh::Zsh => (
            "zsh",
            "example.zsh",
            format!("set -euo pipefail\ncd \"$HOME\"\n{text}"),
            &["-f"],
        ),
        Sh::Fish => ("fish", "example.fish", fish_checked(text), &["--no-config"]),
        // rc.elv runs in the interactive editor, whose `edit:` namespace a
        // script lacks: a stand-in with the completer map it fills.
        Sh::Elvish => (
            "elvish",
            "example.elv",
            format!(
                "var edit: = (ns [&completion:=(ns [&arg-completer=[&]])])\ncd $E:HOME\n{text}"
            ),
            &["-norc"],
        ),
        Sh::Pwsh => return check_pwsh(bed, text, quiet),
    };
    // Missing: a failure, or under MFAENV_TEST_ALLOW_SKIP a skip.
    let Some(program) = support::require_program(program) else {
        return Ok(());
    };
    let path = bed.home().join(file);
    std::fs::write(&path, script).expect("write script");
    let mut cmd = bed.command(program);
    cmd.args(args).arg(&path);
    run_in_pty(cmd, bed, quiet).map(drop)
}

/// fish has no `set -e -o pipefail`: after each top-level command, every
/// status of its pipeline must be 0.
fn fish_checked(text: &str) -> String {
    let mut out = String::from("cd $HOME\n");
    let mut depth = 0usize;
    for line in text.lines() {
        let (code, _) = split_comment(line);
        let first = code.split_whitespace().next().unwrap_or_default();
        let opens = matches!(
            first,
            "function" | "if" | "for" | "while" | "begin" | "switch"
        );
        out.push_str(code);
        if first == "end" {
            depth = depth.saturating_sub(1);
        } else if opens {
            depth += 1;
        } else if depth == 0 && !code.trim().is_empty() {
            // Every command of the pipeline, as bash's pipefail.
            out.push_str("\nfor __s in $pipestatus; test $__s -eq 0; or exit 1; end");
        }
        out.push('\n');
    }
    out
}

/// PowerShell lines: parsed with the tree-sitter grammar; the output of each
/// `mfaenv …` they pipe into PowerShell is made for real (in bash, in the
/// pseudo-terminal) and parsed too.
fn check_pwsh(bed: &Bed, text: &str, quiet: Duration) -> Result<(), String> {
    if !support::pwsh::available() {
        return Ok(());
    }
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{}\n", split_comment(l).0))
        .collect();
    let parsed = support::pwsh::parse(&code);
    if parsed.has_error {
        return Err(format!(
            "PowerShell does not parse:\n{code}{:?}",
            parsed.errors
        ));
    }
    for (i, args) in mfaenv_calls(&code).into_iter().enumerate() {
        let out = bed.home().join(format!("pwsh-output-{i}.ps1"));
        let mut cmd = bed.command("bash");
        cmd.args([
            "--noprofile",
            "--norc",
            "-c",
            "set -e; mfaenv \"$@\" > \"$OUT\"",
            "bash",
        ])
        .args(&args)
        .env("OUT", &out);
        run_in_pty(cmd, bed, quiet).map_err(|e| format!("mfaenv {args:?}: {e}"))?;
        let printed = std::fs::read_to_string(&out).unwrap_or_default();
        let parsed = support::pwsh::parse(&printed);
        // The grammar lacks `.Where{…}`/`.ForEach{…}` (a method called with a
        // script block and no parentheses, PowerShell 4+), which clap's
        // completion script uses.
        let real_errors: Vec<_> = parsed
            .errors
            .iter()
            .filter(|e| !(e.kind == "ERROR" && ["Where", "ForEach"].contains(&e.text.as_str())))
            .collect();
        if printed.trim().is_empty() || !real_errors.is_empty() {
            return Err(format!(
                "what `mfaenv {}` prints is no PowerShell: {:?}\n{printed}",
                args.join(" "),
                parsed.errors
            ));
        }
    }
    Ok(())
}

/// The arguments of each `mfaenv` a PowerShell line runs (plain words up to
/// a `|` or `)`).
fn mfaenv_calls(code: &str) -> Vec<Vec<String>> {
    let mut calls = Vec::new();
    for line in code.lines() {
        let mut words = line.split_whitespace().peekable();
        while let Some(word) = words.next() {
            if word == "mfaenv" {
                let mut args = Vec::new();
                while let Some(next) = words.peek() {
                    if next.starts_with('|') || next.starts_with(')') {
                        break;
                    }
                    args.push(next.trim_end_matches(')').to_string());
                    words.next();
                }
                calls.push(args);
            }
        }
    }
    calls
}

/// The notice a `# mfaenv: …` comment promises, up to its variable part.
fn notice_of(comment: &str) -> Option<String> {
    if !comment.starts_with("mfaenv: ") {
        return None;
    }
    let mut end = comment.len();
    for stop in ["(", "…", " — "] {
        if let Some(i) = comment.find(stop) {
            end = end.min(i);
        }
    }
    if let Some(i) = comment.find(|c: char| c.is_ascii_digit()) {
        end = end.min(i);
    }
    Some(comment[..end].trim_end().to_string())
}

/// Types the block into an interactive shell with the hook installed.
fn run_typed(bed: &Bed, shell: Sh, kind: &Kind, text: &str, quiet: Duration) -> Result<(), String> {
    let real = match shell {
        Sh::Bash => support::shells::RealShell::Bash,
        Sh::Zsh => support::shells::RealShell::Zsh,
        Sh::Fish => support::shells::RealShell::Fish,
        other => return Err(format!("no interactive {other:?}")),
    };
    if real.require().is_none() {
        return Ok(());
    }
    if kind.allowed {
        let out = bed
            .command(support::mfaenv_bin())
            .args(["allow", "src/infra-prod"])
            .output()
            .expect("mfaenv allow");
        if !out.status.success() {
            return Err(format!("mfaenv allow: {}", support::stderr_of(&out)));
        }
    }
    let env: Vec<(&str, &str)> = bed
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let rc = if kind.hook {
        real.hook_rc(Path::new("mfaenv"))
    } else {
        String::new()
    };
    let mut session = support::shells::interactive(real, &bed.sb, &rc, &env);
    let result = type_lines(&mut session, bed, real, text, quiet);
    // An interactive shell ignores SIGTERM, which is all rexpect sends.
    let _ = session.process.kill(rexpect::process::Signal::SIGKILL);
    result
}

/// Types each line of `text`, checking its status and its notices.
fn type_lines(
    session: &mut rexpect::session::PtySession,
    bed: &Bed,
    real: support::shells::RealShell,
    text: &str,
    quiet: Duration,
) -> Result<(), String> {
    let prompt = regex_quote(support::shells::PROMPT);
    // (output of the line, notices it must show)
    let mut last: Option<(String, String)> = None;
    let check = |last: &Option<(String, String)>, notice: &str| -> Result<(), String> {
        let (line, out) = last
            .as_ref()
            .ok_or(format!("`# {notice}` follows no command"))?;
        // `~/` in the docs is the HOME mfaenv prints in full.
        let home = format!("{}/", bed.home().display());
        if out.contains(&notice.replace("~/", &home)) {
            Ok(())
        } else {
            Err(format!("`{line}` did not print `{notice}`:\n{out}"))
        }
    };
    for line in text.lines() {
        let (code, comment) = if line.trim_start().starts_with('#') {
            ("", Some(line.trim_start()[1..].trim()))
        } else {
            split_comment(line)
        };
        let notice = comment.and_then(notice_of);
        // An indented notice alone stands for the next prompt: Enter.
        if line.starts_with('#') {
            // A comment line: a notice of the line before, or prose.
            if let Some(notice) = notice {
                check(&last, &notice)?;
            }
            continue;
        }
        // A command (its status echoed on the same line, so that no extra
        // prompt runs the hook), or Enter alone (a notice at the next prompt).
        let typed = if code.trim().is_empty() {
            String::new()
        } else {
            format!("{code}; {}", real.status_line())
        };
        session
            .send(&format!("{typed}\r"))
            .and_then(|_| session.flush())
            .map_err(|e| e.to_string())?;
        // The status first (fish draws its prompt again while a line is
        // read, so a prompt alone does not mark the end), then the prompt,
        // before which the hook speaks.
        let mut out = String::new();
        if !typed.is_empty() {
            out = drive(session, bed, Some(r"st=[0-9]+"), quiet)?;
            if !status_zero(&out) {
                return Err(format!("`{code}` failed:\n{out}"));
            }
        }
        out.push_str(&drive(session, bed, Some(&prompt), quiet)?);
        if std::env::var_os("MFAENV_DOCS_VERBOSE").is_some() {
            eprintln!("{out}");
        }
        last = Some((code.to_string(), out));
        if let Some(notice) = notice {
            check(&last, &notice)?;
        }
    }
    Ok(())
}

/// Whether the `st=N` a typed line echoed (not its echo, `st=$?`) is 0.
fn status_zero(out: &str) -> bool {
    out.match_indices("st=")
        .map(|(i, _)| &out[i + 3..])
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .filter(|digits| !digits.is_empty())
        .last()
        == Some("0")
}

fn regex_quote(text: &str) -> String {
    text.chars()
        .map(|c| {
            if "\\.+*?()|[]{}^$#&-~".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A command run as cron or systemd would: `sh -c`, no terminal, stdin
/// closed, in the bed's environment; Ok when it exits 0.
fn run_detached(bed: &Bed, command: &str) -> Result<(), String> {
    let mut cmd = bed.sb.command("sh");
    cmd.env_clear()
        .envs(bed.env.iter().map(|(k, v)| (k, v)))
        .args(["-c", command]);
    let (status, out, err) = support::moto::run_with_timeout(cmd, Duration::from_secs(60));
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{command}`: {status}\n{out}{err}"))
    }
}

/// Crontab lines: five schedule fields, then the command.
fn run_cron(bed: &Bed, text: &str) -> Result<(), String> {
    let mut ran = 0;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (schedule, command) = split_cron(line).ok_or(format!("not a crontab line: {line}"))?;
        let field = |f: &&str| f.chars().all(|c| c.is_ascii_digit() || "*/,-".contains(c));
        if !schedule.iter().all(field) || command.is_empty() {
            return Err(format!("not a crontab line: {line}"));
        }
        run_detached(bed, command)?;
        ran += 1;
    }
    if ran == 0 {
        return Err("no crontab line".into());
    }
    Ok(())
}

fn split_cron(line: &str) -> Option<(Vec<&str>, &str)> {
    let mut rest = line;
    let mut schedule = Vec::new();
    for _ in 0..5 {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        schedule.push(&rest[..end]);
        rest = &rest[end..];
    }
    Some((schedule, rest.trim()))
}

/// systemd user units: written where their comments say, verified with
/// `systemd-analyze --user verify`, and the service's ExecStart run.
fn run_units(bed: &Bed, text: &str) -> Result<(), String> {
    let mut units: Vec<(PathBuf, String)> = Vec::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("# ~/") {
            units.push((bed.home().join(path.trim()), String::new()));
        } else if let Some((_, body)) = units.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    if units.is_empty() {
        return Err("no `# ~/.config/systemd/user/NAME` unit in the block".into());
    }
    let mut exec = Vec::new();
    for (path, body) in &units {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir units");
        std::fs::write(path, body).expect("write unit");
        exec.extend(
            body.lines()
                .filter_map(|l| l.strip_prefix("ExecStart="))
                .map(str::to_string),
        );
    }
    // Missing: a failure, or under MFAENV_TEST_ALLOW_SKIP only the check
    // is skipped.
    if let Some(analyze) = support::require_program("systemd-analyze") {
        verify_units(bed, &analyze, &units)?;
    }
    if exec.is_empty() {
        return Err("no ExecStart".into());
    }
    for command in exec {
        run_detached(
            bed,
            &command.replace("%h", &bed.home().display().to_string()),
        )?;
    }
    Ok(())
}

/// `systemd-analyze --user verify` of the unit files: works without a
/// running systemd (a container), as long as XDG_RUNTIME_DIR exists.
fn verify_units(bed: &Bed, analyze: &Path, units: &[(PathBuf, String)]) -> Result<(), String> {
    let mut cmd = bed.sb.command(analyze);
    cmd.env_clear()
        .envs(bed.env.iter().map(|(k, v)| (k, v)))
        .env("XDG_RUNTIME_DIR", bed.home().join(".run"))
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .args(["--user", "--man=no", "verify"])
        .args(units.iter().map(|(p, _)| p));
    std::fs::create_dir_all(bed.home().join(".run")).expect("mkdir run");
    let (status, out, err) = support::moto::run_with_timeout(cmd, Duration::from_secs(60));
    if !status.success() || !err.trim().is_empty() {
        return Err(format!("systemd-analyze verify: {status}\n{out}{err}"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn every_runnable_example_in_the_docs_runs() {
    let only = std::env::var("MFAENV_DOCS_BLOCK").ok();
    let all = blocks();
    assert!(
        !all.is_empty(),
        "no ```sh test blocks found in README.md or docs/"
    );
    let Some(world) = World::start() else {
        return;
    };
    let mut failures = Vec::new();
    let mut ran = 0;
    for block in &all {
        let name = block.name();
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        ran += 1;
        let start = std::time::Instant::now();
        if let Err(why) = run_block(&world, block, QUIET) {
            failures.push(format!(
                "{name} ({}):\n{}\n{why}",
                block.info.join(" "),
                block.text
            ));
        }
        eprintln!("{name}: {:.1?}", start.elapsed());
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
        "text\n```sh\nnot run\n```\n```sh test\necho one\n```\n```ini\n[profile x]\n```\n```fish test hook\necho two\n```\n",
    )
    .unwrap();
    let found = blocks_of(&doc);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].text, "echo one\n");
    assert_eq!(found[0].line, 5);
    assert_eq!(found[1].text, "echo two\n");
    assert_eq!(found[1].info, ["fish", "test", "hook"]);
}

#[test]
fn the_info_string_is_strict_and_comments_pick_shells() {
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert!(kind_of(&words("sh test iam")).unwrap().iam);
    assert!(kind_of(&words("sh test iamm")).is_err());
    assert!(kind_of(&words("sh test with=nosuch")).is_err());
    assert!(kind_of(&words("ini test")).is_err());
    assert!(kind_of(&words("hcl test")).is_err());
    let env = kind_of(&words("sh test hook MFAENV_REFRESH_BEFORE=61m"))
        .unwrap()
        .env;
    assert_eq!(
        env,
        [("MFAENV_REFRESH_BEFORE".to_string(), "61m".to_string())]
    );
    let segments = segments_by_comment(
        "eval \"$(mfaenv hook bash)\"   # ~/.bashrc\n# fish\nmfaenv hook fish | source\n# PowerShell: add to $PROFILE\nX | Invoke-Expression\necho 'a # b'  # docker compose\n",
    );
    let shells: Vec<Sh> = segments.iter().map(|s| s.0).collect();
    assert_eq!(shells, [Sh::Bash, Sh::Fish, Sh::Pwsh]);
    assert_eq!(
        split_comment("echo 'a # b'  # c"),
        ("echo 'a # b'", Some("c"))
    );
    assert_eq!(
        notice_of("mfaenv: loaded prod (59m left)").as_deref(),
        Some("mfaenv: loaded prod")
    );
    assert_eq!(
        notice_of("mfaenv: unloaded prod — keys gone").as_deref(),
        Some("mfaenv: unloaded prod")
    );
    assert_eq!(notice_of("holds .mfaenv"), None);
    assert_eq!(
        mfaenv_calls("Invoke-Expression (& mfaenv hook pwsh | Out-String)"),
        [["hook", "pwsh"]]
    );
    assert_eq!(
        split_cron("0 9 * * 1  $HOME/x --all >>y 2>&1"),
        Some((vec!["0", "9", "*", "*", "1"], "$HOME/x --all >>y 2>&1"))
    );
}

/// Every kind of block can fail: a wrong profile, a wrong flag, a failing
/// command, a prompt nobody answers, a notice that does not come, PowerShell
/// that does not parse.
#[test]
fn a_wrong_example_of_each_kind_fails() {
    let Some(world) = World::start() else {
        return;
    };
    // (info string, block, what the failure must say)
    let wrong = [
        (
            "sh test",
            "mfaenv exec nosuch -- true\n",
            "profile `nosuch` not found",
        ),
        (
            "sh test",
            "mfaenv exec --typo prod -- true\n",
            "unexpected argument '--typo'",
        ),
        (
            "sh test",
            "eval \"$(mfaenv nosuch)\"\necho never\n",
            "profile `nosuch` not found",
        ),
        (
            "sh test",
            "mfaenv exec prod -- false\n",
            "Exited(",
        ),
        (
            "sh test",
            "false | cat\n",
            "Exited(",
        ),
        (
            "sh test",
            "read -r -p 'Favourite colour? ' x\n",
            "last line: \"Favourite colour?\"",
        ),
        (
            "sh test zsh",
            "mfaenv export --shell zsh nosuch\n",
            "profile `nosuch` not found",
        ),
        (
            "fish test",
            "mfaenv export --shell fish nosuch | source\necho after\n",
            "profile `nosuch` not found",
        ),
        (
            "sh test shells",
            "# fish\nmfaenv hook fishy | source\n",
            "invalid value 'fishy'",
        ),
        (
            "sh test shells",
            "Invoke-Expression (& mfaenv hook pwsh | Out-String  # PowerShell\n",
            "PowerShell does not parse",
        ),
        (
            "sh test shells",
            "mfaenv completions nosuch | Out-String | Invoke-Expression  # PowerShell\n",
            "invalid value 'nosuch'",
        ),
        (
            "sh test shells",
            "# elvish\neval (mfaenv completions elvishh | slurp)\n",
            "invalid value 'elvishh'",
        ),
        (
            "sh test hook",
            "cd ~/src/infra-prod        # mfaenv: loaded staging (59m left)\n",
            "did not print `mfaenv: loaded staging`",
        ),
        (
            "sh test hook allowed",
            "cd ~/src/infra-prod\nmfaenv exec nosuch -- true\n",
            "profile `nosuch` not found",
        ),
        (
            "sh test hook",
            "cd ~/src/nowhere\n",
            "`cd ~/src/nowhere` failed",
        ),
        (
            "sh test shells interactive",
            "# zsh\nsetopt no_such_option\n",
            "no such option",
        ),
        (
            "sh test shells interactive",
            "# bash\nPS1='$(mfaenv status --shortt)'; mfaenv status --shortt\n",
            "unexpected argument '--shortt'",
        ),
        (
            "sh test iam",
            "mfaenv setup prod --serial arn:aws:iam::123456789012:mfa/nobody\n",
            "is not an MFA device of IAM user alice",
        ),
        (
            "sh test store",
            "mfaenv import nosuch\n",
            "profile `nosuch` has no long-term keys",
        ),
        (
            "sh test sso",
            "mfaenv login nosuch\n",
            "profile `nosuch` not found",
        ),
        (
            "sh test sso",
            "mfaenv sso populate nosuch\n",
            "no [sso-session nosuch]",
        ),
        (
            "sh test login",
            "eval \"$(mfaenv web-nosuch)\"\n",
            "profile `web-nosuch` not found",
        ),
        (
            "sh test console",
            "mfaenv console prod --service nosuch\n",
            "--service `nosuch` is not a service",
        ),
        (
            "sh test iam cron",
            "0 9 * * 1  $HOME/.cargo/bin/mfaenv rotate --typo\n",
            "unexpected argument '--typo'",
        ),
        (
            "sh test iam cron",
            "0 9 * *  $HOME/.cargo/bin/mfaenv rotate --all\n",
            "not a crontab line",
        ),
        (
            "ini test systemd",
            "# ~/.config/systemd/user/x.service\n[Service]\nType=oneshot\nExecStart=%h/.cargo/bin/mfaenv rotate --typo\n",
            "unexpected argument '--typo'",
        ),
        (
            "ini test systemd",
            "# ~/.config/systemd/user/x.service\n[Service]\nType=oneshott\nExecStart=%h/.cargo/bin/mfaenv keys\n",
            "Failed to parse service type",
        ),
    ];
    let mut passed = Vec::new();
    for (info, text, expect) in wrong {
        let block = Block {
            file: PathBuf::from("wrong.md"),
            line: 1,
            info: info.split_whitespace().map(str::to_string).collect(),
            text: text.to_string(),
        };
        match run_block(&world, &block, Duration::from_secs(5)) {
            Ok(()) => passed.push(format!("({info}) {text}")),
            Err(why) => assert!(
                why.contains(expect),
                "({info}) {text} failed, but not with {expect:?}:\n{why}"
            ),
        }
    }
    assert!(
        passed.is_empty(),
        "these wrong examples passed:\n{}",
        passed.join("")
    );
}

/// Shell blocks that no test runs, each with the reason, by file and first
/// line. Everything else in a shell language is run: here (`test`), by
/// tests/package.rs (`install`: docs/install.md's install lines), or is a
/// line of `.ci/run` (`ci`).
const NOT_RUN: [(&str, &str, &str); 8] = [
    (
        "docs/benchmarks.md",
        "scripts/bench",
        "minutes of measurements on a quiet machine: SPEC has speed checked by scripts/bench, not by tests",
    ),
    (
        "docs/development.md",
        "scripts/try",
        "tests/scripts.rs runs scripts/try --keep and uses what it printed from another shell",
    ),
    (
        "docs/development.md",
        "scripts/try --keep",
        "tests/scripts.rs runs it and the printed lines; the /tmp names are random",
    ),
    (
        "docs/development.md",
        "cargo install --locked cargo-mutants",
        "a developer tool and a CPU-heavy run, not in CI",
    ),
    (
        "docs/install.md",
        "scripts/package --no-build",
        "tests/package.rs takes the packages scripts/package built (MFAENV_TEST_DIST), as CI does",
    ),
    (
        "docs/install.md",
        "scripts/package --no-build && MFAENV_TEST_DIST=target/dist scripts/test --test package",
        "how to run tests/package.rs itself; .ci/run does the same with scripts/package",
    ),
    (
        "docs/install.md",
        "sudo rpm -i target/dist/mfaenv-*.rpm",
        "no rpm-based system here: tests/package.rs compares the .rpm's files with the .deb's",
    ),
    (
        "docs/rotation.md",
        "systemctl --user daemon-reload && systemctl --user enable --now mfaenv-rotate.timer",
        "needs a systemd user manager, which a container lacks: the units themselves are verified and their ExecStart runs (the `systemd` block above)",
    ),
];

/// The command part of each line of a block: no comments, no blank lines.
fn commands_of(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_shell_block_of_the_docs_is_run_or_says_why_not() {
    let root = support::root();
    let ci: Vec<String> = std::fs::read_to_string(root.join(".ci/run"))
        .unwrap()
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("exec ")
                .replace("\"$root/", "")
                .replace('"', "")
        })
        .collect();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.push(root.join("README.md"));
    let mut unexplained = Vec::new();
    let mut explained = std::collections::BTreeSet::new();
    for block in docs.iter().flat_map(|f| all_blocks(f)) {
        let lang = block.info.first().map(String::as_str).unwrap_or_default();
        let shell_language = matches!(
            lang,
            "sh" | "bash" | "zsh" | "fish" | "elvish" | "powershell" | "pwsh" | "console"
        );
        let words = &block.info[1.min(block.info.len())..];
        if !shell_language || words.iter().any(|w| w == "test" || w == "install") {
            continue;
        }
        let file = block
            .file
            .strip_prefix(&root)
            .unwrap()
            .display()
            .to_string();
        let commands = commands_of(&block.text);
        if words.iter().any(|w| w == "ci") {
            for command in &commands {
                assert!(
                    ci.contains(command),
                    "{}: `{command}` is marked `ci` but .ci/run does not run it",
                    block.name()
                );
            }
            continue;
        }
        let first = commands.first().cloned().unwrap_or_default();
        match NOT_RUN
            .iter()
            .find(|(f, line, _)| *f == file && first == *line)
        {
            Some(entry) => {
                explained.insert(*entry);
            }
            None => unexplained.push(format!("{}: {first}", block.name())),
        }
    }
    assert!(
        unexplained.is_empty(),
        "shell blocks no test runs (mark them `test`, or add them to NOT_RUN with the reason):\n{}",
        unexplained.join("\n")
    );
    let stale: Vec<_> = NOT_RUN.iter().filter(|e| !explained.contains(*e)).collect();
    assert!(
        stale.is_empty(),
        "NOT_RUN names blocks that are gone: {stale:?}"
    );
}
