//! Reading files that someone else may have put there, and cleaning up the
//! temporary files of a run that was killed.
//!
//! [`read_bounded`] is how the hook path reads every file (`.mfaenv`, the AWS
//! config files): regular files only, checked on the open handle, opened
//! with `O_NONBLOCK` so a FIFO cannot block, and never more than a cap. A
//! FIFO or `/dev/zero` in a parent directory must not hang the prompt or
//! fill memory.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How old a temporary file of ours must be before it counts as left behind
/// by a killed run (a live write takes milliseconds).
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// The current user's id (0 where there are no uids).
pub fn uid() -> u32 {
    #[cfg(unix)]
    // SAFETY: getuid has no preconditions and cannot fail.
    return unsafe { libc::getuid() };
    #[cfg(not(unix))]
    0
}

/// What a file is, for a message: `a FIFO`, `a directory`, ….
pub fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symlink"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

fn refused(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

/// A size for messages: `64 KiB`, `16 MiB`.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

/// Reads `path` (following symlinks) when it is a regular file of at most
/// `cap` bytes; returns its bytes and the open handle's metadata. A FIFO, a
/// device, a directory or a larger file is an `InvalidData` error that says
/// what it is; a missing file is `NotFound` as usual.
pub fn read_bounded(path: &Path, cap: u64) -> std::io::Result<(Vec<u8>, Metadata)> {
    // Looked at before opening, so a device is never even opened.
    check_regular(&std::fs::metadata(path)?, cap)?;
    let file = open_nonblocking(path)?;
    // And again on the handle: the path may have changed in between.
    let meta = file.metadata()?;
    check_regular(&meta, cap)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(refused(format!("larger than {}", size(cap))));
    }
    Ok((bytes, meta))
}

fn check_regular(meta: &Metadata, cap: u64) -> std::io::Result<()> {
    if !meta.is_file() {
        return Err(refused(format!("not a regular file ({})", kind(meta))));
    }
    if meta.len() > cap {
        return Err(refused(format!("larger than {}", size(cap))));
    }
    Ok(())
}

/// Opens `path` for reading without blocking on a FIFO or device.
pub fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Whether `name` is one `tempfile` made with `prefix`: the prefix, then six
/// random letters or digits. Nothing else of a user's is ever matched.
fn is_temp_name(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Deletes the temporary files `prefix`XXXXXX in `dir` that a killed run
/// left behind: regular files of ours, untouched for [`STALE_AFTER`]. They
/// may hold sessions or keys. Returns the ones that could not be deleted.
pub fn remove_stale_temps(dir: &Path, prefix: &str) -> Vec<(PathBuf, std::io::Error)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let now = SystemTime::now();
    let mut failed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(|n| is_temp_name(n, prefix)) {
            continue;
        }
        // `DirEntry::metadata` does not follow symlinks.
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || !is_ours(&meta) {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age >= STALE_AFTER);
        if old {
            if let Err(e) = std::fs::remove_file(entry.path()) {
                failed.push((entry.path(), e));
            }
        }
    }
    failed
}

fn is_ours(meta: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.uid() == uid()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_only_and_capped() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_bounded(&file, 5).unwrap().0, b"12345");
        let err = read_bounded(&file, 4).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        let err = read_bounded(tmp.path(), 5).unwrap_err().to_string();
        assert_eq!(err, "not a regular file (a directory)");
        let err = read_bounded(Path::new("/dev/zero"), 5)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "not a regular file (a character device)");
        let missing = read_bounded(&tmp.path().join("none"), 5).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn temp_names() {
        assert!(is_temp_name(".tmp-a1B2c3", ".tmp-"));
        assert!(!is_temp_name(".tmp-a1B2c", ".tmp-"));
        assert!(!is_temp_name(".tmp-a1B2c3d", ".tmp-"));
        assert!(!is_temp_name(".mfaenv-notes", ".mfaenv-"));
        assert!(!is_temp_name(".tmp-a1B2.3", ".tmp-"));
    }
}
