//! `mfaenv status [--json]`: cached sessions and their time left, and the
//! profile active in this shell. Reads files and the environment only.

use std::time::{Duration, SystemTime};

use anyhow::Result;
use serde_json::json;

use super::current_env;
use std::collections::BTreeMap;

use crate::cache::{Cache, Key, Listed};
use crate::cli::StatusArgs;
use crate::config::Profiles;
use crate::creds::rfc3339;
use crate::duration::human;
use crate::env_vars::EXPIRATION;
use crate::resolve::{self, Options};
use crate::settings::MFAENV_PROFILE;
use crate::ui::escape;

pub fn run(args: &StatusArgs) -> Result<String> {
    if args.short {
        return Ok(short(
            current_env(MFAENV_PROFILE).as_deref(),
            current_env(EXPIRATION).as_deref(),
            SystemTime::now(),
        ));
    }
    let cache = Cache::open();
    let sessions = cache.list();
    let old = not_in_use(&cache, &sessions);
    let now = SystemTime::now();
    let active = current_env(MFAENV_PROFILE).map(|profile| {
        let expires = current_env(EXPIRATION).and_then(|e| humantime::parse_rfc3339(&e).ok());
        (profile, expires)
    });
    let old_keys = super::keys::old_keys();
    Ok(if args.json {
        as_json(&sessions, &old, active, now, &old_keys)
    } else {
        let mut out = as_table(&sessions, &old, active, now);
        for line in &old_keys {
            out.push_str(&format!("old key: {line}\n"));
        }
        out
    })
}

/// For each session: whether the profile of its label, as configured now,
/// would not use it (made with a rotated key, another MFA device, other
/// options): two rows that look alike are told apart this way. A profile
/// that does not resolve marks nothing.
fn not_in_use(cache: &Cache, sessions: &[Listed]) -> Vec<bool> {
    let Ok(profiles) = Profiles::load() else {
        return vec![false; sessions.len()];
    };
    let mut steps: BTreeMap<&str, Option<Vec<Key>>> = BTreeMap::new();
    sessions
        .iter()
        .map(|s| {
            let keys = steps.entry(s.label.profile.as_str()).or_insert_with(|| {
                let plan =
                    resolve::plan_in(&profiles, &s.label.profile, &Options::default()).ok()?;
                Some(
                    resolve::steps(&plan)
                        .into_iter()
                        .map(|step| step.key)
                        .collect(),
                )
            });
            keys.as_ref()
                .is_some_and(|keys| !keys.iter().any(|k| cache.is_of(s, k)))
        })
        .collect()
}

/// `--short`: `prod 42m`, `prod 1h05m`, `prod expired`, `prod` (no known
/// expiry), or nothing when no profile is active. Reads the environment only.
pub fn short(profile: Option<&str>, expiration: Option<&str>, now: SystemTime) -> String {
    let Some(profile) = profile else {
        return String::new();
    };
    let profile = escape(profile);
    let expires = expiration.and_then(parse_time);
    match expires {
        Some(exp) if exp <= now => format!("{profile} expired\n"),
        Some(exp) => format!("{profile} {}\n", compact(left(exp, now))),
        None => format!("{profile}\n"),
    }
}

/// RFC 3339 as other tools write it too: `Z`, no zone (UTC), or `+HH:MM`.
fn parse_time(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if let Ok(t) = humantime::parse_rfc3339_weak(text) {
        return Some(t);
    }
    let at = text.len().checked_sub(6)?;
    let (base, zone) = (text.get(..at)?, text.get(at..)?.as_bytes());
    let digits = |a: u8, b: u8| -> Option<u64> {
        (a.is_ascii_digit() && b.is_ascii_digit()).then(|| u64::from((a - b'0') * 10 + (b - b'0')))
    };
    let offset =
        Duration::from_secs(digits(zone[1], zone[2])? * 3600 + digits(zone[4], zone[5])? * 60);
    let local = humantime::parse_rfc3339_weak(base).ok()?;
    match (zone[0], zone[3]) {
        (b'+', b':') => local.checked_sub(offset),
        (b'-', b':') => local.checked_add(offset),
        _ => None,
    }
}

/// `42m`, `1h05m`, `30s`: minutes rounded down, as a prompt wants them.
fn compact(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h{m:02}m"),
    }
}

/// The session's kind; a session without MFA that an older mfaenv cached
/// as `mfa-session` shows as what it is.
fn kind(s: &Listed) -> &str {
    match (s.label.kind.as_str(), s.label.target.as_str()) {
        ("mfa-session", "(no MFA device)") => "session",
        (kind, _) => kind,
    }
}

fn left(exp: SystemTime, now: SystemTime) -> Duration {
    exp.duration_since(now).unwrap_or_default()
}

fn as_json(
    sessions: &[Listed],
    old: &[bool],
    active: Option<(String, Option<SystemTime>)>,
    now: SystemTime,
    old_keys: &[String],
) -> String {
    let list: Vec<_> = sessions
        .iter()
        .zip(old)
        .map(|(s, old)| {
            json!({
                "in_use": !old,
                "profile": s.label.profile,
                "kind": kind(s),
                "target": s.label.target,
                "expiration": rfc3339(s.expiration),
                "seconds_left": left(s.expiration, now).as_secs(),
                "expired": s.expiration <= now,
            })
        })
        .collect();
    let active = active.map(|(profile, exp)| {
        json!({
            "profile": profile,
            "expiration": exp.map(rfc3339),
            "seconds_left": exp.map(|e| left(e, now).as_secs()),
        })
    });
    format!(
        "{}\n",
        json!({ "sessions": list, "active": active, "old_keys": old_keys })
    )
}

fn as_table(
    sessions: &[Listed],
    old: &[bool],
    active: Option<(String, Option<SystemTime>)>,
    now: SystemTime,
) -> String {
    let mut out = String::new();
    if sessions.is_empty() {
        out.push_str("no cached sessions\n");
    } else {
        let rows: Vec<[String; 4]> = sessions
            .iter()
            .zip(old)
            .map(|(s, old)| {
                let mut time_left = if s.expiration <= now {
                    "expired".to_string()
                } else {
                    human(left(s.expiration, now))
                };
                if *old {
                    time_left.push_str(" (not in use)");
                }
                [
                    escape(&s.label.profile),
                    escape(kind(s)),
                    escape(&s.label.target),
                    time_left,
                ]
            })
            .collect();
        let header = ["PROFILE", "KIND", "TARGET", "LEFT"].map(String::from);
        let widths: Vec<usize> = (0..3)
            .map(|i| {
                rows.iter()
                    .chain([&header])
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(&header).chain(rows.iter()) {
            out.push_str(&format!(
                "{:w0$}  {:w1$}  {:w2$}  {}\n",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            ));
        }
    }
    if old.iter().any(|o| *o) {
        out.push_str("(not in use): made with keys, an MFA device or options the profile no longer has; `mfaenv forget PROFILE` removes it\n");
    }
    let active = active.map(|(profile, exp)| (escape(&profile), exp));
    match active {
        Some((profile, Some(exp))) if exp > now => out.push_str(&format!(
            "active in this shell: {profile} ({} left)\n",
            human(left(exp, now))
        )),
        Some((profile, Some(_))) => {
            out.push_str(&format!("active in this shell: {profile} (expired)\n"))
        }
        Some((profile, None)) => out.push_str(&format!("active in this shell: {profile}\n")),
        None => out.push_str("active in this shell: none\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines() {
        let now = humantime::parse_rfc3339("2026-01-01T12:00:00Z").unwrap();
        assert_eq!(short(None, Some("2026-01-01T13:00:00Z"), now), "");
        assert_eq!(short(Some("prod"), None, now), "prod\n");
        assert_eq!(
            short(Some("prod"), Some("2026-01-01T12:42:30Z"), now),
            "prod 42m\n"
        );
        assert_eq!(
            short(Some("prod"), Some("2026-01-01T13:05:00Z"), now),
            "prod 1h05m\n"
        );
        assert_eq!(
            short(Some("prod"), Some("2026-01-01T12:00:30Z"), now),
            "prod 30s\n"
        );
        assert_eq!(
            short(Some("prod"), Some("2026-01-01T11:59:00Z"), now),
            "prod expired\n"
        );
        assert_eq!(
            short(Some("prod"), Some("2026-01-01T12:00:00Z"), now),
            "prod expired\n"
        );
        assert_eq!(
            short(Some("prod"), Some("2026-01-01T14:10:00+02:00"), now),
            "prod 10m\n"
        );
        assert_eq!(
            short(Some("prod"), Some("2026-01-01T07:20:00-05:00"), now),
            "prod 20m\n"
        );
        assert_eq!(
            short(Some("prod"), Some("2026-01-01T12:20:00.123Z"), now),
            "prod 20m\n"
        );
        assert_eq!(short(Some("prod"), Some("soon"), now), "prod\n");
        assert_eq!(short(Some("a\x1b[2Kb\r"), None, now), "a\\x1b[2Kb\\r\n");
    }
}
