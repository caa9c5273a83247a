//! The IAM and identity calls of `setup` and `rotate`: who the keys belong
//! to, which MFA devices and access keys their user has, and making and
//! deleting access keys.

use std::time::SystemTime;

use super::error::StsError;
use super::query::{Call, Resend};
use super::sts::Sts;
use super::xml::Element;
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
        let _progress = crate::ui::progress(format!("{OP} at {shown}"));
        let mut devices = Vec::new();
        let mut marker: Option<String> = None;
        // IAM allows 8 devices a user: a few pages at most.
        for _ in 0..50 {
            let mut params = Vec::new();
            params.extend(user.map(|u| ("UserName", u)));
            params.extend(marker.as_deref().map(|m| ("Marker", m)));
            let answer =
                self.query(creds, &self.iam_call(OP, endpoint, &params, Resend::Always))?;
            let page = read_mfa_devices(&answer).map_err(|why| malformed(OP, &shown, why))?;
            devices.extend(page.items);
            match page.next {
                Some(next) => marker = Some(next),
                None => break,
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
        let _progress = crate::ui::progress(format!("{OP} at {shown}"));
        let mut keys = Vec::new();
        let mut marker: Option<String> = None;
        // IAM allows 2 keys a user: one page; a few more at most.
        for _ in 0..10 {
            let mut params = vec![("UserName", user)];
            params.extend(marker.as_deref().map(|m| ("Marker", m)));
            let answer =
                self.query(creds, &self.iam_call(OP, endpoint, &params, Resend::Always))?;
            let page = read_access_keys(&answer).map_err(|why| malformed(OP, &shown, why))?;
            keys.extend(page.items);
            match page.next {
                Some(next) => marker = Some(next),
                None => break,
            }
        }
        Ok(keys)
    }

    /// CreateAccessKey for `user`: the new key and its secret, checked.
    /// Never sent twice once it may have reached IAM (src/aws/query.rs).
    pub fn create_access_key(
        &self,
        creds: &Credentials,
        endpoint: Option<&str>,
        user: &str,
    ) -> Result<NewKey, StsError> {
        const OP: &str = "CreateAccessKey";
        let shown = self.iam_shown(endpoint);
        let _progress = crate::ui::progress(format!("{OP} at {shown}"));
        let params = [("UserName", user)];
        let call = self.iam_call(OP, endpoint, &params, Resend::OnlyUnsent);
        let answer = self.query(creds, &call)?;
        read_new_key(&answer).map_err(|why| malformed(OP, &shown, why))
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
        let _progress = crate::ui::progress(format!("{OP} at {shown}"));
        let params = [("UserName", user), ("AccessKeyId", key_id)];
        match self.query(creds, &self.iam_call(OP, endpoint, &params, Resend::Always)) {
            Ok(_) => Ok(()),
            Err(StsError::Service { code, .. }) if code == "NoSuchEntity" => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// IAM's endpoint for messages: the override, else the global one of
    /// the region's partition.
    fn iam_shown(&self, endpoint: Option<&str>) -> String {
        endpoint.map_or_else(
            || iam_global_endpoint(&self.region).to_string(),
            crate::aws::http::shown,
        )
    }

    fn iam_call<'a>(
        &self,
        op: &'static str,
        endpoint: Option<&str>,
        params: &'a [(&'a str, &'a str)],
        resend: Resend,
    ) -> Call<'a> {
        // IAM is global in its partition: one endpoint, whatever the region.
        let url = match endpoint {
            Some(url) => format!("{}/", url.trim_end_matches('/')),
            None => format!("https://{}/", iam_global_endpoint(&self.region)),
        };
        Call {
            op,
            params,
            resend,
            url,
            shown: self.iam_shown(endpoint),
        }
    }
}

/// One page of a list, and the marker of the next when IAM says there is one.
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

/// `<{op}Response><{op}Result>` of an answer.
fn result_of<'a>(answer: &'a Element, op: &str) -> Result<&'a Element, &'static str> {
    if answer.name != format!("{op}Response") {
        return Err("not an IAM answer");
    }
    answer
        .child(&format!("{op}Result"))
        .ok_or("no result in it")
}

/// `IsTruncated` and `Marker` of a list's result.
fn next_marker(result: &Element) -> Option<String> {
    let truncated = result.text_of("IsTruncated") == Some("true");
    let marker = result.text_of("Marker").filter(|m| !m.is_empty())?;
    // A marker goes back into the next request: IAM's are short base64.
    (truncated && marker.len() <= 4096).then(|| marker.to_string())
}

fn read_mfa_devices(answer: &Element) -> Result<Page<MfaDevice>, &'static str> {
    let result = result_of(answer, "ListMFADevices")?;
    let mut items = Vec::new();
    for member in result
        .child("MFADevices")
        .into_iter()
        .flat_map(|l| l.all("member"))
    {
        // The serial is checked by its user (setup's check_serial).
        let serial = member
            .text_of("SerialNumber")
            .filter(|s| !s.is_empty() && s.len() <= 2048)
            .ok_or("a device without a serial number")?;
        items.push(MfaDevice {
            serial: serial.to_string(),
            enabled: member
                .text_of("EnableDate")
                .and_then(time_of)
                .map(crate::creds::rfc3339),
        });
    }
    Ok(Page {
        items,
        next: next_marker(result),
    })
}

fn read_access_keys(answer: &Element) -> Result<Page<AccessKeyInfo>, &'static str> {
    let result = result_of(answer, "ListAccessKeys")?;
    // Ids and statuses go into messages: only IAM's shapes are kept.
    let plain =
        |t: &&str| !t.is_empty() && t.len() <= 128 && t.chars().all(|c| c.is_ascii_alphanumeric());
    let items = result
        .child("AccessKeyMetadata")
        .into_iter()
        .flat_map(|l| l.all("member"))
        .filter_map(|k| {
            Some(AccessKeyInfo {
                id: k.text_of("AccessKeyId").filter(plain)?.to_string(),
                status: k
                    .text_of("Status")
                    .filter(plain)
                    .unwrap_or("unknown")
                    .to_string(),
                created: k.text_of("CreateDate").and_then(time_of),
            })
        })
        .collect();
    Ok(Page {
        items,
        next: next_marker(result),
    })
}

fn read_new_key(answer: &Element) -> Result<NewKey, &'static str> {
    let made = result_of(answer, "CreateAccessKey")?
        .child("AccessKey")
        .ok_or("no key in it")?;
    let key = crate::keystore::LongTermKey {
        access_key_id: made.text_of("AccessKeyId").unwrap_or_default().to_string(),
        secret_access_key: made
            .text_of("SecretAccessKey")
            .unwrap_or_default()
            .to_string(),
    };
    key.check().map_err(|_| "not a usable key")?;
    Ok(NewKey {
        key,
        created: made.text_of("CreateDate").and_then(time_of),
    })
}

fn malformed(op: &'static str, shown: &str, why: &str) -> StsError {
    StsError::Malformed {
        op,
        endpoint: shown.to_string(),
        origin: None,
        status: format!(" ({why})"),
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

/// An ISO 8601 time as IAM sends it (`2026-01-01T00:00:00Z`, with or
/// without fractional seconds), read as the SDK read it; none at or
/// before 1970.
fn time_of(text: &str) -> Option<SystemTime> {
    use aws_smithy_types::date_time::{DateTime, Format};
    let date = DateTime::from_str(text, Format::DateTime).ok()?;
    SystemTime::try_from(date)
        .ok()
        .filter(|t| *t > SystemTime::UNIX_EPOCH)
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
    fn doc(xml: &str) -> Element {
        crate::aws::xml::parse(xml.as_bytes()).unwrap()
    }

    fn mfa_page(members: &str, tail: &str) -> Element {
        doc(&format!(
            "<ListMFADevicesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListMFADevicesResult><MFADevices>{members}</MFADevices>{tail}</ListMFADevicesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListMFADevicesResponse>"
        ))
    }

    #[test]
    fn mfa_device_pages_and_their_markers() {
        let one = "<member><UserName>a</UserName><SerialNumber>arn:aws:iam::1:mfa/a</SerialNumber><EnableDate>2026-01-02T03:04:05Z</EnableDate></member>";
        let two = "<member><SerialNumber>arn:aws:iam::1:mfa/b</SerialNumber><EnableDate>2026-01-02T03:04:05.123Z</EnableDate></member>";
        let page = read_mfa_devices(&mfa_page(
            &format!("{one}{two}"),
            "<IsTruncated>true</IsTruncated><Marker>bmV4dA==</Marker>",
        ))
        .unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].serial, "arn:aws:iam::1:mfa/a");
        assert_eq!(
            page.items[0].enabled.as_deref(),
            Some("2026-01-02T03:04:05Z")
        );
        assert!(page.items[1].enabled.is_some(), "fractional seconds");
        assert_eq!(page.next.as_deref(), Some("bmV4dA=="));
        // Not truncated, an empty marker, a marker past any IAM's: last page.
        for tail in [
            "<IsTruncated>false</IsTruncated><Marker>x</Marker>".to_string(),
            "<IsTruncated>true</IsTruncated><Marker></Marker>".to_string(),
            "<IsTruncated>true</IsTruncated>".to_string(),
            format!(
                "<IsTruncated>true</IsTruncated><Marker>{}</Marker>",
                "m".repeat(5000)
            ),
        ] {
            let page = read_mfa_devices(&mfa_page(one, &tail)).unwrap();
            assert_eq!(page.next, None, "{tail}");
        }
        // No devices at all.
        assert!(read_mfa_devices(&mfa_page("", ""))
            .unwrap()
            .items
            .is_empty());
        // A device without a serial, or another answer, is not read.
        let bare = "<member><EnableDate>2026-01-02T03:04:05Z</EnableDate></member>";
        assert!(read_mfa_devices(&mfa_page(bare, "")).is_err());
        assert!(read_mfa_devices(&doc(
            "<ListAccessKeysResponse><ListAccessKeysResult/></ListAccessKeysResponse>"
        ))
        .is_err());
        assert!(read_mfa_devices(&doc("<ListMFADevicesResponse/>")).is_err());
        // Control characters reach setup's check as they are (it refuses them).
        let odd =
            "<member><SerialNumber>arn:aws:iam::1:mfa/a&#10;[profile x]</SerialNumber></member>";
        let page = read_mfa_devices(&mfa_page(odd, "")).unwrap();
        assert_eq!(page.items[0].serial, "arn:aws:iam::1:mfa/a\n[profile x]");
        assert_eq!(page.items[0].enabled, None);
    }

    fn keys_page(members: &str) -> Element {
        doc(&format!(
            "<ListAccessKeysResponse><ListAccessKeysResult><UserName>alice</UserName><AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>"
        ))
    }

    #[test]
    fn access_keys_keep_only_iams_shapes() {
        let good = "<member><UserName>alice</UserName><AccessKeyId>AKIAEXAMPLE000000001</AccessKeyId><Status>Active</Status><CreateDate>2026-03-04T05:06:07Z</CreateDate></member>";
        let page = read_access_keys(&keys_page(good)).unwrap();
        assert_eq!(page.items.len(), 1);
        let key = &page.items[0];
        assert_eq!(
            (key.id.as_str(), key.status.as_str()),
            ("AKIAEXAMPLE000000001", "Active")
        );
        assert_eq!(
            key.created.map(crate::creds::rfc3339).as_deref(),
            Some("2026-03-04T05:06:07Z")
        );
        let long = "A".repeat(129);
        let hostile = [
            "<member><AccessKeyId>AKIA&#27;[2K</AccessKeyId><Status>Active</Status></member>"
                .to_string(),
            format!("<member><AccessKeyId>{long}</AccessKeyId></member>"),
            "<member><Status>Active</Status></member>".to_string(),
            "<member><AccessKeyId></AccessKeyId></member>".to_string(),
        ];
        for member in &hostile {
            assert!(
                read_access_keys(&keys_page(member))
                    .unwrap()
                    .items
                    .is_empty(),
                "{member}"
            );
        }
        let odd = "<member><AccessKeyId>AKIAEXAMPLE000000002</AccessKeyId><Status>Act ive&#10;</Status><CreateDate>yesterday</CreateDate></member>";
        let page = read_access_keys(&keys_page(odd)).unwrap();
        assert_eq!(page.items[0].status, "unknown");
        assert_eq!(page.items[0].created, None);
        let old = "<member><AccessKeyId>AKIAEXAMPLE000000003</AccessKeyId><CreateDate>1970-01-01T00:00:00Z</CreateDate></member>";
        assert_eq!(
            read_access_keys(&keys_page(old)).unwrap().items[0].created,
            None
        );
    }

    #[test]
    fn a_new_key_is_read_and_checked() {
        let answer = |id: &str, secret: &str| {
            doc(&format!(
                "<CreateAccessKeyResponse><CreateAccessKeyResult><AccessKey><UserName>alice</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status><SecretAccessKey>{secret}</SecretAccessKey><CreateDate>2026-03-04T05:06:07.5Z</CreateDate></AccessKey></CreateAccessKeyResult></CreateAccessKeyResponse>"
            ))
        };
        let made = read_new_key(&answer("AKIAEXAMPLE000000001", "se/cr+et")).unwrap();
        assert_eq!(made.key.access_key_id, "AKIAEXAMPLE000000001");
        assert_eq!(made.key.secret_access_key, "se/cr+et");
        assert!(made.created.is_some(), "a fraction");
        assert_eq!(
            read_new_key(&answer("AKIA", "s")).err(),
            Some("not a usable key")
        );
        assert_eq!(
            read_new_key(&answer("AKIAEXAMPLE000000001", "")).err(),
            Some("not a usable key")
        );
        assert_eq!(
            read_new_key(&answer("AKIAEXAMPLE000000001", "a&#9;b")).err(),
            Some("not a usable key")
        );
        assert_eq!(
            read_new_key(&doc(
                "<CreateAccessKeyResponse><CreateAccessKeyResult/></CreateAccessKeyResponse>"
            ))
            .err(),
            Some("no key in it")
        );
        assert_eq!(
            read_new_key(&Element::default()).err(),
            Some("not an IAM answer")
        );
    }
}
