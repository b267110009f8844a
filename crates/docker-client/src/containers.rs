//! Container lifecycle: create, start, inspect, stop, remove, list.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, EndpointSettings, HostConfig, NetworkingConfig,
    PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};

use crate::client::DockerClient;
use crate::error::{DockerError, check_identifier};

/// The engine sends this for a container that never started.
const NEVER: &str = "0001-01-01T00:00:00Z";

/// What to create. The engine's defaults apply to everything not listed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    pub name: String,
    /// A full image reference; the image must already be local.
    pub image: String,
    pub labels: BTreeMap<String, String>,
    pub env: Vec<(String, String)>,
    /// A user-defined network to attach to (instead of the default bridge).
    pub network: Option<String>,
    /// A TCP port to declare as exposed, in addition to the image's own.
    pub exposed_port: Option<u16>,
    /// Publish `exposed_port` on a free port of the host's loopback address (for a proxy that
    /// runs on the host, outside Docker); see [`ContainerState::published_ports`].
    pub publish_port: bool,
    /// Replaces the image's CMD.
    pub cmd: Option<Vec<String>>,
}

// Hand-written because environment values are often secrets: only their names are shown.
impl std::fmt::Debug for ContainerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env_names: Vec<&str> = self.env.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ContainerSpec")
            .field("name", &self.name)
            .field("image", &self.image)
            .field("labels", &self.labels)
            .field("env", &env_names)
            .field("network", &self.network)
            .field("exposed_port", &self.exposed_port)
            .field("publish_port", &self.publish_port)
            .field("cmd", &self.cmd)
            .finish()
    }
}

/// A container's state as inspected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub id: String,
    /// Without the engine's leading '/'.
    pub name: String,
    /// "created", "running", "exited", …
    pub status: String,
    pub running: bool,
    /// Set once the container has stopped ("exited" or "dead").
    pub exit_code: Option<i64>,
    /// "starting", "healthy" or "unhealthy"; `None` when the container has no health check.
    pub health: Option<String>,
    /// RFC 3339; `None` if it never started.
    pub started_at: Option<String>,
    /// Network name → IPv4 address, for each network with an address.
    pub ip_addresses: BTreeMap<String, String>,
    /// Container TCP port → the host port it is published on, for each published port.
    pub published_ports: BTreeMap<u16, u16>,
    pub labels: BTreeMap<String, String>,
}

/// One line of a container listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSummary {
    pub id: String,
    /// Without the engine's leading '/'.
    pub name: String,
    /// The image as the container was created with it.
    pub image: String,
    /// "created", "running", "exited", …
    pub state: String,
    pub labels: BTreeMap<String, String>,
}

impl DockerClient {
    /// Creates (does not start) a container and returns its id.
    ///
    /// A name already taken gives [`DockerError::NameConflict`], a missing
    /// image [`DockerError::NotFound`]: nothing is pulled implicitly.
    pub async fn create_container(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
        check_identifier("container name", &spec.name)?;
        check_identifier("image reference", &spec.image)?;
        let docker = self.docker().await?;

        let options = CreateContainerOptionsBuilder::new()
            .name(&spec.name)
            .build();
        let response = docker
            .create_container(Some(options), container_body(spec))
            .await
            .map_err(|err| match err {
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                } => DockerError::NameConflict {
                    name: spec.name.clone(),
                },
                err => self
                    .failure(
                        format!("creating container {} from {}", spec.name, spec.image),
                        Some(format!("image {}", spec.image)),
                    )
                    .classify(err),
            })?;
        for warning in &response.warnings {
            log::warn!("creating container {}: {warning}", spec.name);
        }
        log::info!("created container {} ({})", spec.name, response.id);
        Ok(response.id)
    }

    /// Starts a container; starting a running one is not an error.
    pub async fn start_container(&self, id_or_name: &str) -> Result<(), DockerError> {
        check_identifier("container", id_or_name)?;
        let docker = self.docker().await?;
        docker
            .start_container(id_or_name, None)
            .await
            .map_err(|err| self.container_failure("starting", id_or_name, err))
    }

    pub async fn inspect_container(&self, id_or_name: &str) -> Result<ContainerState, DockerError> {
        check_identifier("container", id_or_name)?;
        let docker = self.docker().await?;
        let inspect = docker
            .inspect_container(id_or_name, None)
            .await
            .map_err(|err| self.container_failure("inspecting", id_or_name, err))?;
        Ok(container_state(inspect))
    }

    /// Asks the container to stop, killing it after `timeout`; an already
    /// stopped container is fine.
    pub async fn stop_container(
        &self,
        id_or_name: &str,
        timeout: Duration,
    ) -> Result<(), DockerError> {
        check_identifier("container", id_or_name)?;
        // The engine only answers once the container is down, so the request
        // may legitimately take the whole grace period.
        let grace_secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
        let docker = self
            .docker()
            .await?
            .with_timeout(Duration::from_secs(grace_secs) + crate::client::REQUEST_TIMEOUT);
        let options = StopContainerOptionsBuilder::new()
            .t(i32::try_from(grace_secs).unwrap_or(i32::MAX))
            .build();
        docker
            .stop_container(id_or_name, Some(options))
            .await
            .map_err(|err| self.container_failure("stopping", id_or_name, err))?;
        log::info!("stopped container {id_or_name}");
        Ok(())
    }

    /// Force-removes a container and its anonymous volumes; true if it existed.
    pub async fn remove_container(&self, id_or_name: &str) -> Result<bool, DockerError> {
        check_identifier("container", id_or_name)?;
        let docker = self.docker().await?;
        let options = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match docker.remove_container(id_or_name, Some(options)).await {
            Ok(()) => {
                log::info!("removed container {id_or_name}");
                Ok(true)
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            // Someone else is already removing it: the outcome is the same.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409,
                message,
            }) if message.contains("already in progress") => Ok(true),
            Err(err) => Err(self.container_failure("removing", id_or_name, err)),
        }
    }

    /// All containers, running or not, carrying every given label; a `None`
    /// value matches any value of that label.
    pub async fn list_containers(
        &self,
        label_filter: &[(&str, Option<&str>)],
    ) -> Result<Vec<ContainerSummary>, DockerError> {
        let docker = self.docker().await?;
        let labels: Vec<String> = label_filter
            .iter()
            .map(|(key, value)| match value {
                Some(value) => format!("{key}={value}"),
                None => (*key).to_owned(),
            })
            .collect();
        let mut builder = ListContainersOptionsBuilder::new().all(true);
        if !labels.is_empty() {
            builder = builder.filters(&HashMap::from([("label", labels.clone())]));
        }
        let containers = docker
            .list_containers(Some(builder.build()))
            .await
            .map_err(|err| {
                self.failure(format!("listing containers labelled {labels:?}"), None)
                    .classify(err)
            })?;
        Ok(containers
            .into_iter()
            .map(|container| ContainerSummary {
                id: container.id.unwrap_or_default(),
                name: container
                    .names
                    .and_then(|names| names.into_iter().next())
                    .map(|name| name.trim_start_matches('/').to_owned())
                    .unwrap_or_default(),
                image: container.image.unwrap_or_default(),
                state: container.state.map(|s| s.to_string()).unwrap_or_default(),
                labels: container.labels.unwrap_or_default().into_iter().collect(),
            })
            .collect())
    }

    pub(crate) fn container_failure(
        &self,
        doing: &str,
        id_or_name: &str,
        err: bollard::errors::Error,
    ) -> DockerError {
        self.failure(
            format!("{doing} container {id_or_name}"),
            Some(format!("container {id_or_name}")),
        )
        .classify(err)
    }
}

fn container_body(spec: &ContainerSpec) -> ContainerCreateBody {
    let labels: HashMap<String, String> = spec
        .labels
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let env: Vec<String> = spec
        .env
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        labels: Some(labels),
        env: Some(env),
        cmd: spec.cmd.clone(),
        exposed_ports: spec.exposed_port.map(|port| vec![format!("{port}/tcp")]),
        host_config: Some(HostConfig {
            network_mode: spec.network.clone(),
            port_bindings: spec.exposed_port.filter(|_| spec.publish_port).map(|port| {
                // Loopback only: the proxy on the host reaches it, the network does not. An
                // empty host port lets the engine pick a free one.
                let binding = PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(String::new()),
                };
                HashMap::from([(format!("{port}/tcp"), Some(vec![binding]))])
            }),
            ..Default::default()
        }),
        networking_config: spec.network.as_ref().map(|network| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                network.clone(),
                EndpointSettings::default(),
            )])),
        }),
        ..Default::default()
    }
}

fn container_state(inspect: ContainerInspectResponse) -> ContainerState {
    let state = inspect.state.unwrap_or_default();
    let status = state.status.map(|s| s.to_string()).unwrap_or_default();
    let stopped = matches!(status.as_str(), "exited" | "dead");
    ContainerState {
        id: inspect.id.unwrap_or_default(),
        name: inspect
            .name
            .map(|name| name.trim_start_matches('/').to_owned())
            .unwrap_or_default(),
        running: state.running.unwrap_or(false),
        exit_code: state.exit_code.filter(|_| stopped),
        health: state
            .health
            .and_then(|health| health.status)
            .map(|status| status.to_string())
            .filter(|status| !status.is_empty()),
        started_at: state.started_at.filter(|at| !at.is_empty() && at != NEVER),
        published_ports: inspect
            .network_settings
            .as_ref()
            .and_then(|settings| settings.ports.as_ref())
            .map(published_ports)
            .unwrap_or_default(),
        ip_addresses: inspect
            .network_settings
            .and_then(|settings| settings.networks)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(network, endpoint)| {
                endpoint
                    .ip_address
                    .filter(|ip| !ip.is_empty())
                    .map(|ip| (network, ip))
            })
            .collect(),
        labels: inspect
            .config
            .and_then(|config| config.labels)
            .unwrap_or_default()
            .into_iter()
            .collect(),
        status,
    }
}

/// `{"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}]}` → `{8080: 49153}`.
fn published_ports(ports: &HashMap<String, Option<Vec<PortBinding>>>) -> BTreeMap<u16, u16> {
    ports
        .iter()
        .filter_map(|(key, bindings)| {
            let container_port = key.strip_suffix("/tcp")?.parse().ok()?;
            let host_port = bindings
                .iter()
                .flatten()
                .find_map(|binding| binding.host_port.as_deref()?.parse().ok())?;
            Some((container_port, host_port))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_debug_shows_env_names_but_not_values() {
        let spec = ContainerSpec {
            name: "dw-web".into(),
            image: "acme/web:1".into(),
            env: vec![("DATABASE_PASSWORD".into(), "s3cret".into())],
            ..Default::default()
        };
        let shown = format!("{spec:?}");
        assert!(
            shown.contains("DATABASE_PASSWORD") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn the_body_attaches_the_network_and_exposes_the_port() {
        let spec = ContainerSpec {
            name: "dw-web".into(),
            image: "acme/web:1".into(),
            env: vec![("A".into(), "1=2".into())],
            network: Some("dw-net".into()),
            exposed_port: Some(8080),
            ..Default::default()
        };
        let body = container_body(&spec);
        assert_eq!(body.env, Some(vec!["A=1=2".to_owned()]));
        assert_eq!(body.exposed_ports, Some(vec!["8080/tcp".to_owned()]));
        assert_eq!(
            body.host_config.unwrap().network_mode.as_deref(),
            Some("dw-net")
        );
        assert!(
            body.networking_config
                .unwrap()
                .endpoints_config
                .unwrap()
                .contains_key("dw-net")
        );
        assert_eq!(body.cmd, None);
        assert_eq!(
            container_body(&spec).host_config.unwrap().port_bindings,
            None,
            "nothing is published unless asked"
        );
    }

    #[test]
    fn a_published_port_binds_a_free_loopback_port_and_is_read_back() {
        let spec = ContainerSpec {
            exposed_port: Some(8080),
            publish_port: true,
            ..Default::default()
        };
        let bindings = container_body(&spec).host_config.unwrap().port_bindings;
        let binding = PortBinding {
            host_ip: Some("127.0.0.1".into()),
            host_port: Some(String::new()),
        };
        assert_eq!(
            bindings,
            Some(HashMap::from([(
                "8080/tcp".to_owned(),
                Some(vec![binding])
            )]))
        );
        let inspected = HashMap::from([
            (
                "8080/tcp".to_owned(),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some("49153".into()),
                }]),
            ),
            ("9000/tcp".to_owned(), None),
            ("53/udp".to_owned(), Some(vec![])),
        ]);
        assert_eq!(published_ports(&inspected), BTreeMap::from([(8080, 49153)]));
    }

    #[test]
    fn a_never_started_container_has_no_start_time_or_exit_code() {
        let inspect = ContainerInspectResponse {
            name: Some("/dw-web".into()),
            state: Some(bollard::models::ContainerState {
                status: Some(bollard::models::ContainerStateStatusEnum::CREATED),
                running: Some(false),
                exit_code: Some(0),
                started_at: Some(NEVER.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let state = container_state(inspect);
        assert_eq!(state.name, "dw-web");
        assert_eq!(state.status, "created");
        assert_eq!(state.exit_code, None);
        assert_eq!(state.started_at, None);
        assert_eq!(state.health, None);
    }
}
