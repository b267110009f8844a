//! Idle extra instances: a stage that runs several tags side by side and sets `expire_after`
//! removes an instance that is not its newest once it is that old (nobody redeployed its tag).
//! A sweeper thread looks every minute; the newest instance of a stage is never expired, it
//! serves the stage's main domain.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use store::InstanceStatus;

use crate::deployer::Deployer;
use crate::error::Result;

impl Deployer {
    /// Removes the instances idle past their stage's `expire_after` as of `now_ms` (ms since the
    /// epoch); returns what was done.
    pub fn expire_instances_at(&self, now_ms: i64) -> Result<Vec<String>> {
        let store = &self.context().store;
        let mut done = Vec::new();
        for stage in store.all_stages()? {
            let Some(expire_after) = stage.expire_after_ms else {
                continue;
            };
            let mut live = store.live_instances_of_stage(stage.id)?;
            live.sort_by_key(|instance| std::cmp::Reverse(instance.deploy_id));
            let newest_running = live
                .iter()
                .find(|instance| instance.status == InstanceStatus::Running)
                .map(|instance| instance.id);
            for instance in live {
                if Some(instance.id) == newest_running
                    || now_ms.saturating_sub(instance.created_at) < expire_after
                {
                    continue;
                }
                log::info!(
                    "instance {} ({}, tag {}) has been idle past {}ms: removing it",
                    instance.id,
                    instance.container_name,
                    instance.tag,
                    expire_after
                );
                match self.remove_instance(instance.id) {
                    Ok(steps) => done.extend(steps),
                    Err(error) => log::warn!("cannot expire instance {}: {error}", instance.id),
                }
            }
        }
        Ok(done)
    }

    /// Runs [`Deployer::expire_instances_at`] every `interval` on a thread of its own until the
    /// handle is dropped.
    pub fn spawn_expiry(&self, interval: Duration) -> ExpiryHandle {
        let (stop, stopped) = mpsc::channel::<()>();
        let deployer = self.clone();
        let spawned = std::thread::Builder::new()
            .name("dw-expiry".into())
            .spawn(move || {
                loop {
                    match stopped.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    if let Err(error) = deployer.expire_instances_at(store::now_ms()) {
                        log::warn!("expiring idle instances failed: {error}");
                    }
                }
            });
        if let Err(error) = spawned {
            log::error!("cannot start the idle-instance sweeper: {error}");
        }
        ExpiryHandle { _stop: stop }
    }
}

/// Keeps the sweeper running; dropping it stops the sweeper at its next wake-up at the latest.
pub struct ExpiryHandle {
    _stop: mpsc::Sender<()>,
}
