//! PowerShell without PowerShell: its tree-sitter grammar, run by
//! `pwsh_parse.py` from the test venv, plus PowerShell's own rule for reading
//! a single-quoted string (which the grammar gets wrong for U+2018..U+201B).
//!
//! ```ignore
//! if !support::pwsh::available() { return; }
//! let parsed = support::pwsh::parse(&script);
//! assert!(!parsed.has_error, "{:?}", parsed.errors);
//! let value = parsed.assignment_to("${env:AWS_REGION}").unwrap().verbatim_value().unwrap();
//! ```

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::Mutex;

use serde::Deserialize;

/// What tree-sitter-powershell makes of one source (see `pwsh_parse.py`).
#[derive(Debug, Clone, Deserialize)]
pub struct PwshParse {
    /// Any ERROR or MISSING node: PowerShell would most likely refuse the script.
    pub has_error: bool,
    pub errors: Vec<ErrorNode>,
    /// Every assignment and command anywhere in the source, in source order.
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ErrorNode {
    #[serde(rename = "type")]
    pub kind: String,
    pub row: usize,
    pub column: usize,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Statement {
    Assignment(Assignment),
    Command(Command),
}

#[derive(Debug, Clone, Deserialize)]
pub struct Assignment {
    /// The left-hand side as written, e.g. `${env:AWS_REGION}`.
    pub variable: String,
    pub variable_types: Vec<String>,
    /// `=`, `+=`, ...
    pub operator: String,
    /// The right-hand side as written.
    pub rhs_text: String,
    /// Node types from the right-hand side down through single-child nodes.
    pub rhs_types: Vec<String>,
    /// The right-hand side as one string or a parenthesised `+` chain of
    /// strings and `[char]0x…` casts; `None` when it is anything else.
    pub rhs_terms: Option<Vec<Term>>,
    pub row: usize,
    pub text: String,
    /// Script blocks around the statement (0 = top level).
    pub depth: usize,
}

/// One operand of the right-hand side's `+` chain.
#[derive(Debug, Clone, Deserialize)]
pub struct Term {
    /// `verbatim` (a single-quoted string), `char` (`[char]` and a hex
    /// literal) or `other`.
    pub kind: String,
    /// The literal as written: `'…'`, or `0x00E9`.
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Command {
    /// e.g. `Remove-Item`.
    pub name: String,
    /// Parameters and arguments, without the separators.
    pub args: Vec<Arg>,
    pub row: usize,
    pub text: String,
    pub depth: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Arg {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
}

impl PwshParse {
    pub fn assignments(&self) -> impl Iterator<Item = &Assignment> {
        self.statements.iter().filter_map(|s| match s {
            Statement::Assignment(a) => Some(a),
            Statement::Command(_) => None,
        })
    }

    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.statements.iter().filter_map(|s| match s {
            Statement::Command(c) => Some(c),
            Statement::Assignment(_) => None,
        })
    }

    /// The last assignment to `variable` (as written, e.g. `${env:X}`).
    pub fn assignment_to(&self, variable: &str) -> Option<&Assignment> {
        self.assignments().filter(|a| a.variable == variable).last()
    }
}

impl Assignment {
    /// The value, when the right-hand side is exactly one single-quoted
    /// (verbatim) string literal and nothing else; read with PowerShell's rule.
    pub fn verbatim_value(&self) -> Result<String, String> {
        let n = self.rhs_types.len();
        if self.operator != "=" {
            return Err(format!("operator is {:?}, not `=`", self.operator));
        }
        if n < 2 || self.rhs_types[n - 2..] != ["string_literal", "verbatim_string_characters"] {
            return Err(format!(
                "right-hand side is not one verbatim string: {:?}",
                self.rhs_types
            ));
        }
        decode_verbatim(&self.rhs_text)
    }
}

impl Assignment {
    /// The value of a right-hand side that is one verbatim string, or a
    /// parenthesised `+` chain of verbatim strings and `[char]0xHHHH` casts
    /// whose first operand is a string (PowerShell's `+` takes its meaning
    /// from the left operand: with a string there, each operand is appended
    /// as text; a `[char]` there would add numbers). Each `[char]` is one
    /// UTF-16 unit, so a surrogate pair is two.
    pub fn value(&self) -> Result<String, String> {
        if self.operator != "=" {
            return Err(format!("operator is {:?}, not `=`", self.operator));
        }
        let Some(terms) = &self.rhs_terms else {
            return Err(format!(
                "right-hand side is not a string: {:?}",
                self.rhs_text
            ));
        };
        if terms.first().is_none_or(|t| t.kind != "verbatim") {
            return Err(format!("{:?} does not start with a string", self.rhs_text));
        }
        let mut units: Vec<u16> = Vec::new();
        for term in terms {
            match term.kind.as_str() {
                "verbatim" => units.extend(decode_verbatim(&term.text)?.encode_utf16()),
                "char" => {
                    let hex = term.text.strip_prefix("0x").unwrap_or(&term.text);
                    let unit = u16::from_str_radix(hex, 16)
                        .map_err(|e| format!("[char]{}: {e}", term.text))?;
                    units.push(unit);
                }
                _ => return Err(format!("{:?} is neither a string nor a [char]", term.text)),
            }
        }
        String::from_utf16(&units).map_err(|e| format!("{:?}: {e}", self.rhs_text))
    }
}

/// Whether PowerShell reads `c` as a single quote (`'`, U+2018..U+201B).
pub fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}'..='\u{201B}')
}

/// Reads `literal` (quotes included) the way PowerShell's tokenizer reads a
/// single-quoted string: any of the five single quotes opens and closes it;
/// inside, two of them in a row stand for the second one. The whole of
/// `literal` must be that one string.
pub fn decode_verbatim(literal: &str) -> Result<String, String> {
    let mut chars = literal.chars();
    if !chars.next().is_some_and(is_single_quote) {
        return Err(format!("{literal:?} does not start with a single quote"));
    }
    let mut out = String::new();
    while let Some(c) = chars.next() {
        if !is_single_quote(c) {
            out.push(c);
            continue;
        }
        match chars.clone().next() {
            Some(second) if is_single_quote(second) => {
                out.push(second);
                chars.next();
            }
            // The closing quote: it must be the last character.
            _ if chars.as_str().is_empty() => return Ok(out),
            _ => {
                return Err(format!(
                    "{literal:?}: the string ends early, {:?} is left over",
                    chars.as_str()
                ))
            }
        }
    }
    Err(format!("{literal:?} is not terminated"))
}

fn script() -> PathBuf {
    super::root().join("tests/support/pwsh_parse.py")
}

/// Whether the parser can run: fails the test when the venv's python is
/// missing, unless [`super::may_skip`] allows a skip (then `false`).
pub fn available() -> bool {
    super::require_venv_bin("python").is_some()
}

/// Parses one PowerShell source. Panics when the parser cannot run.
pub fn parse(src: &str) -> PwshParse {
    parse_many(&[src]).remove(0)
}

/// Parses many sources in one round trip to the parser process.
pub fn parse_many<S: AsRef<str>>(sources: &[S]) -> Vec<PwshParse> {
    let input: Vec<&str> = sources.iter().map(AsRef::as_ref).collect();
    let mut line = serde_json::to_vec(&input).unwrap();
    line.push(b'\n');
    // One parser process for the whole test binary: importing tree-sitter
    // costs more than parsing a batch.
    let mut server = SERVER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut running = server.take().unwrap_or_else(Server::start);
    let mut reply = String::new();
    let sent = running
        .stdin
        .write_all(&line)
        .and_then(|()| running.stdin.flush());
    if sent.is_err() || running.stdout.read_line(&mut reply).unwrap_or(0) == 0 {
        panic!("pwsh_parse.py stopped (its error is above)");
    }
    *server = Some(running);
    let parsed: Vec<PwshParse> = serde_json::from_str(&reply)
        .unwrap_or_else(|e| panic!("pwsh_parse.py printed bad JSON: {e}"));
    assert_eq!(parsed.len(), sources.len());
    parsed
}

static SERVER: Mutex<Option<Server>> = Mutex::new(None);

/// `pwsh_parse.py --serve`: a JSON array of sources per line in, one line out.
/// It exits when the test binary does (its stdin closes).
struct Server {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    _child: Child,
}

impl Server {
    fn start() -> Server {
        let python = super::venv_bin("python");
        let mut child = Process::new(&python)
            .arg(script())
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        Server {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            _child: child,
        }
    }
}
