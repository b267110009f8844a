//! What can go wrong talking to a registry. Every error names the registry and the operation
//! (which image, which tag), because the poller watches many images on many registries and a
//! bare "401" in a log says nothing about which one needs attention.

use std::time::SystemTime;

/// A failed registry operation.
///
/// `registry` is the registry's `host[:port]`; `operation` says what was being done, e.g.
/// `tags of acme/app` or `digest of acme/app:v1`.
#[derive(thiserror::Error, Debug)]
pub enum RegistryError {
    #[error("invalid registry address {base:?}: {reason}")]
    InvalidAddress { base: String, reason: String },

    #[error("registry {registry}: {operation}: cannot reach {url}: {message}")]
    Transport {
        registry: String,
        operation: String,
        url: String,
        message: String,
    },

    #[error("registry {registry}: {operation}: {url} redirects too often (a redirect loop?)")]
    TooManyRedirects {
        registry: String,
        operation: String,
        url: String,
    },

    #[error("registry {registry}: {operation}: authentication failed: {reason}")]
    Auth {
        registry: String,
        operation: String,
        reason: String,
    },

    #[error(
        "registry {registry}: {operation}: unusable WWW-Authenticate header {header:?}: {source}"
    )]
    Challenge {
        registry: String,
        operation: String,
        header: String,
        source: super::challenge::ChallengeError,
    },

    #[error("registry {registry}: {operation}: token endpoint {realm}: {reason}")]
    Token {
        registry: String,
        operation: String,
        realm: String,
        reason: String,
    },

    #[error(
        "registry {registry}: {operation}: rate limited until {}",
        httpdate::fmt_http_date(*until)
    )]
    RateLimited {
        registry: String,
        operation: String,
        until: SystemTime,
    },

    #[error("registry {registry}: {operation}: {url} answered HTTP {status}: {message}")]
    Status {
        registry: String,
        operation: String,
        url: String,
        status: u16,
        message: String,
    },

    #[error("registry {registry}: {operation}: {url} gave an invalid answer: {reason}")]
    InvalidResponse {
        registry: String,
        operation: String,
        url: String,
        reason: String,
    },

    #[error(
        "registry {registry}: {operation}: schema 1 manifests are not supported \
         (the registry served {media_type}); push the image again with a current Docker"
    )]
    Schema1 {
        registry: String,
        operation: String,
        media_type: String,
    },

    #[error("registry {registry}: {operation}: manifest not found")]
    ManifestUnknown { registry: String, operation: String },

    #[error(
        "registry {registry}: {operation}: more than {max_pages} pages of tags; \
         raise max_pages or page_size"
    )]
    TooManyPages {
        registry: String,
        operation: String,
        max_pages: u32,
    },

    #[error(
        "registry {registry}: {operation}: tag list pagination loops \
         (next page {url} was already read)"
    )]
    PaginationLoop {
        registry: String,
        operation: String,
        url: String,
    },
}

impl RegistryError {
    /// The registry's `host[:port]`, when the error concerns one.
    pub fn registry(&self) -> Option<&str> {
        match self {
            RegistryError::InvalidAddress { .. } => None,
            RegistryError::Transport { registry, .. }
            | RegistryError::TooManyRedirects { registry, .. }
            | RegistryError::Auth { registry, .. }
            | RegistryError::Challenge { registry, .. }
            | RegistryError::Token { registry, .. }
            | RegistryError::RateLimited { registry, .. }
            | RegistryError::Status { registry, .. }
            | RegistryError::InvalidResponse { registry, .. }
            | RegistryError::Schema1 { registry, .. }
            | RegistryError::ManifestUnknown { registry, .. }
            | RegistryError::TooManyPages { registry, .. }
            | RegistryError::PaginationLoop { registry, .. } => Some(registry),
        }
    }

    /// Whether this is a credentials problem the user must fix (as opposed to a passing one).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            RegistryError::Auth { .. }
                | RegistryError::Token { .. }
                | RegistryError::Challenge { .. }
        )
    }
}
