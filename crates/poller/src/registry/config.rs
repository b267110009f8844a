//! How a [`RegistryClient`](super::RegistryClient) paces and bounds its work.

use std::time::Duration;

/// Limits of one client; [`Default`] suits a poller watching a few dozen images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Tags asked for per page (`n=`).
    pub page_size: u32,
    /// Pages read at most per tag list: a bound on work for a registry that never stops paging.
    pub max_pages: u32,
    /// Requests in flight at once on this client.
    pub max_concurrent: usize,
    /// Whole-request timeout (connect, send, read).
    pub timeout: Duration,
    /// Longest `Retry-After` the client waits out; a longer one fails with `RateLimited`
    /// instead of blocking a poller thread for hours.
    pub max_retry_after: Duration,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            page_size: 100,
            max_pages: 50,
            max_concurrent: 4,
            timeout: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}
