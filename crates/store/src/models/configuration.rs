//! Importing a whole configuration (settings, projects, stages) at once, as the YAML seed does.

use diesel::prelude::*;

use crate::error::{QueryContext, Result, StoreError};
use crate::models::project::NewProject;
use crate::models::settings::Settings;
use crate::models::stage::NewStage;
use crate::pool::Store;
use crate::schema::{projects, settings, stages};

/// A project and its stages, as imported together.
#[derive(Debug, Clone)]
pub struct NewProjectWithStages {
    /// The project.
    pub project: NewProject,
    /// Its stages.
    pub stages: Vec<NewStage>,
}

/// Everything a first start writes.
#[derive(Debug, Clone)]
pub struct NewConfiguration {
    /// The settings row (its `id` is always 1).
    pub settings: Settings,
    /// Projects with their stages.
    pub projects: Vec<NewProjectWithStages>,
}

impl Store {
    /// Whether a configuration has been imported (the settings row exists).
    pub fn is_configured(&self) -> Result<bool> {
        let count: i64 = settings::table
            .count()
            .get_result(&mut self.conn()?)
            .context("checking for settings")?;
        Ok(count > 0)
    }

    /// Writes a configuration into an empty database, all or nothing.
    pub fn import_configuration(&self, config: &NewConfiguration) -> Result<()> {
        let mut conn = self.conn()?;
        conn.immediate_transaction(|conn| {
            let existing: i64 = settings::table
                .count()
                .get_result(conn)
                .context("checking for settings")?;
            if existing > 0 {
                return Err(StoreError::Conflict {
                    what: "configuration import".into(),
                    message: "the database already holds a configuration".into(),
                });
            }
            let mut settings_row = config.settings.clone();
            settings_row.id = 1;
            diesel::insert_into(settings::table)
                .values(&settings_row)
                .execute(conn)
                .context("writing settings")?;
            for entry in &config.projects {
                let project_id: i64 = diesel::insert_into(projects::table)
                    .values(&entry.project)
                    .returning(projects::id)
                    .get_result(conn)
                    .context("writing a project")?;
                for stage in &entry.stages {
                    diesel::insert_into(stages::table)
                        .values((
                            stages::project_id.eq(project_id),
                            stages::name.eq(&stage.name),
                            stages::tag_pattern.eq(&stage.tag_pattern),
                            stages::auto_deploy.eq(stage.auto_deploy),
                            stages::max_instances.eq(stage.max_instances),
                            stages::created_at.eq(entry.project.created_at),
                        ))
                        .execute(conn)
                        .context("writing a stage")?;
                }
            }
            Ok(())
        })
    }
}
