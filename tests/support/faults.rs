//! The STS fault matrix, shared by tests/faults.rs (the failure contract of
//! each case) and tests/secrets.rs (no secret in what a failing run says).
//!
//! Every case runs `mfaenv export` (or `login`) against the fake STS or an
//! endpoint where nothing listens, in a [`Sandbox`] (per-attempt timeout
//! `MFAENV_STS_TIMEOUT=2`, so 6 s in all). Successful replies use the two
//! known key sets handed to [`matrix`], so a test knows every secret that
//! went over the wire.

use std::time::{Duration, SystemTime};

use super::fake_sts::{refused_endpoint, Creds, FakeSts, Reply};
use super::sandbox::{Sandbox, CONFIG};

pub const SERIAL: &str = "arn:aws:iam::111111111111:mfa/alice";
pub const ROLE: &str = "arn:aws:iam::222222222222:role/hc/hc-master";

/// A source profile whose keys are themselves temporary (they carry a session
/// token): mfaenv assumes its role directly, with the code.
pub const TEMP_SOURCE_CREDENTIALS: &str = "\
[base]
aws_access_key_id = ASIATEMPSOURCE000001
aws_secret_access_key = temp/source/SECRET+do-not-leak
aws_session_token = temp-source-token/do-not-leak
";

/// Where mfaenv is pointed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The fake STS with the case's script.
    Fake,
    /// A 127.0.0.1 port where nothing listens.
    Refused,
}

/// Something done before the failing run (not timed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Before {
    Nothing,
    /// `login -t 123456 base`: the MFA session of `base` is cached.
    MfaSession,
    /// `login -t 123456 base` then `forget --all`: the code 123456 was used.
    CodeUsed,
}

#[derive(Clone, Debug)]
pub struct Fault {
    pub name: &'static str,
    /// What the README's table calls it.
    pub title: &'static str,
    pub target: Target,
    /// Replies per Action (the last one repeats).
    pub script: Vec<(&'static str, Vec<Reply>)>,
    /// The credentials file (the config is always `sandbox::CONFIG`).
    pub credentials: Option<&'static str>,
    pub before: Before,
    /// The failing run's arguments.
    pub args: &'static [&'static str],
    /// What the `error:` line must say (each, case-insensitive).
    pub error: &'static [&'static str],
    /// What the `hint:` line must say; empty: no hint line expected.
    pub hint: &'static [&'static str],
    /// How many requests of an Action the failing run makes.
    pub attempts: Option<(&'static str, usize)>,
    /// The failing run's wall time is below this.
    pub bound: Duration,
    /// The cached MFA session is dropped by the failing run (expired keys).
    pub drops_mfa_session: bool,
}

impl Fault {
    /// A sandbox and (for [`Target::Fake`]) the scripted fake, with
    /// [`Fault::before`] done.
    pub fn prepare(&self) -> (Option<FakeSts>, Sandbox) {
        let fake = (self.target == Target::Fake).then(FakeSts::start);
        let endpoint = match &fake {
            Some(f) => f.endpoint(),
            None => refused_endpoint(),
        };
        let credentials = self.credentials.unwrap_or(super::sandbox::CREDENTIALS);
        let sb = Sandbox::with(&endpoint, CONFIG, credentials);
        if self.before != Before::Nothing {
            let fake = fake.as_ref().expect("`before` needs the fake STS");
            sb.ok(&["login", "-t", "123456", "base"]);
            if self.before == Before::CodeUsed {
                sb.ok(&["forget", "--all"]);
            }
            assert_eq!(fake.count("GetSessionToken"), 1, "{}: before", self.name);
        }
        if let Some(fake) = &fake {
            for (action, replies) in &self.script {
                fake.on(action, replies.clone());
            }
        }
        (fake, sb)
    }

    /// Requests the failing run made (those of `before` left out).
    pub fn requests_before(&self) -> usize {
        usize::from(self.before != Before::Nothing)
    }
}

const EXPORT: &[&str] = &["export", "--shell", "bash", "-t", "123456", "prod"];
const EXPORT_BASE: &[&str] = &["export", "--shell", "bash", "-t", "123456", "base"];
const EXPORT_DIRECT: &[&str] = &[
    "export", "--shell", "bash", "--direct", "-t", "123456", "prod",
];
/// A role profile whose MFA session is cached: no code needed.
const EXPORT_CACHED: &[&str] = &["export", "--shell", "bash", "prod"];

/// Every fault. `session` answers GetSessionToken and `role` AssumeRole
/// wherever a step succeeds (or is cut short).
pub fn matrix(session: &Creds, role: &Creds) -> Vec<Fault> {
    let s = || Reply::SessionToken(session.clone());
    let r = || Reply::AssumeRole(role.clone());
    let quick = Duration::from_secs(3);
    // 3 attempts of at most 2 s each, 6 s in all, plus start-up and slack.
    let timed_out = Duration::from_secs(8);
    let base = |name, title| Fault {
        name,
        title,
        target: Target::Fake,
        script: Vec::new(),
        credentials: None,
        before: Before::Nothing,
        args: EXPORT,
        error: &[],
        hint: &[],
        attempts: None,
        bound: quick,
        drops_mfa_session: false,
    };
    vec![
        Fault {
            target: Target::Refused,
            error: &["GetSessionToken", "cannot reach http://127.0.0.1:", "refused"],
            hint: &["check your network", "set by AWS_ENDPOINT_URL"],
            ..base("refused", "connection refused")
        },
        Fault {
            script: vec![("GetSessionToken", vec![Reply::Hang])],
            error: &["GetSessionToken", "no answer from http://127.0.0.1:", "within 6s"],
            hint: &["check your network", "set by AWS_ENDPOINT_URL", "MFAENV_STS_TIMEOUT"],
            bound: timed_out,
            ..base("hang", "server accepts, never answers")
        },
        Fault {
            script: vec![("GetSessionToken", vec![Reply::internal_failure()])],
            error: &["GetSessionToken", "InternalFailure"],
            hint: &["3 times", "try again in a minute"],
            attempts: Some(("GetSessionToken", 3)),
            ..base("http500", "HTTP 500 (InternalFailure)")
        },
        Fault {
            script: vec![("GetSessionToken", vec![Reply::throttling()])],
            error: &["GetSessionToken", "throttling", "gave up after 3 attempts", "try again in a minute"],
            attempts: Some(("GetSessionToken", 3)),
            ..base("throttling", "throttling (Rate exceeded)")
        },
        Fault {
            before: Before::MfaSession,
            script: vec![(
                "AssumeRole",
                vec![Reply::access_denied(
                    "User: arn:aws:sts::111111111111:federated-user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/hc/hc-master",
                )],
            )],
            error: &["assuming arn:aws:iam::222222222222:role/hc/hc-master", "access denied", "not authorized"],
            hint: &["trust policy", "MFA"],
            attempts: Some(("AssumeRole", 1)),
            ..base("access-denied", "AccessDenied on AssumeRole")
        },
        Fault {
            script: vec![("GetSessionToken", vec![Reply::invalid_mfa_code()])],
            error: &["AWS rejected the MFA code for arn:aws:iam::111111111111:mfa/alice", "wait for the next one"],
            attempts: Some(("GetSessionToken", 1)),
            ..base("wrong-code", "wrong MFA code")
        },
        Fault {
            before: Before::CodeUsed,
            script: vec![("GetSessionToken", vec![Reply::invalid_mfa_code()])],
            error: &["AWS rejected the MFA code", "accepted once", "wait for the next one"],
            attempts: Some(("GetSessionToken", 1)),
            ..base("reused-code", "MFA code already used")
        },
        Fault {
            script: vec![("AssumeRole", vec![Reply::invalid_mfa_code()])],
            args: EXPORT_DIRECT,
            error: &["assuming arn:aws:iam::222222222222:role/hc/hc-master", "AWS rejected the MFA code", "wait for the next one"],
            attempts: Some(("AssumeRole", 1)),
            ..base("wrong-code-direct", "wrong MFA code, direct AssumeRole")
        },
        Fault {
            script: vec![("GetSessionToken", vec![Reply::unknown_mfa_serial()])],
            error: &["could not validate the MFA device arn:aws:iam::111111111111:mfa/alice", "serial number"],
            hint: &["mfa_serial", "mfaenv setup prod"],
            attempts: Some(("GetSessionToken", 1)),
            ..base("unknown-device", "MFA device not the user's")
        },
        Fault {
            before: Before::MfaSession,
            script: vec![("AssumeRole", vec![Reply::expired_token()])],
            args: EXPORT_CACHED,
            error: &["assuming arn:aws:iam::222222222222:role/hc/hc-master", "AssumeRole: the keys used have expired"],
            hint: &["MFA session of `base`", "dropped it from the cache", "run the command again"],
            attempts: Some(("AssumeRole", 1)),
            drops_mfa_session: true,
            ..base("expired-session", "cached MFA session refused as expired")
        },
        Fault {
            credentials: Some(TEMP_SOURCE_CREDENTIALS),
            script: vec![("AssumeRole", vec![Reply::expired_token()])],
            error: &["AssumeRole: the keys used have expired"],
            hint: &["profile `base`", "temporary", "renew them"],
            attempts: Some(("AssumeRole", 1)),
            ..base("expired-source", "the profile's own temporary keys expired")
        },
        Fault {
            script: vec![("GetSessionToken", vec![Reply::invalid_client_token_id()])],
            args: EXPORT_BASE,
            error: &["GetSessionToken", "InvalidClientTokenId"],
            hint: &["aws_access_key_id", "still active"],
            attempts: Some(("GetSessionToken", 1)),
            ..base("bad-keys", "long-term keys unknown to AWS")
        },
        Fault {
            script: vec![(
                "GetSessionToken",
                vec![Reply::Garbage(b"<html><body>Welcome to nginx!</body></html>".to_vec())],
            )],
            error: &["GetSessionToken", "not a readable STS response"],
            hint: &["may not be an STS endpoint", "set by AWS_ENDPOINT_URL"],
            ..base("garbage", "malformed answer (HTML, not STS XML)")
        },
        Fault {
            script: vec![("GetSessionToken", vec![Reply::truncated(s())])],
            error: &["GetSessionToken", "not a readable STS response"],
            hint: &["may not be an STS endpoint"],
            ..base("truncated", "truncated XML in a complete response")
        },
        Fault {
            before: Before::MfaSession,
            script: vec![("AssumeRole", vec![Reply::truncated(r())])],
            args: EXPORT_CACHED,
            error: &["AssumeRole", "not a readable STS response"],
            hint: &["may not be an STS endpoint"],
            ..base("truncated-role", "truncated XML (AssumeRole)")
        },
        Fault {
            script: vec![("GetSessionToken", vec![Reply::CutOff(Box::new(s()))])],
            error: &["GetSessionToken", "broke off during the answer"],
            hint: &["check your network", "set by AWS_ENDPOINT_URL"],
            attempts: Some(("GetSessionToken", 3)),
            ..base("cut-off", "connection lost mid-answer")
        },
        Fault {
            before: Before::MfaSession,
            script: vec![(
                "AssumeRole",
                vec![Reply::Dated(
                    SystemTime::now() - Duration::from_secs(2 * 3600),
                    Box::new(Reply::request_expired()),
                )],
            )],
            args: EXPORT_CACHED,
            error: &["assuming arn:aws:iam::222222222222:role/hc/hc-master", "signed at the wrong time", "Request has expired"],
            hint: &["your clock is off by 2h", "ahead of AWS's", "cached sessions were kept"],
            attempts: Some(("AssumeRole", 1)),
            ..base("clock-skew", "this machine's clock is off (RequestExpired)")
        },
        Fault {
            script: vec![(
                "GetSessionToken",
                vec![Reply::Dated(
                    SystemTime::now() + Duration::from_secs(3 * 3600 + 90),
                    Box::new(Reply::request_expired()),
                )],
            )],
            args: EXPORT_BASE,
            error: &["GetSessionToken", "signed at the wrong time"],
            hint: &["your clock is off by 3h 1m", "behind AWS's"],
            attempts: Some(("GetSessionToken", 1)),
            ..base("clock-skew-session", "clock off, long-term keys (RequestExpired)")
        },
        Fault {
            script: vec![(
                "GetSessionToken",
                vec![Reply::Huge {
                    bytes: 256 << 20,
                    declared: false,
                }],
            )],
            error: &["GetSessionToken", "larger than 1024 KiB"],
            hint: &["may not be an STS endpoint", "set by AWS_ENDPOINT_URL"],
            ..base("huge", "an answer larger than 1 MiB (streamed)")
        },
        Fault {
            script: vec![(
                "GetSessionToken",
                vec![Reply::Huge {
                    bytes: 256 << 20,
                    declared: true,
                }],
            )],
            error: &["GetSessionToken", "larger than 1024 KiB"],
            hint: &["may not be an STS endpoint"],
            ..base("huge-declared", "an answer that says it is 256 MiB")
        },
        Fault {
            script: vec![("GetSessionToken", vec![Reply::Close])],
            error: &["GetSessionToken", "cannot reach", "closed"],
            hint: &["check your network", "set by AWS_ENDPOINT_URL"],
            attempts: Some(("GetSessionToken", 3)),
            ..base("closed", "connection closed without an answer")
        },
    ]
}

/// The case called `name`.
pub fn case(name: &str, session: &Creds, role: &Creds) -> Fault {
    matrix(session, role)
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fault case `{name}`"))
}
