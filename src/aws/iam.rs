//! The IAM and identity calls of `setup` and `rotate`: who the keys belong
//! to, which MFA devices and access keys their user has, and making and
//! deleting access keys.

use std::time::SystemTime;

use super::error::StsError;
use super::sts::{retry_config, sdk_credentials, AnswerCap, Sts};
use crate::creds::Credentials;

/// Who a set of keys belongs to (`sts:GetCallerIdentity`).
#[derive(Debug, Clone)]
pub struct Identity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
}

/// One access key of an IAM user (`iam:ListAccessKeys`). No secret.
#[derive(Debug, Clone)]
pub struct AccessKeyInfo {
    pub id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub created: Option<SystemTime>,
}

/// A key `iam:CreateAccessKey` just made (the only time AWS shows its secret).
pub struct NewKey {
    pub key: crate::keystore::LongTermKey,
    pub created: Option<SystemTime>,
}

/// One MFA device of an IAM user (`iam:ListMFADevices`).
#[derive(Debug, Clone)]
pub struct MfaDevice {
    pub serial: String,
    /// When it was enabled (RFC 3339), when IAM says.
    pub enabled: Option<String>,
}

impl Sts {
    /// GetCallerIdentity: the ARN and account of `creds`.
    pub fn get_caller_identity(&self, creds: &Credentials) -> Result<Identity, StsError> {
        const OP: &str = "GetCallerIdentity";
        let _progress = crate::ui::progress(format!("{OP} at {}", self.endpoint()));
        let out = self
            .runtime
            .block_on(self.client(creds).get_caller_identity().send())
            .map_err(|e| self.classify(OP, None, e))?;
        match out.arn() {
            Some(arn) if !arn.is_empty() => Ok(Identity {
                arn: arn.to_string(),
                account: out.account().unwrap_or_default().to_string(),
                user_id: out.user_id().unwrap_or_default().to_string(),
            }),
            _ => Err(StsError::Malformed {
                op: OP,
                endpoint: self.endpoint(),
                origin: self.origin.clone(),
                status: " (no ARN in it)".to_string(),
            }),
        }
    }

    /// ListMFADevices of `user` (the caller's own user when `None`), every
    /// page. `endpoint` overrides the IAM endpoint.
    pub fn list_mfa_devices(
        &self,
        creds: &Credentials,
        endpoint: Option<&str>,
        user: Option<&str>,
    ) -> Result<Vec<MfaDevice>, StsError> {
        const OP: &str = "ListMFADevices";
        let shown = self.iam_shown(endpoint);
        let client = self.iam_client(creds, endpoint);
        let _progress = crate::ui::progress(format!("{OP} at {shown}"));
        let mut devices = Vec::new();
        let mut marker: Option<String> = None;
        // IAM allows 8 devices a user: a few pages at most.
        for _ in 0..50 {
            let call = client
                .list_mfa_devices()
                .set_user_name(user.map(str::to_string))
                .set_marker(marker.take());
            let out = self
                .runtime
                .block_on(call.send())
                .map_err(|e| at_endpoint(self.classify(OP, None, e), &shown))?;
            devices.extend(out.mfa_devices().iter().map(|d| MfaDevice {
                serial: d.serial_number().to_string(),
                enabled: time_of(*d.enable_date()).map(crate::creds::rfc3339),
            }));
            match out.marker() {
                Some(next) if out.is_truncated() && !next.is_empty() => {
                    marker = Some(next.to_string())
                }
                _ => break,
            }
        }
        Ok(devices)
    }

    /// ListAccessKeys of `user`, every page. `endpoint` overrides IAM's.
    pub fn list_access_keys(
        &self,
        creds: &Credentials,
        endpoint: Option<&str>,
        user: &str,
    ) -> Result<Vec<AccessKeyInfo>, StsError> {
        const OP: &str = "ListAccessKeys";
        let shown = self.iam_shown(endpoint);
        let client = self.iam_client(creds, endpoint);
        let _progress = crate::ui::progress(format!("{OP} at {shown}"));
        let mut keys = Vec::new();
        let mut marker: Option<String> = None;
        // IAM allows 2 keys a user: one page; a few more at most.
        for _ in 0..10 {
            let call = client
                .list_access_keys()
                .user_name(user)
                .set_marker(marker.take());
            let out = self
                .runtime
                .block_on(call.send())
                .map_err(|e| at_endpoint(self.classify(OP, None, e), &shown))?;
            // Ids and statuses go into messages: only IAM's shapes are kept.
            let plain = |t: &str| {
                !t.is_empty() && t.len() <= 128 && t.chars().all(|c| c.is_ascii_alphanumeric())
            };
            keys.extend(out.access_key_metadata().iter().filter_map(|k| {
                Some(AccessKeyInfo {
                    id: k.access_key_id().filter(|id| plain(id))?.to_string(),
                    status: k
                        .status()
                        .map(|s| s.as_str())
                        .filter(|s| plain(s))
                        .unwrap_or("unknown")
                        .to_string(),
                    created: k.create_date().and_then(|d| time_of(*d)),
                })
            }));
            match out.marker() {
                Some(next) if out.is_truncated() && !next.is_empty() => {
                    marker = Some(next.to_string())
                }
                _ => break,
            }
        }
        Ok(keys)
    }

    /// CreateAccessKey for `user`: the new key and its secret, checked.
    pub fn create_access_key(
        &self,
        creds: &Credentials,
        endpoint: Option<&str>,
        user: &str,
    ) -> Result<NewKey, StsError> {
        const OP: &str = "CreateAccessKey";
        let shown = self.iam_shown(endpoint);
        let client = self.iam_client(creds, endpoint);
        let _progress = crate::ui::progress(format!("{OP} at {shown}"));
        let out = self
            .runtime
            .block_on(client.create_access_key().user_name(user).send())
            .map_err(|e| at_endpoint(self.classify(OP, None, e), &shown))?;
        let malformed = |why: &str| StsError::Malformed {
            op: OP,
            endpoint: shown.clone(),
            origin: None,
            status: format!(" ({why})"),
        };
        let made = out.access_key().ok_or_else(|| malformed("no key in it"))?;
        let key = crate::keystore::LongTermKey {
            access_key_id: made.access_key_id().to_string(),
            secret_access_key: made.secret_access_key().to_string(),
        };
        key.check().map_err(|_| malformed("not a usable key"))?;
        Ok(NewKey {
            key,
            created: made.create_date().and_then(|d| time_of(*d)),
        })
    }

    /// DeleteAccessKey `key_id` of `user`. A key IAM no longer has counts
    /// as deleted.
    pub fn delete_access_key(
        &self,
        creds: &Credentials,
        endpoint: Option<&str>,
        user: &str,
        key_id: &str,
    ) -> Result<(), StsError> {
        const OP: &str = "DeleteAccessKey";
        let shown = self.iam_shown(endpoint);
        let client = self.iam_client(creds, endpoint);
        let _progress = crate::ui::progress(format!("{OP} at {shown}"));
        let call = client
            .delete_access_key()
            .user_name(user)
            .access_key_id(key_id);
        match self.runtime.block_on(call.send()) {
            Ok(_) => Ok(()),
            Err(e) => match at_endpoint(self.classify(OP, None, e), &shown) {
                StsError::Service { code, .. } if code == "NoSuchEntity" => Ok(()),
                other => Err(other),
            },
        }
    }

    /// IAM's endpoint for messages: the override, else the global one of
    /// the region's partition (what the SDK resolves).
    fn iam_shown(&self, endpoint: Option<&str>) -> String {
        endpoint.map_or_else(
            || iam_global_endpoint(&self.region).to_string(),
            str::to_string,
        )
    }

    fn iam_client(&self, creds: &Credentials, endpoint: Option<&str>) -> aws_sdk_iam::Client {
        // IAM is global in its partition: the SDK picks the partition's
        // endpoint (and signing region) from the profile's region.
        let mut config = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new(self.region.clone()))
            .credentials_provider(sdk_credentials(creds))
            .http_client(self.http.clone())
            .interceptor(AnswerCap)
            .timeout_config(self.timeout_config())
            .retry_config(retry_config());
        if let Some(url) = endpoint {
            config = config.endpoint_url(url);
        }
        aws_sdk_iam::Client::from_conf(config.build())
    }
}

/// IAM's global endpoint in the partition of `region`.
pub fn iam_global_endpoint(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "iam.cn-north-1.amazonaws.com.cn"
    } else if region.starts_with("us-gov-") {
        "iam.us-gov.amazonaws.com"
    } else {
        "iam.amazonaws.com"
    }
}

/// The IAM user an identity ARN names: `arn:aws:iam::1:user/path/alice` →
/// alice; anything else (root, an assumed role) → none.
pub fn user_of(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let path = resource.strip_prefix("user/")?;
    // IAM's user names: letters, digits and `+=,.@_-`, at most 64; any
    // other answer is not trusted (it goes into messages and requests).
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    let name = path
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty() && n.len() <= 64 && n.chars().all(allowed))?;
    Some(name.to_string())
}

fn time_of(date: aws_sdk_iam::primitives::DateTime) -> Option<SystemTime> {
    SystemTime::try_from(date)
        .ok()
        .filter(|t| *t > SystemTime::UNIX_EPOCH)
}

/// `err` naming `endpoint` (classify names the STS endpoint).
fn at_endpoint(mut err: StsError, shown: &str) -> StsError {
    match &mut err {
        StsError::Timeout {
            endpoint, origin, ..
        }
        | StsError::Connect {
            endpoint, origin, ..
        }
        | StsError::Interrupted {
            endpoint, origin, ..
        }
        | StsError::Malformed {
            endpoint, origin, ..
        }
        | StsError::TooLarge {
            endpoint, origin, ..
        } => {
            *endpoint = shown.to_string();
            *origin = None;
        }
        _ => {}
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_from_arns_and_hostile_ones_refused() {
        assert_eq!(
            user_of("arn:aws:iam::123456789012:user/ops/alice").as_deref(),
            Some("alice")
        );
        assert_eq!(
            user_of("arn:aws-cn:iam::123456789012:user/a.b+c=d,e@f_g-h").as_deref(),
            Some("a.b+c=d,e@f_g-h")
        );
        for bad in [
            "arn:aws:iam::123456789012:root",
            "arn:aws:sts::123456789012:assumed-role/r/s",
            "arn:aws:iam::123456789012:user/al\u{1b}[2Kice",
            "arn:aws:iam::123456789012:user/al ice",
            "arn:aws:iam::123456789012:user/",
            "nonsense",
        ] {
            assert_eq!(user_of(bad), None, "{bad:?}");
        }
        assert_eq!(
            iam_global_endpoint("cn-northwest-1"),
            "iam.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            iam_global_endpoint("us-gov-west-1"),
            "iam.us-gov.amazonaws.com"
        );
        assert_eq!(iam_global_endpoint("eu-west-1"), "iam.amazonaws.com");
    }
}
