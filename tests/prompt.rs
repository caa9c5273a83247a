//! Every way mfaenv asks a person (src/prompt): the terminal prompts in real
//! bash, zsh and fish through a pseudo-terminal that sends `\r` for Enter as
//! a terminal does (the hook's MFA prompt, `eval "$(mfaenv prod)"`, the key
//! store's passphrase, `setup`'s choice), the terminal's mode restored
//! exactly (also after Ctrl-C); codes typed with spaces; and the prompt
//! drivers: real pinentry-tty in a pseudo-terminal, real zenity and
//! pinentry-gtk-2 under Xvfb answered with xdotool, and stand-ins that
//! answer, cancel, hang, print garbage, or count how often they were shown.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rexpect::session::PtySession;
use support::fake_sts::{FakeSts, Reply};
use support::sandbox::{Sandbox, CONFIG, CREDENTIALS};
use support::shells::{interactive, type_line, RealShell, PROMPT};

const SERIAL: &str = "arn:aws:iam::111111111111:mfa/alice";

/// Types `text` and Enter as a terminal sends it: a carriage return.
fn enter(s: &mut PtySession, text: &str) {
    s.send(&format!("{text}\r")).unwrap();
    s.flush().unwrap();
}

/// The terminal's mode as `stty -g` prints it, from inside the shell.
fn mode(s: &mut PtySession, sh: RealShell) -> String {
    let line = match sh {
        RealShell::Fish => "echo MODE=(stty -g)",
        _ => "echo MODE=$(stty -g)",
    };
    s.send(&format!("{line}\r")).unwrap();
    s.flush().unwrap();
    let (_, found) = s.exp_regex(r"MODE=[0-9a-f]+:[0-9a-f:]+").unwrap();
    s.exp_string(PROMPT).unwrap();
    found
}

/// What `stty -a` says about echo and canonical input, from inside the shell.
fn stty_flags(s: &mut PtySession) -> (bool, bool, String) {
    let out = type_line(s, "stty -a");
    let words: Vec<&str> = out.split_whitespace().collect();
    (
        words.contains(&"echo"),
        words.contains(&"icanon"),
        out.clone(),
    )
}

/// The value the shell has for `name` (`none` when unset).
fn var(s: &mut PtySession, name: &str) -> String {
    s.send(&format!("echo \"VAL=${{{name}:-none}}\"\r"))
        .unwrap();
    s.flush().unwrap();
    let (_, found) = s.exp_regex(r"VAL=[^\s$]+").unwrap();
    s.exp_string(PROMPT).unwrap();
    found.trim_start_matches("VAL=").to_string()
}

/// A fish-proof `var`: fish has no `${X:-y}`.
fn var_in(s: &mut PtySession, sh: RealShell, name: &str) -> String {
    if sh != RealShell::Fish {
        return var(s, name);
    }
    s.send(&format!(
        "echo VAL=(set -q {name}; and echo ${name}; or echo none)\r"
    ))
    .unwrap();
    s.flush().unwrap();
    let (_, found) = s.exp_regex(r"VAL=[^\s$(]+").unwrap();
    s.exp_string(PROMPT).unwrap();
    found.trim_start_matches("VAL=").to_string()
}

/// An interactive shell with the hook, on a terminal that echoes as a
/// user's does (rexpect's pseudo-terminal starts without echo).
fn shell_with_hook(sb: &Sandbox, sh: RealShell) -> Option<PtySession> {
    sh.require()?;
    let rc = format!("stty echo\n{}", sh.hook_rc(&support::mfaenv_bin()));
    Some(interactive(sh, sb, &rc, &[]))
}

/// The hook's prompt after `mfaenv allow` with nothing cached, then
/// `eval "$(mfaenv staging)"`: both answered with `123 456` and a CR; the
/// keys load, the code reached STS without its space, and the terminal's
/// mode is exactly what it was before.
fn terminal_prompts_end_on_enter(sh: RealShell) {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    std::fs::create_dir_all(sb.home().join("proj")).unwrap();
    std::fs::write(sb.home().join("proj/.mfaenv"), "profile = \"prod\"\n").unwrap();
    let Some(mut s) = shell_with_hook(&sb, sh) else {
        return;
    };
    let before = mode(&mut s, sh);
    enter(&mut s, "cd proj");
    s.exp_string("is not allowed yet").unwrap();
    s.exp_string(PROMPT).unwrap();
    enter(&mut s, "mfaenv allow");
    s.exp_string(&format!("MFA code for {SERIAL}: "))
        .unwrap_or_else(|e| panic!("{sh:?}: no prompt: {e}"));
    enter(&mut s, "123 456");
    s.exp_string("loaded prod")
        .unwrap_or_else(|e| panic!("{sh:?}: Enter did not end the code: {e}"));
    s.exp_string(PROMPT).unwrap();
    assert!(var_in(&mut s, sh, "AWS_ACCESS_KEY_ID").starts_with("ASIA"));
    assert_eq!(mode(&mut s, sh), before, "{sh:?}: the mode changed");
    let codes: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.param("TokenCode").map(str::to_string))
        .collect();
    assert_eq!(codes, ["123456"], "{sh:?}");

    // `eval "$(mfaenv staging)"` (fish: `| source`) outside the project.
    enter(&mut s, "cd ..");
    s.exp_string(PROMPT).unwrap();
    enter(&mut s, "mfaenv forget --all");
    s.exp_string(PROMPT).unwrap();
    let line = match sh {
        RealShell::Fish => "mfaenv staging | source",
        _ => "eval \"$(mfaenv staging)\"",
    };
    enter(&mut s, line);
    s.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    enter(&mut s, "654321");
    s.exp_string(PROMPT).unwrap();
    assert!(var_in(&mut s, sh, "AWS_ACCESS_KEY_ID").starts_with("ASIA"));
    assert_eq!(var_in(&mut s, sh, "AWS_REGION"), "eu-west-1", "{sh:?}");
    assert_eq!(mode(&mut s, sh), before, "{sh:?}: the mode changed");
    enter(&mut s, "exit");
}

#[test]
fn bash_terminal_prompts_end_on_enter() {
    terminal_prompts_end_on_enter(RealShell::Bash);
}

#[test]
fn zsh_terminal_prompts_end_on_enter() {
    terminal_prompts_end_on_enter(RealShell::Zsh);
}

#[test]
fn fish_terminal_prompts_end_on_enter() {
    terminal_prompts_end_on_enter(RealShell::Fish);
}

/// The pid of the `mfaenv` the shell `s` runs now.
fn mfaenv_child(s: &PtySession) -> i32 {
    let shell = s.process.child_pid.as_raw();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default();
        for pid in children.split_whitespace() {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "mfaenv" {
                return pid.parse().unwrap();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no mfaenv under the shell");
}

/// SIGTERM at the hook's prompt, SIGHUP at `mfaenv login`'s: each time
/// the terminal gets exactly its mode back, and the shell goes on.
fn signals_at_the_code_prompt(sh: RealShell) {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    std::fs::create_dir_all(sb.home().join("proj")).unwrap();
    std::fs::write(sb.home().join("proj/.mfaenv"), "profile = \"prod\"\n").unwrap();
    let Some(mut s) = shell_with_hook(&sb, sh) else {
        return;
    };
    let before = mode(&mut s, sh);
    enter(&mut s, "cd proj");
    s.exp_string("is not allowed yet").unwrap();
    s.exp_string(PROMPT).unwrap();
    enter(&mut s, "mfaenv allow");
    s.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    // SAFETY: a signal to the mfaenv this test started.
    unsafe { libc::kill(mfaenv_child(&s), libc::SIGTERM) };
    s.exp_string(PROMPT).unwrap();
    assert_eq!(mode(&mut s, sh), before, "{sh:?}: after SIGTERM");
    // Outside the project, where the hook asks nothing.
    enter(&mut s, "cd ..");
    s.exp_string(PROMPT).unwrap();
    enter(&mut s, "mfaenv login prod");
    s.exp_string(&format!("MFA code for {SERIAL}: ")).unwrap();
    // SAFETY: as above.
    unsafe { libc::kill(mfaenv_child(&s), libc::SIGHUP) };
    s.exp_string(PROMPT).unwrap();
    assert_eq!(mode(&mut s, sh), before, "{sh:?}: after SIGHUP");
    let (echo, icanon, out) = stty_flags(&mut s);
    assert!(echo && icanon, "{sh:?}: {out}");
    assert!(fake.requests().is_empty());
    enter(&mut s, "exit");
}

#[test]
fn bash_signals_at_the_code_prompt_restore_the_mode() {
    signals_at_the_code_prompt(RealShell::Bash);
}

#[test]
fn zsh_signals_at_the_code_prompt_restore_the_mode() {
    signals_at_the_code_prompt(RealShell::Zsh);
}

#[test]
fn fish_signals_at_the_code_prompt_restore_the_mode() {
    signals_at_the_code_prompt(RealShell::Fish);
}

const KEY_ID: &str = "AKIAPROMPTTEST000001";
const KEY_SECRET: &str = "prompt/SECRET+kept-out";

/// `env KEYS… mfaenv add --env --backend file NAME`, typed in the shell.
fn add_line(name: &str) -> String {
    format!(
        "env AWS_ACCESS_KEY_ID={KEY_ID} AWS_SECRET_ACCESS_KEY={KEY_SECRET} '{}' add --env --backend file {name}",
        support::mfaenv_bin().display()
    )
}

/// The key store's passphrase typed twice with a CR (not echoed), then
/// Ctrl-C at the next passphrase prompt: echo is on again afterwards, and
/// the mode is exactly the one before.
fn passphrase_prompt_and_ctrl_c(sh: RealShell) {
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, "");
    let Some(mut s) = shell_with_hook(&sb, sh) else {
        return;
    };
    let before = mode(&mut s, sh);
    let (echo, _, out) = stty_flags(&mut s);
    assert!(echo, "{sh:?}: the terminal echoes to begin with: {out}");
    enter(&mut s, &add_line("base"));
    s.exp_string("New passphrase for").unwrap();
    enter(&mut s, "pass phrase");
    s.exp_string("The same passphrase again: ").unwrap();
    enter(&mut s, "pass phrase");
    let seen = s.exp_string(PROMPT).unwrap();
    assert!(seen.contains("profile `base`"), "{sh:?}: {seen}");
    assert!(!seen.contains("pass phrase"), "{sh:?}: echoed: {seen}");
    assert_eq!(mode(&mut s, sh), before, "{sh:?}");

    enter(&mut s, &add_line("other"));
    s.exp_string("Passphrase for").unwrap();
    s.send_control('c').unwrap();
    s.exp_string(PROMPT).unwrap();
    let (echo, icanon, out) = stty_flags(&mut s);
    assert!(
        echo && icanon,
        "{sh:?}: echo {echo}, icanon {icanon} after Ctrl-C: {out}"
    );
    assert_eq!(mode(&mut s, sh), before, "{sh:?}: the mode changed");
    enter(&mut s, "exit");
}

#[test]
fn bash_passphrase_prompt_and_ctrl_c_leave_echo_on() {
    passphrase_prompt_and_ctrl_c(RealShell::Bash);
}

#[test]
fn zsh_passphrase_prompt_and_ctrl_c_leave_echo_on() {
    passphrase_prompt_and_ctrl_c(RealShell::Zsh);
}

#[test]
fn fish_passphrase_prompt_and_ctrl_c_leave_echo_on() {
    passphrase_prompt_and_ctrl_c(RealShell::Fish);
}

/// An IAM user with two MFA devices, for `setup`'s question.
fn two_devices() -> (FakeSts, Sandbox) {
    let fake = FakeSts::start();
    fake.on(
        "GetCallerIdentity",
        vec![Reply::caller_identity(
            "arn:aws:iam::111111111111:user/alice",
            "111111111111",
            "AIDAALICE",
        )],
    );
    let member = |name: &str| {
        format!("<member><UserName>alice</UserName><SerialNumber>arn:aws:iam::111111111111:mfa/{name}</SerialNumber><EnableDate>2025-01-01T00:00:00Z</EnableDate></member>")
    };
    fake.on(
        "ListMFADevices",
        vec![Reply::Xml(
            200,
            format!(
                "<ListMFADevicesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListMFADevicesResult><MFADevices>{}{}</MFADevices><IsTruncated>false</IsTruncated></ListMFADevicesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListMFADevicesResponse>",
                member("phone"),
                member("yubikey")
            ),
        )],
    );
    let config = format!("{CONFIG}\n[profile fresh]\nregion = us-east-1\n");
    let credentials = format!(
        "{CREDENTIALS}[fresh]\naws_access_key_id = AKIAFRESH00000000001\naws_secret_access_key = fresh-secret\n"
    );
    let sb = Sandbox::with(&fake.endpoint(), &config, &credentials);
    (fake, sb)
}

fn setup_choice(sh: RealShell) {
    let (_fake, sb) = two_devices();
    let Some(mut s) = shell_with_hook(&sb, sh) else {
        return;
    };
    let before = mode(&mut s, sh);
    enter(&mut s, "mfaenv setup fresh");
    s.exp_string("[1-2]: ").unwrap();
    enter(&mut s, "2");
    s.exp_string("recorded mfa_serial").unwrap();
    s.exp_string(PROMPT).unwrap();
    let config = std::fs::read_to_string(sb.config()).unwrap();
    assert!(
        config.contains("mfa_serial = arn:aws:iam::111111111111:mfa/yubikey"),
        "{sh:?}: {config}"
    );
    assert_eq!(mode(&mut s, sh), before, "{sh:?}");
    enter(&mut s, "exit");
}

#[test]
fn bash_setup_choice_ends_on_enter() {
    setup_choice(RealShell::Bash);
}

#[test]
fn zsh_setup_choice_ends_on_enter() {
    setup_choice(RealShell::Zsh);
}

#[test]
fn fish_setup_choice_ends_on_enter() {
    setup_choice(RealShell::Fish);
}

// ---------------------------------------------------------------------------
// Drivers, with stand-ins on PATH
// ---------------------------------------------------------------------------

/// A directory of stand-in programs, first on PATH, with a log directory.
struct Fakes {
    bin: PathBuf,
    log: PathBuf,
}

impl Fakes {
    fn new(sb: &Sandbox) -> Fakes {
        let bin = sb.home().join("fakebin");
        let log = sb.home().join("fakelog");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&log).unwrap();
        Fakes { bin, log }
    }

    fn path(&self) -> String {
        format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn script(&self, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let file = self.bin.join(name);
        std::fs::write(&file, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A pinentry that logs its input, its environment and each start, and
    /// answers GETPIN with `getpin` (shell code).
    fn pinentry(&self, name: &str, getpin: &str) {
        let log = self.log.display();
        self.script(
            name,
            &format!(
                r#"echo start >> "{log}/starts"
env > "{log}/env.$$"
echo "OK Pleased to meet you"
while IFS= read -r line; do
  printf '%s\n' "$line" >> "{log}/commands"
  case "$line" in
    GETPIN*) {getpin} ;;
    BYE*) echo "OK closing connection"; exit 0 ;;
    *) echo OK ;;
  esac
done
"#
            ),
        );
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.log.join(name)).unwrap_or_default()
    }

    fn starts(&self) -> usize {
        self.read("starts").lines().count()
    }

    /// Every environment a stand-in saw.
    fn envs(&self) -> String {
        let mut all = String::new();
        for entry in std::fs::read_dir(&self.log).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("env."))
            {
                all += &std::fs::read_to_string(path).unwrap();
            }
        }
        all
    }
}

/// Secrets in mfaenv's own environment that no prompt program may see.
const SECRETS: &[(&str, &str)] = &[
    ("AWS_SECRET_ACCESS_KEY", "env-secret-never-shown"),
    ("AWS_SESSION_TOKEN", "env-token-never-shown"),
    ("AWS_SECURITY_TOKEN", "env-token-never-shown"),
    ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-auth-never-shown"),
    ("MFAENV_FILE_PASSPHRASE", "env-pass-never-shown"),
    ("MFAENV_BACKEND", "file"),
];

/// `mfaenv ARGS` with no terminal, the stand-ins first on PATH.
fn no_tty(sb: &Sandbox, fakes: &Fakes, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = sb.mfaenv(args);
    cmd.env("PATH", fakes.path()).envs(env.iter().copied());
    cmd
}

#[test]
fn a_pinentry_is_spoken_to_in_assuan_and_gets_no_secret() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let fakes = Fakes::new(&sb);
    fakes.pinentry("pinentry-fake", r#"echo "D 123%20456"; echo OK"#);
    let out = no_tty(
        &sb,
        &fakes,
        &["credential-process", "--prompt", "pinentry-fake", "prod"],
        SECRETS,
    )
    .output()
    .unwrap();
    let err = support::stderr_of(&out);
    assert!(out.status.success(), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let commands = fakes.read("commands");
    assert!(
        commands.contains("SETDESC Enter the MFA code for AWS profile `prod`%0A(device arn:aws:iam::111111111111:mfa/alice)"),
        "{commands}"
    );
    assert!(commands.contains("SETPROMPT MFA code:"), "{commands}");
    assert!(commands.contains("GETPIN"), "{commands}");
    assert!(commands.contains("BYE"), "{commands}");
    let envs = fakes.envs();
    assert!(
        envs.contains("PATH="),
        "the stand-in's environment was logged"
    );
    for (name, value) in SECRETS {
        assert!(!envs.contains(value), "{name} reached the pinentry: {envs}");
    }
    let codes: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.param("TokenCode").map(str::to_string))
        .collect();
    assert_eq!(codes, ["123456"]);
    // MFAENV_PROMPT chooses it too; the cache answers the second time.
    sb.ok(&["forget", "--all"]);
    let out = no_tty(
        &sb,
        &fakes,
        &["credential-process", "staging"],
        &[("MFAENV_PROMPT", "pinentry-fake")],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    assert_eq!(fakes.starts(), 2);
}

#[test]
fn a_cancelled_dialog_is_cancelled_and_caches_nothing() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let fakes = Fakes::new(&sb);
    fakes.pinentry(
        "pinentry-fake",
        r#"echo "ERR 83886179 Operation cancelled <Pinentry>""#,
    );
    fakes.script("zenity", "exit 1\n");
    for env in [
        [("MFAENV_PROMPT", "pinentry-fake"), ("DISPLAY", ":0")],
        [("MFAENV_PROMPT", "zenity"), ("DISPLAY", ":0")],
    ] {
        let started = Instant::now();
        let out = no_tty(&sb, &fakes, &["credential-process", "prod"], &env)
            .output()
            .unwrap();
        let err = support::stderr_of(&out);
        assert!(!out.status.success(), "{env:?}: {err}");
        assert!(out.stdout.is_empty(), "{env:?}");
        assert!(err.contains("cancelled"), "{env:?}: {err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    assert!(
        sb.session_files().is_empty(),
        "cached: {:?}",
        sb.session_files()
    );
    assert!(fake.requests().is_empty(), "no STS call without a code");
}

/// Whether process `pid` is gone (or a zombie waiting for its reaper).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z')),
    }
}

fn wait_gone(pids: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if pids.lines().all(gone) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A dialog that never answers is killed with what it started, at the
/// timeout (MFAENV_PROMPT_TIMEOUT, or the profile's prompt_timeout).
#[test]
fn a_hanging_dialog_is_killed_with_its_group_at_the_timeout() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let fakes = Fakes::new(&sb);
    let log = fakes.log.display().to_string();
    fakes.pinentry(
        "pinentry-fake",
        &format!(r#"echo $$ >> "{log}/pids"; sleep 300 & echo $! >> "{log}/pids"; wait"#),
    );
    let started = Instant::now();
    let out = no_tty(
        &sb,
        &fakes,
        &["credential-process", "--prompt", "pinentry-fake", "prod"],
        &[("MFAENV_PROMPT_TIMEOUT", "1")],
    )
    .output()
    .unwrap();
    let err = support::stderr_of(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("no answer within 1s"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let pids = fakes.read("pids");
    assert_eq!(pids.lines().count(), 2, "{pids}");
    assert!(wait_gone(&pids), "still running: {pids}");

    // The profile's prompt_timeout, with zenity this time.
    sb.add_config("\n[profile quick]\nsource_profile = base\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nmfa_prompt = zenity\nprompt_timeout = 1s\n");
    let _ = std::fs::remove_file(fakes.log.join("pids"));
    fakes.script(
        "zenity",
        &format!("echo $$ >> \"{log}/pids\"; sleep 300 & echo $! >> \"{log}/pids\"; wait\n"),
    );
    let started = Instant::now();
    let out = no_tty(
        &sb,
        &fakes,
        &["credential-process", "quick"],
        &[("DISPLAY", ":0")],
    )
    .output()
    .unwrap();
    let err = support::stderr_of(&out);
    assert!(err.contains("no answer within 1s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let pids = fakes.read("pids");
    assert!(wait_gone(&pids), "still running: {pids}");
}

/// SIGTERM (or Ctrl-C) to mfaenv while a dialog is up kills the dialog's
/// whole group: nothing is left asking.
#[test]
fn a_dialog_dies_with_mfaenv() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let fakes = Fakes::new(&sb);
    let log = fakes.log.display().to_string();
    fakes.script(
        "zenity",
        &format!("echo $$ >> \"{log}/pids\"; sleep 300 & echo $! >> \"{log}/pids\"; wait\n"),
    );
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        let _ = std::fs::remove_file(fakes.log.join("pids"));
        let mut child = no_tty(
            &sb,
            &fakes,
            &["credential-process", "--prompt", "zenity", "prod"],
            &[("DISPLAY", ":0")],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while fakes.read("pids").lines().count() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: a signal to the child we started.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(signal), "{status}");
        let pids = fakes.read("pids");
        assert_eq!(pids.lines().count(), 2, "{pids}");
        assert!(wait_gone(&pids), "signal {signal}: still running: {pids}");
    }
}

/// A program that answers garbage: not a pinentry, an endless stream, a
/// code that is no code (asked three times, then refused).
#[test]
fn garbage_from_a_dialog_is_refused() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let fakes = Fakes::new(&sb);
    fakes.script(
        "pinentry-garbage",
        "echo 'HELLO I am not assuan'; sleep 5\n",
    );
    let out = no_tty(
        &sb,
        &fakes,
        &["credential-process", "--prompt", "pinentry-garbage", "prod"],
        &[],
    )
    .output()
    .unwrap();
    let err = support::stderr_of(&out);
    assert!(
        err.contains("does not speak the pinentry protocol"),
        "{err}"
    );
    fakes.pinentry("pinentry-fake", r#"echo "D 12%ZZ"; echo OK"#);
    let out = no_tty(
        &sb,
        &fakes,
        &["credential-process", "--prompt", "pinentry-fake", "prod"],
        &[],
    )
    .output()
    .unwrap();
    assert!(support::stderr_of(&out).contains("does not speak the pinentry protocol"));

    // An endless answer: cut, refused, no memory blow-up.
    fakes.script(
        "zenity",
        "echo start >> \"$0.starts\"; yes 1234567 | head -c 50000000; exit 0\n",
    );
    let mut cmd = no_tty(
        &sb,
        &fakes,
        &["credential-process", "--prompt", "zenity", "prod"],
        &[("DISPLAY", ":0")],
    );
    support::cap_memory(&mut cmd, 2 << 30);
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let err = support::stderr_of(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("no valid MFA code after 3 tries"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let starts = std::fs::read_to_string(fakes.bin.join("zenity.starts")).unwrap();
    assert_eq!(starts.lines().count(), 3, "asked again on a typo");
    assert!(fake.requests().is_empty());
    assert!(out.stdout.is_empty());
}

/// kdialog (not installed here) through a stand-in: its arguments, its answer.
#[test]
fn kdialog_gets_the_profile_and_device_and_its_answer_is_checked() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let fakes = Fakes::new(&sb);
    let log = fakes.log.display().to_string();
    fakes.script(
        "kdialog",
        &format!("printf '%s\\n' \"$@\" > \"{log}/argv\"; echo ' 111 222 '\n"),
    );
    let out = no_tty(
        &sb,
        &fakes,
        &["login", "--prompt", "kdialog", "prod"],
        &[("DISPLAY", ":0")],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    let argv = fakes.read("argv");
    assert!(argv.contains("--inputbox"), "{argv}");
    assert!(argv.contains("profile `prod`"), "{argv}");
    assert!(argv.contains(SERIAL), "{argv}");
    let codes: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.param("TokenCode").map(str::to_string))
        .collect();
    assert_eq!(codes, ["111222"]);
}

/// `--token-code` with a space, as a code is often shown (`123 456`).
#[test]
fn a_token_code_with_spaces_is_the_code() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    sb.ok(&["login", "-t", "123 456", "prod"]);
    let codes: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.param("TokenCode").map(str::to_string))
        .collect();
    assert_eq!(codes, ["123456"]);
}

/// `auto` without a terminal: a dialog when a display and a program are
/// there, else an error that names the options.
#[test]
fn auto_picks_a_dialog_without_a_terminal_or_names_the_options() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let fakes = Fakes::new(&sb);
    let err = sb.fails(&["credential-process", "prod"]);
    assert!(err.contains("nothing can ask for the MFA code"), "{err}");
    assert!(err.contains("no display"), "{err}");
    assert!(err.contains("zenity") && err.contains("pinentry"), "{err}");
    let log = fakes.log.display().to_string();
    fakes.script(
        "zenity",
        &format!("echo zenity >> \"{log}/starts\"; echo 123456\n"),
    );
    let out = no_tty(
        &sb,
        &fakes,
        &["credential-process", "prod"],
        &[("DISPLAY", ":0")],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    assert_eq!(fakes.starts(), 1);
    // `plan` names the driver that would ask, and starts none.
    let out = no_tty(
        &sb,
        &fakes,
        &["plan", "--json", "prod"],
        &[("DISPLAY", ":0")],
    )
    .output()
    .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["mfa"]["code_source"], "prompt", "{plan}");
    assert_eq!(plan["mfa"]["prompt_driver"], "zenity", "{plan}");
    assert_eq!(fakes.starts(), 1);
    // A name that is no driver is refused, wherever it comes from.
    let err = sb.fails(&["credential-process", "--prompt", "nope", "prod"]);
    assert!(err.contains("not a prompt driver"), "{err}");
    sb.ok(&["forget", "--all"]);
    let out = sb
        .mfaenv(&["credential-process", "prod"])
        .env("MFAENV_PROMPT", "pinentry/../../x")
        .output()
        .unwrap();
    assert!(support::stderr_of(&out).contains("not a prompt driver"));
}

/// 50 `credential-process` calls at once without a terminal (a Terraform
/// run): one dialog, one STS call, 50 answers.
#[test]
fn fifty_parallel_calls_show_one_dialog() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let fakes = Fakes::new(&sb);
    fakes.pinentry("pinentry-fake", r#"sleep 1; echo "D 123456"; echo OK"#);
    let children: Vec<_> = (0..50)
        .map(|_| {
            no_tty(
                &sb,
                &fakes,
                &["credential-process", "prod"],
                &[("MFAENV_PROMPT", "pinentry-fake")],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", support::stderr_of(&out));
    }
    assert_eq!(fakes.starts(), 1, "one dialog for 50 callers");
    assert_eq!(fake.count("GetSessionToken"), 1);
}

/// The key store's passphrase from a driver when there is no terminal.
#[test]
fn the_passphrase_can_come_from_a_driver() {
    use mfaenv::keystore::file::FileStore;
    use mfaenv::keystore::KeyStore;
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, "");
    let fakes = Fakes::new(&sb);
    fakes.pinentry("pinentry-fake", r#"echo "D dialog%20pass"; echo OK"#);
    let out = no_tty(
        &sb,
        &fakes,
        &["add", "--env", "--backend", "file", "base"],
        &[
            ("AWS_ACCESS_KEY_ID", KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", KEY_SECRET),
            ("MFAENV_PROMPT", "pinentry-fake"),
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    assert_eq!(fakes.starts(), 2, "asked twice for a new store");
    assert!(fakes.read("commands").contains("SETPROMPT Passphrase:"));
    assert!(
        !fakes.envs().contains(KEY_SECRET),
        "the key reached the dialog"
    );
    let store = sb.home().join(".local/share/mfaenv/keys.enc");
    let key = FileStore::with_passphrase(store, "dialog pass")
        .get("base")
        .unwrap()
        .unwrap();
    assert_eq!(key.access_key_id, KEY_ID);
}

// ---------------------------------------------------------------------------
// Real pinentry, zenity and pinentry-gtk-2
// ---------------------------------------------------------------------------

/// Debian's pinentry-tty on the terminal of mfaenv, in a pseudo-terminal.
#[test]
fn real_pinentry_tty_in_a_pseudo_terminal() {
    if support::require_program("pinentry-tty").is_none() {
        return;
    }
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let mut p = sb.in_pty(&["login", "--prompt", "pinentry-tty", "prod"], |cmd| {
        cmd.env("TERM", "dumb");
    });
    p.exp_string("MFA code for AWS profile `prod`").unwrap();
    p.exp_string("MFA code:").unwrap();
    enter(&mut p, "123456");
    p.exp_string("prod").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(fake.count("GetSessionToken"), 1);
    let codes: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.param("TokenCode").map(str::to_string))
        .collect();
    assert_eq!(codes, ["123456"]);
}

/// Ctrl-C while pinentry-tty asks on the terminal: mfaenv fails (killed by
/// SIGINT, or told "cancelled"), no pinentry is left on this terminal, and
/// the terminal has exactly its mode again, echo on.
#[test]
fn ctrl_c_at_a_real_pinentry_tty_leaves_nothing_behind() {
    if support::require_program("pinentry-tty").is_none() {
        return;
    }
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let Some(mut s) = shell_with_hook(&sb, RealShell::Bash) else {
        return;
    };
    let before = mode(&mut s, RealShell::Bash);
    enter(
        &mut s,
        &format!(
            "'{}' login --prompt pinentry-tty prod",
            support::mfaenv_bin().display()
        ),
    );
    s.exp_string("MFA code:").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.send_control('c').unwrap();
    s.exp_string(PROMPT).unwrap();
    let status = type_line(&mut s, "echo \"rc=$?\"");
    assert!(
        status.contains("rc=130") || status.contains("rc=1\r"),
        "{status}"
    );
    let left = type_line(
        &mut s,
        "pgrep -f \"pinentry-tty --ttyname $(tty)\" >/dev/null && echo LEFT''BEHIND || echo NONE''LEFT",
    );
    assert!(left.contains("NONELEFT"), "{left}");
    let (echo, icanon, out) = stty_flags(&mut s);
    assert!(echo && icanon, "{out}");
    assert_eq!(mode(&mut s, RealShell::Bash), before);
    assert!(fake.requests().is_empty(), "no STS call without a code");
    enter(&mut s, "exit");
}

/// An X server of the test's own (Xvfb), killed when dropped.
struct Xvfb {
    child: std::process::Child,
    display: String,
}

impl Xvfb {
    fn start() -> Option<Xvfb> {
        let program = support::require_program("Xvfb")?;
        support::require_program("xdotool")?;
        let mut child = Command::new(program)
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "800x600x24",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut number = String::new();
        let mut byte = [0u8; 1];
        use std::io::Read;
        while out.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            number.push(byte[0] as char);
        }
        assert!(!number.is_empty(), "Xvfb gave no display number");
        Some(Xvfb {
            child,
            display: format!(":{}", number.trim()),
        })
    }

    /// Waits for a window called `title`, focuses it, types `text` and Return.
    fn answer(&self, title: &str, text: &str) {
        self.keys(title, &["type", "--delay", "30", text], "Return");
    }

    /// Waits for a window called `title`, focuses it, presses Escape.
    fn cancel(&self, title: &str) {
        self.keys(title, &["type", "--delay", "30", "12"], "Escape");
    }

    fn keys(&self, title: &str, typing: &[&str], last: &str) {
        let xdotool = |args: &[&str]| {
            let out = Command::new("timeout")
                .arg("20")
                .arg("xdotool")
                .args(args)
                .env("DISPLAY", &self.display)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "xdotool {args:?}: {}",
                support::stderr_of(&out)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let window = xdotool(&["search", "--sync", "--name", title]);
        let window = window.lines().next().unwrap().trim().to_string();
        xdotool(&["windowfocus", "--sync", &window]);
        xdotool(typing);
        xdotool(&["key", last]);
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `credential-process` with no terminal, a dialog on the display, answered
/// by typing into it.
fn real_dialog(driver: &str, program: &str, title: &str) {
    if support::require_program(program).is_none() {
        return;
    }
    let Some(x) = Xvfb::start() else { return };
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let child = sb
        .mfaenv(&["credential-process", "--prompt", driver, "prod"])
        .env("DISPLAY", &x.display)
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    x.answer(title, "123 456");
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{driver}: {}",
        support::stderr_of(&out)
    );
    // Escape cancels: nothing cached, nothing asked of STS, exit 1.
    sb.ok(&["forget", "--all"]);
    let child = sb
        .mfaenv(&["credential-process", "--prompt", driver, "prod"])
        .env("DISPLAY", &x.display)
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    x.cancel(title);
    let cancelled = child.wait_with_output().unwrap();
    let err = support::stderr_of(&cancelled);
    assert!(!cancelled.status.success(), "{driver}: {err}");
    assert!(err.contains("cancelled"), "{driver}: {err}");
    assert!(cancelled.stdout.is_empty());
    assert_eq!(fake.count("GetSessionToken"), 1, "{driver}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let codes: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.param("TokenCode").map(str::to_string))
        .collect();
    assert_eq!(codes, ["123456"], "{driver}");
}

#[test]
fn real_zenity_under_xvfb() {
    real_dialog("zenity", "zenity", "^mfaenv$");
}

#[test]
fn real_pinentry_gtk2_under_xvfb() {
    real_dialog("pinentry-gtk-2", "pinentry-gtk-2", "mfaenv");
}
