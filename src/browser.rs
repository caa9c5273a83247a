//! Opening a URL in a web browser, for `mfaenv console`: which browser
//! (`--browser`, `$BROWSER`, a known browser on PATH for `--isolate`, else
//! the platform's opener), its family (Chromium-based, Firefox-based), and
//! a browser profile directory of its own for each AWS profile.
//!
//! The URL is a bearer secret. It goes to the browser in its argv — the only
//! way browsers take a URL — and nowhere else: the browser's output (which
//! may repeat it: `xdg-open` does in its errors) goes to /dev/null, and no
//! message names the URL. Whoever can list this user's processes can read a
//! browser's argv while it runs (docs/console.md and docs/security.md say so).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How long mfaenv watches a browser it started: one that fails (missing
/// display, bad flag) exits within this; one that keeps running is the
/// browser itself, left to run.
const WATCH: Duration = Duration::from_secs(2);

/// How a browser takes a profile directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Chromium, Chrome, Edge, Brave, Vivaldi: `--user-data-dir=DIR`.
    Chromium,
    /// Firefox, LibreWolf: `--profile DIR`.
    Firefox,
    /// An opener (`xdg-open`, `open`) or a browser mfaenv does not know.
    Other,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Chromium => "chromium",
            Family::Firefox => "firefox",
            Family::Other => "other",
        }
    }
}

/// The browsers mfaenv knows by program name, in the order `--isolate`
/// picks one when none is named.
pub const KNOWN: &[(&str, Family)] = &[
    ("google-chrome", Family::Chromium),
    ("google-chrome-stable", Family::Chromium),
    ("chromium", Family::Chromium),
    ("chromium-browser", Family::Chromium),
    ("microsoft-edge", Family::Chromium),
    ("microsoft-edge-stable", Family::Chromium),
    ("brave-browser", Family::Chromium),
    ("vivaldi", Family::Chromium),
    ("firefox", Family::Firefox),
    ("firefox-esr", Family::Firefox),
    ("librewolf", Family::Firefox),
];

/// The family of a program by its file name (`/usr/bin/chromium`, `msedge.exe`).
pub fn family_of(program: &str) -> Family {
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".exe").unwrap_or(&name);
    match name {
        "chrome" | "msedge" | "brave" => Family::Chromium,
        _ => KNOWN
            .iter()
            .find(|(known, _)| *known == name)
            .map_or(Family::Other, |(_, family)| *family),
    }
}

/// A browser command: the program and its own arguments (`chromium
/// --incognito`); `%s` in an argument is where the URL goes, else it is
/// appended.
#[derive(Debug, Clone)]
pub struct Browser {
    pub argv: Vec<String>,
    pub program: PathBuf,
    pub family: Family,
    /// What chose it: `--browser`, `$BROWSER`, `PATH`, the platform opener.
    pub origin: &'static str,
}

/// Every known browser on PATH: (name, family, path).
pub fn on_path() -> Vec<(&'static str, Family, PathBuf)> {
    KNOWN
        .iter()
        .filter_map(|(name, family)| find(name).map(|path| (*name, *family, path)))
        .collect()
}

/// The browser to use: `flag` (`--browser CMD`), else the first of
/// `$BROWSER`'s colon-separated commands that is installed, else (for
/// `isolate`, which needs to know the browser) the first known browser on
/// PATH, else the platform's opener. `isolate` refuses a browser of no
/// known family.
pub fn choose(flag: Option<&str>, isolate: bool) -> Result<Browser> {
    let browser = if let Some(command) = flag {
        parse(command, "--browser")?
    } else if let Some(browser) = from_env()? {
        browser
    } else if isolate {
        let Some((name, _, _)) = on_path().into_iter().next() else {
            bail!(
                "--isolate needs a Chromium- or Firefox-based browser and none is on PATH (looked for {}): name one with --browser",
                known_names()
            );
        };
        parse(name, "PATH")?
    } else {
        parse(opener(), "the platform's opener")?
    };
    if isolate && browser.family == Family::Other {
        bail!(
            "--isolate: `{}` (from {}) is not a browser mfaenv knows how to give a profile directory: use a Chromium- or Firefox-based one ({})",
            crate::ui::escape(&browser.argv[0]),
            browser.origin,
            known_names()
        );
    }
    Ok(browser)
}

fn known_names() -> String {
    KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// `$BROWSER`: the first installed of its `:`-separated commands.
fn from_env() -> Result<Option<Browser>> {
    let Some(value) = crate::env_vars::get("BROWSER") else {
        return Ok(None);
    };
    let mut missing = Vec::new();
    for command in value.split(':').filter(|c| !c.trim().is_empty()) {
        match parse(command, "$BROWSER") {
            Ok(browser) => return Ok(Some(browser)),
            Err(e) => missing.push(format!("{e:#}")),
        }
    }
    bail!(
        "no browser of $BROWSER can be started: {}",
        missing.join("; ")
    )
}

/// Splits `command` as a shell would (quotes, no expansion) and finds its program.
fn parse(command: &str, origin: &'static str) -> Result<Browser> {
    let shown = crate::ui::escape(command);
    let argv = shlex::split(command)
        .filter(|words| !words.is_empty())
        .with_context(|| format!("{origin} `{shown}`: not a command (unbalanced quotes?)"))?;
    let program = find(&argv[0]).with_context(|| {
        format!(
            "{origin}: the browser `{}` is not installed (not found on PATH)",
            crate::ui::escape(&argv[0])
        )
    })?;
    Ok(Browser {
        family: family_of(&argv[0]),
        argv,
        program,
        origin,
    })
}

/// The platform's own way to open a URL.
fn opener() -> &'static str {
    if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        // Not `cmd /c start`: cmd would parse the URL's `&`s. Not
        // `explorer`: it exits 1 when it worked.
        "rundll32 url.dll,FileProtocolHandler"
    } else {
        "xdg-open"
    }
}

/// `name` on PATH, or as a path when it has a slash.
pub(crate) fn find(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    if name.contains(std::path::MAIN_SEPARATOR) || name.contains('/') {
        return is_executable(path).then(|| path.to_path_buf());
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .flat_map(|dir| {
            let plain = dir.join(name);
            let exe = dir.join(format!("{name}.exe"));
            [plain, exe]
        })
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    path.is_file()
}

/// The profile directory of `profile` for `family` under `data_dir`:
/// `<data>/console/chromium/prod`. A name that is not plain (slashes,
/// dots first, other bytes) gets its plain part and a hash, so two
/// profiles never share a directory and none escapes the parent.
pub fn profile_dir(data_dir: &Path, family: Family, profile: &str) -> PathBuf {
    let plain: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = if plain == profile && !profile.starts_with('.') && !profile.is_empty() {
        plain
    } else {
        use sha2::{Digest, Sha256};
        let hash = Sha256::digest(profile.as_bytes());
        let short = crate::env_vars::hex(&hash[..6]);
        format!("{}-{short}", plain.trim_start_matches('.'))
    };
    data_dir.join("console").join(family.name()).join(name)
}

/// Creates `dir` and its parents, private to this user (0700).
pub fn create_private(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create the browser profile {}", crate::ui::path(dir)))
}

impl Browser {
    /// The arguments for `url`, with `profile_dir` as the browser's profile.
    fn args(&self, url: &str, profile_dir: Option<&Path>) -> Vec<String> {
        let mut args: Vec<String> = self.argv[1..].to_vec();
        if let Some(dir) = profile_dir {
            let dir = dir.display().to_string();
            match self.family {
                Family::Chromium => args.push(format!("--user-data-dir={dir}")),
                // One instance per profile directory: Firefox hands the URL
                // to the instance already running that directory, if any.
                Family::Firefox => args.extend(["--profile".to_string(), dir]),
                Family::Other => {}
            }
        }
        if args.iter().any(|a| a.contains("%s")) {
            for arg in &mut args {
                *arg = arg.replace("%s", url);
            }
        } else {
            args.push(url.to_string());
        }
        args
    }

    /// Starts the browser on `url`, in a session of its own, without the
    /// keys of this shell or the key store's variables; its output goes
    /// nowhere (it may repeat the URL). Not waited for.
    pub fn spawn(&self, url: &str, profile_dir: Option<&Path>) -> Result<Child> {
        let mut cmd = Command::new(&self.program);
        cmd.args(self.args(url, profile_dir))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        crate::prompt::child::scrub(&mut cmd);
        own_session(&mut cmd);
        cmd.spawn().with_context(|| {
            format!(
                "cannot start the browser `{}`",
                crate::ui::escape(&self.argv[0])
            )
        })
    }

    /// [`Browser::spawn`], then watches it for [`WATCH`]: an exit with an
    /// error status in that time is an error; still running, it is left to
    /// run.
    pub fn open(&self, url: &str, profile_dir: Option<&Path>) -> Result<()> {
        let name = crate::ui::escape(&self.argv[0]);
        let mut child = self.spawn(url, profile_dir)?;
        let deadline = Instant::now() + WATCH;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => bail!(
                    "the browser `{name}` (from {}) failed: {status}; its output is not shown, since it may hold the sign-in URL",
                    self.origin
                ),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => bail!("cannot watch the browser `{name}`: {e}"),
            }
        }
        Ok(())
    }
}

/// Puts the browser in a session of its own: closing the terminal or a
/// Ctrl-C there does not take the browser down.
fn own_session(cmd: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    #[cfg(not(unix))]
    let _ = cmd;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_by_program_name() {
        assert_eq!(family_of("/usr/bin/chromium"), Family::Chromium);
        assert_eq!(family_of("google-chrome-stable"), Family::Chromium);
        assert_eq!(family_of("C:/x/msedge.exe"), Family::Chromium);
        assert_eq!(family_of("firefox-esr"), Family::Firefox);
        assert_eq!(family_of("xdg-open"), Family::Other);
    }

    #[test]
    fn profile_dirs_are_one_per_profile_and_stay_inside() {
        let data = Path::new("/d");
        assert_eq!(
            profile_dir(data, Family::Chromium, "prod"),
            Path::new("/d/console/chromium/prod")
        );
        let odd = profile_dir(data, Family::Firefox, "../../etc");
        assert!(odd.starts_with("/d/console/firefox/"), "{odd:?}");
        assert_eq!(odd.components().count(), 5, "{odd:?}");
        assert_ne!(
            profile_dir(data, Family::Chromium, "a/b"),
            profile_dir(data, Family::Chromium, "a_b")
        );
    }

    #[test]
    fn the_url_goes_where_percent_s_is_else_last() {
        let browser = |cmd: &str, family| Browser {
            argv: shlex::split(cmd).unwrap(),
            program: PathBuf::from("/bin/true"),
            family,
            origin: "--browser",
        };
        let dir = Path::new("/p");
        assert_eq!(
            browser("chromium --headless", Family::Chromium).args("U", Some(dir)),
            ["--headless", "--user-data-dir=/p", "U"]
        );
        assert_eq!(
            browser("firefox -new-tab %s", Family::Firefox).args("U", Some(dir)),
            ["-new-tab", "U", "--profile", "/p"]
        );
        assert_eq!(browser("open", Family::Other).args("U", None), ["U"]);
    }
}
