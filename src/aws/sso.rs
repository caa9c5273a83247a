//! IAM Identity Center's portal (`portal.sso.REGION.amazonaws.com`):
//! GetRoleCredentials, ListAccounts, ListAccountRoles, with the access
//! token in the `x-amz-sso_bearer_token` header (never in the URL).

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use super::http::{form, AwsError, Http, HttpError, Request};
use crate::creds::Credentials;

/// At most this many pages of a listing (100 entries each).
const MAX_PAGES: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error(transparent)]
    Http(#[from] HttpError),
    /// 401: the token is expired or revoked.
    #[error("{0}")]
    Unauthorized(AwsError),
    /// 403: this account or role is not assigned to the user.
    #[error("{0}")]
    Forbidden(AwsError),
    #[error("{0}")]
    Aws(AwsError),
    #[error("{url} answered without {what}")]
    Malformed { url: String, what: &'static str },
}

/// An account the user can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
}

pub struct Portal<'a> {
    http: &'a Http,
    base: String,
}

impl<'a> Portal<'a> {
    pub fn new(http: &'a Http, base: &str) -> Portal<'a> {
        Portal {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    fn get(&self, path: &str, query: &[(&str, &str)], token: &str) -> Result<Value, PortalError> {
        let url = format!("{}{path}?{}", self.base, form(query));
        let answer = self
            .http
            .send(Request::get(&url).header("x-amz-sso_bearer_token", token))?;
        if !answer.is_success() {
            let err = answer.aws_error();
            return Err(match answer.status {
                401 => PortalError::Unauthorized(err),
                403 => PortalError::Forbidden(err),
                _ if err.code == "UnauthorizedException" => PortalError::Unauthorized(err),
                _ => PortalError::Aws(err),
            });
        }
        answer.json().ok_or_else(|| malformed(&url, "a JSON body"))
    }

    pub fn get_role_credentials(
        &self,
        token: &str,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, PortalError> {
        let path = "/federation/credentials";
        let answer = self.get(
            path,
            &[("role_name", role_name), ("account_id", account_id)],
            token,
        )?;
        let url = format!("{}{path}", self.base);
        let creds = &answer["roleCredentials"];
        let text = |key: &'static str| {
            creds[key]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| malformed(&url, key))
        };
        let millis = creds["expiration"]
            .as_u64()
            .ok_or_else(|| malformed(&url, "expiration"))?;
        Ok(Credentials {
            access_key_id: text("accessKeyId")?,
            secret_access_key: text("secretAccessKey")?,
            session_token: Some(text("sessionToken")?),
            expiration: Some(UNIX_EPOCH + Duration::from_millis(millis)),
        })
    }

    /// Every account the token reaches (all pages).
    pub fn list_accounts(&self, token: &str) -> Result<Vec<Account>, PortalError> {
        let mut out = Vec::new();
        self.pages("/assignment/accounts", &[], token, "accountList", |item| {
            if let (Some(id), Some(name)) =
                (item["accountId"].as_str(), item["accountName"].as_str())
            {
                out.push(Account {
                    id: id.to_string(),
                    name: name.to_string(),
                });
            }
        })?;
        Ok(out)
    }

    /// The roles of `account_id` the token reaches (all pages).
    pub fn list_account_roles(
        &self,
        token: &str,
        account_id: &str,
    ) -> Result<Vec<String>, PortalError> {
        let mut out = Vec::new();
        self.pages(
            "/assignment/roles",
            &[("account_id", account_id)],
            token,
            "roleList",
            |item| {
                if let Some(name) = item["roleName"].as_str() {
                    out.push(name.to_string());
                }
            },
        )?;
        Ok(out)
    }

    fn pages(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: &str,
        list: &str,
        mut each: impl FnMut(&Value),
    ) -> Result<(), PortalError> {
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            q.push(("max_result", "100"));
            if let Some(n) = &next {
                q.push(("next_token", n));
            }
            let answer = self.get(path, &q, token)?;
            for item in answer[list].as_array().into_iter().flatten() {
                each(item);
            }
            next = answer["nextToken"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            if next.is_none() {
                return Ok(());
            }
        }
        Err(malformed(
            &format!("{}{path}", self.base),
            "an end to its pages",
        ))
    }
}

fn malformed(url: &str, what: &'static str) -> PortalError {
    PortalError::Malformed {
        url: super::http::shown(url),
        what,
    }
}
