//! Where the profiles of a command are in the AWS files, remembered in the
//! cache directory, so that a config of 10,000 profiles (1.5 MB) costs
//! about what one of four does: the next run for the same profile reads
//! only the sections its chain is made of (`pread`), not the whole file.
//!
//! One index file per profile name and pair of paths (`KEY.index`, 0600,
//! written atomically, no secret: byte ranges, lines and headers). It is
//! trusted only while both files are exactly as they were when it was
//! written: same device, inode, size, mtime and ctime (to the nanosecond;
//! ctime cannot be set back by `touch`). Anything else — a changed or
//! replaced file, a range that does not parse back to the section it names,
//! a profile the chain needs that is not in it — and the files are read
//! whole, as without an index, and the index written again. An index is
//! written only after the whole files were read without error, so the
//! errors botocore would give for a line anywhere in them are given too.

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ini::{self, IniFile, Section};
use super::profiles::{build, parts, Part, Profiles};
use crate::cache::{Cache, Key};

/// From this many bytes in the two files on, the index is used: below it
/// (a few hundred profiles) reading them whole costs less than a lookup.
pub(crate) const WORTH_IT: u64 = 64 << 10;

/// Changes whenever what the index holds or how it is read changes.
const VERSION: u32 = 1;

/// The most profiles one chain may bring in (source profiles and includes);
/// more, and nothing is remembered.
const MAX_NAMES: usize = 32;

/// What identifies one version of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

#[cfg(unix)]
fn stamp(meta: &Metadata) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    Some(Stamp {
        dev: meta.dev(),
        ino: meta.ino(),
        size: meta.size(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
        ctime: (meta.ctime(), meta.ctime_nsec()),
    })
}

#[cfg(not(unix))]
fn stamp(_: &Metadata) -> Option<Stamp> {
    None // no ctime to trust: always read the files whole
}

#[derive(Serialize, Deserialize)]
struct FileIndex {
    path: PathBuf,
    /// `None`: the file did not exist.
    stamp: Option<Stamp>,
    bom: usize,
}

/// A section's bytes (after the BOM), first line and header.
#[derive(Serialize, Deserialize)]
struct Span {
    start: usize,
    end: usize,
    line: usize,
    header: String,
}

#[derive(Serialize, Deserialize)]
struct IndexedPart {
    /// 0: the config file, 1: the credentials file.
    file: usize,
    defaults: Vec<Span>,
    section: Span,
}

#[derive(Serialize, Deserialize)]
struct Index {
    version: u32,
    files: [FileIndex; 2],
    profiles: BTreeMap<String, Vec<IndexedPart>>,
}

fn key(name: &str, paths: &[PathBuf; 2]) -> Key {
    let config = paths[0].to_string_lossy();
    let credentials = paths[1].to_string_lossy();
    Key::new(&["profiles-index", name, &config, &credentials])
}

/// One of the two AWS files, read whole, with what identified it when read.
pub(crate) struct Read {
    pub file: IniFile,
    pub meta: Option<Metadata>,
}

/// Remembers where the profiles `name`'s chain needs are in `files`.
pub(crate) fn remember(cache: &Cache, name: &str, files: &[Read; 2]) {
    let paths = [files[0].file.path.clone(), files[1].file.path.clone()];
    let all = parts(&files[0].file, &files[1].file);
    let Some(names) = chain_names(name, &all) else {
        return;
    };
    let span = |s: &Section| Span {
        start: s.span.start,
        end: s.span.end,
        line: s.line,
        header: s.header.clone(),
    };
    let profiles = names
        .iter()
        .map(|n| {
            let indexed = all[n.as_str()]
                .iter()
                .map(|part| IndexedPart {
                    file: usize::from(part.path != paths[0]),
                    defaults: part.defaults.iter().map(|s| span(s)).collect(),
                    section: span(part.section),
                })
                .collect();
            (n.clone(), indexed)
        })
        .collect();
    let files = [0, 1].map(|i| FileIndex {
        path: paths[i].clone(),
        stamp: files[i].meta.as_ref().and_then(stamp),
        bom: files[i].file.bom,
    });
    if files.iter().any(|f| f.path.exists() && f.stamp.is_none()) {
        return;
    }
    let index = Index {
        version: VERSION,
        files,
        profiles,
    };
    if let Ok(bytes) = serde_json::to_vec(&index) {
        cache.write_index(&key(name, &paths), &bytes);
    }
}

/// `name` and every profile it brings in (`source_profile`,
/// `include_profile`, `parent_profile`, recursively); `None` when one is
/// missing (an error the whole files must explain) or there are too many.
fn chain_names(name: &str, all: &BTreeMap<String, Vec<Part<'_>>>) -> Option<Vec<String>> {
    let mut names = vec![name.to_string()];
    let mut next = 0;
    while next < names.len() {
        let profile = build(&names[next], all.get(&names[next])?);
        // `[sso-session]` sections are not indexed: such a chain reads the
        // files whole.
        if profile.get("sso_session").is_some() {
            return None;
        }
        for key in ["source_profile", "include_profile", "parent_profile"] {
            if let Some(other) = profile.get(key) {
                if !names.iter().any(|n| n == other) {
                    names.push(other.to_string());
                }
            }
        }
        if names.len() > MAX_NAMES {
            return None;
        }
        next += 1;
    }
    Some(names)
}

/// The profiles `name`'s chain needs, from the index and the sections it
/// names; `None` when the index is missing or cannot be trusted.
pub(crate) fn load(cache: &Cache, name: &str, paths: [PathBuf; 2]) -> Option<Profiles> {
    let bytes = cache.read_index(&key(name, &paths))?;
    let index: Index = serde_json::from_slice(&bytes).ok()?;
    if index.version != VERSION || index.files.iter().map(|f| &f.path).ne(paths.iter()) {
        return None;
    }
    if !index.profiles.contains_key(name) {
        return None;
    }
    let mut sections: [Vec<(usize, Section)>; 2] = [Vec::new(), Vec::new()];
    for (i, file) in index.files.iter().enumerate() {
        let spans: Vec<&Span> = index
            .profiles
            .values()
            .flatten()
            .filter(|p| p.file == i)
            .flat_map(|p| p.defaults.iter().chain([&p.section]))
            .collect();
        sections[i] = read_spans(file, &spans)?;
    }
    let find = |file: usize, span: &Span| {
        sections
            .get(file)?
            .iter()
            .find(|(start, _)| *start == span.start)
            .map(|(_, s)| s)
    };
    let mut profiles = BTreeMap::new();
    for (profile, indexed) in &index.profiles {
        let mut made = Vec::new();
        for part in indexed {
            let defaults = part
                .defaults
                .iter()
                .map(|d| find(part.file, d))
                .collect::<Option<Vec<_>>>()?;
            made.push(Part {
                path: &index.files.get(part.file)?.path,
                defaults,
                section: find(part.file, &part.section)?,
            });
        }
        profiles.insert(profile.clone(), build(profile, &made));
    }
    let [config, credentials] = paths;
    Some(Profiles::of_chain(config, credentials, profiles))
}

/// The sections at `spans` of `file`, checked: the file must be the one the
/// index was written for, and each range must parse to the one section it
/// names.
fn read_spans(file: &FileIndex, spans: &[&Span]) -> Option<Vec<(usize, Section)>> {
    let Some(want) = &file.stamp else {
        // It did not exist: it must still not exist.
        return std::fs::symlink_metadata(&file.path)
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            .then(Vec::new);
    };
    if stamp(&std::fs::metadata(&file.path).ok()?).as_ref() != Some(want) {
        return None;
    }
    let handle = crate::files::open_nonblocking(&file.path).ok()?;
    let meta = handle.metadata().ok()?;
    if !meta.is_file() || stamp(&meta).as_ref() != Some(want) {
        return None;
    }
    let mut out = Vec::new();
    for span in spans {
        if out.iter().any(|(start, _)| *start == span.start) {
            continue;
        }
        let section = read_span(&handle, file, span, want.size)?;
        out.push((span.start, section));
    }
    Some(out)
}

#[cfg(unix)]
fn read_span(handle: &std::fs::File, file: &FileIndex, span: &Span, size: u64) -> Option<Section> {
    use std::os::unix::fs::FileExt;
    let at = file.bom.checked_add(span.start)?;
    let len = span.end.checked_sub(span.start)?;
    if (at.checked_add(len)? as u64) > size || span.line == 0 {
        return None;
    }
    let mut bytes = zeroize::Zeroizing::new(vec![0; len]);
    handle.read_exact_at(&mut bytes, at as u64).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let parsed = ini::parse(&file.path, text).ok()?;
    let [section]: [Section; 1] = parsed.sections.try_into().ok()?;
    if section.header != span.header || section.line != 1 {
        return None;
    }
    Some(section.moved_to(span.line))
}

#[cfg(not(unix))]
fn read_span(_: &std::fs::File, _: &FileIndex, _: &Span, _: u64) -> Option<Section> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\u{feff}# top\r\n[DEFAULT]\r\noutput = json\r\n[profile base]\r\nregion = us-east-1\r\n\r\n[profile prod]\r\nsource_profile = base\r\nrole_arn = arn:aws:iam::1:role/a\r\ns3 =\r\n  max = 4\r\n\r\n    more\r\n[profile  prod]\r\nsource_profile = base\r\nrole_arn = arn:aws:iam::1:role/b\r\ninclude_profile = tmpl\r\n[profile tmpl]\r\nregion = eu-west-1\r\n[profile other]\r\nregion = x\r\n[default]\r\nregion = y\r\n";
    const CREDENTIALS: &str = "[DEFAULT]\naws_session_token = \n[base]\naws_access_key_id = AKIA1\n[base]\naws_secret_access_key = s1\n[prod]\nregion = from-credentials\n";

    /// Every profile read back through the index is the one the whole
    /// files give: values, lines, files.
    #[test]
    fn the_index_reads_what_the_whole_files_give() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        crate::cache::Cache::open_at_for_tests(&cache_dir);
        let cache = Cache::at(cache_dir);
        let paths = [dir.path().join("config"), dir.path().join("credentials")];
        std::fs::write(&paths[0], CONFIG).unwrap();
        std::fs::write(&paths[1], CREDENTIALS).unwrap();
        let read = |p: &PathBuf| {
            let (bytes, meta) = crate::files::read_bounded(p, 1 << 20).unwrap();
            Read {
                file: ini::parse_bytes(p, &bytes).unwrap(),
                meta: Some(meta),
            }
        };
        let whole = Profiles::from_texts_at(&paths, CONFIG, CREDENTIALS);
        for name in ["prod", "base", "tmpl", "default", "other"] {
            let files = [read(&paths[0]), read(&paths[1])];
            remember(&cache, name, &files);
            let indexed = load(&cache, name, paths.clone()).expect("the index is used");
            for n in indexed.names() {
                assert_eq!(
                    format!("{:?}", indexed.get(n)),
                    format!("{:?}", whole.get(n)),
                    "{name}: {n}"
                );
            }
            assert!(indexed.get(name).is_some());
        }
        let names: Vec<String> = load(&cache, "prod", paths.clone())
            .unwrap()
            .names()
            .map(str::to_string)
            .collect();
        assert_eq!(names, ["base", "prod", "tmpl"], "the chain only");
        // One byte changed (same size): the index is no longer trusted.
        std::fs::write(&paths[0], CONFIG.replace("eu-west-1", "eu-west-2")).unwrap();
        assert!(load(&cache, "prod", paths.clone()).is_none());
    }
}
