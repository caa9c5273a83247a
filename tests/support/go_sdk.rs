//! The AWS SDK for Go v2 from Debian (`golang-go`,
//! `golang-github-aws-aws-sdk-go-v2-dev`) as a real client: builds
//! tests/support/go_sts/ offline (`GO111MODULE=off GOPATH=/usr/share/gocode`)
//! once per test binary, into target/go-sts/.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where Debian puts the SDK's sources.
const GOPATH: &str = "/usr/share/gocode";

/// The built `go_sts` program, or `None` when [`super::may_skip`] allows a
/// skip of a missing Go or SDK (else that panics, saying what to install).
pub fn go_sts() -> Option<PathBuf> {
    let go = super::require_program("go")?;
    let sdk = Path::new(GOPATH).join("src/github.com/aws/aws-sdk-go-v2/service/sts");
    if !sdk.is_dir() {
        if super::may_skip() {
            eprintln!("SKIP: the Go SDK v2 is not in {GOPATH}");
            return None;
        }
        panic!(
            "{}",
            super::missing_program("golang-github-aws-aws-sdk-go-v2-dev")
        );
    }
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    Some(BUILT.get_or_init(|| build(&go)).clone())
}

fn build(go: &Path) -> PathBuf {
    let out_dir = super::root().join("target/go-sts");
    std::fs::create_dir_all(&out_dir).expect("mkdir target/go-sts");
    let program = out_dir.join("go_sts");
    // Another test binary may build at the same time: each writes its own file.
    let partial = out_dir.join(format!("go_sts.{}", std::process::id()));
    let out = Command::new(go)
        .args(["build", "-o"])
        .arg(&partial)
        .arg(".")
        .current_dir(super::root().join("tests/support/go_sts"))
        .env("GO111MODULE", "off")
        .env("GOPATH", GOPATH)
        .env("GOCACHE", out_dir.join("cache"))
        .env("GOFLAGS", "")
        .output()
        .expect("run go build");
    assert!(
        out.status.success(),
        "go build of tests/support/go_sts failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&partial, &program).expect("rename go_sts");
    program
}
