//! The single settings row.

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::pool::Store;
use crate::schema::settings;

/// System-wide settings. `Debug` leaves the webhook secret out; there is no `Serialize`.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = settings)]
pub struct Settings {
    /// Always 1: there is one row.
    pub id: i64,
    /// Base domain of every subdomain.
    pub domain: String,
    /// The shared Docker network instances join.
    pub network: String,
    /// Subdomain pattern, such as `stage-{stage}-{project}`.
    pub subdomain_pattern: String,
    /// How a proxy reaches an instance: `container_name`, `container_ip` or `published_port`.
    pub route_target: String,
    /// Seconds between registry polls.
    pub poll_interval_secs: i64,
    /// The path secret of `POST /api/webhook/{secret}`.
    pub webhook_secret: String,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("domain", &self.domain)
            .field("network", &self.network)
            .field("subdomain_pattern", &self.subdomain_pattern)
            .field("route_target", &self.route_target)
            .field("poll_interval_secs", &self.poll_interval_secs)
            .field("webhook_secret", &"<redacted>")
            .finish()
    }
}

impl Store {
    /// The settings row; `NotFound` before the first configuration import.
    pub fn settings(&self) -> Result<Settings> {
        settings::table
            .find(1)
            .select(Settings::as_select())
            .first(&mut self.conn()?)
            .or_not_found(|| "settings".to_string())
    }
}
