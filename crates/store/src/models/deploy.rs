//! Deploys: one attempt to bring a tag up in a stage.

use diesel::prelude::*;

use crate::error::{QueryContext, Result, StoreError};
use crate::models::text_enum::text_enum;
use crate::pool::{Store, now_ms};
use crate::schema::{deploys, projects, stages};

text_enum! {
    /// Where a deploy is in its life.
    pub enum DeployStatus {
        /// Waiting for its stage's previous deploy to finish.
        Queued => "queued",
        /// Being carried out.
        Running => "running",
        /// The new instance is up and healthy.
        Succeeded => "succeeded",
        /// A step failed; what this deploy made was removed.
        Failed => "failed",
        /// The process stopped while the deploy was queued or running.
        Interrupted => "interrupted",
        /// Its stage deploys only what a person approves; nobody has decided yet.
        WaitingApproval => "waiting_approval",
        /// A person declined it; it was never carried out.
        Rejected => "rejected",
        /// Nothing to do: a newer request for the stage replaced it while it waited, or the
        /// stage already runs this tag and digest. The reason says which.
        Skipped => "skipped",
    }
}

impl DeployStatus {
    /// Whether the deploy has ended.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            DeployStatus::Succeeded
                | DeployStatus::Failed
                | DeployStatus::Interrupted
                | DeployStatus::Rejected
                | DeployStatus::Skipped
        )
    }
}

text_enum! {
    /// What started a deploy.
    pub enum Trigger {
        /// A registry or CI system called the webhook.
        Webhook => "webhook",
        /// The registry poller saw a new tag.
        Poll => "poll",
        /// A person asked for it.
        Manual => "manual",
        /// A person promoted what runs healthy in the stage's `promote_from` stage.
        Promote => "promote",
        /// A person rolled the stage back to an earlier deploy.
        Rollback => "rollback",
    }
}

/// A deploy row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = deploys)]
pub struct Deploy {
    /// Row id.
    pub id: i64,
    /// Random hex that makes this deploy's container name unique.
    pub short_id: String,
    /// The project.
    pub project_id: i64,
    /// The stage.
    pub stage_id: i64,
    /// The tag being deployed.
    pub tag: String,
    /// The full image reference being deployed.
    pub image: String,
    /// The image digest, once pulled.
    pub digest: Option<String>,
    /// What started the deploy.
    pub trigger: Trigger,
    /// Where the deploy is.
    pub status: DeployStatus,
    /// Why it failed or was interrupted.
    pub reason: Option<String>,
    /// When it was requested, ms since the epoch.
    pub created_at: i64,
    /// When work on it began.
    pub started_at: Option<i64>,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// What the deploy created its container with, JSON; read it with
    /// [`Deploy::recorded_settings`]. `None` until the container is about to be created.
    pub container_settings: Option<String>,
    /// Who approved or rejected it, for a deploy that waited for approval (`api 127.0.0.1`
    /// until there are users); see [`Deploy::approved_by`].
    pub decided_by: Option<String>,
    /// The deploy a promotion or rollback repeats: the one whose instance runs the image in the
    /// source stage, or the earlier healthy deploy rolled back to.
    pub source_deploy_id: Option<i64>,
}

impl Deploy {
    /// Who approved this deploy; `None` when it did not wait for approval, waits still, or was
    /// rejected.
    pub fn approved_by(&self) -> Option<&str> {
        match self.status {
            DeployStatus::Rejected | DeployStatus::WaitingApproval => None,
            _ => self.decided_by.as_deref(),
        }
    }

    /// Who rejected this deploy, when it was rejected.
    pub fn rejected_by(&self) -> Option<&str> {
        match self.status {
            DeployStatus::Rejected => self.decided_by.as_deref(),
            _ => None,
        }
    }
}

/// A deploy with the names a person reads.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployView {
    /// The deploy.
    pub deploy: Deploy,
    /// Its project's name.
    pub project: String,
    /// Its stage's name.
    pub stage: String,
}

/// The fields of a newly requested deploy.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeploy {
    /// See [`Deploy::project_id`].
    pub project_id: i64,
    /// See [`Deploy::stage_id`].
    pub stage_id: i64,
    /// See [`Deploy::tag`].
    pub tag: String,
    /// See [`Deploy::image`].
    pub image: String,
    /// See [`Deploy::trigger`].
    pub trigger: Trigger,
    /// See [`Deploy::digest`]: known up front when the poller found the image.
    pub digest: Option<String>,
    /// See [`Deploy::source_deploy_id`].
    pub source_deploy_id: Option<i64>,
}

/// A person's answer to a deploy that waits for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Carry it out: the deploy is queued.
    Approve,
    /// Do not: the deploy ends as rejected.
    Reject,
}

impl Store {
    /// Records a queued deploy with a fresh short id.
    pub fn create_deploy(&self, new: &NewDeploy) -> Result<Deploy> {
        insert_deploy(&mut *self.conn()?, new, DeployStatus::Queued)
    }

    /// Records that `new` waits for a person's approval. When the stage already has a request
    /// waiting for the same tag, that one is kept (following the newest image and digest) rather
    /// than asking twice; the flag says whether a new request was made.
    pub fn request_approval(&self, new: &NewDeploy) -> Result<(Deploy, bool)> {
        let mut conn = self.conn()?;
        conn.immediate_transaction(|conn| {
            let waiting = deploys::table
                .filter(deploys::stage_id.eq(new.stage_id))
                .filter(deploys::tag.eq(&new.tag))
                .filter(deploys::status.eq(DeployStatus::WaitingApproval))
                .select(Deploy::as_select())
                .first(conn)
                .optional()
                .context("finding a waiting approval request")?;
            let Some(waiting) = waiting else {
                return Ok((
                    insert_deploy(conn, new, DeployStatus::WaitingApproval)?,
                    true,
                ));
            };
            let digest = new.digest.as_ref().or(waiting.digest.as_ref());
            let updated = diesel::update(deploys::table.find(waiting.id))
                .set((
                    deploys::image.eq(&new.image),
                    deploys::digest.eq(digest),
                    deploys::source_deploy_id.eq(new.source_deploy_id),
                ))
                .returning(Deploy::as_returning())
                .get_result(conn)
                .context("updating a waiting approval request")?;
            Ok((updated, false))
        })
    }

    /// The stage's most recent succeeded deploy older than `before` (a deploy id), if any: what
    /// a rollback goes back to.
    pub fn succeeded_before(&self, stage_id: i64, before: i64) -> Result<Option<Deploy>> {
        deploys::table
            .filter(deploys::stage_id.eq(stage_id))
            .filter(deploys::id.lt(before))
            .filter(deploys::status.eq(DeployStatus::Succeeded))
            .order(deploys::id.desc())
            .select(Deploy::as_select())
            .first(&mut self.conn()?)
            .optional()
            .context("finding an earlier healthy deploy")
    }

    /// The stage's most recent rejected request for `tag`, if any.
    pub fn last_rejected(&self, stage_id: i64, tag: &str) -> Result<Option<Deploy>> {
        deploys::table
            .filter(deploys::stage_id.eq(stage_id))
            .filter(deploys::tag.eq(tag))
            .filter(deploys::status.eq(DeployStatus::Rejected))
            .order(deploys::id.desc())
            .select(Deploy::as_select())
            .first(&mut self.conn()?)
            .optional()
            .context("finding a rejected request")
    }

    /// Applies a person's decision to a deploy waiting for approval and records who made it
    /// (`by`); any other deploy is refused with
    /// [`StoreError::WrongState`](crate::StoreError::WrongState), so a request is decided once.
    pub fn decide_deploy(&self, id: i64, decision: Decision, by: &str) -> Result<Deploy> {
        let mut conn = self.conn()?;
        conn.immediate_transaction(|conn| {
            let deploy: Deploy = deploys::table
                .find(id)
                .select(Deploy::as_select())
                .first(conn)
                .or_not_found(|| format!("deploy {id}"))?;
            if deploy.status != DeployStatus::WaitingApproval {
                return Err(StoreError::WrongState {
                    what: format!("deploy {id}"),
                    state: deploy.status.to_string(),
                    expected: "waiting for approval".to_string(),
                });
            }
            let changes = match decision {
                Decision::Approve => (DeployStatus::Queued, None),
                Decision::Reject => (DeployStatus::Rejected, Some(now_ms())),
            };
            diesel::update(deploys::table.find(id))
                .set((
                    deploys::status.eq(changes.0),
                    deploys::finished_at.eq(changes.1),
                    deploys::decided_by.eq(by),
                ))
                .returning(Deploy::as_returning())
                .get_result(conn)
                .context("deciding a deploy")
        })
    }

    /// One deploy by id.
    pub fn deploy(&self, id: i64) -> Result<Deploy> {
        deploys::table
            .find(id)
            .select(Deploy::as_select())
            .first(&mut self.conn()?)
            .or_not_found(|| format!("deploy {id}"))
    }

    /// One deploy with its project and stage names.
    pub fn deploy_view(&self, id: i64) -> Result<DeployView> {
        deploys::table
            .find(id)
            .inner_join(projects::table)
            .inner_join(stages::table)
            .select((Deploy::as_select(), projects::name, stages::name))
            .first::<(Deploy, String, String)>(&mut self.conn()?)
            .map(|(deploy, project, stage)| DeployView {
                deploy,
                project,
                stage,
            })
            .or_not_found(|| format!("deploy {id}"))
    }

    /// The most recent deploys, newest first.
    pub fn recent_deploys(&self, limit: i64) -> Result<Vec<DeployView>> {
        let rows = deploys::table
            .inner_join(projects::table)
            .inner_join(stages::table)
            .order(deploys::id.desc())
            .limit(limit)
            .select((Deploy::as_select(), projects::name, stages::name))
            .load::<(Deploy, String, String)>(&mut self.conn()?)
            .context("listing deploys")?;
        Ok(rows
            .into_iter()
            .map(|(deploy, project, stage)| DeployView {
                deploy,
                project,
                stage,
            })
            .collect())
    }

    /// Marks a deploy as being carried out.
    pub fn start_deploy(&self, id: i64) -> Result<()> {
        diesel::update(deploys::table.find(id))
            .set((
                deploys::status.eq(DeployStatus::Running),
                deploys::started_at.eq(now_ms()),
            ))
            .execute(&mut self.conn()?)
            .context("starting a deploy")?;
        Ok(())
    }

    /// Records the digest a deploy pulled.
    pub fn set_deploy_digest(&self, id: i64, digest: &str) -> Result<()> {
        diesel::update(deploys::table.find(id))
            .set(deploys::digest.eq(digest))
            .execute(&mut self.conn()?)
            .context("recording a deploy's digest")?;
        Ok(())
    }

    /// Ends a deploy with its outcome.
    pub fn finish_deploy(&self, id: i64, status: DeployStatus, reason: Option<&str>) -> Result<()> {
        diesel::update(deploys::table.find(id))
            .set((
                deploys::status.eq(status),
                deploys::reason.eq(reason),
                deploys::finished_at.eq(now_ms()),
            ))
            .execute(&mut self.conn()?)
            .context("finishing a deploy")?;
        Ok(())
    }

    /// Marks every queued or running deploy as interrupted (the process that ran them is gone)
    /// and returns their ids.
    pub fn interrupt_unfinished_deploys(&self, reason: &str) -> Result<Vec<i64>> {
        let mut conn = self.conn()?;
        conn.immediate_transaction(|conn| {
            let unfinished = deploys::status.eq_any([DeployStatus::Queued, DeployStatus::Running]);
            let ids: Vec<i64> = deploys::table
                .filter(unfinished)
                .select(deploys::id)
                .load(conn)
                .context("finding unfinished deploys")?;
            diesel::update(deploys::table.filter(deploys::id.eq_any(&ids)))
                .set((
                    deploys::status.eq(DeployStatus::Interrupted),
                    deploys::reason.eq(reason),
                    deploys::finished_at.eq(now_ms()),
                ))
                .execute(conn)
                .context("interrupting deploys")?;
            Ok(ids)
        })
    }
}

fn insert_deploy(
    conn: &mut SqliteConnection,
    new: &NewDeploy,
    status: DeployStatus,
) -> Result<Deploy> {
    let short_id = format!("{:08x}", rand::random::<u32>());
    diesel::insert_into(deploys::table)
        .values((
            deploys::short_id.eq(short_id),
            deploys::project_id.eq(new.project_id),
            deploys::stage_id.eq(new.stage_id),
            deploys::tag.eq(&new.tag),
            deploys::image.eq(&new.image),
            deploys::digest.eq(&new.digest),
            deploys::source_deploy_id.eq(new.source_deploy_id),
            deploys::trigger.eq(new.trigger),
            deploys::status.eq(status),
            deploys::created_at.eq(now_ms()),
        ))
        .returning(Deploy::as_returning())
        .get_result(conn)
        .context("recording a deploy")
}
