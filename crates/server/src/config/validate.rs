//! Turning the file's raw values into a configuration the store can import, collecting every
//! problem with the path of the key it concerns (`projects.shop.port: ...`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use globset::Glob;
use poller::ImageName;
use store::{
    NewConfiguration, NewProject, NewProjectWithStages, NewRegistry, NewSettings, NewStage,
    PlainSecret, SecretInput,
};

use super::duration::parse_duration;
use super::raw::{RawConfig, RawHealth, RawProject, RawSettings, RawStage};

/// One problem in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the key, such as `projects.shop.stages.dev.tag_pattern`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

const ROUTE_TARGETS: [&str; 3] = ["container_name", "container_ip", "published_port"];

/// Checks a raw configuration. `env` reads environment variables (for `*_env` keys); `now_ms` stamps rows.
pub fn validate(
    raw: &RawConfig,
    env: &dyn Fn(&str) -> Option<String>,
    now_ms: i64,
) -> Result<NewConfiguration, Vec<Problem>> {
    let mut checker = Checker::default();
    let settings = checker.settings(&raw.settings, env, now_ms);
    let registries: Vec<NewRegistry> = raw
        .registries
        .iter()
        .map(|(name, registry)| {
            let path = format!("registries.{name}");
            checker.name(&path, name);
            if !(registry.url.starts_with("http://") || registry.url.starts_with("https://")) {
                checker.problem(
                    format!("{path}.url"),
                    format!("{:?} must start with http:// or https://", registry.url),
                );
            }
            NewRegistry {
                name: name.clone(),
                url: registry.url.clone(),
                username: None,
                password: None,
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
        if let Some(entry) = checker.project(&path, name, project, now_ms) {
            if let Some(other) = images.insert(entry.project.image.clone(), name.clone()) {
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
    }
    if checker.problems.is_empty() {
        Ok(NewConfiguration {
            settings,
            registries,
            notifications: Vec::new(),
            projects,
        })
    } else {
        Err(checker.problems)
    }
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Project, stage and registry names end up in container names and subdomains: one DNS label.
    fn name(&mut self, path: &str, name: &str) {
        let label_ok = !name.is_empty()
            && name.len() <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if !label_ok {
            self.problem(
                path,
                format!(
                    "invalid name {name:?}: use 1 to 63 lowercase letters, digits and inner hyphens"
                ),
            );
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

    fn settings(
        &mut self,
        raw: &RawSettings,
        env: &dyn Fn(&str) -> Option<String>,
        _now_ms: i64,
    ) -> NewSettings {
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
        let webhook_secret = self.webhook_secret(raw, env);
        NewSettings {
            domain,
            network,
            subdomain_pattern,
            route_target,
            poll_interval_secs: i64::try_from(poll_interval.as_secs()).unwrap_or(i64::MAX),
            webhook_secret,
            npm: None,
        }
    }

    fn webhook_secret(
        &mut self,
        raw: &RawSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> SecretInput {
        let (secret, source) = match (&raw.webhook_secret, &raw.webhook_secret_env) {
            (Some(_), Some(_)) => {
                self.problem(
                    "settings.webhook_secret",
                    "give either webhook_secret or webhook_secret_env, not both",
                );
                return empty_secret();
            }
            (Some(inline), None) => (inline.clone(), None),
            (None, Some(variable)) => match env(variable) {
                Some(value) => (value, Some(variable.clone())),
                None => {
                    self.problem(
                        "settings.webhook_secret_env",
                        format!("the environment variable {variable} is not set"),
                    );
                    return empty_secret();
                }
            },
            // Generated: the secret only has to be unguessable.
            (None, None) => {
                return SecretInput {
                    value: PlainSecret::new(format!("{:032x}", rand::random::<u128>())),
                    env: None,
                };
            }
        };
        let url_safe = secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
        if secret.len() < 16 || !url_safe {
            // The message must not repeat the secret.
            self.problem(
                "settings.webhook_secret",
                "the webhook secret must be at least 16 characters of letters, digits, '-', '_', '.' or '~' (it is part of a URL)",
            );
        }
        SecretInput {
            value: PlainSecret::new(secret),
            env: source,
        }
    }

    fn project(
        &mut self,
        path: &str,
        name: &str,
        raw: &RawProject,
        now_ms: i64,
    ) -> Option<NewProjectWithStages> {
        let image = match ImageName::parse(raw.image.trim()) {
            Ok(image) => image.to_string(),
            Err(error) => {
                self.problem(format!("{path}.image"), error.to_string());
                String::new()
            }
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
                self.stage(&format!("{path}.stages.{stage_name}"), stage_name, stage)
            })
            .collect();
        let env: BTreeMap<String, String> = raw.env.clone();
        Some(NewProjectWithStages {
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
                env: NewProject::env_json(&env),
                created_at: now_ms,
                volumes: NewProject::volumes_json(&[]),
                memory_bytes: None,
                nano_cpus: None,
            },
            registry: raw.registry.clone(),
            secret_env: Vec::new(),
            stages,
        })
    }

    fn health(&mut self, path: &str, raw: &RawHealth) -> Health {
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
        Health {
            path: health_path,
            interval: self.duration(
                format!("{path}.interval"),
                raw.interval.as_deref(),
                Duration::from_secs(1),
            ),
            timeout: self.duration(
                format!("{path}.timeout"),
                raw.timeout.as_deref(),
                Duration::from_secs(2),
            ),
            retries,
            start_period: self.duration(
                format!("{path}.start_period"),
                raw.start_period.as_deref(),
                Duration::ZERO,
            ),
        }
    }

    fn stage(&mut self, path: &str, name: &str, raw: &RawStage) -> NewStage {
        self.name(path, name);
        let tag_pattern = match &raw.tag_pattern {
            Some(pattern) => {
                if let Err(error) = Glob::new(pattern) {
                    self.problem(
                        format!("{path}.tag_pattern"),
                        format!("invalid glob {pattern:?}: {}", error.kind()),
                    );
                }
                pattern.clone()
            }
            None => {
                self.problem(
                    format!("{path}.tag_pattern"),
                    "a stage needs a tag_pattern (a glob such as \"dev-*\" or \"*\")",
                );
                String::new()
            }
        };
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
        NewStage {
            name: name.to_string(),
            tag_pattern: Some(tag_pattern),
            auto_deploy: raw.auto_deploy.unwrap_or(true),
            max_instances,
            ..NewStage::default()
        }
    }
}

fn empty_secret() -> SecretInput {
    SecretInput {
        value: PlainSecret::new(String::new()),
        env: None,
    }
}

struct Health {
    path: String,
    interval: Duration,
    timeout: Duration,
    retries: i32,
    start_period: Duration,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
