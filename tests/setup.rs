//! `mfaenv setup` against moto's IAM and STS, `status --short`, colour on
//! stderr, and the errors that say what to do next.
//!
//! moto is seeded with raw IAM Query requests (CreateUser, CreateAccessKey,
//! CreateVirtualMFADevice, EnableMFADevice): moto routes a request by the
//! credential scope of its `Authorization` header and does not check the
//! signature, and a raw request costs a millisecond where the AWS CLI costs a
//! second of Python start-up. The AWS CLI then checks, as a real client, that
//! the device mfaenv recorded is the user's.

mod support;

use std::time::{Duration, SystemTime};

use support::fake_sts::{FakeSts, Reply};
use support::moto::{iam, seed_device, xml_value, Moto};
use support::sandbox::Sandbox;
use support::stderr_of;

const ACCOUNT: &str = "123456789012";

/// A config with a comment at the top, comments inside sections, a role
/// profile whose keys are `alice`'s, and odd spacing that must survive.
const CONFIG: &str = "\
# my AWS config: hand-written, keep this comment
; and this one

[default]
region = us-east-1

[profile alice]
region = us-east-1
# a comment inside the section
output=json

[profile  prod]   # production
source_profile = alice
role_arn = arn:aws:iam::123456789012:role/admin
region = us-west-2

[sso-session corp]
sso_region = us-east-1
";

// ---------------------------------------------------------------------------
// Seeding moto's IAM
// ---------------------------------------------------------------------------

/// Creates IAM user `name` with an access key; returns (key id, secret).
fn seed_user(moto: &Moto, name: &str) -> (String, String) {
    iam(moto, "CreateUser", &[("UserName", name)]);
    let xml = iam(moto, "CreateAccessKey", &[("UserName", name)]);
    let keys = (
        xml_value(&xml, "AccessKeyId"),
        xml_value(&xml, "SecretAccessKey"),
    );
    moto.trust(&keys.0, &keys.1);
    keys
}

fn credentials_for(profile: &str, (id, secret): &(String, String)) -> String {
    format!("[{profile}]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n")
}

/// moto with user alice (and her keys in the sandbox as profile `alice`).
fn alice(devices: &[&str]) -> Option<(Moto, Sandbox, Vec<String>)> {
    let moto = Moto::start()?;
    let keys = seed_user(&moto, "alice");
    let serials = devices
        .iter()
        .map(|d| seed_device(&moto, "alice", d))
        .collect();
    let sb = Sandbox::with(&moto.endpoint(), CONFIG, &credentials_for("alice", &keys));
    moto.start_recording();
    Some((moto, sb, serials))
}

fn config_of(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.config()).expect("read config")
}

/// `CONFIG` with `line` inserted after the line `after` (the first one).
fn config_with(after: &str, line: &str) -> String {
    let at = CONFIG.find(after).expect("anchor in CONFIG") + after.len();
    format!("{}{line}\n{}", &CONFIG[..at], &CONFIG[at..])
}

// ---------------------------------------------------------------------------
// setup
// ---------------------------------------------------------------------------

#[test]
fn setup_records_the_only_device_and_keeps_every_other_line() {
    let Some((moto, sb, serials)) = alice(&["alice-phone"]) else {
        return;
    };
    let serial = &serials[0];
    assert_eq!(*serial, format!("arn:aws:iam::{ACCOUNT}:mfa/alice-phone"));

    let out = sb.run(&["setup", "prod"]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(out.stdout.is_empty(), "setup prints nothing on stdout");
    assert!(
        err.contains(&format!("recorded mfa_serial = {serial} in [profile prod]")),
        "{err}"
    );
    assert!(err.contains("mfaenv login prod"), "{err}");
    // The role profile's section gains the line after its last one; every
    // other byte (comments, spacing, the sso-session section) is unchanged.
    let expected = config_with("region = us-west-2\n", &format!("mfa_serial = {serial}"));
    assert_eq!(config_of(&sb), expected);
    assert!(config_of(&sb).starts_with("# my AWS config: hand-written, keep this comment\n"));
    // The role profile's keys are alice's: she is who GetCallerIdentity named.
    let calls: Vec<_> = moto.requests().into_iter().map(|r| r.action).collect();
    assert_eq!(
        calls,
        ["GetCallerIdentity", "ListMFADevices", "ListAccessKeys"]
    );
    // IAM's creation date of alice's key is what `keys` shows as its age.
    let keys: serde_json::Value = serde_json::from_str(&sb.ok(&["keys", "--json"])).unwrap();
    let alice = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["profile"] == "alice")
        .cloned()
        .unwrap();
    assert_eq!(alice["created_from"], "iam", "{keys}");
    assert!(
        alice["created"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{keys}"
    );
    let list = moto
        .requests()
        .into_iter()
        .find(|r| r.action == "ListMFADevices")
        .unwrap();
    assert_eq!(list.param("UserName"), Some("alice"));
    assert_eq!(list.signing_service().as_deref(), Some("iam"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(sb.config()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Again: nothing to change, the file is not rewritten.
    let err = stderr_of(&sb.run(&["setup", "prod"]));
    assert!(err.contains("already has mfa_serial"), "{err}");
    assert_eq!(config_of(&sb), expected);

    // The profile now works with MFA: the code goes with GetSessionToken.
    moto.start_recording();
    sb.ok(&["login", "-t", "123456", "prod"]);
    let gst = moto
        .requests()
        .into_iter()
        .find(|r| r.action == "GetSessionToken")
        .expect("GetSessionToken");
    assert_eq!(gst.param("SerialNumber"), Some(serial.as_str()));

    // A real client agrees the device is alice's.
    if support::require_venv_bin("aws").is_some() {
        let (ok, json, err) = sb.aws(
            &[("AWS_PROFILE".into(), "alice".into())],
            &[
                "iam",
                "list-mfa-devices",
                "--user-name",
                "alice",
                "--output",
                "json",
            ],
        );
        assert!(ok, "{err}");
        assert!(json.contains(serial.as_str()), "{json}");
    }
}

#[test]
fn setup_writes_default_and_new_sections() {
    let Some((moto, sb, serials)) = alice(&["alice-key"]) else {
        return;
    };
    let serial = &serials[0];
    // `default` and `solo` hold alice's keys in the credentials file;
    // `solo` has no section in the config file yet.
    let keys = std::fs::read_to_string(sb.credentials()).unwrap();
    let more = format!(
        "{keys}\n{}\n{}",
        keys.replace("[alice]", "[default]"),
        keys.replace("[alice]", "[solo]")
    );
    std::fs::write(sb.credentials(), &more).unwrap();

    sb.ok(&["setup", "default"]);
    let expected = config_with(
        "[default]\nregion = us-east-1\n",
        &format!("mfa_serial = {serial}"),
    );
    assert_eq!(config_of(&sb), expected);

    sb.ok(&["setup", "solo"]);
    assert_eq!(
        config_of(&sb),
        format!("{expected}\n[profile solo]\nmfa_serial = {serial}\n")
    );
    // The credentials file is not touched.
    assert_eq!(std::fs::read_to_string(sb.credentials()).unwrap(), more);
    assert_eq!(moto.count("ListMFADevices"), 2);
}

#[test]
fn setup_with_two_devices_takes_serial_or_refuses_without_a_terminal() {
    let Some((moto, sb, serials)) = alice(&["alice-phone", "alice-yubikey"]) else {
        return;
    };
    // No terminal, no --serial: a clear error naming both, file untouched.
    let err = sb.fails(&["setup", "prod"]);
    assert!(err.contains("2 MFA devices"), "{err}");
    assert!(err.contains("--serial"), "{err}");
    assert!(
        err.contains(&serials[0]) && err.contains(&serials[1]),
        "{err}"
    );
    assert_eq!(config_of(&sb), CONFIG);

    // A serial that is not hers: refused, file untouched.
    let other = format!("arn:aws:iam::{ACCOUNT}:mfa/mallory");
    let err = sb.fails(&["setup", "prod", "--serial", &other]);
    assert!(
        err.contains("is not an MFA device of IAM user alice"),
        "{err}"
    );
    assert_eq!(config_of(&sb), CONFIG);

    // --serial picks one. Per-service endpoints win over AWS_ENDPOINT_URL,
    // which points at nothing here.
    let out = sb
        .mfaenv(&["setup", "prod", "--serial", &serials[1]])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ENDPOINT_URL_STS", moto.endpoint())
        .env("AWS_ENDPOINT_URL_IAM", moto.endpoint())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        config_of(&sb),
        config_with(
            "region = us-west-2\n",
            &format!("mfa_serial = {}", serials[1])
        )
    );
}

#[test]
fn setup_asks_which_device_on_the_terminal() {
    let Some((_moto, sb, serials)) = alice(&["alice-phone", "alice-yubikey"]) else {
        return;
    };
    let mut p = sb.in_pty(&["setup", "prod"], |_| {});
    p.exp_string("IAM user alice").unwrap();
    p.exp_string(&format!("1) {}", serials[0])).unwrap();
    p.exp_string(&format!("2) {}", serials[1])).unwrap();
    p.exp_string("[1-2]: ").unwrap();
    p.send_line("7").unwrap();
    p.exp_string("answer a number from 1 to 2").unwrap();
    p.exp_string("[1-2]: ").unwrap();
    p.send_line("2").unwrap();
    p.exp_string("recorded mfa_serial").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(
        config_of(&sb),
        config_with(
            "region = us-west-2\n",
            &format!("mfa_serial = {}", serials[1])
        )
    );
}

#[test]
fn setup_without_a_device_says_how_to_create_one() {
    let Some((_moto, sb, _)) = alice(&[]) else {
        return;
    };
    let err = sb.fails(&["setup", "alice"]);
    assert!(err.contains("IAM user alice"), "{err}");
    assert!(err.contains("has no MFA device"), "{err}");
    assert!(err.contains("aws iam create-virtual-mfa-device"), "{err}");
    assert!(err.contains("mfaenv setup alice"), "{err}");
    // Each command on a line of its own (indented), never a literal `\n`.
    assert!(
        err.contains("AWS CLI:\n      aws iam create-virtual-mfa-device")
            && err.contains("\n      aws iam enable-mfa-device")
            && !err.contains("\\n"),
        "{err}"
    );
    assert_eq!(config_of(&sb), CONFIG);
}

#[test]
fn setup_of_an_unknown_profile_fails_before_any_call() {
    let Some((moto, sb, _)) = alice(&["alice-phone"]) else {
        return;
    };
    let err = sb.fails(&["setup", "prdo"]);
    assert!(err.contains("did you mean"), "{err}");
    assert!(moto.requests().is_empty());
    assert_eq!(config_of(&sb), CONFIG);
}

// ---------------------------------------------------------------------------
// status --short
// ---------------------------------------------------------------------------

/// `status --short` with `vars` as the shell's environment.
fn short(vars: &[(&str, String)]) -> String {
    let sb = Sandbox::with("http://127.0.0.1:9", "", "");
    let mut cmd = sb.mfaenv(&["status", "--short"]);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stderr.is_empty(), "{}", stderr_of(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn in_minutes(minutes: i64) -> String {
    let now = SystemTime::now();
    let t = if minutes >= 0 {
        now + Duration::from_secs(minutes as u64 * 60)
    } else {
        now - Duration::from_secs(minutes.unsigned_abs() * 60)
    };
    humantime::format_rfc3339_seconds(t).to_string()
}

#[test]
fn status_short_for_prompts() {
    // An active session, two hours left (a moment has passed since).
    let line = short(&[
        ("MFAENV_PROFILE", "prod".into()),
        ("AWS_CREDENTIAL_EXPIRATION", in_minutes(120)),
    ]);
    assert!(line == "prod 1h59m\n" || line == "prod 2h00m\n", "{line:?}");
    // Expiring: three minutes ahead shows minutes.
    let line = short(&[
        ("MFAENV_PROFILE", "prod".into()),
        ("AWS_CREDENTIAL_EXPIRATION", in_minutes(3)),
    ]);
    assert!(line == "prod 2m\n" || line == "prod 3m\n", "{line:?}");
    // Past its expiry.
    let line = short(&[
        ("MFAENV_PROFILE", "prod".into()),
        ("AWS_CREDENTIAL_EXPIRATION", in_minutes(-1)),
    ]);
    assert_eq!(line, "prod expired\n");
    // No session in this shell: nothing at all, exit 0.
    assert_eq!(short(&[]), "");
    assert_eq!(short(&[("AWS_CREDENTIAL_EXPIRATION", in_minutes(30))]), "");
}

// ---------------------------------------------------------------------------
// Colour and next steps
// ---------------------------------------------------------------------------

/// mfaenv in a pseudo-terminal (stderr is a terminal); returns what it wrote.
fn in_pty(sb: &Sandbox, args: &[&str], extra: &[(&str, &str)]) -> String {
    let mut p = sb.in_pty(args, |cmd| {
        cmd.env("TERM", "xterm").envs(extra.iter().copied());
    });
    p.exp_eof().expect("mfaenv ends")
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let sb = Sandbox::with("http://127.0.0.1:9", CONFIG, "");
    // stderr is a pipe: no escape byte.
    let err = sb.fails(&["export", "nosuch"]);
    assert!(
        err.contains("mfaenv: error: profile `nosuch` not found"),
        "{err}"
    );
    assert!(!err.contains('\x1b'), "{err:?}");
    // A terminal: the label is red.
    let tty = in_pty(&sb, &["login", "nosuch"], &[]);
    assert!(
        tty.contains("mfaenv: \x1b[1;31merror:\x1b[0m profile `nosuch`"),
        "{tty:?}"
    );
    // A terminal with NO_COLOR: plain.
    let tty = in_pty(&sb, &["login", "nosuch"], &[("NO_COLOR", "1")]);
    assert!(tty.contains("mfaenv: error: profile `nosuch`"), "{tty:?}");
    assert!(!tty.contains('\x1b'), "{tty:?}");
}

#[test]
fn a_profile_without_mfa_serial_suggests_setup() {
    let Some((moto, sb, _)) = alice(&["alice-phone"]) else {
        return;
    };
    let out = sb.run(&["export", "--shell", "bash", "alice"]);
    let err = stderr_of(&out);
    // The flow is unchanged (GetSessionToken without MFA) plus one hint.
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("mfaenv: hint: profile `alice` has no mfa_serial"),
        "{err}"
    );
    assert!(err.contains("`mfaenv setup alice`"), "{err}");
    let gst = moto
        .requests()
        .into_iter()
        .find(|r| r.action == "GetSessionToken")
        .expect("GetSessionToken");
    assert_eq!(gst.param("SerialNumber"), None);
}

#[test]
fn an_expired_token_suggests_forget_and_login() {
    let fake = FakeSts::start();
    fake.on("AssumeRole", vec![Reply::expired_token()]);
    let sb = Sandbox::new(&fake.endpoint());
    let err = sb.fails(&["export", "--shell", "bash", "-t", "123456", "prod"]);
    assert!(err.contains("mfaenv: hint:"), "{err}");
    // The refused MFA session is dropped from the cache: no `forget` needed.
    assert!(err.contains("dropped it from the cache"), "{err}");
    assert!(err.contains("`mfaenv login prod`"), "{err}");
}

#[test]
fn no_terminal_suggests_token_code_mfa_process_and_login() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    let err = sb.fails(&["export", "--shell", "bash", "prod"]);
    assert!(err.contains("--token-code"), "{err}");
    assert!(err.contains("mfa_process"), "{err}");
    assert!(err.contains("`mfaenv login prod` in a terminal"), "{err}");
    assert_eq!(fake.requests().len(), 0, "no STS call without a code");
}

#[test]
fn setup_when_iam_says_no_or_the_keys_are_not_a_user() {
    let fake = FakeSts::start();
    fake.on(
        "ListMFADevices",
        vec![Reply::access_denied(
            "User: arn:aws:iam::123456789012:user/fake is not authorized to perform: iam:ListMFADevices",
        )],
    );
    let sb = Sandbox::with(
        &fake.endpoint(),
        CONFIG,
        "[alice]\naws_access_key_id = AKIAFAKE\naws_secret_access_key = s\n",
    );
    // Not allowed to list, no --serial: the error says how to go on.
    let err = sb.fails(&["setup", "prod"]);
    assert!(err.contains("access denied"), "{err}");
    assert!(err.contains("--serial ARN"), "{err}");
    assert_eq!(config_of(&sb), CONFIG);
    // With --serial: recorded, with a warning that it was not checked.
    let serial = "arn:aws:iam::123456789012:mfa/fake";
    let out = sb.run(&["setup", "prod", "--serial", serial]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: cannot list the MFA devices"),
        "{err}"
    );
    assert_eq!(
        config_of(&sb),
        config_with("region = us-west-2\n", &format!("mfa_serial = {serial}"))
    );

    // Keys of an assumed role: no user to ask about.
    fake.on(
        "GetCallerIdentity",
        vec![Reply::caller_identity(
            "arn:aws:sts::123456789012:assumed-role/admin/me",
            "123456789012",
            "AROAFAKE:me",
        )],
    );
    let err = sb.fails(&["setup", "alice"]);
    assert!(err.contains("not to an IAM user"), "{err}");
    assert!(err.contains("--serial"), "{err}");
}

/// A different `mfa_serial` already in the profile: without a terminal,
/// refused unless `--force`, naming old and new; on a terminal, asked (old
/// and new shown), and a "no" keeps it. The config is untouched until yes.
#[test]
fn setup_asks_before_replacing_a_different_mfa_serial() {
    let Some((_moto, sb, serials)) = alice(&["alice-phone"]) else {
        return;
    };
    let old = "arn:aws:iam::123456789012:mfa/old-phone";
    let before = config_with("region = us-west-2\n", &format!("mfa_serial = {old}"));
    std::fs::write(sb.config(), &before).unwrap();

    let err = sb.fails(&["setup", "prod"]);
    assert!(
        err.contains(&format!("has mfa_serial = {old}"))
            && err.contains(&serials[0])
            && err.contains("--force")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(config_of(&sb), before);

    // On a terminal: old and new shown; no keeps it. (LF, as the device
    // question's test types: CR at every prompt is issue 21's item 1.)
    let mut p = sb.in_pty(&["setup", "prod"], |_| {});
    p.exp_string(&format!("has mfa_serial = {old}")).unwrap();
    p.exp_string(&format!("Replace it with {}? [y/N] ", serials[0]))
        .unwrap();
    p.send_line("n").unwrap();
    p.exp_string("kept mfa_serial").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(config_of(&sb), before);

    let mut p = sb.in_pty(&["setup", "prod"], |_| {});
    p.exp_string("[y/N] ").unwrap();
    p.send_line("y").unwrap();
    p.exp_string("recorded mfa_serial").unwrap();
    p.exp_eof().unwrap();
    let replaced = config_with(
        "region = us-west-2\n",
        &format!("mfa_serial = {}", serials[0]),
    );
    assert_eq!(config_of(&sb), replaced);

    // --force without a terminal.
    std::fs::write(sb.config(), &before).unwrap();
    let out = sb.run(&["setup", "--force", "prod"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(config_of(&sb), replaced);
}

/// IAM's calls go through mfaenv's own Query client (src/aws/query.rs):
/// throttling is retried with backoff until it goes through, and a 5xx on
/// every attempt ends after exactly 3 attempts with IAM's code and the
/// advice for a failure on AWS's side.
#[test]
fn iam_throttling_is_retried_and_a_lasting_5xx_is_reported() {
    let Some((moto, sb, serials)) = alice(&["alice-phone"]) else {
        return;
    };
    let proxy = moto.checked().expect("signing proxy");
    proxy.fail("ListMFADevices", 2, Reply::throttling());
    let out = sb.run(&["setup", "prod"]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&serials[0]), "{err}");
    assert_eq!(
        proxy.attempts("ListMFADevices"),
        3,
        "two throttled, one through"
    );
    assert_eq!(moto.count("ListMFADevices"), 1, "{err}");

    std::fs::write(sb.config(), CONFIG).unwrap();
    proxy.fail("ListMFADevices", 10, Reply::internal_failure());
    let err = sb.fails(&["setup", "prod"]);
    assert_eq!(proxy.attempts("ListMFADevices"), 3 + 3, "{err}");
    assert!(err.contains("ListMFADevices: InternalFailure"), "{err}");
    assert!(
        err.contains("3 times in a row") && err.contains("try again in a minute"),
        "{err}"
    );
    assert_eq!(config_of(&sb), CONFIG, "nothing written");
}

/// IAM that never answers: each attempt ends at `MFAENV_STS_TIMEOUT` (2 s
/// in the sandbox), 3 attempts, and the error names the endpoint and the
/// 6 s waited; an answer over the size cap, or cut off, is not retried
/// into the same failure for ever and says what happened.
#[test]
fn iam_silence_too_much_or_a_cut_answer_ends_with_the_endpoint_named() {
    let fake = FakeSts::start();
    let sb = Sandbox::with(
        &fake.endpoint(),
        CONFIG,
        "[alice]\naws_access_key_id = AKIAFAKE\naws_secret_access_key = s\n",
    );
    fake.on("ListMFADevices", vec![Reply::Hang]);
    let start = std::time::Instant::now();
    let err = sb.fails(&["setup", "prod"]);
    assert!(start.elapsed() < Duration::from_secs(10), "{err}");
    assert_eq!(fake.count("ListMFADevices"), 3, "{err}");
    assert!(
        err.contains(&format!(
            "ListMFADevices: no answer from {}",
            fake.endpoint()
        )) && err.contains("within 6s"),
        "{err}"
    );
    assert!(err.contains("MFAENV_STS_TIMEOUT"), "{err}");

    let fake = FakeSts::start();
    let sb = Sandbox::with(
        &fake.endpoint(),
        CONFIG,
        "[alice]\naws_access_key_id = AKIAFAKE\naws_secret_access_key = s\n",
    );
    fake.on(
        "ListMFADevices",
        vec![Reply::Huge {
            bytes: 64 * 1024 * 1024,
            declared: false,
        }],
    );
    let err = sb.fails(&["setup", "prod"]);
    assert!(err.contains("ListMFADevices: the answer from"), "{err}");
    assert!(err.contains("larger than 1024 KiB"), "{err}");
    assert_eq!(fake.count("ListMFADevices"), 1, "{err}");

    fake.on(
        "ListMFADevices",
        vec![Reply::CutOff(Box::new(Reply::Xml(
            200,
            format!(
                "<ListMFADevicesResponse>{}</ListMFADevicesResponse>",
                " ".repeat(4096)
            ),
        )))],
    );
    let err = sb.fails(&["setup", "prod"]);
    assert!(err.contains("ListMFADevices: the connection to"), "{err}");
    assert!(err.contains("broke off during the answer"), "{err}");
    assert_eq!(config_of(&sb), CONFIG, "nothing written");
}
