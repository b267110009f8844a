//! The configuration file as written: plain serde types that reject unknown keys. Checking what the
//! values mean happens in `validate`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub settings: RawSettings,
    #[serde(default)]
    pub registries: BTreeMap<String, RawRegistry>,
    #[serde(default)]
    pub projects: BTreeMap<String, RawProject>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub domain: Option<String>,
    pub network: Option<String>,
    pub subdomain_pattern: Option<String>,
    pub poll_interval: Option<String>,
    pub webhook_secret: Option<String>,
    pub webhook_secret_env: Option<String>,
    pub route_target: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegistry {
    pub url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProject {
    pub image: String,
    pub registry: Option<String>,
    pub port: Option<i64>,
    #[serde(default)]
    pub health: RawHealth,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub stages: BTreeMap<String, RawStage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealth {
    pub path: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub retries: Option<i64>,
    pub start_period: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub tag_pattern: Option<String>,
    pub auto_deploy: Option<bool>,
    pub max_instances: Option<i64>,
}
