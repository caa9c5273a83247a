//! Secrets a person types: the file store's passphrase (on the terminal, or
//! from a prompt driver when there is none: src/prompt) and `mfaenv add`'s
//! keys (on the terminal). Never stdin/stdout, which a caller may be
//! capturing. The terminal's mode is src/prompt/terminal.rs's business.

use zeroize::Zeroizing;

use crate::prompt::{self, Echo, PromptError, Terminal};

/// Asks for the key store's passphrase, hidden: on the terminal, else with
/// the chosen (or an available) prompt driver. `None` when nothing can ask.
pub fn ask_passphrase(question: &str) -> std::io::Result<Option<Zeroizing<String>>> {
    match prompt::ask_secret(question) {
        Ok(answer) => Ok(answer),
        // An empty line at the terminal: the caller says what that means.
        Err(PromptError::Cancelled) if Terminal::present() => {
            Ok(Some(Zeroizing::new(String::new())))
        }
        Err(e) => Err(std::io::Error::other(e.to_string())),
    }
}

/// Asks `question` on the terminal with echo (the access key id, a yes/no).
pub fn ask_visible(question: &str) -> std::io::Result<Option<Zeroizing<String>>> {
    ask_terminal(question, Echo::On)
}

/// Asks `question` on the terminal, not echoed (`add`'s secret key).
pub fn ask_hidden(question: &str) -> std::io::Result<Option<Zeroizing<String>>> {
    ask_terminal(question, Echo::Off)
}

fn ask_terminal(question: &str, echo: Echo) -> std::io::Result<Option<Zeroizing<String>>> {
    let Some(tty) = Terminal::open() else {
        return Ok(None);
    };
    let timeout = prompt::Settings::resolve(None, None)
        .map(|s| s.timeout)
        .unwrap_or(prompt::DEFAULT_TIMEOUT);
    Ok(Some(
        tty.ask(question, echo, timeout)?
            .unwrap_or_else(|| Zeroizing::new(String::new())),
    ))
}
