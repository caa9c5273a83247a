//! `aws login` sessions (`login_session` on a profile) as the start of a
//! chain. The AWS CLI keeps the session in
//! `<AWS_LOGIN_CACHE_DIRECTORY or ~/.aws/login/cache>/<sha256 of login_session>.json`:
//! short-lived credentials (15 minutes), a refresh token, and the P-256 key
//! the refresh must prove it holds (DPoP).
//!
//! That file is the truth, shared with the CLI and the SDKs: mfaenv serves
//! the session's credentials from it directly (no copy in its own cache,
//! which could only go stale), refreshes them through Sign-In when fewer
//! than 5 minutes are left, and writes the answer back the way botocore
//! does — same members, the other members kept in their order, 0600,
//! through a temporary file and a rename — so the CLI keeps working. Roles
//! on top are cached by mfaenv as usual.
//!
//! The file is hostile until checked: a regular file, ours, private, small,
//! well-formed; anything else is an error that names the profile and says
//! what to do, never a hang or a crash.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::aws::dpop::{DpopKey, KeyError};
use crate::aws::endpoint::{self, Service};
use crate::aws::http::Http;
use crate::aws::signin::{self, SigninError};
use crate::cache::{Cache, Key};
use crate::config::{Plan, SourceKind};
use crate::creds::{rfc3339, Credentials};
use crate::duration::human;

/// Credentials with less than this left are refreshed first (botocore's
/// and the AWS CLI's threshold).
pub const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// How long Sign-In's credentials last at most (its `expiresIn`).
pub const MAX_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// A session file is a few KiB (the ID token is the largest member).
pub const MAX_FILE: u64 = 64 * 1024;

/// The variable that moves the cache, as in the AWS CLI and the SDKs.
pub const CACHE_DIR_VARIABLE: &str = "AWS_LOGIN_CACHE_DIRECTORY";

/// An `aws login` session a chain starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSource {
    /// The profile with `login_session` (what `aws login --profile` takes).
    pub profile: String,
    /// Its `login_session` value (the session's ARN).
    pub session: String,
}

/// What went wrong, naming the profile; `crate::advice` says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(
        "profile `{profile}`: no `aws login` session is cached for it ({path} does not exist)"
    )]
    NotLoggedIn { profile: String, path: String },
    #[error("profile `{profile}`: no home directory for the `aws login` cache; set {CACHE_DIR_VARIABLE}")]
    NoCacheDir { profile: String },
    #[error("profile `{profile}`: refusing the `aws login` cache file {path}: {reason}")]
    Unsafe {
        profile: String,
        path: String,
        reason: String,
    },
    #[error(
        "profile `{profile}`: the `aws login` cache file {path} is not a usable session: {reason}"
    )]
    Malformed {
        profile: String,
        path: String,
        reason: String,
    },
    #[error("profile `{profile}`: the `aws login` session cannot be refreshed: {reason}")]
    LoginRequired { profile: String, reason: String },
    #[error("profile `{profile}`: refreshing the `aws login` session failed: {cause}")]
    Refresh { profile: String, cause: SigninError },
    #[error("profile `{profile}`: no region to reach Sign-In in (the profile has no `region`, and neither AWS_REGION nor AWS_ENDPOINT_URL_SIGNIN is set)")]
    NoRegion { profile: String },
    #[error("profile `{profile}`: the refreshed `aws login` session lasts {lasts}, less than the {wanted} asked for (--min-ttl); Sign-In issues credentials for 15 minutes at most")]
    TooShort {
        profile: String,
        lasts: String,
        wanted: String,
    },
    #[error("profile `{profile}`: cannot write the refreshed session back to {path}: {reason}")]
    WriteBack {
        profile: String,
        path: String,
        reason: String,
    },
}

impl LoginError {
    /// The profile to run `aws login --profile` for.
    pub fn profile(&self) -> &str {
        match self {
            LoginError::NotLoggedIn { profile, .. }
            | LoginError::NoCacheDir { profile }
            | LoginError::Unsafe { profile, .. }
            | LoginError::Malformed { profile, .. }
            | LoginError::LoginRequired { profile, .. }
            | LoginError::Refresh { profile, .. }
            | LoginError::NoRegion { profile }
            | LoginError::TooShort { profile, .. }
            | LoginError::WriteBack { profile, .. } => profile,
        }
    }
}

/// `AWS_LOGIN_CACHE_DIRECTORY` (a leading `~` is the home directory), else
/// `~/.aws/login/cache`.
pub fn cache_dir() -> Option<PathBuf> {
    let home = dirs::home_dir;
    match crate::env_vars::get(CACHE_DIR_VARIABLE) {
        Some(dir) if dir == "~" => home(),
        Some(dir) => match dir.strip_prefix("~/") {
            Some(rest) => Some(home()?.join(rest)),
            None => Some(PathBuf::from(dir)),
        },
        None => Some(home()?.join(".aws").join("login").join("cache")),
    }
}

/// The session's file: the SHA-256 (hex) of `login_session`, `.json`.
pub fn cache_file(dir: &Path, session: &str) -> PathBuf {
    let digest = Sha256::digest(session.as_bytes());
    dir.join(format!("{}.json", crate::env_vars::hex(&digest)))
}

/// Where the session of `source` is read from (for `plan`).
pub fn path_of(source: &LoginSource) -> Option<PathBuf> {
    Some(cache_file(&cache_dir()?, &source.session))
}

/// How to reach Sign-In for a refresh: an endpoint URL (from
/// `AWS_ENDPOINT_URL_SIGNIN` and the like) or the region whose regional
/// endpoint to use.
#[derive(Debug, Clone, Default)]
pub struct Signin {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
}

/// The `aws login` session `plan` starts from, if it does.
pub fn of_plan(plan: &Plan) -> Option<LoginSource> {
    match &plan.source.kind {
        SourceKind::Login { session } => Some(LoginSource {
            profile: plan.source.profile.clone(),
            session: session.clone(),
        }),
        _ => None,
    }
}

/// Where Sign-In is for `plan`: `AWS_ENDPOINT_URL_SIGNIN`, `AWS_ENDPOINT_URL`
/// or the profile's `endpoint_url` (as for every service), else the
/// regional endpoint of `--region`, `AWS_REGION`, … or the profile's region.
pub fn signin_for(plan: &Plan, region_flag: Option<&str>) -> Signin {
    Signin {
        endpoint_url: endpoint::endpoint(Service::Signin, plan, None).map(|(url, _)| url),
        region: endpoint::region(plan, region_flag),
    }
}

/// The first credentials of `plan` (an `aws login` source): at least
/// `min_ttl` left, from the session's file or refreshed.
pub fn for_plan(
    plan: &Plan,
    opts: &crate::resolve::Options,
    min_ttl: Duration,
    cache: &Cache,
) -> anyhow::Result<Credentials> {
    let source = of_plan(plan).ok_or_else(|| {
        anyhow::anyhow!(
            "profile `{}`: not an `aws login` profile",
            plan.source.profile
        )
    })?;
    credentials(
        &source,
        min_ttl,
        &signin_for(plan, opts.region.as_deref()),
        cache,
    )
}

/// When the session's credentials expire, as its file says: for `plan`
/// and `status` (nothing refreshed, no secret shown).
pub fn expiry(source: &LoginSource) -> Result<SystemTime, LoginError> {
    let token = read(source, &file_for(source)?)?;
    token.creds.expiration.ok_or_else(|| LoginError::Malformed {
        profile: source.profile.clone(),
        path: String::new(),
        reason: "no expiry".into(),
    })
}

/// Whether credentials with `left` serve a caller that needs `min_ttl`.
pub fn serves(left: Duration, min_ttl: Duration) -> bool {
    left > min_ttl.max(REFRESH_BEFORE)
}

/// The session's credentials when at least `min_ttl` (and 5 minutes) is
/// left, without any refresh: the cached export's path (no runtime, no TLS).
pub fn cached(source: &LoginSource, min_ttl: Duration) -> Result<Option<Credentials>, LoginError> {
    let path = file_for(source)?;
    let token = read(source, &path)?;
    Ok(fresh(&token.creds, min_ttl).then(|| token.creds.clone()))
}

/// The session's credentials lasting at least `min_ttl` (and 5 minutes):
/// from the file, else refreshed through Sign-In under mfaenv's lock for
/// the session (one refresh for many parallel callers) and written back.
/// A failed refresh keeps using credentials that have not expired yet.
pub fn credentials(
    source: &LoginSource,
    min_ttl: Duration,
    signin: &Signin,
    cache: &Cache,
) -> anyhow::Result<Credentials> {
    let path = file_for(source)?;
    let token = read(source, &path)?;
    if fresh(&token.creds, min_ttl) {
        return Ok(token.creds.clone());
    }
    if min_ttl >= MAX_LIFETIME {
        return Err(LoginError::TooShort {
            profile: source.profile.clone(),
            lasts: format!("at most {}", human(MAX_LIFETIME)),
            wanted: human(min_ttl),
        }
        .into());
    }
    let key = Key::new(&["aws-login", &source.session]);
    let what = format!("the `aws login` session of `{}`", source.profile);
    cache.locked(&key, &what, || {
        // Another mfaenv, the CLI or an SDK may have refreshed it meanwhile.
        let token = read(source, &path)?;
        if fresh(&token.creds, min_ttl) {
            return Ok(token.creds.clone());
        }
        match refresh(source, &path, token.doc, signin) {
            Ok(creds) => {
                check_lasts(source, &creds, min_ttl)?;
                Ok(creds)
            }
            Err(err) => still_valid(source, &token.creds, err),
        }
    })
}

/// After a failed refresh: the old credentials while they last, with a
/// warning (as the SDKs do), else the error.
fn still_valid(
    source: &LoginSource,
    creds: &Credentials,
    err: LoginError,
) -> anyhow::Result<Credentials> {
    let left = creds.time_left(SystemTime::now()).unwrap_or_default();
    if left < Duration::from_secs(1) {
        return Err(err.into());
    }
    crate::ui::warning(format_args!(
        "{err}; using its current credentials, which expire in {} (run `aws login --profile {}` for new ones)",
        human(left),
        source.profile
    ));
    Ok(creds.clone())
}

fn check_lasts(
    source: &LoginSource,
    creds: &Credentials,
    min_ttl: Duration,
) -> Result<(), LoginError> {
    let left = creds.time_left(SystemTime::now()).unwrap_or_default();
    if left < min_ttl {
        return Err(LoginError::TooShort {
            profile: source.profile.clone(),
            lasts: human(left),
            wanted: human(min_ttl),
        });
    }
    Ok(())
}

fn fresh(creds: &Credentials, min_ttl: Duration) -> bool {
    creds
        .time_left(SystemTime::now())
        .is_some_and(|left| serves(left, min_ttl))
}

fn file_for(source: &LoginSource) -> Result<PathBuf, LoginError> {
    path_of(source).ok_or_else(|| LoginError::NoCacheDir {
        profile: source.profile.clone(),
    })
}

/// A session file as read: its members in their order, and the credentials.
#[derive(Debug)]
struct Token {
    doc: Ordered,
    creds: Credentials,
}

/// Reads and checks the session file at `path`.
fn read(source: &LoginSource, path: &Path) -> Result<Token, LoginError> {
    let shown = crate::ui::path(path);
    let unsafe_file = |reason: String| LoginError::Unsafe {
        profile: source.profile.clone(),
        path: shown.clone(),
        reason,
    };
    let (bytes, meta) = match crate::files::read_bounded(path, MAX_FILE) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LoginError::NotLoggedIn {
                profile: source.profile.clone(),
                path: shown,
            })
        }
        Err(e) => return Err(unsafe_file(e.to_string())),
    };
    check_private(&meta).map_err(unsafe_file)?;
    let malformed = |reason: String| LoginError::Malformed {
        profile: source.profile.clone(),
        path: shown.clone(),
        reason,
    };
    let doc: Ordered = serde_json::from_slice(&bytes)
        .map_err(|e| malformed(format!("not a JSON object (line {})", e.line())))?;
    let creds = credentials_in(&doc).map_err(|r| malformed(r.to_string()))?;
    Ok(Token { doc, creds })
}

/// Only a file of ours that nobody else may read or write is trusted (the
/// AWS CLI and botocore write 0600).
#[cfg(unix)]
fn check_private(meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != crate::files::uid() {
        return Err(format!("it is owned by another user (uid {})", meta.uid()));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "others may read or change it (mode {mode:o}); it holds your credentials"
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// The `accessToken` member as credentials.
fn credentials_in(doc: &Ordered) -> Result<Credentials, &'static str> {
    let access = doc.get("accessToken").ok_or("no accessToken")?;
    let text = |name: &str, missing: &'static str| {
        access
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| signin::is_token_text(s))
            .map(str::to_string)
            .ok_or(missing)
    };
    let expires = text("expiresAt", "no accessToken.expiresAt")?;
    let expiration = humantime::parse_rfc3339_weak(&expires)
        .map_err(|_| "accessToken.expiresAt is not an RFC 3339 time")?;
    Ok(Credentials {
        access_key_id: text("accessKeyId", "no accessToken.accessKeyId")?,
        secret_access_key: text("secretAccessKey", "no accessToken.secretAccessKey")?,
        session_token: Some(text("sessionToken", "no accessToken.sessionToken")?),
        expiration: Some(expiration),
    })
}

/// One refresh through Sign-In, written back to `path`.
fn refresh(
    source: &LoginSource,
    path: &Path,
    mut doc: Ordered,
    signin: &Signin,
) -> Result<Credentials, LoginError> {
    let profile = || source.profile.clone();
    let relogin = |reason: &str| LoginError::LoginRequired {
        profile: profile(),
        reason: reason.to_string(),
    };
    let member = |name: &str| {
        doc.get(name)
            .and_then(Value::as_str)
            .filter(|s| signin::is_token_text(s))
    };
    let refresh_token =
        member("refreshToken").ok_or_else(|| relogin("the cache file holds no refresh token"))?;
    let client_id =
        member("clientId").ok_or_else(|| relogin("the cache file holds no clientId"))?;
    let pem = doc
        .get("dpopKey")
        .and_then(Value::as_str)
        .ok_or_else(|| relogin("the cache file holds no dpopKey"))?;
    let key = DpopKey::from_pem(pem).map_err(|e: KeyError| relogin(&e.to_string()))?;
    let base = match (&signin.endpoint_url, &signin.region) {
        (Some(url), _) => url.clone(),
        (None, Some(region)) => signin::regional_endpoint(region),
        (None, None) => return Err(LoginError::NoRegion { profile: profile() }),
    };
    let failed = |source: SigninError| match source {
        SigninError::LoginRequired(_) => LoginError::LoginRequired {
            profile: profile(),
            reason: source.to_string(),
        },
        other => LoginError::Refresh {
            profile: profile(),
            cause: other,
        },
    };
    let _progress = crate::ui::progress(format_args!(
        "refreshing the `aws login` session of `{}`…",
        source.profile
    ));
    let http = Http::new().map_err(|e| failed(e.into()))?;
    let refreshed =
        signin::refresh(&http, &base, client_id, refresh_token, &key).map_err(failed)?;
    let expiration = SystemTime::now() + refreshed.expires_in;
    update(&mut doc, &refreshed, expiration);
    write_back(path, &doc).map_err(|reason| LoginError::WriteBack {
        profile: profile(),
        path: crate::ui::path(path),
        reason,
    })?;
    Ok(Credentials {
        access_key_id: refreshed.access_key_id.clone(),
        secret_access_key: refreshed.secret_access_key.clone(),
        session_token: Some(refreshed.session_token.clone()),
        expiration: Some(expiration),
    })
}

/// botocore's update of a refreshed token: `accessToken` replaced (its
/// `accountId` kept) and `refreshToken` replaced; every other member as it was.
fn update(doc: &mut Ordered, refreshed: &signin::Refreshed, expiration: SystemTime) {
    let account = doc
        .get("accessToken")
        .and_then(|a| a.get("accountId"))
        .cloned();
    let mut access = vec![
        ("accessKeyId", Value::from(refreshed.access_key_id.as_str())),
        (
            "secretAccessKey",
            Value::from(refreshed.secret_access_key.as_str()),
        ),
        (
            "sessionToken",
            Value::from(refreshed.session_token.as_str()),
        ),
    ];
    if let Some(account) = account {
        access.push(("accountId", account));
    }
    access.push(("expiresAt", Value::from(rfc3339(expiration))));
    let access = Ordered(
        access
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    );
    doc.set("accessToken", access.into_value());
    doc.set(
        "refreshToken",
        Value::from(refreshed.refresh_token.as_str()),
    );
}

/// Replaces `path` atomically with `doc`: a 0600 temporary file in the same
/// directory, synced, then renamed over it. The file is never truncated.
fn write_back(path: &Path, doc: &Ordered) -> Result<(), String> {
    use std::io::Write;
    let dir = path.parent().ok_or("no directory")?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".mfaenv-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| e.to_string())?;
    let mut text = Vec::new();
    let mut writer = serde_json::Serializer::with_formatter(&mut text, PythonFormatter);
    serde::Serialize::serialize(doc, &mut writer).map_err(|e| e.to_string())?;
    tmp.write_all(&text).map_err(|e| e.to_string())?;
    use zeroize::Zeroize;
    text.zeroize();
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| e.error.to_string())?;
    Ok(())
}

/// A JSON object with its members in document order (serde_json's own map
/// sorts them): what botocore writes back keeps the order it read.
#[derive(Clone, Default)]
struct Ordered(Vec<(String, Value)>);

/// Member names only: the values are secrets.
impl std::fmt::Debug for Ordered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

impl Ordered {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Replaces `name` where it is, or adds it at the end.
    fn set(&mut self, name: &str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    /// As a value nested in another `Ordered` (written in this order).
    fn into_value(mut self) -> Value {
        Value::Object(std::mem::take(&mut self.0).into_iter().collect())
    }
}

impl Drop for Ordered {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, value) in &mut self.0 {
            wipe(value);
        }
        fn wipe(value: &mut Value) {
            match value {
                Value::String(s) => s.zeroize(),
                Value::Object(map) => map.values_mut().for_each(wipe),
                Value::Array(items) => items.iter_mut().for_each(wipe),
                _ => {}
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    members.push((k, v));
                }
                Ok(Ordered(members))
            }
        }
        d.deserialize_map(Members)
    }
}

impl serde::Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            if k == "accessToken" {
                // Written in botocore's member order, not serde_json's sorted one.
                map.serialize_entry(k, &AccessOrder(v))?;
            } else {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// `accessToken` in the order botocore writes it.
struct AccessOrder<'a>(&'a Value);

impl serde::Serialize for AccessOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const ORDER: [&str; 5] = [
            "accessKeyId",
            "secretAccessKey",
            "sessionToken",
            "accountId",
            "expiresAt",
        ];
        let Some(members) = self.0.as_object() else {
            return self.0.serialize(s);
        };
        let mut map = s.serialize_map(Some(members.len()))?;
        for name in ORDER {
            if let Some(v) = members.get(name) {
                map.serialize_entry(name, v)?;
            }
        }
        for (k, v) in members.iter().filter(|(k, _)| !ORDER.contains(&k.as_str())) {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Python's `json.dumps` separators (`", "` and `": "`), as botocore writes.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+PNauWi/ihtwHHbq\n1tgc8Vgpwx0qQlNSN38y+z0igWehRANCAAR2Ntw6BXJ1v8jb9XjzKZJ+gL5f/3Jq\nIqiH2PUGKWxoFwNlcNB83FivEXEzlTbuCQK5OezOYb3gbvHuzKkB0nDX\n-----END PRIVATE KEY-----";

    fn source() -> LoginSource {
        LoginSource {
            profile: "dev".into(),
            session: "arn:aws:sts::012345678910:assumed-role/Admin/admin".into(),
        }
    }

    /// A session file as the AWS CLI writes it (its member order).
    fn token(expires: &str) -> String {
        let key = serde_json::to_string(KEY).unwrap();
        format!(
            r#"{{"accessToken": {{"accessKeyId": "ASIAOLD", "secretAccessKey": "old-secret", "sessionToken": "old-token", "accountId": "012345678910", "expiresAt": "{expires}"}}, "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/same-device", "refreshToken": "old-refresh", "idToken": "a.b.c", "dpopKey": {key}}}"#
        )
    }

    fn write(dir: &Path, text: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = cache_file(dir, &source().session);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn the_file_name_is_the_sha256_of_the_session() {
        // botocore's own test vector.
        assert_eq!(
            cache_file(
                Path::new("/c"),
                "arn:aws:sts::012345678910:assumed-role/Admin/admin"
            ),
            Path::new("/c/4b0ba8f99f075c0633e122fd73346ce203a3faf18ea0310eb2d29df1bab2e255.json")
        );
    }

    #[test]
    fn fresh_credentials_are_read_and_stale_ones_are_not_served() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), &token("3025-09-14T04:05:45Z"), 0o600);
        let t = read(&source(), &path).unwrap();
        assert_eq!(t.creds.access_key_id, "ASIAOLD");
        assert!(fresh(&t.creds, Duration::ZERO));
        write(
            tmp.path(),
            &token(&rfc3339(SystemTime::now() + Duration::from_secs(240))),
            0o600,
        );
        let t = read(&source(), &path).unwrap();
        assert!(!fresh(&t.creds, Duration::ZERO), "under 5 minutes left");
    }

    #[test]
    fn bad_files_are_refused_with_the_profile_and_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let path = cache_file(tmp.path(), &source().session);
        let err = read(&source(), &path).unwrap_err();
        assert!(matches!(err, LoginError::NotLoggedIn { .. }), "{err}");
        write(tmp.path(), &token("3025-09-14T04:05:45Z"), 0o640);
        let err = read(&source(), &path).unwrap_err().to_string();
        assert!(
            err.contains("profile `dev`") && err.contains("mode 640"),
            "{err}"
        );
        for (text, says) in [
            ("{", "not a JSON object"),
            ("[]", "not a JSON object"),
            (r#"{"accessToken":{}}"#, "no accessToken.expiresAt"),
            (r#"{"accessToken":{"expiresAt":"soon"}}"#, "RFC 3339"),
        ] {
            write(tmp.path(), text, 0o600);
            let err = read(&source(), &path).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
        std::fs::write(&path, vec![b' '; MAX_FILE as usize + 1]).unwrap();
        let err = read(&source(), &path).unwrap_err().to_string();
        assert!(err.contains("larger than 64 KiB"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let fifo = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let err = read(&source(), &path).unwrap_err().to_string();
        assert!(err.contains("a FIFO"), "{err}");
    }

    #[test]
    fn a_refresh_is_written_back_in_botocores_shape() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), &token("2020-01-01T00:00:00Z"), 0o600);
        let mut doc = read(&source(), &path).unwrap().doc;
        let refreshed = signin::Refreshed {
            access_key_id: "ASIANEW".into(),
            secret_access_key: "new-secret".into(),
            session_token: "new-token".into(),
            expires_in: Duration::from_secs(900),
            refresh_token: "new-refresh".into(),
        };
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        update(&mut doc, &refreshed, at);
        write_back(&path, &doc).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(r#"{"accessToken": {"accessKeyId": "ASIANEW", "secretAccessKey": "new-secret", "sessionToken": "new-token", "accountId": "012345678910", "expiresAt": "2027-01-15T08:00:00Z"}, "#),
            "{text}"
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["refreshToken"], "new-refresh");
        assert_eq!(back["idToken"], "a.b.c", "other members kept");
        assert_eq!(back["dpopKey"], KEY);
        let names: Vec<String> = serde_json::from_str::<Ordered>(&text)
            .unwrap()
            .0
            .iter()
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(
            names,
            [
                "accessToken",
                "tokenType",
                "clientId",
                "refreshToken",
                "idToken",
                "dpopKey"
            ]
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left");
    }

    #[test]
    fn a_session_without_refresh_material_asks_for_aws_login() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), &token("2020-01-01T00:00:00Z"), 0o600);
        let mut doc = read(&source(), &path).unwrap().doc;
        doc.0.retain(|(k, _)| k != "refreshToken");
        let err = refresh(&source(), &path, doc, &Signin::default()).unwrap_err();
        assert!(matches!(err, LoginError::LoginRequired { .. }), "{err}");
        let mut doc = read(&source(), &path).unwrap().doc;
        doc.set(
            "dpopKey",
            Value::from("-----BEGIN EC PRIVATE KEY-----\nMAMCAQE=\n-----END EC PRIVATE KEY-----"),
        );
        let err = refresh(&source(), &path, doc, &Signin::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("dpopKey"), "{err}");
        let doc = read(&source(), &path).unwrap().doc;
        let err = refresh(&source(), &path, doc, &Signin::default()).unwrap_err();
        assert!(matches!(err, LoginError::NoRegion { .. }), "{err}");
    }
}
