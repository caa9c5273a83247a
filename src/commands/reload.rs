//! `mfaenv reload`: the hook tries the directory's `.mfaenv` again.
//!
//! A failed load (wrong codes, an unreachable keyring or network) is said
//! once and then left alone, so that every prompt does not ask again. The
//! load hint's marker holds the stamp's version, so a new stamp makes the
//! next prompt try again; the bash, zsh and fish wrappers also make that
//! prompt run the hook, and PowerShell's hook watches the stamp.

use anyhow::{bail, Result};

use super::hook::logical_cwd;
use crate::hook::dotfile;
use crate::ui;

pub fn run() -> Result<String> {
    let here = logical_cwd();
    let Some(found) = dotfile::find(&here) else {
        bail!(
            "no {} file in {} or above: nothing for the hook to load",
            dotfile::FILE_NAME,
            ui::path(&here)
        );
    };
    crate::hook::touch_stamp();
    let path = match &found {
        Ok(file) => &file.path,
        Err(refused) => &refused.path,
    };
    ui::info(format_args!(
        "the hook loads {} again at the next prompt",
        ui::path(path)
    ));
    Ok(String::new())
}
