//! Loading `~/.aws/config` and `~/.aws/credentials` into profiles, merged the
//! way the AWS CLI merges them: the credentials file wins for a key both set.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::index::Read;
use super::ini::{self, IniFile, Section};
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
    /// `[sso-session NAME]` sections of the config file, by NAME.
    sso_sessions: BTreeMap<String, Profile>,
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
        Ok(Profiles::of_read(config, credentials))
    }

    /// What [`Profiles::load`] gives for the profiles `name` needs (itself,
    /// its source profiles, what it includes), the other profiles left out:
    /// from the sections `config::index` remembered when the files are
    /// unchanged, else from the files read whole (and remembered).
    pub fn load_for(name: &str) -> Result<Profiles, ConfigError> {
        crate::harden::protect();
        let paths = [Profiles::config_path(), Profiles::credentials_path()];
        // Small files are read whole faster than an index is looked up.
        let size: u64 = paths
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        // Only a cache directory that is there already: a run that fails on
        // the config (or never gets a session) leaves none behind.
        let cache = match crate::cache::default_dir() {
            Some(dir) if size >= super::index::WORTH_IT && dir.is_dir() => {
                crate::cache::Cache::open()
            }
            _ => crate::cache::Cache::none(),
        };
        if let Some(profiles) = super::index::load(&cache, name, paths.clone()) {
            return Ok(profiles);
        }
        let [config_path, credentials_path] = paths;
        let files = [read(&config_path)?, read(&credentials_path)?];
        super::index::remember(&cache, name, &files);
        let [config, credentials] = files;
        Ok(Profiles::of_read(config, credentials))
    }

    fn of_read(config: Read, credentials: Read) -> Profiles {
        let mut profiles = Profiles::from_files(config.file, credentials.file);
        profiles.read_index = true;
        profiles.missing = [config.meta, credentials.meta]
            .into_iter()
            .zip([&profiles.config_path, &profiles.credentials_path])
            .filter(|(meta, _)| meta.is_none())
            .map(|(_, path)| path.clone())
            .filter(|p| matches!(std::fs::symlink_metadata(p), Err(e) if e.kind() == std::io::ErrorKind::NotFound))
            .collect();
        profiles
    }

    /// The profiles of one chain, as `config::index` read them.
    pub(crate) fn of_chain(
        config_path: PathBuf,
        credentials_path: PathBuf,
        profiles: BTreeMap<String, Profile>,
    ) -> Profiles {
        Profiles {
            config_path,
            credentials_path,
            profiles,
            read_index: true,
            ..Profiles::default()
        }
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
            if config_profile_name(&section.header).is_none()
                && !section.header.contains(' ')
                && section.header != DEFAULTS
            {
                profiles.bare.insert(
                    section.header.clone(),
                    Location {
                        path: config.path.clone(),
                        line: section.line,
                    },
                );
            }
        }
        for (name, parts) in parts(&config, &credentials) {
            let profile = build(&name, &parts);
            profiles.profiles.insert(name, profile);
        }
        profiles.sso_sessions = sso_sessions(&config);
        profiles
    }

    /// The `[sso-session NAME]` section `name`, as a profile of its keys.
    pub fn sso_session(&self, name: &str) -> Option<&Profile> {
        self.sso_sessions.get(name)
    }

    /// The names of the `[sso-session NAME]` sections.
    pub fn sso_session_names(&self) -> impl Iterator<Item = &str> {
        self.sso_sessions.keys().map(String::as_str)
    }

    /// [`Profiles::from_texts`] as if read from `paths`.
    #[cfg(test)]
    pub(crate) fn from_texts_at(paths: &[PathBuf; 2], config: &str, credentials: &str) -> Profiles {
        Profiles::from_files(
            ini::parse(&paths[0], config).unwrap(),
            ini::parse(&paths[1], credentials).unwrap(),
        )
    }

    /// Parses two texts; for tests and tools.
    pub fn from_texts(config: &str, credentials: &str) -> Result<Profiles, ConfigError> {
        Ok(Profiles::from_files(
            ini::parse(Path::new("config"), config)?,
            ini::parse(Path::new("credentials"), credentials)?,
        ))
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

/// One section of a profile, over its file's `[DEFAULT]` sections (as
/// configparser gives every section of a file its `[DEFAULT]` keys).
pub(crate) struct Part<'a> {
    pub path: &'a Path,
    pub defaults: Vec<&'a Section>,
    pub section: &'a Section,
}

/// The profile a section header names in its file, if any.
type NameOf = dyn Fn(&str) -> Option<String>;

/// Every profile of the two files and what it is made of, in merge order:
/// the config file's sections first (the later spelling of a name only,
/// see [`last_spelling`]), then the credentials file's, whose keys win.
pub(crate) fn parts<'a>(
    config: &'a IniFile,
    credentials: &'a IniFile,
) -> BTreeMap<String, Vec<Part<'a>>> {
    let mut parts: BTreeMap<String, Vec<Part<'a>>> = BTreeMap::new();
    let config_sections = last_spelling(config);
    let credentials_sections: Vec<&Section> = credentials.sections.iter().collect();
    let files: [(&Path, &[&Section], &NameOf); 2] = [
        (&config.path, &config_sections, &config_profile_name),
        (&credentials.path, &credentials_sections, &|header: &str| {
            (header != DEFAULTS).then(|| header.to_string())
        }),
    ];
    for (path, sections, name_of) in files {
        let defaults: Vec<&Section> = sections
            .iter()
            .copied()
            .filter(|s| s.header == DEFAULTS)
            .collect();
        for section in sections {
            if let Some(name) = name_of(&section.header) {
                parts.entry(name).or_default().push(Part {
                    path,
                    defaults: defaults.clone(),
                    section,
                });
            }
        }
    }
    parts
}

/// The profile `name` made of `parts`: later keys win.
pub(crate) fn build(name: &str, parts: &[Part<'_>]) -> Profile {
    let mut profile = Profile {
        name: name.to_string(),
        ..Profile::default()
    };
    for part in parts {
        profile.location.get_or_insert_with(|| Location {
            path: part.path.to_path_buf(),
            line: part.section.line,
        });
        let defaults = part.defaults.iter().flat_map(|s| &s.entries);
        for entry in defaults.chain(&part.section.entries) {
            profile.values.insert(
                entry.key.clone(),
                Value {
                    value: entry.value.clone(),
                    location: Location {
                        path: part.path.to_path_buf(),
                        line: entry.line,
                    },
                },
            );
        }
    }
    profile
}

/// The key `profile` includes another profile with, if any.
fn include_key(profile: &Profile) -> Option<&'static str> {
    ["include_profile", "parent_profile"]
        .into_iter()
        .find(|key| profile.get(key).is_some())
}

/// configparser's `[DEFAULT]` section: no profile, but its keys are every
/// other section's (of the same file) unless the section sets them.
const DEFAULTS: &str = "DEFAULT";

/// `[default]` and `[profile NAME]` are profiles in the config file; other
/// sections (`[sso-session x]`, `[services x]`, bare `[x]`) are not. As in
/// botocore, a header that starts with `profile` is split as a shell would
/// split it (Python's `shlex`), and names a profile when it is two words:
/// `[profile  prod ]` and `[profile 'my prod']` are `prod` and `my prod`.
fn config_profile_name(header: &str) -> Option<String> {
    if header == "default" {
        return Some(header.to_string());
    }
    if !header.starts_with("profile") {
        return None;
    }
    match <[String; 2]>::try_from(shlex_split(header)?) {
        Ok([_, name]) => Some(name),
        Err(_) => None,
    }
}

/// `[sso-session NAME]` sections, split as botocore splits them (as
/// profile headers are: two shell words); the later of two wins, over the
/// file's `[DEFAULT]` keys as configparser gives them.
fn sso_sessions(config: &IniFile) -> BTreeMap<String, Profile> {
    let defaults: Vec<&Section> = config
        .sections
        .iter()
        .filter(|s| s.header == DEFAULTS)
        .collect();
    let mut found: BTreeMap<String, Vec<Part<'_>>> = BTreeMap::new();
    for section in &config.sections {
        if !section.header.starts_with("sso-session") {
            continue;
        }
        if let Some(Ok([_, name])) = shlex_split(&section.header).map(<[String; 2]>::try_from) {
            found.insert(
                name,
                vec![Part {
                    path: &config.path,
                    defaults: defaults.clone(),
                    section,
                }],
            );
        }
    }
    found
        .into_iter()
        .map(|(name, parts)| {
            let profile = build(&name, &parts);
            (name, profile)
        })
        .collect()
}

/// The config file's profile sections, as botocore keeps them: when two
/// differently written headers name the same profile (`[default]` and
/// `[profile default]`, `[profile a]` and `[profile  a]`), the later one
/// replaces the earlier. (The same header written twice is merged: botocore
/// refuses that file, and mfaenv reads it as the Go SDK does.)
fn last_spelling(config: &IniFile) -> Vec<&Section> {
    let mut last: BTreeMap<String, &str> = BTreeMap::new();
    for section in &config.sections {
        if let Some(name) = config_profile_name(&section.header) {
            last.insert(name, &section.header);
        }
    }
    config
        .sections
        .iter()
        .filter(|s| match config_profile_name(&s.header) {
            Some(name) => last.get(&name) == Some(&s.header.as_str()),
            None => true,
        })
        .collect()
}

/// Python's `shlex.split` (POSIX mode, no comments); `None` where it raises
/// (an open quote, a `\` at the end).
fn shlex_split(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => {
                            let next = chars.next()?;
                            if next != '\\' && next != '"' {
                                w.push('\\');
                            }
                            w.push(next);
                        }
                        c => w.push(c),
                    }
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
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
fn read(path: &Path) -> Result<Read, ConfigError> {
    match crate::files::read_bounded(path, MAX_FILE) {
        Ok((bytes, meta)) => Ok(Read {
            file: ini::parse_bytes(path, &zeroize::Zeroizing::new(bytes))?,
            meta: Some(meta),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Read {
            file: IniFile {
                path: path.to_path_buf(),
                sections: Vec::new(),
                bom: 0,
            },
            meta: None,
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

    /// botocore's reading of section names (tests/botocore_diff.rs checks
    /// them against botocore itself).
    #[test]
    fn section_names_as_botocore_splits_them() {
        let p = Profiles::from_texts(
            "[DEFAULT]\nregion = d\n[profile 'my prod']\nk = 1\n[profileX x]\n[profile a b]\n[profile c]\nold = 1\n[profile  c ]\nnew = 1\n[default]\nold = 1\n[profile default]\nnew = 1\n",
            "[DEFAULT]\naws_session_token = t\n[base]\nx = 1\n",
        )
        .unwrap();
        assert_eq!(p.get("my prod").unwrap().get("k"), Some("1"));
        assert_eq!(p.get("my prod").unwrap().get("region"), Some("d"));
        assert!(p.get("x").is_some() && p.get("a b").is_none() && p.get("DEFAULT").is_none());
        for name in ["c", "default"] {
            let c = p.get(name).unwrap();
            assert_eq!((c.get("old"), c.get("new")), (None, Some("1")), "{name}");
        }
        assert_eq!(p.get("base").unwrap().get("aws_session_token"), Some("t"));
        assert_eq!(
            shlex_split("a \"b\\\" \\x\" 'c d'e\\ f"),
            Some(vec!["a".into(), "b\" \\x".into(), "c de f".into()])
        );
        assert_eq!(shlex_split("profile 'open"), None);
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
