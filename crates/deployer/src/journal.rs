//! Recording what a deploy does: every line goes to `deploy_logs` and out as an event, in that order,
//! so a live reader and a late reader see the same numbered lines. The steps it goes through
//! (pull, create, start, …) are timed here too and written to `deploy_steps` as each ends.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use events::{EventBody, Hub};
use store::{DeployStatus, DeployStep, DeployView, StepOutcome, Store};

/// The record keeper of one deploy.
pub(crate) struct Journal {
    store: Store,
    hub: Hub,
    deploy_id: i64,
    project: String,
    stage: String,
    tag: String,
    /// The step under way, if any.
    step: Mutex<Option<OpenStep>>,
}

/// A step that has started and not yet ended.
struct OpenStep {
    name: &'static str,
    /// ms since the epoch, for the record.
    started_at: i64,
    /// For the duration: the wall clock may jump, this does not.
    started: Instant,
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
            step: Mutex::new(None),
        }
    }

    /// Starts step `name`; the step under way, if any, ends as passed. The last step ends with
    /// [`Journal::end_step`] (or, should the deploy panic, as failed when the journal is dropped).
    pub(crate) fn step(&self, name: &'static str) {
        let mut open = self.open_step();
        self.close(open.take(), StepOutcome::Ok);
        *open = Some(OpenStep {
            name,
            started_at: store::now_ms(),
            started: Instant::now(),
        });
    }

    /// Ends the step under way, if any, as passed (`ok`) or as the one the deploy failed in.
    pub(crate) fn end_step(&self, ok: bool) {
        let outcome = if ok {
            StepOutcome::Ok
        } else {
            StepOutcome::Failed
        };
        let step = self.open_step().take();
        self.close(step, outcome);
    }

    fn open_step(&self) -> MutexGuard<'_, Option<OpenStep>> {
        self.step
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a step that ended; like a log line, a failure to record is only logged.
    fn close(&self, step: Option<OpenStep>, outcome: StepOutcome) {
        let Some(step) = step else {
            return;
        };
        let record = DeployStep {
            deploy_id: self.deploy_id,
            name: step.name.to_string(),
            started_at: step.started_at,
            duration_ms: i64::try_from(step.started.elapsed().as_millis()).unwrap_or(i64::MAX),
            outcome,
        };
        if let Err(error) = self.store.record_step(&record) {
            log::error!(
                "deploy {}: cannot record step {}: {error}",
                self.deploy_id,
                step.name
            );
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

impl Drop for Journal {
    /// A step still under way when the journal goes is one the deploy did not get through.
    fn drop(&mut self) {
        self.end_step(false);
    }
}
