//! `mfaenv plan PROFILE [--json]`: the dry run. It shows the resolved chain
//! (keys' origin, each STS step, MFA device and code source, region,
//! endpoint, what the cache serves), prints no secret, runs no
//! `mfa_process`, calls no STS (tests/fast_path.rs: no runtime either), and
//! fails exactly as `export` fails.

mod support;

use serde_json::Value;
use support::moto::Moto;
use support::sandbox::{Sandbox, BASE_SECRET, CONFIG, CREDENTIALS};

/// An endpoint nothing listens on: a plan that called STS would fail.
const NOWHERE: &str = "http://127.0.0.1:9";

fn json(sb: &Sandbox, args: &[&str]) -> Value {
    let mut all = vec!["plan", "--json"];
    all.extend_from_slice(args);
    let out = sb.ok(&all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("plan --json: {e}: {out}"))
}

#[test]
fn the_chain_with_its_origins() {
    let sb = Sandbox::new(NOWHERE);
    let p = json(&sb, &["prod"]);
    assert_eq!(p["profile"], "prod");
    assert_eq!(p["source"]["profile"], "base");
    assert_eq!(p["source"]["access_key_id"], "AKIABASEEXAMPLE00001");
    assert_eq!(p["source"]["temporary"], false);
    let origin = &p["source"]["origin"];
    assert_eq!(origin["kind"], "file");
    assert_eq!(origin["path"], serde_json::json!(sb.credentials()));
    assert_eq!(
        (
            origin["line"].as_u64(),
            origin["secret_access_key"]["line"].as_u64()
        ),
        (Some(2), Some(3))
    );
    assert_eq!(p["mode"], "session");
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{p:#}");
    assert_eq!(steps[0]["call"], "GetSessionToken");
    assert_eq!(
        steps[0]["serial_number"],
        "arn:aws:iam::111111111111:mfa/alice"
    );
    assert_eq!(steps[0]["duration_seconds"], 43200);
    assert_eq!(
        steps[0]["duration_origin"]["what"],
        "mfaenv's default (12h)"
    );
    assert_eq!(steps[0]["with_code"], true);
    assert_eq!(steps[1]["call"], "AssumeRole");
    assert_eq!(
        steps[1]["role_arn"],
        "arn:aws:iam::222222222222:role/hc/hc-master"
    );
    assert_eq!(steps[1]["external_id"], "ext-069");
    assert_eq!(steps[1]["with_code"], false);
    assert_eq!(
        steps[1]["role_session_name_origin"]["what"],
        "mfaenv's default"
    );
    for step in steps {
        assert_eq!(
            (&step["action"], &step["cache"]),
            (&Value::from("call"), &Value::Null)
        );
    }
    // mfa_serial of the role (config line 9), region of the profile (line 11).
    assert_eq!(p["mfa"]["origin"]["what"], "mfa_serial of profile prod");
    assert_eq!(p["mfa"]["origin"]["line"], 9);
    // No terminal, no mfa_process, no --token-code: export would fail to get a code.
    assert_eq!(p["mfa"]["code_source"], "none");
    assert_eq!(p["mfa"]["code_needed"], true);
    assert_eq!(p["region"]["value"], "us-west-2");
    assert_eq!(p["region"]["origin"]["line"], 11);
    assert_eq!(p["sts_region"]["value"], "us-west-2");
    assert_eq!(p["endpoint"]["url"], NOWHERE);
    assert_eq!(p["endpoint"]["origin"]["what"], "AWS_ENDPOINT_URL");
    assert_eq!(p["sts_calls"], 2);
    assert!(
        !sb.cache_dir().exists(),
        "a dry run creates no cache directory"
    );
}

#[test]
fn text_output_names_every_step_and_no_secret() {
    let sb = Sandbox::new(NOWHERE);
    let out = sb.run(&["plan", "prod"]);
    assert!(out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    for expect in [
        "profile prod",
        &format!(
            "AKIABASEEXAMPLE00001 of profile base, {}:2 (long-term)",
            sb.credentials().display()
        ),
        "1. GetSessionToken (profile base)",
        "2. AssumeRole arn:aws:iam::222222222222:role/hc/hc-master (profile prod)",
        "external id ext-069",
        &format!(
            "MFA device   arn:aws:iam::111111111111:mfa/alice (mfa_serial of profile prod, {}:9)",
            sb.config().display()
        ),
        &format!(
            "region       us-west-2 (region of profile prod, {}:11)",
            sb.config().display()
        ),
        &format!("endpoint     {NOWHERE} (AWS_ENDPOINT_URL)"),
        "result       2 STS call(s)",
    ] {
        assert!(stdout.contains(expect), "no {expect:?} in:\n{stdout}");
    }
    assert!(!stdout.contains(BASE_SECRET) && !stderr.contains(BASE_SECRET));
}

#[test]
fn durations_clamps_and_overrides() {
    let sb = Sandbox::new(NOWHERE);
    sb.add_config(
        "\n[profile deep]\nsource_profile = prod\nrole_arn = arn:aws:iam::444444444444:role/deep\nduration_seconds = 43200\nrole_session_name = me@corp\n",
    );
    let p = json(&sb, &["deep"]);
    let deep = &p["steps"][2];
    assert_eq!(deep["duration_seconds"], 3600);
    assert_eq!(deep["clamped_from"], 43200);
    assert_eq!(
        deep["duration_origin"],
        serde_json::json!({"what": "duration_seconds of profile deep", "path": sb.config(), "line": 22})
    );
    assert_eq!(deep["role_session_name"], "me@corp");
    assert_eq!(deep["role_session_name_origin"]["line"], 23);
    assert!(
        p["notes"][0].as_str().unwrap().contains("clamped to 3600"),
        "{p:#}"
    );
    // --duration sets the last session's; --direct drops the MFA session;
    // --region and --endpoint-url win, and say so.
    let p = json(
        &sb,
        &[
            "--direct",
            "--duration",
            "2h",
            "--region",
            "eu-north-1",
            "--endpoint-url",
            "http://127.0.0.1:8",
            "prod",
        ],
    );
    assert_eq!(p["mode"], "direct");
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{p:#}");
    assert_eq!(
        (
            steps[0]["duration_seconds"].as_u64(),
            &steps[0]["duration_origin"]["what"]
        ),
        (Some(7200), &Value::from("--duration"))
    );
    assert_eq!(steps[0]["with_code"], true);
    assert_eq!(
        steps[0]["serial_number"],
        "arn:aws:iam::111111111111:mfa/alice"
    );
    assert_eq!(
        (&p["region"]["value"], &p["region"]["origin"]["what"]),
        (&Value::from("eu-north-1"), &Value::from("--region"))
    );
    assert_eq!(p["endpoint"]["origin"]["what"], "--endpoint-url");
    // A region left to the source: said where from.
    let p = json(&sb, &["deep"]);
    assert_eq!(
        p["region"]["origin"],
        serde_json::json!({"what": "region of source profile prod", "path": sb.config(), "line": 11})
    );
}

#[test]
fn code_sources_are_shown_never_used() {
    let sb = Sandbox::new(NOWHERE);
    let ran = sb.home().join("mfa_process-ran");
    sb.add_config(&format!(
        "\n[profile yubi]\nsource_profile = base\nrole_arn = arn:aws:iam::1:role/y\nmfa_serial = arn:aws:iam::1:mfa/y\nmfa_process = touch {} && echo 123456\n",
        ran.display()
    ));
    let p = json(&sb, &["yubi"]);
    assert_eq!(p["mfa"]["code_source"], "mfa_process");
    assert!(
        p["mfa"]["mfa_process"]
            .as_str()
            .unwrap()
            .starts_with("touch "),
        "{p:#}"
    );
    assert!(!ran.exists(), "plan ran mfa_process");
    let out = sb.ok(&["plan", "--json", "-t", "654321", "yubi"]);
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["mfa"]["code_source"], "token-code");
    assert!(!out.contains("654321"), "the code is shown: {out}");
    assert!(!ran.exists());
}

#[test]
fn environment_source() {
    let sb = Sandbox::new(NOWHERE);
    sb.add_config(
        "\n[profile envrole]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = Environment\n",
    );
    let out = sb
        .mfaenv(&["plan", "--json", "envrole"])
        .env("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT1")
        .env("AWS_SECRET_ACCESS_KEY", "env/SECRET")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("env/SECRET"));
    let p: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        p["source"]["origin"],
        serde_json::json!({"kind": "environment", "variables": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]})
    );
    assert_eq!(p["source"]["access_key_id"], "AKIAFROMENVIRONMENT1");
    assert_eq!(p["mfa"], Value::Null);
}

/// The same broken configs fail `plan` and `export` with the same message
/// and exit status, and `plan` prints nothing on stdout.
#[test]
fn errors_are_export_s() {
    let broken = [
        ("missing", ""),
        ("loop-a", "[profile loop-a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop-b\n[profile loop-b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = loop-a\n"),
        ("both", "[profile both]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = base\ncredential_source = Environment\n"),
        ("dangling", "[profile dangling]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = nope\n"),
        ("half", "[profile half]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = halfkeys\n[profile halfkeys]\naws_secret_access_key = x\n"),
        ("syntax", "[profile syntax\n"),
        ("short", "[profile short]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = base\nduration_seconds = 60\n"),
    ];
    for (profile, extra) in broken {
        let sb = Sandbox::with(NOWHERE, &format!("{CONFIG}{extra}"), CREDENTIALS);
        let plan = sb.run(&["plan", profile]);
        let export = sb.run(&["export", "--shell", "json", profile]);
        assert!(!plan.status.success(), "{profile}");
        assert_eq!(plan.status.code(), export.status.code(), "{profile}");
        assert_eq!(
            String::from_utf8_lossy(&plan.stderr),
            String::from_utf8_lossy(&export.stderr),
            "{profile}"
        );
        sb.fails(&["plan", "--json", profile]);
    }
    let sb = Sandbox::new(NOWHERE);
    let plan = sb.fails(&["plan", "--min-ttl", "2h", "prod"]);
    assert!(plan.contains("--min-ttl 2h cannot be met"), "{plan}");
}

/// After a login the plan says what the cache serves and how long it has
/// left; with `--min-ttl` beyond what is left, what would be refreshed.
#[test]
fn cached_sessions() {
    let Some(moto) = Moto::start() else { return };
    let sb = Sandbox::new(&moto.endpoint());
    sb.add_config("\n[profile long]\nsource_profile = base\nrole_arn = arn:aws:iam::1:role/l\nduration_seconds = 7200\n");
    sb.ok(&["login", "-t", "123456", "prod"]);
    sb.ok(&["login", "long"]);
    moto.start_recording();
    let p = json(&sb, &["prod"]);
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(
        (&steps[0]["action"], &steps[1]["action"]),
        (&Value::from("not-needed"), &Value::from("cached"))
    );
    for step in steps {
        let left = step["cache"]["seconds_left"].as_u64().unwrap();
        assert!(left > 3000 && step["cache"]["serves"] == true, "{step:#}");
    }
    assert_eq!(
        (p["sts_calls"].as_u64(), &p["mfa"]["code_needed"]),
        (Some(0), &Value::from(false))
    );
    // The role lasts 2h: with --min-ttl 2h it is too short (some seconds
    // went by), the MFA session (12h) is not.
    let p = json(&sb, &["--min-ttl", "2h", "long"]);
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(
        (&steps[0]["action"], &steps[1]["action"]),
        (&Value::from("cached"), &Value::from("call"))
    );
    assert_eq!(steps[1]["cache"]["serves"], false);
    assert_eq!(
        (p["sts_calls"].as_u64(), &p["mfa"]["code_needed"]),
        (Some(1), &Value::from(false))
    );
    moto.stop_recording();
    assert!(
        moto.requests().is_empty(),
        "plan called STS: {:?}",
        moto.requests().len()
    );
}
