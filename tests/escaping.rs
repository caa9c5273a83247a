//! Every value mfaenv prints survives the real shell byte for byte.
//!
//! Hostile strings (every kind of quote, `\`, `$`, backticks, `$(…)`, control
//! characters, non-ASCII, leading `-`, empty...) are rendered with
//! `mfaenv::shell::render` and read back by the real consumer:
//! - bash, zsh, fish: the shell evaluates the code, then a child's `env -0`
//!   must hold every value exactly, unset variables must be gone, the shell
//!   must exit 0 with nothing on stdout/stderr, and no value may run as code
//!   (fragments like `$(touch pwned)` would create `pwned` in the shell's cwd).
//! - pwsh: not installable here, so its tree-sitter grammar (test venv,
//!   tests/support/pwsh_parse.py) checks the script is ASCII and parses with
//!   each value as one verbatim string or a `('…' + [char]0x…)` chain, read
//!   back with PowerShell's own quote rule.
//! - json: serde_json; dotenv: python-dotenv (test venv) and a strict reader of
//!   docker compose's documented `.env` rules, which must both read back every
//!   value mfaenv writes; a value mfaenv refuses must be one no form holds.
//!
//! Each proptest case is a batch of 1..=80 values run by one shell process
//! (and one request to one python process for pwsh), so the default 128 cases
//! check about 5,000 values per format in a few seconds each. bash and zsh
//! also run with options an rc file may set, and every shell in both the
//! C.UTF-8 and C locales. A longer run (proptest reads `PROPTEST_CASES`;
//! 2,500 cases, about 100,000 values per format, took 7 minutes on 2 cores):
//!
//! ```sh
//! PROPTEST_CASES=2500 cargo test --test escaping -- --test-threads=2
//! ```
//!
//! `MFAENV_TEST_VENV` may point at another venv with tree-sitter-powershell.
//!
//! A failure prints the shrunk batch and records its seed in
//! `tests/escaping.proptest-regressions` (commit it: later runs replay it first).

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use mfaenv::shell::{render, try_render, Change, Format};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use support::shells::{eval_then_env, RealShell};

// ---------------------------------------------------------------- strategies

fn config() -> ProptestConfig {
    // The proptest! macro lets PROPTEST_CASES etc. override these.
    ProptestConfig {
        cases: 128,
        max_shrink_iters: 2048,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// Quote characters of every shell, including the typographic ones that
/// PowerShell treats as quotes (U+2018..U+201B single, U+201C..U+201E double)
/// and look-alikes that must stay plain.
#[rustfmt::skip]
const QUOTES: &[&str] = &[
    "'", "\"", "`", "\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}", "\u{201C}", "\u{201D}",
    "\u{201E}", "''", "\"\"", "\u{2019}\u{2019}", "'\u{2019}", "\u{00B4}", "\u{2032}", "\u{FF07}",
    "\u{02BC}",
];

/// Syntax that means something to some shell. `touch pwned` is the canary.
#[rustfmt::skip]
const SYNTAX: &[&str] = &[
    "\\", "\\\\", "\\'", "\\\"", "\\`", "\\$", "\\n", "\\u0041", "\\x41", "$", "$x", "${x}",
    "$HOME", "$(touch pwned)", "`touch pwned`", "(touch pwned)", "$((1+1))", "$'\\n'",
    "'; touch pwned; '", "\"; touch pwned; \"", "\\'; touch pwned; echo \\'", "%", "%PATH%", "%%",
    "!", "!!", "!-1", "!$", "^", "~", "*", "?", "[a]", "{a,b}", "#", ";", "&", "&&", "|", "||",
    "<", ">", ">&2", "=", "-", "--", "-e", "-n", " ", "  ", "@", "@(", "@'", "'@", "@\"", "\"@",
    "$env:PATH", "${env:PATH}", "`n", "`$", "`'", "$true", "{", "}", "(", ")", ":", "::", "/",
    "+",
];

/// Whitespace and control characters (never NUL: env values cannot hold it).
#[rustfmt::skip]
const CONTROL: &[&str] = &[
    "\n", "\r", "\r\n", "\t", "\u{B}", "\u{C}", "\u{1}", "\u{1B}", "\u{1B}[31m", "\u{7F}",
    "\u{85}", "\u{9B}", "\u{A0}",
];

/// Non-ASCII, including characters fish keeps for itself (U+F600.., U+FDD0..)
/// and noncharacters.
#[rustfmt::skip]
const UNICODE: &[&str] = &[
    "é", "ß", "日本", "🦀", "👩\u{200D}👩\u{200D}👧", "e\u{301}", "\u{FEFF}", "\u{200B}", "\u{2028}",
    "\u{2029}", "\u{202E}", "\u{FFFD}", "\u{FFFE}", "\u{FFFF}", "\u{10FFFF}", "\u{FDD0}",
    "\u{FDEF}", "\u{F600}", "\u{F6FF}", "\u{E000}", "\u{F8FF}",
];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(QUOTES).prop_map(String::from),
        4 => prop::sample::select(SYNTAX).prop_map(String::from),
        2 => prop::sample::select(CONTROL).prop_map(String::from),
        2 => prop::sample::select(UNICODE).prop_map(String::from),
        2 => prop::char::range('\u{1}', '\u{1F}').prop_map(String::from),
        3 => prop::char::range('\u{1}', char::MAX).prop_map(String::from),
        4 => "[A-Za-z0-9+/=]{1,8}",
    ]
}

/// One hostile value: mostly a mix of pieces, sometimes a leading `-` or a
/// trailing `\`, sometimes empty or shaped like a real secret.
fn value() -> impl Strategy<Value = String> {
    let mix = || prop::collection::vec(piece(), 0..16).prop_map(|p| p.concat());
    prop_oneof![
        1 => Just(String::new()),
        1 => "[A-Za-z0-9+/]{40}",
        1 => mix().prop_map(|v| format!("-{v}")),
        1 => mix().prop_map(|v| format!("{v}\\")),
        1 => mix().prop_map(|v| format!("{v}\\\\")),
        12 => mix(),
    ]
}

fn batch() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(value(), 1..=80)
}

/// Fixed values that would run `touch pwned` if any quoting let them out.
const CANARIES: &[&str] = &[
    "$(touch pwned)",
    "`touch pwned`",
    "(touch pwned)",
    "'$(touch pwned)'",
    "'; touch pwned; '",
    "'\\''; touch pwned; echo '",
    "\\'; touch pwned; echo \\'",
    "\\\\'; touch pwned; echo '",
    "x\\",
    "\"; touch pwned; \"",
    "'\ntouch pwned\n'",
    "\\'\ntouch pwned\n\\'",
    "'\"$(touch pwned)\"'",
    "${IFS}touch${IFS}pwned",
    "\u{2019}; touch pwned; \u{2019}",
    "\\\n",
];

// ---------------------------------------------------------------- the changes

/// Variables in the environment before the eval: the `MFAENV_U_*` are unset
/// by the changes, `MFAENV_KEEP` must survive.
const BEFORE: &[(&str, &str)] = &[
    ("MFAENV_U_0", "old"),
    ("MFAENV_U_1", "old"),
    ("MFAENV_U_2", "old"),
    ("MFAENV_KEEP", "kept"),
];

/// Changes for a batch (sets `MFAENV_T_<i>`, unsets at the start, middle and
/// end, a set-then-unset, an unset of a variable that never existed) and the
/// environment expected afterwards (`None`: absent).
fn plan(values: &[String]) -> (Vec<Change>, BTreeMap<String, Option<String>>) {
    let mut changes = vec![Change::Unset("MFAENV_U_0".into())];
    let mut expected = BTreeMap::new();
    for (i, value) in values.iter().enumerate() {
        changes.push(Change::Set(format!("MFAENV_T_{i}"), value.clone()));
        expected.insert(format!("MFAENV_T_{i}"), Some(value.clone()));
        if i == values.len() / 2 {
            changes.push(Change::Unset("MFAENV_U_1".into()));
        }
    }
    changes.push(Change::Set("MFAENV_S".into(), values[0].clone()));
    changes.push(Change::Unset("MFAENV_S".into()));
    changes.push(Change::Unset("MFAENV_U_2".into()));
    changes.push(Change::Unset("MFAENV_NEVER_SET".into()));
    for name in [
        "MFAENV_U_0",
        "MFAENV_U_1",
        "MFAENV_U_2",
        "MFAENV_S",
        "MFAENV_NEVER_SET",
    ] {
        expected.insert(name.into(), None);
    }
    expected.insert("MFAENV_KEEP".into(), Some("kept".into()));
    (changes, expected)
}

// ---------------------------------------------------------------- real shells

/// Where the code runs: a locale, and options a user's rc file may have set
/// before the eval.
#[derive(Clone, Copy, Debug)]
struct Setup {
    locale: &'static str,
    options: &'static str,
}

const LOCALES: &[&str] = &["C.UTF-8", "C"];

fn options(shell: RealShell) -> &'static [&'static str] {
    match shell {
        RealShell::Bash => &["", "set -o posix\n", "shopt -s extglob\n"],
        // RC_QUOTES makes `''` a quote inside quotes; zsh.rs relies on `'\''` not caring.
        RealShell::Zsh => &[
            "",
            "setopt RC_QUOTES\n",
            "unsetopt MULTIBYTE\n",
            "emulate sh\n",
        ],
        RealShell::Fish => &[""],
    }
}

fn setups(shell: RealShell) -> impl Iterator<Item = Setup> {
    LOCALES.iter().flat_map(move |&locale| {
        options(shell)
            .iter()
            .map(move |&options| Setup { locale, options })
    })
}

fn round_trip(
    shell: RealShell,
    program: &Path,
    values: &[String],
    setup: Setup,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let (changes, expected) = plan(values);
    let code = render(shell.format(), &changes);
    let code = format!("{}{code}", setup.options);
    let mut env = BEFORE.to_vec();
    env.push(("LC_ALL", setup.locale));
    let run = eval_then_env(shell, program, &code, dir.path(), &env);
    prop_assert!(
        !dir.path().join("pwned").exists(),
        "{shell:?} ran a value as code ({setup:?})"
    );
    prop_assert!(run.clean(), "{shell:?} ({setup:?}): {}", run.describe());
    for (name, want) in &expected {
        let got = run.env.get(name);
        match want {
            Some(want) => prop_assert!(
                got.map(Vec::as_slice) == Some(want.as_bytes()),
                "{shell:?} ({setup:?}): {name} should be {want:?}, is {:?}\nrendered: {:?}",
                got.map(|g| String::from_utf8_lossy(g)),
                render(shell.format(), &[Change::Set(name.clone(), want.clone())])
            ),
            None => prop_assert!(got.is_none(), "{shell:?} ({setup:?}): {name} was not unset"),
        }
    }
    let extra: Vec<_> = run
        .env
        .keys()
        .filter(|k| k.starts_with("MFAENV_") && !expected.contains_key(*k))
        .collect();
    prop_assert!(
        extra.is_empty(),
        "{shell:?}: unexpected variables {extra:?}"
    );
    Ok(())
}

fn shell_property(shell: RealShell) {
    let Some(program) = shell.require() else {
        return;
    };
    let setups: Vec<Setup> = setups(shell).collect();
    proptest!(config(), |(values in batch(), setup in prop::sample::select(setups.clone()))| {
        round_trip(shell, &program, &values, setup)?;
    });
}

#[test]
fn bash_round_trip() {
    shell_property(RealShell::Bash);
}

#[test]
fn zsh_round_trip() {
    shell_property(RealShell::Zsh);
}

#[test]
fn fish_round_trip() {
    shell_property(RealShell::Fish);
}

#[test]
fn canaries_never_run() {
    let values: Vec<String> = CANARIES.iter().map(|v| v.to_string()).collect();
    for shell in RealShell::ALL {
        let Some(program) = shell.require() else {
            continue;
        };
        for setup in setups(shell) {
            round_trip(shell, &program, &values, setup).unwrap();
        }
    }
}

/// The canary check itself works: code that does run `touch pwned` is seen.
#[test]
fn harness_sees_injection() {
    for shell in RealShell::ALL {
        let Some(program) = shell.require() else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let code = match shell {
            RealShell::Fish => "set -gx X (touch pwned)\n",
            _ => "export X=$(touch pwned)\n",
        };
        let run = eval_then_env(shell, &program, code, dir.path(), &[]);
        assert!(run.clean(), "{shell:?}: {}", run.describe());
        assert!(
            dir.path().join("pwned").exists(),
            "{shell:?}: canary not seen"
        );
        assert_eq!(run.env.get("X").map(Vec::as_slice), Some(&b""[..]));
    }
}

// ---------------------------------------------------------------- PowerShell

/// Checks the parse of a rendered pwsh batch against its changes.
fn check_pwsh(
    changes: &[Change],
    code: &str,
    parsed: &support::pwsh::PwshParse,
) -> Result<(), TestCaseError> {
    use support::pwsh::Statement;
    prop_assert!(!parsed.has_error, "parse errors {:?}", parsed.errors);
    // ASCII only: what PowerShell decodes with a console code page.
    prop_assert!(code.is_ascii(), "not ASCII: {code:?}");
    // A set is one assignment; an unset is `if (Test-Path …) { Remove-Item … }`: two commands.
    let expected = changes
        .iter()
        .map(|c| if matches!(c, Change::Unset(_)) { 2 } else { 1 })
        .sum::<usize>();
    prop_assert_eq!(
        parsed.statements.len(),
        expected,
        "statements of {:?}",
        code
    );
    let mut statements = parsed.statements.iter();
    for change in changes {
        match change {
            Change::Set(name, value) => {
                let Some(Statement::Assignment(a)) = statements.next() else {
                    prop_assert!(false, "{change:?} is not an assignment");
                    unreachable!()
                };
                prop_assert_eq!(a.depth, 0);
                prop_assert_eq!(&a.variable, &format!("${{env:{name}}}"));
                prop_assert_eq!(
                    a.variable_types.last().map(String::as_str),
                    Some("braced_variable")
                );
                let got = a.value();
                prop_assert!(
                    got.as_ref() == Ok(value),
                    "{name} should be {value:?}, reads as {got:?}\nrendered: {:?}",
                    a.text
                );
            }
            Change::Unset(name) => {
                let path = format!("env:/{name}");
                for command in ["Test-Path", "Remove-Item"] {
                    let Some(Statement::Command(c)) = statements.next() else {
                        prop_assert!(false, "{change:?} lacks {command}");
                        unreachable!()
                    };
                    prop_assert_eq!(&c.name, command);
                    let args: Vec<(&str, &str)> = c
                        .args
                        .iter()
                        .map(|a| (a.kind.as_str(), a.text.as_str()))
                        .collect();
                    prop_assert_eq!(
                        args,
                        vec![
                            ("command_parameter", "-LiteralPath"),
                            ("generic_token", path.as_str()),
                        ]
                    );
                }
            }
        }
    }
    Ok(())
}

#[test]
fn pwsh_round_trip() {
    if !support::pwsh::available() {
        return;
    }
    proptest!(config(), |(values in batch())| {
        let (changes, _) = plan(&values);
        let code = render(Format::Pwsh, &changes);
        let parsed = support::pwsh::parse(&code);
        check_pwsh(&changes, &code, &parsed)?;
    });
}

#[test]
fn pwsh_canaries_and_each_value_alone() {
    if !support::pwsh::available() {
        return;
    }
    // Every canary and quote piece as a one-line script of its own.
    let values: Vec<String> = CANARIES
        .iter()
        .chain(QUOTES)
        .chain(SYNTAX)
        .chain(CONTROL)
        .chain(UNICODE)
        .map(|v| v.to_string())
        .chain([String::new()])
        .collect();
    let scripts: Vec<(Vec<Change>, String)> = values
        .iter()
        .map(|v| {
            let changes = vec![Change::Set("MFAENV_T".into(), v.clone())];
            let code = render(Format::Pwsh, &changes);
            (changes, code)
        })
        .collect();
    let codes: Vec<&str> = scripts.iter().map(|(_, code)| code.as_str()).collect();
    for ((changes, code), parsed) in scripts.iter().zip(support::pwsh::parse_many(&codes)) {
        check_pwsh(changes, code, &parsed).unwrap();
    }
}

/// Every character whose UTF-8 form holds a byte that a Windows code page
/// reads as a single quote (0x82 is U+201A, 0x91 U+2018, 0x92 U+2019 in
/// cp1250..cp1258), the quotes themselves, and some beyond the BMP: the
/// output is ASCII, parses, and reads back exactly.
#[test]
fn pwsh_code_page_traps() {
    if !support::pwsh::available() {
        return;
    }
    let traps = ('\u{80}'..=char::MAX).filter(|c| {
        let mut buf = [0; 4];
        c.encode_utf8(&mut buf)
            .bytes()
            .any(|b| matches!(b, 0x82 | 0x91 | 0x92))
    });
    let extra = [
        '\u{2018}',
        '\u{2019}',
        '\u{201A}',
        '\u{201B}',
        '\u{1F980}',
        '\u{10FFFF}',
    ];
    let values: Vec<String> = traps
        .take(4000)
        .chain(extra)
        .map(|c| format!("C:\\Users\\{c}'{c}"))
        .collect();
    let batches: Vec<(Vec<Change>, String)> = values
        .chunks(500)
        .map(|chunk| {
            let changes: Vec<Change> = chunk
                .iter()
                .map(|v| Change::Set("MFAENV_DIR".into(), v.clone()))
                .collect();
            let code = render(Format::Pwsh, &changes);
            (changes, code)
        })
        .collect();
    let codes: Vec<&str> = batches.iter().map(|(_, code)| code.as_str()).collect();
    for ((changes, code), parsed) in batches.iter().zip(support::pwsh::parse_many(&codes)) {
        check_pwsh(changes, code, &parsed).unwrap();
    }
}

/// PowerShell's quote rule as the tests apply it (the grammar does not know
/// the typographic quotes, so this decoder is what catches a missed one).
#[test]
fn powershell_quote_rule() {
    use support::pwsh::decode_verbatim;
    assert_eq!(decode_verbatim("'a''b'").unwrap(), "a'b");
    assert_eq!(
        decode_verbatim("'a\u{2018}\u{2018}b'").unwrap(),
        "a\u{2018}b"
    );
    // A mixed pair stands for its second quote, as in PowerShell's tokenizer.
    assert_eq!(decode_verbatim("'\u{2019}''").unwrap(), "'");
    assert_eq!(decode_verbatim("\u{2018}x\u{201B}").unwrap(), "x");
    assert_eq!(decode_verbatim("''").unwrap(), "");
    assert!(decode_verbatim("'a\u{2019}b'").is_err());
    assert!(decode_verbatim("'a'b'").is_err());
    assert!(decode_verbatim("'''").is_err());
    assert!(decode_verbatim("\"a\"").is_err());
}

// ---------------------------------------------------------------- json

/// A new format must get a round trip here before this compiles.
#[test]
fn every_format_is_checked() {
    for format in Format::ALL {
        let _checked_by = match format {
            Format::Bash | Format::Zsh | Format::Fish => "shell_property",
            Format::Pwsh => "pwsh_round_trip",
            Format::Json => "json_round_trip",
            Format::Dotenv => "dotenv_round_trip",
            Format::Terragrunt => "terragrunt_round_trip",
        };
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_round_trip(values in batch()) {
        let (changes, expected) = plan(&values);
        let out = render(Format::Json, &changes);
        prop_assert!(out.ends_with('\n') && out.matches('\n').count() == 1, "not one line");
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        let object = parsed.as_object().unwrap();
        // Applying the changes in order: a set-then-unset variable ends up null.
        let mut want = BTreeMap::new();
        for change in changes {
            match change {
                Change::Set(name, value) => want.insert(name.clone(), serde_json::Value::from(value.clone())),
                Change::Unset(name) => want.insert(name.clone(), serde_json::Value::Null),
            };
        }
        prop_assert_eq!(object.len(), want.len());
        for (name, value) in &want {
            prop_assert_eq!(object.get(name), Some(value), "{}", name);
        }
        for (name, value) in expected.iter().filter(|(n, _)| n.starts_with("MFAENV_T_")) {
            prop_assert_eq!(object[name].as_str(), value.as_deref());
        }
    }

    /// Every value reaches Terragrunt as it was: the keys in awsCredentials,
    /// the rest in envs (a removed variable as "", which Terragrunt can set).
    #[test]
    fn terragrunt_round_trip(values in batch()) {
        let (mut changes, _) = plan(&values);
        let n = values.len();
        changes.extend([
            Change::Set("AWS_ACCESS_KEY_ID".into(), values[0].clone()),
            Change::Set("AWS_SECRET_ACCESS_KEY".into(), values[n - 1].clone()),
            Change::Set("AWS_SESSION_TOKEN".into(), values[n / 2].clone()),
        ]);
        let out = render(Format::Terragrunt, &changes);
        prop_assert!(out.ends_with('\n') && out.matches('\n').count() == 1, "not one line");
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        let creds = &parsed["awsCredentials"];
        let envs = parsed["envs"].as_object().unwrap();
        if values[0].is_empty() {
            // No key to hand over: Terragrunt would ignore the block.
            prop_assert!(creds.is_null());
        } else {
            prop_assert_eq!(creds["ACCESS_KEY_ID"].as_str(), Some(values[0].as_str()));
            prop_assert_eq!(creds["SECRET_ACCESS_KEY"].as_str(), Some(values[n - 1].as_str()));
            prop_assert_eq!(creds["SESSION_TOKEN"].as_str(), Some(values[n / 2].as_str()));
        }
        let mut want = BTreeMap::new();
        for change in changes.iter().filter(|c| !matches!(c, Change::Set(n, _) | Change::Unset(n) if n.starts_with("AWS_"))) {
            match change {
                Change::Set(name, value) => want.insert(name.clone(), value.clone()),
                Change::Unset(name) => want.insert(name.clone(), String::new()),
            };
        }
        for (name, value) in &want {
            prop_assert_eq!(envs.get(name).and_then(|v| v.as_str()), Some(value.as_str()), "{}", name);
        }
    }

    #[test]
    fn dotenv_round_trip(values in batch()) {
        check_dotenv(&values).map_err(TestCaseError::fail)?;
    }
}

// ---------------------------------------------------------------- dotenv

/// Reads a dotenv file the way applications do (`dotenv_values`, which is
/// what `load_dotenv` sets), with and without interpolation.
const PYTHON_DOTENV: &str = r#"
import json, sys
from dotenv import dotenv_values
path = sys.argv[1]
print(json.dumps({
    "interpolated": dotenv_values(path),
    "raw": dotenv_values(path, interpolate=False),
}))
"#;

/// The test's own idea of a value that needs no quotes.
fn plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-.:,@%".contains(&b))
}

/// Renders each value as dotenv; python-dotenv and a reader of docker
/// compose's documented rules must both get back exactly the values mfaenv
/// wrote; a refused value must hold `$` (every other value has a form).
/// Plain values must be bare and all others quoted, so a change that quoted
/// every value, or none, fails here.
fn check_dotenv(values: &[String]) -> Result<(), String> {
    let mut file = String::new();
    let mut want = BTreeMap::new();
    for (i, value) in values.iter().enumerate() {
        let name = format!("MFAENV_T_{i}");
        match try_render(Format::Dotenv, &[Change::Set(name.clone(), value.clone())]) {
            Err(e) if value.contains('$') => {
                let message = e.to_string();
                if message.contains(value.as_str()) && value.len() > 3 {
                    return Err(format!("the refusal shows the value: {message}"));
                }
            }
            Err(e) => return Err(format!("{value:?} refused but holds no `$`: {e}")),
            Ok(line) => {
                let literal = line
                    .strip_prefix(&format!("{name}="))
                    .and_then(|l| l.strip_suffix('\n'))
                    .ok_or(format!("not one NAME=value line: {line:?}"))?;
                let quoted = literal.starts_with(['\'', '"']);
                if quoted == plain(value) {
                    return Err(format!(
                        "{value:?} written as {literal:?}: plain values bare, others quoted"
                    ));
                }
                file.push_str(&line);
                want.insert(name, value.clone());
            }
        }
    }
    // Unsets print nothing; a batch of writable values renders as its lines.
    let changes: Vec<Change> = want
        .iter()
        .map(|(n, v)| Change::Set(n.clone(), v.clone()))
        .chain([Change::Unset("MFAENV_U_0".into())])
        .collect();
    let whole = try_render(Format::Dotenv, &changes).map_err(|e| e.to_string())?;
    if whole.lines().count() != want.len() {
        return Err(format!("unsets must print nothing: {whole:?}"));
    }
    let compose = decode_compose(&file)?;
    if compose != want {
        return Err(format!("compose rules read {compose:?}, want {want:?}"));
    }
    let python = python_dotenv(&file)?;
    for key in ["interpolated", "raw"] {
        let got: BTreeMap<String, String> = serde_json::from_value(python[key].clone())
            .map_err(|e| format!("{key}: {e}: {python}"))?;
        if got != want {
            return Err(format!(
                "python-dotenv ({key}) read {got:?}, want {want:?}\nfile: {file:?}"
            ));
        }
    }
    Ok(())
}

fn python_dotenv(file: &str) -> Result<serde_json::Value, String> {
    let python = support::require_venv_bin("python").ok_or("no venv python")?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join(".env");
    std::fs::write(&path, file).map_err(|e| e.to_string())?;
    let out = std::process::Command::new(python)
        .args(["-c", PYTHON_DOTENV])
        .arg(&path)
        .env_clear()
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || !stderr.is_empty() {
        return Err(format!(
            "python-dotenv: {}: {stderr}\nfile: {file:?}",
            out.status
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

#[test]
fn dotenv_fixed_values() {
    for value in [
        "",
        "it's",
        "a\\b",
        "x\\",
        "two\nlines",
        "tab\there",
        "$HOME",
        "'",
        "\"",
        "é 日本",
    ] {
        check_dotenv(&[value.to_string()]).unwrap();
    }
    let out = try_render(
        Format::Dotenv,
        &[
            Change::Set("A".into(), "AKIAIOSFODNN7EXAMPLE".into()),
            Change::Set("B".into(), "a b".into()),
        ],
    )
    .unwrap();
    assert_eq!(out, "A=AKIAIOSFODNN7EXAMPLE\nB='a b'\n");
    for refused in ["${HOME}", "$x\n", "$x\\"] {
        let e = try_render(Format::Dotenv, &[Change::Set("V".into(), refused.into())]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("V cannot be written in dotenv format"),
            "{e}"
        );
    }
}

/// A strict reader of docker compose's documented `.env` rules
/// (docs.docker.com/compose/env-file/): one `NAME=value` per line; a bare
/// value is literal but interpolated (so no `$`), ends at ` #` (so no
/// whitespace or `#`), and has no quotes; `'…'` is literal apart from `\'`;
/// `"…"` is interpolated (so no raw `$`) with the escapes `\n \r \t \\ \"`.
/// What the rules leave open (a line break inside single quotes, other
/// escapes) is an error.
fn decode_compose(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    if text.is_empty() {
        return Ok(out);
    }
    let body = text.strip_suffix('\n').ok_or("no final newline")?;
    for line in body.split('\n') {
        let (name, raw) = line.split_once('=').ok_or(format!("no `=` in {line:?}"))?;
        let mut chars = raw.chars();
        let value = match chars.next() {
            Some(q @ ('\'' | '"')) => {
                let mut value = String::new();
                loop {
                    match (q, chars.next()) {
                        (_, None) => return Err(format!("{name}: no closing quote in {raw:?}")),
                        (_, Some(c)) if c == q => break,
                        ('\'', Some('\\')) => match chars.clone().next() {
                            Some('\'') => {
                                chars.next();
                                value.push('\'');
                            }
                            _ => value.push('\\'),
                        },
                        ('"', Some('\\')) => value.push(match chars.next() {
                            Some('n') => '\n',
                            Some('r') => '\r',
                            Some('t') => '\t',
                            Some('\\') => '\\',
                            Some('"') => '"',
                            other => {
                                return Err(format!(
                                    "{name}: undocumented escape {other:?} in {raw:?}"
                                ))
                            }
                        }),
                        ('"', Some('$')) => {
                            return Err(format!("{name}: `$` is interpolated in {raw:?}"))
                        }
                        (_, Some(c @ ('\n' | '\r'))) => {
                            return Err(format!("{name}: raw {c:?} in {raw:?}"))
                        }
                        (_, Some(c)) => value.push(c),
                    }
                }
                if chars.next().is_some() {
                    return Err(format!("{name}: text after the closing quote in {raw:?}"));
                }
                value
            }
            _ if raw
                .chars()
                .any(|c| c == '$' || c == '#' || c == '\'' || c == '"' || c.is_whitespace()) =>
            {
                return Err(format!("{name}: bare value {raw:?} is not literal"))
            }
            _ => raw.to_string(),
        };
        if out.insert(name.to_string(), value).is_some() {
            return Err(format!("{name} twice"));
        }
    }
    Ok(out)
}
