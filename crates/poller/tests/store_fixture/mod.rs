//! Stores for the poller's tests: a fresh database in a temporary folder, imported from a
//! configuration of a few projects and stages, with secrets "sealed" by a stand-in (the poller
//! never opens them itself; its target does).

#![allow(dead_code)]

use store::{
    NewConfiguration, NewProject, NewProjectWithStages, NewRegistry, NewSettings, NewStage,
    PlainSecret, Sealed, SecretInput, SecretPlace, Store,
};

/// A stage accepting `pattern` that deploys automatically.
pub fn stage(name: &str, pattern: &str, poll: bool) -> NewStage {
    NewStage {
        name: name.into(),
        tag_pattern: Some(pattern.into()),
        auto_deploy: true,
        max_instances: 1,
        poll,
        ..NewStage::default()
    }
}

/// A project watching `image`, with the given registry name (from the configuration's
/// registries) and stages.
pub fn project(
    name: &str,
    image: &str,
    registry: Option<&str>,
    stages: Vec<NewStage>,
) -> NewProjectWithStages {
    NewProjectWithStages {
        project: NewProject {
            name: name.into(),
            image: image.into(),
            registry_id: None,
            port: None,
            health_path: "/".into(),
            health_interval_ms: 1000,
            health_timeout_ms: 2000,
            health_retries: 3,
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
        registry: registry.map(str::to_string),
        secret_env: Vec::new(),
        stages,
    }
}

/// Seals nothing: the tests' targets hand out credentials themselves.
pub fn no_seal(_place: SecretPlace, _value: &PlainSecret) -> Sealed {
    Sealed::from_bytes(Vec::new())
}

/// A store holding these registries and projects; keep the folder as long as the store.
pub fn store_with(
    registries: Vec<NewRegistry>,
    projects: Vec<NewProjectWithStages>,
) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("dw.sqlite")).unwrap();
    let config = NewConfiguration {
        settings: NewSettings {
            domain: "localhost".into(),
            network: "dw-test".into(),
            subdomain_pattern: "stage-{stage}-{project}".into(),
            route_target: "container_name".into(),
            poll_interval_secs: 60,
            webhook_secret: SecretInput {
                value: PlainSecret::new("0123456789abcdef0123"),
                env: None,
            },
            npm: None,
        },
        registries,
        notifications: Vec::new(),
        projects,
    };
    store.import_configuration(&config, &no_seal).unwrap();
    (dir, store)
}

/// The id of stage `stage` of project `project`.
pub fn stage_id(store: &Store, project: &str, stage: &str) -> i64 {
    let project = store
        .projects()
        .unwrap()
        .into_iter()
        .find(|p| p.name == project)
        .unwrap();
    store
        .stages_of(project.id)
        .unwrap()
        .into_iter()
        .find(|s| s.name == stage)
        .unwrap()
        .id
}
