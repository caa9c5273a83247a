//! Where an MFA code comes from, in order: `--token-code`, the profile's
//! `mfa_process`, a prompt on the controlling terminal. Never stdin or
//! stdout: stdout is being `eval`ed and stdin may be the caller's data.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

// Questions are read from the terminal's input and written to its output.
// On Unix both are /dev/tty; on Windows the console's input buffer `CONIN$`
// only reads, and a prompt written to it is lost: it goes to `CONOUT$`.
#[cfg(unix)]
const TTY_IN: &str = "/dev/tty";
#[cfg(unix)]
const TTY_OUT: &str = "/dev/tty";
#[cfg(windows)]
const TTY_IN: &str = "CONIN$";
#[cfg(windows)]
const TTY_OUT: &str = "CONOUT$";

/// How many times a person may mistype (or have AWS reject) a code.
const ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("`{0}` is not an MFA code: a code is 6 digits")]
    NotACode(String),
    #[error("mfa_process `{command}` failed: {reason}")]
    Process { command: String, reason: String },
    #[error("no terminal to ask for the MFA code of {serial}: pass --token-code CODE, or set mfa_process in the profile")]
    NoTerminal { serial: String },
    #[error("no MFA code given")]
    Cancelled,
    #[error("an MFA code for {serial} is needed")]
    PromptNotAllowed { serial: String },
    #[error("no valid MFA code after {ATTEMPTS} tries")]
    TooManyTries,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Flag,
    Process,
    Terminal,
}

/// Hands out MFA codes for one command.
pub struct CodeSource {
    token_code: Option<String>,
    mfa_process: Option<String>,
    /// Whether the terminal may be asked (the hook's cache-only pass says no).
    prompt: bool,
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
            last: None,
            asked: 0,
        }
    }

    /// A code for `serial`. `retry` says why the previous code failed; then
    /// only a terminal can give another one.
    pub fn code(&mut self, serial: &str, retry: Option<&str>) -> Result<String, MfaError> {
        if let Some(reason) = retry {
            if !self.can_ask_again() {
                return Err(MfaError::TooManyTries);
            }
            let _ = self.tell(&format!("mfaenv: {}", crate::ui::escape(reason)));
            return self.prompt(serial);
        }
        if let Some(code) = self.token_code.take() {
            self.last = Some(Origin::Flag);
            return checked(code.trim());
        }
        if let Some(command) = self.mfa_process.clone() {
            self.last = Some(Origin::Process);
            return run_process(&command);
        }
        self.prompt(serial)
    }

    /// Whether another code can be had after AWS rejected one.
    pub fn can_ask_again(&self) -> bool {
        self.last == Some(Origin::Terminal) && self.asked < ATTEMPTS
    }

    fn prompt(&mut self, serial: &str) -> Result<String, MfaError> {
        if !self.prompt {
            return Err(MfaError::PromptNotAllowed {
                serial: serial.to_string(),
            });
        }
        self.last = Some(Origin::Terminal);
        let tty = open_tty().ok_or_else(|| MfaError::NoTerminal {
            serial: serial.to_string(),
        })?;
        let mut reader = BufReader::new(&tty.input);
        self.ask(&mut reader, &mut &tty.output, serial)
    }

    /// Asks for a code: the question on `output`, the answer from `input`.
    fn ask(
        &mut self,
        input: &mut dyn BufRead,
        output: &mut dyn Write,
        serial: &str,
    ) -> Result<String, MfaError> {
        while self.asked < ATTEMPTS {
            self.asked += 1;
            write!(output, "MFA code for {}: ", crate::ui::escape(serial))
                .map_err(|_| no_tty(serial))?;
            let _ = output.flush();
            let mut line = String::new();
            let read = input.read_line(&mut line).map_err(|_| no_tty(serial))?;
            let answer = line.trim();
            if read == 0 || answer.is_empty() {
                return Err(MfaError::Cancelled);
            }
            match checked(answer) {
                Ok(code) => return Ok(code),
                Err(_) => {
                    let _ = writeln!(output, "mfaenv: an MFA code is 6 digits; try again");
                }
            }
        }
        Err(MfaError::TooManyTries)
    }

    fn tell(&self, line: &str) -> std::io::Result<()> {
        match open_tty() {
            Some(tty) => writeln!(&tty.output, "{line}"),
            None => writeln!(std::io::stderr(), "{line}"),
        }
    }
}

fn no_tty(serial: &str) -> MfaError {
    MfaError::NoTerminal {
        serial: serial.to_string(),
    }
}

/// The controlling terminal, for questions that must not touch stdin/stdout:
/// answers are read from `input`, questions written to `output`.
pub struct Tty {
    pub input: std::fs::File,
    pub output: std::fs::File,
}

/// Opens the controlling terminal; `None` when there is none.
pub fn open_tty() -> Option<Tty> {
    Some(Tty {
        input: open_console(TTY_IN)?,
        output: open_console(TTY_OUT)?,
    })
}

// Both read and write: Windows wants GENERIC_READ | GENERIC_WRITE on a
// console handle for anything beyond plain reading or writing.
fn open_console(path: &str) -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .ok()
}

/// Six ASCII digits, else an error that does not echo a long input back.
fn checked(code: &str) -> Result<String, MfaError> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_string())
    } else {
        let shown: String = code.chars().take(12).collect();
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

/// Secrets a code helper has no business seeing: the keys in this shell's
/// environment (perhaps the very session being replaced).
pub(crate) const SECRET_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

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
    for name in SECRET_VARS {
        cmd.env_remove(name);
    }
    own_session(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
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

/// The helper leads a new session (and process group), so that a timeout
/// can kill everything it started and it has no terminal to stop on.
fn own_session(cmd: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(unix))]
    let _ = cmd;
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

    /// The question goes to the terminal's output, the answer comes from its
    /// input: on Windows those are CONOUT$ and CONIN$, two handles.
    #[test]
    fn questions_go_to_the_output_answers_come_from_the_input() {
        #[cfg(windows)]
        assert_eq!((TTY_IN, TTY_OUT), ("CONIN$", "CONOUT$"));
        let mut s = CodeSource::new(None, None, true);
        let mut input = std::io::Cursor::new(b"12x\n123456\n".to_vec());
        let mut output = Vec::new();
        assert_eq!(s.ask(&mut input, &mut output, "arn").unwrap(), "123456");
        assert_eq!(
            String::from_utf8(output).unwrap(),
            "MFA code for arn: mfaenv: an MFA code is 6 digits; try again\nMFA code for arn: "
        );
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(checked("123456").unwrap(), "123456");
        assert!(checked("12345").is_err());
        assert!(checked("12345a").is_err());
        assert!(checked("1234567").is_err());
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
