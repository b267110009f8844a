//! Instances: containers of one tag in one stage that this tool made and keeps.

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::models::text_enum::text_enum;
use crate::pool::{Store, now_ms};
use crate::schema::{instances, stages};

text_enum! {
    /// What an instance is doing.
    pub enum InstanceStatus {
        /// Its container is being created, started and health-checked.
        Starting => "starting",
        /// Healthy and serving.
        Running => "running",
        /// Its container is stopped but kept.
        Stopped => "stopped",
        /// Its container is gone; the row stays as history.
        Removed => "removed",
        /// Its container stopped on its own.
        Failed => "failed",
    }
}

/// An instance row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = instances)]
pub struct Instance {
    /// Row id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The stage.
    pub stage_id: i64,
    /// The deploy that made it.
    pub deploy_id: i64,
    /// The tag it runs.
    pub tag: String,
    /// The image digest it runs.
    pub digest: Option<String>,
    /// The Docker container id.
    pub container_id: String,
    /// The Docker container name.
    pub container_name: String,
    /// Where it answers, such as `http://172.18.0.3:8080`.
    pub address: Option<String>,
    /// What it is doing.
    pub status: InstanceStatus,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// The domain a proxy routes to it, once routed.
    pub domain: Option<String>,
}

/// An instance with its stage's name.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView {
    /// The instance.
    pub instance: Instance,
    /// Its stage's name.
    pub stage: String,
}

/// The fields of a new instance.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInstance {
    /// See [`Instance::project_id`].
    pub project_id: i64,
    /// See [`Instance::stage_id`].
    pub stage_id: i64,
    /// See [`Instance::deploy_id`].
    pub deploy_id: i64,
    /// See [`Instance::tag`].
    pub tag: String,
    /// See [`Instance::digest`].
    pub digest: Option<String>,
    /// See [`Instance::container_name`].
    pub container_name: String,
}

impl Store {
    /// Records an instance about to be created (status `starting`, no container yet), so its id
    /// can be put on the container's labels.
    pub fn create_instance(&self, new: &NewInstance) -> Result<Instance> {
        let now = now_ms();
        diesel::insert_into(instances::table)
            .values((
                instances::project_id.eq(new.project_id),
                instances::stage_id.eq(new.stage_id),
                instances::deploy_id.eq(new.deploy_id),
                instances::tag.eq(&new.tag),
                instances::digest.eq(&new.digest),
                instances::container_id.eq(""),
                instances::container_name.eq(&new.container_name),
                instances::status.eq(InstanceStatus::Starting),
                instances::created_at.eq(now),
                instances::updated_at.eq(now),
            ))
            .returning(Instance::as_returning())
            .get_result(&mut self.conn()?)
            .context("recording an instance")
    }

    /// Records the id Docker gave the instance's container.
    pub fn attach_container(&self, id: i64, container_id: &str) -> Result<()> {
        diesel::update(instances::table.find(id))
            .set((
                instances::container_id.eq(container_id),
                instances::updated_at.eq(now_ms()),
            ))
            .execute(&mut self.conn()?)
            .context("recording an instance's container")?;
        Ok(())
    }

    /// Marks an instance healthy and serving at `address`.
    pub fn mark_instance_running(&self, id: i64, address: &str) -> Result<Instance> {
        diesel::update(instances::table.find(id))
            .set((
                instances::status.eq(InstanceStatus::Running),
                instances::address.eq(address),
                instances::updated_at.eq(now_ms()),
            ))
            .returning(Instance::as_returning())
            .get_result(&mut self.conn()?)
            .or_not_found(|| format!("instance {id}"))
    }

    /// One instance by id.
    pub fn instance(&self, id: i64) -> Result<Instance> {
        instances::table
            .find(id)
            .select(Instance::as_select())
            .first(&mut self.conn()?)
            .or_not_found(|| format!("instance {id}"))
    }

    /// Records the domain a proxy now routes to the instance.
    pub fn set_instance_domain(&self, id: i64, domain: &str) -> Result<()> {
        diesel::update(instances::table.find(id))
            .set((
                instances::domain.eq(domain),
                instances::updated_at.eq(now_ms()),
            ))
            .execute(&mut self.conn()?)
            .context("recording an instance's domain")?;
        Ok(())
    }

    /// Changes an instance's status.
    pub fn set_instance_status(&self, id: i64, status: InstanceStatus) -> Result<()> {
        diesel::update(instances::table.find(id))
            .set((
                instances::status.eq(status),
                instances::updated_at.eq(now_ms()),
            ))
            .execute(&mut self.conn()?)
            .context("updating an instance")?;
        Ok(())
    }

    /// The instances of a stage that still have a container, oldest first.
    pub fn live_instances_of_stage(&self, stage_id: i64) -> Result<Vec<Instance>> {
        instances::table
            .filter(instances::stage_id.eq(stage_id))
            .filter(instances::status.ne(InstanceStatus::Removed))
            .order(instances::id)
            .select(Instance::as_select())
            .load(&mut self.conn()?)
            .context("listing a stage's instances")
    }

    /// Every instance in one status, oldest first.
    pub fn instances_with_status(&self, status: InstanceStatus) -> Result<Vec<Instance>> {
        instances::table
            .filter(instances::status.eq(status))
            .order(instances::id)
            .select(Instance::as_select())
            .load(&mut self.conn()?)
            .context("listing instances by status")
    }

    /// The instances of a project that still have a container, with stage names, oldest first.
    pub fn live_instances_of_project(&self, project_id: i64) -> Result<Vec<InstanceView>> {
        let rows = instances::table
            .inner_join(stages::table)
            .filter(instances::project_id.eq(project_id))
            .filter(instances::status.ne(InstanceStatus::Removed))
            .order(instances::id)
            .select((Instance::as_select(), stages::name))
            .load::<(Instance, String)>(&mut self.conn()?)
            .context("listing a project's instances")?;
        Ok(rows
            .into_iter()
            .map(|(instance, stage)| InstanceView { instance, stage })
            .collect())
    }
}
