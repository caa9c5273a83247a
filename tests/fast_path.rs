//! The fast paths stay fast without a timed test: a cached `export`,
//! `credential-process` and every `hook-env` case (enter, stay, leave) must
//! not start the async runtime, and so not the AWS SDK (`sts::Sts::new`
//! builds the runtime before anything else of the SDK). `plan`, the dry
//! run, never does: with the session cached or not.
//!
//! Observed from outside, on the real binary: tokio's runtime (mio) creates
//! an epoll instance and std alone never does, so `strace -e
//! trace=epoll_create,epoll_create1` counts runtime starts. A fresh export
//! against moto must show one, which proves the probe sees what it looks for.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use support::moto::Moto;
use support::sandbox::Sandbox;

/// Variables to set (`Some`) or remove (`None`) on top of the sandbox's.
type Env = BTreeMap<String, Option<String>>;

/// Runs mfaenv under strace in the sandbox (from `dir`, with `extra` env on
/// top); returns (stdout, the number of epoll instances it created).
fn traced(sb: &Sandbox, strace: &Path, dir: &Path, extra: &Env, args: &[&str]) -> (String, usize) {
    let log = sb.home().join("strace.log");
    let _ = std::fs::remove_file(&log);
    let mut cmd = sb.command(strace);
    cmd.args(["-f", "-qq", "-e", "trace=epoll_create,epoll_create1", "-o"])
        .arg(&log)
        .arg(support::mfaenv_bin())
        .args(args)
        .current_dir(dir)
        .env("PWD", dir);
    for (name, value) in extra {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    let out = cmd.output().expect("run strace");
    assert!(
        out.status.success(),
        "mfaenv {args:?} failed under strace: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(&log).expect("strace log");
    let count = trace.lines().filter(|l| l.contains("epoll_create")).count();
    (String::from_utf8(out.stdout).expect("utf-8 stdout"), count)
}

/// `hook-env --shell json` output applied to an environment.
fn apply(env: &mut Env, json: &str) {
    let changes: serde_json::Value = serde_json::from_str(json).expect("hook-env json");
    for (name, value) in changes.as_object().expect("json object") {
        env.insert(name.clone(), value.as_str().map(str::to_string));
    }
}

struct Bed {
    _moto: Moto,
    sb: Sandbox,
    strace: PathBuf,
}

/// moto, a sandbox with prod logged in, and ~/proj (an allowed `.mfaenv` for prod).
fn bed() -> Option<Bed> {
    let strace = support::require_program("strace")?;
    let moto = Moto::start()?;
    let sb = Sandbox::new(&moto.endpoint());
    sb.ok(&["login", "-t", "123456", "prod"]);
    let proj = sb.home().join("proj");
    std::fs::create_dir_all(proj.join("sub")).unwrap();
    std::fs::write(proj.join(".mfaenv"), "profile = \"prod\"\n").unwrap();
    sb.ok(&["allow", &proj.display().to_string()]);
    Some(Bed {
        _moto: moto,
        sb,
        strace,
    })
}

#[test]
fn cached_paths_start_no_runtime() {
    let Some(bed) = bed() else { return };
    let home = bed.sb.home().to_path_buf();
    let proj = home.join("proj");
    // Runs `args` from `dir`: its stdout must hold `expect`, and no runtime.
    let fast = |what: &str, dir: &Path, env: &Env, args: &[&str], expect: &str| -> String {
        let (out, epolls) = traced(&bed.sb, &bed.strace, dir, env, args);
        assert!(out.contains(expect), "{what}: no {expect:?} in {out}");
        assert_eq!(epolls, 0, "{what} started the async runtime");
        out
    };
    let mut env = Env::new();
    for (what, args, expect) in [
        (
            "a cached export",
            &["export", "-s", "bash", "prod"][..],
            "AWS_SESSION_TOKEN=",
        ),
        (
            "a cached `mfaenv PROFILE`",
            &["prod", "-s", "json"],
            "AWS_ACCESS_KEY_ID",
        ),
        (
            "a cached credential-process",
            &["credential-process", "prod"],
            "\"Version\":1",
        ),
        ("status", &["status"], "prod"),
        (
            "a plan",
            &["plan", "--json", "prod"],
            "\"action\": \"cached\"",
        ),
    ] {
        fast(what, &home, &env, args, expect);
    }

    let hook = ["hook-env", "--shell", "json"];
    // Enter: no state yet, an allowed .mfaenv here.
    let out = fast("hook-env entering", &proj, &env, &hook, "\"MFAENV_DIR\"");
    apply(&mut env, &out);
    // Stay: a subdirectory of the loaded project.
    fast("hook-env inside", &proj.join("sub"), &env, &hook, "{");
    // Leave: the state from entering is in the environment.
    fast(
        "hook-env leaving",
        &home,
        &env,
        &hook,
        "\"MFAENV_DIR\":null",
    );
}

#[test]
fn the_probe_sees_a_runtime_when_sts_is_called() {
    let Some(bed) = bed() else { return };
    let (sb, strace) = (&bed.sb, bed.strace.as_path());
    let home = sb.home().to_path_buf();
    sb.ok(&["forget", "--all"]);
    // A dry run with nothing cached: it shows the calls, it makes none.
    let (out, epolls) = traced(sb, strace, &home, &Env::new(), &["plan", "--json", "prod"]);
    assert!(out.contains("\"action\": \"call\""), "{out}");
    assert_eq!(epolls, 0, "plan started the async runtime");
    let (out, epolls) = traced(
        sb,
        strace,
        &home,
        &Env::new(),
        &["export", "--shell", "bash", "-t", "123456", "prod"],
    );
    assert!(out.contains("export AWS_SESSION_TOKEN="), "{out}");
    assert!(
        epolls > 0,
        "a fresh export called STS but strace saw no epoll instance: the probe is blind"
    );
}
