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
