//! Deploy endpoints: listing, one deploy, its live log, and deciding one that waits for approval.

pub mod decide;
pub mod get;
pub mod list;
pub mod logs;

use serde::Serialize;
use store::{ContainerSettings, DeployView};

use crate::time::rfc3339;

/// A deploy as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct DeployOut {
    id: i64,
    project: String,
    stage: String,
    tag: String,
    image: String,
    digest: Option<String>,
    status: &'static str,
    reason: Option<String>,
    trigger: &'static str,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    /// What the deploy created its container with (secret variables by name only); `null` until
    /// the container is about to be created.
    container_settings: Option<ContainerSettings>,
}

impl From<DeployView> for DeployOut {
    fn from(view: DeployView) -> DeployOut {
        let deploy = view.deploy;
        let container_settings = deploy.recorded_settings();
        DeployOut {
            id: deploy.id,
            project: view.project,
            stage: view.stage,
            tag: deploy.tag,
            image: deploy.image,
            digest: deploy.digest,
            status: deploy.status.as_str(),
            reason: deploy.reason,
            trigger: deploy.trigger.as_str(),
            created_at: rfc3339(deploy.created_at),
            started_at: deploy.started_at.map(rfc3339),
            finished_at: deploy.finished_at.map(rfc3339),
            container_settings,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use store::{Deploy, DeployStatus, Trigger};

    use super::*;

    fn view(container_settings: Option<String>) -> DeployView {
        DeployView {
            deploy: Deploy {
                id: 3,
                short_id: "0a1b2c3d".into(),
                project_id: 1,
                stage_id: 2,
                tag: "v1".into(),
                image: "r.test/acme/shop:v1".into(),
                digest: Some("sha256:abcd".into()),
                trigger: Trigger::Webhook,
                status: DeployStatus::Succeeded,
                reason: None,
                created_at: 0,
                started_at: Some(1),
                finished_at: Some(2),
                container_settings,
            },
            project: "shop".into(),
            stage: "dev".into(),
        }
    }

    #[test]
    fn a_deploy_shows_its_container_settings_with_secret_variables_by_name() {
        let settings = ContainerSettings {
            image: "r.test/acme/shop@sha256:abcd".into(),
            port: 8080,
            network: "dw".into(),
            env: BTreeMap::from([("LOG_LEVEL".to_string(), "info".to_string())]),
            secret_env: vec!["DATABASE_URL".into()],
            volumes: vec!["shop-data:/data".into(), "/srv/shop:/srv:ro".into()],
            memory_bytes: Some(256 << 20),
            nano_cpus: Some(500_000_000),
            restart: "unless-stopped".into(),
            stop_signal: Some("SIGINT".into()),
            stop_timeout_secs: 30,
        };
        let shown = serde_json::to_value(DeployOut::from(view(Some(settings.to_json())))).unwrap();
        assert_eq!(
            shown["container_settings"],
            serde_json::json!({
                "image": "r.test/acme/shop@sha256:abcd",
                "port": 8080,
                "network": "dw",
                "env": {"LOG_LEVEL": "info"},
                "secret_env": ["DATABASE_URL"],
                "volumes": ["shop-data:/data", "/srv/shop:/srv:ro"],
                "memory_bytes": 268435456,
                "nano_cpus": 500000000,
                "restart": "unless-stopped",
                "stop_signal": "SIGINT",
                "stop_timeout_secs": 30,
            })
        );
        let unrecorded = serde_json::to_value(DeployOut::from(view(None))).unwrap();
        assert_eq!(unrecorded["container_settings"], serde_json::Value::Null);
    }
}
