//! `mfaenv console PROFILE`: opens the AWS console signed in as the
//! profile (federation sign-in, src/aws/federation.rs), in the browser
//! (src/browser.rs), optionally in a browser profile of its own
//! (`--isolate`); `--print` prints the sign-in URL instead.
//!
//! Which credentials sign in ([`route`]): a role session (or a source that
//! signs in itself: IAM Identity Center, `aws login`) as `export` gets it;
//! the profile's own temporary keys as they are; for an IAM user with no
//! role, a GetFederationToken session made with the long-term keys, since
//! AWS does not sign in GetSessionToken's sessions.

use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use zeroize::Zeroizing;

use crate::aws::endpoint::{self, Service};
use crate::aws::federation::{self, FederationError, Partition};
use crate::aws::http::Http;
use crate::aws::Sts;
use crate::browser;
use crate::cache::Cache;
use crate::cli::ConsoleArgs;
use crate::config::{MfaMode, Plan, Profiles, SourceKind};
use crate::creds::{rfc3339, Credentials};
use crate::duration::{self, human};
use crate::resolve::{self, Options};
use crate::ui::escape;

/// The session policy of GetFederationToken (aws-vault's): everything,
/// which AWS intersects with the IAM user's own policies, so the console
/// can do what the user can.
pub const PASS_THROUGH_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// A GetFederationToken session lasts this long unless `--duration` says.
const FEDERATION_DEFAULT: Duration = Duration::from_secs(3600);

/// Which credentials sign in to the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The plan's final credentials (a role session, or a source that signs
    /// in itself), from the cache or STS as `export` gets them.
    Session,
    /// The profile's own temporary keys (`aws_session_token`), as they are.
    Keys,
    /// Long-term keys and no role: GetFederationToken with them.
    FederationToken,
}

/// The route for `plan`. New sources (SSO, `aws login`) take
/// [`Route::Session`]: whatever `resolve::credentials` returns for them.
pub fn route(plan: &Plan) -> Route {
    let has_keys = matches!(
        plan.source.kind,
        SourceKind::Static | SourceKind::Environment
    );
    match (plan.roles.is_empty(), has_keys) {
        (false, _) | (true, false) => Route::Session,
        (true, true) if plan.source.credentials.session_token.is_some() => Route::Keys,
        (true, true) => Route::FederationToken,
    }
}

/// Whether AWS allows `SessionDuration` for the plan's credentials: only
/// for a role assumed directly with long-term keys.
fn session_duration_allowed(plan: &Plan) -> bool {
    plan.roles.len() == 1
        && plan.mode == MfaMode::Direct
        && route(plan) == Route::Session
        && matches!(
            plan.source.kind,
            SourceKind::Static | SourceKind::Environment
        )
        && plan.source.credentials.session_token.is_none()
}

/// What `console` would do, in words, for `plan` (`mfaenv plan` shows it).
pub fn describe(plan: &Plan) -> String {
    match route(plan) {
        Route::FederationToken => format!(
            "GetFederationToken with the long-term keys of `{}` (a federated user with your IAM user's permissions): AWS does not sign in an MFA session, so that console session carries no MFA (aws:MultiFactorAuthPresent is absent) and policies that require MFA deny it there",
            plan.source.profile
        ),
        Route::Keys => format!(
            "the temporary keys of `{}` as they are (AWS signs in role sessions, not GetSessionToken's)",
            plan.source.profile
        ),
        Route::Session if plan.roles.is_empty() => {
            format!("the credentials of `{}`'s source", plan.profile)
        }
        Route::Session if session_duration_allowed(plan) => {
            "the role session above; --duration sets the console session (SessionDuration, up to 12h)".to_string()
        }
        Route::Session => "the role session above; the console session ends with it (AWS takes a SessionDuration only for a role assumed directly with long-term keys)".to_string(),
    }
}

/// Where in the console to land.
#[derive(Debug, Clone)]
enum Landing {
    Home,
    Service { path: &'static str, global: bool },
    Path(String),
}

/// `--service` names: (name, console path, global: no region in the URL).
const SERVICES: &[(&str, &str, bool)] = &[
    ("acm", "/acm/home", false),
    ("apigateway", "/apigateway/home", false),
    ("athena", "/athena/home", false),
    ("billing", "/billing/home", true),
    ("cloudformation", "/cloudformation/home", false),
    ("cloudfront", "/cloudfront/v4/home", true),
    ("cloudtrail", "/cloudtrail/home", false),
    ("cloudwatch", "/cloudwatch/home", false),
    ("codebuild", "/codesuite/codebuild/home", false),
    ("codepipeline", "/codesuite/codepipeline/home", false),
    ("dynamodb", "/dynamodbv2/home", false),
    ("ec2", "/ec2/home", false),
    ("ecr", "/ecr/home", false),
    ("ecs", "/ecs/v2/home", false),
    ("eks", "/eks/home", false),
    ("elasticache", "/elasticache/home", false),
    ("iam", "/iam/home", true),
    ("kms", "/kms/home", false),
    ("lambda", "/lambda/home", false),
    ("logs", "/cloudwatch/home#logsV2:", false),
    ("organizations", "/organizations/v2/home", true),
    ("rds", "/rds/home", false),
    ("route53", "/route53/v2/home", true),
    ("s3", "/s3/home", false),
    ("secretsmanager", "/secretsmanager/home", false),
    ("sns", "/sns/v3/home", false),
    ("sqs", "/sqs/v3/home", false),
    ("ssm", "/systems-manager/home", false),
    ("stepfunctions", "/states/home", false),
    ("vpc", "/vpcconsole/home", false),
];

impl Landing {
    /// `--service` / `--path`, checked before anything is called.
    fn from_args(args: &ConsoleArgs) -> Result<Landing> {
        if let Some(name) = &args.service {
            let wanted = name.to_ascii_lowercase();
            let Some((_, path, global)) = SERVICES.iter().find(|(n, _, _)| *n == wanted) else {
                let names: Vec<&str> = SERVICES.iter().map(|(n, _, _)| *n).collect();
                bail!(
                    "--service `{}` is not a service mfaenv knows; known: {} (or give the console path with --path /SERVICE/home)",
                    escape(name),
                    names.join(", ")
                );
            };
            return Ok(Landing::Service {
                path,
                global: *global,
            });
        }
        if let Some(path) = &args.path {
            check_path(path)?;
            return Ok(Landing::Path(path.clone()));
        }
        Ok(Landing::Home)
    }

    /// The destination URL on the console at `base`, in `region`.
    fn url(&self, base: &str, region: Option<&str>) -> String {
        let (path, global) = match self {
            Landing::Home => ("/console/home", false),
            Landing::Service { path, global } => (*path, *global),
            Landing::Path(path) => (path.as_str(), false),
        };
        match region.filter(|_| !global) {
            Some(region) => format!("{base}{}", with_region(path, region)),
            None => format!("{base}{path}"),
        }
    }
}

/// A console path: absolute on the console's own host (`/ec2/home?…`), not
/// `//host` or a URL elsewhere, printable ASCII without spaces.
fn check_path(path: &str) -> Result<()> {
    let shown = escape(path);
    if !path.starts_with('/') || path.starts_with("//") {
        bail!("--path `{shown}` must be a path on the console, starting with one `/` (e.g. /ec2/home?#Instances:)");
    }
    if path.len() > 2048 || !path.bytes().all(|b| b.is_ascii_graphic()) || path.contains('\\') {
        bail!("--path `{shown}`: only printable ASCII without spaces or `\\`, at most 2048 bytes");
    }
    Ok(())
}

/// `path` with `region=R` in its query unless it names one (before any `#`).
fn with_region(path: &str, region: &str) -> String {
    let (before, fragment) = match path.find('#') {
        Some(i) => path.split_at(i),
        None => (path, ""),
    };
    let query = before.split_once('?').map(|(_, q)| q).unwrap_or("");
    if query.split('&').any(|p| p.starts_with("region=")) {
        return path.to_string();
    }
    let joiner = match before.split_once('?') {
        None => "?",
        Some((_, "")) => "",
        Some(_) => "&",
    };
    format!("{before}{joiner}region={region}{fragment}")
}

pub fn run(args: &ConsoleArgs) -> Result<String> {
    if args.list_browsers {
        return Ok(list_browsers());
    }
    // Everything that can be refused without a call is refused first.
    let landing = Landing::from_args(args)?;
    let browser = match args.print {
        true => None,
        false => Some(browser::choose(args.browser.as_deref(), args.isolate)?),
    };
    let profile = args.target.name();
    let profiles = Profiles::load_for(&profile)?;
    let mut opts = Options::from(&args.target.auth);
    opts.duration = None;
    let mut plan = resolve::plan_in(&profiles, &profile, &opts)?;
    let route = route(&plan);
    let length = console_length(&profiles, &mut plan, &mut opts, args.target.auth.duration)?;
    let place = Place::of(&profiles, &plan)?;
    let isolate_dir = match (&browser, args.isolate) {
        (Some(b), true) => Some(isolate_dir(b.family, &plan.profile)?),
        _ => None,
    };
    let creds = credentials(&plan, &opts, route, length.federation_seconds)?;
    let secrets = [
        Zeroizing::new(creds.secret_access_key.clone()),
        Zeroizing::new(creds.session_token.clone().unwrap_or_default()),
    ];
    let signed_in = sign_in(
        &plan,
        route,
        &place,
        &landing,
        &creds,
        length.session_duration,
    );
    let url = signed_in.map_err(|e| scrubbed(e, &secrets))?;
    let ends = ends_at(&creds, length.session_duration);
    match browser {
        None => {
            crate::ui::note(
                "this URL signs in whoever opens it, for 15 minutes: do not paste it anywhere",
            );
            Ok(format!("{}\n", url.as_str()))
        }
        Some(browser) => {
            browser
                .open(&url, isolate_dir.as_deref())
                .map_err(|e| scrubbed(e, std::slice::from_ref(&url)))?;
            crate::ui::info(format_args!(
                "{}: console opened in {}{}; {ends}",
                escape(&plan.profile),
                escape(&browser.argv[0]),
                isolate_dir
                    .as_ref()
                    .map(|d| format!(" (browser profile {})", crate::ui::path(d)))
                    .unwrap_or_default()
            ));
            Ok(String::new())
        }
    }
}

/// The sign-in token for `creds`, and the login URL on `landing`.
fn sign_in(
    plan: &Plan,
    route: Route,
    place: &Place,
    landing: &Landing,
    creds: &Credentials,
    session_duration: Option<u32>,
) -> Result<Zeroizing<String>> {
    let http = Http::new()?;
    let token = {
        let _progress = crate::ui::progress(format!("sign-in token at {}", place.shown));
        federation::signin_token(&http, &place.federation, creds, session_duration)
    }
    .map_err(|e| refused(e, plan, route))?;
    let destination = landing.url(&place.console, place.region.as_deref());
    Ok(federation::login_url(
        &place.federation,
        &destination,
        &token,
    ))
}

/// Says why the federation endpoint may have refused these credentials.
fn refused(err: FederationError, plan: &Plan, route: Route) -> anyhow::Error {
    let why = match (&err, route) {
        (FederationError::Refused { .. }, Route::Keys) => format!(
            "the keys of `{}` are temporary keys of their own; AWS signs in role sessions and GetFederationToken's, not GetSessionToken's (an MFA session, as `mfaenv write` stores): open the console with the profile they came from",
            plan.source.profile
        ),
        (FederationError::Refused { .. }, Route::Session) => format!(
            "AWS did not sign in the session of profile `{}`; a role session made with a SessionDuration it does not allow, or ended, cannot federate",
            plan.profile
        ),
        _ => String::new(),
    };
    let err = anyhow::Error::new(err);
    match why.is_empty() {
        true => err.context(format!("profile `{}`: console sign-in", plan.profile)),
        false => err.context(format!(
            "profile `{}`: console sign-in: {why}",
            plan.profile
        )),
    }
}

/// `err` with nothing of `secrets` in it (a layer below that quoted a
/// request or an answer would otherwise put it on the terminal).
fn scrubbed(err: anyhow::Error, secrets: &[Zeroizing<String>]) -> anyhow::Error {
    let text = format!("{err:#}");
    let leaks = secrets
        .iter()
        .filter(|s| s.len() >= 8)
        .any(|s| text.contains(s.as_str()) || text.contains(&crate::aws::http::percent_encode(s)));
    if leaks {
        anyhow::anyhow!("console sign-in failed (the error quoted a secret, so it is not shown)")
    } else {
        err
    }
}

/// How long the console session lasts, and what is asked of AWS for it.
struct Length {
    /// `SessionDuration` of `getSigninToken`.
    session_duration: Option<u32>,
    /// DurationSeconds of GetFederationToken.
    federation_seconds: u32,
}

/// `--duration` for the console: SessionDuration where AWS allows it (a
/// role assumed directly with long-term keys); the role session's own
/// DurationSeconds where the console session ends with the role session;
/// GetFederationToken's DurationSeconds for an IAM user; for the rest, a
/// note that it cannot be applied.
fn console_length(
    profiles: &Profiles,
    plan: &mut Plan,
    opts: &mut Options,
    wanted: Option<Duration>,
) -> Result<Length> {
    let mut length = Length {
        session_duration: None,
        federation_seconds: FEDERATION_DEFAULT.as_secs() as u32,
    };
    let Some(wanted) = wanted else {
        return Ok(length);
    };
    let text = wanted.as_secs().to_string();
    let refuse = |range, what: &str| {
        duration::parse_seconds(&text, range)
            .map_err(|e| anyhow::anyhow!("--duration {}: {e} ({what})", human(wanted)))
    };
    match route(plan) {
        Route::FederationToken => {
            length.federation_seconds = refuse(duration::SESSION_TOKEN, "GetFederationToken")?;
        }
        Route::Session if session_duration_allowed(plan) => {
            length.session_duration = Some(refuse(duration::ASSUME_ROLE, "SessionDuration")?);
        }
        Route::Session if !plan.roles.is_empty() => {
            crate::ui::note(format_args!(
                "--duration {}: the console session ends with the role session, since AWS takes a SessionDuration only for a role assumed directly with long-term keys (mfa_mode = direct, or --direct); --duration sets the role session's length instead (at most 12h, 1h for a chained role, and the role's own maximum)",
                human(wanted)
            ));
            opts.duration = Some(wanted);
            // A cached role session with less left would end the console early.
            let margin = resolve::DEFAULT_MIN_TTL;
            opts.min_ttl = opts.min_ttl.max(wanted.saturating_sub(margin));
            *plan = resolve::plan_in(profiles, &plan.profile, opts)?;
        }
        Route::Session | Route::Keys => crate::ui::note(format_args!(
            "--duration {}: not applied: the credentials of `{}` come as they are, and the console session ends with them",
            human(wanted),
            plan.source.profile
        )),
    }
    Ok(length)
}

/// The credentials that sign in, by `route`.
fn credentials(
    plan: &Plan,
    opts: &Options,
    route: Route,
    federation_seconds: u32,
) -> Result<Credentials> {
    match route {
        Route::Session => resolve::credentials(plan, opts, &Cache::open()),
        Route::Keys => resolve::source_keys(plan),
        Route::FederationToken => {
            crate::ui::note(format_args!(
                "profile `{}` has no role: the console signs in as a federated user (GetFederationToken with the long-term keys of `{}`), without MFA in that session's context",
                escape(&plan.profile),
                escape(&plan.source.profile)
            ));
            federation_token(plan, opts, federation_seconds)
        }
    }
    .with_context(|| format!("profile `{}`: credentials for the console", plan.profile))
}

/// GetFederationToken with the source's long-term keys, named after the
/// IAM user (GetCallerIdentity), as aws-vault does.
fn federation_token(plan: &Plan, opts: &Options, seconds: u32) -> Result<Credentials> {
    let keys = resolve::source_keys(plan)?;
    let region = endpoint::region(plan, opts.region.as_deref());
    let (url, origin) =
        endpoint::endpoint(Service::Sts, plan, opts.endpoint_url.as_deref()).unzip();
    let sts = Sts::new(region.as_deref(), url.as_deref())?.endpoint_origin(origin);
    let identity = sts.get_caller_identity(&keys)?;
    let name = federated_name(&identity.arn, &plan.profile);
    Ok(sts.get_federation_token(&keys, &name, PASS_THROUGH_POLICY, seconds)?)
}

/// The federated user's name: the IAM user's (the ARN's last part), else
/// the profile's; 2–32 of `[A-Za-z0-9_+=,.@-]`, as STS requires.
fn federated_name(arn: &str, profile: &str) -> String {
    let plain = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
            .take(32)
            .collect()
    };
    let user = arn
        .split_once(":user/")
        .map(|(_, path)| plain(path.rsplit('/').next().unwrap_or_default()));
    [user, Some(plain(profile))]
        .into_iter()
        .flatten()
        .find(|name| name.len() >= 2)
        .unwrap_or_else(|| "mfaenv".to_string())
}

/// Where the sign-in goes: the federation endpoint and the console.
struct Place {
    federation: String,
    /// `federation` for messages (no query, escaped).
    shown: String,
    /// The console's base URL (no trailing slash).
    console: String,
    region: Option<String>,
}

impl Place {
    fn of(profiles: &Profiles, plan: &Plan) -> Result<Place> {
        let region = plan.region.clone();
        if let Some(r) = &region {
            let plain = r.len() <= 32
                && !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !plain {
                bail!(
                    "region `{}` cannot be part of the console's host name",
                    escape(r)
                );
            }
        }
        let partition = Partition::of(region.as_deref());
        let own = |key: &str| {
            profiles
                .get(&plan.profile)
                .and_then(|p| p.get(key))
                .map(str::to_string)
        };
        let ignore = crate::env_vars::get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let configured = |var: &str, key: &str| {
            (!ignore)
                .then(|| crate::env_vars::get(var).or_else(|| own(key)))
                .flatten()
        };
        let federation = match configured("AWS_ENDPOINT_URL_SIGNIN", "signin_endpoint_url") {
            Some(base) => {
                federation::federation_under(&checked_url(&base, "the Sign-In endpoint")?)
            }
            None => partition.federation_url().to_string(),
        };
        let console = match configured(crate::settings::MFAENV_CONSOLE_URL, "console_url") {
            Some(base) => checked_url(&base, "the console")?
                .trim_end_matches('/')
                .to_string(),
            None => partition.console_url(region.as_deref()),
        };
        Ok(Place {
            shown: crate::aws::http::shown(&federation),
            federation,
            console,
            region,
        })
    }
}

/// An endpoint override: `https://`, or `http://` on loopback only (the
/// session travels in it).
fn checked_url(url: &str, what: &str) -> Result<String> {
    let shown = crate::aws::http::shown(url);
    if url.contains(['?', '#']) || url.bytes().any(|b| !b.is_ascii_graphic()) {
        bail!("{what} `{shown}`: a base URL without query, fragment or spaces");
    }
    if url.starts_with("https://") {
        return Ok(url.to_string());
    }
    let host = url
        .strip_prefix("http://")
        .map(|rest| rest.split(['/']).next().unwrap_or_default());
    let loopback = host.is_some_and(|h| {
        if h.contains('@') {
            return false;
        }
        let name = h.rsplit_once(':').map_or(h, |(name, _)| name);
        matches!(name, "127.0.0.1" | "localhost" | "[::1]")
    });
    if !loopback {
        bail!("{what} `{shown}`: must be https:// (http:// only on this machine: 127.0.0.1, localhost, [::1])");
    }
    Ok(url.to_string())
}

/// The browser profile directory of `profile` under mfaenv's data dir.
fn isolate_dir(family: browser::Family, profile: &str) -> Result<std::path::PathBuf> {
    let data = crate::settings::data_dir().with_context(|| {
        format!(
            "--isolate: no data directory for the browser profiles (set {})",
            crate::settings::MFAENV_DATA_DIR
        )
    })?;
    let dir = browser::profile_dir(&data, family, profile);
    browser::create_private(&dir)?;
    Ok(dir)
}

/// When the console session ends, in words.
fn ends_at(creds: &Credentials, session_duration: Option<u32>) -> String {
    let now = SystemTime::now();
    let end = match session_duration {
        Some(seconds) => Some(now + Duration::from_secs(seconds.into())),
        None => creds.expiration,
    };
    match end {
        Some(end) => format!(
            "the session lasts until {} ({})",
            rfc3339(end),
            human(end.duration_since(now).unwrap_or_default())
        ),
        None => "the session lasts as AWS decides".to_string(),
    }
}

/// `console --list-browsers`: the known browsers on PATH, one a line
/// (name, family, path); which one each way would use, on stderr.
fn list_browsers() -> String {
    let found = browser::on_path();
    if found.is_empty() {
        crate::ui::info(format_args!(
            "no known browser on PATH (looked for {})",
            browser::KNOWN
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match browser::choose(None, false) {
        Ok(b) => crate::ui::info(format_args!(
            "`mfaenv console` opens {} (from {}); --isolate opens {}",
            escape(&b.argv.join(" ")),
            b.origin,
            found.first().map_or("none", |(n, _, _)| *n)
        )),
        Err(e) => crate::ui::info(format_args!("{e:#}")),
    }
    found
        .iter()
        .map(|(name, family, path)| format!("{name}\t{}\t{}\n", family.name(), path.display()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_joins_the_query_before_the_fragment() {
        assert_eq!(
            with_region("/ec2/home", "eu-west-1"),
            "/ec2/home?region=eu-west-1"
        );
        assert_eq!(
            with_region("/ec2/home?a=b#Instances:", "eu-west-1"),
            "/ec2/home?a=b&region=eu-west-1#Instances:"
        );
        assert_eq!(
            with_region("/ec2/home?#Instances:", "eu-west-1"),
            "/ec2/home?region=eu-west-1#Instances:"
        );
        assert_eq!(
            with_region("/s3/home?region=us-east-1", "eu-west-1"),
            "/s3/home?region=us-east-1"
        );
    }

    #[test]
    fn paths_stay_on_the_console() {
        assert!(check_path("/ec2/home?#Instances:").is_ok());
        for bad in [
            "//evil.example/x",
            "https://evil.example",
            "ec2/home",
            "/a b",
            "/a\\b",
            "/\u{1b}",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn federated_names_are_what_sts_accepts() {
        assert_eq!(
            federated_name("arn:aws:iam::1:user/team/alice", "p"),
            "alice"
        );
        assert_eq!(federated_name("arn:aws:iam::1:root", "prod"), "prod");
        assert_eq!(federated_name("arn:aws:iam::1:root", "p"), "mfaenv");
        assert_eq!(federated_name("arn:aws:iam::1:user/a b", "x!"), "ab");
        let long = "x".repeat(40);
        assert_eq!(
            federated_name(&format!("arn:aws:iam::1:user/{long}"), "p").len(),
            32
        );
    }

    #[test]
    fn an_error_that_quotes_a_secret_is_not_shown() {
        let secret = Zeroizing::new("s3cr3t/key+value".to_string());
        let quoting = anyhow::anyhow!("bad answer: s3cr3t%2Fkey%2Bvalue").context("sign-in");
        let text = format!("{:#}", scrubbed(quoting, std::slice::from_ref(&secret)));
        assert!(!text.contains("s3cr3t"), "{text}");
        let plain = anyhow::anyhow!("HTTP 400");
        let text = format!("{:#}", scrubbed(plain, std::slice::from_ref(&secret)));
        assert_eq!(text, "HTTP 400");
    }

    #[test]
    fn endpoint_overrides_are_https_or_loopback() {
        assert!(checked_url("https://signin.example", "x").is_ok());
        assert!(checked_url("http://127.0.0.1:8080", "x").is_ok());
        assert!(checked_url("http://localhost/base", "x").is_ok());
        assert!(checked_url("http://signin.example", "x").is_err());
        assert!(checked_url("http://127.0.0.1.evil.example", "x").is_err());
        assert!(checked_url("http://127.0.0.1:1@evil.example", "x").is_err());
        assert!(checked_url("https://x/?a=b", "x").is_err());
    }
}
