//! How patient the client is and how early it renews its token.

use std::time::Duration;

/// Settings of an [`NpmClient`](crate::NpmClient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmConfig {
    /// Limit of one HTTP request, from connecting to the last byte of the answer. Creating a
    /// proxy host makes NPM test and reload nginx before it answers, so this is not short.
    pub timeout: Duration,
    /// Renew the token (`GET /api/tokens`) once less than this is left of it. NPM's tokens last
    /// a day; for tokens shorter than twice this, renewal starts at half their lifetime.
    pub refresh_margin: Duration,
}

impl Default for NpmConfig {
    fn default() -> NpmConfig {
        NpmConfig {
            timeout: Duration::from_secs(60),
            refresh_margin: Duration::from_secs(60 * 60),
        }
    }
}
