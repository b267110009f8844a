//! A container's own health check: the HEALTHCHECK it runs and the results the engine recorded.

use bollard::models::{ContainerInspectResponse, HealthcheckResult};

use crate::client::DockerClient;
use crate::containers::{ContainerState, container_state};
use crate::error::{DockerError, check_identifier};
use crate::images::{Healthcheck, healthcheck};

/// A container's state together with what its health check says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerHealth {
    /// The container's state; [`ContainerState::health`] is the engine's verdict.
    pub state: ContainerState,
    /// The health check the container runs (its image's HEALTHCHECK unless overridden);
    /// `None` when it runs none.
    pub healthcheck: Option<Healthcheck>,
    /// The most recent results, oldest first (the engine keeps the last five).
    pub log: Vec<HealthResult>,
    /// How often the engine restarted the container (its restart policy) since it was created.
    pub restart_count: i64,
    /// The code of its last exit, while it is stopped or waiting to be restarted.
    pub exit_code: Option<i64>,
}

/// One run of a container's health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthResult {
    /// When the run started, RFC 3339 as the engine wrote it.
    pub start: Option<String>,
    /// 0 is healthy, anything else a failure (-1 when the engine could not run the check).
    pub exit_code: Option<i64>,
    /// What the check printed (the engine keeps its first 4 KiB), trimmed.
    pub output: String,
}

impl ContainerHealth {
    /// The engine's verdict: "starting", "healthy" or "unhealthy"; `None` when the container has
    /// no health check (the engine reports none, or, like Podman, an empty status).
    pub fn status(&self) -> Option<&str> {
        self.state
            .health
            .as_deref()
            .filter(|status| !status.is_empty() && *status != "none")
    }

    /// Whether the container stopped since it was started: it is not running, or its restart
    /// policy is restarting (or has restarted) it. The engine counts a restarting container as
    /// running, so `running` alone would miss a container that crashes in a loop.
    pub fn has_exited(&self) -> bool {
        !self.state.running || self.state.status == "restarting" || self.restart_count > 0
    }

    /// The latest result, if any run finished.
    pub fn last_result(&self) -> Option<&HealthResult> {
        self.log.last()
    }
}

impl DockerClient {
    /// Inspects a container for its health: its state, its health check and the latest results.
    pub async fn inspect_health(&self, id_or_name: &str) -> Result<ContainerHealth, DockerError> {
        check_identifier("container", id_or_name)?;
        let docker = self.docker().await?;
        let inspect = docker
            .inspect_container(id_or_name, None)
            .await
            .map_err(|err| self.container_failure("inspecting", id_or_name, err))?;
        Ok(container_health(inspect))
    }
}

fn container_health(inspect: ContainerInspectResponse) -> ContainerHealth {
    let healthcheck = inspect
        .config
        .as_ref()
        .and_then(|config| config.healthcheck.clone())
        .and_then(healthcheck);
    let log = inspect
        .state
        .as_ref()
        .and_then(|state| state.health.as_ref())
        .and_then(|health| health.log.clone())
        .unwrap_or_default()
        .into_iter()
        .map(health_result)
        .collect();
    let restart_count = inspect.restart_count.unwrap_or(0);
    let exit_code = inspect.state.as_ref().and_then(|state| {
        let status = state.status.map(|status| status.to_string());
        matches!(status.as_deref(), Some("exited" | "dead" | "restarting"))
            .then_some(state.exit_code)
            .flatten()
    });
    ContainerHealth {
        state: container_state(inspect),
        healthcheck,
        log,
        restart_count,
        exit_code,
    }
}

fn health_result(result: HealthcheckResult) -> HealthResult {
    HealthResult {
        start: result.start.filter(|start| !start.is_empty()),
        exit_code: result.exit_code,
        output: result.output.unwrap_or_default().trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bollard::models::{
        ContainerConfig, ContainerStateStatusEnum, Health, HealthConfig, HealthStatusEnum,
    };

    use super::*;

    fn inspect(health: Option<Health>, check: Option<HealthConfig>) -> ContainerInspectResponse {
        ContainerInspectResponse {
            state: Some(bollard::models::ContainerState {
                status: Some(ContainerStateStatusEnum::RUNNING),
                running: Some(true),
                health,
                ..Default::default()
            }),
            config: Some(ContainerConfig {
                healthcheck: check,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn an_unhealthy_container_shows_its_check_and_last_output() {
        let health = Health {
            status: Some(HealthStatusEnum::UNHEALTHY),
            failing_streak: Some(3),
            log: Some(vec![
                HealthcheckResult {
                    start: Some("2026-12-03T10:00:00.1Z".into()),
                    exit_code: Some(1),
                    output: Some("first\n".into()),
                    ..Default::default()
                },
                HealthcheckResult {
                    start: Some("2026-12-03T10:00:01.1Z".into()),
                    exit_code: Some(1),
                    output: Some("database unreachable\n".into()),
                    ..Default::default()
                },
            ]),
        };
        let check = HealthConfig {
            test: Some(vec!["CMD".into(), "false".into()]),
            interval: Some(1_000_000_000),
            retries: Some(2),
            ..Default::default()
        };
        let found = container_health(inspect(Some(health), Some(check)));
        assert_eq!(found.status(), Some("unhealthy"));
        let last = found.last_result().unwrap();
        assert_eq!(
            (last.exit_code, last.output.as_str()),
            (Some(1), "database unreachable")
        );
        assert_eq!(found.log.len(), 2);
        let check = found.healthcheck.unwrap();
        assert_eq!(check.interval, Some(Duration::from_secs(1)));
        assert_eq!(check.retries, Some(2));
    }

    #[test]
    fn a_container_its_restart_policy_restarts_has_exited_with_its_code() {
        let mut restarting = inspect(None, None);
        restarting.restart_count = Some(1);
        let state = restarting.state.as_mut().unwrap();
        state.status = Some(ContainerStateStatusEnum::RESTARTING);
        // The engine counts a restarting container as running.
        state.running = Some(true);
        state.exit_code = Some(3);
        let found = container_health(restarting.clone());
        assert!(found.has_exited());
        assert_eq!((found.exit_code, found.restart_count), (Some(3), 1));

        // Up again after the restart: the exit code is gone, the count remains.
        let state = restarting.state.as_mut().unwrap();
        state.status = Some(ContainerStateStatusEnum::RUNNING);
        state.exit_code = Some(0);
        let found = container_health(restarting);
        assert!(found.has_exited());
        assert_eq!(found.exit_code, None);

        let running = container_health(inspect(None, None));
        assert!(!running.has_exited());
        assert_eq!((running.exit_code, running.restart_count), (None, 0));
    }

    #[test]
    fn no_health_check_an_empty_status_and_none_all_mean_none() {
        let without = container_health(inspect(None, None));
        assert_eq!((without.status(), &without.healthcheck), (None, &None));
        assert!(without.last_result().is_none());
        for status in [HealthStatusEnum::EMPTY, HealthStatusEnum::NONE] {
            let health = Health {
                status: Some(status),
                ..Default::default()
            };
            assert_eq!(container_health(inspect(Some(health), None)).status(), None);
        }
        let disabled = HealthConfig {
            test: Some(vec!["NONE".into()]),
            ..Default::default()
        };
        assert_eq!(
            container_health(inspect(None, Some(disabled))).healthcheck,
            None
        );
    }
}
