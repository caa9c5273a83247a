//! mfaenv reads profiles as botocore does: a differential test over
//! generated config and credentials files (tests/support/botocore_diff.py
//! generates them from a seed, reads each with botocore and with `mfaenv
//! plan --json`, and compares). Every difference must be one docs/configuration.md's
//! "Differences from botocore" names; the driver applies exactly that
//! difference to botocore's side and the case must then agree.
//!
//! Rerun one case (its files and both readings are printed):
//!
//! ```sh
//! MFAENV_DIFF_CASE=613 cargo test --test botocore_diff -- --nocapture
//! ```
//!
//! `MFAENV_DIFF_SEED` and `MFAENV_DIFF_COUNT` change the seed and the number of cases.

mod support;

use std::process::Command;

/// Every deliberate difference (docs/configuration.md) the generated cases must show:
/// a kind the seed no longer reaches would go untested unnoticed.
const DELIBERATE: &[&str] = &[
    "bom",
    "chained-clamp",
    "duplicate",
    "empty",
    "nested",
    "region-from-source",
    "secret-only",
    "vault",
];

#[test]
fn mfaenv_reads_profiles_as_botocore_does() {
    let Some(python) = support::require_venv_bin("python") else {
        return;
    };
    let seed = std::env::var("MFAENV_DIFF_SEED").unwrap_or_else(|_| "mfaenv-11".into());
    let count = std::env::var("MFAENV_DIFF_COUNT").unwrap_or_else(|_| "2000".into());
    let case = std::env::var("MFAENV_DIFF_CASE").ok();
    let mut cmd = Command::new(python);
    cmd.arg(support::root().join("tests/support/botocore_diff.py"))
        .arg("--mfaenv")
        .arg(support::mfaenv_bin())
        .args(["--seed", &seed, "--count", &count]);
    if let Some(case) = &case {
        cmd.args(["--case", case]);
    }
    let out = cmd.output().expect("run botocore_diff.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if case.is_some() {
        println!("{stdout}");
    }
    let last = stdout.lines().last().unwrap_or_default();
    let summary: serde_json::Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("no summary ({e}): {stdout}\nstderr: {stderr}"));
    let failures = summary["failures"].as_array().expect("failures");
    assert!(
        failures.is_empty() && out.status.success(),
        "mfaenv and botocore differ (seed {seed}; rerun one with MFAENV_DIFF_CASE=N): {}\nstderr: {stderr}",
        serde_json::to_string_pretty(&summary["failures"]).unwrap()
    );
    if case.is_some() {
        return;
    }
    let cases = summary["cases"].as_u64().unwrap_or_default();
    assert!(cases >= 2000 || count != "2000", "{summary}");
    // Not vacuous: most cases agree as read, hundreds resolve a chain, and
    // every error kind of the chain rules comes up.
    assert!(
        summary["agreed"].as_u64().unwrap_or_default() * 2 > cases,
        "{summary}"
    );
    assert!(
        summary["resolved"].as_u64().unwrap_or_default() * 5 > cases,
        "{summary}"
    );
    for error in [
        "both",
        "loop",
        "missing-source",
        "no-source",
        "no-credentials",
        "parse",
        "partial",
        "unknown-profile",
    ] {
        assert!(
            summary["errors"][error].as_u64().unwrap_or_default() > 0,
            "no `{error}` case: {summary}"
        );
    }
    for kind in DELIBERATE {
        assert!(
            summary["deliberate"][kind].as_u64().unwrap_or_default() > 0,
            "no case showed the deliberate difference `{kind}`: {summary}"
        );
    }
    let kinds = summary["deliberate"].as_object().expect("deliberate");
    for kind in kinds.keys() {
        assert!(
            DELIBERATE.contains(&kind.as_str()),
            "an unlisted deliberate difference `{kind}`: {summary}"
        );
    }
}
