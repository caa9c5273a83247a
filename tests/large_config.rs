//! A config of 10,000 profiles (as organisations with hundreds of accounts
//! generate) costs about what one of four does: after a run that read the
//! files whole, the next run for the same profile reads only the sections
//! of its chain (src/config/index.rs). Counted under strace, in bytes read
//! from the config file, not timed (the times are in scripts/bench). Any
//! change to the file — even one of the same size with its mtime set back —
//! is seen.

mod support;

use std::path::Path;

use support::sandbox::{moto_sandbox, Sandbox, CONFIG};

/// 10,000 role profiles after the sandbox's own (about 1.9 MB).
fn large_config() -> String {
    let mut text = CONFIG.to_string();
    for i in 0..10_000 {
        text.push_str(&format!(
            "\n[profile acct-{i:05}]\nsource_profile = base\nrole_arn = arn:aws:iam::{}:role/OrganizationAccountAccessRole\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nregion = us-west-2\noutput = json\n",
            100_000_000_000u64 + i
        ));
    }
    text
}

/// Bytes mfaenv read from the config file in one run of `args`.
fn config_bytes_read(sb: &Sandbox, strace: &Path, args: &[&str]) -> (String, usize) {
    let log = sb.home().join("strace.log");
    let _ = std::fs::remove_file(&log);
    let out = sb
        .command(strace)
        .args(["-qq", "-e", "trace=openat,read,pread64,close", "-o"])
        .arg(&log)
        .arg(support::mfaenv_bin())
        .args(args)
        .output()
        .expect("run strace");
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    let config = sb.config().display().to_string();
    let mut fd: Option<String> = None;
    let mut bytes = 0;
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        if line.starts_with("openat(") && line.contains(&format!("\"{config}\"")) {
            fd = line.rsplit(" = ").next().map(str::to_string);
        } else if let Some(fd) = &fd {
            let call = ["read(", "pread64("]
                .iter()
                .any(|c| line.starts_with(&format!("{c}{fd},")));
            if call {
                bytes += line
                    .rsplit(" = ")
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
            }
        }
        if fd
            .as_ref()
            .is_some_and(|fd| line.starts_with(&format!("close({fd})")))
        {
            fd = None;
        }
    }
    (String::from_utf8(out.stdout).unwrap(), bytes)
}

/// The profile indexes in the cache directory.
fn indexes(sb: &Sandbox) -> usize {
    std::fs::read_dir(sb.cache_dir())
        .map(|r| {
            r.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "index"))
                .count()
        })
        .unwrap_or(0)
}

/// A small config is read whole: that is faster than an index lookup.
#[test]
fn a_small_config_gets_no_index() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    sb.ok(&["login", "-t", "123456", "prod"]);
    sb.ok(&["export", "--shell", "json", "prod"]);
    assert_eq!(indexes(&sb), 0);
}

#[test]
fn the_next_run_reads_only_the_chain_of_a_large_config() {
    let Some(strace) = support::require_program("strace") else {
        return;
    };
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    let config = large_config();
    std::fs::write(sb.config(), &config).unwrap();
    sb.ok(&["login", "-t", "123456", "prod"]);
    let (first, whole) = config_bytes_read(&sb, &strace, &["export", "--shell", "json", "prod"]);
    let (second, chain) = config_bytes_read(&sb, &strace, &["export", "--shell", "json", "prod"]);
    assert_eq!(first, second, "the same credentials either way");
    assert!(
        chain < 4096,
        "read {chain} bytes of the config with the index"
    );
    // Without the index the file is read whole.
    for entry in std::fs::read_dir(sb.cache_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "index") {
            std::fs::remove_file(path).unwrap();
        }
    }
    let (_, again) = config_bytes_read(&sb, &strace, &["export", "--shell", "json", "prod"]);
    assert!(
        again >= config.len(),
        "read {again} of {} bytes",
        config.len()
    );
    assert!(whole <= config.len() + 1, "{whole}");
}

/// An edit of the same size with the old mtime put back is still seen
/// (ctime cannot be set back), and so is a file replaced by another.
#[test]
fn an_edit_is_seen_even_with_the_same_size_and_mtime() {
    let Some((_moto, sb)) = moto_sandbox() else {
        return;
    };
    std::fs::write(sb.config(), large_config()).unwrap();
    sb.ok(&["login", "-t", "123456", "prod"]);
    let region = |sb: &Sandbox| {
        let json: serde_json::Value =
            serde_json::from_str(&sb.ok(&["export", "--shell", "json", "prod"])).unwrap();
        json["AWS_REGION"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(region(&sb), "us-west-2");
    assert_eq!(region(&sb), "us-west-2", "from the index");
    assert_eq!(indexes(&sb), 1);
    let before = std::fs::metadata(sb.config()).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(sb.config()).unwrap();
    std::fs::write(sb.config(), text.replace("us-west-2", "us-west-1")).unwrap();
    let file = std::fs::File::options()
        .write(true)
        .open(sb.config())
        .unwrap();
    file.set_modified(before).unwrap();
    drop(file);
    assert_eq!(region(&sb), "us-west-1");
    // Replaced (a new inode) by a copy of the original: read again.
    let copy = sb.home().join("config.new");
    std::fs::write(&copy, &text).unwrap();
    std::fs::rename(&copy, sb.config()).unwrap();
    assert_eq!(region(&sb), "us-west-2");
}
