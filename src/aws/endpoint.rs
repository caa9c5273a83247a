//! Where mfaenv's calls to AWS go: the region and the endpoint URL, by the
//! SDKs' rules. `export`/`login` (STS) and `setup` (STS and IAM) use the same
//! functions, so they cannot disagree.

use crate::config::Plan;
use crate::env_vars::get as env_value;

/// A service mfaenv calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sts,
    Iam,
    /// IAM Identity Center's OIDC (`oidc.REGION.amazonaws.com`).
    SsoOidc,
    /// IAM Identity Center's portal (`portal.sso.REGION.amazonaws.com`).
    Sso,
    /// Sign-In's token endpoint (`aws login` sessions).
    Signin,
}

impl Service {
    /// The service's own endpoint variable.
    fn variable(self) -> &'static str {
        match self {
            Service::Sts => "AWS_ENDPOINT_URL_STS",
            Service::Iam => "AWS_ENDPOINT_URL_IAM",
            Service::SsoOidc => "AWS_ENDPOINT_URL_SSO_OIDC",
            Service::Sso => "AWS_ENDPOINT_URL_SSO",
            Service::Signin => "AWS_ENDPOINT_URL_SIGNIN",
        }
    }

    /// The service's own endpoint in `region`, when nothing overrides it.
    pub fn regional(self, region: &str) -> String {
        match self {
            Service::Sts => format!("https://sts.{region}.amazonaws.com"),
            Service::Iam => "https://iam.amazonaws.com".to_string(),
            Service::SsoOidc => format!("https://oidc.{region}.amazonaws.com"),
            Service::Sso => format!("https://portal.sso.{region}.amazonaws.com"),
            Service::Signin => format!("https://{region}.signin.aws.amazon.com"),
        }
    }
}

/// `--region` (`flag`), `AWS_REGION`, `AWS_DEFAULT_REGION`, then the first
/// `region` along the profile chain.
pub fn region(plan: &Plan, flag: Option<&str>) -> Option<String> {
    region_origin(plan, flag).map(|(region, _)| region)
}

/// [`region`] and what set it: `--region`, a variable's name, or `profile`
/// for the chain's `region`.
pub fn region_origin(plan: &Plan, flag: Option<&str>) -> Option<(String, &'static str)> {
    if let Some(region) = flag {
        return Some((region.to_string(), "--region"));
    }
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|name| env_value(name).map(|region| (region, name)))
        .or_else(|| Some((plan.sts_region.clone()?, "profile")))
}

/// `--endpoint-url` (`flag`), the service's `AWS_ENDPOINT_URL_<SERVICE>`,
/// `AWS_ENDPOINT_URL`, the profile's `endpoint_url`; the configured ones are
/// skipped under `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`, as in the SDKs.
/// With it, what set it (for messages).
pub fn endpoint(service: Service, plan: &Plan, flag: Option<&str>) -> Option<(String, String)> {
    configured(service, plan.endpoint_url.as_deref(), &plan.profile, flag)
}

/// [`endpoint`] for a caller with no plan (an `[sso-session]` alone):
/// `endpoint_url` is the profile's, if any.
pub fn configured(
    service: Service,
    endpoint_url: Option<&str>,
    profile: &str,
    flag: Option<&str>,
) -> Option<(String, String)> {
    if let Some(url) = flag {
        return Some((url.to_string(), "--endpoint-url".to_string()));
    }
    let ignore = env_value("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if ignore {
        return None;
    }
    [service.variable(), "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|name| env_value(name).map(|url| (url, name.to_string())))
        .or_else(|| {
            let url = endpoint_url?.to_string();
            Some((url, format!("endpoint_url in the config of `{profile}`")))
        })
}

/// Whether `region` is shaped like an AWS region: an area of two letters, an
/// optional partition word (`gov`, `iso`, `isob`, `isoe`, `isof`…), a
/// compass word, a number (`us-east-1`, `us-gov-west-1`, `cn-north-1`,
/// `eu-isoe-west-1`, `ap-southeast-7`). Every region AWS has opened follows
/// it, so a region opened after this release passes too; a typo in the
/// number or the direction (`us-west-9x`, `us-wset-2`, `useast1`) does not,
/// and is refused before it goes into a host name, a signature or a shell.
pub fn is_region_shaped(region: &str) -> bool {
    const COMPASS: [&str; 9] = [
        "east",
        "west",
        "north",
        "south",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    let parts: Vec<&str> = region.split('-').collect();
    let (area, middle, number) = match parts.as_slice() {
        [area, direction, number] => (*area, [None, Some(*direction)], *number),
        [area, partition, direction, number] => {
            (*area, [Some(*partition), Some(*direction)], *number)
        }
        _ => return false,
    };
    let [partition, direction] = middle;
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    area.len() == 2
        && lower(area)
        && partition
            .is_none_or(|p| p == "gov" || (p.starts_with("iso") && p.len() <= 4 && lower(p)))
        && direction.is_some_and(|d| COMPASS.contains(&d))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
        && !number.starts_with('0')
}

/// The error for a region that is not shaped like one, naming what set it.
pub fn check_region(region: &str, origin: &str) -> Result<(), anyhow::Error> {
    if is_region_shaped(region) {
        return Ok(());
    }
    anyhow::bail!(
        "region `{}` unknown (set by {origin}): an AWS region looks like us-east-1, eu-central-1 or us-gov-west-1; nothing was called",
        region.escape_debug()
    )
}

#[cfg(test)]
mod tests {
    use super::is_region_shaped;

    #[test]
    fn region_shapes() {
        for ok in [
            "us-east-1",
            "us-west-2",
            "eu-central-1",
            "ap-southeast-7",
            "ap-northeast-3",
            "me-central-1",
            "mx-central-1",
            "il-central-1",
            "ca-west-1",
            "cn-north-1",
            "cn-northwest-1",
            "us-gov-west-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
            "us-isof-south-1",
            // Not opened (yet): the shape is what counts.
            "af-north-1",
            "sa-west-12",
        ] {
            assert!(is_region_shaped(ok), "{ok}");
        }
        for bad in [
            "us-west-9x",
            "us-wset-2",
            "useast1",
            "us-east",
            "US-EAST-1",
            "us-east-01",
            "us-east-123",
            "us-east-1 ",
            "usa-east-1",
            "us-foo-east-1",
            "us-isoxx-east-1",
            "",
            "manual",
            "us-east-1\n",
        ] {
            assert!(!is_region_shaped(bad), "{bad:?}");
        }
    }
}
