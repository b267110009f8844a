//! Projects: one application, one image repository.

use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::pool::Store;
use crate::schema::projects;

/// A project row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = projects)]
pub struct Project {
    /// Row id.
    pub id: i64,
    /// Unique name, such as `shop`.
    pub name: String,
    /// Canonical image name without tag, such as `git.example.com/acme/shop`.
    pub image: String,
    /// The registry holding credentials for the image; anonymous when absent.
    pub registry_id: Option<i64>,
    /// Container port; when absent the image's first exposed port is used.
    pub port: Option<i32>,
    /// Path probed by the HTTP health check.
    pub health_path: String,
    /// Time between health probes.
    pub health_interval_ms: i64,
    /// Time one probe may take.
    pub health_timeout_ms: i64,
    /// Failed probes tolerated (after the start period) before the deploy fails.
    pub health_retries: i32,
    /// Time after start during which failed probes do not count.
    pub health_start_period_ms: i64,
    /// Plain environment variables, a JSON object.
    pub env: String,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Volume mounts (`name:/path`, `/host:/path[:ro]`), a JSON array.
    pub volumes: String,
    /// Memory limit in bytes.
    pub memory_bytes: Option<i64>,
    /// CPU limit in billionths of a CPU (Docker's NanoCpus).
    pub nano_cpus: Option<i64>,
    /// What the engine does when the container exits: `no`, `always`, `unless-stopped`,
    /// `on-failure` or `on-failure:N`.
    pub restart_policy: String,
    /// How long a stop waits for the container to exit before killing it (whole seconds).
    pub stop_timeout_ms: i64,
    /// The signal a stop sends, such as `SIGTERM`; `None` keeps the image's.
    pub stop_signal: Option<String>,
    /// How a new container is judged healthy: `http` (probes of `health_path`) or `docker` (the
    /// container's own HEALTHCHECK).
    pub health_kind: String,
    /// HTTP statuses a probe accepts, such as `200-399` or `200-299,404` (`http` only).
    pub health_status: String,
}

impl Project {
    /// The volume mounts, in order.
    pub fn volume_list(&self) -> Vec<String> {
        serde_json::from_str(&self.volumes).unwrap_or_else(|error| {
            log::error!("project {}: unreadable volumes column: {error}", self.name);
            Vec::new()
        })
    }

    /// The plain environment variables, sorted by name.
    pub fn env_vars(&self) -> BTreeMap<String, String> {
        // Only the store writes this column, always from a map, so a parse failure means a damaged row.
        serde_json::from_str(&self.env).unwrap_or_else(|error| {
            log::error!("project {}: unreadable env column: {error}", self.name);
            BTreeMap::new()
        })
    }
}

/// The fields of a new project.
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = projects)]
pub struct NewProject {
    /// See [`Project::name`].
    pub name: String,
    /// See [`Project::image`].
    pub image: String,
    /// See [`Project::registry_id`].
    pub registry_id: Option<i64>,
    /// See [`Project::port`].
    pub port: Option<i32>,
    /// See [`Project::health_path`].
    pub health_path: String,
    /// See [`Project::health_interval_ms`].
    pub health_interval_ms: i64,
    /// See [`Project::health_timeout_ms`].
    pub health_timeout_ms: i64,
    /// See [`Project::health_retries`].
    pub health_retries: i32,
    /// See [`Project::health_start_period_ms`].
    pub health_start_period_ms: i64,
    /// See [`Project::env`]; build it with [`NewProject::env_json`].
    pub env: String,
    /// See [`Project::created_at`].
    pub created_at: i64,
    /// See [`Project::volumes`]; build it with [`NewProject::volumes_json`].
    pub volumes: String,
    /// See [`Project::memory_bytes`].
    pub memory_bytes: Option<i64>,
    /// See [`Project::nano_cpus`].
    pub nano_cpus: Option<i64>,
    /// See [`Project::restart_policy`].
    pub restart_policy: String,
    /// See [`Project::stop_timeout_ms`].
    pub stop_timeout_ms: i64,
    /// See [`Project::stop_signal`].
    pub stop_signal: Option<String>,
    /// See [`Project::health_kind`].
    pub health_kind: String,
    /// See [`Project::health_status`].
    pub health_status: String,
}

impl NewProject {
    /// Encodes environment variables for the `env` column.
    pub fn env_json(env: &BTreeMap<String, String>) -> String {
        serde_json::to_string(env).expect("a map of strings always serialises")
    }

    /// Encodes volume mounts for the `volumes` column.
    pub fn volumes_json(volumes: &[String]) -> String {
        serde_json::to_string(volumes).expect("a list of strings always serialises")
    }
}

impl Store {
    /// All projects, by name.
    pub fn projects(&self) -> Result<Vec<Project>> {
        projects::table
            .order(projects::name)
            .select(Project::as_select())
            .load(&mut self.conn()?)
            .context("listing projects")
    }

    /// Replaces a project's plain environment variables.
    pub fn set_project_env(&self, id: i64, env: &BTreeMap<String, String>) -> Result<()> {
        diesel::update(projects::table.find(id))
            .set(projects::env.eq(NewProject::env_json(env)))
            .execute(&mut self.conn()?)
            .context("changing a project's environment")?;
        Ok(())
    }

    /// One project by name.
    pub fn project_by_name(&self, name: &str) -> Result<Project> {
        projects::table
            .filter(projects::name.eq(name))
            .select(Project::as_select())
            .first(&mut self.conn()?)
            .or_not_found(|| format!("project {name}"))
    }

    /// One project by id.
    pub fn project(&self, id: i64) -> Result<Project> {
        projects::table
            .find(id)
            .select(Project::as_select())
            .first(&mut self.conn()?)
            .or_not_found(|| format!("project {id}"))
    }

    /// The project watching this canonical image name, if any.
    pub fn project_by_image(&self, image: &str) -> Result<Option<Project>> {
        projects::table
            .filter(projects::image.eq(image))
            .select(Project::as_select())
            .first(&mut self.conn()?)
            .optional()
            .context("finding a project by image")
    }
}
