//! The store against a real SQLite file: migrations, connection settings and the queries the deploy path uses.

use std::collections::BTreeMap;

use store::{
    DeployStatus, InstanceStatus, NewConfiguration, NewDeploy, NewInstance, NewProject,
    NewProjectWithStages, NewRegistry, NewStage, Settings, Store, StoreError, Trigger,
};

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("dw.sqlite")).unwrap();
    (dir, store)
}

fn configuration() -> NewConfiguration {
    let mut env = BTreeMap::new();
    env.insert("LOG_LEVEL".to_string(), "info".to_string());
    NewConfiguration {
        settings: Settings {
            id: 1,
            domain: "example.test".into(),
            network: "dw-net".into(),
            subdomain_pattern: "stage-{stage}-{project}".into(),
            route_target: "container_name".into(),
            poll_interval_secs: 300,
            webhook_secret: "s3cret-value".into(),
            updated_at: 0,
        },
        registries: vec![NewRegistry {
            name: "local".into(),
            url: "http://127.0.0.1:5000".into(),
        }],
        projects: vec![NewProjectWithStages {
            registry: Some("local".into()),
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
            },
            stages: vec![
                NewStage {
                    name: "dev".into(),
                    tag_pattern: "dev-*".into(),
                    auto_deploy: true,
                    max_instances: 1,
                },
                NewStage {
                    name: "prod".into(),
                    tag_pattern: "v*".into(),
                    auto_deploy: false,
                    max_instances: 1,
                },
            ],
        }],
    }
}

fn seeded() -> (tempfile::TempDir, Store) {
    let (dir, store) = open();
    store.import_configuration(&configuration()).unwrap();
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
        })
        .unwrap()
}

#[test]
fn import_writes_settings_projects_and_stages_once() {
    let (_dir, store) = open();
    assert!(!store.is_configured().unwrap());
    assert!(matches!(store.settings(), Err(StoreError::NotFound { .. })));
    store.import_configuration(&configuration()).unwrap();
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
    let again = store.import_configuration(&configuration());
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
        store.import_configuration(&config),
        Err(StoreError::Conflict { .. })
    ));
    assert!(!store.is_configured().unwrap());
    assert!(store.projects().unwrap().is_empty());
}

#[test]
fn settings_debug_hides_the_webhook_secret() {
    let (_dir, store) = seeded();
    let printed = format!("{:?}", store.settings().unwrap());
    assert!(!printed.contains("s3cret-value"), "{printed}");
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
