//! Importing a whole configuration (settings, projects, stages) at once, as the YAML seed does.

use diesel::prelude::*;

use crate::error::{QueryContext, Result, StoreError};
use crate::models::project::NewProject;
use crate::models::settings::Settings;
use crate::models::stage::NewStage;
use crate::pool::{Store, now_ms};
use crate::schema::{projects, registries, settings, stages};

/// A registry as imported (credentials are added through the API).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRegistry {
    /// Unique name the projects refer to.
    pub name: String,
    /// Base URL, such as `https://git.example.com`.
    pub url: String,
}

/// A project and its stages, as imported together.
#[derive(Debug, Clone)]
pub struct NewProjectWithStages {
    /// The project; its `registry_id` is filled in from `registry`.
    pub project: NewProject,
    /// The name of the registry (among the imported ones) holding the image's credentials.
    pub registry: Option<String>,
    /// Its stages.
    pub stages: Vec<NewStage>,
}

/// Everything a first start writes.
#[derive(Debug, Clone)]
pub struct NewConfiguration {
    /// The settings row (its `id` is always 1).
    pub settings: Settings,
    /// Registries.
    pub registries: Vec<NewRegistry>,
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
            let mut registry_ids = std::collections::HashMap::new();
            for registry in &config.registries {
                let id: i64 = diesel::insert_into(registries::table)
                    .values((
                        registries::name.eq(&registry.name),
                        registries::url.eq(&registry.url),
                        registries::created_at.eq(now_ms()),
                    ))
                    .returning(registries::id)
                    .get_result(conn)
                    .context("writing a registry")?;
                registry_ids.insert(registry.name.as_str(), id);
            }
            for entry in &config.projects {
                let mut project = entry.project.clone();
                project.registry_id = match &entry.registry {
                    None => None,
                    Some(name) => Some(*registry_ids.get(name.as_str()).ok_or_else(|| {
                        StoreError::NotFound {
                            what: format!("registry {name}"),
                        }
                    })?),
                };
                let project_id: i64 = diesel::insert_into(projects::table)
                    .values(&project)
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
