//! `mfaenv credential-process PROFILE`: the JSON an SDK reads from
//! `credential_process` (Version 1, with Expiration so the SDK refreshes).

use anyhow::Result;
use serde_json::json;

use super::credentials;
use crate::cli::ProfileArgs;
use crate::creds::rfc3339;

pub fn run(args: &ProfileArgs) -> Result<String> {
    let (_, creds) = credentials(args)?;
    let mut doc = json!({
        "Version": 1,
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
    });
    if let Some(token) = &creds.session_token {
        doc["SessionToken"] = json!(token);
    }
    if let Some(exp) = creds.expiration {
        doc["Expiration"] = json!(rfc3339(exp));
    }
    Ok(format!("{doc}\n"))
}
