//! Notification targets: where deploy outcomes are announced.

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::models::secret::Sealed;
use crate::pool::Store;
use crate::schema::notifications;

/// A notification target. Its URL is sealed: chat webhooks carry their token in it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    /// Row id.
    pub id: i64,
    /// `webhook`, `ntfy`, `gotify`, `discord` or `slack`.
    pub kind: String,
    /// The target URL, sealed.
    pub url: Sealed,
    /// The environment variable the URL came from.
    pub url_env: Option<String>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

impl Store {
    /// All notification targets, in the order they were configured.
    pub fn notifications(&self) -> Result<Vec<Notification>> {
        notifications::table
            .order(notifications::id)
            .select(Notification::as_select())
            .load(&mut self.conn()?)
            .context("listing notification targets")
    }
}
