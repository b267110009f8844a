//! The steps a deploy went through (pull, create, start, health check, …), with their timings
//! and outcome: the deploy's provenance, next to its log.

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::models::text_enum::text_enum;
use crate::pool::Store;
use crate::schema::deploy_steps;

text_enum! {
    /// How a step ended.
    pub enum StepOutcome {
        /// It did what it had to.
        Ok => "ok",
        /// The deploy failed in it (or the process stopped while it ran).
        Failed => "failed",
    }
}

/// One step of a deploy.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = deploy_steps)]
pub struct DeployStep {
    /// The deploy.
    pub deploy_id: i64,
    /// What the step does: `pull`, `create`, `start`, `health`, `route`, `replace`, …
    pub name: String,
    /// When it started, ms since the epoch.
    pub started_at: i64,
    /// How long it took, in ms.
    pub duration_ms: i64,
    /// How it ended.
    pub outcome: StepOutcome,
}

impl Store {
    /// Records a step that ended.
    pub fn record_step(&self, step: &DeployStep) -> Result<()> {
        diesel::insert_into(deploy_steps::table)
            .values((
                deploy_steps::deploy_id.eq(step.deploy_id),
                deploy_steps::name.eq(&step.name),
                deploy_steps::started_at.eq(step.started_at),
                deploy_steps::duration_ms.eq(step.duration_ms.max(0)),
                deploy_steps::outcome.eq(step.outcome),
            ))
            .execute(&mut self.conn()?)
            .context("recording a deploy step")?;
        Ok(())
    }

    /// The steps a deploy went through, in order.
    pub fn deploy_steps(&self, deploy_id: i64) -> Result<Vec<DeployStep>> {
        deploy_steps::table
            .filter(deploy_steps::deploy_id.eq(deploy_id))
            .order(deploy_steps::id)
            .select(DeployStep::as_select())
            .load(&mut self.conn()?)
            .context("reading a deploy's steps")
    }
}
