//! Writing the database's configuration back as a configuration file, in the format `parse` reads.
//!
//! Secrets are never opened: each is written as a `*_env` reference, to the variable it was
//! imported from or, for a secret that was written inline, to an invented variable. A comment at the
//! top lists every variable the importer must set.

use std::collections::{BTreeSet, HashMap};

use serde_yaml_ng::{Mapping, Value};

/// Why the configuration cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the database failed.
    #[error("cannot read the configuration from the database: {0}")]
    Store(#[from] store::StoreError),
    /// The YAML could not be written.
    #[error("cannot write the configuration as YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
}

/// The configuration stored in the database, as configuration-file YAML.
pub fn export(store: &store::Store) -> Result<String, ExportError> {
    let settings = store.settings()?;
    let registries = store.registries()?;
    let notifications = store.notifications()?;
    let mut names = EnvNames::default();

    let mut settings_map = Mapping::new();
    put(&mut settings_map, "domain", settings.domain.as_str());
    put(&mut settings_map, "network", settings.network.as_str());
    put(
        &mut settings_map,
        "subdomain_pattern",
        settings.subdomain_pattern.as_str(),
    );
    put(
        &mut settings_map,
        "poll_interval",
        duration(settings.poll_interval_secs.saturating_mul(1000)),
    );
    let webhook = names.name(
        settings.webhook_secret_env.as_deref(),
        "DW_WEBHOOK_SECRET",
        "settings.webhook_secret",
    );
    put(&mut settings_map, "webhook_secret_env", webhook);
    put(
        &mut settings_map,
        "route_target",
        settings.route_target.as_str(),
    );
    if let Some(url) = &settings.npm_url {
        let mut npm = Mapping::new();
        put(&mut npm, "url", url.as_str());
        put(
            &mut npm,
            "identity",
            settings.npm_identity.clone().unwrap_or_default(),
        );
        let password = names.name(
            settings.npm_password_env.as_deref(),
            "DW_NPM_PASSWORD",
            "settings.npm.password",
        );
        put(&mut npm, "password_env", password);
        if let Some(id) = settings.npm_certificate_id {
            put(&mut npm, "certificate_id", id);
        }
        if settings.npm_ssl_forced {
            put(&mut npm, "ssl_forced", true);
        }
        if !settings.npm_allow_websocket_upgrade {
            put(&mut npm, "allow_websocket_upgrade", false);
        }
        if let Some(id) = settings.npm_access_list_id {
            put(&mut npm, "access_list_id", id);
        }
        put(&mut settings_map, "npm", npm);
    }
    if !notifications.is_empty() {
        let list: Vec<Value> = notifications
            .iter()
            .enumerate()
            .map(|(index, notification)| {
                let mut entry = Mapping::new();
                put(&mut entry, "kind", notification.kind.as_str());
                let url = names.name(
                    notification.url_env.as_deref(),
                    &format!("DW_NOTIFICATION_{}_URL", index + 1),
                    &format!("settings.notifications[{index}].url"),
                );
                put(&mut entry, "url_env", url);
                Value::Mapping(entry)
            })
            .collect();
        put(&mut settings_map, "notifications", list);
    }

    let mut registry_names = HashMap::new();
    let mut registries_map = Mapping::new();
    for registry in &registries {
        registry_names.insert(registry.id, registry.name.clone());
        let mut entry = Mapping::new();
        put(&mut entry, "url", registry.url.as_str());
        if let Some(username) = &registry.username {
            put(&mut entry, "username", username.as_str());
        }
        if registry.password.is_some() {
            let password = names.name(
                registry.password_env.as_deref(),
                &format!("DW_REGISTRY_{}_PASSWORD", env_part(&registry.name)),
                &format!("registries.{}.password", registry.name),
            );
            put(&mut entry, "password_env", password);
        }
        put(&mut registries_map, registry.name.as_str(), entry);
    }

    let mut projects_map = Mapping::new();
    for project in store.projects()? {
        let mut entry = Mapping::new();
        put(&mut entry, "image", project.image.as_str());
        if let Some(registry) = project.registry_id.and_then(|id| registry_names.get(&id)) {
            put(&mut entry, "registry", registry.as_str());
        }
        if let Some(port) = project.port {
            put(&mut entry, "port", i64::from(port));
        }
        let mut health = Mapping::new();
        if project.health_kind != "http" {
            put(&mut health, "kind", project.health_kind.as_str());
        }
        if project.health_path != "/" {
            put(&mut health, "path", project.health_path.as_str());
        }
        if project.health_status != deployer::StatusRanges::DEFAULT {
            put(&mut health, "status", project.health_status.as_str());
        }
        for (key, ms, default) in [
            ("interval", project.health_interval_ms, 1000),
            ("timeout", project.health_timeout_ms, 2000),
        ] {
            if ms != default {
                put(&mut health, key, duration(ms));
            }
        }
        if project.health_retries != 30 {
            put(&mut health, "retries", i64::from(project.health_retries));
        }
        if project.health_start_period_ms != 0 {
            put(
                &mut health,
                "start_period",
                duration(project.health_start_period_ms),
            );
        }
        if !health.is_empty() {
            put(&mut entry, "health", health);
        }
        let env = project.env_vars();
        if !env.is_empty() {
            let mut map = Mapping::new();
            for (name, value) in env {
                put(&mut map, name, value);
            }
            put(&mut entry, "env", map);
        }
        let secret_env = store.secret_env_of(project.id)?;
        if !secret_env.is_empty() {
            let mut map = Mapping::new();
            for variable in secret_env {
                let source = names.name(
                    variable.value_env.as_deref(),
                    &format!(
                        "DW_{}_{}",
                        env_part(&project.name),
                        env_part(&variable.name)
                    ),
                    &format!("projects.{}.secret_env.{}", project.name, variable.name),
                );
                put(&mut map, format!("{}_env", variable.name), source);
            }
            put(&mut entry, "secret_env", map);
        }
        let volumes = project.volume_list();
        if !volumes.is_empty() {
            put(&mut entry, "volumes", volumes);
        }
        let mut limits = Mapping::new();
        if let Some(bytes) = project.memory_bytes {
            put(&mut limits, "memory", memory(bytes));
        }
        if let Some(nanos) = project.nano_cpus {
            put(&mut limits, "cpus", nanos as f64 / 1e9);
        }
        if !limits.is_empty() {
            put(&mut entry, "limits", limits);
        }
        if project.restart_policy != super::validate::DEFAULT_RESTART {
            put(&mut entry, "restart", project.restart_policy.as_str());
        }
        if project.stop_timeout_ms != super::validate::DEFAULT_STOP_TIMEOUT.as_millis() as i64 {
            put(
                &mut entry,
                "stop_timeout",
                duration(project.stop_timeout_ms),
            );
        }
        if let Some(signal) = &project.stop_signal {
            put(&mut entry, "stop_signal", signal.as_str());
        }
        let mut stages = Mapping::new();
        for stage in store.stages_of(project.id)? {
            let mut map = Mapping::new();
            for (key, value) in [
                ("tag_pattern", &stage.tag_pattern),
                ("tag_regex", &stage.tag_regex),
                ("tag_semver", &stage.tag_semver),
            ] {
                if let Some(value) = value {
                    put(&mut map, key, value.as_str());
                }
            }
            if stage.include_prerelease {
                put(&mut map, "include_prerelease", true);
            }
            if !stage.auto_deploy {
                put(&mut map, "auto_deploy", false);
            }
            if stage.max_instances != 1 {
                put(&mut map, "max_instances", i64::from(stage.max_instances));
            }
            if let Some(from) = &stage.promote_from {
                put(&mut map, "promote_from", from.as_str());
            }
            if let Some(subdomain) = &stage.subdomain {
                put(&mut map, "subdomain", subdomain.as_str());
            }
            if stage.watch_digest {
                put(&mut map, "watch_digest", true);
            }
            if stage.poll {
                put(&mut map, "poll", true);
            }
            if let Some(ms) = stage.expire_after_ms {
                put(&mut map, "expire_after", duration(ms));
            }
            if stage.keep_images != store::Stage::DEFAULT_KEEP_IMAGES {
                put(&mut map, "keep_images", i64::from(stage.keep_images));
            }
            let volumes = stage.volume_list();
            if !volumes.is_empty() {
                put(&mut map, "volumes", volumes);
            }
            put(&mut stages, stage.name.as_str(), map);
        }
        put(&mut entry, "stages", stages);
        put(&mut projects_map, project.name.as_str(), entry);
    }

    let mut root = Mapping::new();
    put(&mut root, "settings", settings_map);
    if !registries_map.is_empty() {
        put(&mut root, "registries", registries_map);
    }
    if !projects_map.is_empty() {
        put(&mut root, "projects", projects_map);
    }
    let body = serde_yaml_ng::to_string(&Value::Mapping(root))?;
    Ok(format!("{}{body}", names.header()))
}

fn put(map: &mut Mapping, key: impl Into<String>, value: impl Into<Value>) {
    map.insert(Value::String(key.into()), value.into());
}

/// The environment variables an export refers to, and for which secret.
#[derive(Default)]
struct EnvNames {
    /// (variable, where it is used, whether the name was invented).
    listed: Vec<(String, String, bool)>,
    used: BTreeSet<String>,
}

impl EnvNames {
    /// The stored variable name, or a new one based on `invented` that no other secret uses.
    fn name(&mut self, stored: Option<&str>, invented: &str, place: &str) -> String {
        let (name, was_invented) = match stored {
            Some(stored) => (stored.to_string(), false),
            None => {
                let mut name = invented.to_string();
                let mut suffix = 2;
                while self.used.contains(&name) {
                    name = format!("{invented}_{suffix}");
                    suffix += 1;
                }
                (name, true)
            }
        };
        self.used.insert(name.clone());
        self.listed
            .push((name.clone(), place.to_string(), was_invented));
        name
    }

    fn header(&self) -> String {
        let mut text = String::from(
            "# Docker Watcher configuration, exported from its database.\n\
             # Secrets are not written here: each is read from an environment variable.\n\
             # Set these before importing this file:\n",
        );
        for (name, place, invented) in &self.listed {
            let note = if *invented {
                " (new name: the value was entered directly)"
            } else {
                ""
            };
            text.push_str(&format!("#   {name}: {place}{note}\n"));
        }
        text
    }
}

/// A name as part of an environment variable: uppercased, anything else than letters and digits as `_`.
fn env_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Milliseconds in the largest unit that writes them exactly.
fn duration(ms: i64) -> String {
    match ms {
        0 => "0s".to_string(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// Bytes in the largest binary suffix that writes them exactly.
fn memory(bytes: i64) -> String {
    for (suffix, factor) in [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
        if bytes % factor == 0 {
            return format!("{}{suffix}", bytes / factor);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests;
