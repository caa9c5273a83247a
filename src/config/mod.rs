//! AWS shared config: the two files, their profiles, and how a profile
//! resolves into a plan of STS calls.

pub mod edit;
mod index;
mod ini;
mod plan;
mod profiles;

use std::path::PathBuf;

pub use plan::{
    resolve, KeyOrigin, MfaMode, Plan, RoleStep, Source, SourceKind, SsoSource, MAX_CHAIN, SSO_KEYS,
};
pub use profiles::{Location, Profile, Profiles};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    // `error`, not `source`: the cause is said here, once (as a `source`
    // it would print again in the `{:#}` chain).
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("profile `{name}` not found in {files}{}", suggest(.close, .misplaced))]
    UnknownProfile {
        name: String,
        /// The files looked in, and which of them do not exist.
        files: String,
        close: Vec<String>,
        /// A section that would be this profile in the other file's spelling.
        misplaced: Option<Box<Misplaced>>,
    },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    /// `location`: the `source_profile` line that closes the cycle.
    #[error("{location}: source_profile cycle: {}", .names.join(" -> "))]
    Cycle {
        location: Location,
        names: Vec<String>,
    },
    /// `location`: the `include_profile` (or `parent_profile`) line that closes the cycle.
    #[error("{location}: include_profile cycle: {}", .names.join(" -> "))]
    IncludeCycle {
        location: Location,
        names: Vec<String>,
    },
    /// `location`: the `source_profile` line that goes one too deep.
    #[error(
        "{location}: profile `{name}`: source_profile chain is deeper than {MAX_CHAIN} profiles"
    )]
    TooDeep { location: Location, name: String },
    #[error("{0}")]
    Unsupported(String),
}

/// `[NAME]` in the config file, or `[profile NAME]` in the credentials
/// file: the section the user meant, spelled as the other file spells it.
#[derive(Debug, Clone)]
pub struct Misplaced {
    pub location: Location,
    pub written: String,
    pub meant: String,
}

fn suggest(close: &[String], misplaced: &Option<Box<Misplaced>>) -> String {
    if let Some(m) = misplaced {
        return format!(
            "; {} has `[{}]`: that file needs `[{}]`",
            m.location, m.written, m.meant
        );
    }
    match close {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!("; did you mean one of: {}?", many.join(", ")),
    }
}
