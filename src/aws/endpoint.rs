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
}

impl Service {
    /// The service's own endpoint variable.
    fn variable(self) -> &'static str {
        match self {
            Service::Sts => "AWS_ENDPOINT_URL_STS",
            Service::Iam => "AWS_ENDPOINT_URL_IAM",
        }
    }
}

/// `--region` (`flag`), `AWS_REGION`, `AWS_DEFAULT_REGION`, then the first
/// `region` along the profile chain.
pub fn region(plan: &Plan, flag: Option<&str>) -> Option<String> {
    flag.map(str::to_string)
        .or_else(|| env_value("AWS_REGION"))
        .or_else(|| env_value("AWS_DEFAULT_REGION"))
        .or_else(|| plan.sts_region.clone())
}

/// `--endpoint-url` (`flag`), the service's `AWS_ENDPOINT_URL_<SERVICE>`,
/// `AWS_ENDPOINT_URL`, the profile's `endpoint_url`; the configured ones are
/// skipped under `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`, as in the SDKs.
/// With it, what set it (for messages).
pub fn endpoint(service: Service, plan: &Plan, flag: Option<&str>) -> Option<(String, String)> {
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
            let url = plan.endpoint_url.clone()?;
            Some((
                url,
                format!("endpoint_url in the config of `{}`", plan.profile),
            ))
        })
}
