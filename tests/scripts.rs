//! The project's own scripts: scripts/system-deps (what scripts/test and
//! .ci/run install first) on a machine where packages are missing, with
//! stand-ins for dpkg-query, id, sudo and apt-get on PATH so that nothing is
//! installed for real.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn stub(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs scripts/system-deps with stubs on PATH: every package installed but
/// zsh; `id -u` prints `uid`; sudo exists and succeeds only when `sudo_ok`;
/// apt-get records its arguments. Returns (exit code, stderr, apt-get calls).
fn system_deps(uid: u32, sudo_ok: bool) -> (i32, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = tmp.path().join("apt.log");
    stub(
        &bin,
        "dpkg-query",
        r#"for last; do :; done; [ "$last" = zsh ] && { printf not-installed; exit 0; }; printf installed"#,
    );
    stub(&bin, "id", &format!("echo {uid}"));
    stub(
        &bin,
        "sudo",
        &format!(
            "[ \"$1\" = -n ] && shift; {}; [ \"$1\" = true ] && exit 0; exec \"$@\"",
            if sudo_ok { "true" } else { "exit 1" }
        ),
    );
    stub(
        &bin,
        "apt-get",
        &format!("echo \"$*\" >> '{}'", log.display()),
    );
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = Command::new(support::root().join("scripts/system-deps"))
        .env("PATH", path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

#[test]
fn missing_packages_without_root_name_the_apt_line_and_stop() {
    let (code, err, apt) = system_deps(1000, false);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("sudo apt-get install -y --no-install-recommends zsh"),
        "{err}"
    );
    assert!(!err.contains("fish"), "only what is missing: {err}");
    assert_eq!(apt, "", "nothing installed");
}

#[test]
fn missing_packages_are_installed_as_root_or_with_sudo() {
    for (uid, sudo_ok) in [(0, false), (1000, true)] {
        let (code, err, apt) = system_deps(uid, sudo_ok);
        assert_eq!(code, 0, "uid {uid}: {err}");
        assert_eq!(
            apt, "update -q\ninstall -y -q --no-install-recommends zsh\n",
            "uid {uid}"
        );
    }
}

#[test]
fn every_package_the_tests_name_is_in_the_list() {
    // A test that needs a program says how to install it.
    let text = support::missing_program("zsh");
    assert!(text.contains("sudo apt-get install zsh"), "{text}");
    let list = std::fs::read_to_string(support::root().join("scripts/apt-packages.txt")).unwrap();
    for program in ["zsh", "fish", "shellcheck", "direnv", "strace"] {
        assert!(
            list.lines().any(|l| l
                .split('#')
                .next()
                .unwrap()
                .split_whitespace()
                .any(|p| p == program)),
            "{program} missing from scripts/apt-packages.txt"
        );
    }
}

/// `scripts/try --keep` (with the binary under test, not a release build):
/// the demo runs, the emulator keeps running, and the printed lines point
/// another shell at it: `source DEMO/env.sh`, then mfaenv and the AWS CLI
/// work there against the same emulator; `DEMO/stop` ends it and deletes
/// the demo directory.
#[test]
fn try_keep_leaves_the_emulator_for_your_own_shell() {
    if support::require_venv_bin("moto_server").is_none() {
        return;
    }
    let Some(bash) = support::require_program("bash") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(support::root().join("scripts/try"))
        .arg("--keep")
        .env("MFAENV_TRY_BIN", support::mfaenv_bin())
        .env("TMPDIR", tmp.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("assumed-role/hc-master/"), "{stdout}");
    let line = |prefix: &str| {
        stdout
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line: {stdout}"))
            .trim_matches('\'')
            .to_string()
    };
    let env_sh = line("source ");
    let stop = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.ends_with("/stop'"))
        .unwrap_or_else(|| panic!("no stop line: {stdout}"))
        .trim_matches('\'')
        .to_string();
    let demo = Path::new(&stop).parent().unwrap().to_path_buf();
    let pid = std::fs::read_to_string(&env_sh)
        .unwrap()
        .split("(pid ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap()
        .to_string();
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "the emulator is gone"
    );

    // Another shell, with a HOME of its own: the printed lines suffice.
    let home = tmp.path().join("my-home");
    std::fs::create_dir(&home).unwrap();
    let script = format!(
        "source '{env_sh}'\n\
         eval \"$(mfaenv export --shell bash -t 123456 prod)\" || exit 3\n\
         aws sts get-caller-identity --query Arn --output text || exit 4\n\
         mfaenv status | grep -q '^prod ' || exit 5\n"
    );
    let shell = Command::new(&bash)
        .arg("-c")
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", &home)
        .output()
        .unwrap();
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&shell.stdout),
        String::from_utf8_lossy(&shell.stderr)
    );
    assert!(shell.status.success(), "{said}");
    assert!(said.contains("assumed-role/hc-master/"), "{said}");
    assert!(
        !home.join(".aws").exists() && !home.join(".cache").exists(),
        "{said}"
    );

    let stopped = Command::new(&stop).output().unwrap();
    assert!(stopped.status.success());
    for _ in 0..50 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the emulator still runs"
    );
    assert!(!demo.exists(), "{demo:?} is left");
}
