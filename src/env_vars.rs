//! Which environment variables mfaenv sets and removes, and the state it
//! keeps to put the shell back as it was.
//!
//! State lives in `MFAENV_PRIOR`: for every variable mfaenv changed, its value
//! before (hex-encoded, so the state is plain ASCII), or that it was unset.
//! Prior values of secret variables are never kept (only that they were
//! set), so `MFAENV_*` never holds a secret.

use crate::creds::{rfc3339, Credentials};
use crate::settings::{
    MFAENV_DIR, MFAENV_OUTER, MFAENV_PRIOR, MFAENV_PROFILE, MFAENV_REFRESH_AT, MFAENV_SET, PREFIX,
};

pub const ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
pub const SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
pub const SECURITY_TOKEN: &str = "AWS_SECURITY_TOKEN";
pub const EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";
pub const REGION: &str = "AWS_REGION";
pub const DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
pub const PROFILE_VARS: [&str; 2] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"];

/// Reads this process's environment; an empty value counts as unset, as
/// the AWS tools treat it.
pub fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// One change to the environment, in the order it must be applied.
#[derive(Clone, PartialEq, Eq)]
pub enum Change {
    Set(String, String),
    Unset(String),
}

impl Change {
    /// The variable this change is about.
    pub fn name(&self) -> &str {
        match self {
            Change::Set(name, _) | Change::Unset(name) => name,
        }
    }
}

// Values may be secrets: never show them in debug output.
impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Set(name, _) => write!(f, "Set({name}, <redacted>)"),
            Change::Unset(name) => write!(f, "Unset({name})"),
        }
    }
}

/// Every variable mfaenv sets or removes (besides its own `MFAENV_*` state):
/// the only names its state may restore.
const MANAGED: [&str; 9] = [
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    SECURITY_TOKEN,
    EXPIRATION,
    REGION,
    DEFAULT_REGION,
    PROFILE_VARS[0],
    PROFILE_VARS[1],
];

/// Variables whose values are secrets.
const SECRETS: [&str; 3] = [SECRET_ACCESS_KEY, SESSION_TOKEN, SECURITY_TOKEN];

/// The credential variables (and their expiry), in the order they are set.
const CREDENTIAL_VARS: [&str; 4] = [ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, EXPIRATION];

/// What a variable was before mfaenv changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prior {
    Unset,
    Value(String),
    /// Set to a secret that mfaenv does not keep.
    Secret,
}

/// The changes that put `creds` into a child's environment (`exec`).
pub fn for_child(profile: &str, creds: &Credentials, region: Option<&str>) -> Vec<Change> {
    let mut changes: Vec<Change> = [SECURITY_TOKEN, PROFILE_VARS[0], PROFILE_VARS[1]]
        .iter()
        .map(|v| Change::Unset(v.to_string()))
        .collect();
    changes.push(Change::Set(
        ACCESS_KEY_ID.into(),
        creds.access_key_id.clone(),
    ));
    changes.push(Change::Set(
        SECRET_ACCESS_KEY.into(),
        creds.secret_access_key.clone(),
    ));
    match &creds.session_token {
        Some(token) => changes.push(Change::Set(SESSION_TOKEN.into(), token.clone())),
        None => changes.push(Change::Unset(SESSION_TOKEN.into())),
    }
    match creds.expiration {
        Some(exp) => changes.push(Change::Set(EXPIRATION.into(), rfc3339(exp))),
        None => changes.push(Change::Unset(EXPIRATION.into())),
    }
    if let Some(region) = region {
        changes.push(Change::Set(REGION.into(), region.to_string()));
        changes.push(Change::Set(DEFAULT_REGION.into(), region.to_string()));
    }
    changes.push(Change::Set(MFAENV_PROFILE.into(), profile.to_string()));
    changes
}

/// The changes for a shell (`export`): those of [`for_child`], plus the state
/// that lets `mfaenv unset` restore what was there before. `env` reads the
/// shell's current environment.
pub fn for_shell(
    profile: &str,
    creds: &Credentials,
    region: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Change> {
    let mut prior = env(MFAENV_PRIOR).map(|s| decode(&s)).unwrap_or_default();
    let mut changes = for_child(profile, creds, region);
    let touched: Vec<String> = changes
        .iter()
        .map(|c| match c {
            Change::Set(n, _) | Change::Unset(n) => n.clone(),
        })
        .filter(|n| !n.starts_with(PREFIX))
        .collect();
    // Keep the oldest prior value: a second export must still unset to the start.
    for name in touched {
        if !prior.iter().any(|(n, _)| *n == name) {
            let before = observe(&name, env);
            prior.push((name, before));
        }
    }
    // A region an earlier export set, that this profile does not have, goes back.
    if region.is_none() {
        for name in [REGION, DEFAULT_REGION] {
            if let Some((_, before)) = prior.iter().find(|(n, _)| n == name) {
                changes.push(restore(name, before));
            }
        }
    }
    changes.push(Change::Set(MFAENV_PRIOR.into(), encode(&prior)));
    let set = fingerprint(&changes);
    changes.push(Change::Set(MFAENV_SET.into(), set));
    changes
}

/// The state of an `eval "$(mfaenv x)"` the hook found when it entered a
/// project: put back when it leaves. No secret: the profile, and x's
/// `MFAENV_PRIOR` and `MFAENV_SET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outer {
    pub profile: String,
    pub prior: String,
    pub set: String,
}

impl Outer {
    /// What `env` holds when an export (not the hook) is active there.
    fn of(env: &dyn Fn(&str) -> Option<String>) -> Option<Outer> {
        if env(MFAENV_DIR).is_some() {
            return None;
        }
        Some(Outer {
            prior: env(MFAENV_PRIOR)?,
            profile: env(MFAENV_PROFILE).unwrap_or_default(),
            set: env(MFAENV_SET).unwrap_or_default(),
        })
    }

    /// Three hex fields: plain ASCII whatever the profile is called.
    fn encode(&self) -> String {
        [&self.profile, &self.prior, &self.set]
            .map(|f| hex(f.as_bytes()))
            .join(" ")
    }

    pub fn decode(state: &str) -> Option<Outer> {
        let mut fields = state.split(' ').map(unhex);
        let outer = Outer {
            profile: fields.next()??,
            prior: fields.next()??,
            set: fields.next()??,
        };
        fields.next().is_none().then_some(outer)
    }

    /// The changes that make this the shell's state again.
    fn restore(&self) -> Vec<Change> {
        let mut changes = vec![
            Change::Set(MFAENV_PRIOR.into(), self.prior.clone()),
            Change::Set(MFAENV_SET.into(), self.set.clone()),
        ];
        if !self.profile.is_empty() {
            changes.push(Change::Set(MFAENV_PROFILE.into(), self.profile.clone()));
        }
        changes
    }

    /// Whether `value` is what this export set `name` to.
    pub fn had(&self, name: &str, value: &str) -> bool {
        recorded(&self.set, name).is_some_and(|hash| hash == short_hash(value))
    }
}

/// The changes the hook makes to load a project: [`for_shell`], except
/// that an export found active (`eval "$(mfaenv x)"` before `cd`) is set
/// aside in `MFAENV_OUTER` and the project's own prior values start from
/// x's, so that leaving puts x back.
pub fn for_project(
    profile: &str,
    creds: &Credentials,
    region: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Change> {
    let Some(outer) = Outer::of(env) else {
        return for_shell(profile, creds, region, env);
    };
    let fresh = |name: &str| match name {
        MFAENV_PRIOR | MFAENV_SET => None,
        _ => env(name),
    };
    let mut changes = vec![Change::Set(MFAENV_OUTER.into(), outer.encode())];
    changes.extend(for_shell(profile, creds, region, &fresh));
    changes
}

/// `NAME=hash` (or `NAME=-` for an unset) of every non-state change.
fn fingerprint(changes: &[Change]) -> String {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Set(n, v) if !n.starts_with(PREFIX) => Some(format!("{n}={}", short_hash(v))),
            Change::Unset(n) if !n.starts_with(PREFIX) => Some(format!("{n}=-")),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// 64 bits of SHA-256: enough to notice a change, useless to recover a secret.
fn short_hash(value: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(value.as_bytes())[..8])
}

/// What `set` (an `MFAENV_SET`) recorded for `name`: a hash, or `-`.
fn recorded<'a>(set: &'a str, name: &str) -> Option<&'a str> {
    set.split_ascii_whitespace()
        .find_map(|item| item.strip_prefix(name)?.strip_prefix('='))
}

/// Whether `name` still holds what mfaenv put there (true when unknown).
fn still_ours(name: &str, set: &str, env: &dyn Fn(&str) -> Option<String>) -> bool {
    let Some(recorded) = recorded(set, name) else {
        return true;
    };
    match (recorded, env(name)) {
        ("-", None) => true,
        ("-", Some(_)) | (_, None) => false,
        (hash, Some(value)) => short_hash(&value) == hash,
    }
}

/// The changes that undo mfaenv: restore each prior value of what mfaenv
/// set and the user did not change since. With no state, nothing but the
/// state itself is touched (the user's own keys stay), unless `all` asks to
/// remove every AWS credential variable. Also returns notes for stderr.
/// An export the hook set aside ([`Outer`]) is undone too.
pub fn for_unset(env: &dyn Fn(&str) -> Option<String>, all: bool) -> (Vec<Change>, Vec<String>) {
    let mut notes = Vec::new();
    let mut changes = Vec::new();
    match env(MFAENV_PRIOR) {
        Some(state) => {
            changes = undo(&state, env, true, &mut notes);
            if let Some(outer) = env(MFAENV_OUTER).and_then(|s| Outer::decode(&s)) {
                let set = outer.set.clone();
                let more = {
                    let view = with(env, &changes, (MFAENV_SET, set));
                    undo(&outer.prior, &view, true, &mut notes)
                };
                changes.extend(more);
            }
        }
        None if !all => notes.push(
            "nothing to undo: mfaenv set nothing in this shell (`mfaenv unset --all` removes every AWS credential variable)".to_string(),
        ),
        None => {}
    }
    if all {
        for name in CREDENTIAL_VARS.iter().chain([&SECURITY_TOKEN]) {
            if !changes.iter().any(|c| c.name() == *name) {
                changes.push(Change::Unset(name.to_string()));
            }
        }
    }
    changes.extend(STATE.iter().map(|s| Change::Unset(s.to_string())));
    (changes, notes)
}

/// The hook leaving a project: what [`for_unset`] does for the project,
/// then the export it set aside, if any, is the shell's state again. Its
/// secrets were not kept: they are unset here, and the caller fills them
/// in (from the cache) when it can.
pub fn for_leave(
    env: &dyn Fn(&str) -> Option<String>,
) -> (Vec<Change>, Vec<String>, Option<Outer>) {
    let outer = env(MFAENV_OUTER).and_then(|s| Outer::decode(&s));
    let mut notes = Vec::new();
    let mut changes = match env(MFAENV_PRIOR) {
        Some(state) => undo(&state, env, outer.is_none(), &mut notes),
        None => Vec::new(),
    };
    changes.extend(STATE.iter().map(|s| Change::Unset(s.to_string())));
    if let Some(outer) = &outer {
        changes.extend(outer.restore());
    }
    (changes, notes, outer)
}

/// mfaenv's state in the shell, removed by an undo.
const STATE: [&str; 6] = [
    MFAENV_PRIOR,
    MFAENV_SET,
    MFAENV_PROFILE,
    MFAENV_DIR,
    MFAENV_REFRESH_AT,
    MFAENV_OUTER,
];

/// Restores what `state` (an `MFAENV_PRIOR`) recorded, except what the
/// user changed by hand since (by `MFAENV_SET` in `env`). `secret_notes`:
/// say that a secret is removed, not restored.
fn undo(
    state: &str,
    env: &dyn Fn(&str) -> Option<String>,
    secret_notes: bool,
    notes: &mut Vec<String>,
) -> Vec<Change> {
    let set = env(MFAENV_SET).unwrap_or_default();
    let (prior, ignored) = decode_checked(state);
    notes.extend(ignored.iter().map(|name| {
        format!(
            "ignoring `{name}` in {MFAENV_PRIOR}: mfaenv never sets it, so it restores it neither"
        )
    }));
    let mut changes = Vec::new();
    for (name, before) in prior {
        if !still_ours(&name, &set, env) {
            continue; // changed by hand since: the user's value stays
        }
        if before == Prior::Secret && secret_notes {
            notes.push(format!(
                "{name} held a value before mfaenv set it; mfaenv never stores secrets, so it is removed, not restored"
            ));
        }
        changes.push(restore(&name, &before));
    }
    changes
}

/// `env` once `changes` are applied, with `extra` on top.
fn with<'a>(
    env: &'a dyn Fn(&str) -> Option<String>,
    changes: &'a [Change],
    extra: (&'a str, String),
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| {
        if name == extra.0 {
            return Some(extra.1.clone());
        }
        for change in changes.iter().rev() {
            match change {
                Change::Set(n, v) if n == name => return Some(v.clone()),
                Change::Unset(n) if n == name => return None,
                _ => {}
            }
        }
        env(name)
    }
}

fn observe(name: &str, env: &dyn Fn(&str) -> Option<String>) -> Prior {
    match env(name) {
        None => Prior::Unset,
        Some(_) if SECRETS.contains(&name) => Prior::Secret,
        Some(value) => Prior::Value(value),
    }
}

fn restore(name: &str, before: &Prior) -> Change {
    match before {
        Prior::Value(v) => Change::Set(name.to_string(), v.clone()),
        Prior::Unset | Prior::Secret => Change::Unset(name.to_string()),
    }
}

/// `NAME` (unset), `NAME=hex` (value), `NAME?` (a secret), space-separated.
pub fn encode(prior: &[(String, Prior)]) -> String {
    prior
        .iter()
        .map(|(name, before)| match before {
            Prior::Unset => name.clone(),
            Prior::Secret => format!("{name}?"),
            Prior::Value(v) => format!("{name}={}", hex(v.as_bytes())),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads [`encode`]'s form; malformed entries, and names mfaenv does not
/// manage, are skipped, never trusted as code.
pub fn decode(state: &str) -> Vec<(String, Prior)> {
    decode_checked(state).0
}

/// [`decode`], with the well-formed names it refused because mfaenv never
/// sets them (a crafted state must not make `unset` restore `PATH` or
/// `LD_PRELOAD`).
fn decode_checked(state: &str) -> (Vec<(String, Prior)>, Vec<String>) {
    let mut ignored = Vec::new();
    let prior = state
        .split_ascii_whitespace()
        .filter_map(|item| {
            let (name, before) = if let Some(name) = item.strip_suffix('?') {
                (name, Prior::Secret)
            } else if let Some((name, value)) = item.split_once('=') {
                (name, Prior::Value(unhex(value)?))
            } else {
                (item, Prior::Unset)
            };
            if !is_var_name(name) {
                return None;
            }
            if !MANAGED.contains(&name) {
                ignored.push(name.to_string());
                return None;
            }
            Some((name.to_string(), before))
        })
        .collect();
    (prior, ignored)
}

fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Lower-case hex: state values, cache file names and trust entries.
pub fn hex(bytes: &[u8]) -> String {
    // Not `format!` per byte: the cached paths hash and print several keys,
    // and the formatting machinery cost more than the hashing.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::SystemTime;

    #[test]
    fn hex_is_lower_case_two_digits_a_byte_and_unhex_reverses_it() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(unhex(&hex("é=x".as_bytes())).as_deref(), Some("é=x"));
    }

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "ASIANEW".into(),
            secret_access_key: "new-secret".into(),
            session_token: Some("new-token".into()),
            expiration: Some(SystemTime::UNIX_EPOCH),
        }
    }

    fn apply(env: &mut HashMap<String, String>, changes: &[Change]) {
        for c in changes {
            match c {
                Change::Set(n, v) => {
                    env.insert(n.clone(), v.clone());
                }
                Change::Unset(n) => {
                    env.remove(n);
                }
            }
        }
    }

    #[test]
    fn state_round_trips() {
        let prior = vec![
            ("AWS_PROFILE".to_string(), Prior::Unset),
            (
                "AWS_REGION".to_string(),
                Prior::Value("x y'$\n".to_string()),
            ),
            ("AWS_SESSION_TOKEN".to_string(), Prior::Secret),
        ];
        assert_eq!(decode(&encode(&prior)), prior);
        let decoded = decode("1BAD=zz ok=6 $(x) AWS_REGION");
        assert_eq!(decoded, vec![("AWS_REGION".to_string(), Prior::Unset)]);
    }

    #[test]
    fn state_restores_only_what_mfaenv_manages() {
        let crafted = encode(&[
            ("PATH".to_string(), Prior::Value("/tmp/evil".to_string())),
            (
                "LD_PRELOAD".to_string(),
                Prior::Value("/tmp/x.so".to_string()),
            ),
            ("HOME".to_string(), Prior::Unset),
            (
                "AWS_REGION".to_string(),
                Prior::Value("eu-west-1".to_string()),
            ),
        ]);
        let env = |n: &str| (n == MFAENV_PRIOR).then(|| crafted.clone());
        let (changes, notes) = for_unset(&env, false);
        let touched: Vec<&str> = changes
            .iter()
            .map(Change::name)
            .filter(|n| !n.starts_with(PREFIX))
            .collect();
        assert_eq!(touched, ["AWS_REGION"]);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("`LD_PRELOAD`")));
    }

    #[test]
    fn the_fingerprint_covers_only_the_variables_mfaenv_manages() {
        let env = |_: &str| None;
        let changes = for_shell("prod", &creds(), Some("us-west-2"), &env);
        let set = changes
            .iter()
            .find_map(|c| match c {
                Change::Set(n, v) if n == MFAENV_SET => Some(v.clone()),
                _ => None,
            })
            .unwrap();
        let names: Vec<&str> = set
            .split_whitespace()
            .map(|item| item.split('=').next().unwrap())
            .collect();
        assert!(
            names.contains(&ACCESS_KEY_ID) && names.contains(&REGION),
            "{set}"
        );
        assert!(names.iter().all(|n| MANAGED.contains(n)), "{set}");
    }

    #[test]
    fn unset_without_state_keeps_the_users_keys() {
        let env =
            |n: &str| (n == ACCESS_KEY_ID || n == SECRET_ACCESS_KEY).then(|| "mine".to_string());
        let (changes, notes) = for_unset(&env, false);
        assert!(changes.iter().all(|c| c.name().starts_with(PREFIX)));
        assert!(notes[0].contains("--all"));
        let (changes, _) = for_unset(&env, true);
        for name in [
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            SESSION_TOKEN,
            SECURITY_TOKEN,
            EXPIRATION,
        ] {
            assert!(changes.contains(&Change::Unset(name.to_string())), "{name}");
        }
    }

    #[test]
    fn export_then_unset_restores_and_keeps_no_secret() {
        let mut env: HashMap<String, String> = HashMap::new();
        env.insert("AWS_PROFILE".into(), "old".into());
        env.insert("AWS_REGION".into(), "eu-west-1".into());
        env.insert("AWS_SECRET_ACCESS_KEY".into(), "old-secret".into());
        let before = env.clone();
        for region in [Some("us-west-2"), None] {
            let snapshot = env.clone();
            let changes = for_shell("prod", &creds(), region, &|n| snapshot.get(n).cloned());
            apply(&mut env, &changes);
        }
        assert_eq!(env["AWS_SECRET_ACCESS_KEY"], "new-secret");
        assert_eq!(
            env["AWS_REGION"], "eu-west-1",
            "a region-less export restores the prior region"
        );
        assert!(!env.contains_key("AWS_PROFILE"));
        for (k, v) in &env {
            if k.starts_with(PREFIX) {
                assert!(
                    !v.contains("secret") && !v.contains(&hex(b"old-secret")),
                    "{k}={v}"
                );
            }
        }
        let snapshot = env.clone();
        let (changes, notes) = for_unset(&|n| snapshot.get(n).cloned(), false);
        apply(&mut env, &changes);
        let mut expected = before.clone();
        expected.remove("AWS_SECRET_ACCESS_KEY");
        assert_eq!(env, expected);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn a_value_changed_by_hand_is_left_alone() {
        let mut env: HashMap<String, String> = HashMap::new();
        env.insert("AWS_PROFILE".into(), "old".into());
        let snapshot = env.clone();
        apply(
            &mut env,
            &for_shell("prod", &creds(), Some("us-west-2"), &|n| {
                snapshot.get(n).cloned()
            }),
        );
        env.insert("AWS_REGION".into(), "manual".into());
        env.insert("AWS_PROFILE".into(), "typed".into());
        let snapshot = env.clone();
        apply(&mut env, &for_unset(&|n| snapshot.get(n).cloned(), false).0);
        assert_eq!(env.get("AWS_REGION").map(String::as_str), Some("manual"));
        assert_eq!(env.get("AWS_PROFILE").map(String::as_str), Some("typed"));
        assert!(!env.contains_key("AWS_ACCESS_KEY_ID") && !env.contains_key("AWS_DEFAULT_REGION"));
        assert!(env.keys().all(|k| !k.starts_with(PREFIX)));
    }

    #[test]
    fn leaving_a_project_puts_back_an_earlier_export() {
        let mut env: HashMap<String, String> = HashMap::new();
        env.insert("AWS_PROFILE".into(), "old".into());
        let start = env.clone();
        let outer = Credentials {
            access_key_id: "ASIAOUTER".into(),
            secret_access_key: "outer-secret".into(),
            session_token: Some("outer-token".into()),
            expiration: Some(SystemTime::UNIX_EPOCH),
        };
        let snapshot = env.clone();
        apply(
            &mut env,
            &for_shell("staging", &outer, Some("eu-west-1"), &|n| {
                snapshot.get(n).cloned()
            }),
        );
        let exported = env.clone();
        let snapshot = env.clone();
        let mut entering = for_project("prod", &creds(), Some("us-west-2"), &|n| {
            snapshot.get(n).cloned()
        });
        entering.push(Change::Set(MFAENV_DIR.into(), "/p".into()));
        apply(&mut env, &entering);
        assert!(env
            .values()
            .all(|v| !v.contains("outer-secret") && !v.contains("outer-token")));
        let inside = env.clone();
        // Leaving: the export back, but for its secrets, which the caller fills in.
        let (changes, notes, found) = for_leave(&|n| inside.get(n).cloned());
        assert!(notes.is_empty(), "{notes:?}");
        let found = found.expect("the export set aside");
        assert_eq!(found.profile, "staging");
        assert!(found.had(SECRET_ACCESS_KEY, "outer-secret") && !found.had(SECRET_ACCESS_KEY, "x"));
        apply(&mut env, &changes);
        env.insert(SECRET_ACCESS_KEY.into(), "outer-secret".into());
        env.insert(SESSION_TOKEN.into(), "outer-token".into());
        assert_eq!(env, exported);
        // `unset` from inside the project: back to before the export.
        let (changes, _) = for_unset(&|n| inside.get(n).cloned(), false);
        let mut undone = inside.clone();
        apply(&mut undone, &changes);
        assert_eq!(undone, start);
        assert_eq!(Outer::decode(&found.encode()), Some(found));
        assert_eq!(Outer::decode("zz 00 00"), None);
    }
}
