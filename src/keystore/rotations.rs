//! The rotations in progress (`mfaenv rotate`), in `rotations.json` under
//! the data dir (0600; key ids and user names, never a secret), so that a
//! rotation interrupted at any step is finished by the next run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::index;
use crate::ui;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rotation {
    pub old: String,
    /// The new key, once IAM made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    pub user: String,
    /// When the rotation asked IAM for the new key (RFC 3339).
    pub started: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub rotations: BTreeMap<String, Rotation>,
}

impl State {
    fn path() -> Result<PathBuf> {
        Ok(super::data_dir()?.join("rotations.json"))
    }

    pub fn load() -> Result<State> {
        let path = State::path()?;
        let (bytes, meta) = match crate::files::read_bounded(&path, 1 << 20) {
            Ok(found) => found,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", ui::path(&path))),
        };
        index::check_private(&path, &meta)?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is damaged; nothing was changed", ui::path(&path)))
    }

    /// Written atomically (0600); an empty record removes the file.
    pub fn save(&self) -> Result<()> {
        index::prepare_dir()?;
        let path = State::path()?;
        if self.rotations.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("cannot remove {}", ui::path(&path)))
                }
                _ => Ok(()),
            };
        }
        let mut text = serde_json::to_vec_pretty(self)?;
        text.push(b'\n');
        index::write_atomic(&path, &text)?;
        Ok(())
    }
}

/// The new key of an unfinished rotation of `profile`, when one is recorded
/// (a store entry that differs from the index may be it: killed between
/// the two writes).
pub fn pending_new_key(profile: &str) -> Option<String> {
    State::load().ok()?.rotations.remove(profile)?.new
}
