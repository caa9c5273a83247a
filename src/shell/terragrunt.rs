//! terragrunt: the JSON Terragrunt's `--auth-provider-cmd` reads (its
//! `externalcmd` provider): `{"awsCredentials": {"ACCESS_KEY_ID",
//! "SECRET_ACCESS_KEY", "SESSION_TOKEN"}, "envs": {NAME: value}}`.
//!
//! Terragrunt sets every `envs` entry in the environment of what it runs and
//! then the four AWS variables from `awsCredentials` (`AWS_SECURITY_TOKEN`
//! too). It cannot remove a variable: a variable to remove is set empty (the
//! Go SDK behind Terraform reads an empty `AWS_PROFILE` as unset, so it no
//! longer wins over the keys). `export` asks that only for a variable that is
//! set.

use serde_json::{json, Map, Value};

use super::Change;
use crate::env_vars::{ACCESS_KEY_ID, SECRET_ACCESS_KEY, SECURITY_TOKEN, SESSION_TOKEN};
use crate::settings::{MFAENV_PRIOR, MFAENV_SET};

pub fn render(changes: &[Change]) -> String {
    let mut creds = [ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN].map(|_| None::<&str>);
    let mut envs = Map::new();
    for change in changes {
        let (name, value) = match change {
            Change::Set(name, value) => (name.as_str(), value.as_str()),
            Change::Unset(name) => (name.as_str(), ""),
        };
        // The shell's restore state means nothing to a run of Terragrunt, and
        // Terragrunt derives AWS_SECURITY_TOKEN from SESSION_TOKEN itself.
        if [MFAENV_PRIOR, MFAENV_SET, SECURITY_TOKEN].contains(&name) {
            continue;
        }
        match [ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN]
            .iter()
            .position(|v| *v == name)
        {
            Some(i) => creds[i] = Some(value),
            None => {
                envs.insert(name.to_string(), value.into());
            }
        }
    }
    let mut doc = Map::new();
    match creds {
        [Some(id), Some(secret), token] if !id.is_empty() => {
            doc.insert(
                "awsCredentials".into(),
                json!({
                    "ACCESS_KEY_ID": id,
                    "SECRET_ACCESS_KEY": secret,
                    "SESSION_TOKEN": token.unwrap_or_default(),
                }),
            );
        }
        // No keys to hand over (`unset`): only the variables, emptied.
        _ => {
            for (i, value) in creds.iter().enumerate() {
                if let Some(value) = value {
                    let name = [ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN][i];
                    envs.insert(name.to_string(), (*value).into());
                }
            }
        }
    }
    doc.insert("envs".into(), Value::Object(envs));
    let mut out = Value::Object(doc).to_string();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, value: &str) -> Change {
        Change::Set(name.into(), value.into())
    }

    #[test]
    fn the_shape_terragrunt_reads() {
        let out = render(&[
            Change::Unset("AWS_SECURITY_TOKEN".into()),
            Change::Unset("AWS_PROFILE".into()),
            set("AWS_ACCESS_KEY_ID", "ASIAX"),
            set("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            set("AWS_SESSION_TOKEN", "tok"),
            set("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T00:00:00Z"),
            set("AWS_REGION", "us-west-2"),
            set("MFAENV_PRIOR", "x"),
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v,
            json!({
                "awsCredentials": {
                    "ACCESS_KEY_ID": "ASIAX",
                    "SECRET_ACCESS_KEY": "s3cr3t",
                    "SESSION_TOKEN": "tok",
                },
                "envs": {
                    "AWS_PROFILE": "",
                    "AWS_CREDENTIAL_EXPIRATION": "2026-01-01T00:00:00Z",
                    "AWS_REGION": "us-west-2",
                },
            })
        );
        assert!(out.ends_with("}\n") && out.matches('\n').count() == 1);
    }

    #[test]
    fn without_keys_only_envs() {
        let v: Value =
            serde_json::from_str(&render(&[Change::Unset("AWS_ACCESS_KEY_ID".into())])).unwrap();
        assert_eq!(v, json!({"envs": {"AWS_ACCESS_KEY_ID": ""}}));
    }
}
