//! Provenance and image retention in the store: a deploy's steps, who decided it, what it
//! repeats, and which digests each stage keeps.

use std::collections::BTreeSet;

use store::{
    Decision, Deploy, DeployStatus, DeployStep, InstanceStatus, NewConfiguration, NewDeploy,
    NewInstance, NewProject, NewProjectWithStages, NewSettings, NewStage, PlainSecret, SecretInput,
    Stage, StepOutcome, Store, StoreError, Trigger,
};

fn stage(name: &str, keep_images: i32, auto_deploy: bool) -> NewStage {
    NewStage {
        name: name.into(),
        tag_pattern: Some("*".into()),
        auto_deploy,
        max_instances: 1,
        keep_images,
        ..NewStage::default()
    }
}

/// A database with project `shop` and stages `dev` (keeps 2 images), `prod` (keeps 1, waits for
/// approval) and `qa` (the default).
fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("dw.sqlite")).unwrap();
    let config = NewConfiguration {
        settings: NewSettings {
            domain: "example.test".into(),
            network: "dw-net".into(),
            subdomain_pattern: "stage-{stage}-{project}".into(),
            route_target: "container_name".into(),
            poll_interval_secs: 300,
            webhook_secret: SecretInput {
                value: PlainSecret::new("s3cret-value-0123456789"),
                env: None,
            },
            npm: None,
        },
        registries: Vec::new(),
        notifications: Vec::new(),
        projects: vec![NewProjectWithStages {
            registry: None,
            secret_env: Vec::new(),
            project: NewProject {
                name: "shop".into(),
                image: "127.0.0.1:5000/acme/shop".into(),
                registry_id: None,
                port: Some(8080),
                health_path: "/".into(),
                health_interval_ms: 1000,
                health_timeout_ms: 2000,
                health_retries: 30,
                health_start_period_ms: 0,
                env: "{}".into(),
                created_at: 1,
                volumes: "[]".into(),
                memory_bytes: None,
                nano_cpus: None,
                restart_policy: "unless-stopped".into(),
                stop_timeout_ms: 10_000,
                stop_signal: None,
                health_kind: "http".into(),
                health_status: "200-399".into(),
            },
            stages: vec![
                stage("dev", 2, true),
                stage("prod", 1, false),
                NewStage {
                    name: "qa".into(),
                    tag_pattern: Some("*".into()),
                    ..NewStage::default()
                },
            ],
        }],
    };
    store
        .import_configuration(&config, &|_, value| {
            store::Sealed::from_bytes(value.expose().as_bytes().to_vec())
        })
        .unwrap();
    (dir, store)
}

fn stage_named(store: &Store, name: &str) -> Stage {
    let project = store.projects().unwrap().remove(0);
    store
        .stages_of(project.id)
        .unwrap()
        .into_iter()
        .find(|stage| stage.name == name)
        .unwrap()
}

fn new_deploy(stage: &Stage, tag: &str, digest: Option<&str>, source: Option<i64>) -> NewDeploy {
    NewDeploy {
        project_id: stage.project_id,
        stage_id: stage.id,
        tag: tag.into(),
        image: format!("127.0.0.1:5000/acme/shop:{tag}"),
        trigger: Trigger::Webhook,
        digest: digest.map(str::to_string),
        source_deploy_id: source,
    }
}

/// A deploy of `tag` with `digest` to `stage` that ended with `status`.
fn finished(store: &Store, stage: &Stage, tag: &str, digest: &str, status: DeployStatus) -> Deploy {
    let deploy = store
        .create_deploy(&new_deploy(stage, tag, Some(digest), None))
        .unwrap();
    store.start_deploy(deploy.id).unwrap();
    store.finish_deploy(deploy.id, status, None).unwrap();
    store.deploy(deploy.id).unwrap()
}

fn digests(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|digest| digest.to_string()).collect()
}

#[test]
fn a_deploys_steps_are_read_back_in_the_order_they_ended() {
    let (_dir, store) = seeded();
    let dev = stage_named(&store, "dev");
    let deploy = store
        .create_deploy(&new_deploy(&dev, "v1", None, None))
        .unwrap();
    let steps = [
        ("pull", 1_000, 850, StepOutcome::Ok),
        ("create", 1_850, 40, StepOutcome::Ok),
        ("start", 1_890, 120, StepOutcome::Ok),
        ("health", 2_010, 3_000, StepOutcome::Failed),
    ];
    for (name, started_at, duration_ms, outcome) in steps {
        store
            .record_step(&DeployStep {
                deploy_id: deploy.id,
                name: name.into(),
                started_at,
                duration_ms,
                outcome,
            })
            .unwrap();
    }
    let read = store.deploy_steps(deploy.id).unwrap();
    let shown: Vec<_> = read
        .iter()
        .map(|step| {
            (
                step.name.as_str(),
                step.started_at,
                step.duration_ms,
                step.outcome,
            )
        })
        .collect();
    assert_eq!(shown, steps);
    // Another deploy has none of them.
    let other = store
        .create_deploy(&new_deploy(&dev, "v2", None, None))
        .unwrap();
    assert!(store.deploy_steps(other.id).unwrap().is_empty());
    // A step of a deploy that does not exist is refused.
    let orphan = store.record_step(&DeployStep {
        deploy_id: 999,
        name: "pull".into(),
        started_at: 0,
        duration_ms: 1,
        outcome: StepOutcome::Ok,
    });
    assert!(
        matches!(orphan, Err(StoreError::Conflict { .. })),
        "{orphan:?}"
    );
}

#[test]
fn whoever_decides_a_waiting_deploy_is_recorded_as_approver_or_rejecter() {
    let (_dir, store) = seeded();
    let prod = stage_named(&store, "prod");
    let (approved, _) = store
        .request_approval(&new_deploy(&prod, "v1", None, None))
        .unwrap();
    let (rejected, _) = store
        .request_approval(&new_deploy(&prod, "v2", None, None))
        .unwrap();
    assert_eq!(approved.decided_by, None);
    assert_eq!(approved.approved_by(), None);

    let queued = store
        .decide_deploy(approved.id, Decision::Approve, "api 127.0.0.1")
        .unwrap();
    assert_eq!(queued.approved_by(), Some("api 127.0.0.1"));
    assert_eq!(queued.rejected_by(), None);
    // It stays the approver through the deploy's life.
    store.start_deploy(queued.id).unwrap();
    store
        .finish_deploy(queued.id, DeployStatus::Succeeded, None)
        .unwrap();
    let done = store.deploy(queued.id).unwrap();
    assert_eq!(done.approved_by(), Some("api 127.0.0.1"));

    let declined = store
        .decide_deploy(rejected.id, Decision::Reject, "api 10.0.0.7")
        .unwrap();
    assert_eq!(declined.approved_by(), None);
    assert_eq!(declined.rejected_by(), Some("api 10.0.0.7"));

    // A deploy that never waited has no approver.
    let dev = stage_named(&store, "dev");
    let plain = store
        .create_deploy(&new_deploy(&dev, "v3", None, None))
        .unwrap();
    assert_eq!(plain.decided_by, None);
}

#[test]
fn a_deploy_records_the_deploy_it_repeats() {
    let (_dir, store) = seeded();
    let dev = stage_named(&store, "dev");
    let prod = stage_named(&store, "prod");
    let source = finished(&store, &dev, "v1", "sha256:aaa", DeployStatus::Succeeded);
    let promoted = store
        .create_deploy(&new_deploy(
            &prod,
            "v1",
            Some("sha256:aaa"),
            Some(source.id),
        ))
        .unwrap();
    assert_eq!(promoted.source_deploy_id, Some(source.id));
    assert_eq!(
        store.deploy(promoted.id).unwrap().source_deploy_id,
        Some(source.id)
    );
    // A waiting request that follows a newer image follows its source too.
    let newer = finished(&store, &dev, "v1", "sha256:bbb", DeployStatus::Succeeded);
    let (waiting, _) = store
        .request_approval(&new_deploy(
            &prod,
            "v2",
            Some("sha256:aaa"),
            Some(source.id),
        ))
        .unwrap();
    let (followed, created) = store
        .request_approval(&new_deploy(&prod, "v2", Some("sha256:bbb"), Some(newer.id)))
        .unwrap();
    assert!(!created);
    assert_eq!(followed.id, waiting.id);
    assert_eq!(followed.source_deploy_id, Some(newer.id));
    // The source must exist.
    let dangling = store.create_deploy(&new_deploy(&prod, "v9", None, Some(9_999)));
    assert!(
        matches!(dangling, Err(StoreError::Conflict { .. })),
        "{dangling:?}"
    );
}

#[test]
fn stages_keep_three_images_unless_told_otherwise() {
    let (_dir, store) = seeded();
    assert_eq!(Stage::DEFAULT_KEEP_IMAGES, 3);
    assert_eq!(stage_named(&store, "qa").keep_images, 3);
    assert_eq!(stage_named(&store, "dev").keep_images, 2);
    assert_eq!(stage_named(&store, "prod").keep_images, 1);
}

#[test]
fn retention_keeps_each_stages_latest_healthy_digests_and_what_runs_or_will_run() {
    let (_dir, store) = seeded();
    let dev = stage_named(&store, "dev");
    let prod = stage_named(&store, "prod");
    let qa = stage_named(&store, "qa");
    // dev keeps 2: of a1, a2, a3 (failed), a2 again (a rollback), a4, the latest distinct
    // healthy ones are a4 and a2.
    finished(&store, &dev, "v1", "sha256:a1", DeployStatus::Succeeded);
    finished(&store, &dev, "v2", "sha256:a2", DeployStatus::Succeeded);
    finished(&store, &dev, "v3", "sha256:a3", DeployStatus::Failed);
    finished(&store, &dev, "v2", "sha256:a2", DeployStatus::Succeeded);
    let a4 = finished(&store, &dev, "v4", "sha256:a4", DeployStatus::Succeeded);
    // prod keeps 1: p1 then p2, which is still running and counts as healthy when it is the
    // deploy asking.
    finished(&store, &prod, "v1", "sha256:p1", DeployStatus::Succeeded);
    let p2 = store
        .create_deploy(&new_deploy(&prod, "v2", Some("sha256:p2"), None))
        .unwrap();
    store.start_deploy(p2.id).unwrap();
    // qa: a queued deploy of a tag whose digest is not known yet, an old instance still live
    // (a stopped one, say), and an old succeeded deploy interrupted since.
    store
        .create_deploy(&new_deploy(&qa, "v7", None, None))
        .unwrap();
    let old = finished(&store, &qa, "v0", "sha256:q0", DeployStatus::Succeeded);
    let instance = store
        .create_instance(&NewInstance {
            project_id: old.project_id,
            stage_id: old.stage_id,
            deploy_id: old.id,
            tag: "v0".into(),
            digest: Some("sha256:q0".into()),
            container_name: "dw-shop-qa-v0".into(),
        })
        .unwrap();
    store
        .set_instance_status(instance.id, InstanceStatus::Stopped)
        .unwrap();

    let retention = store.image_retention(dev.project_id, p2.id).unwrap();
    assert_eq!(
        retention.keep_digests,
        digests(&["sha256:a2", "sha256:a4", "sha256:p2", "sha256:q0"])
    );
    assert_eq!(
        retention.pulled,
        digests(&[
            "sha256:a1",
            "sha256:a2",
            "sha256:a3",
            "sha256:a4",
            "sha256:p1",
            "sha256:p2",
            "sha256:q0"
        ])
    );
    assert_eq!(retention.busy_tags, digests(&["v2", "v7"]));

    // Asked by another deploy, the running p2 is kept as unfinished, and p1 as prod's latest
    // healthy one.
    let retention = store.image_retention(dev.project_id, a4.id).unwrap();
    assert!(retention.keep_digests.contains("sha256:p1"));
    assert!(retention.keep_digests.contains("sha256:p2"));

    // Once the instance is removed, its image is no longer kept for it.
    store
        .set_instance_status(instance.id, InstanceStatus::Removed)
        .unwrap();
    let retention = store.image_retention(dev.project_id, p2.id).unwrap();
    assert!(
        retention.keep_digests.contains("sha256:q0"),
        "qa's latest healthy"
    );
    store
        .finish_deploy(old.id, DeployStatus::Failed, None)
        .unwrap();
    let retention = store.image_retention(dev.project_id, p2.id).unwrap();
    assert!(!retention.keep_digests.contains("sha256:q0"));
}
