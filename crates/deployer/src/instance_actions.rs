//! What a person can do to a running instance outside a deploy. Removing one stops and removes
//! its container and takes its domain off the proxy, unless another live instance of the stage
//! serves that domain now (after a blue-green switch the domain belongs to the new one).

use events::EventBody;
use store::{Instance, InstanceStatus, StoreError};

use crate::deployer::Deployer;
use crate::error::{DeployerError, Result};

impl Deployer {
    /// Stops and removes instance `instance_id`; returns what was done, in words. An instance
    /// that is already removed is refused ([`StoreError::WrongState`]).
    pub fn remove_instance(&self, instance_id: i64) -> Result<Vec<String>> {
        let context = self.context();
        let instance = context.store.instance(instance_id)?;
        if instance.status == InstanceStatus::Removed {
            return Err(StoreError::WrongState {
                what: format!("instance {instance_id}"),
                state: instance.status.to_string(),
                expected: "live".to_string(),
            }
            .into());
        }
        let mut done = Vec::new();
        if let Some(domain) = instance.domain.as_deref() {
            let shared = context
                .store
                .live_instances_of_stage(instance.stage_id)?
                .into_iter()
                .any(|other| other.id != instance.id && other.domain.as_deref() == Some(domain));
            match context.router() {
                Some(router) if !shared => done.push(router.remove(domain)?),
                Some(_) => done.push(format!("{domain} stays: another instance serves it")),
                None => {}
            }
        }
        let stop_timeout = context.config.stop_timeout;
        let docker = &context.docker;
        // A container that is already gone is what we want; only other failures stop us.
        let stopped = context
            .runtime
            .block_on(docker.stop_container(&instance.container_id, stop_timeout));
        if let Err(error) = stopped
            && !matches!(error, docker_client::DockerError::NotFound { .. })
        {
            return Err(docker_error(&instance, "stopping", error));
        }
        match context
            .runtime
            .block_on(docker.remove_container(&instance.container_id))
        {
            Ok(_) | Err(docker_client::DockerError::NotFound { .. }) => {}
            Err(error) => return Err(docker_error(&instance, "removing", error)),
        }
        done.push(format!("removed container {}", instance.container_name));
        context
            .store
            .set_instance_status(instance.id, InstanceStatus::Removed)?;
        self.publish_instance(&instance, InstanceStatus::Removed)?;
        log::info!("instance {instance_id}: {}", done.join("; "));
        Ok(done)
    }

    fn publish_instance(&self, instance: &Instance, status: InstanceStatus) -> Result<()> {
        let context = self.context();
        let project = context.store.project(instance.project_id)?;
        let stage = context.store.stage(instance.stage_id)?;
        context.hub.publish(EventBody::InstanceStatus {
            instance_id: instance.id,
            project: project.name,
            stage: stage.name,
            tag: instance.tag.clone(),
            status: status.to_string(),
            container_name: instance.container_name.clone(),
            address: instance.address.clone(),
        });
        Ok(())
    }
}

fn docker_error(
    instance: &Instance,
    doing: &str,
    error: docker_client::DockerError,
) -> DeployerError {
    DeployerError::Docker {
        action: format!("{doing} container {}", instance.container_name),
        message: error.to_string(),
    }
}
