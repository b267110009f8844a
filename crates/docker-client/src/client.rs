//! The client handle: where the engine is, connecting to it, and agreeing on an API version.

use std::sync::Arc;
use std::time::Duration;

use bollard::{API_DEFAULT_VERSION, ClientVersion, Docker};
use tokio::sync::OnceCell;

use crate::error::{DockerError, Failure, describe, is_connection_error};

/// The engine address used when neither the caller nor `DOCKER_HOST` names one.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// A ping must fail fast: it is what tells an operator the engine is down.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Ordinary requests (create, inspect, remove…) may wait on a busy engine for a while.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// API 1.24 is the first with container health checks, which the deployer relies on.
const OLDEST_SUPPORTED_API: (u32, u32) = (1, 24);

/// What the engine told us about itself on the first successful ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    /// The API version this client uses with the engine, e.g. "1.41".
    pub api_version: String,
    /// The engine's own version, e.g. "20.10.24".
    pub engine_version: String,
}

/// A handle on one Docker engine.
///
/// Cloning is cheap and clones share the connection state, so one ping
/// serves them all. Every method is async and works on any tokio runtime.
#[derive(Clone)]
pub struct DockerClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// The address as given (or defaulted), for messages.
    host: String,
    endpoint: Endpoint,
    /// Set by the first successful ping; a failed one leaves it empty so the next call retries.
    connection: OnceCell<Connection>,
}

#[derive(Debug, Clone)]
enum Endpoint {
    Unix(String),
    Tcp(String),
}

struct Connection {
    docker: Docker,
    info: EngineInfo,
}

impl std::fmt::Debug for DockerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerClient")
            .field("host", &self.inner.host)
            .field("connected", &self.inner.connection.initialized())
            .finish()
    }
}

impl DockerClient {
    /// Prepares a client without contacting the engine.
    ///
    /// `host` None uses `DOCKER_HOST`, else the local unix socket. An explicit
    /// host is `unix:///path/to/docker.sock` or `tcp://address:port` (plain HTTP).
    pub fn new(host: Option<&str>) -> Result<DockerClient, DockerError> {
        let host = match host {
            Some(host) => host.to_owned(),
            None => std::env::var("DOCKER_HOST")
                .ok()
                .filter(|h| !h.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_HOST.to_owned()),
        };
        let endpoint = parse_host(&host)?;
        Ok(DockerClient {
            inner: Arc::new(Inner {
                host,
                endpoint,
                connection: OnceCell::new(),
            }),
        })
    }

    /// The engine address this client talks to.
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// Checks that the engine answers and settles the API version to use.
    ///
    /// Only the first success talks to the engine; later calls return the
    /// cached answer. Failures are not cached, so a later call tries again.
    pub async fn ping(&self) -> Result<EngineInfo, DockerError> {
        Ok(self.connection().await?.info.clone())
    }

    /// The bollard handle, connecting first if needed.
    pub(crate) async fn docker(&self) -> Result<Docker, DockerError> {
        Ok(self.connection().await?.docker.clone())
    }

    /// Describes a failing operation for [`Failure::classify`].
    pub(crate) fn failure(&self, context: String, missing: Option<String>) -> Failure<'_> {
        Failure {
            host: &self.inner.host,
            context,
            missing,
            timeout_secs: REQUEST_TIMEOUT.as_secs(),
        }
    }

    pub(crate) fn unreachable_error(&self, message: String) -> DockerError {
        DockerError::Unreachable {
            host: self.inner.host.clone(),
            message,
        }
    }

    async fn connection(&self) -> Result<&Connection, DockerError> {
        self.inner
            .connection
            .get_or_try_init(|| self.connect())
            .await
    }

    async fn connect(&self) -> Result<Connection, DockerError> {
        let ours = version_pair(API_DEFAULT_VERSION);
        let mut version = self.fetch_version(ours).await;
        // Should bollard ever prefix paths with its version, an older engine
        // refuses ours and names its maximum; asking again at that version
        // keeps the handshake working.
        if let Err(DockerError::Engine {
            status: 400,
            message,
            ..
        }) = &version
            && let Some(max) = engine_maximum_from_refusal(message)
            && max < ours
        {
            version = self.fetch_version(max).await;
        }
        let version = version?;

        let engine_api = version
            .api_version
            .as_deref()
            .and_then(parse_api_version)
            .ok_or_else(|| DockerError::UnsupportedEngine {
                message: format!(
                    "the engine at {} did not report a usable API version ({:?})",
                    self.inner.host, version.api_version
                ),
            })?;
        if let Some(minimum) = version
            .min_api_version
            .as_deref()
            .and_then(parse_api_version)
            && minimum > ours
        {
            return Err(DockerError::UnsupportedEngine {
                message: format!(
                    "the engine at {} requires API {} or newer; this client speaks up to {}",
                    self.inner.host,
                    format_version(minimum),
                    format_version(ours)
                ),
            });
        }
        if engine_api < OLDEST_SUPPORTED_API {
            return Err(DockerError::UnsupportedEngine {
                message: format!(
                    "the engine at {} speaks API {}; at least {} is needed",
                    self.inner.host,
                    format_version(engine_api),
                    format_version(OLDEST_SUPPORTED_API)
                ),
            });
        }

        let agreed = engine_api.min(ours);
        let docker = self.bollard(REQUEST_TIMEOUT, agreed)?;
        let info = EngineInfo {
            api_version: format_version(agreed),
            engine_version: version.version.unwrap_or_else(|| "unknown".into()),
        };
        log::info!(
            "connected to Docker engine {} at {} (API {})",
            info.engine_version,
            self.inner.host,
            info.api_version
        );
        Ok(Connection { docker, info })
    }

    async fn fetch_version(
        &self,
        api: (u32, u32),
    ) -> Result<bollard::models::SystemVersion, DockerError> {
        let probe = self.bollard(PING_TIMEOUT, api)?;
        probe.version().await.map_err(|err| match err {
            bollard::errors::Error::RequestTimeoutError => {
                self.unreachable_error(format!("no answer within {}s", PING_TIMEOUT.as_secs()))
            }
            err if is_connection_error(&err) => self.unreachable_error(describe(&err)),
            err => {
                let mut failure = self.failure("asking the engine for its version".into(), None);
                failure.timeout_secs = PING_TIMEOUT.as_secs();
                failure.classify(err)
            }
        })
    }

    /// Builds a bollard handle; for a unix socket this only checks the file exists.
    fn bollard(&self, timeout: Duration, api: (u32, u32)) -> Result<Docker, DockerError> {
        let version = ClientVersion {
            major_version: api.0 as usize,
            minor_version: api.1 as usize,
        };
        let result = match &self.inner.endpoint {
            Endpoint::Unix(path) => Docker::connect_with_unix(path, timeout.as_secs(), &version),
            Endpoint::Tcp(addr) => Docker::connect_with_http(addr, timeout.as_secs(), &version),
        };
        result.map_err(|err| match err {
            bollard::errors::Error::SocketNotFoundError(path) => self.unreachable_error(format!(
                "there is no socket at {path} (is the Docker daemon running?)"
            )),
            err => self.unreachable_error(describe(&err)),
        })
    }
}

fn parse_host(host: &str) -> Result<Endpoint, DockerError> {
    let invalid = |message: &str| DockerError::InvalidHost {
        host: host.to_owned(),
        message: message.to_owned(),
    };
    if let Some(path) = host.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(invalid(
                "a unix socket path must be absolute (unix:///path)",
            ));
        }
        return Ok(Endpoint::Unix(host.to_owned()));
    }
    if let Some(addr) = host
        .strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("http://"))
    {
        if addr.trim_end_matches('/').is_empty() {
            return Err(invalid("a tcp host needs an address (tcp://host:port)"));
        }
        return Ok(Endpoint::Tcp(host.to_owned()));
    }
    Err(invalid(
        "expected unix:///path/to/docker.sock or tcp://host:port (TLS and ssh are not supported)",
    ))
}

fn version_pair(version: &ClientVersion) -> (u32, u32) {
    (
        u32::try_from(version.major_version).unwrap_or(u32::MAX),
        u32::try_from(version.minor_version).unwrap_or(u32::MAX),
    )
}

fn parse_api_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn format_version((major, minor): (u32, u32)) -> String {
    format!("{major}.{minor}")
}

/// Reads "… Maximum supported API version is 1.41" out of an engine's refusal.
fn engine_maximum_from_refusal(message: &str) -> Option<(u32, u32)> {
    const MARKER: &str = "Maximum supported API version is ";
    let start = message.find(MARKER)? + MARKER.len();
    let rest = &message[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    parse_api_version(rest[..end].trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_checked_without_io() {
        assert!(DockerClient::new(Some("unix:///nonexistent.sock")).is_ok());
        assert!(DockerClient::new(Some("tcp://127.0.0.1:2375")).is_ok());
        for bad in [
            "unix://relative.sock",
            "ssh://box",
            "https://box:2376",
            "tcp://",
            "/var/run/docker.sock",
        ] {
            let err = DockerClient::new(Some(bad)).unwrap_err();
            assert!(
                matches!(err, DockerError::InvalidHost { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn api_versions_parse_and_order() {
        assert_eq!(parse_api_version("1.41"), Some((1, 41)));
        assert_eq!(parse_api_version("1.9"), Some((1, 9)));
        assert!(parse_api_version("1.9") < parse_api_version("1.41"));
        assert_eq!(parse_api_version("v1"), None);
    }

    #[test]
    fn the_engine_maximum_is_read_from_its_refusal() {
        let refusal = "client version 1.53 is too new. Maximum supported API version is 1.41";
        assert_eq!(engine_maximum_from_refusal(refusal), Some((1, 41)));
        assert_eq!(engine_maximum_from_refusal("page not found"), None);
    }
}
