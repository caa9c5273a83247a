//! `mfaenv status [--json]`: cached sessions and their time left, and the
//! profile active in this shell. Reads files and the environment only.

use std::time::{Duration, SystemTime};

use anyhow::Result;
use serde_json::json;

use super::current_env;
use crate::cache::{Cache, Listed};
use crate::cli::StatusArgs;
use crate::creds::rfc3339;
use crate::duration::human;
use crate::env_vars::{EXPIRATION, MFAENV_PROFILE};

pub fn run(args: &StatusArgs) -> Result<String> {
    let cache = Cache::open();
    let sessions = cache.list();
    let now = SystemTime::now();
    let active = current_env(MFAENV_PROFILE).map(|profile| {
        let expires = current_env(EXPIRATION).and_then(|e| humantime::parse_rfc3339(&e).ok());
        (profile, expires)
    });
    Ok(if args.json {
        as_json(&sessions, active, now)
    } else {
        as_table(&sessions, active, now)
    })
}

fn left(exp: SystemTime, now: SystemTime) -> Duration {
    exp.duration_since(now).unwrap_or_default()
}

fn as_json(
    sessions: &[Listed],
    active: Option<(String, Option<SystemTime>)>,
    now: SystemTime,
) -> String {
    let list: Vec<_> = sessions
        .iter()
        .map(|s| {
            json!({
                "profile": s.label.profile,
                "kind": s.label.kind,
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
    format!("{}\n", json!({ "sessions": list, "active": active }))
}

fn as_table(
    sessions: &[Listed],
    active: Option<(String, Option<SystemTime>)>,
    now: SystemTime,
) -> String {
    let mut out = String::new();
    if sessions.is_empty() {
        out.push_str("no cached sessions\n");
    } else {
        let rows: Vec<[String; 4]> = sessions
            .iter()
            .map(|s| {
                let time_left = if s.expiration <= now {
                    "expired".to_string()
                } else {
                    human(left(s.expiration, now))
                };
                [
                    s.label.profile.clone(),
                    s.label.kind.clone(),
                    s.label.target.clone(),
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
