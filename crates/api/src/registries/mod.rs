//! Registry endpoints. The password is write-only: answers say whether one is set, never what it is.

mod client;
pub mod create;
pub mod delete;
pub mod list;
pub mod tags;
pub mod test;
pub mod update;

use serde::{Deserialize, Deserializer, Serialize};
use store::Registry;

use crate::envelope::ApiError;
use crate::time::rfc3339;

/// A registry as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct RegistryOut {
    id: i64,
    name: String,
    url: String,
    username: Option<String>,
    password_set: bool,
    password_env: Option<String>,
    created_at: String,
}

impl From<Registry> for RegistryOut {
    fn from(registry: Registry) -> RegistryOut {
        RegistryOut {
            id: registry.id,
            name: registry.name,
            url: registry.url,
            username: registry.username,
            password_set: registry.password.is_some(),
            password_env: registry.password_env,
            created_at: rfc3339(registry.created_at),
        }
    }
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Registry names are referred to from projects and appear in logs: one DNS label.
pub(crate) fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "name: invalid name {name:?}: use 1 to 63 lowercase letters, digits and inner hyphens"
        )))
    }
}

pub(crate) fn check_url(url: &str) -> Result<(), ApiError> {
    // Credentials in the URL would be stored and shown in plain text: they belong in the
    // sealed fields. The URL is not echoed back, it may hold a password.
    let authority = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.split('/').next().unwrap_or(rest));
    if authority.contains('@') {
        return Err(ApiError::BadRequest(
            "url: put the username and password in `username` and `password`, not in the URL"
                .into(),
        ));
    }
    if (url.starts_with("http://") || url.starts_with("https://"))
        && !url.contains(char::is_whitespace)
    {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "url: {url:?} must start with http:// or https://"
        )))
    }
}

/// A registry has a username and a password together, or neither (as in the YAML seed).
pub(crate) fn check_credentials(
    username: Option<&str>,
    has_password: bool,
) -> Result<(), ApiError> {
    if username.is_some_and(|name| name.trim().is_empty()) {
        return Err(ApiError::BadRequest("username: must not be empty".into()));
    }
    if username.is_some() != has_password {
        return Err(ApiError::BadRequest(
            "username: a password needs a username and a username needs a password".into(),
        ));
    }
    Ok(())
}
