//! Deploys a person asks for: "deploy this tag to this stage". A stage with `promote_from`
//! takes only what runs healthy in its source stage, and then exactly that digest (trigger
//! `promote`); any other stage takes a tag the registry has (asked before anything is queued, so
//! a typo is refused at once, not after a failed pull).

use events::EventBody;
use poller::{ClientConfig, ImageName, ImageReference, PollTarget, RegistryClient, RegistryError};
use store::{NewDeploy, Trigger};

use crate::deployer::Deployer;
use crate::error::{DeployerError, Result};
use crate::gates::{self, Gate};
use crate::matching::RecordedDeploy;

impl Deployer {
    /// Queues a deploy of `tag` to stage `stage_name` of project `project_name`.
    pub fn deploy_tag(
        &self,
        project_name: &str,
        stage_name: &str,
        tag: &str,
    ) -> Result<RecordedDeploy> {
        let store = &self.context().store;
        let (project, stage) = self.project_and_stage(project_name, stage_name)?;
        let name = ImageName::parse(&project.image).map_err(|error| {
            DeployerError::Refused(format!("project {project_name}: unusable image: {error}"))
        })?;
        let reference = ImageReference::with_tag(&name, tag)
            .map_err(|error| DeployerError::BadInput(format!("tag {tag:?}: {error}")))?;
        let (image, digest, source) =
            match gates::check(store, &project, &stage, &reference, None, true)? {
                Gate::Open {
                    image,
                    digest,
                    source,
                } => (image, digest, source),
                Gate::Closed(reason) => return Err(DeployerError::Refused(reason)),
            };
        let (trigger, digest) = match digest {
            // Promotion: the digest that runs in the source stage.
            Some(digest) => (Trigger::Promote, digest),
            None => (Trigger::Manual, self.registry_digest(&project, &reference)?),
        };
        let deploy = store.create_deploy(&NewDeploy {
            project_id: project.id,
            stage_id: stage.id,
            tag: tag.to_string(),
            image,
            trigger,
            digest: Some(digest),
            source_deploy_id: source,
        })?;
        self.context().hub.publish(EventBody::DeployQueued {
            deploy_id: deploy.id,
            project: project.name.clone(),
            stage: stage.name.clone(),
            tag: tag.to_string(),
        });
        self.enqueue(stage.id, deploy.id);
        log::info!(
            "deploy {}: {trigger} of {} to {}/{}",
            deploy.id,
            deploy.image,
            project.name,
            stage.name
        );
        Ok(RecordedDeploy {
            deploy_id: deploy.id,
            project: project.name,
            stage: stage.name,
            tag: tag.to_string(),
            status: deploy.status,
        })
    }

    /// A project and one of its stages, by name; either unknown is not found.
    fn project_and_stage(
        &self,
        project_name: &str,
        stage_name: &str,
    ) -> Result<(store::Project, store::Stage)> {
        let store = &self.context().store;
        let project = store.project_by_name(project_name)?;
        let stage = store
            .stages_of(project.id)?
            .into_iter()
            .find(|stage| stage.name == stage_name)
            .ok_or_else(|| store::StoreError::NotFound {
                what: format!("stage {stage_name} of project {project_name}"),
            })?;
        Ok((project, stage))
    }

    /// The digest the registry has for `reference`; a tag it does not have is refused.
    fn registry_digest(
        &self,
        project: &store::Project,
        reference: &ImageReference,
    ) -> Result<String> {
        let registry = match project.registry_id {
            Some(id) => Some(self.context().store.registry(id)?),
            None => None,
        };
        let credentials = match &registry {
            Some(registry) => self
                .credentials(registry)
                .map_err(DeployerError::Registry)?,
            None => None,
        };
        let name = reference.name();
        let client = RegistryClient::for_image(
            name.registry(),
            registry.as_ref().map(|registry| registry.url.as_str()),
            credentials,
            ClientConfig::default(),
        )
        .map_err(|error| DeployerError::Registry(error.to_string()))?;
        let tag = reference.tag().unwrap_or("latest");
        match client.digest(name.repository(), tag) {
            Ok(digest) => Ok(digest),
            Err(RegistryError::ManifestUnknown { .. }) => Err(DeployerError::TagNotFound(format!(
                "{reference} is not in the registry"
            ))),
            Err(error) => Err(DeployerError::Registry(error.to_string())),
        }
    }
}

impl Deployer {
    /// Rolls stage `stage_name` back: a new deploy (trigger `rollback`) of the image the stage
    /// ran before its current instance, by the same digest and with the same recorded container
    /// settings (environment, mounts, limits, restart and stop), whatever the project says now.
    pub fn rollback(&self, project_name: &str, stage_name: &str) -> Result<RecordedDeploy> {
        let store = &self.context().store;
        let (project, stage) = self.project_and_stage(project_name, stage_name)?;
        let current = store
            .live_instances_of_stage(stage.id)?
            .into_iter()
            .filter(|instance| instance.status == store::InstanceStatus::Running)
            .max_by_key(|instance| instance.deploy_id)
            .ok_or_else(|| {
                DeployerError::Refused(format!(
                    "stage {stage_name} runs nothing, so there is nothing to roll back"
                ))
            })?;
        let earlier = store
            .succeeded_before(stage.id, current.deploy_id)?
            .ok_or_else(|| {
                DeployerError::Refused(format!(
                    "stage {stage_name} has no healthy deploy before deploy {}",
                    current.deploy_id
                ))
            })?;
        let (Some(digest), Some(recorded)) = (earlier.digest.clone(), earlier.recorded_settings())
        else {
            return Err(DeployerError::Refused(format!(
                "deploy {} recorded no digest or container settings, so it cannot be repeated \
                 exactly",
                earlier.id
            )));
        };
        let name = ImageName::parse(&project.image).map_err(|error| {
            DeployerError::Refused(format!("project {project_name}: unusable image: {error}"))
        })?;
        let deploy = store.create_deploy(&NewDeploy {
            project_id: project.id,
            stage_id: stage.id,
            tag: earlier.tag.clone(),
            image: format!("{name}:{}@{digest}", earlier.tag),
            trigger: Trigger::Rollback,
            digest: Some(digest),
            source_deploy_id: Some(earlier.id),
        })?;
        store.record_container_settings(deploy.id, &recorded)?;
        self.context().hub.publish(EventBody::DeployQueued {
            deploy_id: deploy.id,
            project: project.name.clone(),
            stage: stage.name.clone(),
            tag: earlier.tag.clone(),
        });
        self.enqueue(stage.id, deploy.id);
        log::info!(
            "deploy {}: rolling {}/{} back to deploy {} ({})",
            deploy.id,
            project.name,
            stage.name,
            earlier.id,
            earlier.tag
        );
        Ok(RecordedDeploy {
            deploy_id: deploy.id,
            project: project.name,
            stage: stage.name,
            tag: earlier.tag,
            status: deploy.status,
        })
    }
}
