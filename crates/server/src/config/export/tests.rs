//! Export: what is written, and that importing it gives back the same configuration.

use store::{PlainSecret, Sealed, SecretPlace, Store};

use super::super::parse;
use super::export;

/// Every key of the format, every secret from an environment variable.
const FULL_WITH_ENV_ONLY: &str = r#"
settings:
  domain: example.com
  network: dw-net
  subdomain_pattern: "{stage}.{project}"
  poll_interval: 90s
  webhook_secret_env: DW_TEST_WEBHOOK
  route_target: published_port
  npm:
    url: http://npm:81
    identity: deploy@example.com
    password_env: NPM_PASSWORD
    certificate_id: 0
    ssl_forced: true
    allow_websocket_upgrade: false
    access_list_id: 7
  notifications:
    - kind: ntfy
      url_env: NTFY_URL
    - kind: gotify
      url_env: NTFY_URL
registries:
  gitea:
    url: https://git.example.com
    username: ci-bot
    password_env: GITEA_TOKEN
  public:
    url: https://registry.example.com
projects:
  shop:
    image: git.example.com/acme/shop
    registry: gitea
    port: 8080
    health: {path: /healthz, status: "200-299, 404", interval: 250ms, timeout: 3s, retries: 5, start_period: 2m}
    env: {LOG_LEVEL: info, PORT: "8080", EMPTY: ""}
    secret_env:
      DATABASE_URL_env: SHOP_DATABASE_URL
    volumes: ["shop-data:/data", "/srv/shop:/srv:ro"]
    limits: {memory: 7000000, cpus: 0.3}
    restart: on-failure:2
    stop_timeout: 90s
    stop_signal: sigint
    stages:
      dev: {tag_pattern: "dev-*", auto_deploy: true, max_instances: 3, expire_after: 36h, volumes: ["/srv/dev:/srv", "dev-cache:/cache:ro"]}
      rel: {tag_semver: ">=1.0.0", include_prerelease: true}
      prod: {tag_semver: ">=1.0.0", auto_deploy: false, promote_from: rel, subdomain: shop, keep_images: 1}
      edge: {tag_regex: "^edge-[0-9]+$"}
  status-page:
    image: docker.io/acme/status
    limits: {memory: 256m}
    restart: "no"
    health: {kind: docker, interval: 2s, start_period: 10s}
    stages:
      prod: {tag_pattern: latest, watch_digest: true, subdomain: status.example, poll: true}
"#;

/// A stand-in for encryption: the tests never open a value.
fn seal(_place: SecretPlace, value: &PlainSecret) -> Sealed {
    Sealed::from_bytes(value.expose().bytes().rev().collect())
}

fn env(name: &str) -> Option<String> {
    let value = match name {
        "DW_TEST_WEBHOOK" => "0123456789abcdef-planted",
        "NPM_PASSWORD" => "planted-npm-password",
        "NTFY_URL" => "https://ntfy.example.com/planted-topic",
        "GITEA_TOKEN" => "planted-gitea-token",
        "SHOP_DATABASE_URL" => "postgres://planted",
        _ => return None,
    };
    Some(value.to_string())
}

fn store_with(text: &str, env: &dyn Fn(&str) -> Option<String>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("dw.db")).unwrap();
    let config = parse(text, "seed.yaml", env, 42).unwrap();
    store.import_configuration(&config, &seal).unwrap();
    (dir, store)
}

#[test]
fn an_export_imports_back_to_the_same_configuration_without_any_secret_value() {
    let original = parse(FULL_WITH_ENV_ONLY, "seed.yaml", &env, 42).unwrap();
    let (_dir, store) = store_with(FULL_WITH_ENV_ONLY, &env);
    let text = export(&store).unwrap();
    for planted in ["planted", "0123456789abcdef"] {
        assert!(!text.contains(planted), "{planted} leaked into\n{text}");
    }
    for variable in [
        "DW_TEST_WEBHOOK",
        "NPM_PASSWORD",
        "NTFY_URL",
        "GITEA_TOKEN",
        "SHOP_DATABASE_URL",
    ] {
        assert!(text.contains(&format!("#   {variable}: ")), "{text}");
    }
    let again = parse(&text, "export.yaml", &env, 42).unwrap();
    assert_eq!(again, original, "{text}");
    assert!(again.projects[1].stages[0].poll, "{text}");
    assert_eq!(again.projects[0].project.health_status, "200-299,404");
    assert_eq!(again.projects[1].project.health_kind, "docker");
    let shop = &again.projects[0];
    assert_eq!(shop.project.restart_policy, "on-failure:2");
    assert_eq!(shop.project.stop_timeout_ms, 90_000);
    assert_eq!(shop.project.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(
        shop.stages[0].volumes,
        ["/srv/dev:/srv", "dev-cache:/cache:ro"]
    );
    assert_eq!(again.projects[1].project.restart_policy, "no");
    let kept: Vec<i32> = shop.stages.iter().map(|stage| stage.keep_images).collect();
    assert_eq!(kept, [3, 3, 1, 3], "dev, edge, prod, rel");
    let expiry: Vec<Option<i64>> = shop
        .stages
        .iter()
        .map(|stage| stage.expire_after_ms)
        .collect();
    assert_eq!(expiry, [Some(36 * 3_600_000), None, None, None]);
}

#[test]
fn inline_secrets_get_invented_variables_listed_at_the_top() {
    let text = "\
settings:
  webhook_secret: 0123456789abcdef-inline
  npm: {url: 'http://npm:81', identity: me@example.com, password: inline-npm}
  notifications:
    - {kind: slack, url: 'https://hooks.slack.example/inline-token'}
registries:
  my-reg: {url: 'https://r.example', username: bot, password: inline-registry}
projects:
  web-app:
    image: acme/web
    secret_env: {api-key-is-bad: x, API_KEY: inline-api}
    stages: {dev: {tag_pattern: '*'}}
";
    // The invalid secret_env name is not part of a valid configuration: drop it.
    let text = text.replace("api-key-is-bad: x, ", "");
    let (_dir, store) = store_with(&text, &|_| None);
    let exported = export(&store).unwrap();
    assert!(!exported.contains("inline"), "{exported}");
    let header: Vec<&str> = exported
        .lines()
        .take_while(|line| line.starts_with('#'))
        .collect();
    for (variable, place) in [
        ("DW_WEBHOOK_SECRET", "settings.webhook_secret"),
        ("DW_NPM_PASSWORD", "settings.npm.password"),
        ("DW_NOTIFICATION_1_URL", "settings.notifications[0].url"),
        ("DW_REGISTRY_MY_REG_PASSWORD", "registries.my-reg.password"),
        ("DW_WEB_APP_API_KEY", "projects.web-app.secret_env.API_KEY"),
    ] {
        assert!(
            header
                .iter()
                .any(|line| line.starts_with(&format!("#   {variable}: {place}"))),
            "{variable} missing in {header:#?}"
        );
        assert!(exported.contains(&format!(": {variable}\n")), "{exported}");
    }
    // With those variables set, the export imports.
    let invented = |name: &str| {
        let value = match name {
            "DW_WEBHOOK_SECRET" => "0123456789abcdef-again",
            "DW_NOTIFICATION_1_URL" => "https://hooks.slack.example/x",
            _ => "value",
        };
        Some(value.to_string())
    };
    let again = parse(&exported, "export.yaml", &invented, 0).unwrap();
    assert_eq!(again.projects[0].secret_env[0].0, "API_KEY");
    assert_eq!(
        again.projects[0].secret_env[0].1.env.as_deref(),
        Some("DW_WEB_APP_API_KEY")
    );
}

#[test]
fn defaults_are_left_out() {
    let (_dir, store) = store_with(
        "projects:\n  web:\n    image: nginx\n    stages: {dev: {tag_pattern: '*'}}\n",
        &|_| None,
    );
    let exported = export(&store).unwrap();
    let body: String = exported
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(body.contains("  web:\n    image: docker.io/library/nginx\n    stages:\n      dev:\n        tag_pattern: '*'\n"), "{body}");
    for absent in [
        "health",
        "auto_deploy",
        "max_instances",
        "keep_images",
        "expire_after",
        "limits",
        "npm",
        "poll:",
        "restart",
        "stop_timeout",
        "stop_signal",
        "volumes",
    ] {
        assert!(!body.contains(absent), "{absent} in {body}");
    }
}
