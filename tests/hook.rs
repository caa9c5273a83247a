//! The per-directory hook in real bash, zsh and fish, driven in a
//! pseudo-terminal: trust, load on enter, swap between projects, restore on
//! leave, hand edits kept, `$?` kept; no process on an idle prompt; direnv.

mod support;

use std::process::Command;

use rexpect::session::PtySession;
use support::fake_sts::{FakeSts, Reply};
use support::moto::Moto;
use support::sandbox::Sandbox;
use support::shells::{interactive, RealShell, PROMPT};

struct Project {
    moto: Moto,
    sb: Sandbox,
}

/// moto, a sandbox with prod and staging logged in, and two projects:
/// ~/proj-a (prod, with a subdirectory) and ~/proj-b (staging, region override).
fn projects() -> Option<Project> {
    let moto = Moto::start()?;
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "prod"]);
    sb.ok(&["login", "staging"]);
    let home = sb.home();
    std::fs::create_dir_all(home.join("proj-a/sub")).unwrap();
    std::fs::create_dir_all(home.join("proj-b")).unwrap();
    std::fs::write(home.join("proj-a/.mfaenv"), "profile = \"prod\"\n").unwrap();
    std::fs::write(
        home.join("proj-b/.mfaenv"),
        "profile = \"staging\"\nregion = \"eu-central-1\"\n",
    )
    .unwrap();
    // `show` is an outside program: it sees what the shell exports.
    std::fs::create_dir_all(home.join("bin")).unwrap();
    let show = home.join("bin/show");
    std::fs::write(
        &show,
        "#!/bin/sh\necho \"STATE key=${AWS_ACCESS_KEY_ID:-none} region=${AWS_REGION:-none} profile=${AWS_PROFILE:-none} mp=${MFAENV_PROFILE:-none}\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&show, std::fs::Permissions::from_mode(0o755)).unwrap();
    Some(Project { moto, sb })
}

/// An interactive shell with the hook installed, in a pty, with the
/// project's `bin/` first on PATH.
fn spawn(p: &Project, sh: RealShell) -> PtySession {
    spawn_after(p, sh, "")
}

/// [`spawn`], with `first` in the rc file before the hook's lines.
fn spawn_after(p: &Project, sh: RealShell, first: &str) -> PtySession {
    // (direnv compares mtimes in whole seconds: let one pass first.)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let path = format!(
        "{}:{}",
        p.sb.home().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    interactive(
        sh,
        &p.sb,
        &format!("{first}\n{}", sh.hook_rc(&support::mfaenv_bin())),
        &[("PATH", &path)],
    )
}

/// Runs `show` and returns (key, region, profile, mfaenv profile).
fn state(s: &mut PtySession) -> [String; 4] {
    s.send_line("show").unwrap();
    let (_, line) = s
        .exp_regex(r"STATE key=\S+ region=\S+ profile=\S+ mp=\S+")
        .expect("state line");
    let mut parts = line
        .split_whitespace()
        .skip(1)
        .map(|kv| kv.split_once('=').unwrap().1.to_string());
    std::array::from_fn(|_| parts.next().unwrap())
}

fn run(s: &mut PtySession, line: &str) {
    s.send_line(line).unwrap();
    s.exp_string(PROMPT).unwrap();
}

/// `mfaenv allow DIR`, waiting until it said so (a slow machine must not
/// let the next line race it).
fn allow(s: &mut PtySession, dir: &str) {
    s.send_line(&format!("mfaenv allow {dir}")).unwrap();
    s.exp_string("mfaenv: allowed ")
        .unwrap_or_else(|e| panic!("mfaenv allow {dir}: {e}"));
    s.exp_string(PROMPT).unwrap();
}

fn scenario(sh: RealShell) {
    scenario_after(sh, "")
}

/// The scenario with `first` in the rc file before the hook's lines.
fn scenario_after(sh: RealShell, first: &str) {
    let Some(p) = projects() else { return };
    let mut s = spawn_after(&p, sh, first);
    run(&mut s, &sh.export_line("AWS_PROFILE", "old"));

    // Untrusted: a hint, nothing loaded.
    s.send_line("cd proj-a").unwrap();
    s.exp_string("is not allowed yet").unwrap();
    let [key, _, profile, mp] = state(&mut s);
    assert_eq!(
        (key.as_str(), profile.as_str(), mp.as_str()),
        ("none", "old", "none"),
        "{sh:?}"
    );

    // Allowed: loaded at the next prompt, from the cache (no terminal prompt).
    s.send_line("mfaenv allow").unwrap();
    s.exp_string("loaded prod").unwrap();
    let [key_a, region, profile, mp] = state(&mut s);
    assert!(key_a.starts_with("ASIA"), "{sh:?}: {key_a}");
    assert_eq!(
        (region.as_str(), profile.as_str(), mp.as_str()),
        ("us-west-2", "none", "prod")
    );

    // A subdirectory keeps it.
    run(&mut s, "cd sub");
    assert_eq!(state(&mut s)[0], key_a);

    // Another project swaps keys and region (allowed first).
    allow(&mut s, "../../proj-b");
    s.send_line("cd ../../proj-b").unwrap();
    s.exp_string("loaded staging").unwrap();
    let [key_b, region, _, mp] = state(&mut s);
    assert!(key_b.starts_with("ASIA") && key_b != key_a, "{sh:?}");
    assert_eq!((region.as_str(), mp.as_str()), ("eu-central-1", "staging"));

    // Leaving restores the prior AWS_PROFILE and unsets the keys.
    s.send_line("cd ..").unwrap();
    s.exp_string("unloaded staging").unwrap();
    assert_eq!(
        state(&mut s),
        ["none", "none", "old", "none"].map(String::from),
        "{sh:?}"
    );

    // $? survives the hook (which runs at this prompt: the directory changed).
    run(&mut s, "cd proj-a; false");
    s.send_line(sh.status_line()).unwrap();
    s.exp_string("st=1").unwrap();

    // A variable changed by hand inside is left as the user set it.
    run(&mut s, &sh.export_line("AWS_REGION", "manual"));
    run(&mut s, "cd ..");
    assert_eq!(
        state(&mut s),
        ["none", "manual", "old", "none"].map(String::from),
        "{sh:?}"
    );

    // An edited .mfaenv is not applied until allowed again.
    std::fs::write(
        p.sb.home().join("proj-a/.mfaenv"),
        "profile = \"staging\"\n",
    )
    .unwrap();
    s.send_line("cd proj-a").unwrap();
    s.exp_string("is not allowed yet").unwrap();
    assert_eq!(state(&mut s)[0], "none");
    s.send_line("mfaenv allow").unwrap();
    s.exp_string("loaded staging").unwrap();
    let [_, region, _, mp] = state(&mut s);
    assert_eq!((region.as_str(), mp.as_str()), ("eu-west-1", "staging"));

    s.send_line("exit").unwrap();
    // Everything came from the cache filled before the shell started.
    assert_eq!(p.moto.count("GetSessionToken"), 1);
}

#[test]
fn bash_hook() {
    scenario(RealShell::Bash);
}

#[test]
fn zsh_hook() {
    scenario(RealShell::Zsh);
}

/// Users who turn on "unset variables are errors" in their rc file.
#[test]
fn bash_hook_under_set_u() {
    scenario_after(RealShell::Bash, "set -u")
}

#[test]
fn zsh_hook_under_setopt_nounset() {
    scenario_after(RealShell::Zsh, "setopt nounset")
}

#[test]
fn fish_hook() {
    scenario(RealShell::Fish);
}

#[test]
fn idle_bash_prompts_start_no_process() {
    idle_prompts_start_no_process(RealShell::Bash);
}

#[test]
fn idle_zsh_prompts_start_no_process() {
    idle_prompts_start_no_process(RealShell::Zsh);
}

/// fish has no clock variable: the hook reads the time with the `path`
/// builtin (fish >= 3.5), so an idle prompt in a loaded project starts no
/// process either.
#[test]
fn idle_fish_prompts_start_no_process() {
    idle_prompts_start_no_process(RealShell::Fish);
}

fn idle_prompts_start_no_process(sh: RealShell) {
    let Some(p) = projects() else { return };
    let mut s = spawn(&p, sh);
    allow(&mut s, "proj-a");
    run(&mut s, "cd proj-a");
    let idle = trace_execs(&p, &mut s, sh, &mut |s| {
        for _ in 0..5 {
            run(s, "");
        }
    });
    assert!(
        !idle.contains("mfaenv"),
        "an idle {sh:?} prompt started mfaenv:\n{idle}"
    );
    // The same trace does see the hook when the directory changes.
    let moved = trace_execs(&p, &mut s, sh, &mut |s| run(s, "cd sub"));
    assert!(
        moved.contains("hook-env"),
        "the trace saw no hook-env:\n{moved}"
    );
    s.send_line("exit").unwrap();
}

/// The processes the shell in `s` starts while `work` runs (strace's
/// execve lines).
fn trace_execs(
    p: &Project,
    s: &mut PtySession,
    sh: RealShell,
    work: &mut dyn FnMut(&mut PtySession),
) -> String {
    let strace = support::require_program("strace").expect("strace");
    s.send_line(match sh {
        RealShell::Fish => "echo PID=$fish_pid",
        _ => "echo PID=$$",
    })
    .unwrap();
    let (_, pid) = s.exp_regex(r"PID=[0-9]+").unwrap();
    let pid = pid.trim_start_matches("PID=").to_string();
    s.exp_string(PROMPT).unwrap();
    let trace = p.sb.home().join("trace");
    let mut tracer = Command::new(&strace)
        .args(["-f", "-e", "trace=execve", "-o"])
        .arg(&trace)
        .args(["-p", &pid])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("strace");
    std::thread::sleep(std::time::Duration::from_millis(500));
    work(s);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let _ = tracer.kill();
    let _ = tracer.wait();
    std::fs::read_to_string(&trace).unwrap_or_default()
}

#[test]
fn inside_a_project_the_secret_is_only_in_its_variable() {
    let Some(p) = projects() else { return };
    let mut s = spawn(&p, RealShell::Bash);
    allow(&mut s, "proj-a");
    run(&mut s, "cd proj-a");
    let dump = p.sb.home().join("env.dump");
    run(&mut s, &format!("env -0 > '{}'", dump.display()));
    s.send_line("exit").unwrap();
    let raw = std::fs::read(&dump).unwrap();
    let vars: Vec<(String, String)> = raw
        .split(|b| *b == 0)
        .filter_map(|kv| {
            let kv = String::from_utf8_lossy(kv);
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect();
    let secret = vars
        .iter()
        .find(|(k, _)| k == "AWS_SECRET_ACCESS_KEY")
        .map(|(_, v)| v.clone())
        .expect("loaded");
    let token = vars
        .iter()
        .find(|(k, _)| k == "AWS_SESSION_TOKEN")
        .map(|(_, v)| v.clone())
        .expect("loaded");
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    for (k, v) in &vars {
        if k != "AWS_SECRET_ACCESS_KEY" {
            assert!(
                !v.contains(&secret) && !v.contains(&hex),
                "{k} holds the secret"
            );
        }
        if k != "AWS_SESSION_TOKEN" {
            assert!(!v.contains(&token), "{k} holds the session token");
        }
    }
    assert!(vars.iter().any(|(k, _)| k == "MFAENV_PRIOR"));
}

#[test]
fn bash_hook_passes_shellcheck_and_installs_once() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let script = sb.ok(&["hook", "bash"]);
    let shellcheck = support::require_program("shellcheck").expect("shellcheck");
    let path = sb.home().join("hook.bash");
    std::fs::write(&path, &script).unwrap();
    let out = Command::new(shellcheck)
        .args(["-s", "bash"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Sourced twice, in both PROMPT_COMMAND forms, the hook is registered once, first.
    let check = r#"
        PROMPT_COMMAND='echo mine'
        eval "$(cat "$1")"; eval "$(cat "$1")"
        [[ "$PROMPT_COMMAND" == "_mfaenv_hook;echo mine" ]] || { echo "string: $PROMPT_COMMAND"; exit 1; }
        unset PROMPT_COMMAND; PROMPT_COMMAND=(first second)
        eval "$(cat "$1")"; eval "$(cat "$1")"
        [[ "${PROMPT_COMMAND[*]}" == "_mfaenv_hook first second" ]] || { echo "array: ${PROMPT_COMMAND[*]}"; exit 1; }
    "#;
    let out = sb
        .command("bash")
        .args(["--norc", "--noprofile", "-c", check, "check"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------- PowerShell
//
// PowerShell is not installable here: its hook and output are checked with
// its tree-sitter grammar (tests/support/pwsh_parse.py), snapshots, and the
// statements that carry each guarantee. Their behaviour is reviewed, not run.

/// `mfaenv hook pwsh` with the data dir (so the stamp file) under a name
/// that is not ASCII.
fn pwsh_hook(sb: &Sandbox, data_dir: &std::path::Path) -> String {
    let out = sb
        .mfaenv(&["hook", "pwsh"])
        .env("MFAENV_DATA_DIR", data_dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// The text of `function global:NAME { … }` in `script`, up to its closing
/// brace at the start of a line.
fn pwsh_function<'a>(script: &'a str, name: &str) -> &'a str {
    let start = script
        .find(&format!("function global:{name}"))
        .unwrap_or_else(|| panic!("no {name}"));
    let rest = &script[start..];
    &rest[..rest.find("\n}\n").map_or(rest.len(), |end| end + 2)]
}

#[test]
fn pwsh_hook_parses_and_carries_its_guards() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let data = sb.home().join("d\u{E4}t\u{E4}\u{2019}s");
    let script = pwsh_hook(&sb, &data);
    let parsed = support::pwsh::parse(&script);
    assert!(!parsed.has_error, "{:?}", parsed.errors);
    assert!(script.is_ascii(), "the hook is read through a code page");
    // The stamp file, named through `[char]` for what is not ASCII.
    let stamp = parsed
        .assignment_to("$global:_MfaenvStampFile")
        .expect("stamp file");
    assert_eq!(
        stamp.value().unwrap(),
        data.join("hook-stamp").to_str().unwrap()
    );
    // No MFAENV_SHELL (children would inherit it), no `mfaenv` function
    // (it would drop `--` and always leave `$?` true).
    assert!(!script.contains("MFAENV_SHELL"));
    assert!(!script.contains("function global:mfaenv"));
    let row_of = |needle: &str| {
        parsed
            .statements
            .iter()
            .find_map(|st| match st {
                support::pwsh::Statement::Assignment(a) if a.text.starts_with(needle) => {
                    Some(a.row)
                }
                support::pwsh::Statement::Command(c) if c.text.starts_with(needle) => Some(c.row),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no statement starts with {needle:?}"))
    };

    // 1. LocationChangedAction: combined with the delegate already there,
    //    never overwritten, never called with `&`; 7 only.
    let location = "$ExecutionContext.SessionState.InvokeCommand.LocationChangedAction";
    let sets: Vec<_> = parsed
        .assignments()
        .filter(|a| a.variable == location)
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(
        sets[0].rhs_text,
        "[Delegate]::Combine($current, $global:_MfaenvLocationAction)"
    );
    assert!(
        script.contains("$current.GetInvocationList() -notcontains $global:_MfaenvLocationAction")
    );
    let guard = script
        .find("if ($PSVersionTable.PSVersion.Major -ge 7) {")
        .expect("version guard");
    assert!(
        guard
            < script
                .find("[EventHandler[System.Management.Automation.LocationChangedEventArgs]]")
                .unwrap()
    );
    assert!(guard < script.find("[Delegate]::Combine").unwrap());
    assert!(!parsed
        .commands()
        .any(|c| c.text.starts_with("& $") && c.text.contains("LocationAction")));

    // 3. $LASTEXITCODE: saved before the native call, put back in `finally`.
    let apply = pwsh_function(&script, "_MfaenvApply");
    let call = apply.find("hook-env --shell pwsh").expect("native call");
    let save = apply
        .find("$exitCode = if ($hadExitCode) { $global:LASTEXITCODE }")
        .expect("save");
    let finally = apply.find("} finally {").expect("finally");
    let restore = apply
        .find("$global:LASTEXITCODE = $exitCode")
        .expect("restore");
    assert!(
        save < call && call < finally && finally < restore,
        "{apply}"
    );
    // 8. $env:PWD for the call, and back afterwards.
    assert!(apply.find("$env:PWD = $here").unwrap() < call);
    assert!(finally < apply.find("$env:PWD = $oldPwd").unwrap());

    // 4. $?: read first, handed to the previous prompt right before it runs.
    let status = row_of("$status = $global:?");
    let write_error = row_of("Write-Error -Message 'mfaenv' -ErrorAction Ignore");
    let previous = row_of("& $previous");
    assert!(status < row_of("$null = _MfaenvHook") && write_error + 1 == previous);
    let wrapper = parsed.assignment_to("$wrapper").expect("wrapper");
    assert!(wrapper
        .rhs_text
        .starts_with("{\n        $status = $global:?\n"));

    // 6. Ctrl-C: held back only around Invoke-Expression of captured output,
    //    set inside try, restored in finally, never on a redirected stdin.
    let eval = pwsh_function(&script, "_MfaenvEval");
    let try_at = eval.find("try {").unwrap();
    let set = eval
        .find("[Console]::TreatControlCAsInput = $true")
        .unwrap();
    let invoke = eval.find("Invoke-Expression $code").unwrap();
    let finally = eval.find("} finally {").unwrap();
    assert!(try_at < set && set < invoke && invoke < finally, "{eval}");
    assert!(eval.contains("if (-not [Console]::IsInputRedirected)"));
    assert!(!apply.contains("TreatControlCAsInput"));
    assert!(!pwsh_function(&script, "_MfaenvHook").contains("TreatControlCAsInput"));

    // 8. Case-sensitive directories, a TryParse'd clock, declared state,
    //    and a prompt re-wrapped when a reload replaced it.
    let hook = pwsh_function(&script, "_MfaenvHook");
    assert!(hook.contains("($here -cne $global:_MfaenvPwd)"));
    assert!(hook.contains("[long]::TryParse([string]$env:MFAENV_REFRESH_AT, [ref]$refreshAt)"));
    assert!(!script.contains("[long]$env:"));
    for name in ["$global:_MfaenvPwd", "$global:_MfaenvStamp"] {
        assert!(parsed
            .assignments()
            .any(|a| a.variable == name && a.depth == 0 && a.rhs_text == "$null"));
    }
    assert!(script.contains("if ([string]$function:prompt -cne [string]$wrapper) {"));
    assert!(!script.contains("Test-Path variable:global:_MfaenvOriginalPrompt"));
}

/// The hook script as a whole, for review (paths replaced).
#[test]
fn pwsh_hook_snapshot() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let data = sb.home().join("data");
    let script = pwsh_hook(&sb, &data)
        .replace(support::mfaenv_bin().to_str().unwrap(), "[MFAENV]")
        .replace(data.join("hook-stamp").to_str().unwrap(), "[STAMP]");
    insta::assert_snapshot!(script);
}

/// `mfaenv hook-env --shell pwsh` in `dir`: (stdout, stderr).
fn pwsh_hook_env(sb: &Sandbox, dir: &std::path::Path, env: &[(&str, String)]) -> (String, String) {
    let mut cmd = sb.mfaenv(&["hook-env", "--shell", "pwsh"]);
    cmd.current_dir(dir).env("PWD", dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("hook-env");
    assert!(out.status.success());
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The output of every hook-env branch parses as PowerShell, is ASCII, and
/// each value reads back; the snapshots show each branch's statements, with
/// secrets, clocks and hashes replaced.
#[test]
fn pwsh_hook_env_branches() {
    let Some(p) = projects() else { return };
    let home = p.sb.home();
    let dir = home.join("pr\u{F8}j-\u{E4}\u{2019}");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".mfaenv"), "profile = \"prod\"\n").unwrap();
    let check = |branch: &str, out: &str| -> Vec<(String, String)> {
        let parsed = support::pwsh::parse(out);
        assert!(!parsed.has_error, "{branch}: {:?}\n{out}", parsed.errors);
        assert!(out.is_ascii(), "{branch}: {out}");
        let values: Vec<(String, String)> = parsed
            .assignments()
            .map(|a| {
                let name = a
                    .variable
                    .trim_start_matches("${env:")
                    .trim_end_matches('}');
                (
                    name.to_string(),
                    a.value().unwrap_or_else(|e| panic!("{branch}: {e}")),
                )
            })
            .collect();
        let redacted: String = out
            .lines()
            .map(|line| {
                let secret = [
                    "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY",
                    "AWS_SESSION_TOKEN",
                    "AWS_CREDENTIAL_EXPIRATION",
                    "MFAENV_SET",
                    "MFAENV_REFRESH_AT",
                    "MFAENV_HINT",
                ]
                .iter()
                .find(|n| line.starts_with(&format!("${{env:{n}}} = ")));
                match secret {
                    Some(n) => format!("${{env:{n}}} = '[redacted]'\n"),
                    None => format!("{}\n", line.replace(home.to_str().unwrap(), "[HOME]")),
                }
            })
            .collect();
        insta::assert_snapshot!(format!("pwsh_hook_env_{branch}"), redacted);
        values
    };
    let get = |vars: &[(String, String)], name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };

    let (out, err) = pwsh_hook_env(&p.sb, &dir, &[]);
    assert!(err.contains("not allowed yet"), "{err}");
    check("untrusted", &out);

    p.sb.ok(&["allow", dir.to_str().unwrap()]);
    let (out, err) = pwsh_hook_env(&p.sb, &dir, &[]);
    assert!(err.contains("loaded prod"), "{err}");
    let loaded = check("enter", &out);
    assert_eq!(get(&loaded, "MFAENV_DIR").as_deref(), dir.to_str());
    let state: Vec<(&str, String)> = loaded
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();

    // Near expiry, fresher keys cached: loaded, with one line.
    let soon = humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() + std::time::Duration::from_secs(120),
    )
    .to_string();
    let mut due = state.clone();
    due.push(("AWS_CREDENTIAL_EXPIRATION", soon));
    due.push(("MFAENV_REFRESH_AT", "1".into()));
    let (out, err) = pwsh_hook_env(&p.sb, &dir, &due);
    assert!(err.starts_with("mfaenv: refreshed prod ("), "{err}");
    check("refresh", &out);

    // Near expiry, nothing fresher cached: a hint, and the next look at expiry.
    p.sb.ok(&["forget", "--all"]);
    let soon = humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() + std::time::Duration::from_secs(120),
    )
    .to_string();
    let mut near = state.clone();
    near.push(("AWS_CREDENTIAL_EXPIRATION", soon));
    near.push(("MFAENV_REFRESH_AT", "1".into()));
    let (out, err) = pwsh_hook_env(&p.sb, &dir, &near);
    assert!(err.contains("expire in"), "{err}");
    check("near_expiry", &out);

    let past = humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() - std::time::Duration::from_secs(5),
    )
    .to_string();
    let mut expired = state.clone();
    expired.push(("AWS_CREDENTIAL_EXPIRATION", past));
    expired.push(("MFAENV_REFRESH_AT", "1".into()));
    let (out, err) = pwsh_hook_env(&p.sb, &dir, &expired);
    assert!(err.contains("have expired"), "{err}");
    check("expired", &out);

    // Leave: everything mfaenv set goes, the state with it.
    let (out, err) = pwsh_hook_env(&p.sb, home, &state);
    assert!(err.contains("unloaded prod"), "{err}");
    check("leave", &out);
    assert!(out.contains("Remove-Item -LiteralPath env:/AWS_ACCESS_KEY_ID"));
    assert!(out.contains("Remove-Item -LiteralPath env:/MFAENV_DIR"));
}

/// `allow`, `deny` and `login` give the stamp file the PowerShell hook
/// watches a new version (0600, in the data dir); a failed command does not;
/// the bash, zsh and fish hooks never name it.
#[test]
fn allow_deny_login_touch_the_pwsh_stamp() {
    use std::os::unix::fs::PermissionsExt;
    let Some(p) = projects() else { return };
    let home = p.sb.home();
    let data = home.join("data");
    let stamp = data.join("hook-stamp");
    let run = |args: &[&str]| {
        p.sb.mfaenv(args)
            .env("MFAENV_DATA_DIR", &data)
            .output()
            .unwrap()
    };
    let version = || std::fs::read(&stamp).ok();
    assert_eq!(version(), None);
    let dir = home.join("proj-a");
    assert!(run(&["allow", dir.to_str().unwrap()]).status.success());
    let after_allow = version().expect("allow touched the stamp");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&stamp), 0o600);
    assert_eq!(mode(&data), 0o700);
    assert!(run(&["deny", dir.to_str().unwrap()]).status.success());
    let after_deny = version().unwrap();
    assert_ne!(after_deny, after_allow);
    assert!(run(&["login", "prod"]).status.success());
    let after_login = version().unwrap();
    assert_ne!(after_login, after_deny);
    // Failures change nothing.
    assert!(!run(&["allow", home.to_str().unwrap()]).status.success());
    assert!(!run(&["login", "no-such-profile"]).status.success());
    assert_eq!(version().unwrap(), after_login);
    // The pwsh hook watches exactly that file; the others never look.
    let script = pwsh_hook(&p.sb, &data);
    let parsed = support::pwsh::parse(&script);
    let watched = parsed.assignment_to("$global:_MfaenvStampFile").unwrap();
    assert_eq!(watched.value().unwrap(), stamp.to_str().unwrap());
    for shell in ["bash", "zsh", "fish"] {
        assert!(!p.sb.ok(&["hook", shell]).contains("hook-stamp"), "{shell}");
    }
}

#[test]
fn direnv_use_mfaenv_loads_and_unloads() {
    let Some(p) = projects() else { return };
    let direnv = support::require_program("direnv").expect("direnv");
    let home = p.sb.home();
    let lib = p.sb.ok(&["direnv"]);
    std::fs::create_dir_all(home.join(".config/direnv")).unwrap();
    std::fs::write(home.join(".config/direnv/direnvrc"), lib).unwrap();
    let proj = home.join("proj-d");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".envrc"), "use mfaenv prod\n").unwrap();
    let allowed =
        p.sb.command(&direnv)
            .arg("allow")
            .arg(&proj)
            .output()
            .unwrap();
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );

    let bash = support::require_program("bash").expect("bash");
    let rc = home.join("direnv-bashrc");
    std::fs::write(
        &rc,
        format!(
            "PS1='{PROMPT}'\neval \"$('{}' hook bash)\"\n",
            direnv.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(bash);
    cmd.env_clear().envs(p.sb.env()).current_dir(home);
    cmd.env(
        "PATH",
        format!(
            "{}:{}",
            home.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    cmd.arg("--noprofile").arg("--rcfile").arg(&rc).arg("-i");
    let mut s = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    s.exp_string(PROMPT).unwrap();
    run(&mut s, "cd proj-d");
    let [key, region, _, _] = state(&mut s);
    assert!(key.starts_with("ASIA"), "{key}");
    assert_eq!(region, "us-west-2");
    // `mfaenv login` rewrites the cache directory direnv watches: reloaded
    // at the next prompt, with the new role session's keys.
    // (direnv compares mtimes in whole seconds: let one pass first.)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mfaenv = support::mfaenv_bin();
    run(
        &mut s,
        &format!(
            "'{0}' forget prod && '{0}' login -t 123456 prod",
            mfaenv.display()
        ),
    );
    s.send_line("").unwrap();
    s.exp_string("direnv: loading").unwrap();
    let fresh = state(&mut s)[0].clone();
    assert!(
        fresh.starts_with("ASIA") && fresh != key,
        "{fresh} vs {key}"
    );
    run(&mut s, "cd ..");
    assert_eq!(state(&mut s)[0], "none");
    s.send_line("exit").unwrap();
}

/// Runs `mfaenv hook-env --shell bash` in `dir` with `env` on top of the
/// sandbox's; returns (the exported NAME=value pairs, the unset names, stderr).
fn hook_env(
    sb: &Sandbox,
    dir: &std::path::Path,
    env: &[(&str, String)],
) -> (Vec<(String, String)>, Vec<String>, String) {
    let mut cmd = sb.mfaenv(&["hook-env", "--shell", "bash"]);
    cmd.current_dir(dir).env("PWD", dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("hook-env");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let unsets = stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix("unset ")
                .map(|n| n.trim_end_matches(';').to_string())
        })
        .collect();
    (
        support::sandbox::bash_exports(&stdout),
        unsets,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn get<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn untrusted_hint_once_per_file_version() {
    let Some(p) = projects() else { return };
    let dir = p.sb.home().join("proj-a");
    let (vars, _, err) = hook_env(&p.sb, &dir, &[]);
    assert!(err.contains("not allowed yet"), "{err}");
    let hint = get(&vars, "MFAENV_HINT").expect("hint state").to_string();
    assert!(get(&vars, "AWS_ACCESS_KEY_ID").is_none());
    // The next prompt (a subdirectory, same file version): quiet.
    let (_, _, err) = hook_env(&p.sb, &dir.join("sub"), &[("MFAENV_HINT", hint.clone())]);
    assert!(err.is_empty(), "{err}");
    // A new version of the file: a new hint.
    std::fs::write(dir.join(".mfaenv"), "profile = \"staging\"\n").unwrap();
    let (_, _, err) = hook_env(&p.sb, &dir, &[("MFAENV_HINT", hint)]);
    assert!(err.contains("not allowed yet"), "{err}");
}

#[test]
fn near_expiry_picks_up_fresher_keys_or_hints_once() {
    let Some(p) = projects() else { return };
    let dir = p.sb.home().join("proj-a");
    p.sb.ok(&["allow", dir.to_str().unwrap()]);
    let (loaded, _, err) = hook_env(&p.sb, &dir, &[]);
    assert!(err.contains("loaded prod"), "{err}");
    let mut state: Vec<(&str, String)> = loaded
        .iter()
        .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("MFAENV_"))
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let set = |state: &mut Vec<(&str, String)>, name: &'static str, value: String| {
        state.retain(|(k, _)| *k != name);
        state.push((name, value));
    };
    // The shell's keys are about to expire; the cache holds the same ones.
    let soon = humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() + std::time::Duration::from_secs(120),
    )
    .to_string();
    set(&mut state, "AWS_CREDENTIAL_EXPIRATION", soon);
    set(&mut state, "MFAENV_REFRESH_AT", "1".into());
    // Fresher keys in the cache (they expire later than the shell's): taken,
    // with one line that says so.
    let (vars, _, err) = hook_env(&p.sb, &dir, &state);
    assert!(
        err.starts_with("mfaenv: refreshed prod (") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(
        get(&vars, "AWS_ACCESS_KEY_ID"),
        get(&loaded, "AWS_ACCESS_KEY_ID")
    );
    assert_eq!(
        get(&vars, "AWS_CREDENTIAL_EXPIRATION"),
        get(&loaded, "AWS_CREDENTIAL_EXPIRATION")
    );
    // Nothing fresher in the cache: one hint, and the next look is at expiry.
    p.sb.ok(&["forget", "--all"]);
    let (vars, _, err) = hook_env(&p.sb, &dir, &state);
    assert!(
        err.contains("prod credentials expire in") && err.contains("mfaenv login prod"),
        "{err}"
    );
    let next = get(&vars, "MFAENV_REFRESH_AT")
        .expect("next look")
        .to_string();
    assert!(get(&vars, "AWS_ACCESS_KEY_ID").is_none(), "no keys change");
    set(&mut state, "MFAENV_REFRESH_AT", next);
    let (_, _, err) = hook_env(&p.sb, &dir, &state);
    assert!(err.is_empty(), "one hint per session: {err}");
    // Past expiry: said once, and the hook stops looking.
    let past = humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() - std::time::Duration::from_secs(5),
    )
    .to_string();
    set(&mut state, "AWS_CREDENTIAL_EXPIRATION", past);
    set(&mut state, "MFAENV_REFRESH_AT", "1".into());
    let (_, unsets, err) = hook_env(&p.sb, &dir, &state);
    assert!(err.contains("have expired"), "{err}");
    assert!(unsets.iter().any(|u| u == "MFAENV_REFRESH_AT"));
}

#[test]
fn bash_clock_triggers_the_refresh() {
    clock_triggers_the_refresh(RealShell::Bash);
}

#[test]
fn zsh_clock_triggers_the_refresh() {
    clock_triggers_the_refresh(RealShell::Zsh);
}

#[test]
fn fish_clock_triggers_the_refresh() {
    clock_triggers_the_refresh(RealShell::Fish);
}

fn clock_triggers_the_refresh(sh: RealShell) {
    let Some(p) = projects() else { return };
    let mut s = spawn(&p, sh);
    allow(&mut s, "proj-a");
    s.send_line("cd proj-a").unwrap();
    s.exp_string("loaded prod").unwrap();
    let key = state(&mut s)[0].clone();
    // Pretend the loaded keys are old and due: the next idle prompt (no cd)
    // must run hook-env, which finds the cache's later expiry and re-exports.
    run(
        &mut s,
        &sh.export_line("AWS_CREDENTIAL_EXPIRATION", "2020-01-01T00:00:00Z"),
    );
    run(&mut s, &sh.export_line("MFAENV_REFRESH_AT", "1"));
    run(&mut s, "");
    s.send_line("echo \"exp=$AWS_CREDENTIAL_EXPIRATION at=$MFAENV_REFRESH_AT\"")
        .unwrap();
    let (_, line) = s.exp_regex(r"exp=\S+ at=[0-9]+").unwrap();
    assert!(!line.contains("2020-01-01"), "{sh:?}: {line}");
    assert!(
        !line.contains("at=1\r") && !line.ends_with("at=1"),
        "{line}"
    );
    assert_eq!(state(&mut s)[0], key);
    s.send_line("exit").unwrap();
}

#[test]
fn the_hook_asks_for_a_code_once_skips_on_empty_and_can_be_told_never() {
    let Some(p) = projects() else { return };
    p.sb.ok(&["forget", "--all"]);
    p.sb.ok(&["allow", p.sb.home().join("proj-a").to_str().unwrap()]);
    p.sb.ok(&["allow", p.sb.home().join("proj-b").to_str().unwrap()]);
    let mut s = spawn(&p, RealShell::Bash);
    // Nothing cached: the hook asks on the terminal; an empty answer skips.
    s.send_line("cd proj-a").unwrap();
    s.exp_string("MFA code for arn:aws:iam::111111111111:mfa/alice: ")
        .unwrap();
    s.send_line("").unwrap();
    s.exp_string("prod needs an MFA code: run `mfaenv login prod`")
        .unwrap();
    assert_eq!(state(&mut s)[0], "none");
    // Same file version: no second question on the next cd.
    s.send_line("cd sub").unwrap();
    s.send_line("show").unwrap();
    let (before, _) = s.exp_regex(r"STATE key=\S+").unwrap();
    assert!(!before.contains("MFA code for"), "asked again: {before}");
    // `mfaenv login` (through the hook's function) loads it at the next prompt.
    s.send_line("mfaenv login -t 123456 prod").unwrap();
    s.exp_string("loaded prod").unwrap();
    assert!(state(&mut s)[0].starts_with("ASIA"));
    // MFAENV_HOOK_PROMPT=never: a hint, no question.
    run(&mut s, "cd ../..");
    run(
        &mut s,
        "mfaenv forget --all; export MFAENV_HOOK_PROMPT=never",
    );
    s.send_line("cd proj-b").unwrap();
    s.send_line("show").unwrap();
    let (before, _) = s.exp_regex(r"STATE key=\S+").unwrap();
    assert!(before.contains("staging needs an MFA code"), "{before}");
    assert!(
        !before.contains("MFA code for"),
        "asked despite never: {before}"
    );
    // And answering the question loads the project.
    run(&mut s, "cd ..; unset MFAENV_HOOK_PROMPT");
    std::fs::write(
        p.sb.home().join("proj-a/.mfaenv"),
        "profile = \"prod\"\nregion = \"us-east-2\"\n",
    )
    .unwrap();
    allow(&mut s, "proj-a");
    s.send_line("cd proj-a").unwrap();
    s.exp_string("MFA code for arn:aws:iam::111111111111:mfa/alice: ")
        .unwrap();
    s.send_line("123456").unwrap();
    s.exp_string("loaded prod").unwrap();
    let [key, region, _, _] = state(&mut s);
    assert!(key.starts_with("ASIA"), "{key}");
    assert_eq!(region, "us-east-2");
    s.send_line("exit").unwrap();
}

/// A sandbox on the fake STS whose `base` gets its code from `helper`, and
/// an allowed project ~/proj-h that loads `base`.
fn helper_project(fake: &FakeSts, helper: &str) -> (Sandbox, std::path::PathBuf) {
    let sb = Sandbox::new(&fake.endpoint());
    sb.add_config(&format!("\n[profile base]\nmfa_process = {helper}\n"));
    let dir = sb.home().join("proj-h");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".mfaenv"), "profile = \"base\"\n").unwrap();
    sb.ok(&["allow", dir.to_str().unwrap()]);
    (sb, dir)
}

fn lines_of(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn the_hook_runs_mfa_process_only_when_it_may_ask_and_once_per_version() {
    let fake = FakeSts::start();
    fake.on("GetSessionToken", vec![Reply::invalid_mfa_code()]);
    let runs = tempfile::tempdir().unwrap();
    let log = runs.path().join("runs");
    let env_dump = runs.path().join("env");
    let helper = format!(
        "echo run >> '{}'; env > '{}'; echo 123456",
        log.display(),
        env_dump.display()
    );
    let (sb, dir) = helper_project(&fake, &helper);
    // MFAENV_HOOK_PROMPT=never: no code source at all, however often one enters.
    for _ in 0..3 {
        let never = [("MFAENV_HOOK_PROMPT", "never".to_string())];
        let (vars, _, err) = hook_env(&sb, &dir, &never);
        assert!(err.contains("base needs an MFA code"), "{err}");
        assert!(get(&vars, "AWS_ACCESS_KEY_ID").is_none());
    }
    assert_eq!(lines_of(&log), 0, "mfa_process ran despite never");
    assert_eq!(fake.count("GetSessionToken"), 0);
    // Allowed to ask: one run, one call; AWS refuses the code; said once.
    let secrets = [
        ("AWS_ACCESS_KEY_ID", "ASIAHOOKSHELLKEY0001".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "hook/shell/SECRET".to_string()),
        ("AWS_SESSION_TOKEN", "hook-shell-session-TOKEN".to_string()),
    ];
    let (vars, _, err) = hook_env(&sb, &dir, &secrets);
    assert!(err.contains("AWS rejected the MFA code"), "{err}");
    let hint = get(&vars, "MFAENV_HINT").expect("hint state").to_string();
    assert_eq!((lines_of(&log), fake.count("GetSessionToken")), (1, 1));
    let seen = std::fs::read_to_string(&env_dump).unwrap();
    for (name, value) in &secrets {
        assert!(!seen.contains(value.as_str()), "{name} reached mfa_process");
    }
    // The same file version again (a cd out and back in): nothing runs.
    for _ in 0..3 {
        let (_, _, err) = hook_env(&sb, &dir, &[("MFAENV_HINT", hint.clone())]);
        assert!(err.is_empty(), "{err}");
    }
    assert_eq!((lines_of(&log), fake.count("GetSessionToken")), (1, 1));
}

#[test]
fn the_hook_does_not_wait_for_a_child_mfa_process_left_behind() {
    let fake = FakeSts::start();
    let (sb, dir) = helper_project(&fake, "sleep 30 & echo 123456");
    let started = std::time::Instant::now();
    let (vars, _, err) = hook_env(&sb, &dir, &[]);
    let took = started.elapsed();
    assert!(err.contains("loaded base"), "{err}");
    assert!(get(&vars, "AWS_ACCESS_KEY_ID").is_some_and(|k| k.starts_with("ASIA")));
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    // A helper that never ends is stopped after MFAENV_MFA_PROCESS_TIMEOUT.
    let (sb, dir) = helper_project(&fake, "sleep 30; echo 123456");
    sb.ok(&["forget", "--all"]);
    let started = std::time::Instant::now();
    let (vars, _, err) = hook_env(
        &sb,
        &dir,
        &[("MFAENV_MFA_PROCESS_TIMEOUT", "1".to_string())],
    );
    let took = started.elapsed();
    assert!(err.contains("did not finish within 1s"), "{err}");
    assert!(get(&vars, "AWS_ACCESS_KEY_ID").is_none());
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
}

/// `mfaenv allow` with nothing cached: the next prompt asks for the code at
/// the real prompt and loads (or, told never to ask, says the one-line hint),
/// although the untrusted file's hint was already shown for this version.
fn allow_without_a_cached_session(sh: RealShell) {
    let Some(p) = projects() else { return };
    p.sb.ok(&["forget", "--all"]);
    let mut s = spawn(&p, sh);
    // Told not to ask: the hint that says how to load it.
    run(&mut s, &sh.export_line("MFAENV_HOOK_PROMPT", "never"));
    s.send_line("cd proj-b").unwrap();
    s.exp_string("is not allowed yet").unwrap();
    s.send_line("mfaenv allow").unwrap();
    s.exp_string("allowed").unwrap();
    s.exp_string("staging needs an MFA code: run `mfaenv login staging`")
        .unwrap();
    assert_eq!(state(&mut s)[0], "none", "{sh:?}");
    run(&mut s, "cd ..");
    let unset = match sh {
        RealShell::Fish => "set -e MFAENV_HOOK_PROMPT",
        _ => "unset MFAENV_HOOK_PROMPT",
    };
    run(&mut s, unset);
    // Allowed to ask: the code is typed at the prompt, and it loads.
    s.send_line("cd proj-a").unwrap();
    s.exp_string("is not allowed yet").unwrap();
    s.send_line("mfaenv allow").unwrap();
    s.exp_string("MFA code for arn:aws:iam::111111111111:mfa/alice: ")
        .unwrap();
    s.send_line("123456").unwrap();
    s.exp_string("loaded prod").unwrap();
    let [key, region, _, mp] = state(&mut s);
    assert!(key.starts_with("ASIA"), "{sh:?}: {key}");
    assert_eq!(
        (region.as_str(), mp.as_str()),
        ("us-west-2", "prod"),
        "{sh:?}"
    );
    s.send_line("exit").unwrap();
}

#[test]
fn bash_allow_without_a_cached_session_asks_and_loads() {
    allow_without_a_cached_session(RealShell::Bash);
}

#[test]
fn zsh_allow_without_a_cached_session_asks_and_loads() {
    allow_without_a_cached_session(RealShell::Zsh);
}

#[test]
fn fish_allow_without_a_cached_session_asks_and_loads() {
    allow_without_a_cached_session(RealShell::Fish);
}

// ------------------------------------------------- refresh before expiry

/// A role whose sessions last 15 minutes, logged in (its MFA session is
/// prod's), and ~/proj-r that loads it with a refresh window longer than
/// that: due as soon as it is loaded.
fn short_role_project(p: &Project) {
    p.sb.add_config(
        "\n[profile r15]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/r15\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nduration_seconds = 900\nregion = us-west-2\n",
    );
    p.sb.ok(&["login", "r15"]);
    let dir = p.sb.home().join("proj-r");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".mfaenv"),
        "profile = \"r15\"\nrefresh_before = \"20m\"\n",
    )
    .unwrap();
}

/// Near expiry the next prompt renews the role's keys from the cached MFA
/// session: new keys, one line, exactly one AssumeRole and no
/// GetSessionToken; then the prompts with nothing to do start no process.
fn refresh_before_expiry(sh: RealShell) {
    let Some(p) = projects() else { return };
    short_role_project(&p);
    let mut s = spawn(&p, sh);
    allow(&mut s, "proj-r");
    let (sessions, roles) = (p.moto.count("GetSessionToken"), p.moto.count("AssumeRole"));
    // The keys the cache holds, which entering loads.
    let cached = support::sandbox::bash_exports(&p.sb.ok(&["export", "--shell", "bash", "r15"]));
    let loaded = get(&cached, "AWS_ACCESS_KEY_ID")
        .expect("cached")
        .to_string();
    s.send_line("cd proj-r").unwrap();
    s.exp_string("loaded r15").unwrap();
    // Renewed at once: zsh and fish at the prompt of the `cd` itself (their
    // directory hook and prompt hook both run), bash at the next one.
    s.send_line("").unwrap();
    s.exp_string("mfaenv: refreshed r15 (").unwrap();
    s.exp_string(PROMPT).unwrap();
    let fresh = state(&mut s)[0].clone();
    assert!(
        fresh.starts_with("ASIA") && fresh != loaded,
        "{sh:?}: {fresh} vs {loaded}"
    );
    let idle = trace_execs(&p, &mut s, sh, &mut |s| {
        for _ in 0..4 {
            run(s, "");
        }
    });
    assert!(
        !idle.contains("mfaenv"),
        "an idle {sh:?} prompt after the refresh started mfaenv:\n{idle}"
    );
    assert_eq!(state(&mut s)[0], fresh, "{sh:?}: renewed again");
    s.send_line("exit").unwrap();
    assert_eq!(
        (
            p.moto.count("GetSessionToken") - sessions,
            p.moto.count("AssumeRole") - roles
        ),
        (0, 1),
        "{sh:?}: STS calls of the refresh"
    );
}

#[test]
fn bash_refreshes_before_expiry() {
    refresh_before_expiry(RealShell::Bash);
}

#[test]
fn zsh_refreshes_before_expiry() {
    refresh_before_expiry(RealShell::Zsh);
}

#[test]
fn fish_refreshes_before_expiry() {
    refresh_before_expiry(RealShell::Fish);
}

// ------------------------------------ leaving restores an earlier export

/// The AWS variables as the shell has them, secrets as hashes:
/// `KEYS id=… secret=… token=… profile=…`.
fn keys(s: &mut PtySession, sh: RealShell) -> String {
    let line = match sh {
        RealShell::Fish => "echo KEYS id=(set -q AWS_ACCESS_KEY_ID; and echo $AWS_ACCESS_KEY_ID; or echo none) secret=(printf %s \"$AWS_SECRET_ACCESS_KEY\" | md5sum | cut -c1-12) token=(printf %s \"$AWS_SESSION_TOKEN\" | md5sum | cut -c1-12) profile=(set -q MFAENV_PROFILE; and echo $MFAENV_PROFILE; or echo none) END",
        _ => "echo KEYS id=${AWS_ACCESS_KEY_ID:-none} secret=$(printf %s \"$AWS_SECRET_ACCESS_KEY\" | md5sum | cut -c1-12) token=$(printf %s \"$AWS_SESSION_TOKEN\" | md5sum | cut -c1-12) profile=${MFAENV_PROFILE:-none} END",
    };
    s.send_line(line).unwrap();
    let (_, found) = s
        .exp_regex(r"KEYS id=\S+ secret=\S+ token=\S+ profile=\S+ END")
        .expect("keys line");
    s.exp_string(PROMPT).unwrap();
    found
}

/// Keys loaded with `eval "$(mfaenv staging)"` before entering a project
/// are there again, exactly, after leaving it; `mfaenv unset` then goes
/// back to before the export; and when the cache no longer holds those
/// keys, leaving removes them and says how to get them back.
fn leaving_restores_an_earlier_export(sh: RealShell) {
    let Some(p) = projects() else { return };
    let mut s = spawn(&p, sh);
    allow(&mut s, "proj-a");
    run(&mut s, &sh.export_line("AWS_PROFILE", "old"));
    let eval = |profile: &str| match sh {
        RealShell::Fish => format!("mfaenv {profile} | source"),
        _ => format!("eval \"$(mfaenv {profile})\""),
    };
    run(&mut s, &eval("staging"));
    let before = keys(&mut s, sh);
    assert!(
        before.contains("id=ASIA") && before.contains("profile=staging"),
        "{before}"
    );
    s.send_line("cd proj-a").unwrap();
    s.exp_string("loaded prod").unwrap();
    s.exp_string(PROMPT).unwrap();
    let inside = keys(&mut s, sh);
    assert!(inside.contains("profile=prod"), "{inside}");
    s.send_line("cd ..").unwrap();
    s.exp_string("unloaded prod").unwrap();
    s.exp_string(PROMPT).unwrap();
    assert_eq!(
        keys(&mut s, sh),
        before,
        "{sh:?}: leaving lost the earlier export"
    );
    // Twice in and out: the same again.
    run(&mut s, "cd proj-a/sub");
    run(&mut s, "cd ../..");
    assert_eq!(keys(&mut s, sh), before, "{sh:?}");
    // `mfaenv unset` after leaving: back to before the export.
    run(&mut s, &eval("unset"));
    let [key, _, profile, mp] = state(&mut s);
    assert_eq!(
        (key.as_str(), profile.as_str(), mp.as_str()),
        ("none", "old", "none"),
        "{sh:?}"
    );
    // The export's keys gone from the cache while inside: removed on leaving, with a line that says so.
    run(&mut s, &eval("staging"));
    run(&mut s, "cd proj-a");
    run(&mut s, "mfaenv forget staging");
    s.send_line("cd ..").unwrap();
    s.exp_string("the keys of staging you had before are no longer cached")
        .unwrap();
    s.exp_string(PROMPT).unwrap();
    let [key, _, profile, mp] = state(&mut s);
    assert_eq!(
        (key.as_str(), profile.as_str(), mp.as_str()),
        ("none", "old", "none"),
        "{sh:?}"
    );
    s.send_line("exit").unwrap();
}

#[test]
fn bash_leaving_restores_an_earlier_export() {
    leaving_restores_an_earlier_export(RealShell::Bash);
}

#[test]
fn zsh_leaving_restores_an_earlier_export() {
    leaving_restores_an_earlier_export(RealShell::Zsh);
}

#[test]
fn fish_leaving_restores_an_earlier_export() {
    leaving_restores_an_earlier_export(RealShell::Fish);
}

// ------------------------------------------ a failed load can be retried

/// Three wrong codes at the hook's prompt: said once, with how to retry;
/// leaving and coming back asks again, and so do `mfaenv allow` of the
/// allowed directory and `mfaenv reload`, without leaving.
fn a_failed_load_is_retried(sh: RealShell) {
    let fake = FakeSts::start();
    fake.on("GetSessionToken", vec![Reply::invalid_mfa_code()]);
    let sb = Sandbox::new(&fake.endpoint());
    let dir = sb.home().join("proj-h");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".mfaenv"), "profile = \"base\"\n").unwrap();
    sb.ok(&["allow", dir.to_str().unwrap()]);
    let mut s = interactive(sh, &sb, &sh.hook_rc(&support::mfaenv_bin()), &[]);
    let asked = "MFA code for arn:aws:iam::111111111111:mfa/alice: ";
    // Each question answered with a wrong code, which AWS rejects (a line
    // that names the device too), until mfaenv gives up after three.
    let wrong_codes = |s: &mut PtySession| {
        let before = fake.count("GetSessionToken");
        s.exp_string(asked).unwrap();
        for _ in 0..2 {
            s.send_line("111111").unwrap();
            s.exp_string("rejected the ").unwrap();
            s.exp_string(asked).unwrap();
            s.exp_string(asked).unwrap();
        }
        s.send_line("111111").unwrap();
        s.exp_string("cannot load base: ").unwrap();
        s.exp_string("`mfaenv reload` (or leaving the directory and coming back) tries again")
            .unwrap();
        s.exp_string(PROMPT).unwrap();
        assert_eq!(fake.count("GetSessionToken") - before, 3, "{sh:?}");
    };
    s.send_line("cd proj-h").unwrap();
    wrong_codes(&mut s);
    // Said once: the next prompts in the project are quiet.
    s.send_line("echo qu''iet").unwrap();
    let between = s.exp_string("quiet").unwrap();
    s.exp_string(PROMPT).unwrap();
    assert!(
        !between.contains("cannot load") && !between.contains(asked),
        "{between}"
    );
    assert_eq!(fake.count("GetSessionToken"), 3);
    // Out and back in: asked again.
    run(&mut s, "cd ..");
    s.send_line("cd proj-h").unwrap();
    wrong_codes(&mut s);
    // `mfaenv allow` of the allowed directory: asked again.
    s.send_line("mfaenv allow").unwrap();
    wrong_codes(&mut s);
    // `mfaenv reload`, once AWS takes the code: asked again, and loaded.
    fake.on("GetSessionToken", vec![Reply::session_token()]);
    s.send_line("mfaenv reload").unwrap();
    s.exp_string(asked).unwrap();
    s.send_line("123456").unwrap();
    s.exp_string("loaded base").unwrap();
    s.exp_string(PROMPT).unwrap();
    assert_eq!(fake.count("GetSessionToken"), 10);
    s.send_line("exit").unwrap();
}

#[test]
fn bash_a_failed_load_is_retried() {
    a_failed_load_is_retried(RealShell::Bash);
}

#[test]
fn zsh_a_failed_load_is_retried() {
    a_failed_load_is_retried(RealShell::Zsh);
}

#[test]
fn fish_a_failed_load_is_retried() {
    a_failed_load_is_retried(RealShell::Fish);
}

// --------------------------------------------- with direnv's hook as well

/// direnv's hook and mfaenv's in one bash, `use mfaenv prod` in an
/// `.envrc`, nothing cached: the question ends its line, so direnv's "is
/// taking a while" notice (after DIRENV_WARN_TIMEOUT) gets a line of its
/// own; the code loads the keys once, and the next prompts do not load
/// the `.envrc` again (mfaenv's own write to the cache it watches).
#[test]
fn direnv_and_the_hook_print_each_notice_once_on_its_own_line() {
    let Some(p) = projects() else { return };
    let direnv = support::require_program("direnv").expect("direnv");
    let home = p.sb.home();
    std::fs::create_dir_all(home.join(".config/direnv")).unwrap();
    std::fs::write(home.join(".config/direnv/direnvrc"), p.sb.ok(&["direnv"])).unwrap();
    let proj = home.join("proj-d");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".envrc"), "use mfaenv prod\n").unwrap();
    let allowed =
        p.sb.command(&direnv)
            .arg("allow")
            .arg(&proj)
            .output()
            .unwrap();
    assert!(allowed.status.success());
    p.sb.ok(&["forget", "--all"]);
    let rc = format!(
        "{}\neval \"$('{}' hook bash)\"\n",
        RealShell::Bash.hook_rc(&support::mfaenv_bin()),
        direnv.display()
    );
    // (direnv compares mtimes in whole seconds: let one pass first.)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let path = format!(
        "{}:{}",
        home.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut s = interactive(
        RealShell::Bash,
        &p.sb,
        &rc,
        &[("DIRENV_WARN_TIMEOUT", "1s"), ("PATH", &path)],
    );
    s.send_line("cd proj-d").unwrap();
    s.exp_string("direnv: using mfaenv prod").unwrap();
    s.exp_string("MFA code for arn:aws:iam::111111111111:mfa/alice: ")
        .unwrap();
    // Nothing typed yet when direnv's timer runs out.
    let notice = s.exp_string("is taking a while").unwrap();
    let before_notice: String = notice
        .replace("\u{1b}[31m", "")
        .replace("\u{1b}[m", "")
        .replace("\u{1b}[0m", "");
    assert!(
        before_notice.starts_with("\r\ndirenv: ("),
        "the notice shares the question's line: {notice:?}"
    );
    let mut seen = notice;
    s.send_line("123456").unwrap();
    seen += &s.exp_string("direnv: export +AWS_ACCESS_KEY_ID").unwrap();
    seen += &s.exp_string(PROMPT).unwrap();
    assert!(
        !seen.contains("direnv: loading") && !seen.contains("MFA code"),
        "said twice: {seen}"
    );
    // The next prompts: quiet (no second load block).
    let mut after = String::new();
    for _ in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(600));
        s.send_line("").unwrap();
        after += &s.exp_string(PROMPT).unwrap();
    }
    assert!(!after.contains("direnv:"), "loaded again: {after}");
    let [key, region, _, _] = state(&mut s);
    assert!(key.starts_with("ASIA"), "{key}");
    assert_eq!(region, "us-west-2");
    s.send_line("exit").unwrap();
}

/// `refresh_before`: MFAENV_REFRESH_BEFORE, else the `.mfaenv`'s, else the
/// profile's, else 10 minutes; a value that is not a duration is said.
#[test]
fn refresh_before_comes_from_the_environment_the_file_or_the_profile() {
    let Some(p) = projects() else { return };
    let dir = p.sb.home().join("proj-a");
    let window = |env: &[(&str, String)]| -> u64 {
        p.sb.ok(&["allow", dir.to_str().unwrap()]);
        let (vars, _, err) = hook_env(&p.sb, &dir, env);
        assert!(err.contains("loaded prod"), "{err}");
        let exp =
            humantime::parse_rfc3339(get(&vars, "AWS_CREDENTIAL_EXPIRATION").unwrap()).unwrap();
        let exp = exp.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let at: u64 = get(&vars, "MFAENV_REFRESH_AT").unwrap().parse().unwrap();
        exp - at
    };
    assert_eq!(window(&[]), 600);
    let config = std::fs::read_to_string(p.sb.config()).unwrap().replace(
        "external_id = ext-069\n",
        "external_id = ext-069\nrefresh_before = 15m\n",
    );
    std::fs::write(p.sb.config(), config).unwrap();
    assert_eq!(window(&[]), 900);
    std::fs::write(
        dir.join(".mfaenv"),
        "profile = \"prod\"\nrefresh_before = \"20m\"\n",
    )
    .unwrap();
    assert_eq!(window(&[]), 1200);
    std::fs::write(
        dir.join(".mfaenv"),
        "profile = \"prod\"\nrefresh_before = 1500\n",
    )
    .unwrap();
    assert_eq!(window(&[]), 1500);
    assert_eq!(window(&[("MFAENV_REFRESH_BEFORE", "30m".into())]), 1800);
    std::fs::write(
        dir.join(".mfaenv"),
        "profile = \"prod\"\nrefresh_before = \"soon\"\n",
    )
    .unwrap();
    let out =
        p.sb.mfaenv(&["allow", dir.to_str().unwrap()])
            .output()
            .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("refresh_before") && err.contains("not a duration"),
        "{err}"
    );
}

#[test]
fn reload_outside_a_project_says_there_is_nothing_to_load() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let out = sb
        .mfaenv(&["reload"])
        .current_dir(sb.home())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty(), "{err}");
    assert!(err.contains("no .mfaenv file in"), "{err}");
}

/// The key store cannot be opened (here: a wrong passphrase for the file
/// store): the hook says once what failed and how to retry; the next prompt
/// in the project is quiet; leaving forgets that, so coming back tries again.
#[test]
fn an_unreadable_key_store_is_said_once_and_retried_on_reentry() {
    let sb = Sandbox::with("http://127.0.0.1:9", support::sandbox::CONFIG, "");
    let keys = [
        ("AWS_ACCESS_KEY_ID", "AKIAHOOKSTOREEXAMP01"),
        ("AWS_SECRET_ACCESS_KEY", "hook/store/SECRET"),
        ("MFAENV_FILE_PASSPHRASE", "correct horse"),
    ];
    let out = sb
        .mfaenv(&["add", "--env", "--backend", "file", "base"])
        .envs(keys)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = sb.home().join("proj-k");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".mfaenv"), "profile = \"base\"\n").unwrap();
    sb.ok(&["allow", dir.to_str().unwrap()]);
    let wrong = ("MFAENV_FILE_PASSPHRASE", "wrong".to_string());
    let (vars, _, err) = hook_env(&sb, &dir, std::slice::from_ref(&wrong));
    assert!(
        err.contains("cannot load base: ")
            && err
                .contains("`mfaenv reload` (or leaving the directory and coming back) tries again"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let hint = get(&vars, "MFAENV_HINT").expect("hint state").to_string();
    let (_, _, err) = hook_env(&sb, &dir, &[wrong.clone(), ("MFAENV_HINT", hint.clone())]);
    assert!(err.is_empty(), "said twice: {err}");
    // Out of the project: the hint is forgotten; back in: tried (and said) again.
    let (_, unsets, _) = hook_env(&sb, sb.home(), &[wrong.clone(), ("MFAENV_HINT", hint)]);
    assert!(unsets.iter().any(|u| u == "MFAENV_HINT"), "{unsets:?}");
    let (_, _, err) = hook_env(&sb, &dir, &[wrong]);
    assert!(err.contains("cannot load base: "), "{err}");
}
