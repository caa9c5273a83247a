//! The only module that talks to AWS. `sts` builds the client from the
//! parsed profile (never the SDK's default loader, which probes EC2 metadata
//! and drops `mfa_serial`) and makes the calls; `error` turns every failure
//! into one [`StsError`]; `iam` holds the IAM calls of `setup` and
//! `rotate`, made by `query` (SigV4-signed Query requests, no SDK, answers
//! read by `xml`); `endpoint` says where the calls go; `http` is the plain
//! HTTPS client (same stack as STS's) for everything but STS; `federation` is
//! the console's sign-in (`mfaenv console`).
//!
//! Nothing here starts unless a command really calls AWS: the runtime and
//! the HTTP client are built in [`Sts::new`].

pub mod dpop;
pub mod endpoint;
pub mod error;
pub mod federation;
pub mod http;
pub mod iam;
mod query;
pub mod signin;
pub mod sso;
pub mod sso_oidc;
pub mod sts;
mod xml;

pub use error::StsError;
pub use iam::{AccessKeyInfo, Identity, MfaDevice, NewKey};
pub use sts::{started, AssumeRole, Mfa, Sts, MAX_ANSWER_BYTES, MAX_ATTEMPTS};
