//! Container lifecycle: create, start, inspect, stop, remove, list.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerUpdateBody, EndpointSettings,
    HostConfig, MountPoint, NetworkingConfig, PortBinding, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};

use crate::client::DockerClient;
use crate::error::{DockerError, check_identifier};
use crate::settings::{RestartPolicy, VolumeMount};

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
    /// Named volumes (created by the engine when missing) and host paths to mount.
    pub volumes: Vec<VolumeMount>,
    /// Memory limit in bytes.
    pub memory_bytes: Option<i64>,
    /// CPU limit in billionths of a CPU (`0.5` CPU is 500 000 000).
    pub nano_cpus: Option<i64>,
    /// What the engine does when the container exits; `None` leaves the engine's default (`no`).
    pub restart: Option<RestartPolicy>,
    /// The signal that asks the container to stop (`SIGTERM`, `SIGINT`, …); `None` keeps the
    /// image's `STOPSIGNAL`, else the engine's SIGTERM.
    pub stop_signal: Option<String>,
    /// How long a stop without its own timeout (the engine's own shutdown, a plain
    /// `docker stop`) waits before killing, in whole seconds (rounded up); `None`: the engine's
    /// default (10 s).
    pub stop_timeout: Option<Duration>,
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
            .field("volumes", &self.volumes)
            .field("memory_bytes", &self.memory_bytes)
            .field("nano_cpus", &self.nano_cpus)
            .field("restart", &self.restart)
            .field("stop_signal", &self.stop_signal)
            .field("stop_timeout", &self.stop_timeout)
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
    /// What is mounted into the container, in the engine's order.
    pub mounts: Vec<ContainerMount>,
    /// Memory limit in bytes; `None` when unlimited.
    pub memory_bytes: Option<i64>,
    /// CPU limit in billionths of a CPU; `None` when unlimited.
    pub nano_cpus: Option<i64>,
    /// The restart policy the container has now.
    pub restart: RestartPolicy,
    /// The signal a stop sends (the container's own, or the image's it inherited); `None` when
    /// neither sets one (the engine sends SIGTERM).
    pub stop_signal: Option<String>,
    /// The container's own stop timeout; `None` when it has none (the engine's default applies).
    pub stop_timeout: Option<Duration>,
}

/// One mount of an inspected container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerMount {
    /// "volume", "bind", "tmpfs", …
    pub kind: String,
    /// The volume's name (for a volume), else `None`.
    pub name: Option<String>,
    /// For a bind mount the host path; for a volume where the engine stores it.
    pub source: String,
    /// The path inside the container.
    pub target: String,
    pub read_only: bool,
}

/// One line of a container listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSummary {
    pub id: String,
    /// Without the engine's leading '/'.
    pub name: String,
    /// The image as the container was created with it.
    pub image: String,
    /// The id of the image it runs ("sha256:…"), whatever name it was created with.
    pub image_id: String,
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

    /// Changes the restart policy of an existing (possibly running) container.
    pub async fn set_restart_policy(
        &self,
        id_or_name: &str,
        policy: RestartPolicy,
    ) -> Result<(), DockerError> {
        check_identifier("container", id_or_name)?;
        let docker = self.docker().await?;
        let body = ContainerUpdateBody {
            restart_policy: Some(restart_policy(policy)),
            ..Default::default()
        };
        docker
            .update_container(id_or_name, body)
            .await
            .map_err(|err| {
                self.container_failure("updating the restart policy of", id_or_name, err)
            })?;
        log::info!("container {id_or_name}: restart policy {policy}");
        Ok(())
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
                image_id: container.image_id.unwrap_or_default(),
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
        stop_signal: spec.stop_signal.clone(),
        stop_timeout: spec.stop_timeout.map(whole_seconds),
        host_config: Some(HostConfig {
            network_mode: spec.network.clone(),
            // `Binds` take both forms the way `docker run -v` does: a missing named volume is
            // created, a missing host directory too.
            binds: (!spec.volumes.is_empty())
                .then(|| spec.volumes.iter().map(VolumeMount::to_string).collect()),
            memory: spec.memory_bytes,
            nano_cpus: spec.nano_cpus,
            restart_policy: spec.restart.map(restart_policy),
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

/// Whole seconds, rounded up: the engine counts stop timeouts in seconds.
fn whole_seconds(duration: Duration) -> i64 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i64::try_from(secs).unwrap_or(i64::MAX)
}

fn restart_policy(policy: RestartPolicy) -> bollard::models::RestartPolicy {
    let (name, retries) = match policy {
        RestartPolicy::No => (RestartPolicyNameEnum::NO, None),
        RestartPolicy::Always => (RestartPolicyNameEnum::ALWAYS, None),
        RestartPolicy::UnlessStopped => (RestartPolicyNameEnum::UNLESS_STOPPED, None),
        RestartPolicy::OnFailure { max_retries } => (
            RestartPolicyNameEnum::ON_FAILURE,
            // 0 is "no limit" to the engine.
            Some(i64::from(max_retries.unwrap_or(0))),
        ),
    };
    bollard::models::RestartPolicy {
        name: Some(name),
        maximum_retry_count: retries,
    }
}

fn restart_policy_of(policy: Option<bollard::models::RestartPolicy>) -> RestartPolicy {
    let policy = policy.unwrap_or_default();
    match policy.name {
        Some(RestartPolicyNameEnum::ALWAYS) => RestartPolicy::Always,
        Some(RestartPolicyNameEnum::UNLESS_STOPPED) => RestartPolicy::UnlessStopped,
        Some(RestartPolicyNameEnum::ON_FAILURE) => RestartPolicy::OnFailure {
            max_retries: policy
                .maximum_retry_count
                .filter(|count| *count > 0)
                .and_then(|count| u32::try_from(count).ok()),
        },
        Some(RestartPolicyNameEnum::NO | RestartPolicyNameEnum::EMPTY) | None => RestartPolicy::No,
    }
}

fn container_mount(mount: MountPoint) -> ContainerMount {
    ContainerMount {
        kind: mount.typ.unwrap_or_default(),
        name: mount.name.filter(|name| !name.is_empty()),
        source: mount.source.unwrap_or_default(),
        target: mount.destination.unwrap_or_default(),
        read_only: !mount.rw.unwrap_or(true),
    }
}

pub(crate) fn container_state(inspect: ContainerInspectResponse) -> ContainerState {
    let state = inspect.state.unwrap_or_default();
    let host_config = inspect.host_config.unwrap_or_default();
    let config = inspect.config.unwrap_or_default();
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
        labels: config.labels.unwrap_or_default().into_iter().collect(),
        mounts: inspect
            .mounts
            .unwrap_or_default()
            .into_iter()
            .map(container_mount)
            .collect(),
        // The engine reports "no limit" as 0.
        memory_bytes: host_config.memory.filter(|bytes| *bytes > 0),
        nano_cpus: host_config.nano_cpus.filter(|nanos| *nanos > 0),
        restart: restart_policy_of(host_config.restart_policy),
        stop_signal: config.stop_signal.filter(|signal| !signal.is_empty()),
        stop_timeout: config
            .stop_timeout
            .and_then(|secs| u64::try_from(secs).ok())
            .map(Duration::from_secs),
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
    fn volumes_limits_restart_and_stop_settings_go_into_the_body() {
        let spec = ContainerSpec {
            volumes: vec![
                VolumeMount::parse("shop-data:/data").unwrap(),
                VolumeMount::parse("/srv/shop:/srv:ro").unwrap(),
            ],
            memory_bytes: Some(64 << 20),
            nano_cpus: Some(500_000_000),
            restart: Some(RestartPolicy::OnFailure {
                max_retries: Some(3),
            }),
            stop_signal: Some("SIGINT".into()),
            stop_timeout: Some(Duration::from_millis(2500)),
            ..Default::default()
        };
        let body = container_body(&spec);
        assert_eq!(body.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(body.stop_timeout, Some(3), "rounded up to whole seconds");
        let host = body.host_config.unwrap();
        assert_eq!(
            host.binds,
            Some(vec![
                "shop-data:/data".to_owned(),
                "/srv/shop:/srv:ro".to_owned()
            ])
        );
        assert_eq!(host.memory, Some(64 << 20));
        assert_eq!(host.nano_cpus, Some(500_000_000));
        assert_eq!(
            host.restart_policy,
            Some(bollard::models::RestartPolicy {
                name: Some(RestartPolicyNameEnum::ON_FAILURE),
                maximum_retry_count: Some(3),
            })
        );
        let unlimited = restart_policy(RestartPolicy::OnFailure { max_retries: None });
        assert_eq!(unlimited.maximum_retry_count, Some(0));
        assert_eq!(
            restart_policy(RestartPolicy::UnlessStopped).name,
            Some(RestartPolicyNameEnum::UNLESS_STOPPED)
        );
    }

    #[test]
    fn a_plain_spec_leaves_the_engine_and_image_defaults() {
        let body = container_body(&ContainerSpec::default());
        assert_eq!((body.stop_signal, body.stop_timeout), (None, None));
        let host = body.host_config.unwrap();
        assert_eq!(host.binds, None);
        assert_eq!((host.memory, host.nano_cpus), (None, None));
        assert_eq!(host.restart_policy, None);
    }

    #[test]
    fn inspected_mounts_limits_restart_and_stop_settings_are_read_back() {
        let inspect = ContainerInspectResponse {
            mounts: Some(vec![
                MountPoint {
                    typ: Some("volume".into()),
                    name: Some("shop-data".into()),
                    source: Some("/var/lib/docker/volumes/shop-data/_data".into()),
                    destination: Some("/data".into()),
                    rw: Some(true),
                    ..Default::default()
                },
                MountPoint {
                    typ: Some("bind".into()),
                    name: Some(String::new()),
                    source: Some("/srv/shop".into()),
                    destination: Some("/srv".into()),
                    rw: Some(false),
                    ..Default::default()
                },
            ]),
            host_config: Some(HostConfig {
                memory: Some(64 << 20),
                nano_cpus: Some(0),
                restart_policy: Some(bollard::models::RestartPolicy {
                    name: Some(RestartPolicyNameEnum::ON_FAILURE),
                    maximum_retry_count: Some(0),
                }),
                ..Default::default()
            }),
            config: Some(bollard::models::ContainerConfig {
                stop_signal: Some("SIGINT".into()),
                stop_timeout: Some(7),
                ..Default::default()
            }),
            ..Default::default()
        };
        let state = container_state(inspect);
        assert_eq!(
            state.mounts,
            [
                ContainerMount {
                    kind: "volume".into(),
                    name: Some("shop-data".into()),
                    source: "/var/lib/docker/volumes/shop-data/_data".into(),
                    target: "/data".into(),
                    read_only: false,
                },
                ContainerMount {
                    kind: "bind".into(),
                    name: None,
                    source: "/srv/shop".into(),
                    target: "/srv".into(),
                    read_only: true,
                },
            ]
        );
        assert_eq!(state.memory_bytes, Some(64 << 20));
        assert_eq!(state.nano_cpus, None, "0 is no limit");
        assert_eq!(
            state.restart,
            RestartPolicy::OnFailure { max_retries: None }
        );
        assert_eq!(state.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(state.stop_timeout, Some(Duration::from_secs(7)));

        let bare = container_state(ContainerInspectResponse {
            host_config: Some(HostConfig {
                restart_policy: Some(bollard::models::RestartPolicy {
                    name: Some(RestartPolicyNameEnum::EMPTY),
                    maximum_retry_count: Some(0),
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(bare.restart, RestartPolicy::No);
        assert!(bare.mounts.is_empty());
        assert_eq!((bare.stop_signal, bare.stop_timeout), (None, None));
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
