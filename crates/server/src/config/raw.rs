//! The configuration file as written: the YAML tree read into plain structs. Unknown keys and
//! values of the wrong type are problems collected with their path and line, like the value checks
//! in `validate`, so one run reports everything.

use std::collections::{BTreeMap, HashMap};

use super::validate::Problem;
use super::yaml::{Node, ScalarKind, Value, parse_float, parse_int};

/// The whole file.
#[derive(Debug, Default)]
pub struct RawConfig {
    pub settings: RawSettings,
    pub registries: BTreeMap<String, RawRegistry>,
    pub projects: BTreeMap<String, RawProject>,
}

#[derive(Debug, Default)]
pub struct RawSettings {
    pub domain: Option<String>,
    pub network: Option<String>,
    pub subdomain_pattern: Option<String>,
    pub poll_interval: Option<String>,
    pub webhook_secret: Option<String>,
    pub webhook_secret_env: Option<String>,
    pub route_target: Option<String>,
    pub npm: Option<RawNpm>,
    pub notifications: Vec<RawNotification>,
}

#[derive(Debug, Default)]
pub struct RawNpm {
    pub url: Option<String>,
    pub identity: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub certificate_id: Option<i64>,
    pub ssl_forced: Option<bool>,
    pub allow_websocket_upgrade: Option<bool>,
    pub access_list_id: Option<i64>,
}

#[derive(Debug, Default)]
pub struct RawNotification {
    pub kind: Option<String>,
    pub url: Option<String>,
    pub url_env: Option<String>,
}

#[derive(Debug, Default)]
pub struct RawRegistry {
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
}

#[derive(Debug, Default)]
pub struct RawProject {
    pub image: Option<String>,
    pub registry: Option<String>,
    pub port: Option<i64>,
    pub health: RawHealth,
    pub env: BTreeMap<String, String>,
    /// Keys as written: `NAME` (inline value) or `NAME_env` (a variable to read).
    pub secret_env: BTreeMap<String, String>,
    pub volumes: Vec<String>,
    pub limits: RawLimits,
    pub restart: Option<String>,
    pub stop_timeout: Option<String>,
    pub stop_signal: Option<String>,
    pub stages: BTreeMap<String, RawStage>,
}

#[derive(Debug, Default)]
pub struct RawHealth {
    /// `http` or `docker`.
    pub kind: Option<String>,
    pub path: Option<String>,
    /// Accepted HTTP statuses; a list is joined with commas (`200-299,404`).
    pub status: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub retries: Option<i64>,
    pub start_period: Option<String>,
}

#[derive(Debug, Default)]
pub struct RawLimits {
    /// Bytes, with an optional `k`, `m` or `g` suffix.
    pub memory: Option<String>,
    pub cpus: Option<f64>,
}

#[derive(Debug, Default)]
pub struct RawStage {
    pub tag_pattern: Option<String>,
    pub tag_regex: Option<String>,
    pub tag_semver: Option<String>,
    pub include_prerelease: Option<bool>,
    pub auto_deploy: Option<bool>,
    pub max_instances: Option<i64>,
    pub promote_from: Option<String>,
    pub subdomain: Option<String>,
    pub watch_digest: Option<bool>,
    pub poll: Option<bool>,
    pub volumes: Vec<String>,
    pub keep_images: Option<i64>,
    pub expire_after: Option<String>,
}

const TOP_KEYS: &[&str] = &["settings", "registries", "projects"];
const SETTINGS_KEYS: &[&str] = &[
    "domain",
    "network",
    "subdomain_pattern",
    "poll_interval",
    "webhook_secret",
    "webhook_secret_env",
    "route_target",
    "npm",
    "notifications",
];
const NPM_KEYS: &[&str] = &[
    "url",
    "identity",
    "password",
    "password_env",
    "certificate_id",
    "ssl_forced",
    "allow_websocket_upgrade",
    "access_list_id",
];
const NOTIFICATION_KEYS: &[&str] = &["kind", "url", "url_env"];
const REGISTRY_KEYS: &[&str] = &["url", "username", "password", "password_env"];
const PROJECT_KEYS: &[&str] = &[
    "image",
    "registry",
    "port",
    "health",
    "env",
    "secret_env",
    "volumes",
    "limits",
    "restart",
    "stop_timeout",
    "stop_signal",
    "stages",
];
const HEALTH_KEYS: &[&str] = &[
    "kind",
    "path",
    "status",
    "interval",
    "timeout",
    "retries",
    "start_period",
];
const LIMITS_KEYS: &[&str] = &["memory", "cpus"];
const STAGE_KEYS: &[&str] = &[
    "tag_pattern",
    "tag_regex",
    "tag_semver",
    "include_prerelease",
    "auto_deploy",
    "max_instances",
    "promote_from",
    "subdomain",
    "watch_digest",
    "poll",
    "volumes",
    "keep_images",
    "expire_after",
];

/// Reads the tree into raw structs; `problems` gets unknown keys and wrong types, `lines` the line
/// of every key path seen.
#[derive(Default)]
pub struct Reader {
    pub problems: Vec<Problem>,
    pub lines: HashMap<String, usize>,
}

/// The keys of one mapping, checked against the known ones.
struct Fields<'a> {
    path: String,
    entries: Vec<(&'a str, &'a Node)>,
}

impl<'a> Fields<'a> {
    fn take(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, node)| *node)
            .filter(|node| !node.is_null())
    }

    fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Reader {
    fn problem(&mut self, path: String, line: usize, message: impl Into<String>) {
        self.problems.push(Problem {
            path,
            line: Some(line),
            message: message.into(),
        });
    }

    fn wrong_type(&mut self, path: String, node: &Node, expected: &str) {
        let found = node.describe();
        self.problem(
            path,
            node.line,
            format!("expected {expected}, found {found}"),
        );
    }

    /// The entries of a mapping (a null value is an empty one); records each key's line.
    fn entries<'a>(&mut self, path: &str, node: &'a Node) -> Option<Vec<(&'a str, &'a Node)>> {
        match &node.value {
            Value::Map(entries) => Some(
                entries
                    .iter()
                    .map(|entry| {
                        self.lines.insert(join(path, &entry.key), entry.line);
                        (entry.key.as_str(), &entry.node)
                    })
                    .collect(),
            ),
            Value::Scalar(_, ScalarKind::Null) => Some(Vec::new()),
            _ => {
                let path = if path.is_empty() { "(top level)" } else { path };
                self.wrong_type(path.to_string(), node, "a mapping");
                None
            }
        }
    }

    /// A mapping with a fixed set of keys; unknown ones are reported.
    fn fields<'a>(&mut self, path: &str, node: &'a Node, known: &[&str]) -> Fields<'a> {
        let entries = self.entries(path, node).unwrap_or_default();
        for (key, _) in &entries {
            if !known.contains(key) {
                let key_path = join(path, key);
                let line = self.lines.get(&key_path).copied().unwrap_or(node.line);
                self.problem(
                    key_path,
                    line,
                    format!("unknown key; expected one of {}", known.join(", ")),
                );
            }
        }
        Fields {
            path: path.to_string(),
            entries,
        }
    }

    /// A mapping whose keys are names chosen by the user.
    fn named<'a>(&mut self, path: &str, node: Option<&'a Node>) -> Vec<(&'a str, &'a Node)> {
        node.and_then(|node| self.entries(path, node))
            .unwrap_or_default()
    }

    fn string(&mut self, fields: &Fields<'_>, key: &str) -> Option<String> {
        let node = fields.take(key)?;
        self.scalar_text(fields.path(key), node)
    }

    /// Any scalar reads as a string (`8080` in `env` is the text "8080").
    fn scalar_text(&mut self, path: String, node: &Node) -> Option<String> {
        match &node.value {
            Value::Scalar(text, _) => Some(text.clone()),
            _ => {
                self.wrong_type(path, node, "a string");
                None
            }
        }
    }

    fn integer(&mut self, fields: &Fields<'_>, key: &str) -> Option<i64> {
        let node = fields.take(key)?;
        match &node.value {
            Value::Scalar(text, ScalarKind::Int) => match parse_int(text) {
                Some(value) => Some(value),
                None => {
                    self.problem(fields.path(key), node.line, format!("{text} is too large"));
                    None
                }
            },
            _ => {
                self.wrong_type(fields.path(key), node, "an integer");
                None
            }
        }
    }

    fn number(&mut self, fields: &Fields<'_>, key: &str) -> Option<f64> {
        let node = fields.take(key)?;
        match &node.value {
            Value::Scalar(text, ScalarKind::Int | ScalarKind::Float) => parse_float(text),
            _ => {
                self.wrong_type(fields.path(key), node, "a number");
                None
            }
        }
    }

    fn boolean(&mut self, fields: &Fields<'_>, key: &str) -> Option<bool> {
        let node = fields.take(key)?;
        match &node.value {
            Value::Scalar(text, ScalarKind::Bool) => Some(text.eq_ignore_ascii_case("true")),
            _ => {
                self.wrong_type(fields.path(key), node, "true or false");
                None
            }
        }
    }

    fn string_map(&mut self, fields: &Fields<'_>, key: &str) -> BTreeMap<String, String> {
        let path = fields.path(key);
        let mut map = BTreeMap::new();
        for (name, node) in self.named(&path, fields.take(key)) {
            if let Some(text) = self.scalar_text(join(&path, name), node) {
                map.insert(name.to_string(), text);
            }
        }
        map
    }

    fn string_list(&mut self, fields: &Fields<'_>, key: &str) -> Vec<String> {
        let path = fields.path(key);
        match fields.take(key) {
            None => Vec::new(),
            Some(Node {
                value: Value::Seq(items),
                ..
            }) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    let item_path = format!("{path}[{index}]");
                    self.lines.insert(item_path.clone(), item.line);
                    self.scalar_text(item_path, item)
                })
                .collect(),
            Some(node) => {
                self.wrong_type(path, node, "a list");
                Vec::new()
            }
        }
    }

    /// A scalar, or a list of scalars joined with commas: `200-399`, `204` or `[200, "300-302"]`.
    fn scalar_or_list(&mut self, fields: &Fields<'_>, key: &str) -> Option<String> {
        let path = fields.path(key);
        match fields.take(key)? {
            Node {
                value: Value::Seq(items),
                ..
            } => {
                let mut texts = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    let item_path = format!("{path}[{index}]");
                    self.lines.insert(item_path.clone(), item.line);
                    texts.push(self.scalar_text(item_path, item)?);
                }
                Some(texts.join(","))
            }
            node => self.scalar_text(path, node),
        }
    }

    /// Reads the document root.
    pub fn config(&mut self, root: Option<&Node>) -> RawConfig {
        let Some(root) = root else {
            return RawConfig::default();
        };
        let top = self.fields("", root, TOP_KEYS);
        let settings = match top.take("settings") {
            Some(node) => self.settings(node),
            None => RawSettings::default(),
        };
        let mut registries = BTreeMap::new();
        for (name, node) in self.named("registries", top.take("registries")) {
            let registry = self.registry(&join("registries", name), node);
            registries.insert(name.to_string(), registry);
        }
        let mut projects = BTreeMap::new();
        for (name, node) in self.named("projects", top.take("projects")) {
            let project = self.project(&join("projects", name), node);
            projects.insert(name.to_string(), project);
        }
        RawConfig {
            settings,
            registries,
            projects,
        }
    }

    fn settings(&mut self, node: &Node) -> RawSettings {
        let f = self.fields("settings", node, SETTINGS_KEYS);
        let npm = f.take("npm").map(|node| self.npm(node));
        let notifications = match f.take("notifications") {
            None => Vec::new(),
            Some(Node {
                value: Value::Seq(items),
                ..
            }) => items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let path = format!("settings.notifications[{index}]");
                    self.lines.insert(path.clone(), item.line);
                    let n = self.fields(&path, item, NOTIFICATION_KEYS);
                    RawNotification {
                        kind: self.string(&n, "kind"),
                        url: self.string(&n, "url"),
                        url_env: self.string(&n, "url_env"),
                    }
                })
                .collect(),
            Some(node) => {
                self.wrong_type("settings.notifications".into(), node, "a list");
                Vec::new()
            }
        };
        RawSettings {
            domain: self.string(&f, "domain"),
            network: self.string(&f, "network"),
            subdomain_pattern: self.string(&f, "subdomain_pattern"),
            poll_interval: self.string(&f, "poll_interval"),
            webhook_secret: self.string(&f, "webhook_secret"),
            webhook_secret_env: self.string(&f, "webhook_secret_env"),
            route_target: self.string(&f, "route_target"),
            npm,
            notifications,
        }
    }

    fn npm(&mut self, node: &Node) -> RawNpm {
        let f = self.fields("settings.npm", node, NPM_KEYS);
        RawNpm {
            url: self.string(&f, "url"),
            identity: self.string(&f, "identity"),
            password: self.string(&f, "password"),
            password_env: self.string(&f, "password_env"),
            certificate_id: self.integer(&f, "certificate_id"),
            ssl_forced: self.boolean(&f, "ssl_forced"),
            allow_websocket_upgrade: self.boolean(&f, "allow_websocket_upgrade"),
            access_list_id: self.integer(&f, "access_list_id"),
        }
    }

    fn registry(&mut self, path: &str, node: &Node) -> RawRegistry {
        let f = self.fields(path, node, REGISTRY_KEYS);
        RawRegistry {
            url: self.string(&f, "url"),
            username: self.string(&f, "username"),
            password: self.string(&f, "password"),
            password_env: self.string(&f, "password_env"),
        }
    }

    fn project(&mut self, path: &str, node: &Node) -> RawProject {
        let f = self.fields(path, node, PROJECT_KEYS);
        let health = match f.take("health") {
            None => RawHealth::default(),
            Some(node) => {
                let h = self.fields(&f.path("health"), node, HEALTH_KEYS);
                RawHealth {
                    kind: self.string(&h, "kind"),
                    path: self.string(&h, "path"),
                    status: self.scalar_or_list(&h, "status"),
                    interval: self.string(&h, "interval"),
                    timeout: self.string(&h, "timeout"),
                    retries: self.integer(&h, "retries"),
                    start_period: self.string(&h, "start_period"),
                }
            }
        };
        let limits = match f.take("limits") {
            None => RawLimits::default(),
            Some(node) => {
                let l = self.fields(&f.path("limits"), node, LIMITS_KEYS);
                RawLimits {
                    memory: self.string(&l, "memory"),
                    cpus: self.number(&l, "cpus"),
                }
            }
        };
        let stages_path = f.path("stages");
        let mut stages = BTreeMap::new();
        for (name, node) in self.named(&stages_path, f.take("stages")) {
            let s = self.fields(&join(&stages_path, name), node, STAGE_KEYS);
            let stage = RawStage {
                tag_pattern: self.string(&s, "tag_pattern"),
                tag_regex: self.string(&s, "tag_regex"),
                tag_semver: self.string(&s, "tag_semver"),
                include_prerelease: self.boolean(&s, "include_prerelease"),
                auto_deploy: self.boolean(&s, "auto_deploy"),
                max_instances: self.integer(&s, "max_instances"),
                promote_from: self.string(&s, "promote_from"),
                subdomain: self.string(&s, "subdomain"),
                watch_digest: self.boolean(&s, "watch_digest"),
                poll: self.boolean(&s, "poll"),
                volumes: self.string_list(&s, "volumes"),
                keep_images: self.integer(&s, "keep_images"),
                expire_after: self.string(&s, "expire_after"),
            };
            stages.insert(name.to_string(), stage);
        }
        RawProject {
            image: self.string(&f, "image"),
            registry: self.string(&f, "registry"),
            port: self.integer(&f, "port"),
            health,
            env: self.string_map(&f, "env"),
            secret_env: self.string_map(&f, "secret_env"),
            volumes: self.string_list(&f, "volumes"),
            limits,
            restart: self.string(&f, "restart"),
            stop_timeout: self.string(&f, "stop_timeout"),
            stop_signal: self.string(&f, "stop_signal"),
            stages,
        }
    }
}
