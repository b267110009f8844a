//! The notice outbox: notices accepted for sending and not yet handled, kept so that a process
//! that dies with notices in its queue sends them at its next start.

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::pool::{Store, now_ms};
use crate::schema::notice_outbox;

/// A notice waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = notice_outbox)]
pub struct PendingNotice {
    /// Row id.
    pub id: i64,
    /// The deploy the notice is about.
    pub deploy_id: i64,
    /// What happened (`waiting_approval`, or `finished` for the end of the deploy).
    pub event: String,
}

impl Store {
    /// Records a notice about to be queued; returns its row id.
    pub fn add_pending_notice(&self, deploy_id: i64, event: &str) -> Result<i64> {
        diesel::insert_into(notice_outbox::table)
            .values((
                notice_outbox::deploy_id.eq(deploy_id),
                notice_outbox::event.eq(event),
                notice_outbox::created_at.eq(now_ms()),
            ))
            .returning(notice_outbox::id)
            .get_result(&mut self.conn()?)
            .context("recording a notice to send")
    }

    /// Every notice not yet handled, oldest first.
    pub fn pending_notices(&self) -> Result<Vec<PendingNotice>> {
        notice_outbox::table
            .order(notice_outbox::id)
            .select(PendingNotice::as_select())
            .load(&mut self.conn()?)
            .context("reading the notices to send")
    }

    /// Forgets a notice that has been handled (sent, or given up on).
    pub fn remove_pending_notice(&self, id: i64) -> Result<()> {
        diesel::delete(notice_outbox::table.find(id))
            .execute(&mut self.conn()?)
            .context("forgetting a handled notice")
            .map(drop)
    }
}
