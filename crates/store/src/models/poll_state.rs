//! Poll state: what the poller last saw for each polled stage (the newest accepted tag and its
//! digest), so a restart neither redeploys nor misses anything.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::error::{QueryContext, Result};
use crate::pool::Store;
use crate::schema::poll_state;

/// Stage ids bound in one statement. SQLite caps a statement's parameters (999 in builds older
/// than 3.32), so longer lists are sent in slices of this size.
const IDS_PER_STATEMENT: usize = 500;

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

    /// The poll states of several stages at once, by stage id; a stage before its first poll
    /// has none. A poll cycle reads all of its stages' states with this instead of one query
    /// per stage.
    pub fn poll_states_of(&self, stage_ids: &[i64]) -> Result<HashMap<i64, PollState>> {
        let mut conn = self.conn()?;
        let mut states = HashMap::with_capacity(stage_ids.len());
        for ids in stage_ids.chunks(IDS_PER_STATEMENT) {
            let rows = poll_state::table
                .filter(poll_state::stage_id.eq_any(ids))
                .select(PollState::as_select())
                .load(&mut conn)
                .context("reading poll states")?;
            states.extend(rows.into_iter().map(|state| (state.stage_id, state)));
        }
        Ok(states)
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

    /// Sets `checked_at` of the given stages' poll states, leaving their tags and digests as
    /// they are; stages without a poll state are skipped. One transaction for the lot: a cycle
    /// that found nothing new records its checks with one write instead of one per stage.
    pub fn touch_poll_states(&self, stage_ids: &[i64], checked_at: i64) -> Result<()> {
        let mut conn = self.conn()?;
        conn.immediate_transaction(|conn| {
            for ids in stage_ids.chunks(IDS_PER_STATEMENT) {
                diesel::update(poll_state::table.filter(poll_state::stage_id.eq_any(ids)))
                    .set(poll_state::checked_at.eq(checked_at))
                    .execute(conn)
                    .context("recording poll checks")?;
            }
            Ok(())
        })
    }
}
