//! What a person can do to an instance outside a deploy: stop it, start it again, restart it,
//! remove it. Removing one stops and removes its container and takes its domain off the proxy,
//! unless another live instance of the stage serves that domain now (after a blue-green switch
//! the domain belongs to the new one). Starting one again re-points its domain at it: the
//! container may come back with another address.

use events::EventBody;
use store::{Instance, InstanceStatus, StoreError};

use crate::container_settings::stop_timeout_of;
use crate::deployer::Deployer;
use crate::error::{DeployerError, Result};
use crate::routing::{Route, forward_to};

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
        let stop_timeout = crate::container_settings::stop_timeout_of(
            &context.store,
            &instance,
            context.config.stop_timeout,
        );
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
        done.extend(self.settle_main_domain(&instance)?);
        log::info!("instance {instance_id}: {}", done.join("; "));
        Ok(done)
    }

    /// After an instance of a stage that runs several tags is removed, the stage's main domain
    /// points at the newest instance left, or goes when none is left.
    fn settle_main_domain(&self, removed: &Instance) -> Result<Vec<String>> {
        let context = self.context();
        let stage = context.store.stage(removed.stage_id)?;
        let Some(router) = context.router() else {
            return Ok(Vec::new());
        };
        if stage.max_instances <= 1 {
            return Ok(Vec::new());
        }
        let newest = context
            .store
            .live_instances_of_stage(stage.id)?
            .into_iter()
            .filter(|instance| instance.status == InstanceStatus::Running)
            .max_by_key(|instance| instance.deploy_id);
        match newest {
            Some(newest) => {
                self.reroute(&newest, true)?;
                Ok(vec![format!(
                    "the stage's main domain points at {}",
                    newest.container_name
                )])
            }
            None => {
                let settings = context.store.settings()?;
                let project = context.store.project(stage.project_id)?;
                let main = crate::subdomain::stage_domain(
                    &settings.subdomain_pattern,
                    &settings.domain,
                    &project.name,
                    &stage.name,
                    stage.subdomain.as_deref(),
                );
                Ok(vec![router.remove(&main)?])
            }
        }
    }

    /// Stops a running instance's container (its own stop timeout and signal); the instance is
    /// kept, `stopped`, and can be started again.
    pub fn stop_instance(&self, instance_id: i64) -> Result<Vec<String>> {
        let context = self.context();
        let instance = self.instance_in(instance_id, &[InstanceStatus::Running])?;
        let timeout = stop_timeout_of(&context.store, &instance, context.config.stop_timeout);
        context
            .runtime
            .block_on(
                context
                    .docker
                    .stop_container(&instance.container_id, timeout),
            )
            .map_err(|error| docker_error(&instance, "stopping", error))?;
        context
            .store
            .set_instance_status(instance.id, InstanceStatus::Stopped)?;
        self.publish_instance(&instance, InstanceStatus::Stopped)?;
        Ok(vec![format!(
            "stopped container {}",
            instance.container_name
        )])
    }

    /// Starts a stopped (or failed) instance's container again, records its address and points
    /// its domain at it.
    pub fn start_instance(&self, instance_id: i64) -> Result<Vec<String>> {
        let instance = self.instance_in(
            instance_id,
            &[InstanceStatus::Stopped, InstanceStatus::Failed],
        )?;
        self.bring_up(&instance, "started")
    }

    /// Stops and starts a running instance's container.
    pub fn restart_instance(&self, instance_id: i64) -> Result<Vec<String>> {
        let mut done = self.stop_instance(instance_id)?;
        let instance = self.context().store.instance(instance_id)?;
        done.extend(self.bring_up(&instance, "restarted")?);
        Ok(done)
    }

    fn bring_up(&self, instance: &Instance, verb: &str) -> Result<Vec<String>> {
        let context = self.context();
        context
            .runtime
            .block_on(context.docker.start_container(&instance.container_id))
            .map_err(|error| docker_error(instance, "starting", error))?;
        let state = context
            .runtime
            .block_on(context.docker.inspect_container(&instance.container_id))
            .map_err(|error| docker_error(instance, "inspecting", error))?;
        let settings = context.store.settings()?;
        let port = instance
            .address
            .as_deref()
            .and_then(|address| address.rsplit_once(':'))
            .and_then(|(_, port)| port.parse::<u16>().ok());
        let mut done = vec![format!("{verb} container {}", instance.container_name)];
        let address = match (state.ip_addresses.get(&settings.network), port) {
            (Some(ip), Some(port)) => format!("http://{ip}:{port}"),
            _ => instance.address.clone().unwrap_or_default(),
        };
        let running = context.store.mark_instance_running(instance.id, &address)?;
        if let (Some(router), Some(domain), Some(port)) =
            (context.router(), instance.domain.as_deref(), port)
        {
            let (forward_host, forward_port) =
                forward_to(&settings, &state, port).map_err(|message| DeployerError::Docker {
                    action: format!("finding where {domain} should point"),
                    message,
                })?;
            let project = context.store.project(instance.project_id)?;
            let stage = context.store.stage(instance.stage_id)?;
            done.push(router.point(&Route {
                domain: domain.to_string(),
                forward_host,
                forward_port,
                owner: format!("{}/{}", project.name, stage.name),
            })?);
        }
        self.publish_instance(&running, InstanceStatus::Running)?;
        Ok(done)
    }

    /// The instance, when it is in one of `allowed`; otherwise a [`StoreError::WrongState`].
    fn instance_in(&self, instance_id: i64, allowed: &[InstanceStatus]) -> Result<Instance> {
        let instance = self.context().store.instance(instance_id)?;
        if !allowed.contains(&instance.status) {
            let expected: Vec<&str> = allowed.iter().map(|status| status.as_str()).collect();
            return Err(StoreError::WrongState {
                what: format!("instance {instance_id}"),
                state: instance.status.to_string(),
                expected: expected.join(" or "),
            }
            .into());
        }
        Ok(instance)
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
