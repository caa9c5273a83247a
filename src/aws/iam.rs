//! The IAM and identity calls only `mfaenv setup` makes: who the keys
//! belong to and which MFA devices their user has.

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
        let shown = endpoint.map_or_else(|| "iam.amazonaws.com".to_string(), str::to_string);
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
            devices.extend(out.mfa_devices().iter().map(|d| {
                MfaDevice {
                    serial: d.serial_number().to_string(),
                    enabled: SystemTime::try_from(*d.enable_date())
                        .ok()
                        .filter(|t| *t > SystemTime::UNIX_EPOCH)
                        .map(crate::creds::rfc3339),
                }
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
