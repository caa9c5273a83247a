//! Where an MFA code comes from, in order: `--token-code`, the profile's
//! `mfa_process`, a prompt driver (src/prompt: the controlling terminal, or
//! a dialog when there is none). Never stdin or stdout: stdout is being
//! `eval`ed and stdin may be the caller's data.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::prompt::{self, PromptError, Question};

pub use crate::prompt::Terminal as Tty;

/// How many times a person may mistype (or have AWS reject) a code.
const ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("`{0}` is not an MFA code: a code is 6 digits")]
    NotACode(String),
    #[error("mfa_process `{command}` failed: {reason}")]
    Process { command: String, reason: String },
    #[error("nothing can ask for the MFA code of {serial}: {why}; pass --token-code CODE, set mfa_process in the profile, or choose a prompt driver (--prompt, MFAENV_PROMPT, mfa_prompt: {})", prompt::NAMES)]
    NoTerminal { serial: String, why: String },
    #[error("no MFA code given (cancelled)")]
    Cancelled,
    #[error("an MFA code for {serial} is needed")]
    PromptNotAllowed { serial: String },
    #[error("no valid MFA code after {ATTEMPTS} tries")]
    TooManyTries,
    #[error("cannot ask for the MFA code of {serial}: {reason}")]
    Prompt { serial: String, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Flag,
    Process,
    /// A person, through a prompt driver.
    Person,
}

/// Hands out MFA codes for one command.
pub struct CodeSource {
    token_code: Option<String>,
    mfa_process: Option<String>,
    /// Whether a person may be asked (the hook's cache-only pass says no).
    prompt: bool,
    /// The profile the code is for (shown by every driver).
    profile: String,
    /// The profile's `mfa_prompt` and `prompt_timeout`.
    profile_choice: Option<prompt::Choice>,
    profile_timeout: Option<Duration>,
    last: Option<Origin>,
    asked: u32,
}

impl CodeSource {
    pub fn new(
        token_code: Option<String>,
        mfa_process: Option<String>,
        prompt: bool,
    ) -> CodeSource {
        CodeSource {
            token_code,
            mfa_process,
            prompt,
            profile: String::new(),
            profile_choice: None,
            profile_timeout: None,
            last: None,
            asked: 0,
        }
    }

    /// For `profile`, with its `mfa_prompt` and `prompt_timeout`.
    pub fn for_profile(
        mut self,
        profile: &str,
        choice: Option<prompt::Choice>,
        timeout: Option<Duration>,
    ) -> CodeSource {
        self.profile = profile.to_string();
        self.profile_choice = choice;
        self.profile_timeout = timeout;
        self
    }

    /// A code for `serial`. `retry` says why the previous code failed; then
    /// only a person can give another one.
    pub fn code(&mut self, serial: &str, retry: Option<&str>) -> Result<String, MfaError> {
        if let Some(reason) = retry {
            if !self.can_ask_again() {
                return Err(MfaError::TooManyTries);
            }
            return self.prompt(serial, Some(reason.to_string()));
        }
        if let Some(code) = self.token_code.take() {
            self.last = Some(Origin::Flag);
            return checked(&code);
        }
        if let Some(command) = self.mfa_process.clone() {
            self.last = Some(Origin::Process);
            return run_process(&command);
        }
        self.prompt(serial, None)
    }

    /// Whether another code can be had after AWS rejected one.
    pub fn can_ask_again(&self) -> bool {
        self.last == Some(Origin::Person) && self.asked < ATTEMPTS
    }

    fn prompt(&mut self, serial: &str, mut problem: Option<String>) -> Result<String, MfaError> {
        if !self.prompt {
            return Err(MfaError::PromptNotAllowed {
                serial: serial.to_string(),
            });
        }
        self.last = Some(Origin::Person);
        let settings =
            prompt::Settings::resolve(self.profile_choice.as_ref(), self.profile_timeout)
                .map_err(|e| self.failed("the prompt setting", serial, e))?;
        let profile = if self.profile.is_empty() {
            "?"
        } else {
            &self.profile
        };
        while self.asked < ATTEMPTS {
            self.asked += 1;
            let mut question = Question::code(profile, serial);
            question.problem = problem.take();
            let answer = settings.ask(&question).map_err(|e| {
                let driver = settings.driver_name().unwrap_or("prompt");
                self.failed(driver, serial, e)
            })?;
            match checked(&answer) {
                Ok(code) => return Ok(code),
                Err(_) => problem = Some("an MFA code is 6 digits; try again".to_string()),
            }
        }
        Err(MfaError::TooManyTries)
    }

    fn failed(&self, driver: &'static str, serial: &str, e: PromptError) -> MfaError {
        match e {
            PromptError::Cancelled => MfaError::Cancelled,
            PromptError::Unavailable(why) => MfaError::NoTerminal {
                serial: serial.to_string(),
                why,
            },
            other => MfaError::Prompt {
                serial: serial.to_string(),
                reason: format!("{driver}: {other}"),
            },
        }
    }
}

/// Opens the controlling terminal; `None` when there is none.
pub fn open_tty() -> Option<Tty> {
    Tty::open()
}

/// Six ASCII digits once spaces are removed (`123 456` is fine), else an
/// error that does not echo a long input back.
fn checked(typed: &str) -> Result<String, MfaError> {
    let code = prompt::normalize_code(typed);
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        let shown: String = typed.trim().chars().take(12).collect();
        Err(MfaError::NotACode(shown))
    }
}

/// How long `mfa_process` may run unless `MFAENV_MFA_PROCESS_TIMEOUT` says
/// otherwise: a YubiKey touch takes seconds, and a helper that never ends
/// must not hang the command (or the shell's prompt, which ignores Ctrl-C).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// The most of a helper's stdout that is read: a code is 6 digits.
const PROCESS_OUTPUT_CAP: usize = 4096;

/// The most of a helper's stderr ("Touch your YubiKey") that is passed on.
const STDERR_CAP: usize = 64 * 1024;

/// After the helper exits, how long its output may take to arrive: a child
/// it left behind may hold the pipe open forever.
const OUTPUT_GRACE: Duration = Duration::from_millis(200);

/// `MFAENV_MFA_PROCESS_TIMEOUT=SECONDS` (up to an hour), else 60 s.
fn process_timeout() -> Duration {
    crate::settings::mfa_process_timeout().unwrap_or(PROCESS_TIMEOUT)
}

/// Runs `mfa_process` through the shell; its stdout is the code, its stderr
/// (e.g. "Touch your YubiKey") is passed on to the user. It runs in a session of its
/// own (no controlling terminal: stdin is /dev/null, and /dev/tty cannot be
/// opened, so it cannot stop on a terminal read), without the AWS secrets of
/// the environment. mfaenv waits for it to exit, not for its stdout to close,
/// and after the timeout kills it with every process it started.
fn run_process(command: &str) -> Result<String, MfaError> {
    run_process_within(command, process_timeout())
}

fn run_process_within(command: &str, timeout: Duration) -> Result<String, MfaError> {
    let fail = |reason: String| MfaError::Process {
        command: command.to_string(),
        reason,
    };
    let mut cmd = shell_command(command);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    prompt::child::scrub(&mut cmd);
    prompt::child::own_session(&mut cmd);
    #[cfg(unix)]
    let group = prompt::signals::before_spawn();
    let mut child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
    #[cfg(unix)]
    group.started(child.id() as libc::pid_t);
    let forwarded = child.stderr.take().map(forward_in_background);
    let output = child
        .stdout
        .take()
        .map(read_in_background)
        .ok_or_else(|| fail("its output cannot be read".to_string()))?;
    let status = match wait_for(&mut child, timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            kill_all(&mut child);
            return Err(fail(format!(
                "it did not finish within {}s, so mfaenv stopped it ({}=SECONDS waits longer)",
                timeout.as_secs_f64(),
                crate::settings::MFAENV_MFA_PROCESS_TIMEOUT
            )));
        }
        Err(e) => {
            kill_all(&mut child);
            return Err(fail(e.to_string()));
        }
    };
    if !status.success() {
        return Err(fail(format!("it exited with {status}")));
    }
    let out = collect(&output);
    if let Some(done) = forwarded {
        // Its last words ("touch accepted") before the code, when they come at once.
        let _ = done.recv_timeout(OUTPUT_GRACE);
    }
    let text = String::from_utf8_lossy(&out);
    checked(text.trim()).map_err(|_| fail("it did not print a 6-digit code".to_string()))
}

fn shell_command(command: &str) -> Command {
    #[cfg(unix)]
    {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(command);
        c
    }
    #[cfg(windows)]
    {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    }
}

/// Kills the helper's process group (the helper and what it started), then
/// reaps the helper.
fn kill_all(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill has no memory effects; -pid is the group it leads.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The exit status, or `None` when `timeout` passed first.
fn wait_for(
    child: &mut std::process::Child,
    timeout: Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads up to [`PROCESS_OUTPUT_CAP`] bytes on a thread, passing each chunk on.
fn read_in_background(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut left = PROCESS_OUTPUT_CAP;
        let mut buf = [0u8; 512];
        while left > 0 {
            match pipe.read(&mut buf[..left.min(512)]) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    left -= n;
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Passes the helper's stderr on to ours (up to [`STDERR_CAP`], the rest is
/// dropped). Through a pipe of our own: a child the helper leaves behind
/// then holds that pipe, not the caller's stderr (`$(mfaenv … 2>&1)`).
fn forward_in_background(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<()> {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let mut passed = 0;
        let mut buf = [0u8; 512];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            if passed < STDERR_CAP {
                let _ = std::io::stderr().write_all(&buf[..n]);
                passed += n;
            }
        }
        let _ = done.send(());
    });
    finished
}

/// What the helper printed: everything up to the end of its output, or what
/// arrived within [`OUTPUT_GRACE`] after it exited.
fn collect(output: &mpsc::Receiver<Vec<u8>>) -> Vec<u8> {
    let deadline = Instant::now() + OUTPUT_GRACE;
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match output.recv_timeout(left) {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(_) => return out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(checked("123456").unwrap(), "123456");
        assert!(checked("12345").is_err());
        assert!(checked("12345a").is_err());
        assert!(checked("1234567").is_err());
        assert_eq!(checked("123 456").unwrap(), "123456");
        assert_eq!(checked(" 12 34 56 ").unwrap(), "123456");
    }

    #[test]
    fn flag_then_process() {
        let mut s = CodeSource::new(Some(" 654321 ".into()), None, true);
        assert_eq!(s.code("arn", None).unwrap(), "654321");
        assert!(!s.can_ask_again());
        let mut s = CodeSource::new(None, Some("echo 111222".into()), true);
        assert_eq!(s.code("arn", None).unwrap(), "111222");
        let mut s = CodeSource::new(None, Some("echo nope".into()), true);
        assert!(s
            .code("arn", None)
            .unwrap_err()
            .to_string()
            .contains("6-digit"));
        let mut s = CodeSource::new(None, Some("exit 3".into()), true);
        assert!(s
            .code("arn", None)
            .unwrap_err()
            .to_string()
            .contains("exited"));
    }

    /// Whether process `pid` is gone (or a zombie waiting for its reaper).
    #[cfg(unix)]
    fn gone(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z')),
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_child_left_behind_does_not_hold_the_code_up() {
        let started = Instant::now();
        let code = run_process_within("sleep 20 & echo 123456", Duration::from_secs(10)).unwrap();
        assert_eq!(code, "123456");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_helper_past_its_timeout_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let command = format!(
            "echo $$ > '{0}'; sleep 30 & echo $! >> '{0}'; wait",
            pids.display()
        );
        let started = Instant::now();
        let err = run_process_within(&command, Duration::from_millis(500)).unwrap_err();
        assert!(
            err.to_string().contains("did not finish within 0.5s"),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let pids = std::fs::read_to_string(&pids).unwrap();
        let pids: Vec<&str> = pids.lines().collect();
        assert_eq!(pids.len(), 2, "{pids:?}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !pids.iter().all(|p| gone(p)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(pids.iter().all(|p| gone(p)), "still running: {pids:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_helper_has_no_terminal_and_endless_output_is_cut() {
        let err = run_process_within("exec 3<>/dev/tty && echo 123456", Duration::from_secs(10))
            .unwrap_err();
        assert!(err.to_string().contains("exited"), "{err}");
        let err = run_process_within(
            "yes 123456 | head -c 100000000; true",
            Duration::from_secs(10),
        )
        .unwrap_err();
        assert!(err.to_string().contains("6-digit"), "{err}");
    }
}
