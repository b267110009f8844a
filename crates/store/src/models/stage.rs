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
    pub tag_pattern: Option<String>,
    /// Regular expression a tag must match.
    pub tag_regex: Option<String>,
    /// Semantic-version constraint a tag must satisfy, such as `>=1.0.0`.
    pub tag_semver: Option<String>,
    /// Whether pre-release versions satisfy `tag_semver`.
    pub include_prerelease: bool,
    /// Deploy at once (true) or wait for approval (false).
    pub auto_deploy: bool,
    /// Most instances this stage keeps running.
    pub max_instances: i32,
    /// The stage whose healthy tags this one may deploy.
    pub promote_from: Option<String>,
    /// Custom subdomain instead of the settings' pattern.
    pub subdomain: Option<String>,
    /// Redeploy when the digest of a moving tag (such as `latest`) changes.
    pub watch_digest: bool,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Whether the poller watches the registry for this stage's tags (the fallback for
    /// registries that cannot call the webhook).
    pub poll: bool,
    /// Volume mounts added to the project's, a JSON array; one with the same path inside the
    /// container replaces the project's.
    pub volumes: String,
    /// How many images of its latest healthy deploys (its rollback targets) the stage keeps on
    /// the engine; older images the deployer pulled are removed.
    pub keep_images: i32,
    /// In a stage of several instances: remove an instance that is not the newest once it is
    /// this old (ms); `None` keeps it.
    pub expire_after_ms: Option<i64>,
}

impl Stage {
    /// [`Stage::keep_images`] when the configuration does not say.
    pub const DEFAULT_KEEP_IMAGES: i32 = 3;

    /// The stage's own volume mounts, in order.
    pub fn volume_list(&self) -> Vec<String> {
        serde_json::from_str(&self.volumes).unwrap_or_else(|error| {
            log::error!("stage {}: unreadable volumes column: {error}", self.id);
            Vec::new()
        })
    }
}

/// The fields of a new stage; the project id is filled in on import. The default keeps
/// [`Stage::DEFAULT_KEEP_IMAGES`] images and leaves everything else empty or off.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStage {
    /// See [`Stage::name`].
    pub name: String,
    /// See [`Stage::tag_pattern`].
    pub tag_pattern: Option<String>,
    /// See [`Stage::tag_regex`].
    pub tag_regex: Option<String>,
    /// See [`Stage::tag_semver`].
    pub tag_semver: Option<String>,
    /// See [`Stage::include_prerelease`].
    pub include_prerelease: bool,
    /// See [`Stage::auto_deploy`].
    pub auto_deploy: bool,
    /// See [`Stage::max_instances`].
    pub max_instances: i32,
    /// See [`Stage::promote_from`].
    pub promote_from: Option<String>,
    /// See [`Stage::subdomain`].
    pub subdomain: Option<String>,
    /// See [`Stage::watch_digest`].
    pub watch_digest: bool,
    /// See [`Stage::poll`].
    pub poll: bool,
    /// See [`Stage::volumes`]: the mounts as written.
    pub volumes: Vec<String>,
    /// See [`Stage::keep_images`].
    pub keep_images: i32,
    /// See [`Stage::expire_after_ms`].
    pub expire_after_ms: Option<i64>,
}

impl Default for NewStage {
    fn default() -> NewStage {
        NewStage {
            name: String::new(),
            tag_pattern: None,
            tag_regex: None,
            tag_semver: None,
            include_prerelease: false,
            auto_deploy: false,
            max_instances: 0,
            promote_from: None,
            subdomain: None,
            watch_digest: false,
            poll: false,
            volumes: Vec::new(),
            keep_images: Stage::DEFAULT_KEEP_IMAGES,
            expire_after_ms: None,
        }
    }
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

    /// The stages the poller watches, by project and name.
    pub fn polled_stages(&self) -> Result<Vec<Stage>> {
        stages::table
            .filter(stages::poll.eq(true))
            .order((stages::project_id, stages::name))
            .select(Stage::as_select())
            .load(&mut self.conn()?)
            .context("listing polled stages")
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
