//! Deploy endpoints: listing, one deploy, its live log, and deciding one that waits for approval.

pub mod decide;
pub mod get;
pub mod list;
pub mod logs;

use serde::Serialize;
use store::{ContainerSettings, DeployStep, DeployView};

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
    /// Who approved it, for a deploy that waited for approval (`api 127.0.0.1`).
    approved_by: Option<String>,
    /// Who rejected it, for a rejected deploy.
    rejected_by: Option<String>,
    /// The deploy a promotion or rollback repeats.
    source_deploy_id: Option<i64>,
    /// The steps it went through, in order; shown for one deploy, left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<Vec<StepOut>>,
}

/// One step of a deploy as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct StepOut {
    name: String,
    started_at: String,
    duration_ms: i64,
    /// `ok`, or `failed` for the step the deploy failed in.
    outcome: &'static str,
}

impl DeployOut {
    /// The deploy with the steps it went through.
    pub(crate) fn with_steps(mut self, steps: Vec<DeployStep>) -> DeployOut {
        self.steps = Some(
            steps
                .into_iter()
                .map(|step| StepOut {
                    name: step.name,
                    started_at: rfc3339(step.started_at),
                    duration_ms: step.duration_ms,
                    outcome: step.outcome.as_str(),
                })
                .collect(),
        );
        self
    }
}

impl From<DeployView> for DeployOut {
    fn from(view: DeployView) -> DeployOut {
        let deploy = view.deploy;
        let container_settings = deploy.recorded_settings();
        let approved_by = deploy.approved_by().map(str::to_string);
        let rejected_by = deploy.rejected_by().map(str::to_string);
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
            approved_by,
            rejected_by,
            source_deploy_id: deploy.source_deploy_id,
            steps: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use store::{Deploy, DeployStatus, StepOutcome, Trigger};

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
                decided_by: None,
                source_deploy_id: None,
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

    #[test]
    fn one_deploy_shows_its_steps_approver_and_source() {
        let mut view = view(None);
        view.deploy.status = DeployStatus::Failed;
        view.deploy.trigger = Trigger::Promote;
        view.deploy.decided_by = Some("api 127.0.0.1".into());
        view.deploy.source_deploy_id = Some(2);
        let step = |name: &str, started_at: i64, duration_ms: i64, outcome| DeployStep {
            deploy_id: 3,
            name: name.into(),
            started_at,
            duration_ms,
            outcome,
        };
        let steps = vec![
            step("pull", 1_764_778_155_000, 1_250, StepOutcome::Ok),
            step("health", 1_764_778_156_250, 30_004, StepOutcome::Failed),
        ];
        let shown = serde_json::to_value(DeployOut::from(view.clone()).with_steps(steps)).unwrap();
        assert_eq!(shown["approved_by"], "api 127.0.0.1");
        assert_eq!(shown["rejected_by"], serde_json::Value::Null);
        assert_eq!(shown["source_deploy_id"], 2);
        assert_eq!(
            shown["steps"],
            serde_json::json!([
                {"name": "pull", "started_at": "2025-12-03T16:09:15.000Z", "duration_ms": 1250, "outcome": "ok"},
                {"name": "health", "started_at": "2025-12-03T16:09:16.250Z", "duration_ms": 30004, "outcome": "failed"},
            ])
        );
        // In a list, a deploy comes without its steps.
        let listed = serde_json::to_value(DeployOut::from(view.clone())).unwrap();
        assert!(listed.get("steps").is_none(), "{listed}");
        // A rejected deploy names who rejected it, not an approver.
        view.deploy.status = DeployStatus::Rejected;
        let rejected = serde_json::to_value(DeployOut::from(view)).unwrap();
        assert_eq!(rejected["approved_by"], serde_json::Value::Null);
        assert_eq!(rejected["rejected_by"], "api 127.0.0.1");
    }
}
