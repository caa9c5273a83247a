//! What a shell gets from `eval "$(mfaenv …)"`, in real shells: a failed run
//! fails the `eval`; the format follows the shell that runs mfaenv and the
//! hook's choice never reaches child processes; `unset` touches only what
//! mfaenv set; keys are never shown on a terminal; a closed stdout is an error.

mod support;

use rexpect::session::PtySession;
use support::moto::Moto;
use support::sandbox::Sandbox;
use support::shells::{interactive, type_line, RealShell};

/// Runs `script` with `program -c` in the sandbox (no terminal), with the
/// binary in `$BIN`; returns (exit code, stdout, stderr).
fn script(sb: &Sandbox, shell: RealShell, script: &str) -> (i32, String, String) {
    let program = shell.require().expect("shell");
    let mut cmd = sb.command(program);
    match shell {
        RealShell::Bash => cmd.args(["--norc", "--noprofile", "-c", script]),
        RealShell::Zsh => cmd.args(["-f", "-c", script]),
        RealShell::Fish => cmd.args(["--no-config", "-c", script]),
    };
    let out = cmd.env("BIN", support::mfaenv_bin()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn bin() -> String {
    support::mfaenv_bin().display().to_string()
}

/// `eval`ing the output of `args` (a failing run), then `&&` a marker, and
/// the status: as each shell's users write it.
fn eval_and(shell: RealShell, args: &str) -> String {
    match shell {
        RealShell::Fish => format!(
            "'{}' {args} | source; and echo RA''N; echo st=$status",
            bin()
        ),
        _ => format!("eval \"$('{}' {args})\" && echo RA''N; echo st=$?", bin()),
    }
}

#[test]
fn a_failed_run_fails_the_eval_in_every_shell() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    for shell in RealShell::ALL {
        let mut s = interactive(shell, &sb, "", &[]);
        let screen = type_line(&mut s, &eval_and(shell, "nosuch"));
        assert!(
            screen.contains("profile `nosuch` not found"),
            "{shell:?}: {screen}"
        );
        assert!(!screen.contains("RAN"), "{shell:?}: `&&` went on: {screen}");
        assert!(screen.contains("st=1"), "{shell:?}: {screen}");
        s.send_line("exit").unwrap();
    }
    // `set -e` scripts stop at the failed eval.
    let (code, out, err) = script(
        &sb,
        RealShell::Bash,
        r#"set -e; eval "$("$BIN" nosuch)"; echo RAN"#,
    );
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    // The data formats print nothing at all; pwsh a terminating error.
    sb.fails(&["nosuch", "--shell", "json"]);
    sb.fails(&["export", "--shell", "dotenv", "nosuch"]);
    sb.fails(&["export", "--shell", "pwsh", "nosuch"]);
    sb.fails(&["unset", "--shell", "fish", "--bogus"]);
}

#[test]
fn the_shell_that_runs_mfaenv_picks_the_format() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "prod"]);
    // A login shell of another kind: the parent process wins over $SHELL.
    for (shell, login_shell) in [
        (RealShell::Fish, "/bin/bash"),
        (RealShell::Zsh, "/usr/bin/fish"),
        (RealShell::Bash, "/usr/bin/fish"),
    ] {
        let load = match shell {
            RealShell::Fish => r#""$BIN" prod | source; and echo "key=$AWS_ACCESS_KEY_ID""#,
            _ => r#"eval "$("$BIN" prod)" && echo "key=$AWS_ACCESS_KEY_ID""#,
        };
        let mut s = interactive(shell, &sb, "", &[("SHELL", login_shell), ("BIN", &bin())]);
        let screen = type_line(&mut s, load);
        assert!(
            screen.contains("key=ASIA"),
            "{shell:?} with SHELL={login_shell}: {screen}"
        );
        s.send_line("exit").unwrap();
    }
}

/// The hook of `shell`, as a user's rc file loads it.
fn hook_rc(shell: RealShell) -> String {
    match shell {
        RealShell::Fish => format!("'{}' hook fish | source", bin()),
        _ => format!("eval \"$('{}' hook {})\"", bin(), shell.program()),
    }
}

fn leak_check(s: &mut PtySession, shell: RealShell) {
    // A bash script started from this shell gets POSIX code, not the hook's format.
    let screen = type_line(
        s,
        r#"bash --norc -c 'echo "leak=${MFAENV_SHELL-none}"; eval "$("$BIN" prod)" && echo "key=$AWS_ACCESS_KEY_ID"'"#,
    );
    assert!(screen.contains("leak=none"), "{shell:?}: {screen}");
    assert!(screen.contains("key=ASIA"), "{shell:?}: {screen}");
    // Nor does a command run through the hook's `mfaenv` function.
    let screen = type_line(
        s,
        r#"mfaenv exec prod -- bash --norc -c 'echo "exec-leak=${MFAENV_SHELL-none}"'"#,
    );
    assert!(screen.contains("exec-leak=none"), "{shell:?}: {screen}");
}

#[test]
fn the_hooks_format_never_reaches_child_processes() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "prod"]);
    for shell in RealShell::ALL {
        // Also an MFAENV_SHELL exported by an older hook is dropped.
        let mut s = interactive(
            shell,
            &sb,
            &hook_rc(shell),
            &[("BIN", &bin()), ("MFAENV_SHELL", "fish")],
        );
        leak_check(&mut s, shell);
        // The hook's own eval still gets its shell's format.
        let load = match shell {
            RealShell::Fish => "mfaenv prod | source; and echo \"key=$AWS_ACCESS_KEY_ID\"",
            _ => "eval \"$(mfaenv prod)\" && echo \"key=$AWS_ACCESS_KEY_ID\"",
        };
        let screen = type_line(&mut s, load);
        assert!(screen.contains("key=ASIA"), "{shell:?}: {screen}");
        s.send_line("exit").unwrap();
    }
}

#[test]
fn unset_removes_only_what_mfaenv_set() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "prod"]);
    for shell in RealShell::ALL {
        let own = match shell {
            RealShell::Fish => {
                "set -gx AWS_ACCESS_KEY_ID mine; set -gx AWS_SECRET_ACCESS_KEY s3cret"
            }
            _ => "export AWS_ACCESS_KEY_ID=mine AWS_SECRET_ACCESS_KEY=s3cret",
        };
        let (undo, undo_all) = match shell {
            RealShell::Fish => ("\"$BIN\" unset | source", "\"$BIN\" unset --all | source"),
            _ => (
                "eval \"$(\"$BIN\" unset)\"",
                "eval \"$(\"$BIN\" unset --all)\"",
            ),
        };
        let show = "echo \"key=$AWS_ACCESS_KEY_ID secret=$AWS_SECRET_ACCESS_KEY\"";
        // Nothing set by mfaenv: the user's own keys stay, with a note.
        let (code, out, err) = script(&sb, shell, &format!("{own}; {undo}; {show}"));
        assert_eq!(code, 0, "{shell:?}: {err}");
        assert!(out.contains("key=mine secret=s3cret"), "{shell:?}: {out}");
        assert!(err.contains("nothing to undo"), "{shell:?}: {err}");
        // --all removes them.
        let (_, out, _) = script(&sb, shell, &format!("{own}; {undo_all}; {show}"));
        assert!(out.contains("key= secret="), "{shell:?}: {out}");
        // After an export, unset puts the user's key id back (the secret is
        // never stored, so it is removed).
        let load = match shell {
            RealShell::Fish => "\"$BIN\" prod | source",
            _ => "eval \"$(\"$BIN\" prod)\"",
        };
        let (_, out, err) = script(&sb, shell, &format!("{own}; {load}; {undo}; {show}"));
        assert!(out.contains("key=mine secret="), "{shell:?}: {out} {err}");
    }
}

#[test]
fn crafted_state_cannot_make_unset_restore_other_variables() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let state = format!(
        "PATH={} LD_PRELOAD={} HOME AWS_REGION={}",
        hex("/tmp/evil"),
        hex("/tmp/evil.so"),
        hex("eu-north-1")
    );
    let (code, out, err) = script(
        &sb,
        RealShell::Bash,
        &format!(
            r#"export MFAENV_PRIOR='{state}'; p=$PATH; eval "$("$BIN" unset)" || exit 9
               [ "$PATH" = "$p" ] && echo path-kept; echo "preload=${{LD_PRELOAD-none}} home=${{HOME:+set}} region=$AWS_REGION""#
        ),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("path-kept"), "{out}");
    assert!(
        out.contains("preload=none home=set region=eu-north-1"),
        "{out}"
    );
    for name in ["PATH", "LD_PRELOAD", "HOME"] {
        assert!(err.contains(&format!("ignoring `{name}`")), "{err}");
    }
}

#[test]
fn keys_are_not_shown_on_a_terminal() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    let mut s = interactive(RealShell::Bash, &sb, "", &[("BIN", &bin())]);
    moto.start_recording();
    let screen = type_line(&mut s, "\"$BIN\" -t 123456 prod; echo st=$?");
    assert!(screen.contains("stdout is a terminal"), "{screen}");
    assert!(screen.contains("eval \"$(mfaenv prod)\""), "{screen}");
    assert!(screen.contains("st=1"), "{screen}");
    assert!(
        !screen.contains("AWS_SECRET_ACCESS_KEY") && !screen.contains("false"),
        "{screen}"
    );
    assert_eq!(
        moto.count("GetSessionToken"),
        0,
        "refused before a code was spent"
    );
    // Asked for explicitly, it prints.
    for flag in ["--force", "--shell bash"] {
        let screen = type_line(&mut s, &format!("\"$BIN\" -t 123456 {flag} prod"));
        assert!(
            screen.contains("export AWS_SECRET_ACCESS_KEY="),
            "{flag}: {screen}"
        );
    }
}

#[test]
fn a_closed_or_broken_stdout_is_an_error() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "prod"]);
    for (what, line) in [
        (
            "closed",
            r#""$BIN" export --shell bash prod >&-; echo "st=$?""#,
        ),
        (
            "broken",
            r#"{ sleep 0.3; "$BIN" export --shell bash prod; } | true; echo "st=${PIPESTATUS[0]}""#,
        ),
    ] {
        let (_, out, err) = script(&sb, RealShell::Bash, line);
        assert!(out.contains("st=1"), "{what}: {out} {err}");
        assert_eq!(err.matches("mfaenv: error:").count(), 1, "{what}: {err}");
        assert!(err.contains("cannot write to stdout"), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
}

#[test]
fn powershells_failure_parses_and_changes_nothing() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let out = sb.run(&["export", "--shell", "pwsh", "nosuch"]);
    let code = String::from_utf8(out.stdout).unwrap();
    assert!(code.starts_with("throw '"), "{code}");
    if !support::pwsh::available() {
        return;
    }
    let parsed = support::pwsh::parse(&code);
    assert!(!parsed.has_error, "{:?}", parsed.errors);
    assert_eq!(
        parsed.assignments().count() + parsed.commands().count(),
        0,
        "{code}"
    );
}
