//! Sources at the start of a chain that are no long-term keys: each gives
//! the chain's first credentials itself (the first step of
//! `resolve::steps`, cached like any session), and roles chain on top.
//!
//! - `sso`: IAM Identity Center (`sso_session` / `sso_start_url`).
//! - `login`: `aws login` sessions (`login_session`), issue #23.

pub mod login;
pub mod sso;
pub mod sso_login;
pub mod sso_token;

use anyhow::{bail, Result};

use crate::config::{Plan, SourceKind};
use crate::creds::Credentials;
use crate::resolve::Options;

/// The first credentials of `plan`, whose source is no keys. Called under
/// the cache's lock for the source's step, when the cache has none.
pub fn credentials(plan: &Plan, opts: &Options) -> Result<Credentials> {
    match &plan.source.kind {
        SourceKind::Sso(sso) => sso::role_credentials(plan, sso, opts),
        SourceKind::Login { .. } => login::for_plan(
            plan,
            opts,
            crate::resolve::DEFAULT_MIN_TTL,
            &crate::cache::Cache::open(),
        ),
        SourceKind::Static | SourceKind::Environment => bail!(
            "profile `{}`: its source holds keys, not a sign-in of its own",
            plan.source.profile
        ),
    }
}
