//! AWS SDKs written by others, as consumers of what mfaenv hands out: the Go
//! SDKs v1 and v2 (Debian's packages, built offline here), the JS SDK v3
//! (npm, `scripts/js-sdk`) and botocore (the test venv). Each one is a small
//! program that reads a profile (or the environment) the way that SDK reads
//! any, calls GetCallerIdentity at `MFAENV_TEST_ENDPOINT` (loopback only) and
//! prints `{"region": …, "arn": …}`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// A consumer's program, its arguments and what it needs in its environment.
pub struct Program {
    pub path: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// One SDK consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sdk {
    GoV1,
    GoV2,
    Js,
    Botocore,
}

impl Sdk {
    pub const ALL: [Sdk; 4] = [Sdk::GoV1, Sdk::GoV2, Sdk::Js, Sdk::Botocore];

    /// The program and its arguments (the profile last, when given); `None`
    /// when the SDK is missing and [`super::may_skip`] allows a skip.
    pub fn command(self, profile: Option<&str>) -> Option<Program> {
        let (program, mut args, env) = match self {
            Sdk::GoV1 => (go_program("v1")?, vec![], vec![]),
            Sdk::GoV2 => (go_program("v2")?, vec![], vec![]),
            Sdk::Js => {
                let node = super::require_program("node")?;
                let modules = js_sdk()?;
                let script = super::root().join("tests/support/js_sts.cjs");
                (
                    node,
                    vec![script.display().to_string()],
                    vec![("NODE_PATH".to_string(), modules.display().to_string())],
                )
            }
            Sdk::Botocore => {
                let python = super::require_venv_bin("python")?;
                (python, vec!["-c".to_string(), BOTOCORE.to_string()], vec![])
            }
        };
        args.extend(profile.map(str::to_string));
        Some(Program {
            path: program,
            args,
            env,
        })
    }
}

/// botocore's own reading of a profile (argv[1], else the environment).
const BOTOCORE: &str = r#"
import json, os, sys, botocore.session
s = botocore.session.Session(profile=sys.argv[1] if len(sys.argv) > 1 else None)
c = s.create_client("sts", endpoint_url=os.environ["MFAENV_TEST_ENDPOINT"])
print(json.dumps({"region": c.meta.region_name, "arn": c.get_caller_identity()["Arn"]}))
"#;

/// The JS SDK's node_modules: `$MFAENV_TEST_JS_SDK`, else where
/// scripts/js-sdk/install puts it.
pub fn js_sdk() -> Option<PathBuf> {
    let dir = std::env::var_os("MFAENV_TEST_JS_SDK")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::root().join("target/js-sdk/node_modules"));
    if dir.join("@aws-sdk/client-sts").is_dir() {
        return Some(dir);
    }
    if super::may_skip() {
        eprintln!("SKIP: the JS SDK is not installed in {}", dir.display());
        return None;
    }
    panic!(
        "the JS SDK is missing in {}; run scripts/test (scripts/js-sdk/install)",
        dir.display()
    );
}

/// Debian's source of each Go SDK, under GOPATH=/usr/share/gocode.
const GOPATH: &str = "/usr/share/gocode";

fn go_source(version: &str) -> &'static str {
    match version {
        "v1" => "github.com/aws/aws-sdk-go",
        _ => "github.com/aws/aws-sdk-go-v2",
    }
}

/// `tests/support/go/VERSION/main.go`, built once (offline, GO111MODULE=off)
/// into target/go-bin; the build cache stays in target/go-cache.
fn go_program(version: &str) -> Option<PathBuf> {
    static BUILT: Mutex<()> = Mutex::new(());
    let go = super::require_program("go")?;
    let sdk = PathBuf::from(GOPATH).join("src").join(go_source(version));
    if !sdk.is_dir() {
        let package = match version {
            "v1" => "golang-github-aws-aws-sdk-go-dev",
            _ => "golang-github-aws-aws-sdk-go-v2-dev",
        };
        if super::may_skip() {
            eprintln!("SKIP: {} is missing", sdk.display());
            return None;
        }
        panic!("{} is missing: apt-get install {package}", sdk.display());
    }
    let target = super::root().join("target");
    let binary = target.join("go-bin").join(format!("sts-{version}"));
    let source = super::root().join(format!("tests/support/go/{version}/main.go"));
    let _one_build = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let fresh = |b: &PathBuf| {
        let built = std::fs::metadata(b).and_then(|m| m.modified()).ok();
        let written = std::fs::metadata(&source).and_then(|m| m.modified()).ok();
        matches!((built, written), (Some(b), Some(w)) if b >= w)
    };
    if !fresh(&binary) {
        // Built under a temporary name and renamed: another test process
        // building at the same time never runs a half-written binary.
        let partial = binary.with_extension(format!("partial-{}", std::process::id()));
        std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
        let out = Command::new(go)
            .args(["build", "-o"])
            .arg(&partial)
            .arg(&source)
            .env("GO111MODULE", "off")
            .env("GOPATH", GOPATH)
            .env("GOCACHE", target.join("go-cache"))
            .env("GOFLAGS", "")
            .env("CGO_ENABLED", "0")
            .output()
            .expect("run go build");
        assert!(
            out.status.success(),
            "go build {}: {}",
            source.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&partial, &binary).unwrap();
    }
    Some(binary)
}
