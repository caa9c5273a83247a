//! Hostile values from outside (STS and IAM answers, section names, the
//! environment) never change the structure of an INI file mfaenv writes:
//! each case is refused with a clear error and the file keeps every byte.

mod support;

use support::fake_sts::{session_token_xml, Creds, FakeSts, Reply};
use support::sandbox::{Sandbox, BASE_SECRET, CONFIG, CREDENTIALS};

/// What a hostile STS puts after a line break: a new `[default]` with keys
/// of its own and a command every SDK would run.
const PAYLOAD: &str =
    "[default]@EOL@aws_access_key_id = AKIAEVIL@EOL@credential_process = /tmp/evil";

/// A GetSessionToken success whose `field` carries `PAYLOAD` after `eol`,
/// given as an XML character reference so the parser keeps it as it is
/// (XML turns a literal CR into LF).
fn hostile_session(field: &str, eol: &str) -> Reply {
    let mut creds = Creds::new();
    let marked = |v: &str| format!("{v}@EOL@{PAYLOAD}");
    match field {
        "SessionToken" => creds.session_token = marked(&creds.session_token),
        "AccessKeyId" => creds.access_key_id = marked(&creds.access_key_id),
        _ => creds.secret_access_key = marked(&creds.secret_access_key),
    }
    Reply::Xml(200, session_token_xml(&creds).replace("@EOL@", eol))
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

#[test]
fn write_refuses_sts_values_with_line_breaks_and_changes_nothing() {
    for field in ["SessionToken", "AccessKeyId", "SecretAccessKey"] {
        for eol in ["&#10;", "&#13;", "&#13;&#10;", "\n", "&#8232;", "&#11;"] {
            let fake = FakeSts::start();
            fake.on("GetSessionToken", vec![hostile_session(field, eol)]);
            let sb = Sandbox::new(&fake.endpoint());
            let err = sb.fails(&["write", "-t", "123456", "base"]);
            let case = format!("{field} with {eol:?}: {err}");
            assert_eq!(fake.count("GetSessionToken"), 1, "{case}");
            assert!(err.contains("refusing to write"), "{case}");
            assert!(err.contains("nothing was written"), "{case}");
            assert!(
                !err.contains("AKIAEVIL") && !err.contains("fakeSecret"),
                "{case}"
            );
            assert_eq!(read(&sb.credentials()), CREDENTIALS, "{case}");
        }
    }
}

#[test]
fn write_refuses_section_names_the_reader_would_merge_elsewhere() {
    let fake = FakeSts::start();
    let sb = Sandbox::new(&fake.endpoint());
    for to in [" base", "base ", "\tbase", "base]", "[base", "a\nb", "a\rb"] {
        let err = sb.fails(&["write", "-t", "123456", "prod", "--to", to]);
        assert!(err.contains("cannot be a section name"), "{to:?}: {err}");
        assert_eq!(read(&sb.credentials()), CREDENTIALS, "{to:?}");
    }
    // Refused before a code is spent.
    assert_eq!(fake.count("GetSessionToken"), 0);
    // The guard still sees `base` itself.
    let err = sb.fails(&["write", "-t", "123456", "prod", "--to", "base"]);
    assert!(err.contains("long-term keys"), "{err}");
    assert_eq!(read(&sb.credentials()), CREDENTIALS);
}

/// A section `[ base]` written by hand is its own profile, as botocore reads
/// it: its keys never replace base's.
#[test]
fn a_spaced_section_is_not_merged_into_the_profile() {
    let fake = FakeSts::start();
    let credentials =
        format!("{CREDENTIALS}\n[ base]\naws_access_key_id = ASIAINJECTED\naws_secret_access_key = x\naws_session_token = y\n");
    let sb = Sandbox::with(&fake.endpoint(), CONFIG, &credentials);
    sb.ok(&["login", "-t", "123456", "base"]);
    let used = fake.requests();
    assert_eq!(
        used[0].access_key_id.as_deref(),
        Some("AKIABASEEXAMPLE00001"),
        "{used:?}"
    );
}

/// ListMFADevices with one device whose SerialNumber is `serial` (raw XML).
fn devices_xml(serial: &str) -> Reply {
    Reply::Xml(
        200,
        format!(
            "<ListMFADevicesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListMFADevicesResult><IsTruncated>false</IsTruncated><MFADevices><member><UserName>fake</UserName><SerialNumber>{serial}</SerialNumber><EnableDate>2026-01-01T00:00:00Z</EnableDate></member></MFADevices></ListMFADevicesResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></ListMFADevicesResponse>"
        ),
    )
}

#[test]
fn setup_refuses_a_serial_from_iam_that_is_not_a_serial() {
    let config =
        "# mine\n[profile base]\nregion = us-east-1\n\n[profile prod]\nregion = us-west-2\n";
    for eol in ["&#10;", "&#13;", "\n", " "] {
        let fake = FakeSts::start();
        let serial = format!(
            "arn:aws:iam::123456789012:mfa/fake{eol}[profile prod]{eol}endpoint_url = http://127.0.0.1:9/"
        );
        fake.on("ListMFADevices", vec![devices_xml(&serial)]);
        let sb = Sandbox::with(&fake.endpoint(), config, CREDENTIALS);
        let err = sb.fails(&["setup", "base"]);
        assert_eq!(fake.count("ListMFADevices"), 1, "{err}");
        assert!(err.contains("not an MFA serial"), "{eol:?}: {err}");
        assert!(err.contains("nothing was written"), "{eol:?}: {err}");
        assert!(!err.contains(BASE_SECRET));
        assert_eq!(read(&sb.config()), config, "{eol:?}");
    }
    // A well-formed answer is recorded.
    let fake = FakeSts::start();
    fake.on(
        "ListMFADevices",
        vec![devices_xml("arn:aws:iam::123456789012:mfa/fake")],
    );
    let sb = Sandbox::with(&fake.endpoint(), config, CREDENTIALS);
    sb.ok(&["setup", "base"]);
    assert!(read(&sb.config()).contains(
        "[profile base]\nregion = us-east-1\nmfa_serial = arn:aws:iam::123456789012:mfa/fake\n"
    ));
}
