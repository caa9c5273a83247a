//! Loading `~/.aws/config` and `~/.aws/credentials` into profiles, merged the
//! way the AWS CLI merges them: the credentials file wins for a key both set.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::ini::{self, IniFile};
use super::{ConfigError, Misplaced};

/// Where a value was written: file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

#[derive(Debug, Clone)]
pub struct Value {
    pub value: String,
    pub location: Location,
}

// Values of the credentials file are long-term secrets: wiped on drop.
impl Drop for Value {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.value);
    }
}

#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub name: String,
    /// Where the profile's section starts (the config file's when it has one).
    pub location: Option<Location>,
    values: BTreeMap<String, Value>,
}

impl Profile {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|v| v.value.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn value(&self, key: &str) -> Option<&Value> {
        self.values.get(key).filter(|v| !v.value.is_empty())
    }

    /// The location of `key`, else of the section.
    pub fn location_of(&self, key: &str) -> Location {
        self.values
            .get(key)
            .map(|v| v.location.clone())
            .or_else(|| self.location.clone())
            .unwrap_or_else(|| Location {
                path: PathBuf::from("<config>"),
                line: 0,
            })
    }
}

/// Keys `include_profile` does not copy: keys stay in the section that holds
/// them (aws-vault keeps them in its keyring, never in the config), and the
/// include keys themselves are followed, not inherited.
const NOT_INCLUDED: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "include_profile",
    "parent_profile",
];

#[derive(Debug, Default)]
pub struct Profiles {
    pub config_path: PathBuf,
    pub credentials_path: PathBuf,
    profiles: BTreeMap<String, Profile>,
    /// Which of the two files do not exist (for the "not found" message).
    missing: Vec<PathBuf>,
    /// Bare `[NAME]` sections of the config file, which are no profile there.
    bare: BTreeMap<String, Location>,
    /// The key store's index, read on first use ([`Profiles::stored_key`]).
    index: std::cell::OnceCell<crate::keystore::index::Index>,
    /// Whether the index is read from the data dir (`load`) or empty (texts).
    read_index: bool,
}

impl Profiles {
    /// Reads the files named by `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`,
    /// else `~/.aws/config` / `~/.aws/credentials`. A missing file is empty.
    pub fn load() -> Result<Profiles, ConfigError> {
        // The credentials file holds long-term keys: no core dump from here on.
        crate::harden::protect();
        let config_path = Profiles::config_path();
        let credentials_path = Profiles::credentials_path();
        let config = read(&config_path)?;
        let credentials = read(&credentials_path)?;
        let mut profiles = Profiles::from_files(config, credentials);
        profiles.read_index = true;
        profiles.missing = [config_path, credentials_path]
            .into_iter()
            .filter(|p| matches!(std::fs::symlink_metadata(p), Err(e) if e.kind() == std::io::ErrorKind::NotFound))
            .collect();
        Ok(profiles)
    }

    /// The credentials file mfaenv reads (and `write` edits).
    pub fn credentials_path() -> PathBuf {
        file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials")
    }

    /// The config file mfaenv reads.
    pub fn config_path() -> PathBuf {
        file_path("AWS_CONFIG_FILE", "config")
    }

    pub fn from_files(config: IniFile, credentials: IniFile) -> Profiles {
        let mut profiles = Profiles {
            config_path: config.path.clone(),
            credentials_path: credentials.path.clone(),
            ..Profiles::default()
        };
        for section in &config.sections {
            if config_profile_name(&section.header).is_none() && !section.header.contains(' ') {
                profiles.bare.insert(
                    section.header.clone(),
                    Location {
                        path: config.path.clone(),
                        line: section.line,
                    },
                );
            }
        }
        profiles.merge(&config, config_profile_name);
        profiles.merge(&credentials, |header| Some(header.to_string()));
        profiles
    }

    /// Parses two texts; for tests and tools.
    pub fn from_texts(config: &str, credentials: &str) -> Result<Profiles, ConfigError> {
        Ok(Profiles::from_files(
            ini::parse(Path::new("config"), config)?,
            ini::parse(Path::new("credentials"), credentials)?,
        ))
    }

    fn merge(&mut self, file: &IniFile, name_of: impl Fn(&str) -> Option<String>) {
        for section in &file.sections {
            let Some(name) = name_of(&section.header) else {
                continue;
            };
            let profile = self
                .profiles
                .entry(name.clone())
                .or_insert_with(|| Profile {
                    name,
                    ..Profile::default()
                });
            profile.location.get_or_insert_with(|| Location {
                path: file.path.clone(),
                line: section.line,
            });
            for entry in &section.entries {
                let location = Location {
                    path: file.path.clone(),
                    line: entry.line,
                };
                profile.values.insert(
                    entry.key.clone(),
                    Value {
                        value: entry.value.clone(),
                        location,
                    },
                );
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// Profile `name`'s entry in the key store's index (not the secret).
    /// The index is read on the first call only: profiles whose keys are
    /// in the files never cost a read of it.
    pub fn stored_key(&self, name: &str) -> Option<&crate::keystore::index::Entry> {
        self.index
            .get_or_init(|| {
                if self.read_index {
                    crate::keystore::index::load()
                } else {
                    Default::default()
                }
            })
            .keys
            .get(name)
    }

    /// These profiles with `index` as the key store's index (for tests and tools).
    pub fn with_index(self, index: crate::keystore::index::Index) -> Profiles {
        let cell = std::cell::OnceCell::new();
        let _ = cell.set(index);
        Profiles {
            index: cell,
            ..self
        }
    }

    /// `profile` with what aws-vault's `include_profile` adds: every key of
    /// the included profile (and of what it includes, recursively) that
    /// `profile` does not set itself, except keys ([`NOT_INCLUDED`]).
    /// `parent_profile` is aws-vault's older, deprecated name, read only when
    /// `include_profile` is absent. Unlike aws-vault, a profile without
    /// either does not fall back to `[default]` (botocore does not either).
    pub fn with_includes<'a>(&self, profile: &'a Profile) -> Result<Cow<'a, Profile>, ConfigError> {
        if include_key(profile).is_none() {
            return Ok(Cow::Borrowed(profile));
        }
        let mut merged = profile.clone();
        let mut names = vec![profile.name.clone()];
        let mut current: &Profile = profile;
        while let Some(key) = include_key(current) {
            let next = current.get(key).unwrap_or_default();
            if names.iter().any(|n| n == next) {
                names.push(next.to_string());
                return Err(ConfigError::IncludeCycle {
                    location: current.location_of(key),
                    names,
                });
            }
            let included = self.get(next).ok_or_else(|| ConfigError::Invalid {
                location: current.location_of(key),
                message: format!("profile `{}`: {key} `{next}` does not exist", current.name),
            })?;
            names.push(next.to_string());
            for (name, value) in &included.values {
                if !NOT_INCLUDED.contains(&name.as_str()) && merged.get(name).is_none() {
                    merged.values.insert(name.clone(), value.clone());
                }
            }
            current = included;
        }
        Ok(Cow::Owned(merged))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// The profile, or an error that lists close matches.
    pub fn require(&self, name: &str) -> Result<&Profile, ConfigError> {
        self.get(name).ok_or_else(|| ConfigError::UnknownProfile {
            name: name.to_string(),
            files: self.files_looked_in(),
            close: self.close_matches(name),
            misplaced: self.misplaced(name),
        })
    }

    /// `A or B`, saying which of them does not exist.
    fn files_looked_in(&self) -> String {
        let files = format!(
            "{} or {}",
            self.config_path.display(),
            self.credentials_path.display()
        );
        match self.missing.as_slice() {
            [] => files,
            [one] => format!("{files} ({} does not exist)", one.display()),
            _ => format!("{files} (neither file exists)"),
        }
    }

    /// `[NAME]` in the config file or `[profile NAME]` in the credentials file.
    fn misplaced(&self, name: &str) -> Option<Box<Misplaced>> {
        if let Some(location) = self.bare.get(name) {
            return Some(Box::new(Misplaced {
                location: location.clone(),
                written: name.to_string(),
                meant: format!("profile {name}"),
            }));
        }
        let written = format!("profile {name}");
        let profile = self.profiles.get(&written)?;
        let location = profile
            .location
            .clone()
            .filter(|l| l.path == self.credentials_path)?;
        Some(Box::new(Misplaced {
            location,
            written,
            meant: name.to_string(),
        }))
    }

    fn close_matches(&self, name: &str) -> Vec<String> {
        let lower = name.to_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .names()
            .map(|n| (strsim::jaro_winkler(&lower, &n.to_lowercase()), n))
            .filter(|(score, n)| *score >= 0.8 || n.to_lowercase().contains(&lower))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored
            .into_iter()
            .take(3)
            .map(|(_, n)| n.to_string())
            .collect()
    }
}

/// The key `profile` includes another profile with, if any.
fn include_key(profile: &Profile) -> Option<&'static str> {
    ["include_profile", "parent_profile"]
        .into_iter()
        .find(|key| profile.get(key).is_some())
}

/// `[default]` and `[profile NAME]` are profiles in the config file; other
/// sections (`[sso-session x]`, `[services x]`, bare `[x]`) are not.
fn config_profile_name(header: &str) -> Option<String> {
    if header == "default" {
        return Some(header.to_string());
    }
    let rest = header.strip_prefix("profile")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let name = rest.trim();
    (!name.is_empty()).then(|| name.to_string())
}

fn file_path(var: &str, file: &str) -> PathBuf {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(path) => expand_tilde(Path::new(&path)),
        None => home().join(".aws").join(file),
    }
}

pub(crate) fn home() -> PathBuf {
    dirs::home_dir().unwrap_or_else(|| PathBuf::from("/"))
}

fn expand_tilde(path: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => home().join(rest),
        Err(_) => path.to_path_buf(),
    }
}

/// The largest AWS config or credentials file read: configs of 10,000
/// profiles (1.5 MB) are real; a cap keeps a planted `/dev/zero` or a huge
/// file from filling memory on the prompt.
pub const MAX_FILE: u64 = 16 << 20;

/// Reads one of the AWS files: regular files only, never blocking (a FIFO
/// there must not hang the prompt), at most [`MAX_FILE`].
fn read(path: &Path) -> Result<IniFile, ConfigError> {
    match crate::files::read_bounded(path, MAX_FILE) {
        Ok((bytes, _)) => ini::parse_bytes(path, &zeroize::Zeroizing::new(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IniFile {
            path: path.to_path_buf(),
            sections: Vec::new(),
        }),
        Err(error) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_file_wins_and_sections_map() {
        let p = Profiles::from_texts(
            "[default]\nregion = eu-west-1\n[profile dev]\nregion = us-east-1\naws_access_key_id = FROMCONFIG\n[sso-session x]\nsso_region = y\n[bare]\nregion = z\n",
            "[dev]\naws_access_key_id = FROMCREDS\n[profile odd]\nx = 1\n",
        )
        .unwrap();
        assert_eq!(
            p.get("dev").unwrap().get("aws_access_key_id"),
            Some("FROMCREDS")
        );
        assert_eq!(p.get("dev").unwrap().get("region"), Some("us-east-1"));
        assert_eq!(p.get("default").unwrap().get("region"), Some("eu-west-1"));
        assert!(p.get("x").is_none() && p.get("bare").is_none());
        // In the credentials file the section name is the profile name, as written.
        assert!(p.get("profile odd").is_some());
    }

    #[test]
    fn section_names_are_read_as_written() {
        // configparser (botocore) keeps the spaces: `[ base]` is not `base`,
        // so session keys written there must not merge into base's keys.
        let p = Profiles::from_texts(
            "[ default ]\nregion = x\n[profile  prod ]\nregion = y\n",
            "[base]\naws_access_key_id = AKIA\n[ base]\naws_access_key_id = ASIA\n",
        )
        .unwrap();
        assert_eq!(
            p.get("base").unwrap().get("aws_access_key_id"),
            Some("AKIA")
        );
        assert_eq!(
            p.get(" base").unwrap().get("aws_access_key_id"),
            Some("ASIA")
        );
        assert!(p.get("default").is_none());
        assert_eq!(p.get("prod").unwrap().get("region"), Some("y"));
    }

    #[test]
    fn unknown_profile_suggests() {
        let p =
            Profiles::from_texts("[profile prod]\n[profile prod-eu]\n[profile dev]\n", "").unwrap();
        let e = p.require("prdo").unwrap_err().to_string();
        assert!(e.contains("did you mean") && e.contains("prod"), "{e}");
    }

    /// `[GEHC-x]` in the config file is no profile (the AWS CLI ignores it
    /// too): the error says how to spell it, instead of a "did you mean".
    #[test]
    fn a_bare_config_section_gets_the_profile_prefix_hint() {
        let p =
            Profiles::from_texts("[GEHC-x]\nregion = us-east-1\n[profile GEHC-y]\n", "").unwrap();
        let e = p.require("GEHC-x").unwrap_err().to_string();
        assert!(e.contains("config:1 has `[GEHC-x]`"), "{e}");
        assert!(e.contains("`[profile GEHC-x]`"), "{e}");
        assert!(!e.contains("did you mean"), "{e}");
        let p = Profiles::from_texts("", "[profile odd]\naws_access_key_id = A\n").unwrap();
        let e = p.require("odd").unwrap_err().to_string();
        assert!(
            e.contains("credentials:1 has `[profile odd]`") && e.contains("`[odd]`"),
            "{e}"
        );
    }

    #[test]
    fn location_points_at_key() {
        let p = Profiles::from_texts("[profile a]\n\nrole_arn = x\n", "").unwrap();
        assert_eq!(
            p.get("a").unwrap().location_of("role_arn").to_string(),
            "config:3"
        );
    }
}
