//! A client for Nginx Proxy Manager's REST API: the session token and proxy hosts.
//!
//! Owns: talking to NPM over HTTP (`/api/tokens`, `/api/nginx/proxy-hosts`), NPM's request and
//! response shapes, and NPM's habits: auth errors come back as HTTP 400, an expired token cannot
//! be refreshed, a 2FA account cannot be used unattended, `additionalProperties: false` on every
//! body, and a host is only known to work once `meta.nginx_online` says so.
//! Does not own: which subdomain an instance gets or when routes change (that is `deployer`,
//! which adapts this client to its own router trait), nor where the password is stored.
//!
//! The client is blocking (ureq): call it from worker threads, never from an async executor.
//!
//! ```no_run
//! use npm_client::{ForwardScheme, NewProxyHost, NpmClient, NpmConfig};
//!
//! let npm = NpmClient::new("http://npm:81", "deploy@example.com", "secret", NpmConfig::default())?;
//! let host = match npm.find_proxy_host("stage-dev-shop.example.com")? {
//!     Some(host) => host,
//!     None => npm.create_proxy_host(&NewProxyHost::new(
//!         ["stage-dev-shop.example.com"],
//!         ForwardScheme::Http,
//!         "dw-shop-dev-42",
//!         8080,
//!     ))?,
//! };
//! assert_eq!(host.meta.nginx_online, Some(true));
//! # Ok::<(), npm_client::NpmError>(())
//! ```

mod address;
mod client;
mod config;
mod error;
mod lenient;
mod password;
mod proxy_host;
mod proxy_host_form;
mod proxy_hosts;
mod status;
mod token;

pub use client::NpmClient;
pub use config::NpmConfig;
pub use error::NpmError;
pub use password::Password;
pub use proxy_host::{ForwardScheme, Location, ProxyHost, ProxyHostId, ProxyHostMeta};
pub use proxy_host_form::{NewProxyHost, ProxyHostPatch};
pub use status::{ServerStatus, ServerVersion};
