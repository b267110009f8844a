//! The single settings row.

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::models::secret::Sealed;
use crate::pool::Store;
use crate::schema::settings;

/// System-wide settings. Secrets are sealed; there is no `Serialize`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
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
    /// The path secret of `POST /api/webhook/{secret}`, sealed. Absent only between the upgrade
    /// of an old database and the next start, which seals the old plaintext value.
    pub webhook_secret: Option<Sealed>,
    /// The environment variable the webhook secret came from.
    pub webhook_secret_env: Option<String>,
    /// Nginx Proxy Manager's URL; without it instances get no route.
    pub npm_url: Option<String>,
    /// The NPM user.
    pub npm_identity: Option<String>,
    /// The NPM password, sealed.
    pub npm_password: Option<Sealed>,
    /// The environment variable the NPM password came from.
    pub npm_password_env: Option<String>,
    /// NPM certificate for new proxy hosts.
    pub npm_certificate_id: Option<i64>,
    /// Force HTTPS on new proxy hosts.
    pub npm_ssl_forced: bool,
    /// Allow WebSocket upgrades on new proxy hosts.
    pub npm_allow_websocket_upgrade: bool,
    /// NPM access list for new proxy hosts.
    pub npm_access_list_id: Option<i64>,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
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
