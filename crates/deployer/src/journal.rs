//! Recording what a deploy does: every line goes to `deploy_logs` and out as an event, in that order,
//! so a live reader and a late reader see the same numbered lines.

use events::{EventBody, Hub};
use store::{DeployStatus, DeployView, Store};

/// The record keeper of one deploy.
pub(crate) struct Journal {
    store: Store,
    hub: Hub,
    deploy_id: i64,
    project: String,
    stage: String,
    tag: String,
}

impl Journal {
    pub(crate) fn new(store: Store, hub: Hub, view: &DeployView) -> Journal {
        Journal {
            store,
            hub,
            deploy_id: view.deploy.id,
            project: view.project.clone(),
            stage: view.stage.clone(),
            tag: view.deploy.tag.clone(),
        }
    }

    /// Appends a line to the deploy's log. A failure to record is logged, never fatal: the deploy
    /// itself matters more than its diary.
    pub(crate) fn line(&self, message: impl AsRef<str>) {
        let message = message.as_ref();
        log::info!("deploy {}: {message}", self.deploy_id);
        match self.store.append_log(self.deploy_id, message) {
            Ok(line) => {
                self.hub.publish(EventBody::DeployLog {
                    deploy_id: self.deploy_id,
                    seq: line.seq,
                    at_ms: line.at,
                    message: line.message,
                });
            }
            Err(error) => log::error!(
                "deploy {}: cannot record a log line: {error}",
                self.deploy_id
            ),
        }
    }

    /// Announces a change of the deploy's status (already written to the store).
    pub(crate) fn status(&self, status: DeployStatus, reason: Option<&str>) {
        self.hub.publish(EventBody::DeployStatus {
            deploy_id: self.deploy_id,
            project: self.project.clone(),
            stage: self.stage.clone(),
            tag: self.tag.clone(),
            status: status.as_str().to_string(),
            reason: reason.map(str::to_string),
        });
    }

    /// Announces a change of an instance's status (already written to the store).
    pub(crate) fn instance(&self, instance: &store::Instance) {
        self.hub.publish(EventBody::InstanceStatus {
            instance_id: instance.id,
            project: self.project.clone(),
            stage: self.stage.clone(),
            tag: instance.tag.clone(),
            status: instance.status.as_str().to_string(),
            container_name: instance.container_name.clone(),
            address: instance.address.clone(),
        });
    }
}
