//! A blocking client for the Registry HTTP API v2 (the OCI distribution API): the tags of a
//! repository and the digest a tag points at, which is all the poller needs to notice pushes.
//!
//! One [`RegistryClient`] per registry host, shared by every thread polling it. It handles
//! anonymous, Basic and Bearer token auth (tokens cached until shortly before they expire),
//! tag-list pagination, registries that omit `Docker-Content-Digest`, rate limits (`429` and
//! `Retry-After`) and a bound on requests in flight.

mod address;
mod api_error;
mod challenge;
mod client;
mod config;
mod credentials;
mod error;
mod link;
mod manifest;
mod rate_limit;
mod semaphore;
mod tags;
mod token;
mod url;

pub use challenge::ChallengeError;
pub use client::RegistryClient;
pub use config::ClientConfig;
pub use credentials::Credentials;
pub use error::RegistryError;
pub use manifest::MANIFEST_ACCEPT;
pub use rate_limit::RateLimitState;
