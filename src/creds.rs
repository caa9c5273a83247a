//! AWS credentials as mfaenv passes them around. Debug never shows secrets.

use std::fmt;
use std::time::SystemTime;

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub expiration: Option<SystemTime>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration.map(rfc3339))
            .finish()
    }
}

// The secret and the token are wiped when the value goes: a later core
// dump or swap-out of freed memory does not find them. (Copies the SDK or a
// serializer made are theirs; the AWS SDK wipes its own.)
impl Drop for Credentials {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.secret_access_key.zeroize();
        self.session_token.zeroize();
    }
}

impl Credentials {
    /// Time left before expiry (zero when past; `None` when it never expires).
    pub fn time_left(&self, now: SystemTime) -> Option<std::time::Duration> {
        self.expiration
            .map(|exp| exp.duration_since(now).unwrap_or_default())
    }
}

/// RFC 3339 in UTC with whole seconds, e.g. `2026-11-21T13:51:58Z`.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let c = Credentials {
            access_key_id: "ASIA1".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("tok-secret".into()),
            expiration: Some(SystemTime::UNIX_EPOCH),
        };
        let d = format!("{c:?}");
        assert!(
            d.contains("ASIA1")
                && !d.contains("secret\"")
                && !d.contains("very-secret")
                && !d.contains("tok-secret")
        );
        assert!(d.contains("1970-01-01T00:00:00Z"));
    }
}
