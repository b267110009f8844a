//! What a deploy gave its container, recorded on the deploy (`deploys.container_settings`, JSON)
//! before the container is created: enough to stop it as it asked, to show it, and to create the
//! same container again later. Secret values are never part of it: only the names of the secret
//! variables, whose values stay sealed in the project's secret environment.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{QueryContext, Result};
use crate::models::deploy::Deploy;
use crate::pool::Store;
use crate::schema::deploys;

/// The settings one container was created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSettings {
    /// The image reference the container was created from: by digest (`repo@sha256:…`) when the
    /// registry gave one.
    pub image: String,
    /// The container port the deploy health-checked and routed to.
    pub port: u16,
    /// The Docker network the container joined.
    pub network: String,
    /// The plain environment variables.
    pub env: BTreeMap<String, String>,
    /// The names of the secret environment variables (their values are not recorded).
    pub secret_env: Vec<String>,
    /// The volume mounts (`name:/path`, `/host:/path:ro`), the project's and the stage's merged.
    pub volumes: Vec<String>,
    /// Memory limit in bytes.
    pub memory_bytes: Option<i64>,
    /// CPU limit in billionths of a CPU.
    pub nano_cpus: Option<i64>,
    /// The restart policy (`unless-stopped`, `on-failure:3`, …).
    pub restart: String,
    /// The signal a stop sends; `None`: the image's.
    pub stop_signal: Option<String>,
    /// How long a stop waits before killing, in seconds.
    pub stop_timeout_secs: u64,
}

impl ContainerSettings {
    /// The JSON stored in the column.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("container settings always serialise")
    }
}

impl Deploy {
    /// The settings this deploy gave its container; `None` before the container was about to be
    /// created (and for deploys older than the record). A damaged record is logged and `None`.
    pub fn recorded_settings(&self) -> Option<ContainerSettings> {
        let text = self.container_settings.as_deref()?;
        serde_json::from_str(text)
            .map_err(|error| {
                log::error!(
                    "deploy {}: unreadable container_settings column: {error}",
                    self.id
                );
            })
            .ok()
    }
}

impl Store {
    /// Records what deploy `id` is about to create its container with.
    pub fn record_container_settings(&self, id: i64, settings: &ContainerSettings) -> Result<()> {
        diesel::update(deploys::table.find(id))
            .set(deploys::container_settings.eq(settings.to_json()))
            .execute(&mut self.conn()?)
            .context("recording a deploy's container settings")?;
        Ok(())
    }
}
