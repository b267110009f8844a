//! Importing a whole configuration (settings, registries, notifications, projects and their
//! stages) at once, as the YAML seed does: all or nothing, into an empty database only.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use crate::error::{QueryContext, Result, StoreError};
use crate::models::project::NewProject;
use crate::models::registry::insert_registry;
use crate::models::secret::{PlainSecret, Sealed, SecretInput, SecretPlace, columns};
use crate::models::stage::NewStage;
use crate::pool::{Store, now_ms};
use crate::schema::{notifications, project_secret_env, projects, settings, stages};

/// Seals a plaintext secret for the place it is about to be written to.
pub type Seal<'a> = &'a dyn Fn(SecretPlace, &PlainSecret) -> Sealed;

/// The settings row as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSettings {
    /// Base domain of every subdomain.
    pub domain: String,
    /// The shared Docker network.
    pub network: String,
    /// Subdomain pattern.
    pub subdomain_pattern: String,
    /// `container_name`, `container_ip` or `published_port`.
    pub route_target: String,
    /// Seconds between registry polls.
    pub poll_interval_secs: i64,
    /// The webhook's path secret.
    pub webhook_secret: SecretInput,
    /// Nginx Proxy Manager, when instances get routes.
    pub npm: Option<NewNpmSettings>,
}

/// How to reach Nginx Proxy Manager and what new proxy hosts get.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNpmSettings {
    /// NPM's URL, such as `http://npm:81`.
    pub url: String,
    /// The NPM user's email.
    pub identity: String,
    /// The NPM user's password.
    pub password: SecretInput,
    /// Certificate for new proxy hosts.
    pub certificate_id: Option<i64>,
    /// Force HTTPS.
    pub ssl_forced: bool,
    /// Allow WebSocket upgrades.
    pub allow_websocket_upgrade: bool,
    /// Access list for new proxy hosts.
    pub access_list_id: Option<i64>,
}

/// A registry as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRegistry {
    /// Unique name the projects refer to.
    pub name: String,
    /// Base URL, such as `https://git.example.com`.
    pub url: String,
    /// User name, when the registry needs credentials.
    pub username: Option<String>,
    /// Password or token.
    pub password: Option<SecretInput>,
}

/// A notification target as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// `webhook`, `ntfy`, `gotify`, `discord` or `slack`.
    pub kind: String,
    /// Target URL (a secret: it often carries a token).
    pub url: SecretInput,
}

/// A project, its secret environment and its stages, as imported together.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProjectWithStages {
    /// The project; its `registry_id` is filled in from `registry`.
    pub project: NewProject,
    /// The name of the registry (among the imported ones) holding the image's credentials.
    pub registry: Option<String>,
    /// Secret environment variables: name inside the container and value.
    pub secret_env: Vec<(String, SecretInput)>,
    /// Its stages.
    pub stages: Vec<NewStage>,
}

/// Everything a first start writes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConfiguration {
    /// The settings row.
    pub settings: NewSettings,
    /// Registries.
    pub registries: Vec<NewRegistry>,
    /// Notification targets.
    pub notifications: Vec<NewNotification>,
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

    /// Writes a configuration into an empty database, all or nothing; every secret is sealed by
    /// `seal` for the row it goes to.
    pub fn import_configuration(&self, config: &NewConfiguration, seal: Seal<'_>) -> Result<()> {
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
            insert_settings(conn, &config.settings, seal)?;
            let registry_ids = insert_registries(conn, &config.registries, seal)?;
            insert_notifications(conn, &config.notifications, seal)?;
            for entry in &config.projects {
                insert_project(conn, entry, &registry_ids, seal)?;
            }
            Ok(())
        })
    }
}

fn insert_settings(conn: &mut SqliteConnection, new: &NewSettings, seal: Seal<'_>) -> Result<()> {
    let npm = new.npm.as_ref();
    diesel::insert_into(settings::table)
        .values((
            settings::id.eq(1),
            settings::domain.eq(&new.domain),
            settings::network.eq(&new.network),
            settings::subdomain_pattern.eq(&new.subdomain_pattern),
            settings::route_target.eq(&new.route_target),
            settings::poll_interval_secs.eq(new.poll_interval_secs),
            settings::webhook_secret.eq(seal(
                SecretPlace::new(columns::WEBHOOK_SECRET, 1),
                &new.webhook_secret.value,
            )),
            settings::webhook_secret_env.eq(&new.webhook_secret.env),
            settings::npm_url.eq(npm.map(|npm| &npm.url)),
            settings::npm_identity.eq(npm.map(|npm| &npm.identity)),
            settings::npm_password.eq(npm.map(|npm| {
                seal(
                    SecretPlace::new(columns::NPM_PASSWORD, 1),
                    &npm.password.value,
                )
            })),
            settings::npm_password_env.eq(npm.and_then(|npm| npm.password.env.as_ref())),
            settings::npm_certificate_id.eq(npm.and_then(|npm| npm.certificate_id)),
            settings::npm_ssl_forced.eq(npm.is_some_and(|npm| npm.ssl_forced)),
            settings::npm_allow_websocket_upgrade
                .eq(npm.is_none_or(|npm| npm.allow_websocket_upgrade)),
            settings::npm_access_list_id.eq(npm.and_then(|npm| npm.access_list_id)),
            settings::updated_at.eq(now_ms()),
        ))
        .execute(conn)
        .context("writing settings")?;
    Ok(())
}

fn insert_registries(
    conn: &mut SqliteConnection,
    new: &[NewRegistry],
    seal: Seal<'_>,
) -> Result<HashMap<String, i64>> {
    let mut ids = HashMap::new();
    for registry in new {
        ids.insert(
            registry.name.clone(),
            insert_registry(conn, registry, seal)?,
        );
    }
    Ok(ids)
}

fn insert_notifications(
    conn: &mut SqliteConnection,
    new: &[NewNotification],
    seal: Seal<'_>,
) -> Result<()> {
    for notification in new {
        let id: i64 = diesel::insert_into(notifications::table)
            .values((
                notifications::kind.eq(&notification.kind),
                notifications::url.eq(Vec::<u8>::new()),
                notifications::url_env.eq(&notification.url.env),
                notifications::created_at.eq(now_ms()),
            ))
            .returning(notifications::id)
            .get_result(conn)
            .context("writing a notification target")?;
        let sealed = seal(
            SecretPlace::new(columns::NOTIFICATION_URL, id),
            &notification.url.value,
        );
        diesel::update(notifications::table.find(id))
            .set(notifications::url.eq(sealed))
            .execute(conn)
            .context("writing a notification URL")?;
    }
    Ok(())
}

fn insert_project(
    conn: &mut SqliteConnection,
    entry: &NewProjectWithStages,
    registry_ids: &HashMap<String, i64>,
    seal: Seal<'_>,
) -> Result<()> {
    let mut project = entry.project.clone();
    project.registry_id = match &entry.registry {
        None => None,
        Some(name) => Some(*registry_ids.get(name).ok_or_else(|| StoreError::NotFound {
            what: format!("registry {name}"),
        })?),
    };
    let project_id: i64 = diesel::insert_into(projects::table)
        .values(&project)
        .returning(projects::id)
        .get_result(conn)
        .context("writing a project")?;
    for (name, value) in &entry.secret_env {
        let id: i64 = diesel::insert_into(project_secret_env::table)
            .values((
                project_secret_env::project_id.eq(project_id),
                project_secret_env::name.eq(name),
                project_secret_env::value.eq(Vec::<u8>::new()),
                project_secret_env::value_env.eq(&value.env),
            ))
            .returning(project_secret_env::id)
            .get_result(conn)
            .context("writing a secret environment variable")?;
        let sealed = seal(
            SecretPlace::new(columns::SECRET_ENV_VALUE, id),
            &value.value,
        );
        diesel::update(project_secret_env::table.find(id))
            .set(project_secret_env::value.eq(sealed))
            .execute(conn)
            .context("writing a secret environment variable")?;
    }
    for stage in &entry.stages {
        diesel::insert_into(stages::table)
            .values((
                stages::project_id.eq(project_id),
                stages::name.eq(&stage.name),
                stages::tag_pattern.eq(&stage.tag_pattern),
                stages::tag_regex.eq(&stage.tag_regex),
                stages::tag_semver.eq(&stage.tag_semver),
                stages::include_prerelease.eq(stage.include_prerelease),
                stages::auto_deploy.eq(stage.auto_deploy),
                stages::max_instances.eq(stage.max_instances),
                stages::promote_from.eq(&stage.promote_from),
                stages::subdomain.eq(&stage.subdomain),
                stages::watch_digest.eq(stage.watch_digest),
                stages::poll.eq(stage.poll),
                stages::volumes.eq(NewProject::volumes_json(&stage.volumes)),
                stages::keep_images.eq(stage.keep_images),
                stages::expire_after_ms.eq(stage.expire_after_ms),
                stages::created_at.eq(entry.project.created_at),
            ))
            .execute(conn)
            .context("writing a stage")?;
    }
    Ok(())
}
