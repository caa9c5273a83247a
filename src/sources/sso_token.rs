//! IAM Identity Center's token cache, shared with the AWS CLI and SDKs:
//! `~/.aws/sso/cache/<sha1>.json`, the SHA-1 of the `sso_session` name (or,
//! for a legacy profile, of the start URL), with their JSON fields
//! (`startUrl`, `region`, `accessToken`, `expiresAt`, `refreshToken`,
//! `clientId`, `clientSecret`, `registrationExpiresAt`). Written 0600,
//! atomically (a temporary file in the same directory, then `rename`);
//! fields mfaenv does not know are kept.
//!
//! A file that is not a regular file of ours, is larger than 64 KiB or is
//! not such JSON is never trusted and never overwritten by a read.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use crate::config::SsoSource;
use crate::creds::rfc3339;

/// A token file is a few hundred bytes.
const MAX_FILE: u64 = 64 * 1024;

const TEMP_PREFIX: &str = ".tmp-mfaenv-";

/// `~/.aws/sso/cache` (the AWS CLI's; it reads `HOME`).
pub fn dir() -> Option<PathBuf> {
    Some(dirs::home_dir()?.join(".aws").join("sso").join("cache"))
}

/// The token file of `sso`: the SHA-1 of the session name, else of the start URL.
pub fn path(sso: &SsoSource) -> Option<PathBuf> {
    let name = sso.session.as_deref().unwrap_or(&sso.start_url);
    let digest = Sha1::digest(name.as_bytes());
    Some(dir()?.join(format!("{}.json", crate::env_vars::hex(&digest))))
}

/// A token as the file holds it.
#[derive(Clone)]
pub struct SsoToken {
    pub start_url: String,
    pub region: String,
    pub access_token: String,
    pub expires_at: SystemTime,
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub registration_expires_at: Option<SystemTime>,
    /// The file's other fields, written back as they were.
    pub other: Map<String, Value>,
}

impl std::fmt::Debug for SsoToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoToken")
            .field("start_url", &self.start_url)
            .field("expires_at", &rfc3339(self.expires_at))
            .finish_non_exhaustive()
    }
}

impl Drop for SsoToken {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.access_token.zeroize();
        self.refresh_token.zeroize();
        self.client_secret.zeroize();
    }
}

impl SsoToken {
    /// Time the access token has left (zero when past).
    pub fn left(&self, now: SystemTime) -> Duration {
        self.expires_at.duration_since(now).unwrap_or_default()
    }

    /// Whether it can be refreshed with no browser: a refresh token and a
    /// client registration that has not expired.
    pub fn refreshable(&self, now: SystemTime) -> bool {
        self.refresh_token.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self.registration_expires_at.is_some_and(|t| t > now)
    }

    fn to_json(&self) -> Value {
        let mut map = self.other.clone();
        let mut set = |key: &str, value: Option<Value>| match value {
            Some(v) => {
                map.insert(key.to_string(), v);
            }
            None => {
                map.remove(key);
            }
        };
        set("startUrl", Some(Value::from(self.start_url.as_str())));
        set("region", Some(Value::from(self.region.as_str())));
        set("accessToken", Some(Value::from(self.access_token.as_str())));
        set("expiresAt", Some(Value::from(rfc3339(self.expires_at))));
        set(
            "refreshToken",
            self.refresh_token.as_deref().map(Value::from),
        );
        set("clientId", self.client_id.as_deref().map(Value::from));
        set(
            "clientSecret",
            self.client_secret.as_deref().map(Value::from),
        );
        set(
            "registrationExpiresAt",
            self.registration_expires_at
                .map(|t| Value::from(rfc3339(t))),
        );
        Value::Object(map)
    }
}

/// The token at `path`: `Ok(None)` when there is none, `Err(reason)` when
/// the file is there but must not be used (not ours, not a regular file,
/// too big, not a token).
pub fn read(path: &Path) -> Result<Option<SsoToken>, String> {
    let bytes = match crate::files::read_bounded(path, MAX_FILE) {
        Ok((bytes, meta)) => {
            check_owner(&meta)?;
            bytes
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err("not a JSON object".into());
    };
    let mut take = |key: &str| match map.remove(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let (Some(access_token), Some(expires_at)) = (take("accessToken"), take("expiresAt")) else {
        return Err("no accessToken and expiresAt".into());
    };
    let expires_at = parse_time(&expires_at).ok_or("expiresAt is not a time")?;
    let registration_expires_at = take("registrationExpiresAt").and_then(|t| parse_time(&t));
    Ok(Some(SsoToken {
        start_url: take("startUrl").unwrap_or_default(),
        region: take("region").unwrap_or_default(),
        access_token,
        expires_at,
        refresh_token: take("refreshToken"),
        client_id: take("clientId"),
        client_secret: take("clientSecret"),
        registration_expires_at,
        other: map,
    }))
}

#[cfg(unix)]
fn check_owner(meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != crate::files::uid() {
        return Err("owned by another user".into());
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "writable by others (mode {:o})",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner(_: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// The times the AWS tools write: `2026-01-02T03:04:05Z`, with fractions,
/// with `+00:00`, or the AWS CLI v1's `2026-01-02T03:04:05UTC`.
pub fn parse_time(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let text = text
        .strip_suffix("UTC")
        .map(|t| format!("{t}Z"))
        .unwrap_or_else(|| text.replace("+00:00", "Z"));
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()
}

/// Writes `token` to `path` atomically, 0600, creating the directory (0700).
pub fn write(path: &Path, token: &SsoToken) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir(dir)?;
    crate::files::remove_stale_temps(dir, TEMP_PREFIX);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    serde_json::to_writer(&mut tmp, &token.to_json())?;
    tmp.as_file().sync_all()?;
    tmp.flush()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aws_cli_names_and_times() {
        // botocore: sha1("my-sso") for the session, sha1(start URL) for legacy.
        let sso = SsoSource {
            session: Some("my-sso".into()),
            start_url: "https://x.awsapps.com/start".into(),
            region: "us-east-1".into(),
            scopes: vec![],
            account_id: "111122223333".into(),
            role_name: "r".into(),
        };
        let name = path(&sso).unwrap();
        let hex = crate::env_vars::hex(&Sha1::digest(b"my-sso"));
        assert_eq!(
            name.file_name().unwrap().to_str().unwrap(),
            format!("{hex}.json")
        );
        assert_eq!(
            crate::env_vars::hex(&Sha1::digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let t = parse_time("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(parse_time("2026-01-02T03:04:05UTC"), Some(t));
        assert_eq!(parse_time("2026-01-02T03:04:05+00:00"), Some(t));
        assert!(parse_time("2026-01-02T03:04:05.123Z").is_some());
        assert!(parse_time("soon").is_none());
    }

    #[test]
    fn round_trip_keeps_other_fields_and_refuses_bad_files() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("cache/t.json");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            &file,
            r#"{"startUrl":"https://s","region":"eu-west-1","accessToken":"at","expiresAt":"2030-01-01T00:00:00Z","refreshToken":"rt","clientId":"c","clientSecret":"cs","registrationExpiresAt":"2030-02-01T00:00:00Z","extra":1}"#,
        )
        .unwrap();
        let token = read(&file).unwrap().unwrap();
        assert!(token.refreshable(SystemTime::now()));
        write(&file, &token).unwrap();
        let back: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(back["extra"], 1);
        assert_eq!(back["expiresAt"], "2030-01-01T00:00:00Z");
        assert_eq!(back["refreshToken"], "rt");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&file, "{").unwrap();
        assert!(read(&file).is_err());
        assert!(read(&tmp.path().join("none.json")).unwrap().is_none());
        assert!(read(tmp.path()).is_err(), "a directory");
    }
}
