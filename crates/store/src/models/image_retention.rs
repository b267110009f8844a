//! Which of a project's images must stay on the engine: each stage's rollback targets (the images
//! of its latest healthy deploys), what runs, and what is about to run.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::models::deploy::DeployStatus;
use crate::models::instance::InstanceStatus;
use crate::pool::Store;
use crate::schema::{deploys, instances, stages};

/// What image retention needs to know about one project.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageRetention {
    /// Digests whose images stay: per stage, the `keep_images` latest distinct digests its
    /// healthy deploys ran; what live instances run; what unfinished deploys will run.
    pub keep_digests: BTreeSet<String>,
    /// Tags of unfinished deploys (queued, running, waiting for approval): an image carrying one
    /// may be about to be used, before its deploy has recorded a digest.
    pub busy_tags: BTreeSet<String>,
    /// Every digest a deploy of the project recorded: the images the deployer pulled. Images
    /// not among them (pulled or built by someone else) are never touched.
    pub pulled: BTreeSet<String>,
}

impl Store {
    /// What to keep of project `project_id`'s images. `current` is a deploy that counts as
    /// healthy although it has not finished yet (the deploy running retention).
    pub fn image_retention(&self, project_id: i64, current: i64) -> Result<ImageRetention> {
        let mut conn = self.conn()?;
        conn.transaction(|conn| {
            let keep: HashMap<i64, usize> = stages::table
                .filter(stages::project_id.eq(project_id))
                .select((stages::id, stages::keep_images))
                .load::<(i64, i32)>(conn)
                .context("reading the stages' image retention")?
                .into_iter()
                .map(|(id, keep)| (id, usize::try_from(keep).unwrap_or(1).max(1)))
                .collect();
            let history: Vec<(i64, i64, String, Option<String>, DeployStatus)> = deploys::table
                .filter(deploys::project_id.eq(project_id))
                .order(deploys::id.desc())
                .select((
                    deploys::id,
                    deploys::stage_id,
                    deploys::tag,
                    deploys::digest,
                    deploys::status,
                ))
                .load(conn)
                .context("reading the project's deploys")?;
            let live: Vec<Option<String>> = instances::table
                .filter(instances::project_id.eq(project_id))
                .filter(instances::status.ne(InstanceStatus::Removed))
                .select(instances::digest)
                .load(conn)
                .context("reading the project's instances")?;

            let mut retention = ImageRetention {
                keep_digests: live.into_iter().flatten().collect(),
                ..ImageRetention::default()
            };
            // Newest first: each stage keeps the first `keep_images` distinct digests it meets.
            let mut kept: HashMap<i64, BTreeSet<&str>> = HashMap::new();
            for (id, stage_id, tag, digest, status) in &history {
                let unfinished = matches!(
                    status,
                    DeployStatus::Queued | DeployStatus::Running | DeployStatus::WaitingApproval
                );
                if unfinished {
                    retention.busy_tags.insert(tag.clone());
                }
                let Some(digest) = digest else {
                    continue;
                };
                retention.pulled.insert(digest.clone());
                let healthy = *status == DeployStatus::Succeeded || *id == current;
                let stage_kept = kept.entry(*stage_id).or_default();
                let room = stage_kept.len() < keep.get(stage_id).copied().unwrap_or(1);
                if healthy && room {
                    stage_kept.insert(digest);
                }
                if unfinished {
                    retention.keep_digests.insert(digest.clone());
                }
            }
            retention
                .keep_digests
                .extend(kept.into_values().flatten().map(str::to_string));
            Ok(retention)
        })
    }
}
