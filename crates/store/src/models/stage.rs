//! Stages: the lanes of a project (`dev`, `rel`, `prod`, ...).

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::pool::Store;
use crate::schema::stages;

/// A stage row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = stages)]
pub struct Stage {
    /// Row id.
    pub id: i64,
    /// The project this stage belongs to.
    pub project_id: i64,
    /// Name, unique within the project.
    pub name: String,
    /// Glob a tag must match to be deployed here.
    pub tag_pattern: String,
    /// Deploy at once (true) or wait for approval (false).
    pub auto_deploy: bool,
    /// Most instances this stage keeps running.
    pub max_instances: i32,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

/// The fields of a new stage; the project id is filled in on import.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStage {
    /// See [`Stage::name`].
    pub name: String,
    /// See [`Stage::tag_pattern`].
    pub tag_pattern: String,
    /// See [`Stage::auto_deploy`].
    pub auto_deploy: bool,
    /// See [`Stage::max_instances`].
    pub max_instances: i32,
}

impl Store {
    /// The stages of one project, by name.
    pub fn stages_of(&self, project_id: i64) -> Result<Vec<Stage>> {
        stages::table
            .filter(stages::project_id.eq(project_id))
            .order(stages::name)
            .select(Stage::as_select())
            .load(&mut self.conn()?)
            .context("listing stages")
    }

    /// All stages of all projects.
    pub fn all_stages(&self) -> Result<Vec<Stage>> {
        stages::table
            .order((stages::project_id, stages::name))
            .select(Stage::as_select())
            .load(&mut self.conn()?)
            .context("listing stages")
    }

    /// One stage by id.
    pub fn stage(&self, id: i64) -> Result<Stage> {
        stages::table
            .find(id)
            .select(Stage::as_select())
            .first(&mut self.conn()?)
            .or_not_found(|| format!("stage {id}"))
    }
}
