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
            "projects.shop.stages.dev.tag_glob: unknown key; expected one of tag_pattern, tag_regex, tag_semver, include_prerelease, auto_deploy, max_instances, promote_from, subdomain, watch_digest, poll, volumes, keep_images, expire_after".to_string()
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

const FULL: &str = r#"
settings:
  domain: example.com
  network: docker-watcher
  subdomain_pattern: "stage-{stage}-{project}"
  poll_interval: 5m
  webhook_secret_env: TEST_WEBHOOK_SECRET
  route_target: container_name
  npm:
    url: http://npm:81
    identity: deploy@example.com
    password_env: NPM_PASSWORD
    certificate_id: 3
    ssl_forced: true
    access_list_id: 0
  notifications:
    - kind: webhook
      url: https://hooks.example.com/deploys
    - kind: ntfy
      url_env: NTFY_URL
registries:
  gitea:
    url: https://git.example.com
    username: ci-bot
    password_env: GITEA_TOKEN
projects:
  shop:
    image: git.example.com/acme/shop
    registry: gitea
    port: 8080
    health: {path: /healthz, interval: 1s, timeout: 2s, retries: 30, start_period: 0s}
    env: {LOG_LEVEL: info, PORT: 8080}
    secret_env:
      DATABASE_URL_env: SHOP_DATABASE_URL
      API_KEY: inline-key
    volumes: ["shop-data:/data", "/srv/shop:/srv:ro"]
    limits: {memory: 256m, cpus: 0.5}
    stages:
      dev: {tag_pattern: "dev-*", auto_deploy: true, max_instances: 3}
      rel: {tag_semver: ">=1.0.0", include_prerelease: false}
      prod: {tag_semver: ">=1.0.0", auto_deploy: false, promote_from: rel, subdomain: shop, keep_images: 5}
      edge: {tag_regex: "^edge-[0-9]+$"}
  status-page:
    image: docker.io/acme/status
    stages:
      prod: {tag_pattern: latest, watch_digest: true, subdomain: status, poll: true}
"#;

fn full_env(name: &str) -> Option<String> {
    let value = match name {
        "TEST_WEBHOOK_SECRET" => "0123456789abcdef-secret",
        "NPM_PASSWORD" => "npm-pass",
        "NTFY_URL" => "https://ntfy.example.com/topic",
        "GITEA_TOKEN" => "gitea-token",
        "SHOP_DATABASE_URL" => "postgres://shop",
        _ => return None,
    };
    Some(value.to_string())
}

#[test]
fn the_full_format_is_accepted_with_its_values() {
    let config = parse(FULL, "test.yaml", &full_env, 0).unwrap();
    let npm = config.settings.npm.as_ref().unwrap();
    assert_eq!(npm.url, "http://npm:81");
    assert_eq!(npm.identity, "deploy@example.com");
    assert_eq!(npm.password.value.expose(), "npm-pass");
    assert_eq!(npm.password.env.as_deref(), Some("NPM_PASSWORD"));
    assert_eq!((npm.certificate_id, npm.access_list_id), (Some(3), Some(0)));
    assert!(npm.ssl_forced && npm.allow_websocket_upgrade);
    let kinds: Vec<(&str, &str, Option<&str>)> = config
        .notifications
        .iter()
        .map(|n| (n.kind.as_str(), n.url.value.expose(), n.url.env.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("webhook", "https://hooks.example.com/deploys", None),
            ("ntfy", "https://ntfy.example.com/topic", Some("NTFY_URL")),
        ]
    );
    let gitea = &config.registries[0];
    assert_eq!(gitea.username.as_deref(), Some("ci-bot"));
    assert_eq!(
        gitea.password.as_ref().unwrap().value.expose(),
        "gitea-token"
    );
    let shop = &config.projects[0];
    assert_eq!(shop.project.name, "shop");
    assert_eq!(shop.project.env, r#"{"LOG_LEVEL":"info","PORT":"8080"}"#);
    let secrets: Vec<(&str, &str, Option<&str>)> = shop
        .secret_env
        .iter()
        .map(|(name, s)| (name.as_str(), s.value.expose(), s.env.as_deref()))
        .collect();
    assert_eq!(
        secrets,
        [
            ("API_KEY", "inline-key", None),
            ("DATABASE_URL", "postgres://shop", Some("SHOP_DATABASE_URL")),
        ]
    );
    assert_eq!(
        shop.project.volumes,
        r#"["shop-data:/data","/srv/shop:/srv:ro"]"#
    );
    assert_eq!(shop.project.memory_bytes, Some(256 * 1024 * 1024));
    assert_eq!(shop.project.nano_cpus, Some(500_000_000));
    let names: Vec<&str> = shop.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["dev", "edge", "prod", "rel"]);
    assert_eq!(shop.stages[0].max_instances, 3);
    assert_eq!(shop.stages[1].tag_regex.as_deref(), Some("^edge-[0-9]+$"));
    let prod = &shop.stages[2];
    assert_eq!(prod.tag_semver.as_deref(), Some(">=1.0.0"));
    assert!(!prod.auto_deploy);
    assert_eq!(prod.promote_from.as_deref(), Some("rel"));
    assert_eq!(prod.subdomain.as_deref(), Some("shop"));
    assert_eq!(prod.keep_images, 5);
    assert_eq!(shop.stages[0].keep_images, 3, "three images unless told");
    let status = &config.projects[1];
    assert_eq!(status.project.image, "docker.io/acme/status");
    assert!(status.stages[0].watch_digest);
    assert!(status.stages[0].poll);
    assert!(!prod.poll, "polling is opt-in");
    assert_eq!(status.stages[0].max_instances, 1);
    assert!(status.stages[0].auto_deploy);
}

#[test]
fn a_dozen_mixed_problems_are_all_reported_with_path_and_line() {
    let text = "\
settings:
  colour: blue
  poll_interval: [5m]
  npm:
    url: http://npm:81
    identity: me@example.com
    password: inline
    password_env: NPM_PASSWORD
  notifications:
    - kind: pager
      url: https://pager.example.com
registries:
  gitea:
    url: https://git.example.com
    username: bot
    password_env: UNSET_TOKEN
projects:
  shop:
    image: acme/shop
    port: \"8080\"
    limits: {memory: 12x}
    volumes: [nope]
    stages:
      dev: {tag_pattern: \"[a\"}
      edge: {tag_regex: \"(a\"}
      rel: {tag_semver: \">=x\"}
      prod: {tag_pattern: \"*\", promote_from: staging}
      qa: {tag_glob: \"*\"}
  copy:
    image: docker.io/acme/shop
    stages: {dev: {tag_pattern: \"*\"}}
";
    let found = problems_with_lines(text);
    let expected = [
        (2, "settings.colour: unknown key"),
        (3, "settings.poll_interval: expected a string, found a list"),
        (
            7,
            "settings.npm.password: give either password or password_env, not both",
        ),
        (
            10,
            "settings.notifications[0].kind: \"pager\" is not one of",
        ),
        (
            16,
            "registries.gitea.password_env: the environment variable UNSET_TOKEN is not set",
        ),
        (
            20,
            "projects.shop.port: expected an integer, found a string",
        ),
        (
            21,
            "projects.shop.limits.memory: invalid memory size \"12x\"",
        ),
        (22, "projects.shop.volumes[0]: invalid volume \"nope\""),
        (
            24,
            "projects.shop.stages.dev.tag_pattern: invalid glob \"[a\"",
        ),
        (
            25,
            "projects.shop.stages.edge.tag_regex: invalid regular expression \"(a\"",
        ),
        (
            26,
            "projects.shop.stages.rel.tag_semver: invalid version constraint \">=x\"",
        ),
        (
            27,
            "projects.shop.stages.prod.promote_from: no stage named \"staging\"",
        ),
        (28, "projects.shop.stages.qa.tag_glob: unknown key"),
        (28, "projects.shop.stages.qa: a stage needs one tag rule"),
        (
            19,
            "projects.shop.image: docker.io/acme/shop is already the image of project copy",
        ),
    ];
    for (line, start) in expected {
        assert!(
            found
                .iter()
                .any(|(l, p)| *l == Some(line) && p.starts_with(start)),
            "missing line {line} {start:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    let lines: Vec<usize> = found.iter().map(|(l, _)| l.unwrap()).collect();
    assert!(lines.is_sorted(), "problems come in file order: {lines:?}");
}

#[test]
fn the_error_lists_one_problem_per_line_with_its_line_number() {
    let error = parse(
        "projects:\n  shop:\n    image: a/b\n    port: 70000\n    stages: {dev: {tag_pattern: '*'}}\n",
        "seed.yaml",
        &env,
        0,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "seed.yaml has 1 problem(s):\n  - line 4: projects.shop.port: 70000 is not a port (1 to 65535)"
    );
}

#[test]
fn duplicate_keys_are_reported_not_merged() {
    let text = "projects:\n  shop:\n    image: a/b\n    stages: {dev: {tag_pattern: '*'}}\n  shop:\n    image: c/d\n    stages: {dev: {tag_pattern: '*'}}\n";
    assert_eq!(
        problems_with_lines(text),
        [(
            Some(5),
            "projects.shop: duplicate key; it is already on line 2".to_string()
        )]
    );
}

fn one_project(extra: &str) -> String {
    format!("projects:\n  shop:\n    image: a/b\n{extra}")
}

#[test]
fn secrets_are_inline_or_from_the_environment_never_both_and_never_echoed() {
    let both = problems(
        "settings:\n  webhook_secret: abcdefghijklmnopq\n  webhook_secret_env: TEST_WEBHOOK_SECRET\n",
    );
    assert_eq!(
        both,
        ["settings.webhook_secret: give either webhook_secret or webhook_secret_env, not both"]
    );
    let notification = problems(
        "settings:\n  notifications:\n    - {kind: slack, url: not-a-url-token123}\n    - {kind: discord}\n",
    );
    assert_eq!(
        notification,
        [
            "settings.notifications[0].url: the URL must start with http:// or https://",
            "settings.notifications[1].url: a notification needs a url or url_env",
        ]
    );
    let npm = problems("settings:\n  npm: {url: ftp://npm, certificate_id: -1}\n");
    assert_eq!(
        npm,
        [
            "settings.npm.url: \"ftp://npm\" must start with http:// or https://",
            "settings.npm.identity: npm needs the identity (email) of its user",
            "settings.npm.password: npm needs a password or password_env",
            "settings.npm.certificate_id: -1 is negative; use 0 or more",
        ]
    );
}

#[test]
fn registry_credentials_come_in_pairs() {
    for registry in [
        "{url: https://r.example, username: bot}",
        "{url: https://r.example, password: token}",
    ] {
        let found = problems(&format!("registries:\n  r: {registry}\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("registries.r.username: a password needs a username"));
    }
}

#[test]
fn secret_env_names_are_variable_names_not_also_plain() {
    let found = problems(&one_project(
        "    env: {TOKEN: x}\n    secret_env: {TOKEN: y, 1BAD: z, GOOD_env: NOT_SET, BAD_NAME_env: 'no way'}\n    stages: {dev: {tag_pattern: '*'}}\n",
    ));
    assert_eq!(
        found,
        [
            "projects.shop.secret_env.1BAD: \"1BAD\" is not a variable name (letters, digits and _, not starting with a digit)",
            "projects.shop.secret_env.BAD_NAME_env: \"no way\" is not an environment variable name",
            "projects.shop.secret_env.GOOD_env: the environment variable NOT_SET is not set",
            "projects.shop.secret_env.TOKEN: TOKEN is also in env; a variable is either plain or secret",
        ]
    );
}

#[test]
fn volumes_and_limits_are_checked() {
    let found = problems(&one_project(
        "    volumes: ['data:/data:rw', '/host:/c', 'data', 'data:rel', 'a:/b:rx']\n    limits: {memory: 0, cpus: 0}\n    stages: {dev: {tag_pattern: '*'}}\n",
    ));
    let paths: Vec<&str> = found.iter().map(|p| p.split(':').next().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "projects.shop.volumes[2]",
            "projects.shop.volumes[3]",
            "projects.shop.volumes[4]",
            "projects.shop.limits.memory",
            "projects.shop.limits.cpus",
        ],
        "{found:#?}"
    );
    let ok = parse(
        &one_project(
            "    limits: {memory: 1073741824, cpus: 2}\n    stages: {dev: {tag_pattern: '*'}}\n",
        ),
        "t",
        &env,
        0,
    )
    .unwrap();
    assert_eq!(ok.projects[0].project.memory_bytes, Some(1 << 30));
    assert_eq!(ok.projects[0].project.nano_cpus, Some(2_000_000_000));
}

#[test]
fn containers_default_to_restarting_unless_stopped_with_ten_seconds_to_stop() {
    let config = parse(
        &one_project("    stages: {dev: {tag_pattern: '*'}}\n"),
        "t",
        &env,
        0,
    )
    .unwrap();
    let project = &config.projects[0].project;
    assert_eq!(project.restart_policy, "unless-stopped");
    assert_eq!(project.stop_timeout_ms, 10_000);
    assert_eq!(project.stop_signal, None, "the image's own signal");
    assert!(config.projects[0].stages[0].volumes.is_empty());
}

#[test]
fn restart_stop_settings_and_stage_volumes_are_read() {
    let config = parse(
        &one_project(
            "    restart: on-failure:3
    stop_timeout: 2m
    stop_signal: sigquit
    volumes: ['shop-data:/data', '/srv/shop:/srv:ro']
    stages:
      dev:
        tag_pattern: '*'
        volumes: ['/srv/dev:/srv', 'dev-cache:/cache:ro']
      prod: {tag_pattern: 'v*'}
",
        ),
        "t",
        &env,
        0,
    )
    .unwrap();
    let entry = &config.projects[0];
    assert_eq!(entry.project.restart_policy, "on-failure:3");
    assert_eq!(entry.project.stop_timeout_ms, 120_000);
    assert_eq!(
        entry.project.stop_signal.as_deref(),
        Some("SIGQUIT"),
        "written the way Docker writes it"
    );
    assert_eq!(
        entry.project.volumes,
        r#"["shop-data:/data","/srv/shop:/srv:ro"]"#
    );
    assert_eq!(
        entry.stages[0].volumes,
        ["/srv/dev:/srv", "dev-cache:/cache:ro"]
    );
    assert!(entry.stages[1].volumes.is_empty());
    for (policy, stored) in [
        ("no", "no"),
        ("always", "always"),
        ("unless-stopped", "unless-stopped"),
        ("on-failure", "on-failure"),
    ] {
        let config = parse(
            &one_project(&format!(
                "    restart: {policy}\n    stop_timeout: 0s\n    stages: {{dev: {{tag_pattern: '*'}}}}\n"
            )),
            "t",
            &env,
            0,
        )
        .unwrap();
        assert_eq!(config.projects[0].project.restart_policy, stored);
        assert_eq!(config.projects[0].project.stop_timeout_ms, 0);
    }
}

#[test]
fn bad_container_settings_are_reported_with_their_lines() {
    let text = "\
projects:
  shop:
    image: a/b
    restart: sometimes
    stop_timeout: 1500ms
    stop_signal: TERMINATE
    volumes: ['data:/data', '/srv/x:/data/']
    stages:
      dev:
        tag_pattern: '*'
        volumes: ['cache', '/a:/c', 'b-vol:/c']
      qa:
        tag_pattern: '*'
        volumes: '/srv:/srv'
  other:
    image: c/d
    restart: on-failure:0
    stop_timeout: 2h
    stop_signal: 0
    limits: {memory: 5m}
    stages: {dev: {tag_pattern: '*'}}
";
    assert_eq!(
        problems_with_lines(text),
        [
            (
                Some(4),
                "projects.shop.restart: \"sometimes\" is not a restart policy: write no, always, unless-stopped, on-failure or on-failure:N (N retries, at least 1)".to_string()
            ),
            (
                Some(5),
                "projects.shop.stop_timeout: \"1500ms\" is not whole seconds: Docker counts stop timeouts in seconds; write one such as 10s".to_string()
            ),
            (
                Some(6),
                "projects.shop.stop_signal: \"TERMINATE\" is not a signal: write a name such as SIGTERM, SIGINT or SIGQUIT, or a number from 1 to 64".to_string()
            ),
            (
                Some(7),
                "projects.shop.volumes[1]: /data is already mounted by projects.shop.volumes[0]; mount one thing per path".to_string()
            ),
            (
                Some(11),
                "projects.shop.stages.dev.volumes[0]: invalid volume \"cache\": write name:/path or /host/path:/path, optionally ending in :ro or :rw".to_string()
            ),
            (
                Some(11),
                "projects.shop.stages.dev.volumes[2]: /c is already mounted by projects.shop.stages.dev.volumes[1]; mount one thing per path".to_string()
            ),
            (
                Some(14),
                "projects.shop.stages.qa.volumes: expected a list, found a string".to_string()
            ),
            (
                Some(17),
                "projects.other.restart: \"on-failure:0\" is not a restart policy: write no, always, unless-stopped, on-failure or on-failure:N (N retries, at least 1)".to_string()
            ),
            (
                Some(18),
                "projects.other.stop_timeout: \"2h\" is longer than an hour; a stop this long would hold up the stage's deploys".to_string()
            ),
            (
                Some(19),
                "projects.other.stop_signal: \"0\" is not a signal: write a name such as SIGTERM, SIGINT or SIGQUIT, or a number from 1 to 64".to_string()
            ),
            (
                Some(20),
                "projects.other.limits.memory: memory size \"5m\" is below the 6m Docker needs to start a container".to_string()
            ),
        ]
    );
}

#[test]
fn stage_rules_promotion_and_subdomains_are_checked() {
    let found = problems(&one_project(
        "    stages:\n      a: {tag_pattern: '*', tag_semver: '1'}\n      b: {tag_pattern: '*', promote_from: b, subdomain: Shop}\n      c: {tag_pattern: '*', subdomain: 'ok.sub-domain'}\n      d: {tag_pattern: '*', subdomain: 'a..b'}\n      e: {tag_pattern: '*', poll: sometimes}\n",
    ));
    assert_eq!(
        found,
        [
            "projects.shop.stages.a: give only one of tag_pattern, tag_regex and tag_semver",
            "projects.shop.stages.b.promote_from: a stage cannot promote from itself",
            "projects.shop.stages.b.subdomain: invalid subdomain \"Shop\": use DNS labels of 1 to 63 lowercase letters, digits and inner hyphens, separated by dots",
            "projects.shop.stages.d.subdomain: invalid subdomain \"a..b\": use DNS labels of 1 to 63 lowercase letters, digits and inner hyphens, separated by dots",
            "projects.shop.stages.e.poll: expected true or false, found a string",
        ]
    );
}

#[test]
fn a_file_that_is_not_a_mapping_is_one_problem() {
    assert_eq!(
        problems_with_lines("- a\n- b\n"),
        [(
            Some(1),
            "(top level): expected a mapping, found a list".to_string()
        )]
    );
    assert!(parse("~\n", "t", &env, 0).is_ok());
}

#[test]
fn health_checks_default_to_http_accepting_2xx_and_3xx() {
    let config = parse(
        &one_project("    stages: {dev: {tag_pattern: '*'}}\n"),
        "t",
        &env,
        0,
    )
    .unwrap();
    let project = &config.projects[0].project;
    assert_eq!(
        (project.health_kind.as_str(), project.health_status.as_str()),
        ("http", "200-399")
    );
}

#[test]
fn accepted_statuses_are_a_range_a_status_or_a_list_stored_in_one_form() {
    for (written, stored) in [
        ("'200-299, 404'", "200-299,404"),
        ("204", "204"),
        ("[200, '300-302']", "200,300-302"),
        ("[300-399, 200-299]", "200-399"),
    ] {
        let text = one_project(&format!(
            "    health: {{path: /ready, status: {written}}}\n    stages: {{dev: {{tag_pattern: '*'}}}}\n"
        ));
        let config = parse(&text, "t", &env, 0).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(
            config.projects[0].project.health_status, stored,
            "{written}"
        );
    }
}

#[test]
fn docker_health_checks_take_the_interval_and_start_period() {
    let config = parse(
        &one_project(
            "    health:\n      kind: docker\n      interval: 500ms\n      start_period: 20s\n    stages: {dev: {tag_pattern: '*'}}\n",
        ),
        "t",
        &env,
        0,
    )
    .unwrap();
    let project = &config.projects[0].project;
    assert_eq!(project.health_kind, "docker");
    assert_eq!(project.health_interval_ms, 500);
    assert_eq!(project.health_start_period_ms, 20_000);
}

#[test]
fn bad_health_settings_are_reported_with_their_lines() {
    let text = "\
projects:
  shop:
    image: a/b
    health:
      kind: tcp
      status: 200-600
      interval: 0s
    stages: {dev: {tag_pattern: '*'}}
  list:
    image: c/d
    health:
      status: [200, {code: 404}, 399-300]
    stages: {dev: {tag_pattern: '*'}}
  other:
    image: e/f
    health:
      kind: docker
      path: /healthz
      status: 200-299
      retries: 3
    stages: {dev: {tag_pattern: '*'}}
";
    assert_eq!(
        problems_with_lines(text),
        [
            (
                Some(5),
                "projects.shop.health.kind: \"tcp\" is not one of http, docker".to_string()
            ),
            (
                Some(6),
                "projects.shop.health.status: invalid status range \"200-600\": 600 is not an HTTP status (100 to 599)".to_string()
            ),
            (
                Some(7),
                "projects.shop.health.interval: must be more than 0s".to_string()
            ),
            (
                Some(12),
                "projects.list.health.status[1]: expected a string, found a mapping".to_string()
            ),
            (
                Some(18),
                "projects.other.health.path: only kind http uses this: kind docker follows the container's own HEALTHCHECK".to_string()
            ),
            (
                Some(19),
                "projects.other.health.status: only kind http uses this: kind docker follows the container's own HEALTHCHECK".to_string()
            ),
            (
                Some(20),
                "projects.other.health.retries: only kind http uses this: kind docker follows the container's own HEALTHCHECK".to_string()
            ),
        ]
    );
    let reversed = problems(&one_project(
        "    health: {status: '399-200'}\n    stages: {dev: {tag_pattern: '*'}}\n",
    ));
    assert_eq!(
        reversed,
        ["projects.shop.health.status: invalid status range \"399-200\": 399 is above 200"]
    );
}

#[test]
fn a_stage_keeps_between_1_and_100_images() {
    let stages = |keep: &str| {
        one_project(&format!(
            "    stages:\n      dev: {{tag_pattern: '*', keep_images: {keep}}}\n"
        ))
    };
    for (keep, kept) in [("1", 1), ("100", 100)] {
        let config = parse(&stages(keep), "t", &env, 0).unwrap();
        assert_eq!(config.projects[0].stages[0].keep_images, kept);
    }
    for keep in ["0", "101", "-1"] {
        assert_eq!(
            problems_with_lines(&stages(keep)),
            [(
                Some(5),
                format!("projects.shop.stages.dev.keep_images: {keep} is not between 1 and 100")
            )]
        );
    }
    assert_eq!(
        problems(&stages("three")),
        ["projects.shop.stages.dev.keep_images: expected an integer, found a string"]
    );
}

#[test]
fn extra_instances_expire_after_a_duration_only_where_there_are_extras() {
    let stages = |keys: &str| {
        one_project(&format!(
            "    stages:\n      dev: {{tag_pattern: '*', {keys}}}\n"
        ))
    };
    let config = parse(&stages("max_instances: 3, expire_after: 72h"), "t", &env, 0).unwrap();
    assert_eq!(
        config.projects[0].stages[0].expire_after_ms,
        Some(72 * 3_600_000)
    );
    let plain = parse(&stages("max_instances: 3"), "t", &env, 0).unwrap();
    assert_eq!(
        plain.projects[0].stages[0].expire_after_ms, None,
        "kept unless told"
    );
    assert_eq!(
        problems(&stages("expire_after: 1h")),
        [
            "projects.shop.stages.dev.expire_after: only a stage with max_instances above 1 has extra instances to expire"
        ]
    );
    assert_eq!(
        problems(&stages("max_instances: 2, expire_after: 0s")),
        ["projects.shop.stages.dev.expire_after: must be more than 0s"]
    );
    let days = problems(&stages("max_instances: 2, expire_after: 3 days"));
    assert_eq!(days.len(), 1, "{days:?}");
    assert!(
        days[0].starts_with("projects.shop.stages.dev.expire_after: invalid duration"),
        "{days:?}"
    );
}

#[test]
fn registry_credentials_stay_out_of_the_url_and_polls_are_a_second_apart_at_least() {
    let text = "settings:\n  poll_interval: 500ms\nregistries:\n  r:\n    url: https://bot:InUrlSecret-5@git.example.com\n";
    let found = problems(text);
    assert_eq!(
        found,
        [
            "settings.poll_interval: must be at least 1s",
            "registries.r.url: put the username and password in username and password (or password_env), not in the URL",
        ],
        "{found:?}"
    );
    assert!(!found.concat().contains("InUrlSecret-5"));
}
