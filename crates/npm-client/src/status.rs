//! `GET /api/`: whether NPM answers, and its version. Needs no login.

use serde::Deserialize;

use crate::client::{Call, Method, NpmClient};
use crate::error::NpmError;

/// NPM's answer to `GET /api/`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerStatus {
    /// `OK` when the backend runs.
    pub status: String,
    /// Whether a user exists (NPM 2.13 and later; `None` on older ones).
    #[serde(default)]
    pub setup: Option<bool>,
    /// From NPM's `package.json`: releases say their version, a source checkout `2.0.0` or
    /// `0.0.0`.
    #[serde(default)]
    pub version: Option<ServerVersion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
    pub revision: u32,
}

impl NpmClient {
    /// Whether NPM's API answers at this address, and which version it says it is.
    pub fn server_status(&self) -> Result<ServerStatus, NpmError> {
        let operation = "read NPM's status";
        let reply = self.call_anonymous(&Call {
            operation,
            method: Method::Get,
            path: "/",
            body: None,
        })?;
        if !reply.is_success() {
            return Err(self.api_error(operation, &reply));
        }
        serde_json::from_slice(&reply.body)
            .map_err(|err| self.invalid_response(operation, &reply.url, err.to_string()))
    }
}
