//! mfaenv: MFA-gated AWS credentials for shells, commands and SDKs.
//!
//! The binary (`src/main.rs`) is a thin edge over this library so the
//! integration tests can reach the pieces (escaping, profile parsing) directly.

pub mod advice;
pub mod aws;
pub mod browser;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod creds;
pub mod duration;
pub mod env_vars;
pub mod files;
pub mod harden;
pub mod hook;
pub mod keystore;
pub mod mfa;
pub mod prompt;
pub mod resolve;
#[cfg(unix)]
pub mod server;
pub mod settings;
pub mod shell;
pub mod sources;
pub mod ui;
