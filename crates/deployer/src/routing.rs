//! What the deployer needs from a reverse proxy: point a domain at a container, and take the
//! domain away again. The deployer speaks only this trait; [`crate::NpmRouter`] adapts Nginx Proxy
//! Manager to it, and another proxy can be added the same way.

/// One domain and where its traffic goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The full domain, such as `stage-dev-shop.example.com`.
    pub domain: String,
    /// The host the proxy forwards to: a container name, a container address or the host's.
    pub forward_host: String,
    /// The port it forwards to.
    pub forward_port: u16,
    /// Who the route is for, such as `shop/dev`, recorded with the proxy entry so a person
    /// looking at the proxy sees which deploy tool made it and why.
    pub owner: String,
}

/// Why a route could not be set or removed.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The domain already has a proxy entry that this tool did not make.
    #[error(
        "{domain} is already routed by a proxy host this tool did not make ({detail}); remove it or choose another subdomain"
    )]
    Foreign {
        /// The domain.
        domain: String,
        /// What the proxy has for it.
        detail: String,
    },
    /// The proxy could not be reached or would not let us in.
    #[error("the proxy cannot be used: {0}")]
    Unavailable(String),
    /// The proxy refused the request.
    #[error("the proxy refused the route for {domain}: {message}")]
    Refused {
        /// The domain.
        domain: String,
        /// The proxy's reason.
        message: String,
    },
    /// The proxy took the route but reports that its web server cannot serve it.
    #[error("the proxy reports the route for {domain} offline: {message}")]
    Offline {
        /// The domain.
        domain: String,
        /// The proxy's reason.
        message: String,
    },
}

/// A reverse proxy the deployer can route through. Implementations block; they are called from
/// deploy worker threads.
pub trait Router: Send + Sync {
    /// Makes `route.domain` forward to `route.forward_host:forward_port`: creates the entry, or
    /// repoints the one this tool made. Never takes over an entry someone else made. Returns
    /// what it did, in words, for the deploy log.
    fn point(&self, route: &Route) -> Result<String, RouteError>;

    /// Removes the entry for `domain` if this tool made it; no entry is not an error. Returns what
    /// it did, in words.
    fn remove(&self, domain: &str) -> Result<String, RouteError>;
}

/// Where the proxy forwards a stage's domain (the settings' `route_target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteTarget {
    /// The container's name: the proxy runs in Docker on the shared network (the default).
    ContainerName,
    /// The container's address on the shared network.
    ContainerIp,
    /// A port published on the host's loopback address: the proxy runs on the host.
    PublishedPort,
}

impl RouteTarget {
    pub(crate) fn of(settings: &store::Settings) -> RouteTarget {
        match settings.route_target.as_str() {
            "container_ip" => RouteTarget::ContainerIp,
            "published_port" => RouteTarget::PublishedPort,
            // Configuration is checked before it is stored; anything else is the default.
            _ => RouteTarget::ContainerName,
        }
    }
}

/// The host and port the proxy should forward to for a container listening on `port`.
pub(crate) fn forward_to(
    settings: &store::Settings,
    state: &docker_client::ContainerState,
    port: u16,
) -> Result<(String, u16), String> {
    match RouteTarget::of(settings) {
        RouteTarget::ContainerName => Ok((state.name.clone(), port)),
        RouteTarget::ContainerIp => state
            .ip_addresses
            .get(&settings.network)
            .map(|ip| (ip.clone(), port))
            .ok_or_else(|| {
                format!(
                    "the container has no address on the network {}",
                    settings.network
                )
            }),
        RouteTarget::PublishedPort => state
            .published_ports
            .get(&port)
            .map(|published| ("127.0.0.1".to_string(), *published))
            .ok_or_else(|| format!("the container's port {port} was not published")),
    }
}
