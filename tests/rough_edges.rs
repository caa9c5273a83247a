//! What a new user runs into (issue 21): a region that is no region, what
//! `allow` says it will load, `.mfaenv` mistakes, and the small rough edges
//! of messages and output. Against moto, or no STS at all where nothing
//! may be called.

mod support;

use support::sandbox::{moto_sandbox, Sandbox};

// ---------------------------------------------------------------- regions

/// A region that is not shaped like one is refused before any call, naming
/// what set it: the profile's line, `--region`, `AWS_REGION`. A region AWS
/// has not opened yet but shaped like one still works.
#[test]
fn an_invalid_region_is_refused_before_any_call_with_its_origin() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.add_config(
        "\n[profile typo]\nsource_profile = base\nrole_arn = arn:aws:iam::222222222222:role/x\nregion = us-west-9x\n",
    );
    let line = std::fs::read_to_string(sb.config())
        .unwrap()
        .lines()
        .position(|l| l == "region = us-west-9x")
        .unwrap()
        + 1;
    moto.start_recording();
    let err = sb.fails(&["export", "-t", "123456", "typo"]);
    assert!(
        err.contains("region `us-west-9x` unknown")
            && err.contains(&format!("config:{line}"))
            && err.contains("profile typo"),
        "{err}"
    );
    let err = sb.fails(&["login", "-t", "123456", "--region", "us-wset-2", "prod"]);
    assert!(
        err.contains("region `us-wset-2` unknown (set by --region)"),
        "{err}"
    );
    let out = sb
        .mfaenv(&["login", "-t", "123456", "prod"])
        .env("AWS_REGION", "useast1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("region `useast1` unknown (set by the variable AWS_REGION)"),
        "{err}"
    );
    // `plan` (a dry run, read as botocore reads it) shows it and warns;
    // nothing reached STS.
    let out = sb.run(&["plan", "typo"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: region `us-west-9x` unknown")
            && err.contains("export, exec and login refuse it"),
        "{err}"
    );
    assert_eq!(moto.requests().len(), 0, "an invalid region was called");

    // Shaped like a region, opened or not: works.
    sb.ok(&["login", "-t", "123456", "--region", "af-north-1", "prod"]);
    let out = sb.ok(&["export", "--region", "af-north-1", "prod"]);
    assert!(out.contains("export AWS_REGION='af-north-1'"), "{out}");
}

// ---------------------------------------------------------------- allow

fn project(sb: &Sandbox, name: &str, content: &str) -> String {
    let dir = sb.home().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".mfaenv"), content).unwrap();
    dir.display().to_string()
}

fn allow(sb: &Sandbox, dir: &str) -> (bool, String) {
    let out = sb.run(&["allow", dir]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `allow` says which profile, account and region entering will load
/// (from the config: nothing is called); a profile that does not exist,
/// or a region that is none, gets a warning; a TOML error names its line.
#[test]
fn allow_shows_what_it_will_load_and_warns_of_what_cannot() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    let dir = project(&sb, "infra", "profile = \"prod\"\n");
    let (ok, err) = allow(&sb, &dir);
    assert!(ok, "{err}");
    assert!(
        err.contains("(profile prod, account 222222222222, region us-west-2)"),
        "{err}"
    );
    assert!(!err.contains("warning"), "{err}");
    // The .mfaenv region wins; a plain MFA profile's account is its device's.
    let dir = project(&sb, "base", "profile = \"base\"\nregion = \"eu-west-1\"\n");
    let (ok, err) = allow(&sb, &dir);
    assert!(ok, "{err}");
    assert!(
        err.contains("(profile base, account 111111111111, region eu-west-1)"),
        "{err}"
    );

    let dir = project(&sb, "typo", "profile = \"prdo\"\n");
    let (ok, err) = allow(&sb, &dir);
    assert!(ok, "{err}");
    assert!(
        err.contains("profile prdo of this file cannot be loaded")
            && err.contains("`prdo` not found"),
        "{err}"
    );
    let dir = project(
        &sb,
        "region",
        "profile = \"prod\"\nregion = \"us-west-9x\"\n",
    );
    let (_, err) = allow(&sb, &dir);
    assert!(
        err.contains("region `us-west-9x` unknown (set by `region` of the .mfaenv file)"),
        "{err}"
    );

    let dir = project(&sb, "toml", "# my project\nprofile = prod\n");
    let (ok, err) = allow(&sb, &dir);
    assert!(!ok, "{err}");
    assert!(
        err.contains(".mfaenv:2:") && err.contains("(`profile = prod`)"),
        "{err}"
    );
}

// ---------------------------------------------------------------- cache sizes

/// A 200 KB session token (no STS issues one) is refused with a clear
/// error before it is used or cached: nothing is written that the cache
/// would later ignore as too large. A large but plausible token (20 KiB)
/// is cached and served back.
#[test]
fn an_oversized_session_token_is_refused_not_cached() {
    use support::fake_sts::{Creds, FakeSts, Reply};
    let sts = FakeSts::start();
    let mut huge = Creds::new();
    huge.session_token = "T".repeat(200 * 1024);
    sts.on("GetSessionToken", vec![Reply::SessionToken(huge)]);
    let sb = Sandbox::new(&sts.endpoint());
    let err = sb.fails(&["export", "-t", "123456", "base"]);
    assert!(
        err.contains("GetSessionToken: the session token from")
            && err.contains("is 204800 bytes, more than the 32768 mfaenv accepts")
            && err.contains("not cached"),
        "{err}"
    );
    assert!(sb.session_files().is_empty(), "{:?}", sb.session_files());

    let mut large = Creds::new();
    large.session_token = "T".repeat(20 * 1024);
    sts.on("GetSessionToken", vec![Reply::SessionToken(large)]);
    let out = sb.ok(&["export", "-t", "123456", "base"]);
    assert!(out.contains(&"T".repeat(20 * 1024)), "not exported");
    assert_eq!(sb.session_files().len(), 1);
    // Served from the cache: no second call, no warning.
    let out = sb.run(&["export", "base"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ignoring"));
    assert_eq!(sts.count("GetSessionToken"), 2);
}

// ---------------------------------------------------------------- forget and status

/// After a key rotation the sessions made with the old key stay cached
/// under the profile's name: `status` marks them as not in use (so rows
/// that look alike are told apart), and `forget PROFILE` removes every
/// session `status` lists for it, naming the profiles.
#[test]
fn forget_and_status_agree_after_a_key_rotation() {
    let Some((moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.ok(&["login", "-t", "123456", "prod"]);
    sb.ok(&["login", "-t", "123456", "staging"]);
    let rotated = ("AKIAROTATEDEXAMPLE01", "rotated/SECRET");
    moto.trust(rotated.0, rotated.1);
    std::fs::write(
        sb.credentials(),
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            rotated.0, rotated.1
        ),
    )
    .unwrap();
    sb.ok(&["login", "-t", "123456", "prod"]);
    let status = sb.ok(&["status"]);
    // The MFA sessions carry the name of the source, base; prod's role
    // sessions its own. One of each was made with the old key.
    for profile in ["prod ", "base "] {
        let rows: Vec<&str> = status.lines().filter(|l| l.starts_with(profile)).collect();
        assert_eq!(rows.len(), 2, "{status}");
        assert_eq!(
            rows.iter().filter(|l| l.contains("(not in use)")).count(),
            1,
            "{status}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&sb.ok(&["status", "--json"])).unwrap();
    let in_use = json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["in_use"] == true)
        .count();
    assert_eq!(in_use, 2, "{json}");
    assert_eq!(json["sessions"].as_array().unwrap().len(), 5, "{json}");

    let out = sb.run(&["forget", "prod"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // prod's role sessions, old and new, and the MFA session prod uses now.
    assert!(
        err.contains("forgot 3 cached sessions of base, prod"),
        "{err}"
    );
    let status = sb.ok(&["status"]);
    assert!(
        !status.lines().any(|l| l.starts_with("prod ")),
        "forget prod left sessions status shows for prod:\n{status}"
    );
    // staging's own role session is not prod's.
    assert!(
        status.lines().any(|l| l.starts_with("staging ")),
        "{status}"
    );
    let out = sb.run(&["forget", "--all"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("forgot 2 cached sessions of base, staging"),
        "{err}"
    );
}

// ---------------------------------------------------------------- small rough edges

/// `keys` lines its columns up, whatever the lengths of the names.
#[test]
fn keys_output_is_aligned() {
    let sb = Sandbox::with(
        "http://127.0.0.1:9",
        "",
        "[base]\naws_access_key_id = AKIABASEEXAMPLE00001\naws_secret_access_key = s\n\n[a-much-longer-profile]\naws_access_key_id = AKIAOTHEREXAMPLE0002\naws_secret_access_key = t\n",
    );
    let out = sb.ok(&["keys"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let column = |line: &str, word: &str| {
        line.find(word)
            .unwrap_or_else(|| panic!("{word} in {line}"))
    };
    let store = column(lines[0], "STORE");
    let key = column(lines[0], "KEY");
    let at = column(lines[0], "WHERE");
    for line in &lines[1..] {
        assert_eq!(column(line, "credentials"), store, "{out}");
        assert_eq!(
            line.char_indices()
                .position(|(i, _)| i == column(line, "…")),
            lines[0].char_indices().position(|(i, _)| i == key),
            "{out}"
        );
        let where_at = line.find(&*sb.credentials().display().to_string()).unwrap();
        assert_eq!(line[..where_at].chars().count(), at, "{out}");
    }
}

/// `plan` of an expired cached session says "expired", not "(0s left)".
#[test]
fn plan_says_expired() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.ok(&["login", "-t", "123456", "base"]);
    let [file] = sb.session_files().try_into().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let exp = json["expiration"].as_str().unwrap().to_string();
    std::fs::write(&file, text.replace(&exp, "2020-01-01T00:00:00Z")).unwrap();
    let out = sb.ok(&["plan", "base"]);
    assert!(
        out.contains("cached until 2020-01-01T00:00:00Z, expired: STS would be called"),
        "{out}"
    );
    assert!(!out.contains("0s left"), "{out}");
}

/// dotenv is read by docker or a library, never by `mfaenv unset`: the
/// keys, no MFAENV_PRIOR / MFAENV_SET shell state, even with a prior
/// AWS_PROFILE in the environment.
#[test]
fn dotenv_has_no_shell_state() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let out = sb
        .mfaenv(&["export", "--shell", "dotenv", "-t", "123456", "prod"])
        .env("AWS_PROFILE", "old")
        .env("AWS_REGION", "eu-west-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("AWS_SESSION_TOKEN=")),
        "{text}"
    );
    assert!(
        !text.contains("MFAENV_PRIOR") && !text.contains("MFAENV_SET"),
        "{text}"
    );
}

/// A mistyped flag where a profile may stand: clap's "use -- --typo" (a
/// profile called `--typo`) is not offered; its "a similar argument
/// exists" is.
#[test]
fn a_mistyped_flag_gets_no_dash_dash_tip() {
    let sb = Sandbox::new("http://127.0.0.1:9");
    for args in [
        &["prod", "--typo"][..],
        &["export", "--typo", "prod"],
        &["login", "--typo"],
    ] {
        let out = sb.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            err.contains("unexpected argument '--typo'"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("-- --typo"), "{args:?}: {err}");
        assert!(err.contains("For more information, try '--help'."), "{err}");
    }
    let err = String::from_utf8_lossy(&sb.run(&["login", "--tokn-code", "1", "prod"]).stderr)
        .into_owned();
    assert!(
        err.contains("a similar argument exists: '--token-code'"),
        "{err}"
    );
}
