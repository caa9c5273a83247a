//! `mfaenv reload`: the hook tries the directory's `.mfaenv` again.
//!
//! A failed load (wrong codes, an unreachable keyring or network) is said
//! once and then left alone, so that every prompt does not ask again. The
//! load hint's marker holds the stamp's version, so a new stamp makes the
//! next prompt try again; the bash, zsh and fish wrappers also make that
//! prompt run the hook, and PowerShell's hook watches the stamp.

pub fn run() -> String {
    crate::hook::touch_stamp();
    crate::ui::info("the hook loads this directory's .mfaenv again at the next prompt");
    String::new()
}
