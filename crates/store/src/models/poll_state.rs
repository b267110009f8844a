//! Poll state: what the poller last saw for each polled stage (the newest accepted tag and its
//! digest), so a restart neither redeploys nor misses anything.

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::error::{QueryContext, Result};
use crate::pool::Store;
use crate::schema::poll_state;

/// A poll state row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = poll_state)]
pub struct PollState {
    /// The stage this is for.
    pub stage_id: i64,
    /// The newest tag the stage accepts, as last seen.
    pub last_tag: Option<String>,
    /// The digest `last_tag` pointed at.
    pub last_digest: Option<String>,
    /// When the registry was last asked, ms since the epoch.
    pub checked_at: Option<i64>,
}

impl Store {
    /// The poll state of a stage; `None` before its first poll.
    pub fn poll_state(&self, stage_id: i64) -> Result<Option<PollState>> {
        poll_state::table
            .find(stage_id)
            .select(PollState::as_select())
            .first(&mut self.conn()?)
            .optional()
            .context("reading poll state")
    }

    /// Writes a stage's poll state, replacing what was there.
    pub fn save_poll_state(&self, state: &PollState) -> Result<()> {
        diesel::insert_into(poll_state::table)
            .values(state)
            .on_conflict(poll_state::stage_id)
            .do_update()
            .set((
                poll_state::last_tag.eq(excluded(poll_state::last_tag)),
                poll_state::last_digest.eq(excluded(poll_state::last_digest)),
                poll_state::checked_at.eq(excluded(poll_state::checked_at)),
            ))
            .execute(&mut self.conn()?)
            .context("writing poll state")?;
        Ok(())
    }
}
