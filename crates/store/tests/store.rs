//! The store against a real SQLite file: migrations, connection settings and the queries the deploy path uses.

use std::collections::BTreeMap;

use store::{
    ContainerSettings, Decision, DeployStatus, InstanceStatus, NewConfiguration, NewDeploy,
    NewInstance, NewNotification, NewNpmSettings, NewProject, NewProjectWithStages, NewRegistry,
    NewSettings, NewStage, PlainSecret, PollState, RegistryChanges, Sealed, SecretChange,
    SecretInput, SecretPlace, Store, StoreError, Trigger,
};

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("dw.sqlite")).unwrap();
    (dir, store)
}

fn secret(value: &str, env: Option<&str>) -> SecretInput {
    SecretInput {
        value: PlainSecret::new(value),
        env: env.map(str::to_string),
    }
}

/// Stands in for encryption: the store must only ever write what the sealer returns.
fn fake_seal(place: SecretPlace, value: &PlainSecret) -> Sealed {
    Sealed::from_bytes(format!("sealed[{place}]:{}", value.expose().len()).into_bytes())
}

fn configuration() -> NewConfiguration {
    let mut env = BTreeMap::new();
    env.insert("LOG_LEVEL".to_string(), "info".to_string());
    NewConfiguration {
        settings: NewSettings {
            domain: "example.test".into(),
            network: "dw-net".into(),
            subdomain_pattern: "stage-{stage}-{project}".into(),
            route_target: "container_name".into(),
            poll_interval_secs: 300,
            webhook_secret: secret("s3cret-value-0123456789", Some("DW_WEBHOOK_SECRET")),
            npm: Some(NewNpmSettings {
                url: "http://npm:81".into(),
                identity: "deploy@example.test".into(),
                password: secret("npm-password-value", None),
                certificate_id: Some(3),
                ssl_forced: true,
                allow_websocket_upgrade: false,
                access_list_id: None,
            }),
        },
        registries: vec![NewRegistry {
            name: "local".into(),
            url: "http://127.0.0.1:5000".into(),
            username: Some("ci".into()),
            password: Some(secret("registry-password-value", Some("LOCAL_TOKEN"))),
        }],
        notifications: vec![NewNotification {
            kind: "slack".into(),
            url: secret("https://hooks.slack.test/T000/B000/XXXX", None),
        }],
        projects: vec![NewProjectWithStages {
            registry: Some("local".into()),
            secret_env: vec![(
                "DATABASE_URL".into(),
                secret("postgres://u:p@db/shop", Some("SHOP_DB")),
            )],
            project: NewProject {
                name: "shop".into(),
                image: "127.0.0.1:5000/acme/shop".into(),
                registry_id: None,
                port: Some(8080),
                health_path: "/healthz".into(),
                health_interval_ms: 1000,
                health_timeout_ms: 2000,
                health_retries: 30,
                health_start_period_ms: 0,
                env: NewProject::env_json(&env),
                created_at: 1,
                volumes: NewProject::volumes_json(&["shop-data:/data".to_string()]),
                memory_bytes: Some(256 * 1024 * 1024),
                nano_cpus: Some(500_000_000),
                restart_policy: "on-failure:3".into(),
                stop_timeout_ms: 30_000,
                stop_signal: Some("SIGINT".into()),
                health_kind: "http".into(),
                health_status: "200-299,404".into(),
            },
            stages: vec![
                NewStage {
                    name: "dev".into(),
                    tag_pattern: Some("dev-*".into()),
                    auto_deploy: true,
                    max_instances: 1,
                    poll: true,
                    volumes: vec!["/srv/dev:/data:ro".into()],
                    ..NewStage::default()
                },
                NewStage {
                    name: "prod".into(),
                    tag_semver: Some(">=1.0.0".into()),
                    auto_deploy: false,
                    max_instances: 1,
                    promote_from: Some("dev".into()),
                    subdomain: Some("shop".into()),
                    ..NewStage::default()
                },
            ],
        }],
    }
}

fn import(store: &Store, config: &NewConfiguration) -> Result<(), StoreError> {
    store.import_configuration(config, &fake_seal)
}

fn seeded() -> (tempfile::TempDir, Store) {
    let (dir, store) = open();
    import(&store, &configuration()).unwrap();
    (dir, store)
}

fn new_deploy(store: &Store, tag: &str) -> store::Deploy {
    let project = store.projects().unwrap().remove(0);
    let stage = store.stages_of(project.id).unwrap().remove(0);
    store
        .create_deploy(&NewDeploy {
            project_id: project.id,
            stage_id: stage.id,
            tag: tag.into(),
            image: format!("{}:{tag}", project.image),
            trigger: Trigger::Webhook,
            digest: None,
            source_deploy_id: None,
        })
        .unwrap()
}

#[test]
fn import_writes_settings_projects_and_stages_once() {
    let (_dir, store) = open();
    assert!(!store.is_configured().unwrap());
    assert!(matches!(store.settings(), Err(StoreError::NotFound { .. })));
    import(&store, &configuration()).unwrap();
    assert!(store.is_configured().unwrap());
    assert_eq!(store.settings().unwrap().domain, "example.test");
    let project = store
        .project_by_image("127.0.0.1:5000/acme/shop")
        .unwrap()
        .unwrap();
    assert_eq!(
        project.env_vars().get("LOG_LEVEL").map(String::as_str),
        Some("info")
    );
    let stages: Vec<_> = store
        .stages_of(project.id)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(stages, ["dev", "prod"]);
    // A second import is refused and changes nothing.
    let again = import(&store, &configuration());
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    assert_eq!(store.projects().unwrap().len(), 1);
}

#[test]
fn a_failed_import_leaves_the_database_empty() {
    let (_dir, store) = open();
    let mut config = configuration();
    let duplicate = config.projects[0].clone();
    config.projects.push(duplicate);
    assert!(matches!(
        import(&store, &config),
        Err(StoreError::Conflict { .. })
    ));
    assert!(!store.is_configured().unwrap());
    assert!(store.projects().unwrap().is_empty());
}

#[test]
fn secrets_are_written_only_as_what_the_sealer_returns() {
    let (dir, store) = seeded();
    let settings = store.settings().unwrap();
    assert_eq!(
        settings
            .webhook_secret
            .as_ref()
            .map(|s| s.as_bytes().to_vec()),
        Some(b"sealed[settings.webhook_secret of row 1]:23".to_vec())
    );
    assert_eq!(
        settings.webhook_secret_env.as_deref(),
        Some("DW_WEBHOOK_SECRET")
    );
    assert_eq!(settings.npm_url.as_deref(), Some("http://npm:81"));
    assert!(settings.npm_ssl_forced && !settings.npm_allow_websocket_upgrade);
    let registry = store.registries().unwrap().remove(0);
    assert_eq!(registry.password_env.as_deref(), Some("LOCAL_TOKEN"));
    let places: Vec<String> = store
        .sealed_secrets()
        .unwrap()
        .iter()
        .map(|(place, _)| place.to_string())
        .collect();
    assert_eq!(
        places,
        [
            "settings.webhook_secret of row 1",
            "settings.npm_password of row 1",
            "registries.password of row 1",
            "notifications.url of row 1",
            "project_secret_env.value of row 1",
        ]
    );
    // Each sealed value names its own row: the row id was known when it was sealed.
    for (place, sealed) in store.sealed_secrets().unwrap() {
        let text = String::from_utf8(sealed.as_bytes().to_vec()).unwrap();
        assert!(text.starts_with(&format!("sealed[{place}]")), "{text}");
    }
    // No plaintext anywhere in the database file.
    drop(store);
    let mut bytes = std::fs::read(dir.path().join("dw.sqlite")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("dw.sqlite-wal")) {
        bytes.extend(wal);
    }
    let text = String::from_utf8_lossy(&bytes);
    for plaintext in [
        "s3cret-value",
        "npm-password-value",
        "registry-password-value",
        "hooks.slack.test",
        "postgres://",
    ] {
        assert!(
            !text.contains(plaintext),
            "{plaintext} is stored in plain text"
        );
    }
}

#[test]
fn debug_output_hides_secrets() {
    let printed = format!("{:?}", configuration());
    assert!(!printed.contains("s3cret-value"), "{printed}");
    assert!(!printed.contains("postgres://"), "{printed}");
    let (_dir, store) = seeded();
    let printed = format!(
        "{:?} {:?}",
        store.settings().unwrap(),
        store.sealed_secrets().unwrap()
    );
    assert!(printed.contains("Sealed(<"), "{printed}");
}

#[test]
fn resealing_replaces_every_secret_or_none() {
    let (_dir, store) = seeded();
    let before = store.sealed_secrets().unwrap();
    // A failure halfway leaves everything as it was.
    let mut calls = 0;
    let failed = store.reseal_all(|_, sealed| {
        calls += 1;
        if calls == 3 {
            Err("does not open".into())
        } else {
            Ok(Sealed::from_bytes([b"new:", sealed.as_bytes()].concat()))
        }
    });
    assert!(
        matches!(failed, Err(StoreError::Secret { .. })),
        "{failed:?}"
    );
    assert_eq!(store.sealed_secrets().unwrap(), before);
    let count = store
        .reseal_all(|_, sealed| Ok(Sealed::from_bytes([b"new:", sealed.as_bytes()].concat())))
        .unwrap();
    assert_eq!(count, before.len());
    for ((place, old), (new_place, new)) in before.iter().zip(store.sealed_secrets().unwrap()) {
        assert_eq!(*place, new_place);
        assert_eq!(new.as_bytes(), [b"new:", old.as_bytes()].concat());
    }
}

#[test]
fn the_full_stage_rules_and_container_settings_are_stored() {
    let (_dir, store) = seeded();
    let project = store.projects().unwrap().remove(0);
    assert_eq!(project.volume_list(), ["shop-data:/data"]);
    assert_eq!(project.memory_bytes, Some(256 * 1024 * 1024));
    assert_eq!(project.nano_cpus, Some(500_000_000));
    assert_eq!(project.restart_policy, "on-failure:3");
    assert_eq!(project.stop_timeout_ms, 30_000);
    assert_eq!(project.stop_signal.as_deref(), Some("SIGINT"));
    let stages = store.stages_of(project.id).unwrap();
    let dev = stages.iter().find(|s| s.name == "dev").unwrap();
    assert_eq!(dev.volume_list(), ["/srv/dev:/data:ro"]);
    let prod = stages.iter().find(|s| s.name == "prod").unwrap();
    assert_eq!(prod.volume_list(), Vec::<String>::new());
    assert_eq!(prod.tag_pattern, None);
    assert_eq!(prod.tag_semver.as_deref(), Some(">=1.0.0"));
    assert_eq!(prod.promote_from.as_deref(), Some("dev"));
    assert_eq!(prod.subdomain.as_deref(), Some("shop"));
    let env = store.secret_env_of(project.id).unwrap();
    assert_eq!(env.len(), 1);
    assert_eq!(env[0].name, "DATABASE_URL");
    assert_eq!(env[0].value_env.as_deref(), Some("SHOP_DB"));
}

#[test]
fn the_health_gate_is_stored_and_only_known_kinds_are_accepted() {
    let (_dir, store) = seeded();
    let project = store.projects().unwrap().remove(0);
    assert_eq!(
        (project.health_kind.as_str(), project.health_status.as_str()),
        ("http", "200-299,404")
    );

    let (_dir, store) = open();
    let mut docker = configuration();
    docker.projects[0].project.health_kind = "docker".into();
    import(&store, &docker).unwrap();
    assert_eq!(store.projects().unwrap()[0].health_kind, "docker");

    let (_dir, store) = open();
    let mut unknown = configuration();
    unknown.projects[0].project.health_kind = "tcp".into();
    assert!(import(&store, &unknown).is_err());
    assert!(store.projects().unwrap().is_empty(), "nothing is imported");
}

#[test]
fn only_stages_that_opt_in_are_polled() {
    let (_dir, store) = seeded();
    let project = store.projects().unwrap().remove(0);
    let stages = store.stages_of(project.id).unwrap();
    let poll: Vec<(&str, bool)> = stages.iter().map(|s| (s.name.as_str(), s.poll)).collect();
    assert_eq!(poll, [("dev", true), ("prod", false)]);
    let polled: Vec<String> = store
        .polled_stages()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(polled, ["dev"]);
}

#[test]
fn poll_state_is_absent_until_saved_then_replaced_whole() {
    let (_dir, store) = seeded();
    let project = store.projects().unwrap().remove(0);
    let stages = store.stages_of(project.id).unwrap();
    let (dev, prod) = (stages[0].id, stages[1].id);
    assert_eq!(store.poll_state(dev).unwrap(), None);
    let first = PollState {
        stage_id: dev,
        last_tag: Some("dev-1".into()),
        last_digest: Some("sha256:aaa".into()),
        checked_at: Some(10),
    };
    store.save_poll_state(&first).unwrap();
    assert_eq!(store.poll_state(dev).unwrap(), Some(first));
    let second = PollState {
        stage_id: dev,
        last_tag: Some("dev-2".into()),
        last_digest: None,
        checked_at: Some(20),
    };
    store.save_poll_state(&second).unwrap();
    assert_eq!(store.poll_state(dev).unwrap(), Some(second));
    assert_eq!(store.poll_state(prod).unwrap(), None, "per stage");
    let unknown = PollState {
        stage_id: 999,
        last_tag: None,
        last_digest: None,
        checked_at: None,
    };
    assert!(
        store.save_poll_state(&unknown).is_err(),
        "a state needs its stage"
    );
}

#[test]
fn poll_states_of_several_stages_are_read_at_once() {
    let (_dir, store) = seeded();
    let project = store.projects().unwrap().remove(0);
    let stages = store.stages_of(project.id).unwrap();
    let (dev, prod) = (stages[0].id, stages[1].id);
    assert!(store.poll_states_of(&[dev, prod]).unwrap().is_empty());
    let state = |stage_id, tag: &str, checked_at| PollState {
        stage_id,
        last_tag: Some(tag.into()),
        last_digest: Some(format!("sha256:{tag}")),
        checked_at: Some(checked_at),
    };
    store.save_poll_state(&state(dev, "dev-1", 10)).unwrap();
    store.save_poll_state(&state(prod, "1.0.0", 20)).unwrap();

    let states = store.poll_states_of(&[dev, prod, 999]).unwrap();
    assert_eq!(states.len(), 2, "{states:?}");
    assert_eq!(states[&dev], state(dev, "dev-1", 10));
    assert_eq!(states[&prod], state(prod, "1.0.0", 20));
    assert_eq!(
        store
            .poll_states_of(&[prod])
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        [&prod],
        "only the stages asked for"
    );
    assert!(store.poll_states_of(&[]).unwrap().is_empty());
    // More ids than one statement binds: dev comes last, in a later slice.
    let many: Vec<i64> = (10_000..11_200).chain([dev]).collect();
    let states = store.poll_states_of(&many).unwrap();
    assert_eq!(states.keys().collect::<Vec<_>>(), [&dev]);
}

#[test]
fn touching_poll_states_changes_only_the_check_time_of_the_stages_given() {
    let (_dir, store) = seeded();
    let project = store.projects().unwrap().remove(0);
    let stages = store.stages_of(project.id).unwrap();
    let (dev, prod) = (stages[0].id, stages[1].id);
    let dev_state = PollState {
        stage_id: dev,
        last_tag: Some("dev-1".into()),
        last_digest: Some("sha256:aaa".into()),
        checked_at: Some(10),
    };
    let prod_state = PollState {
        stage_id: prod,
        last_tag: Some("1.0.0".into()),
        last_digest: None,
        checked_at: Some(20),
    };
    store.save_poll_state(&dev_state).unwrap();
    store.save_poll_state(&prod_state).unwrap();

    // A stage without a poll state (999) is skipped, not created.
    store.touch_poll_states(&[dev, 999], 500).unwrap();
    assert_eq!(
        store.poll_state(dev).unwrap(),
        Some(PollState {
            checked_at: Some(500),
            ..dev_state.clone()
        })
    );
    assert_eq!(store.poll_state(prod).unwrap(), Some(prod_state.clone()));
    assert_eq!(store.poll_state(999).unwrap(), None);

    store.touch_poll_states(&[], 600).unwrap();
    assert_eq!(store.poll_state(prod).unwrap(), Some(prod_state.clone()));
    // More ids than one statement binds, all in the one transaction.
    let many: Vec<i64> = (10_000..11_200).chain([dev, prod]).collect();
    store.touch_poll_states(&many, 700).unwrap();
    let states = store.poll_states_of(&[dev, prod]).unwrap();
    assert_eq!(states[&dev].checked_at, Some(700));
    assert_eq!(states[&prod].checked_at, Some(700));
    assert_eq!(states[&prod].last_tag, prod_state.last_tag);
    assert_eq!(states[&dev].last_digest, dev_state.last_digest);
}
#[test]
fn foreign_keys_are_enforced_on_pooled_connections() {
    let (_dir, store) = seeded();
    // Several calls so more than one pooled connection is used.
    for _ in 0..3 {
        let orphan = store.create_deploy(&NewDeploy {
            project_id: 999,
            stage_id: 999,
            tag: "x".into(),
            image: "x".into(),
            trigger: Trigger::Manual,
            digest: None,
            source_deploy_id: None,
        });
        assert!(
            matches!(orphan, Err(StoreError::Conflict { .. })),
            "{orphan:?}"
        );
    }
}

#[test]
fn the_database_runs_in_wal_mode() {
    let (dir, store) = seeded();
    new_deploy(&store, "dev-1");
    assert!(dir.path().join("dw.sqlite-wal").exists());
}

fn container_settings(image: &str) -> ContainerSettings {
    ContainerSettings {
        image: image.into(),
        port: 8080,
        network: "dw-net".into(),
        env: BTreeMap::from([("LOG_LEVEL".to_string(), "info".to_string())]),
        secret_env: vec!["DATABASE_URL".into()],
        volumes: vec!["shop-data:/data".into(), "/srv/dev:/srv:ro".into()],
        memory_bytes: Some(256 << 20),
        nano_cpus: Some(500_000_000),
        restart: "unless-stopped".into(),
        stop_signal: Some("SIGINT".into()),
        stop_timeout_secs: 30,
    }
}

#[test]
fn a_deploys_container_settings_are_recorded_and_read_back() {
    let (_dir, store) = seeded();
    let deploy = new_deploy(&store, "dev-1");
    assert_eq!(deploy.container_settings, None);
    assert_eq!(deploy.recorded_settings(), None, "nothing before creation");
    let settings = container_settings("127.0.0.1:5000/acme/shop@sha256:abcd");
    store
        .record_container_settings(deploy.id, &settings)
        .unwrap();
    let read = store.deploy(deploy.id).unwrap();
    assert_eq!(read.recorded_settings(), Some(settings.clone()));
    let json: serde_json::Value =
        serde_json::from_str(read.container_settings.as_deref().unwrap()).unwrap();
    assert_eq!(json["secret_env"], serde_json::json!(["DATABASE_URL"]));
    assert_eq!(json["stop_signal"], "SIGINT");
    assert_eq!(json["stop_timeout_secs"], 30);
    // The listing carries it too; another deploy's record is its own.
    let other = new_deploy(&store, "dev-2");
    let mut changed = settings.clone();
    changed.stop_timeout_secs = 5;
    changed.stop_signal = None;
    store.record_container_settings(other.id, &changed).unwrap();
    let recent = store.recent_deploys(10).unwrap();
    assert_eq!(recent[0].deploy.recorded_settings(), Some(changed));
    assert_eq!(recent[1].deploy.recorded_settings(), Some(settings));
}

#[test]
fn deploy_lifecycle_is_recorded() {
    let (_dir, store) = seeded();
    let deploy = new_deploy(&store, "dev-1");
    assert_eq!(deploy.status, DeployStatus::Queued);
    assert_eq!(deploy.short_id.len(), 8);
    store.start_deploy(deploy.id).unwrap();
    store.set_deploy_digest(deploy.id, "sha256:abc").unwrap();
    store
        .finish_deploy(deploy.id, DeployStatus::Failed, Some("health check failed"))
        .unwrap();
    let view = store.deploy_view(deploy.id).unwrap();
    assert_eq!(
        (view.project.as_str(), view.stage.as_str()),
        ("shop", "dev")
    );
    assert_eq!(view.deploy.status, DeployStatus::Failed);
    assert_eq!(view.deploy.reason.as_deref(), Some("health check failed"));
    assert_eq!(view.deploy.digest.as_deref(), Some("sha256:abc"));
    assert!(view.deploy.started_at.is_some() && view.deploy.finished_at.is_some());
    assert!(matches!(
        store.deploy(deploy.id + 100),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn recent_deploys_are_newest_first_and_limited() {
    let (_dir, store) = seeded();
    let ids: Vec<i64> = (0..5)
        .map(|n| new_deploy(&store, &format!("dev-{n}")).id)
        .collect();
    let recent: Vec<i64> = store
        .recent_deploys(3)
        .unwrap()
        .into_iter()
        .map(|v| v.deploy.id)
        .collect();
    assert_eq!(recent, vec![ids[4], ids[3], ids[2]]);
}

#[test]
fn unfinished_deploys_are_interrupted() {
    let (_dir, store) = seeded();
    let queued = new_deploy(&store, "dev-1");
    let running = new_deploy(&store, "dev-2");
    let done = new_deploy(&store, "dev-3");
    store.start_deploy(running.id).unwrap();
    store
        .finish_deploy(done.id, DeployStatus::Succeeded, None)
        .unwrap();
    let mut interrupted = store
        .interrupt_unfinished_deploys("server restarted")
        .unwrap();
    interrupted.sort();
    assert_eq!(interrupted, vec![queued.id, running.id]);
    assert_eq!(
        store.deploy(done.id).unwrap().status,
        DeployStatus::Succeeded
    );
    assert_eq!(
        store.deploy(queued.id).unwrap().status,
        DeployStatus::Interrupted
    );
}

#[test]
fn log_lines_are_numbered_without_gaps_under_concurrent_writers() {
    let (_dir, store) = seeded();
    let deploy = new_deploy(&store, "dev-1");
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let store = store.clone();
            std::thread::spawn(move || {
                for line in 0..25 {
                    store
                        .append_log(deploy.id, &format!("writer {writer} line {line}"))
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let lines = store.logs_after(deploy.id, 0).unwrap();
    let seqs: Vec<i64> = lines.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=100).collect::<Vec<i64>>());
    let tail: Vec<i64> = store
        .logs_after(deploy.id, 97)
        .unwrap()
        .iter()
        .map(|l| l.seq)
        .collect();
    assert_eq!(tail, vec![98, 99, 100]);
}

#[test]
fn instances_are_listed_until_removed() {
    let (_dir, store) = seeded();
    let deploy = new_deploy(&store, "dev-1");
    let instance = store
        .create_instance(&NewInstance {
            project_id: deploy.project_id,
            stage_id: deploy.stage_id,
            deploy_id: deploy.id,
            tag: "dev-1".into(),
            digest: None,
            container_name: "dw-shop-dev-dev-1-0000".into(),
        })
        .unwrap();
    assert_eq!(instance.status, InstanceStatus::Starting);
    store.attach_container(instance.id, "abc").unwrap();
    let running = store
        .mark_instance_running(instance.id, "http://172.18.0.2:8080")
        .unwrap();
    assert_eq!(running.status, InstanceStatus::Running);
    assert_eq!(running.container_id, "abc");
    assert_eq!(running.address.as_deref(), Some("http://172.18.0.2:8080"));
    let listed = store.live_instances_of_project(deploy.project_id).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].stage, "dev");
    store
        .set_instance_status(instance.id, InstanceStatus::Removed)
        .unwrap();
    assert!(
        store
            .live_instances_of_stage(deploy.stage_id)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn reopening_keeps_data_and_does_not_rerun_migrations() {
    let (dir, store) = seeded();
    drop(store);
    let reopened = Store::open(&dir.path().join("dw.sqlite")).unwrap();
    assert!(reopened.is_configured().unwrap());
}

#[test]
fn upgrading_an_old_database_keeps_its_rows_and_seals_the_old_webhook_secret() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dw.sqlite");
    {
        // A database as the first release left it: only the first migration, a plaintext secret.
        let mut old = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        old.batch_execute(include_str!(
            "../../../migrations/2026-12-03-000000_initial/up.sql"
        ))
        .unwrap();
        old.batch_execute(
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL,
                                                      run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
             INSERT INTO __diesel_schema_migrations (version) VALUES ('20261203000000');
             INSERT INTO settings VALUES (1, 'example.test', 'net', 'stage-{stage}-{project}', 'container_name', 300,
                                          'old-plaintext-secret-0123', 0);
             INSERT INTO projects VALUES (1, 'shop', 'r.test/acme/shop', NULL, 8080, '/', 1000, 2000, 3, 0, '{}', 0);
             INSERT INTO stages VALUES (7, 1, 'dev', 'dev-*', 1, 1, 0);
             INSERT INTO deploys VALUES (1, 'abcd1234', 1, 7, 'dev-1', 'r.test/acme/shop:dev-1', NULL, 'webhook',
                                         'succeeded', NULL, 0, 0, 0);
             INSERT INTO deploy_logs VALUES (1, 1, 1, 0, 'pulling');
             INSERT INTO instances VALUES (1, 1, 7, 1, 'dev-1', NULL, 'c1', 'dw-shop-dev-dev-1-abcd1234', NULL,
                                           'running', 0, 0);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    // Projects from before the health gate keep their check: HTTP, any 2xx or 3xx.
    let project = store.project(1).unwrap();
    assert_eq!(
        (project.health_kind.as_str(), project.health_status.as_str()),
        ("http", "200-399")
    );
    // Rebuilding the stages table kept every row that refers to it.
    let stage = store.stage(7).unwrap();
    assert_eq!(stage.tag_pattern.as_deref(), Some("dev-*"));
    assert!(!stage.watch_digest && !stage.include_prerelease);
    assert!(!stage.poll, "existing stages are not polled");
    assert_eq!(stage.volume_list(), Vec::<String>::new());
    // Existing projects get the container defaults; old deploys have no recorded settings.
    let project = store.project(1).unwrap();
    assert_eq!(project.restart_policy, "unless-stopped");
    assert_eq!(project.stop_timeout_ms, 10_000);
    assert_eq!(project.stop_signal, None);
    assert_eq!(store.deploy(1).unwrap().recorded_settings(), None);
    assert_eq!(store.deploy(1).unwrap().stage_id, 7);
    assert_eq!(store.logs_after(1, 0).unwrap().len(), 1);
    assert_eq!(store.live_instances_of_stage(7).unwrap().len(), 1);
    // The old secret waits, unsealed, for the key; then it is sealed and the plaintext is gone.
    assert_eq!(store.settings().unwrap().webhook_secret, None);
    assert!(store.seal_legacy_secrets(&fake_seal).unwrap());
    assert!(!store.seal_legacy_secrets(&fake_seal).unwrap(), "only once");
    let sealed = store.settings().unwrap().webhook_secret.unwrap();
    assert_eq!(
        sealed.as_bytes(),
        b"sealed[settings.webhook_secret of row 1]:25"
    );
    drop(store);
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("dw.sqlite-wal")) {
        bytes.extend(wal);
    }
    assert!(!String::from_utf8_lossy(&bytes).contains("old-plaintext-secret"));
}

#[test]
fn a_registry_update_keeps_clears_or_replaces_its_password_as_asked() {
    let (_dir, store) = seeded();
    let created = store
        .create_registry(
            &NewRegistry {
                name: "ghcr".into(),
                url: "https://ghcr.io".into(),
                username: Some("bot".into()),
                password: Some(secret("first-password", None)),
            },
            &fake_seal,
        )
        .unwrap();
    let first = created.password.clone().expect("sealed");
    let keep = RegistryChanges {
        name: None,
        url: Some("https://ghcr.example".into()),
        username: None,
        password: SecretChange::Keep,
    };
    let kept = store
        .update_registry(created.id, &keep, &fake_seal)
        .unwrap();
    assert_eq!(kept.url, "https://ghcr.example");
    assert_eq!(kept.password.as_ref(), Some(&first));
    let replace = RegistryChanges {
        password: SecretChange::Set(PlainSecret::new("second-password-longer")),
        ..keep.clone()
    };
    let replaced = store
        .update_registry(created.id, &replace, &fake_seal)
        .unwrap();
    assert_ne!(replaced.password.as_ref(), Some(&first));
    assert!(replaced.password.is_some());
    let clear = RegistryChanges {
        password: SecretChange::Clear,
        ..keep
    };
    assert_eq!(
        store
            .update_registry(created.id, &clear, &fake_seal)
            .unwrap()
            .password,
        None
    );
    assert!(matches!(
        store.update_registry(999, &clear, &fake_seal),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn a_registry_in_use_cannot_be_deleted() {
    let (_dir, store) = seeded();
    let used = store.registries().unwrap().remove(0);
    let project = store.projects().unwrap().remove(0);
    let refused = store.delete_registry(used.id).unwrap_err();
    assert!(
        matches!(refused, StoreError::Conflict { .. }),
        "{refused:?}"
    );
    assert!(
        refused
            .to_string()
            .ends_with(&format!("used by project(s) {}", project.name)),
        "the error names the project: {refused}"
    );
    assert_eq!(store.registries().unwrap().len(), 1);
    assert!(matches!(
        store.delete_registry(999),
        Err(StoreError::NotFound { .. })
    ));
}

fn approval_request(store: &Store, tag: &str, digest: Option<&str>) -> (store::Deploy, bool) {
    let project = store.projects().unwrap().remove(0);
    let stage = store.stages_of(project.id).unwrap().remove(0);
    store
        .request_approval(&NewDeploy {
            project_id: project.id,
            stage_id: stage.id,
            tag: tag.into(),
            image: format!("{}:{tag}", project.image),
            trigger: Trigger::Poll,
            digest: digest.map(str::to_string),
            source_deploy_id: None,
        })
        .unwrap()
}

#[test]
fn a_tag_waits_for_approval_once_and_follows_its_newest_digest() {
    let (_dir, store) = seeded();
    let (first, created) = approval_request(&store, "v2", Some("sha256:aaa"));
    assert!(created);
    assert_eq!(first.status, DeployStatus::WaitingApproval);
    assert_eq!(first.digest.as_deref(), Some("sha256:aaa"));

    let (again, created) = approval_request(&store, "v2", Some("sha256:bbb"));
    assert!(
        !created,
        "a second request for the same tag is the same request"
    );
    assert_eq!(again.id, first.id);
    assert_eq!(again.digest.as_deref(), Some("sha256:bbb"));

    // Without a digest (a webhook), the known one is kept.
    let (kept, _) = approval_request(&store, "v2", None);
    assert_eq!(kept.digest.as_deref(), Some("sha256:bbb"));

    let (other, created) = approval_request(&store, "v3", None);
    assert!(created);
    assert_ne!(other.id, first.id);

    // A restart interrupts only work in progress; waiting requests keep waiting.
    assert!(
        store
            .interrupt_unfinished_deploys("restart")
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.deploy(first.id).unwrap().status,
        DeployStatus::WaitingApproval
    );
}

#[test]
fn a_waiting_deploy_is_decided_once() {
    let (_dir, store) = seeded();
    let (approved, _) = approval_request(&store, "v2", None);
    let (rejected, _) = approval_request(&store, "v3", None);

    let queued = store
        .decide_deploy(approved.id, Decision::Approve, "api 127.0.0.1")
        .unwrap();
    assert_eq!(queued.status, DeployStatus::Queued);
    assert_eq!(queued.finished_at, None);

    let declined = store
        .decide_deploy(rejected.id, Decision::Reject, "api 127.0.0.1")
        .unwrap();
    assert_eq!(declined.status, DeployStatus::Rejected);
    assert!(declined.status.is_finished());
    assert!(declined.finished_at.is_some());

    for (id, decision) in [
        (approved.id, Decision::Reject),
        (rejected.id, Decision::Approve),
    ] {
        let error = store
            .decide_deploy(id, decision, "api 127.0.0.1")
            .unwrap_err();
        assert!(matches!(error, StoreError::WrongState { .. }), "{error:?}");
        assert!(
            error
                .to_string()
                .ends_with("; it must be waiting for approval"),
            "{error}"
        );
    }
    // A new request for a rejected tag is a new request, not the rejected one reopened.
    let (fresh, created) = approval_request(&store, "v3", None);
    assert!(created);
    assert_ne!(fresh.id, rejected.id);

    let missing = store
        .decide_deploy(9999, Decision::Approve, "api 127.0.0.1")
        .unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound { .. }),
        "{missing:?}"
    );
}
