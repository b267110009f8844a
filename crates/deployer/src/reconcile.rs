//! Making the store and the engine agree after a start: the process may have been killed at any
//! step of a deploy. Unfinished deploys end as interrupted; notices the last run did not send
//! are queued again; containers this tool made for this store's projects that no live instance
//! owns are removed (half-made ones included); instances whose container is gone are marked so;
//! a stage left with more running instances than it keeps (killed between the switch and the
//! removal of the old one) keeps the newest, as a deploy would; and each stage's domain is
//! pointed again at the instance that serves it, so a route moved to a container that is now
//! gone comes back.

use std::collections::BTreeMap;

use store::{Instance, InstanceStatus};

use crate::deployer::Deployer;
use crate::error::Result;
use crate::lineup;
use crate::naming::labels;
use crate::routing::{Route, forward_to};
use crate::subdomain;

/// What reconciling did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Deploys that were queued or running and are now interrupted.
    pub interrupted: usize,
    /// Containers removed because no live instance owns them.
    pub removed_containers: usize,
    /// Running instances found healthy and kept.
    pub adopted: usize,
    /// Instances whose container had gone or stopped.
    pub lost: usize,
    /// Routes pointed again at the instance serving them.
    pub rerouted: usize,
    /// Notices the last run accepted and did not send, queued again.
    pub resent_notices: usize,
}

impl Deployer {
    /// Reconciles the store with the engine (and the proxy). Call once at start, before any
    /// deploy is queued. An unreachable engine only skips the container part, with a warning.
    pub fn reconcile(&self) -> Result<Reconciled> {
        let context = self.context();
        let mut done = Reconciled {
            interrupted: context
                .store
                .interrupt_unfinished_deploys(
                    "the server stopped while this deploy was in progress",
                )?
                .len(),
            // Notices about deploys the last run finished (or asked approval for) and did not
            // get to send; sent at least once, so a target may hear of one twice.
            resent_notices: context.notifier.resume_pending(),
            ..Reconciled::default()
        };
        let containers = match context
            .runtime
            .block_on(context.docker.list_containers(&[(labels::PROJECT, None)]))
        {
            Ok(containers) => containers,
            Err(error) => {
                log::warn!("cannot list containers to reconcile them: {error}");
                return Ok(done);
            }
        };
        // Only containers of this store's projects: another server on the same engine (or a
        // project this one no longer has) keeps its containers.
        let projects: Vec<String> = context
            .store
            .projects()?
            .into_iter()
            .map(|project| project.name)
            .collect();
        let ours = containers.into_iter().filter(|container| {
            container
                .labels
                .get(labels::PROJECT)
                .is_some_and(|project| projects.contains(project))
        });
        // The containers whose instance is live; everything else of ours goes.
        let mut live: BTreeMap<i64, docker_client::ContainerSummary> = BTreeMap::new();
        for container in ours {
            let instance = container
                .labels
                .get(labels::INSTANCE)
                .and_then(|id| id.parse::<i64>().ok())
                .and_then(|id| context.store.instance(id).ok());
            match instance {
                Some(instance)
                    if matches!(
                        instance.status,
                        InstanceStatus::Running | InstanceStatus::Stopped
                    ) =>
                {
                    live.insert(instance.id, container);
                }
                other => {
                    self.remove_container(&container.id, &container.name);
                    done.removed_containers += 1;
                    if let Some(instance) = other
                        && instance.status != InstanceStatus::Removed
                    {
                        context
                            .store
                            .set_instance_status(instance.id, InstanceStatus::Removed)?;
                    }
                }
            }
        }
        // Instances the store thinks live, against what the engine has.
        for status in [
            InstanceStatus::Starting,
            InstanceStatus::Running,
            InstanceStatus::Stopped,
        ] {
            for instance in context.store.instances_with_status(status)? {
                match live.get(&instance.id) {
                    None => {
                        log::info!(
                            "instance {} ({}): its container is gone",
                            instance.id,
                            instance.container_name
                        );
                        context
                            .store
                            .set_instance_status(instance.id, InstanceStatus::Removed)?;
                        done.lost += 1;
                    }
                    Some(container)
                        if status == InstanceStatus::Running && container.state != "running" =>
                    {
                        log::warn!(
                            "instance {} ({}): its container is {}",
                            instance.id,
                            instance.container_name,
                            container.state
                        );
                        context
                            .store
                            .set_instance_status(instance.id, InstanceStatus::Failed)?;
                        done.lost += 1;
                    }
                    Some(_) if status == InstanceStatus::Running => done.adopted += 1,
                    Some(_) => {}
                }
            }
        }
        done.rerouted = self.settle_stages()?;
        log::info!(
            "reconciled with the engine: {} deploy(s) interrupted, {} container(s) removed, {} \
             instance(s) kept, {} lost, {} route(s) checked",
            done.interrupted,
            done.removed_containers,
            done.adopted,
            done.lost,
            done.rerouted
        );
        Ok(done)
    }

    /// Per stage: the newest running instance serves; older running ones (a replacement cut
    /// short) are removed, and the stage's domain is pointed at the one that serves.
    fn settle_stages(&self) -> Result<usize> {
        let context = self.context();
        let mut by_stage: BTreeMap<i64, Vec<Instance>> = BTreeMap::new();
        for instance in context
            .store
            .instances_with_status(InstanceStatus::Running)?
        {
            by_stage
                .entry(instance.stage_id)
                .or_default()
                .push(instance);
        }
        let mut rerouted = 0;
        for (stage_id, running) in by_stage {
            let stage = context.store.stage(stage_id)?;
            let (keep, leaving) = lineup::split(stage.max_instances, running);
            let Some(serving) = keep.first() else {
                continue;
            };
            for older in leaving {
                log::info!(
                    "stage {}: finishing the replacement of {} by {}",
                    older.stage_id,
                    older.container_name,
                    serving.container_name
                );
                self.remove_container(&older.container_id, &older.container_name);
                context
                    .store
                    .set_instance_status(older.id, InstanceStatus::Removed)?;
            }
            for instance in &keep {
                if self.reroute(instance, instance.deploy_id == serving.deploy_id)? {
                    rerouted += 1;
                }
            }
        }
        Ok(rerouted)
    }

    /// Points the instance's domain at it again (the proxy may have been switched to a
    /// container that is now gone), and the stage's main domain too when it is the newest of a
    /// stage that runs several tags. False when there is no router.
    pub(crate) fn reroute(&self, instance: &Instance, newest: bool) -> Result<bool> {
        let context = self.context();
        let Some(router) = context.router() else {
            return Ok(false);
        };
        let settings = context.store.settings()?;
        let project = context.store.project(instance.project_id)?;
        let stage = context.store.stage(instance.stage_id)?;
        let main = subdomain::stage_domain(
            &settings.subdomain_pattern,
            &settings.domain,
            &project.name,
            &stage.name,
            stage.subdomain.as_deref(),
        );
        let domain = instance.domain.clone().unwrap_or_else(|| main.clone());
        let port = instance
            .address
            .as_deref()
            .and_then(|address| address.rsplit_once(':'))
            .and_then(|(_, port)| port.parse::<u16>().ok());
        let state = context
            .runtime
            .block_on(context.docker.inspect_container(&instance.container_id));
        let (Some(port), Ok(state)) = (port, state) else {
            log::warn!(
                "instance {}: cannot tell where {domain} should point",
                instance.id
            );
            return Ok(false);
        };
        let (forward_host, forward_port) = match forward_to(&settings, &state, port) {
            Ok(target) => target,
            Err(error) => {
                log::warn!("instance {}: {error}", instance.id);
                return Ok(false);
            }
        };
        let route = Route {
            domain: domain.clone(),
            forward_host,
            forward_port,
            owner: format!("{}/{}", project.name, stage.name),
        };
        let mut routes = vec![route.clone()];
        if newest && main != domain {
            routes.push(Route {
                domain: main,
                ..route
            });
        }
        let mut pointed = false;
        for route in routes {
            match router.point(&route) {
                Ok(said) => {
                    log::info!("route checked: {said}");
                    pointed = true;
                }
                Err(error) => log::warn!("route of {} not checked: {error}", route.domain),
            }
        }
        if pointed && instance.domain.is_none() {
            context.store.set_instance_domain(instance.id, &domain)?;
        }
        Ok(pointed)
    }

    fn remove_container(&self, id: &str, name: &str) {
        let context = self.context();
        match context
            .runtime
            .block_on(context.docker.remove_container(id))
        {
            Ok(_) | Err(docker_client::DockerError::NotFound { .. }) => {
                log::info!("removed container {name}");
            }
            Err(error) => log::warn!("cannot remove container {name}: {error}"),
        }
    }
}
