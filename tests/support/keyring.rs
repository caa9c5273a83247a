//! A real Secret Service for a test: a private D-Bus session bus
//! (`dbus-run-session`) with `gnome-keyring-daemon --unlock` on it, its
//! keyrings under the sandbox's HOME, unlocked with a passphrase given on
//! stdin. Commands that should see it get its `DBUS_SESSION_BUS_ADDRESS`.
//! Dropping it ends the session (and with it the daemon).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// What the bus's shell does: start the daemon unlocked (passphrase on
/// stdin's first line), print the bus address, then wait for stdin to close.
const SCRIPT: &str = r#"
IFS= read -r pass
printf '%s' "$pass" | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null || exit 1
# --daemonize returns before the daemon owns its bus name; a client that
# asks earlier would get a second daemon by D-Bus activation, a locked one.
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; do
  i=$((i + 1)); [ "$i" -gt 200 ] && exit 1
  sleep 0.05
done
printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS"
cat >/dev/null
"#;

pub struct SecretService {
    child: Child,
    stdin: Option<ChildStdin>,
    pub address: String,
}

impl SecretService {
    /// Starts it with HOME at `home`; `None` only when a missing program
    /// may be skipped (never under CI=true: `require_program` panics).
    pub fn start(home: &Path) -> Option<SecretService> {
        for program in ["dbus-run-session", "gnome-keyring-daemon", "secret-tool"] {
            super::require_program(program)?;
        }
        let mut child = Command::new("dbus-run-session")
            .args(["--", "sh", "-c", SCRIPT])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-run-session");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"keyring-test-passphrase\n")
            .expect("unlock passphrase");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("bus address");
        let address = line.trim().to_string();
        assert!(
            address.starts_with("unix:"),
            "gnome-keyring-daemon did not start on a session bus (got {address:?})"
        );
        let ss = SecretService {
            child,
            stdin: Some(stdin),
            address,
        };
        ss.wait_unlocked(home);
        Some(ss)
    }

    /// The daemon unlocks (and first creates) the login keyring after it
    /// forked: until then a write fails with "locked collection". Polls with
    /// a probe item that is removed again.
    fn wait_unlocked(&self, home: &Path) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let mut probe = self
                .secret_tool(home)
                .args([
                    "store",
                    "--label",
                    "probe",
                    "service",
                    "mfaenv-probe",
                    "username",
                    "probe",
                ])
                .stdin(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("run secret-tool");
            let _ = probe.stdin.take().expect("stdin").write_all(b"probe");
            if probe.wait().expect("secret-tool").success() {
                let _ = self
                    .secret_tool(home)
                    .args(["clear", "service", "mfaenv-probe", "username", "probe"])
                    .status();
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "gnome-keyring-daemon did not unlock its login keyring within 20 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// `secret-tool lookup service mfaenv username PROFILE` on this bus:
    /// the stored text, or `None` when there is no entry.
    pub fn lookup(&self, home: &Path, profile: &str) -> Option<String> {
        let out = self
            .secret_tool(home)
            .args(["lookup", "service", "mfaenv", "username", profile])
            .output()
            .expect("run secret-tool");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `secret-tool clear service mfaenv username PROFILE` on this bus.
    pub fn clear(&self, home: &Path, profile: &str) {
        let status = self
            .secret_tool(home)
            .args(["clear", "service", "mfaenv", "username", profile])
            .status()
            .expect("run secret-tool");
        assert!(status.success(), "secret-tool clear failed");
    }

    fn secret_tool(&self, home: &Path) -> Command {
        let mut cmd = Command::new("secret-tool");
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::null());
        cmd
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        // Closing stdin ends the script, and dbus-run-session with it.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
