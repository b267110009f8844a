//! Nginx Proxy Manager as a [`Router`]: one proxy host per routed domain, marked as ours in its
//! `meta`, so a host somebody made by hand is never taken over or deleted.

use npm_client::{
    ForwardScheme, NewProxyHost, NpmClient, NpmConfig, NpmError, ProxyHost, ProxyHostPatch,
};
use serde_json::{Map, Value};
use store::{SecretPlace, Settings, secret_columns};

use crate::routing::{Route, RouteError, Router};
use crate::secrets::Secrets;

/// The `meta` key that marks a proxy host as made by this tool; its value says for whom.
pub const META_MARKER: &str = "docker_watcher";

/// Settings every proxy host this tool makes gets (the `npm` part of the settings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NpmHostOptions {
    /// The TLS certificate NPM should serve.
    pub certificate_id: Option<u64>,
    /// Redirect http to https.
    pub ssl_forced: bool,
    /// Pass WebSocket upgrades through.
    pub allow_websocket_upgrade: bool,
    /// An NPM access list guarding the host.
    pub access_list_id: Option<u64>,
}

/// Routes through NPM's API.
pub struct NpmRouter {
    client: NpmClient,
    options: NpmHostOptions,
}

impl NpmRouter {
    /// A router over an NPM client (it logs in when first used).
    pub fn new(client: NpmClient, options: NpmHostOptions) -> NpmRouter {
        NpmRouter { client, options }
    }

    /// The router the settings describe: `None` when no NPM is configured (no `npm.url`). The
    /// password is opened here, once, and kept only inside the client.
    pub fn from_settings(
        settings: &Settings,
        secrets: &Secrets,
    ) -> Result<Option<NpmRouter>, String> {
        let Some(url) = settings.npm_url.as_deref() else {
            return Ok(None);
        };
        let identity = settings
            .npm_identity
            .as_deref()
            .ok_or("settings.npm has a url but no identity")?;
        let place = SecretPlace::new(secret_columns::NPM_PASSWORD, settings.id);
        let sealed = settings
            .npm_password
            .as_ref()
            .ok_or("settings.npm has a url but no password")?;
        let password = secrets
            .open(place, sealed)
            .map_err(|error| format!("the NPM password cannot be opened: {error}"))?;
        let client = NpmClient::new(url, identity, password.expose(), NpmConfig::default())
            .map_err(|error| error.to_string())?;
        let id = |value: Option<i64>| {
            value
                .and_then(|id| u64::try_from(id).ok())
                .filter(|id| *id > 0)
        };
        let options = NpmHostOptions {
            certificate_id: id(settings.npm_certificate_id),
            ssl_forced: settings.npm_ssl_forced,
            allow_websocket_upgrade: settings.npm_allow_websocket_upgrade,
            access_list_id: id(settings.npm_access_list_id),
        };
        Ok(Some(NpmRouter::new(client, options)))
    }

    /// NPM's address, for logs.
    pub fn npm(&self) -> &str {
        self.client.npm()
    }

    fn create(&self, route: &Route) -> Result<String, RouteError> {
        let mut host = NewProxyHost::new(
            [route.domain.clone()],
            ForwardScheme::Http,
            route.forward_host.clone(),
            route.forward_port,
        );
        host.certificate_id = self.options.certificate_id;
        host.ssl_forced = Some(self.options.ssl_forced);
        host.allow_websocket_upgrade = Some(self.options.allow_websocket_upgrade);
        host.access_list_id = self.options.access_list_id;
        host.meta = Some(marker(route));
        let created = self
            .client
            .create_proxy_host(&host)
            .map_err(|error| route_error(&route.domain, error))?;
        if let Some(message) = offline(&created) {
            // A host nginx refused serves nothing; leave no broken host behind.
            if let Err(error) = self.client.delete_proxy_host(created.id) {
                log::warn!(
                    "NPM: cannot delete the refused proxy host {}: {error}",
                    created.id
                );
            }
            return Err(RouteError::Offline {
                domain: route.domain.clone(),
                message,
            });
        }
        Ok(format!(
            "created NPM proxy host {} for {}",
            created.id, route.domain
        ))
    }

    fn repoint(&self, route: &Route, host: &ProxyHost) -> Result<String, RouteError> {
        let patch = ProxyHostPatch {
            forward_scheme: Some(ForwardScheme::Http),
            forward_host: Some(route.forward_host.clone()),
            forward_port: Some(route.forward_port),
            meta: Some(marker(route)),
            ..ProxyHostPatch::default()
        };
        let updated = self
            .client
            .update_proxy_host(host.id, &patch)
            .map_err(|error| route_error(&route.domain, error))?;
        if let Some(message) = offline(&updated) {
            // Put the previous target back so the old instance keeps serving.
            let back = ProxyHostPatch {
                forward_scheme: Some(host.forward_scheme),
                forward_host: Some(host.forward_host.clone()),
                forward_port: Some(host.forward_port),
                ..ProxyHostPatch::default()
            };
            if let Err(error) = self.client.update_proxy_host(host.id, &back) {
                log::warn!(
                    "NPM: cannot restore proxy host {} to {}:{}: {error}",
                    host.id,
                    host.forward_host,
                    host.forward_port
                );
            }
            return Err(RouteError::Offline {
                domain: route.domain.clone(),
                message,
            });
        }
        if !host.enabled {
            self.client
                .enable_proxy_host(host.id)
                .map_err(|error| route_error(&route.domain, error))?;
        }
        Ok(format!(
            "NPM proxy host {} for {} now forwards to {}:{} (was {}:{})",
            host.id,
            route.domain,
            route.forward_host,
            route.forward_port,
            host.forward_host,
            host.forward_port
        ))
    }
}

impl Router for NpmRouter {
    fn point(&self, route: &Route) -> Result<String, RouteError> {
        let existing = self
            .client
            .find_proxy_host(&route.domain)
            .map_err(|error| route_error(&route.domain, error))?;
        match existing {
            None => self.create(route),
            Some(host) if is_ours(&host) => self.repoint(route, &host),
            Some(host) => Err(RouteError::Foreign {
                domain: route.domain.clone(),
                detail: format!(
                    "NPM proxy host {} forwarding to {}:{}",
                    host.id, host.forward_host, host.forward_port
                ),
            }),
        }
    }

    fn remove(&self, domain: &str) -> Result<String, RouteError> {
        let existing = self
            .client
            .find_proxy_host(domain)
            .map_err(|error| route_error(domain, error))?;
        match existing {
            None => Ok(format!("no NPM proxy host for {domain}")),
            Some(host) if !is_ours(&host) => Ok(format!(
                "NPM proxy host {} for {domain} was not made by Docker Watcher; left alone",
                host.id
            )),
            Some(host) => {
                self.client
                    .delete_proxy_host(host.id)
                    .map_err(|error| route_error(domain, error))?;
                Ok(format!("deleted NPM proxy host {} for {domain}", host.id))
            }
        }
    }
}

fn marker(route: &Route) -> Map<String, Value> {
    Map::from_iter([(META_MARKER.to_string(), Value::String(route.owner.clone()))])
}

fn is_ours(host: &ProxyHost) -> bool {
    host.meta.other.contains_key(META_MARKER)
}

/// NPM's complaint when nginx did not take the host's configuration.
fn offline(host: &ProxyHost) -> Option<String> {
    (host.meta.nginx_online == Some(false)).then(|| {
        host.meta
            .nginx_err
            .clone()
            .unwrap_or_else(|| "nginx did not accept the configuration".into())
    })
}

fn route_error(domain: &str, error: NpmError) -> RouteError {
    match error {
        NpmError::Api {
            status: 400,
            message,
            ..
        } => RouteError::Refused {
            domain: domain.to_string(),
            message,
        },
        other => RouteError::Unavailable(other.to_string()),
    }
}
