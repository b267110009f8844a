//! The configuration file: what is accepted, and how each kind of mistake is reported.

use super::{ConfigError, parse};

const EXAMPLE: &str = r#"
settings:
  domain: example.test
  network: dw-test
  webhook_secret_env: TEST_WEBHOOK_SECRET
  route_target: container_ip
  poll_interval: 5m
registries:
  local:
    url: http://127.0.0.1:5000
projects:
  shop:
    image: 127.0.0.1:5000/acme/shop
    registry: local
    port: 8080
    health:
      path: /healthz
      interval: 500ms
      timeout: 2s
      retries: 5
      start_period: 1s
    env:
      LOG_LEVEL: info
    stages:
      dev:
        tag_pattern: "dev-*"
        auto_deploy: true
      prod:
        tag_pattern: "v*"
        auto_deploy: false
"#;

fn env(name: &str) -> Option<String> {
    (name == "TEST_WEBHOOK_SECRET").then(|| "0123456789abcdef-secret".to_string())
}

/// Each problem as `path: message`.
fn problems(text: &str) -> Vec<String> {
    problems_with_lines(text)
        .into_iter()
        .map(|(_, problem)| problem)
        .collect()
}

/// Each problem's line and `path: message`.
fn problems_with_lines(text: &str) -> Vec<(Option<usize>, String)> {
    match parse(text, "test.yaml", &env, 0) {
        Err(ConfigError::Invalid { problems, .. }) => problems
            .iter()
            .map(|p| (p.line, format!("{}: {}", p.path, p.message)))
            .collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

fn syntax_error(text: &str) -> (usize, String) {
    match parse(text, "test.yaml", &env, 0) {
        Err(ConfigError::Syntax { line, message, .. }) => (line, message),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn the_example_is_accepted_with_its_values() {
    let config = parse(EXAMPLE, "test.yaml", &env, 7).unwrap();
    assert_eq!(config.settings.domain, "example.test");
    assert_eq!(config.settings.network, "dw-test");
    assert_eq!(config.settings.route_target, "container_ip");
    assert_eq!(config.settings.poll_interval_secs, 300);
    assert_eq!(
        config.settings.webhook_secret.value.expose(),
        "0123456789abcdef-secret"
    );
    assert_eq!(
        config.settings.webhook_secret.env.as_deref(),
        Some("TEST_WEBHOOK_SECRET")
    );
    assert_eq!(config.registries.len(), 1);
    let shop = &config.projects[0];
    assert_eq!(shop.project.name, "shop");
    assert_eq!(shop.project.image, "127.0.0.1:5000/acme/shop");
    assert_eq!(shop.registry.as_deref(), Some("local"));
    assert_eq!(shop.project.port, Some(8080));
    assert_eq!(shop.project.health_path, "/healthz");
    assert_eq!(shop.project.health_interval_ms, 500);
    assert_eq!(shop.project.health_start_period_ms, 1000);
    assert_eq!(shop.project.health_retries, 5);
    assert_eq!(shop.project.env, r#"{"LOG_LEVEL":"info"}"#);
    let stages: Vec<(&str, &str, bool)> = shop
        .stages
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.tag_pattern.as_deref().unwrap_or(""),
                s.auto_deploy,
            )
        })
        .collect();
    assert_eq!(stages, [("dev", "dev-*", true), ("prod", "v*", false)]);
}

#[test]
fn docker_hub_images_are_stored_in_canonical_form() {
    let text =
        "projects:\n  web:\n    image: nginx\n    stages:\n      dev:\n        tag_pattern: '*'\n";
    let config = parse(text, "test.yaml", &env, 0).unwrap();
    assert_eq!(config.projects[0].project.image, "docker.io/library/nginx");
}

#[test]
fn an_empty_file_gives_defaults_with_a_generated_secret() {
    let first = parse("", "test.yaml", &env, 0).unwrap();
    let second = parse("", "test.yaml", &env, 0).unwrap();
    assert_eq!(first.settings.network, "docker-watcher");
    assert_eq!(first.settings.subdomain_pattern, "stage-{stage}-{project}");
    assert_eq!(first.settings.webhook_secret.value.expose().len(), 32);
    assert_ne!(
        first.settings.webhook_secret,
        second.settings.webhook_secret
    );
}

#[test]
fn unknown_keys_are_errors_naming_the_key_and_line() {
    let found = problems_with_lines("settings:\n  domain: a.test\n  colour: blue\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Some(3));
    assert!(
        found[0]
            .1
            .starts_with("settings.colour: unknown key; expected one of domain, network"),
        "{found:?}"
    );
    let nested = problems_with_lines(
        "projects:\n  shop:\n    image: a/b\n    stages:\n      dev:\n        tag_glob: x\n",
    );
    assert!(
        nested.contains(&(
            Some(6),
            "projects.shop.stages.dev.tag_glob: unknown key; expected one of tag_pattern, tag_regex, tag_semver, include_prerelease, auto_deploy, max_instances, promote_from, subdomain, watch_digest".to_string()
        )),
        "{nested:#?}"
    );
}

#[test]
fn yaml_syntax_errors_are_one_error_with_the_line_and_type_errors_are_problems() {
    let (line, message) = syntax_error("settings:\n  domain: a\n  network: [unclosed\n");
    assert!(line >= 3, "{line}: {message}");
    let error = parse("a: [b\n", "test.yaml", &env, 0)
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("test.yaml: line "), "{error}");
    let wrong_type = problems_with_lines(
        "projects:\n  shop:\n    image: a/b\n    port: eighty\n    stages: {dev: {tag_pattern: '*'}}\n",
    );
    assert_eq!(
        wrong_type,
        [(
            Some(4),
            "projects.shop.port: expected an integer, found a string".to_string()
        )]
    );
}

#[test]
fn every_value_problem_is_reported_at_once_with_its_path() {
    let text = r#"
settings:
  route_target: carrier_pigeon
  webhook_secret_env: NOT_SET_ANYWHERE
projects:
  Shop:
    image: Registry.example/Acme/Shop
    registry: missing
    port: 70000
    health:
      path: healthz
      interval: 1 minute
      retries: 0
    stages:
      dev:
        tag_pattern: "[a"
      rel: {}
  other:
    image: a/b
    stages: {}
"#;
    let found = problems(text);
    let expected_paths = [
        "settings.route_target:",
        "settings.webhook_secret_env: the environment variable NOT_SET_ANYWHERE is not set",
        "projects.Shop: invalid name",
        "projects.Shop.registry:",
        "projects.Shop.image:",
        "projects.Shop.port: 70000 is not a port",
        "projects.Shop.health.path:",
        "projects.Shop.health.interval: invalid duration",
        "projects.Shop.health.retries:",
        "projects.Shop.stages.dev.tag_pattern: invalid glob \"[a\"",
        "projects.Shop.stages.rel: a stage needs one tag rule",
        "projects.other.stages: a project needs at least one stage",
    ];
    for path in expected_paths {
        assert!(
            found.iter().any(|p| p.starts_with(path)),
            "missing {path:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected_paths.len(), "{found:#?}");
}

#[test]
fn two_projects_cannot_watch_the_same_image() {
    let text = "projects:\n  a:\n    image: nginx\n    stages: {dev: {tag_pattern: '*'}}\n  b:\n    image: docker.io/library/nginx\n    stages: {dev: {tag_pattern: '*'}}\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with(
        "projects.b.image: docker.io/library/nginx is already the image of project a"
    ));
}

#[test]
fn a_weak_webhook_secret_is_refused_without_repeating_it() {
    let found = problems("settings:\n  webhook_secret: hunter2\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("settings.webhook_secret:"));
    assert!(!found[0].contains("hunter2"));
}
