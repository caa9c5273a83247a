//! `mfaenv plan PROFILE [--json]`: a dry run. Shows how the profile
//! resolves — where the source keys come from, each STS call in order with
//! its parameters, the MFA device and where a code would come from, region
//! and endpoint and what set them, and what the cache would serve — without
//! calling STS, starting the SDK or the async runtime, running
//! `mfa_process` or asking for a code. No secret is printed: of the keys,
//! only the access key id.
//!
//! Errors are `export`'s: the same resolution ([`resolve::plan_in`]) and
//! the same `--min-ttl` check, before anything is shown.

use crate::aws::endpoint::{self, Service};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use serde_json::{json, Value as Json};

use crate::cache::{self, Cache};
use crate::cli::PlanArgs;
use crate::config::{KeyOrigin, Location, MfaMode, Plan, Profiles, RoleStep, SourceKind};
use crate::creds::rfc3339;
use crate::duration::{self, human};
use crate::keystore::{self, Backend};
use crate::resolve::{self, Options, Step};
use crate::ui::escape;

/// Where the source keys come from. The keyring (issue #10) adds a variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `aws_access_key_id` / `aws_secret_access_key` in a profile's section.
    File {
        access_key_id: Location,
        secret_access_key: Option<Location>,
    },
    /// `credential_source = Environment`: these variables.
    Environment { variables: Vec<&'static str> },
    /// A source that signs in itself (IAM Identity Center, `aws login`):
    /// what it is, and where the profile sets it.
    SignIn {
        kind: &'static str,
        location: Location,
    },
    /// A key store (`mfaenv add`/`import`): the backend and the profile's
    /// entry in it (the file store's path; the keyring's service).
    Store {
        backend: Backend,
        entry: String,
        path: Option<PathBuf>,
    },
}

/// A value and what set it, in words (`--region`, `profile prod
/// (~/.aws/config:4)`, `default`).
#[derive(Debug, Clone)]
struct Sourced<T> {
    value: T,
    origin: String,
    location: Option<Location>,
}

/// What a run of `export` would do with one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// The cache has it with enough time left.
    Cached,
    /// STS would be called.
    Call,
    /// A later step is cached: this one is not looked at.
    NotNeeded,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Cached => "cached",
            Action::Call => "call",
            Action::NotNeeded => "not-needed",
        }
    }
}

/// A cached session as the plan shows it: no key, only its expiry.
#[derive(Debug, Clone)]
struct Cached {
    expiration: SystemTime,
    left: Duration,
    /// Whether it has the time the step needs (`--min-ttl` for the last).
    serves: bool,
}

/// One STS call of the plan.
struct Call {
    name: &'static str,
    profile: String,
    with_code: bool,
    fields: Vec<(&'static str, Json)>,
    /// Human lines beyond the first.
    details: Vec<String>,
    cached: Option<Cached>,
    action: Action,
}

pub fn run(args: &PlanArgs) -> Result<String> {
    let profile = args
        .target
        .profile
        .clone()
        .unwrap_or_else(resolve::default_profile);
    let opts = Options::from(&args.target.auth);
    let profiles = Profiles::load()?;
    let plan = resolve::plan_in(&profiles, &profile, &opts)?;
    // A dry run shows the region as read; every other command refuses it.
    if let Err(e) = resolve::check_region(&profiles, &plan, &opts) {
        crate::ui::warning(format_args!("{e:#}; export, exec and login refuse it"));
    }
    resolve::check_min_ttl(&plan, opts.min_ttl)?;
    // Never created here: a dry run leaves no directory behind.
    let cache = cache::default_dir().map(Cache::at);
    let report = Report::new(&profiles, &plan, &opts, cache.as_ref());
    Ok(if args.json {
        let mut text = serde_json::to_string_pretty(&report.json())?;
        text.push('\n');
        text
    } else {
        report.text()
    })
}

/// Everything the plan shows, gathered once for both outputs.
struct Report<'a> {
    profiles: &'a Profiles,
    plan: &'a Plan,
    opts: &'a Options,
    origin: Origin,
    calls: Vec<Call>,
    serial: Option<Sourced<String>>,
    code: Option<(&'static str, Option<String>)>,
    region: Option<Sourced<String>>,
    sts_region: Sourced<String>,
    endpoint: Sourced<String>,
    cache_dir: Option<std::path::PathBuf>,
}

impl<'a> Report<'a> {
    fn new(
        profiles: &'a Profiles,
        plan: &'a Plan,
        opts: &'a Options,
        cache: Option<&Cache>,
    ) -> Report<'a> {
        let mut report = Report {
            profiles,
            plan,
            opts,
            origin: origin(profiles, plan),
            calls: Vec::new(),
            serial: None,
            code: None,
            region: None,
            sts_region: sourced(String::new(), "", None),
            endpoint: sourced(String::new(), "", None),
            cache_dir: cache.and_then(|c| c.dir().map(|d| d.to_path_buf())),
        };
        report.calls = report.calls(cache);
        report.serial = report.serial();
        report.code = plan.mfa_serial.as_ref().map(|_| code_source(plan, opts));
        report.region = report.region();
        report.sts_region = report.sts_region();
        report.endpoint = report.endpoint();
        report
    }

    /// The profiles from the target down to the source, as the resolution
    /// went through them.
    fn chain(&self) -> Vec<&'a str> {
        let plan = self.plan;
        let mut names: Vec<&str> = plan
            .roles
            .iter()
            .rev()
            .map(|r| r.profile.as_str())
            .collect();
        names.extend(plan.session_profile.as_deref());
        names.push(&plan.source.profile);
        names.dedup();
        names
    }

    /// The first profile of the chain that sets `key`, with its location.
    fn first_with(&self, key: &str) -> Option<(&'a str, Location)> {
        self.chain()
            .into_iter()
            .find_map(|name| Some((name, where_set(self.profiles, name, key)?)))
    }

    fn calls(&self, cache: Option<&Cache>) -> Vec<Call> {
        let plan = self.plan;
        let steps = resolve::steps(plan);
        let last = steps.len() - 1;
        let role_offset = steps.len() - plan.roles.len();
        let mut calls: Vec<Call> = steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let ttl = if i == last {
                    self.opts.min_ttl
                } else {
                    resolve::DEFAULT_MIN_TTL
                };
                let cached = match crate::sources::login::of_plan(plan) {
                    // An `aws login` session: its own file, not mfaenv's cache.
                    Some(login) if i == 0 => cache.and(login_session(&login, ttl)),
                    _ => cache.and_then(|c| cached_session(c, step, ttl)),
                };
                let action = match &cached {
                    Some(c) if c.serves => Action::Cached,
                    _ => Action::Call,
                };
                if i < role_offset && !plan.source.kind.has_keys() {
                    self.source_call(cached, action)
                } else if i < role_offset {
                    self.session_call(cached, action)
                } else {
                    let first = i == 0;
                    self.role_call(
                        &plan.roles[i - role_offset],
                        i - role_offset,
                        first,
                        cached,
                        action,
                    )
                }
            })
            .collect();
        // As `resolve::credentials`: a cached final session is all it reads.
        if calls.last().is_some_and(|c| c.action == Action::Cached) {
            for call in calls.iter_mut().take(last) {
                call.action = Action::NotNeeded;
            }
        }
        calls
    }

    /// The first step of a source that is no keys: what it would call.
    fn source_call(&self, cached: Option<Cached>, action: Action) -> Call {
        let plan = self.plan;
        let (name, fields, details) = match &plan.source.kind {
            SourceKind::Sso(sso) => crate::sources::sso::plan_step(sso),
            SourceKind::Login { session } => {
                let login = crate::sources::login::of_plan(plan);
                let file = login.as_ref().and_then(crate::sources::login::path_of);
                let shown = file.as_deref().map(crate::ui::path).unwrap_or_default();
                let signin = crate::sources::login::signin_for(plan, self.opts.region.as_deref());
                let signin = signin.endpoint_url.or_else(|| {
                    signin
                        .region
                        .map(|r| crate::aws::signin::regional_endpoint(&r))
                });
                (
                    "login",
                    vec![
                        ("login_session", json!(session)),
                        ("cache_file", json!(file)),
                        ("signin_endpoint", json!(signin)),
                    ],
                    vec![
                        format!("`aws login` session {}", escape(session)),
                        format!("its credentials are read from {shown}; with under 5 minutes left they are refreshed through Sign-In (CreateOAuth2Token) at {} and written back", escape(signin.as_deref().unwrap_or("(no region: set one)"))),
                    ],
                )
            }
            SourceKind::Static | SourceKind::Environment => ("none", Vec::new(), Vec::new()),
        };
        Call {
            name,
            profile: plan.source.profile.clone(),
            with_code: false,
            fields,
            details,
            cached,
            action,
        }
    }

    fn session_call(&self, cached: Option<Cached>, action: Action) -> Call {
        let plan = self.plan;
        let seconds = plan.session_seconds;
        let length = if plan.roles.is_empty() && self.opts.duration.is_some() {
            sourced(seconds, "--duration", None)
        } else if let Some((name, location)) = self.first_with("mfa_session_duration") {
            sourced(
                seconds,
                &format!("mfa_session_duration of profile {name}"),
                Some(location),
            )
        } else {
            sourced(seconds, "mfaenv's default (12h)", None)
        };
        let profile = plan
            .session_profile
            .clone()
            .unwrap_or_else(|| plan.source.profile.clone());
        Call {
            name: "GetSessionToken",
            profile,
            with_code: plan.mfa_serial.is_some(),
            fields: vec![
                ("serial_number", json!(plan.mfa_serial)),
                ("duration_seconds", json!(seconds)),
                ("duration_origin", origin_json(&length)),
            ],
            details: vec![format!(
                "duration {}s ({}) from {}",
                seconds,
                human(Duration::from_secs(seconds.into())),
                describe(&length)
            )],
            cached,
            action,
        }
    }

    fn role_call(
        &self,
        role: &RoleStep,
        index: usize,
        first: bool,
        cached: Option<Cached>,
        action: Action,
    ) -> Call {
        let plan = self.plan;
        let with_code = first && plan.mfa_serial.is_some();
        let (name_value, name_origin) = match &role.session_name {
            Some(name) => (
                name.clone(),
                sourced(
                    (),
                    "role_session_name",
                    where_set(self.profiles, &role.profile, "role_session_name"),
                ),
            ),
            None => (
                "mfaenv-<unix time>".to_string(),
                sourced((), "mfaenv's default", None),
            ),
        };
        let (duration, clamped_from) = self.role_duration(role, index);
        let mut details = vec![format!(
            "session name {} ({})",
            escape(&name_value),
            describe(&name_origin)
        )];
        if let Some(id) = &role.external_id {
            details.push(format!("external id {}", escape(id)));
        }
        details.push(match duration.value {
            Some(s) => format!(
                "duration {s}s ({}) from {}",
                human(Duration::from_secs(s.into())),
                describe(&duration)
            ),
            None => "duration: STS's default (1h)".to_string(),
        });
        if let Some(from) = clamped_from {
            details.push(format!(
                "clamped from {from}s: a role assumed from another role lasts at most 1h"
            ));
        }
        if with_code {
            details.push(format!(
                "with the MFA code ({} mode)",
                if plan.mode == MfaMode::Direct {
                    "direct"
                } else {
                    "first role"
                }
            ));
        }
        Call {
            name: "AssumeRole",
            profile: role.profile.clone(),
            with_code,
            fields: vec![
                ("role_arn", json!(role.role_arn)),
                ("external_id", json!(role.external_id)),
                ("role_session_name", json!(name_value)),
                ("role_session_name_origin", origin_json(&name_origin)),
                (
                    "serial_number",
                    json!(plan.mfa_serial.as_ref().filter(|_| with_code)),
                ),
                ("duration_seconds", json!(duration.value)),
                ("duration_origin", origin_json(&duration)),
                ("clamped_from", json!(clamped_from)),
            ],
            details,
            cached,
            action,
        }
    }

    /// The role's DurationSeconds, what set it, and what it was before the
    /// one-hour clamp of a chained role, when it was clamped.
    fn role_duration(&self, role: &RoleStep, index: usize) -> (Sourced<Option<u32>>, Option<u32>) {
        let is_last = index + 1 == self.plan.roles.len();
        if is_last && self.opts.duration.is_some() {
            return (sourced(role.duration_seconds, "--duration", None), None);
        }
        let Some(location) = where_set(self.profiles, &role.profile, "duration_seconds") else {
            return (sourced(role.duration_seconds, "STS's default", None), None);
        };
        let written = self
            .profiles
            .get(&role.profile)
            .and_then(|p| self.profiles.with_includes(p).ok())
            .and_then(|p| p.get("duration_seconds").map(str::to_string))
            .and_then(|text| duration::parse_seconds(&text, duration::ASSUME_ROLE).ok());
        let clamped = written.filter(|w| Some(*w) != role.duration_seconds);
        let origin = format!("duration_seconds of profile {}", role.profile);
        (
            sourced(role.duration_seconds, &origin, Some(location)),
            clamped,
        )
    }

    /// The device and the profile it was taken from (see `config::resolve`).
    fn serial(&self) -> Option<Sourced<String>> {
        let plan = self.plan;
        let serial = plan.mfa_serial.clone()?;
        let from = plan
            .roles
            .iter()
            .find(|r| r.mfa_serial.is_some())
            .map(|r| r.profile.as_str())
            .or(plan.session_profile.as_deref())
            .unwrap_or(&plan.source.profile);
        let location = where_set(self.profiles, from, "mfa_serial");
        Some(sourced(
            serial,
            &format!("mfa_serial of profile {from}"),
            location,
        ))
    }

    fn region(&self) -> Option<Sourced<String>> {
        let plan = self.plan;
        let region = plan.region.clone()?;
        if self.opts.region.is_some() {
            return Some(sourced(region, "--region", None));
        }
        let from = plan.region_from.as_deref().unwrap_or(&plan.profile);
        let what = if plan.region_from.is_some() {
            format!("region of source profile {from}")
        } else {
            format!("region of profile {from}")
        };
        Some(sourced(
            region,
            &what,
            where_set(self.profiles, from, "region"),
        ))
    }

    fn sts_region(&self) -> Sourced<String> {
        match endpoint::region_origin(self.plan, self.opts.region.as_deref()) {
            Some((region, "profile")) => match self.first_with("region") {
                Some((name, location)) => {
                    sourced(region, &format!("region of profile {name}"), Some(location))
                }
                None => sourced(region, "the profile chain", None),
            },
            Some((region, origin)) => sourced(region, origin, None),
            None => sourced(
                crate::aws::sts::FALLBACK_REGION.to_string(),
                "mfaenv's default (no region set)",
                None,
            ),
        }
    }

    fn endpoint(&self) -> Sourced<String> {
        match endpoint::endpoint(Service::Sts, self.plan, self.opts.endpoint_url.as_deref()) {
            Some((url, origin))
                if self.plan.endpoint_url.as_deref() == Some(url.as_str())
                    && origin.starts_with("endpoint_url") =>
            {
                match self.first_with("endpoint_url") {
                    Some((name, location)) => sourced(
                        url,
                        &format!("endpoint_url of profile {name}"),
                        Some(location),
                    ),
                    None => sourced(url, &origin, None),
                }
            }
            Some((url, origin)) => sourced(url, &origin, None),
            None => sourced(
                format!("https://sts.{}.amazonaws.com", self.sts_region.value),
                "the regional endpoint",
                None,
            ),
        }
    }

    /// Whether a run would spend a code: a call that carries it would be made.
    fn code_needed(&self) -> bool {
        self.calls
            .iter()
            .any(|c| c.with_code && c.action == Action::Call)
    }

    fn json(&self) -> Json {
        let plan = self.plan;
        let source = &plan.source;
        let steps: Vec<Json> = self
            .calls
            .iter()
            .map(|call| {
                let mut step = serde_json::Map::new();
                step.insert("call".into(), json!(call.name));
                step.insert("profile".into(), json!(call.profile));
                for (key, value) in &call.fields {
                    step.insert((*key).into(), value.clone());
                }
                step.insert("with_code".into(), json!(call.with_code));
                step.insert(
                    "cache".into(),
                    call.cached.as_ref().map_or(Json::Null, |c| {
                        json!({
                            "expiration": rfc3339(c.expiration),
                            "seconds_left": c.left.as_secs(),
                            "serves": c.serves,
                        })
                    }),
                );
                step.insert("action".into(), json!(call.action.name()));
                Json::Object(step)
            })
            .collect();
        let mfa = self.serial.as_ref().map(|serial| {
            let (code, command) = self.code.clone().unwrap_or(("none", None));
            let (command, driver) = match code {
                "prompt" => (None, command),
                _ => (command, None),
            };
            json!({
                "serial_number": serial.value,
                "origin": origin_json(serial),
                "code_source": code,
                "mfa_process": command,
                "prompt_driver": driver,
                "code_needed": self.code_needed(),
            })
        });
        json!({
            "profile": plan.profile,
            "files": {
                "config": self.profiles.config_path,
                "credentials": self.profiles.credentials_path,
            },
            "source": {
                "profile": source.profile,
                "origin": origin_to_json(&self.origin),
                "access_key_id": source.credentials.access_key_id,
                "temporary": source.credentials.session_token.is_some(),
            },
            "mode": match plan.mode {
                MfaMode::Session => "session",
                MfaMode::Direct => "direct",
            },
            "session_profile": plan.session_profile,
            "steps": steps,
            "mfa": mfa,
            "region": self.region.as_ref().map(|r| json!({
                "value": r.value,
                "origin": origin_json(r),
            })),
            "sts_region": {
                "value": self.sts_region.value,
                "origin": origin_json(&self.sts_region),
            },
            "endpoint": {
                "url": self.endpoint.value,
                "origin": origin_json(&self.endpoint),
            },
            "cache_dir": self.cache_dir,
            "min_ttl_seconds": self.opts.min_ttl.as_secs(),
            "sts_calls": self.calls.iter().filter(|c| c.action == Action::Call).count(),
            "notes": plan.notes,
            "console": {
                "route": match super::console::route(plan) {
                    super::console::Route::Session => "session",
                    super::console::Route::Keys => "keys",
                    super::console::Route::FederationToken => "federation-token",
                },
                "signs_in_with": super::console::describe(plan),
            },
        })
    }

    fn text(&self) -> String {
        let plan = self.plan;
        let source = &plan.source;
        let mut out = Vec::new();
        out.push(format!("profile {}", escape(&plan.profile)));
        let kind = if source.credentials.session_token.is_some() {
            "temporary, with aws_session_token"
        } else {
            "long-term"
        };
        if source.kind.has_keys() {
            out.push(format!(
                "  source keys  {} of profile {}, {} ({kind})",
                escape(&source.credentials.access_key_id),
                escape(&source.profile),
                describe_origin(&self.origin),
            ));
        } else {
            out.push(format!(
                "  source       {} of profile {}",
                escape(&source.origin.to_string()),
                escape(&source.profile),
            ));
        }
        for (i, call) in self.calls.iter().enumerate() {
            let target = match call.fields.first() {
                Some(("role_arn", arn)) => format!(" {}", escape(arn.as_str().unwrap_or_default())),
                _ => String::new(),
            };
            out.push(format!(
                "  {}. {}{target} (profile {})",
                i + 1,
                call.name,
                escape(&call.profile)
            ));
            for line in &call.details {
                out.push(format!("       {line}"));
            }
            out.push(format!("       cache: {}", cache_text(call)));
        }
        match (&self.serial, &self.code) {
            (Some(serial), Some((code, command))) => {
                out.push(format!(
                    "  MFA device   {} ({})",
                    escape(&serial.value),
                    describe(serial)
                ));
                let from = match (*code, command) {
                    ("mfa_process", Some(cmd)) => format!("mfa_process `{}`", escape(cmd)),
                    ("token-code", _) => "--token-code".to_string(),
                    ("prompt", Some(driver)) if driver == "terminal" => {
                        "a prompt on the terminal".to_string()
                    }
                    ("prompt", Some(driver)) => format!("a {driver} dialog"),
                    _ => "nowhere: no --token-code, no mfa_process, no terminal, no dialog"
                        .to_string(),
                };
                let needed = if self.code_needed() {
                    "a code is needed"
                } else {
                    "no code needed now"
                };
                out.push(format!("  MFA code     from {from}; {needed}"));
            }
            _ => out.push("  MFA device   none (the session carries no MFA)".to_string()),
        }
        match &self.region {
            Some(r) => out.push(format!(
                "  region       {} ({})",
                escape(&r.value),
                describe(r)
            )),
            None => out.push("  region       none exported".to_string()),
        }
        out.push(format!(
            "  STS region   {} ({})",
            escape(&self.sts_region.value),
            describe(&self.sts_region)
        ));
        out.push(format!(
            "  endpoint     {} ({})",
            escape(&self.endpoint.value),
            describe(&self.endpoint)
        ));
        for note in &plan.notes {
            out.push(format!("  note         {}", escape(note)));
        }
        out.push(format!(
            "  console      signs in with {}",
            escape(&super::console::describe(plan))
        ));
        let calls = self
            .calls
            .iter()
            .filter(|c| c.action == Action::Call)
            .count();
        out.push(match calls {
            0 => "  result       served from the cache: no STS call".to_string(),
            n => format!("  result       {n} STS call(s)"),
        });
        let mut text = out.join("\n");
        text.push('\n');
        text
    }
}

fn sourced<T>(value: T, origin: &str, location: Option<Location>) -> Sourced<T> {
    Sourced {
        value,
        origin: origin.to_string(),
        location,
    }
}

fn describe<T>(s: &Sourced<T>) -> String {
    match &s.location {
        Some(l) => format!("{}, {}", escape(&s.origin), escape(&l.to_string())),
        None => escape(&s.origin),
    }
}

fn origin_json<T>(s: &Sourced<T>) -> Json {
    json!({
        "what": s.origin,
        "path": s.location.as_ref().map(|l| &l.path),
        "line": s.location.as_ref().map(|l| l.line),
    })
}

fn origin_to_json(origin: &Origin) -> Json {
    match origin {
        Origin::File {
            access_key_id,
            secret_access_key,
        } => json!({
            "kind": "file",
            "path": access_key_id.path,
            "line": access_key_id.line,
            "secret_access_key": secret_access_key.as_ref().map(|l| json!({
                "path": l.path,
                "line": l.line,
            })),
        }),
        Origin::Environment { variables } => json!({
            "kind": "environment",
            "variables": variables,
        }),
        Origin::SignIn { kind, location } => json!({
            "kind": kind,
            "path": location.path,
            "line": location.line,
        }),
        Origin::Store {
            backend,
            entry,
            path,
        } => json!({
            "kind": "key-store",
            "backend": backend.name(),
            "entry": entry,
            "service": matches!(backend, Backend::Keyring).then_some(keystore::SERVICE),
            "path": path,
        }),
    }
}

fn describe_origin(origin: &Origin) -> String {
    match origin {
        Origin::File { access_key_id, .. } => escape(&access_key_id.to_string()),
        Origin::Environment { variables } => {
            format!("from the environment ({})", variables.join(", "))
        }
        Origin::SignIn { location, .. } => escape(&location.to_string()),
        Origin::Store {
            backend: Backend::Keyring,
            entry,
            ..
        } => format!(
            "from {}, entry service {} user {}",
            Backend::Keyring,
            keystore::SERVICE,
            escape(entry)
        ),
        Origin::Store {
            backend: Backend::File,
            entry,
            path,
        } => format!(
            "from {}, entry {} of {}",
            Backend::File,
            escape(entry),
            path.as_deref()
                .map_or("the data directory".into(), |p| escape(
                    &p.display().to_string()
                ))
        ),
    }
}

fn cache_text(call: &Call) -> String {
    let state = match &call.cached {
        None => "nothing cached".to_string(),
        Some(c) if c.left.is_zero() => format!("cached until {}, expired", rfc3339(c.expiration)),
        Some(c) => format!(
            "cached until {} ({} left{})",
            rfc3339(c.expiration),
            human(c.left),
            if c.serves { "" } else { ", too little" }
        ),
    };
    let action = match call.action {
        Action::Cached => "served from the cache",
        Action::Call => "STS would be called",
        Action::NotNeeded => "not needed",
    };
    format!("{state}: {action}")
}

/// Where `plan`'s source keys come from.
fn origin(profiles: &Profiles, plan: &Plan) -> Origin {
    let source = &plan.source;
    if let KeyOrigin::Store(backend) = source.origin {
        return Origin::Store {
            backend,
            entry: source.profile.clone(),
            path: match backend {
                Backend::File => keystore::data_dir().ok().map(|d| d.join("keys.enc")),
                Backend::Keyring => None,
            },
        };
    }
    match &source.kind {
        SourceKind::Static => {
            let at = |key: &str| where_set(profiles, &source.profile, key);
            Origin::File {
                access_key_id: at("aws_access_key_id").unwrap_or_else(|| Location {
                    path: profiles.credentials_path.clone(),
                    line: 0,
                }),
                secret_access_key: at("aws_secret_access_key"),
            }
        }
        SourceKind::Environment => {
            let mut variables = vec!["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
            if source.credentials.session_token.is_some() {
                variables.push("AWS_SESSION_TOKEN");
            }
            Origin::Environment { variables }
        }
        SourceKind::Sso(_) | SourceKind::Login { .. } => Origin::SignIn {
            kind: if matches!(source.kind, SourceKind::Sso(_)) {
                "sso"
            } else {
                "login"
            },
            location: match &source.origin {
                KeyOrigin::Sso(l) | KeyOrigin::Login(l) => l.clone(),
                _ => Location {
                    path: profiles.config_path.clone(),
                    line: 0,
                },
            },
        },
    }
}

/// The file and line that set `key` for profile `name` (its own section,
/// or one it includes).
fn where_set(profiles: &Profiles, name: &str, key: &str) -> Option<Location> {
    let profile = profiles.with_includes(profiles.get(name)?).ok()?;
    profile.value(key).map(|v| v.location.clone())
}

/// The `aws login` session's credentials as its file has them (read, never refreshed).
fn login_session(login: &crate::sources::login::LoginSource, ttl: Duration) -> Option<Cached> {
    let expiration = crate::sources::login::expiry(login).ok()?;
    let left = expiration
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    Some(Cached {
        expiration,
        left,
        serves: crate::sources::login::serves(left, ttl),
    })
}

/// A cached session for `step`, without its keys: only when it is.
fn cached_session(cache: &Cache, step: &Step, ttl: Duration) -> Option<Cached> {
    let creds = cache.get(&step.key, Duration::ZERO)?;
    let expiration = creds.expiration?;
    let left = creds.time_left(SystemTime::now())?;
    Some(Cached {
        expiration,
        left,
        serves: left >= ttl,
    })
}

/// Where a code would come from, in `CodeSource`'s order: `--token-code`,
/// `mfa_process` (shown, never run), a prompt driver (its name; nothing is
/// shown or started).
fn code_source(plan: &Plan, opts: &Options) -> (&'static str, Option<String>) {
    if opts.token_code.is_some() {
        return ("token-code", None);
    }
    if let Some(command) = &plan.mfa_process {
        return ("mfa_process", Some(command.clone()));
    }
    let driver = crate::prompt::Settings::resolve(plan.mfa_prompt.as_ref(), plan.prompt_timeout)
        .and_then(|s| s.driver_name());
    match driver {
        Ok(name) => ("prompt", Some(name.to_string())),
        Err(_) => ("none", None),
    }
}
