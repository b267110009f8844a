//! Deploy endpoints: listing, one deploy, its live log, and deciding one that waits for approval.

pub mod decide;
pub mod get;
pub mod list;
pub mod logs;

use serde::Serialize;
use store::DeployView;

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
}

impl From<DeployView> for DeployOut {
    fn from(view: DeployView) -> DeployOut {
        let deploy = view.deploy;
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
        }
    }
}
