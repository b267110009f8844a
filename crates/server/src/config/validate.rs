//! Turning the file's raw values into a configuration the store can import, collecting every
//! problem with the path of the key it concerns (`projects.shop.port: ...`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use deployer::{HealthKind, StatusRanges};
use docker_client::{RestartPolicy, VolumeMount, parse_stop_signal};
use poller::{ImageName, TagRule, TagRuleError};
use store::{
    NewConfiguration, NewNotification, NewNpmSettings, NewProject, NewProjectWithStages,
    NewRegistry, NewSettings, NewStage, PlainSecret, SecretInput, Stage,
};

use super::duration::parse_duration;
use super::raw::{
    RawConfig, RawHealth, RawLimits, RawNotification, RawNpm, RawProject, RawSettings, RawStage,
};

/// One problem in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the key, such as `projects.shop.stages.dev.tag_pattern`.
    pub path: String,
    /// The line of the key (or of the nearest enclosing key when it is missing), 1-based.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

const ROUTE_TARGETS: [&str; 3] = ["container_name", "container_ip", "published_port"];

/// The notification kinds the notifier knows.
pub const NOTIFICATION_KINDS: [&str; 5] = ["webhook", "ntfy", "gotify", "discord", "slack"];

/// Checks a raw configuration. `env` reads environment variables (for `*_env` keys); `now_ms` stamps rows.
pub fn validate(
    raw: &RawConfig,
    env: &dyn Fn(&str) -> Option<String>,
    now_ms: i64,
) -> Result<NewConfiguration, Vec<Problem>> {
    let mut checker = Checker {
        problems: Vec::new(),
        env,
    };
    let settings = checker.settings(&raw.settings);
    let notifications = raw
        .settings
        .notifications
        .iter()
        .enumerate()
        .filter_map(|(index, notification)| {
            checker.notification(&format!("settings.notifications[{index}]"), notification)
        })
        .collect();
    let registries: Vec<NewRegistry> = raw
        .registries
        .iter()
        .map(|(name, registry)| {
            let path = format!("registries.{name}");
            checker.name(&path, name);
            let url = registry.url.clone().unwrap_or_default();
            match &registry.url {
                None => checker.problem(format!("{path}.url"), "a registry needs a url"),
                Some(url) => checker.http_url(&format!("{path}.url"), url),
            }
            let authority = url
                .split_once("://")
                .map_or(url.as_str(), |(_, rest)| rest.split('/').next().unwrap_or(rest));
            if authority.contains('@') {
                // Not echoed: the URL holds a password.
                checker.problem(
                    format!("{path}.url"),
                    "put the username and password in username and password (or password_env), not in the URL",
                );
            }
            let password = checker.secret(
                &path,
                "password",
                registry.password.as_ref(),
                registry.password_env.as_ref(),
            );
            let has_password = registry.password.is_some() || registry.password_env.is_some();
            if registry.username.is_some() != has_password {
                checker.problem(
                    format!("{path}.username"),
                    "a password needs a username and a username needs a password (password or password_env)",
                );
            }
            NewRegistry {
                name: name.clone(),
                url,
                username: registry.username.clone(),
                password,
            }
        })
        .collect();
    let mut images: HashMap<String, String> = HashMap::new();
    let mut projects = Vec::new();
    for (name, project) in &raw.projects {
        let path = format!("projects.{name}");
        checker.name(&path, name);
        if let Some(registry) = &project.registry
            && !raw.registries.contains_key(registry)
        {
            checker.problem(
                format!("{path}.registry"),
                format!("no registry named {registry:?} in `registries`"),
            );
        }
        let entry = checker.project(&path, name, project, now_ms);
        if !entry.project.image.is_empty()
            && let Some(other) = images.insert(entry.project.image.clone(), name.clone())
        {
            checker.problem(
                format!("{path}.image"),
                format!(
                    "{} is already the image of project {other}",
                    entry.project.image
                ),
            );
        }
        projects.push(entry);
    }
    if checker.problems.is_empty() {
        Ok(NewConfiguration {
            settings,
            registries,
            notifications,
            projects,
        })
    } else {
        Err(checker.problems)
    }
}

struct Checker<'e> {
    problems: Vec<Problem>,
    env: &'e dyn Fn(&str) -> Option<String>,
}

/// A DNS label: 1 to 63 lowercase letters, digits and inner hyphens.
fn is_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Checker<'_> {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            line: None,
            message: message.into(),
        });
    }

    /// Project, stage and registry names end up in container names and subdomains: one DNS label.
    fn name(&mut self, path: &str, name: &str) {
        if !is_label(name) {
            self.problem(
                path,
                format!(
                    "invalid name {name:?}: use 1 to 63 lowercase letters, digits and inner hyphens"
                ),
            );
        }
    }

    fn http_url(&mut self, path: &str, url: &str) {
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.contains(char::is_whitespace)
        {
            self.problem(path, format!("{url:?} must start with http:// or https://"));
        }
    }

    /// A secret given inline as `key` or read from the variable named by `key_env`. `None` when
    /// neither is given or it is unusable (a problem is recorded for the latter).
    fn secret(
        &mut self,
        path: &str,
        key: &str,
        inline: Option<&String>,
        variable: Option<&String>,
    ) -> Option<SecretInput> {
        match (inline, variable) {
            (None, None) => None,
            (Some(_), Some(_)) => {
                self.problem(
                    format!("{path}.{key}"),
                    format!("give either {key} or {key}_env, not both"),
                );
                None
            }
            (Some(value), None) => Some(SecretInput {
                value: PlainSecret::new(value.clone()),
                env: None,
            }),
            (None, Some(variable)) => self.read_env(&format!("{path}.{key}_env"), variable),
        }
    }

    fn read_env(&mut self, path: &str, variable: &str) -> Option<SecretInput> {
        if !is_env_name(variable) {
            self.problem(
                path,
                format!("{variable:?} is not an environment variable name"),
            );
            return None;
        }
        match (self.env)(variable) {
            Some(value) => Some(SecretInput {
                value: PlainSecret::new(value),
                env: Some(variable.to_string()),
            }),
            None => {
                self.problem(
                    path,
                    format!("the environment variable {variable} is not set"),
                );
                None
            }
        }
    }

    fn duration(&mut self, path: String, value: Option<&str>, default: Duration) -> Duration {
        match value.map(parse_duration) {
            None => default,
            Some(Ok(duration)) => duration,
            Some(Err(message)) => {
                self.problem(path, message);
                default
            }
        }
    }

    fn settings(&mut self, raw: &RawSettings) -> NewSettings {
        let domain = raw
            .domain
            .clone()
            .unwrap_or_else(|| "localhost".to_string());
        if domain.trim().is_empty() || domain.contains(char::is_whitespace) {
            self.problem("settings.domain", format!("invalid domain {domain:?}"));
        }
        let network = raw
            .network
            .clone()
            .unwrap_or_else(|| "docker-watcher".to_string());
        let network_ok = !network.is_empty()
            && network
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !network_ok {
            self.problem(
                "settings.network",
                format!("invalid network name {network:?}: use letters, digits, '-', '_' and '.'"),
            );
        }
        let subdomain_pattern = raw
            .subdomain_pattern
            .clone()
            .unwrap_or_else(|| "stage-{stage}-{project}".to_string());
        if !subdomain_pattern.contains("{project}") {
            self.problem(
                "settings.subdomain_pattern",
                format!("{subdomain_pattern:?} must contain {{project}}"),
            );
        }
        let route_target = raw
            .route_target
            .clone()
            .unwrap_or_else(|| "container_name".to_string());
        if !ROUTE_TARGETS.contains(&route_target.as_str()) {
            self.problem(
                "settings.route_target",
                format!(
                    "{route_target:?} is not one of {}",
                    ROUTE_TARGETS.join(", ")
                ),
            );
        }
        let poll_interval = self.duration(
            "settings.poll_interval".into(),
            raw.poll_interval.as_deref(),
            Duration::from_secs(300),
        );
        // Polls are counted in whole seconds; less would poll without pause.
        if poll_interval < Duration::from_secs(1) {
            self.problem("settings.poll_interval", "must be at least 1s");
        }
        let webhook_secret = self.webhook_secret(raw);
        let npm = raw.npm.as_ref().map(|npm| self.npm(npm));
        NewSettings {
            domain,
            network,
            subdomain_pattern,
            route_target,
            poll_interval_secs: i64::try_from(poll_interval.as_secs()).unwrap_or(i64::MAX),
            webhook_secret,
            npm,
        }
    }

    fn webhook_secret(&mut self, raw: &RawSettings) -> SecretInput {
        if raw.webhook_secret.is_none() && raw.webhook_secret_env.is_none() {
            // Generated: the secret only has to be unguessable.
            return SecretInput {
                value: PlainSecret::new(format!("{:032x}", rand::random::<u128>())),
                env: None,
            };
        }
        let Some(secret) = self.secret(
            "settings",
            "webhook_secret",
            raw.webhook_secret.as_ref(),
            raw.webhook_secret_env.as_ref(),
        ) else {
            return empty_secret();
        };
        let text = secret.value.expose();
        let url_safe = text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
        if text.len() < 16 || !url_safe {
            // The message must not repeat the secret.
            let path = if secret.env.is_some() {
                "settings.webhook_secret_env"
            } else {
                "settings.webhook_secret"
            };
            self.problem(
                path,
                "the webhook secret must be at least 16 characters of letters, digits, '-', '_', '.' or '~' (it is part of a URL)",
            );
        }
        secret
    }

    fn npm(&mut self, raw: &RawNpm) -> NewNpmSettings {
        let path = "settings.npm";
        let url = raw.url.clone().unwrap_or_default();
        match &raw.url {
            None => self.problem(
                format!("{path}.url"),
                "npm needs a url such as http://npm:81",
            ),
            Some(url) => self.http_url(&format!("{path}.url"), url),
        }
        let identity = raw.identity.clone().unwrap_or_default();
        if identity.trim().is_empty() {
            self.problem(
                format!("{path}.identity"),
                "npm needs the identity (email) of its user",
            );
        }
        if raw.password.is_none() && raw.password_env.is_none() {
            self.problem(
                format!("{path}.password"),
                "npm needs a password or password_env",
            );
        }
        let password = self
            .secret(
                path,
                "password",
                raw.password.as_ref(),
                raw.password_env.as_ref(),
            )
            .unwrap_or_else(empty_secret);
        for (key, value) in [
            ("certificate_id", raw.certificate_id),
            ("access_list_id", raw.access_list_id),
        ] {
            if let Some(value) = value
                && value < 0
            {
                self.problem(
                    format!("{path}.{key}"),
                    format!("{value} is negative; use 0 or more"),
                );
            }
        }
        NewNpmSettings {
            url,
            identity,
            password,
            certificate_id: raw.certificate_id,
            ssl_forced: raw.ssl_forced.unwrap_or(false),
            allow_websocket_upgrade: raw.allow_websocket_upgrade.unwrap_or(true),
            access_list_id: raw.access_list_id,
        }
    }

    fn notification(&mut self, path: &str, raw: &RawNotification) -> Option<NewNotification> {
        let kind = raw.kind.clone().unwrap_or_default();
        match &raw.kind {
            None => self.problem(
                format!("{path}.kind"),
                format!(
                    "a notification needs a kind: {}",
                    NOTIFICATION_KINDS.join(", ")
                ),
            ),
            Some(kind) if !NOTIFICATION_KINDS.contains(&kind.as_str()) => self.problem(
                format!("{path}.kind"),
                format!("{kind:?} is not one of {}", NOTIFICATION_KINDS.join(", ")),
            ),
            Some(_) => {}
        }
        if raw.url.is_none() && raw.url_env.is_none() {
            self.problem(
                format!("{path}.url"),
                "a notification needs a url or url_env",
            );
            return None;
        }
        let url = self.secret(path, "url", raw.url.as_ref(), raw.url_env.as_ref())?;
        let text = url.value.expose();
        if !(text.starts_with("http://") || text.starts_with("https://")) {
            // The URL is a secret: the message does not repeat it.
            let key = if url.env.is_some() { "url_env" } else { "url" };
            self.problem(
                format!("{path}.{key}"),
                "the URL must start with http:// or https://",
            );
        }
        Some(NewNotification { kind, url })
    }

    fn project(
        &mut self,
        path: &str,
        name: &str,
        raw: &RawProject,
        now_ms: i64,
    ) -> NewProjectWithStages {
        let image = match &raw.image {
            None => {
                self.problem(format!("{path}.image"), "a project needs an image");
                String::new()
            }
            Some(image) => match ImageName::parse(image.trim()) {
                Ok(image) => image.to_string(),
                Err(error) => {
                    self.problem(format!("{path}.image"), error.to_string());
                    String::new()
                }
            },
        };
        let port = match raw.port {
            None => None,
            Some(port) if (1..=65535).contains(&port) => i32::try_from(port).ok(),
            Some(port) => {
                self.problem(
                    format!("{path}.port"),
                    format!("{port} is not a port (1 to 65535)"),
                );
                None
            }
        };
        let health = self.health(&format!("{path}.health"), &raw.health);
        for key in raw.env.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                self.problem(
                    format!("{path}.env"),
                    format!("invalid variable name {key:?}"),
                );
            }
        }
        let secret_env = self.secret_env(path, raw);
        self.volumes(&format!("{path}.volumes"), &raw.volumes);
        let (memory_bytes, nano_cpus) = self.limits(&format!("{path}.limits"), &raw.limits);
        let container = self.container(path, raw);
        if raw.stages.is_empty() {
            self.problem(
                format!("{path}.stages"),
                "a project needs at least one stage",
            );
        }
        let stages = raw
            .stages
            .iter()
            .map(|(stage_name, stage)| {
                self.stage(
                    &format!("{path}.stages.{stage_name}"),
                    stage_name,
                    stage,
                    &raw.stages,
                )
            })
            .collect();
        NewProjectWithStages {
            project: NewProject {
                name: name.to_string(),
                image,
                registry_id: None,
                port,
                health_path: health.path,
                health_interval_ms: millis(health.interval),
                health_timeout_ms: millis(health.timeout),
                health_retries: health.retries,
                health_start_period_ms: millis(health.start_period),
                health_kind: health.kind.as_str().to_string(),
                health_status: health.status.to_string(),
                env: NewProject::env_json(&raw.env),
                created_at: now_ms,
                volumes: NewProject::volumes_json(&raw.volumes),
                memory_bytes,
                nano_cpus,
                restart_policy: container.restart,
                stop_timeout_ms: container.stop_timeout_ms,
                stop_signal: container.stop_signal,
            },
            registry: raw.registry.clone(),
            secret_env,
            stages,
        }
    }

    fn secret_env(&mut self, path: &str, raw: &RawProject) -> Vec<(String, SecretInput)> {
        let mut values: BTreeMap<String, SecretInput> = BTreeMap::new();
        for (key, value) in &raw.secret_env {
            let key_path = format!("{path}.secret_env.{key}");
            let (name, secret) = match key.strip_suffix("_env") {
                Some(name) => (name, self.read_env(&key_path, value)),
                None => (
                    key.as_str(),
                    Some(SecretInput {
                        value: PlainSecret::new(value.clone()),
                        env: None,
                    }),
                ),
            };
            if !is_env_name(name) {
                self.problem(
                    &key_path,
                    format!("{name:?} is not a variable name (letters, digits and _, not starting with a digit)"),
                );
                continue;
            }
            if raw.env.contains_key(name) {
                self.problem(
                    &key_path,
                    format!("{name} is also in env; a variable is either plain or secret"),
                );
                continue;
            }
            if values.contains_key(name) {
                self.problem(
                    &key_path,
                    format!("{name} is given both inline and as {name}_env"),
                );
                continue;
            }
            if let Some(secret) = secret {
                values.insert(name.to_string(), secret);
            }
        }
        values.into_iter().collect()
    }

    /// Volume mounts (`name:/path`, `/host:/path`, optionally `:ro`); two for one path inside the
    /// container would make the engine refuse the container.
    fn volumes(&mut self, path: &str, volumes: &[String]) {
        let mut targets: HashMap<String, usize> = HashMap::new();
        for (index, volume) in volumes.iter().enumerate() {
            match VolumeMount::parse(volume) {
                Err(message) => self.problem(format!("{path}[{index}]"), message),
                Ok(mount) => {
                    if let Some(first) = targets.insert(mount.target.clone(), index) {
                        self.problem(
                            format!("{path}[{index}]"),
                            format!(
                                "{} is already mounted by {path}[{first}]; mount one thing per path",
                                mount.target
                            ),
                        );
                    }
                }
            }
        }
    }

    /// The restart policy, stop timeout and stop signal of the project's containers.
    fn container(&mut self, path: &str, raw: &RawProject) -> Container {
        let restart = match raw.restart.as_deref() {
            None => DEFAULT_RESTART.to_string(),
            Some(text) => match RestartPolicy::parse(text) {
                Ok(policy) => policy.to_string(),
                Err(message) => {
                    self.problem(format!("{path}.restart"), message);
                    DEFAULT_RESTART.to_string()
                }
            },
        };
        let timeout_path = format!("{path}.stop_timeout");
        let stop_timeout = self.duration(
            timeout_path.clone(),
            raw.stop_timeout.as_deref(),
            DEFAULT_STOP_TIMEOUT,
        );
        if stop_timeout.subsec_nanos() != 0 {
            self.problem(
                timeout_path,
                format!(
                    "{:?} is not whole seconds: Docker counts stop timeouts in seconds; write one such as 10s",
                    raw.stop_timeout.as_deref().unwrap_or_default()
                ),
            );
        } else if stop_timeout > MAX_STOP_TIMEOUT {
            self.problem(
                timeout_path,
                format!(
                    "{:?} is longer than an hour; a stop this long would hold up the stage's deploys",
                    raw.stop_timeout.as_deref().unwrap_or_default()
                ),
            );
        }
        let stop_signal = raw.stop_signal.as_deref().and_then(|text| {
            parse_stop_signal(text)
                .map_err(|message| self.problem(format!("{path}.stop_signal"), message))
                .ok()
        });
        Container {
            restart,
            stop_timeout_ms: millis(stop_timeout),
            stop_signal,
        }
    }

    fn limits(&mut self, path: &str, raw: &RawLimits) -> (Option<i64>, Option<i64>) {
        let memory = raw.memory.as_deref().and_then(|text| {
            parse_memory(text)
                .and_then(|bytes| {
                    if bytes < MIN_MEMORY {
                        Err(format!(
                            "memory size {text:?} is below the 6m Docker needs to start a container"
                        ))
                    } else {
                        Ok(bytes)
                    }
                })
                .map_err(|message| self.problem(format!("{path}.memory"), message))
                .ok()
        });
        let cpus = raw.cpus.and_then(|cpus| {
            let nanos = cpus * 1e9;
            if cpus.is_finite() && cpus > 0.0 && nanos >= 1.0 && nanos < i64::MAX as f64 {
                Some(nanos.round() as i64)
            } else {
                self.problem(
                    format!("{path}.cpus"),
                    format!("{cpus} is not a number of CPUs greater than 0"),
                );
                None
            }
        });
        (memory, cpus)
    }

    fn health(&mut self, path: &str, raw: &RawHealth) -> Health {
        let kind = match raw.kind.as_deref() {
            None => HealthKind::Http,
            Some(name) => HealthKind::parse(name).unwrap_or_else(|| {
                self.problem(
                    format!("{path}.kind"),
                    format!("{name:?} is not one of {}", HealthKind::NAMES.join(", ")),
                );
                HealthKind::Http
            }),
        };
        if kind == HealthKind::Docker {
            let http_only = [
                ("path", raw.path.is_some()),
                ("status", raw.status.is_some()),
                ("timeout", raw.timeout.is_some()),
                ("retries", raw.retries.is_some()),
            ];
            for (key, _) in http_only.into_iter().filter(|(_, given)| *given) {
                self.problem(
                    format!("{path}.{key}"),
                    "only kind http uses this: kind docker follows the container's own HEALTHCHECK",
                );
            }
        }
        let status = match raw.status.as_deref() {
            None => StatusRanges::default(),
            Some(text) => StatusRanges::parse(text).unwrap_or_else(|message| {
                self.problem(format!("{path}.status"), message);
                StatusRanges::default()
            }),
        };
        let health_path = raw.path.clone().unwrap_or_else(|| "/".to_string());
        if !health_path.starts_with('/') || health_path.contains(char::is_whitespace) {
            self.problem(
                format!("{path}.path"),
                format!("{health_path:?} must be a URL path starting with /"),
            );
        }
        let retries = match raw.retries {
            None => 30,
            Some(retries) if (1..=10_000).contains(&retries) => retries as i32,
            Some(retries) => {
                self.problem(
                    format!("{path}.retries"),
                    format!("{retries} is not between 1 and 10000"),
                );
                30
            }
        };
        let mut positive = |key: &str, value: Option<&str>, default: Duration| {
            let duration = self.duration(format!("{path}.{key}"), value, default);
            if duration.is_zero() {
                self.problem(format!("{path}.{key}"), "must be more than 0s");
                return default;
            }
            duration
        };
        let interval = positive("interval", raw.interval.as_deref(), Duration::from_secs(1));
        let timeout = positive("timeout", raw.timeout.as_deref(), Duration::from_secs(2));
        Health {
            kind,
            path: health_path,
            status,
            interval,
            timeout,
            retries,
            start_period: self.duration(
                format!("{path}.start_period"),
                raw.start_period.as_deref(),
                Duration::ZERO,
            ),
        }
    }

    fn stage(
        &mut self,
        path: &str,
        name: &str,
        raw: &RawStage,
        siblings: &BTreeMap<String, RawStage>,
    ) -> NewStage {
        self.name(path, name);
        let include_prerelease = raw.include_prerelease.unwrap_or(false);
        // The poller's own rule type, so what is accepted here is what matches pushed tags.
        if let Err(error) = TagRule::new(
            raw.tag_pattern.as_deref(),
            raw.tag_regex.as_deref(),
            raw.tag_semver.as_deref(),
            include_prerelease,
        ) {
            let key = match error {
                TagRuleError::Missing | TagRuleError::Several => None,
                TagRuleError::Glob { .. } => Some("tag_pattern"),
                TagRuleError::Regex { .. } => Some("tag_regex"),
                TagRuleError::Semver { .. } => Some("tag_semver"),
            };
            match key {
                Some(key) => self.problem(format!("{path}.{key}"), error.to_string()),
                None => self.problem(path, error.to_string()),
            }
        }
        let max_instances = match raw.max_instances {
            None => 1,
            Some(count) if (1..=100).contains(&count) => count as i32,
            Some(count) => {
                self.problem(
                    format!("{path}.max_instances"),
                    format!("{count} is not between 1 and 100"),
                );
                1
            }
        };
        let keep_images = match raw.keep_images {
            None => Stage::DEFAULT_KEEP_IMAGES,
            Some(count) if (1..=MAX_KEEP_IMAGES).contains(&count) => count as i32,
            Some(count) => {
                self.problem(
                    format!("{path}.keep_images"),
                    format!("{count} is not between 1 and {MAX_KEEP_IMAGES}"),
                );
                Stage::DEFAULT_KEEP_IMAGES
            }
        };
        let expire_after_ms = raw.expire_after.as_deref().and_then(|text| {
            let path = format!("{path}.expire_after");
            match parse_duration(text) {
                Ok(duration) if duration.is_zero() => {
                    self.problem(path, "must be more than 0s");
                    None
                }
                Ok(duration) => Some(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)),
                Err(message) => {
                    self.problem(path, message);
                    None
                }
            }
        });
        if expire_after_ms.is_some() && max_instances == 1 {
            self.problem(
                format!("{path}.expire_after"),
                "only a stage with max_instances above 1 has extra instances to expire",
            );
        }
        if let Some(from) = &raw.promote_from {
            if from == name {
                self.problem(
                    format!("{path}.promote_from"),
                    "a stage cannot promote from itself",
                );
            } else if !siblings.contains_key(from) {
                self.problem(
                    format!("{path}.promote_from"),
                    format!("no stage named {from:?} in this project"),
                );
            }
        }
        self.volumes(&format!("{path}.volumes"), &raw.volumes);
        if let Some(subdomain) = &raw.subdomain {
            let valid = subdomain.len() <= 253 && subdomain.split('.').all(is_label);
            if !valid {
                self.problem(
                    format!("{path}.subdomain"),
                    format!(
                        "invalid subdomain {subdomain:?}: use DNS labels of 1 to 63 lowercase letters, digits and inner hyphens, separated by dots"
                    ),
                );
            }
        }
        NewStage {
            name: name.to_string(),
            tag_pattern: raw.tag_pattern.clone(),
            tag_regex: raw.tag_regex.clone(),
            tag_semver: raw.tag_semver.clone(),
            include_prerelease,
            auto_deploy: raw.auto_deploy.unwrap_or(true),
            max_instances,
            promote_from: raw.promote_from.clone(),
            subdomain: raw.subdomain.clone(),
            watch_digest: raw.watch_digest.unwrap_or(false),
            poll: raw.poll.unwrap_or(false),
            volumes: raw.volumes.clone(),
            keep_images,
            expire_after_ms,
        }
    }
}

/// Bytes with an optional binary suffix: `268435456`, `512k`, `256m`, `2g`.
pub fn parse_memory(text: &str) -> Result<i64, String> {
    let invalid = || {
        format!(
            "invalid memory size {text:?}: write a whole number of bytes with an optional k, m or g suffix, such as 256m"
        )
    };
    let trimmed = text.trim();
    let (number, factor) = match trimmed.char_indices().last() {
        Some((at, 'k' | 'K')) => (&trimmed[..at], 1i64 << 10),
        Some((at, 'm' | 'M')) => (&trimmed[..at], 1 << 20),
        Some((at, 'g' | 'G')) => (&trimmed[..at], 1 << 30),
        _ => (trimmed, 1),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let amount: i64 = number.parse().map_err(|_| invalid())?;
    match amount.checked_mul(factor) {
        Some(0) => Err(format!("memory size {text:?} must be more than 0")),
        Some(bytes) => Ok(bytes),
        None => Err(format!("memory size {text:?} is too large")),
    }
}

fn empty_secret() -> SecretInput {
    SecretInput {
        value: PlainSecret::new(String::new()),
        env: None,
    }
}

/// What a long-running service wants: back after a crash or a reboot of the host, but not
/// after someone stopped it on purpose.
pub const DEFAULT_RESTART: &str = "unless-stopped";
/// Docker's own default.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_STOP_TIMEOUT: Duration = Duration::from_secs(3600);
/// Most images a stage may keep: more is a disk filling up, not rollback targets.
const MAX_KEEP_IMAGES: i64 = 100;
/// The engine refuses smaller memory limits.
const MIN_MEMORY: i64 = 6 << 20;

struct Container {
    restart: String,
    stop_timeout_ms: i64,
    stop_signal: Option<String>,
}

struct Health {
    kind: HealthKind,
    path: String,
    status: StatusRanges,
    interval: Duration,
    timeout: Duration,
    retries: i32,
    start_period: Duration,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
