//! AWS shared config: the two files, their profiles, and how a profile
//! resolves into a plan of STS calls.

pub mod edit;
mod ini;
mod plan;
mod profiles;

use std::path::PathBuf;

pub use plan::{resolve, MfaMode, Plan, RoleStep, Source, SourceKind, MAX_CHAIN};
pub use profiles::{Location, Profile, Profiles};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("profile `{name}` not found in {files}{}", suggest(.close))]
    UnknownProfile {
        name: String,
        files: String,
        close: Vec<String>,
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

fn suggest(close: &[String]) -> String {
    match close {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!("; did you mean one of: {}?", many.join(", ")),
    }
}
