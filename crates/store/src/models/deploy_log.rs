//! A deploy's log: ordered lines, numbered from 1 within the deploy.

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::pool::{Store, now_ms};
use crate::schema::deploy_logs;

/// One line of a deploy's log.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = deploy_logs)]
pub struct LogLine {
    /// The deploy.
    pub deploy_id: i64,
    /// Position in the deploy's log, from 1, without gaps.
    pub seq: i64,
    /// When it was written, ms since the epoch.
    pub at: i64,
    /// The text.
    pub message: String,
}

impl Store {
    /// Appends a line and returns it with its sequence number.
    pub fn append_log(&self, deploy_id: i64, message: &str) -> Result<LogLine> {
        let mut conn = self.conn()?;
        // Read-then-write: an immediate transaction so two writers cannot take the same number.
        conn.immediate_transaction(|conn| {
            let last: Option<i64> = deploy_logs::table
                .filter(deploy_logs::deploy_id.eq(deploy_id))
                .select(diesel::dsl::max(deploy_logs::seq))
                .first(conn)
                .context("numbering a log line")?;
            let line = LogLine {
                deploy_id,
                seq: last.unwrap_or(0) + 1,
                at: now_ms(),
                message: message.to_string(),
            };
            diesel::insert_into(deploy_logs::table)
                .values((
                    deploy_logs::deploy_id.eq(line.deploy_id),
                    deploy_logs::seq.eq(line.seq),
                    deploy_logs::at.eq(line.at),
                    deploy_logs::message.eq(&line.message),
                ))
                .execute(conn)
                .context("writing a log line")?;
            Ok(line)
        })
    }

    /// A deploy's lines with a sequence number above `after_seq`, in order.
    pub fn logs_after(&self, deploy_id: i64, after_seq: i64) -> Result<Vec<LogLine>> {
        deploy_logs::table
            .filter(deploy_logs::deploy_id.eq(deploy_id))
            .filter(deploy_logs::seq.gt(after_seq))
            .order(deploy_logs::seq)
            .select(LogLine::as_select())
            .load(&mut self.conn()?)
            .context("reading a deploy log")
    }
}
