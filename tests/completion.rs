//! Shell completions in real bash, zsh and fish: PROFILE completes to the
//! profile names of the sandbox's config files (through `mfaenv __profiles`),
//! `--shell` to its real choices, and neither where they do not belong.
//! bash and zsh get a TAB typed in a pseudo-terminal; fish answers
//! `complete -C`, its completion engine without the key press.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rexpect::session::PtySession;
use support::sandbox::Sandbox;

const PROMPT: &str = "PROMPT> ";

/// `[GEHC-x]` is no profile in the config file: it must not be offered.
const CONFIG: &str = "\
[profile alpha-one]
region = us-east-1
[profile beta-two]
source_profile = alpha-one
role_arn = arn:aws:iam::222222222222:role/b
[GEHC-x]
region = eu-west-1
";
const CREDENTIALS: &str = "\
[alpha-one]
aws_access_key_id = AKIAALPHAEXAMPLE0001
aws_secret_access_key = alpha-secret
";

/// A sandbox whose `mfaenv` on PATH is the binary under test.
fn sandbox() -> Sandbox {
    // No STS is called: completion only reads the config files.
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, CREDENTIALS);
    let bin = sb.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(support::mfaenv_bin(), bin.join("mfaenv")).unwrap();
    sb
}

fn path_with_bin(sb: &Sandbox) -> String {
    format!(
        "{}:{}",
        sb.home().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn script(name: &str) -> PathBuf {
    support::root().join("completions").join(name)
}

fn shell_command(sb: &Sandbox, program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .envs(sb.env())
        .env("PATH", path_with_bin(sb))
        .env("TERM", "dumb")
        .current_dir(sb.home());
    cmd
}

/// Types `line` and a TAB (two with `twice`) and waits for `expect` on the
/// terminal; then clears the line for the next one.
fn tab(s: &mut PtySession, line: &str, twice: bool, expect: &[&str]) {
    s.send(line).unwrap();
    s.send(if twice { "\t\t" } else { "\t" }).unwrap();
    s.flush().unwrap();
    for want in expect {
        s.exp_string(want)
            .unwrap_or_else(|e| panic!("`{line}<TAB>` did not show `{want}`: {e}"));
    }
    clear_line(s);
}

/// Types `line` and a TAB; bash lists the matches (in columns, so in no
/// fixed order on the screen) and draws the prompt and `line` again.
fn tab_listed(s: &mut PtySession, line: &str, expect: &[&str]) {
    s.send(line).unwrap();
    s.send("\t").unwrap();
    s.flush().unwrap();
    let listing = s
        .exp_string(&format!("{PROMPT}{line}"))
        .unwrap_or_else(|e| panic!("`{line}<TAB>` listed nothing: {e}"));
    for want in expect {
        assert!(
            listing.contains(want),
            "`{line}<TAB>` did not list `{want}`: {listing:?}"
        );
    }
    clear_line(s);
}

fn clear_line(s: &mut PtySession) {
    // Ctrl-U empties the line (Ctrl-C would also flush what is typed next).
    // A listing redraws the prompt, so the fresh one is told apart by a
    // command's output (`mark-42`, typed as arithmetic).
    s.send_control('u').unwrap();
    s.send_line("echo mark-$((6*7))").unwrap();
    s.exp_string("mark-42").unwrap();
    s.exp_string(PROMPT).unwrap();
}

#[test]
fn bash_completes_profiles_and_shells() {
    let Some(bash) = support::require_program("bash") else {
        return;
    };
    let sb = sandbox();
    let rc = sb.home().join("bashrc");
    std::fs::write(
        &rc,
        format!(
            // rexpect's pty starts without echo, and readline then shows no input.
            "stty echo\nPS1='{PROMPT}'\nbind 'set show-all-if-ambiguous on'\nbind 'set completion-query-items 0'\nsource '{}'\n",
            script("mfaenv.bash").display()
        ),
    )
    .unwrap();
    let mut cmd = shell_command(&sb, &bash);
    cmd.args(["--noprofile", "--rcfile"]).arg(&rc).arg("-i");
    let mut s = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    s.exp_string(PROMPT).unwrap();
    // One match is completed in place: the rest of the name is typed in.
    tab(&mut s, "mfaenv login al", false, &["pha-one "]);
    tab(&mut s, "mfaenv exec --min-ttl 2h be", false, &["ta-two "]);
    // Several are listed.
    tab_listed(&mut s, "mfaenv forget ", &["alpha-one", "beta-two"]);
    tab_listed(
        &mut s,
        "mfaenv export --shell ",
        &[
            "bash",
            "zsh",
            "fish",
            "pwsh",
            "json",
            "dotenv",
            "terragrunt",
        ],
    );
    s.send_line("exit").unwrap();
    let _ = s.exp_eof();
}

#[test]
fn zsh_completes_profiles_and_shells() {
    let Some(zsh) = support::require_program("zsh") else {
        return;
    };
    let sb = sandbox();
    let dot = sb.home().join("zdot");
    let functions = sb.home().join("zfunc");
    std::fs::create_dir_all(&dot).unwrap();
    std::fs::create_dir_all(&functions).unwrap();
    std::fs::copy(script("_mfaenv"), functions.join("_mfaenv")).unwrap();
    std::fs::write(
        dot.join(".zshrc"),
        format!(
            "PS1='{PROMPT}'\nfpath=('{}' $fpath)\nautoload -Uz compinit\ncompinit -u -D\n",
            functions.display()
        ),
    )
    .unwrap();
    let mut cmd = shell_command(&sb, &zsh);
    cmd.env("ZDOTDIR", &dot).arg("-i");
    let mut s = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    s.exp_string(PROMPT).unwrap();
    tab(&mut s, "mfaenv login al", false, &["pha-one "]);
    tab(&mut s, "mfaenv exec --min-ttl 2h be", false, &["ta-two "]);
    tab(&mut s, "mfaenv forget ", false, &["alpha-one", "beta-two"]);
    tab(
        &mut s,
        "mfaenv export --shell ",
        false,
        &["dotenv", "terragrunt"],
    );
    s.send_line("exit").unwrap();
    let _ = s.exp_eof();
}

/// What fish would offer at the end of `line`, one candidate a line.
fn fish_candidates(fish: &Path, sb: &Sandbox, line: &str) -> Vec<String> {
    let conf = sb.home().join("fishconf");
    let mut cmd = shell_command(sb, fish);
    cmd.env("XDG_CONFIG_HOME", &conf)
        .env("XDG_DATA_HOME", &conf)
        .args(["--no-config", "-c"])
        .arg(format!(
            "source '{}'; complete -C '{line}'",
            script("mfaenv.fish").display()
        ));
    let out = cmd.output().expect("run fish");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn fish_completes_profiles_and_shells() {
    let Some(fish) = support::require_program("fish") else {
        return;
    };
    let sb = sandbox();
    let names = ["alpha-one", "beta-two"].map(String::from).to_vec();
    assert_eq!(fish_candidates(&fish, &sb, "mfaenv login "), names);
    assert_eq!(
        fish_candidates(&fish, &sb, "mfaenv exec --min-ttl 2h be"),
        ["beta-two".to_string()]
    );
    let top = fish_candidates(&fish, &sb, "mfaenv ");
    assert!(
        top.contains(&"alpha-one".to_string()) && top.contains(&"login".to_string()),
        "{top:?}"
    );
    let mut shells = fish_candidates(&fish, &sb, "mfaenv export --shell ");
    shells.sort();
    assert_eq!(
        shells,
        [
            "bash",
            "dotenv",
            "fish",
            "json",
            "pwsh",
            "terragrunt",
            "zsh"
        ]
        .map(String::from)
    );
    // After the profile comes exec's command: no profile names there.
    let after = fish_candidates(&fish, &sb, "mfaenv exec alpha-one ");
    assert!(!after.contains(&"beta-two".to_string()), "{after:?}");
}

/// The helper itself: names only at a PROFILE, none of the config file's
/// non-profile sections, fast enough for a TAB.
#[test]
fn profiles_helper_answers_only_at_a_profile() {
    let sb = sandbox();
    assert_eq!(
        sb.ok(&["__profiles", "--", "login"]),
        "alpha-one\nbeta-two\n"
    );
    assert_eq!(sb.ok(&["__profiles", "--", "login", "alpha-one"]), "");
    assert_eq!(sb.ok(&["__profiles", "--", "status"]), "");
    let started = std::time::Instant::now();
    sb.ok(&["__profiles", "--", "exec", "--duration", "1h"]);
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Profile names a shell would act on: each must reach the line quoted,
/// never run. The first two letters make each one complete alone.
const HOSTILE: [&str; 5] = [
    "zz$(touch pwned1)",
    "yy`touch pwned2`",
    "xx;touch pwned3",
    "ww space name",
    "vv'quote\"dq",
];

fn hostile_sandbox() -> Sandbox {
    let sb = sandbox();
    // Python's shlex splits the header: double quotes keep a name whole.
    let config: String = HOSTILE
        .iter()
        .map(|n| {
            let quoted = n.replace('\\', "\\\\").replace('"', "\\\"");
            format!("[profile \"{quoted}\"]\nregion = us-east-1\n")
        })
        .collect();
    sb.add_config(&config);
    sb
}

/// Completes each hostile name after `mfaenv login`, then turns the line
/// into `printf '<%s>\n' mfaenv login NAME` and enters it: the name must
/// come back whole and nothing in it may run.
fn hostile_names_stay_quoted(s: &mut PtySession, sb: &Sandbox) {
    for name in HOSTILE {
        s.send(&format!("mfaenv login {}", &name[..2])).unwrap();
        s.send("\t").unwrap();
        s.flush().unwrap();
        std::thread::sleep(Duration::from_millis(700));
        // Ctrl-A: to the start of the line.
        s.send_control('a').unwrap();
        s.send_line("printf '<%s>\\n' ").unwrap();
        s.exp_string(&format!("<{name}>"))
            .unwrap_or_else(|e| panic!("`{name}` was not completed whole: {e}"));
        s.exp_string(PROMPT).unwrap();
    }
    s.send_line("exit").unwrap();
    let _ = s.exp_eof();
    for n in 1..=3 {
        let file = sb.home().join(format!("pwned{n}"));
        assert!(!file.exists(), "a completed name ran a command: {file:?}");
    }
}

#[test]
fn bash_quotes_hostile_profile_names() {
    let Some(bash) = support::require_program("bash") else {
        return;
    };
    let sb = hostile_sandbox();
    assert_eq!(
        sb.ok(&["__profiles", "--", "login"]).lines().count(),
        HOSTILE.len() + 2
    );
    let rc = sb.home().join("bashrc");
    std::fs::write(
        &rc,
        format!(
            "stty echo\nPS1='{PROMPT}'\nsource '{}'\n",
            script("mfaenv.bash").display()
        ),
    )
    .unwrap();
    let mut cmd = shell_command(&sb, &bash);
    cmd.args(["--noprofile", "--rcfile"]).arg(&rc).arg("-i");
    let mut s = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    s.exp_string(PROMPT).unwrap();
    hostile_names_stay_quoted(&mut s, &sb);
}

#[test]
fn zsh_quotes_hostile_profile_names() {
    let Some(zsh) = support::require_program("zsh") else {
        return;
    };
    let sb = hostile_sandbox();
    let dot = sb.home().join("zdot");
    let functions = sb.home().join("zfunc");
    std::fs::create_dir_all(&dot).unwrap();
    std::fs::create_dir_all(&functions).unwrap();
    std::fs::copy(script("_mfaenv"), functions.join("_mfaenv")).unwrap();
    std::fs::write(
        dot.join(".zshrc"),
        format!(
            "PS1='{PROMPT}'\nfpath=('{}' $fpath)\nautoload -Uz compinit\ncompinit -u -D\n",
            functions.display()
        ),
    )
    .unwrap();
    let mut cmd = shell_command(&sb, &zsh);
    cmd.env("ZDOTDIR", &dot).arg("-i");
    let mut s = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    s.exp_string(PROMPT).unwrap();
    hostile_names_stay_quoted(&mut s, &sb);
}
