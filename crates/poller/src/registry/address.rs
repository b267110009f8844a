//! Where a registry's API lives, from the address a user or an image reference gives.

use super::RegistryError;

/// Docker Hub's API is not served from the names users write.
const DOCKER_HUB_NAMES: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];
const DOCKER_HUB_API: &str = "https://registry-1.docker.io";

/// A registry's origin: scheme, host and port, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    /// `http://127.0.0.1:5000`.
    pub origin: String,
    /// `127.0.0.1:5000`: how errors name the registry.
    pub authority: String,
}

impl Base {
    /// Reads `http(s)://host[:port]` with an optional trailing slash.
    pub fn parse(base: &str) -> Result<Base, RegistryError> {
        let invalid = |reason: &str| RegistryError::InvalidAddress {
            base: base.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = base.trim().trim_end_matches('/');
        let (scheme, authority) = trimmed
            .split_once("://")
            .ok_or_else(|| invalid("it needs a scheme, http:// or https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(invalid("the scheme must be http or https"));
        }
        if authority.is_empty() {
            return Err(invalid("it has no host"));
        }
        if authority.contains(['/', '?', '#', '@', ' ']) {
            // The API lives at /v2/ of the host; a path here would be silently ignored.
            return Err(invalid("give only scheme, host and port, without a path"));
        }
        let origin = format!("{scheme}://{authority}");
        origin
            .parse::<ureq::http::Uri>()
            .map_err(|err| invalid(&err.to_string()))?;
        Ok(Base {
            origin,
            authority: authority.to_owned(),
        })
    }
}

/// The API address of the registry named `host[:port]` in an image reference: plain http for
/// the loopback addresses (as Docker allows without configuration), https for everything
/// else, and Docker Hub's API host for its user-facing names.
pub(crate) fn base_for_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    let lower = host.to_ascii_lowercase();
    if DOCKER_HUB_NAMES.contains(&lower.as_str()) {
        return DOCKER_HUB_API.to_owned();
    }
    // An unbracketed IPv6 loopback cannot carry a port; bracket it so it is a valid authority.
    if lower == "::1" {
        return "http://[::1]".to_owned();
    }
    let hostname = if lower.starts_with('[') {
        lower.split_inclusive(']').next().unwrap_or(&lower)
    } else {
        lower.split(':').next().unwrap_or(&lower)
    };
    let loopback = hostname == "localhost"
        || hostname == "[::1]"
        || hostname
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        format!("http://{host}")
    } else {
        format!("https://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_http_everything_else_https() {
        assert_eq!(base_for_host("localhost:5000"), "http://localhost:5000");
        assert_eq!(base_for_host("127.0.0.1:46629"), "http://127.0.0.1:46629");
        assert_eq!(base_for_host("127.0.0.1"), "http://127.0.0.1");
        assert_eq!(base_for_host("[::1]:5000"), "http://[::1]:5000");
        assert_eq!(base_for_host("::1"), "http://[::1]");
        assert_eq!(base_for_host("ghcr.io"), "https://ghcr.io");
        assert_eq!(
            base_for_host("git.example.com:3000"),
            "https://git.example.com:3000"
        );
        assert_eq!(
            base_for_host("localhost.example.com"),
            "https://localhost.example.com"
        );
    }

    #[test]
    fn docker_hub_names_map_to_its_api_host() {
        for name in [
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "Docker.IO",
        ] {
            assert_eq!(base_for_host(name), "https://registry-1.docker.io");
        }
    }

    #[test]
    fn bases_are_scheme_host_and_port() {
        let base = Base::parse("http://127.0.0.1:5000/").unwrap();
        assert_eq!(base.origin, "http://127.0.0.1:5000");
        assert_eq!(base.authority, "127.0.0.1:5000");
        assert_eq!(
            Base::parse("HTTPS://ghcr.io").unwrap().origin,
            "https://ghcr.io"
        );
        for bad in [
            "ghcr.io",
            "ftp://ghcr.io",
            "https://",
            "https://ghcr.io/v2/",
            "https://user@ghcr.io",
            "https://gh cr.io",
        ] {
            let err = Base::parse(bad).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
