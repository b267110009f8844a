//! What the pipeline tests share: where the testbed's services are, a deployer over a fresh
//! database, pushing test images to the registry, and cleaning up after each test.
//!
//! Every test gets its own run id, and from it its own project name, image repository and
//! network, so tests can run in parallel against one engine and one registry. A [`Bed`] removes
//! what its test made (containers, network, local image tags) when it is dropped, whether the
//! test passed or not. A missing service fails the test with a message saying how to start it;
//! nothing is skipped.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crypto::{Cipher, SecretKey};
use deployer::{Deployer, DeployerConfig, PushOutcome, RecordedDeploy, Secrets, labels};
use docker_client::{ContainerSummary, DockerClient};
use events::{Event, Hub, HubConfig, Next, Subscription};
use poller::ImageReference;
use store::{
    Deploy, DeployStatus, Instance, LogLine, NewConfiguration, NewNotification, NewProject,
    NewProjectWithStages, NewSettings, NewStage, PlainSecret, SecretInput, Store, Trigger,
};

/// The value of the secret environment variable every test project has.
pub const SECRET_ENV_VALUE: &str = "opened-only-for-the-container-42";

/// How long a test waits for its deploys to finish: far more than they need, so only a hang
/// trips it.
pub const DEPLOY_TIMEOUT: Duration = Duration::from_secs(120);

/// Health check settings of every test project.
pub const HEALTH_INTERVAL_MS: i64 = 200;
pub const HEALTH_RETRIES: i32 = 5;

/// A testbed setting: from the environment, else from the file `cargo xtask testbed` writes.
pub fn testbed_var(name: &str) -> String {
    if let Ok(value) = std::env::var(name)
        && !value.trim().is_empty()
    {
        return value;
    }
    let file = env_file();
    let from_file = std::fs::read_to_string(&file).ok().and_then(|text| {
        text.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == name && !value.trim().is_empty()).then(|| value.trim().to_owned())
        })
    });
    from_file.unwrap_or_else(|| {
        panic!(
            "{name} is not set and {} does not define it: run `cargo xtask testbed` first",
            file.display()
        )
    })
}

fn env_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/testbed/env")
}

/// `host:port` of the test registry.
pub fn registry() -> String {
    testbed_var("DW_TEST_REGISTRY")
}

/// The local repository holding the test images (tags v1, v2, unhealthy, crashing, healthcheck,
/// sick).
pub fn test_image() -> String {
    testbed_var("DW_TEST_IMAGE")
}

/// Unique among the tests of this run and, through the process id and clock, across runs.
pub fn run_id() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        secs % 100_000,
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// A stage accepting `pattern` that deploys automatically.
pub fn stage(name: &str, pattern: &str) -> NewStage {
    NewStage {
        name: name.to_owned(),
        tag_pattern: Some(pattern.to_owned()),
        auto_deploy: true,
        max_instances: 1,
        ..NewStage::default()
    }
}

/// Runs the docker CLI and returns its stdout; panics with its stderr when it fails.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run `docker {}`: {err}", args.join(" ")));
    assert!(
        out.status.success(),
        "`docker {}` failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the docker CLI for cleaning up: failures are only reported.
fn docker_quietly(args: &[&str]) -> String {
    match Command::new("docker").args(args).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => {
            eprintln!(
                "cleanup: `docker {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            String::new()
        }
        Err(err) => {
            eprintln!("cleanup: cannot run `docker {}`: {err}", args.join(" "));
            String::new()
        }
    }
}

/// The body of `GET url`, or why there is none.
pub fn http_get(url: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|err| err.to_string())?;
    response
        .body_mut()
        .read_to_string()
        .map_err(|err| err.to_string())
}

/// Short stops and drains, so tests do not wait out production timings.
fn test_config() -> DeployerConfig {
    DeployerConfig {
        max_parallel_deploys: 2,
        stop_timeout: Duration::from_secs(1),
        drain: Duration::from_millis(500),
    }
}

/// One test's world: a database, a hub, a deployer, and names nobody else uses.
pub struct Bed {
    pub run: String,
    /// The project's name; containers carry it in their project label.
    pub project: String,
    /// The image the project watches, without tag: `<registry>/deployer-<run>/app`.
    pub repo: String,
    /// The Docker network instances join.
    pub network: String,
    pub store: Store,
    pub hub: Hub,
    pub deployer: Deployer,
    /// The deployer's secrets (for sealing what a test adds to the store).
    pub secrets: Secrets,
    /// A client on the real engine, for looking at what the deployer made.
    pub engine: DockerClient,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Bed {
    /// A bed whose project has these stages, deploying through the real engine.
    pub fn new(stages: Vec<NewStage>) -> Bed {
        Bed::with_docker(
            stages,
            DockerClient::new(None).expect("DOCKER_HOST is usable"),
        )
    }

    /// A bed whose deployer talks to `docker`; the bed still inspects the real engine.
    pub fn with_docker(stages: Vec<NewStage>, docker: DockerClient) -> Bed {
        Bed::build(stages, docker, "container_ip")
    }

    /// A bed whose settings route to instances by `route_target` (`container_ip`,
    /// `container_name` or `published_port`).
    pub fn with_route_target(stages: Vec<NewStage>, route_target: &str) -> Bed {
        let docker = DockerClient::new(None).expect("DOCKER_HOST is usable");
        Bed::build(stages, docker, route_target)
    }

    /// A bed whose settings send notifications to `targets`, (kind, URL) pairs.
    pub fn with_notifications(stages: Vec<NewStage>, targets: &[(&str, &str)]) -> Bed {
        let docker = DockerClient::new(None).expect("DOCKER_HOST is usable");
        let notifications = targets
            .iter()
            .map(|&(kind, url)| NewNotification {
                kind: kind.to_owned(),
                url: SecretInput {
                    value: PlainSecret::new(url),
                    env: None,
                },
            })
            .collect();
        Bed::build_notifying(stages, docker, "container_ip", notifications)
    }

    fn build(stages: Vec<NewStage>, docker: DockerClient, route_target: &str) -> Bed {
        Bed::build_notifying(stages, docker, route_target, Vec::new())
    }

    /// A bed whose project settings `adjust` changes before they are stored (its health check,
    /// say).
    pub fn with_project(stages: Vec<NewStage>, adjust: &dyn Fn(&mut NewProject)) -> Bed {
        let docker = DockerClient::new(None).expect("DOCKER_HOST is usable");
        Bed::build_with(stages, docker, "container_ip", Vec::new(), adjust)
    }

    fn build_notifying(
        stages: Vec<NewStage>,
        docker: DockerClient,
        route_target: &str,
        notifications: Vec<NewNotification>,
    ) -> Bed {
        Bed::build_with(stages, docker, route_target, notifications, &|_| {})
    }

    fn build_with(
        stages: Vec<NewStage>,
        docker: DockerClient,
        route_target: &str,
        notifications: Vec<NewNotification>,
        adjust: &dyn Fn(&mut NewProject),
    ) -> Bed {
        let run = run_id();
        let project = format!("dep-{run}");
        let repo = format!("{}/deployer-{run}/app", registry());
        let network = format!("dw-test-{run}");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(&dir.path().join("dw.sqlite")).expect("the store opens");
        let secrets = Secrets::new(Cipher::new(SecretKey::generate()));
        let mut config = configuration(
            &project,
            &repo,
            &network,
            stages,
            route_target,
            notifications,
        );
        adjust(&mut config.projects[0].project);
        store
            .import_configuration(&config, &|place, value| secrets.seal(place, value))
            .expect("the test configuration imports");
        let hub = Hub::new(HubConfig {
            replay_capacity: 4096,
            // Large enough that a test reading after its deploys finish never lags.
            subscriber_buffer: 4096,
        });
        let deployer = Deployer::new(
            store.clone(),
            hub.clone(),
            docker,
            secrets.clone(),
            test_config(),
        )
        .expect("the deployer starts");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the test's Docker calls");
        let engine = DockerClient::new(None).expect("DOCKER_HOST is usable");
        if let Err(err) = runtime.block_on(engine.ping()) {
            panic!(
                "these tests need the Docker engine at {}: {err}; run `cargo xtask testbed` first",
                engine.host()
            );
        }
        Bed {
            run,
            project,
            repo,
            network,
            store,
            hub,
            deployer,
            secrets,
            engine,
            runtime,
            _dir: dir,
        }
    }

    /// Another deployer on this bed's store, as the next run of a process would make (the
    /// first one is left as it is, as a killed process leaves its work).
    pub fn next_run(&self) -> Deployer {
        let docker = DockerClient::new(None).expect("DOCKER_HOST is usable");
        Deployer::new(
            self.store.clone(),
            self.hub.clone(),
            docker,
            self.secrets.clone(),
            test_config(),
        )
        .expect("the next run's deployer starts")
    }

    /// Runs a future of the test's own Docker calls.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// `<repo>:<tag>`.
    pub fn reference(&self, tag: &str) -> String {
        format!("{}:{tag}", self.repo)
    }

    /// Pushes the testbed image of `tag` to the project's repository. The registry-named tag is
    /// dropped again locally, so the deploy really pulls.
    pub fn push(&self, tag: &str) {
        let local = format!("{}:{tag}", test_image());
        let remote = self.reference(tag);
        let present = Command::new("docker")
            .args(["image", "inspect", &local])
            .output()
            .is_ok_and(|out| out.status.success());
        assert!(
            present,
            "the test image {local} is missing: run `cargo xtask testbed` first"
        );
        docker(&["tag", &local, &remote]);
        docker(&["push", "-q", &remote]);
        docker(&["rmi", &remote]);
    }

    /// Tells the deployer `<repo>:<tag>` was pushed.
    pub fn announce(&self, tag: &str) -> PushOutcome {
        self.announce_image(&self.reference(tag))
    }

    /// Tells the deployer about any image reference.
    pub fn announce_image(&self, image: &str) -> PushOutcome {
        let reference = ImageReference::parse(image)
            .unwrap_or_else(|err| panic!("{image} is not a reference: {err}"));
        self.deployer
            .image_pushed(&reference, Trigger::Webhook, None)
            .unwrap_or_else(|err| panic!("image_pushed({image}) failed: {err}"))
    }

    /// Announces `tag` and expects exactly one deploy to be queued.
    pub fn announce_one(&self, tag: &str) -> RecordedDeploy {
        match self.announce(tag) {
            PushOutcome::Recorded(mut queued) if queued.len() == 1 => queued.remove(0),
            other => panic!("pushing {tag} should queue one deploy, got {other:?}"),
        }
    }

    /// Waits until no deploy is queued or running.
    pub fn wait_idle(&self) {
        assert!(
            self.deployer.wait_idle(DEPLOY_TIMEOUT),
            "deploys still running after {}s",
            DEPLOY_TIMEOUT.as_secs()
        );
    }

    /// Pushes `tag`, announces it, waits for its one deploy and returns the finished row.
    pub fn deploy(&self, tag: &str) -> Deploy {
        self.push(tag);
        let queued = self.announce_one(tag);
        self.wait_idle();
        self.deploy_row(queued.deploy_id)
    }

    /// Like [`Bed::deploy`], and the deploy must have succeeded.
    pub fn deploy_ok(&self, tag: &str) -> Deploy {
        let deploy = self.deploy(tag);
        assert_eq!(
            deploy.status,
            DeployStatus::Succeeded,
            "deploying {tag}: {:?}; log:\n{}",
            deploy.reason,
            self.log_text(deploy.id)
        );
        deploy
    }

    pub fn deploy_row(&self, id: i64) -> Deploy {
        self.store.deploy(id).expect("the deploy row exists")
    }

    pub fn log(&self, deploy_id: i64) -> Vec<LogLine> {
        self.store
            .logs_after(deploy_id, 0)
            .expect("the deploy log reads")
    }

    /// The deploy's log as text, one line per line, for assertion messages.
    pub fn log_text(&self, deploy_id: i64) -> String {
        self.log(deploy_id)
            .iter()
            .map(|line| format!("{:>3} {}", line.seq, line.message))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The project's instances that still have a container.
    pub fn live_instances(&self) -> Vec<Instance> {
        let project = self
            .store
            .projects()
            .expect("projects list")
            .into_iter()
            .find(|project| project.name == self.project)
            .expect("the test project exists");
        self.store
            .live_instances_of_project(project.id)
            .expect("instances list")
            .into_iter()
            .map(|view| view.instance)
            .collect()
    }

    /// The single live instance of the project, which must be running `tag` and answer with it.
    pub fn assert_serving(&self, tag: &str) -> Instance {
        let live = self.live_instances();
        assert_eq!(live.len(), 1, "one live instance expected: {live:#?}");
        let instance = live.into_iter().next().unwrap_or_else(|| unreachable!());
        assert_eq!(
            instance.status,
            store::InstanceStatus::Running,
            "{instance:#?}"
        );
        assert_eq!(instance.tag, tag, "{instance:#?}");
        let state = self
            .block_on(self.engine.inspect_container(&instance.container_id))
            .unwrap_or_else(|err| panic!("{}: {err}", instance.container_name));
        assert!(state.running, "{state:#?}");
        let address = instance
            .address
            .clone()
            .expect("a running instance has an address");
        let url = format!("{address}/version");
        match http_get(&url) {
            Ok(body) => assert_eq!(body.trim(), tag, "GET {url}"),
            Err(err) => panic!("GET {url}: {err}"),
        }
        instance
    }

    /// Asserts that a failed deploy left nothing behind (no container, no half-made instance)
    /// and that `old` still serves.
    pub fn assert_failed_cleanly(&self, failed: &Deploy, old: &str) {
        assert_eq!(
            failed.status,
            DeployStatus::Failed,
            "log:\n{}",
            self.log_text(failed.id)
        );
        assert!(
            self.containers_of_deploy(failed.id).is_empty(),
            "the failed deploy's container is still there: {:?}",
            self.containers_of_deploy(failed.id)
        );
        let made = self
            .store
            .instances_with_status(store::InstanceStatus::Starting)
            .expect("instances list");
        assert!(made.is_empty(), "{made:#?}");
        self.assert_serving(old);
    }

    /// Containers of this project carrying every given label as well.
    pub fn containers(&self, more_labels: &[(&str, &str)]) -> Vec<ContainerSummary> {
        let mut filter = vec![(labels::PROJECT, Some(self.project.as_str()))];
        filter.extend(more_labels.iter().map(|&(key, value)| (key, Some(value))));
        self.block_on(self.engine.list_containers(&filter))
            .expect("containers list")
    }

    /// Containers the given deploy made.
    pub fn containers_of_deploy(&self, deploy_id: i64) -> Vec<ContainerSummary> {
        self.containers(&[(labels::DEPLOY, &deploy_id.to_string())])
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        // A test that failed midway may leave a deploy running; let it end before cleaning
        // up under it.
        if !self.deployer.wait_idle(DEPLOY_TIMEOUT) {
            eprintln!("cleanup: deploys of {} still running", self.project);
        }
        let engine = self.engine.clone();
        let filter = [(labels::PROJECT, Some(self.project.as_str()))];
        self.block_on(async {
            match engine.list_containers(&filter).await {
                Ok(containers) => {
                    for container in containers {
                        if let Err(err) = engine.remove_container(&container.id).await {
                            eprintln!("cleanup: removing {}: {err}", container.name);
                        }
                    }
                }
                Err(err) => eprintln!("cleanup: listing containers: {err}"),
            }
            if let Err(err) = engine.remove_network(&self.network).await {
                eprintln!("cleanup: removing network {}: {err}", self.network);
            }
        });
        // The tags the deploys pulled: dropping the last tag of the repository drops its
        // digest reference too; the layers stay, shared with the testbed image.
        let format = "{{.Repository}}:{{.Tag}}";
        for image in docker_quietly(&["image", "ls", "--format", format, &self.repo]).lines() {
            if !image.ends_with(":<none>") {
                docker_quietly(&["rmi", image]);
            }
        }
    }
}

fn configuration(
    project: &str,
    repo: &str,
    network: &str,
    stages: Vec<NewStage>,
    route_target: &str,
    notifications: Vec<NewNotification>,
) -> NewConfiguration {
    let now = store::now_ms();
    NewConfiguration {
        settings: NewSettings {
            domain: "test.invalid".into(),
            network: network.to_owned(),
            subdomain_pattern: "{stage}-{project}".into(),
            route_target: route_target.into(),
            poll_interval_secs: 60,
            webhook_secret: SecretInput {
                value: PlainSecret::new("not-a-secret-0123456789"),
                env: None,
            },
            npm: None,
        },
        registries: Vec::new(),
        notifications,
        projects: vec![NewProjectWithStages {
            project: NewProject {
                name: project.to_owned(),
                image: repo.to_owned(),
                registry_id: None,
                port: Some(8080),
                health_path: "/healthz".into(),
                health_interval_ms: HEALTH_INTERVAL_MS,
                health_timeout_ms: 1_000,
                health_retries: HEALTH_RETRIES,
                health_start_period_ms: 0,
                env: NewProject::env_json(&BTreeMap::from([(
                    "PLAIN_SETTING".to_string(),
                    "plain-value".to_string(),
                )])),
                created_at: now,
                volumes: NewProject::volumes_json(&[]),
                memory_bytes: None,
                nano_cpus: None,
                restart_policy: "unless-stopped".into(),
                // As short as the deployer's own fallback, so replacing an instance is quick.
                stop_timeout_ms: 1_000,
                stop_signal: None,
                health_kind: "http".into(),
                health_status: "200-399".into(),
            },
            registry: None,
            secret_env: vec![(
                "APP_SECRET".to_string(),
                SecretInput {
                    value: PlainSecret::new(SECRET_ENV_VALUE),
                    env: None,
                },
            )],
            stages,
        }],
    }
}

/// Every event the subscription holds right now (the deploys have finished).
pub fn drain(subscription: &Subscription) -> Vec<Event> {
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match subscription.try_next() {
            Next::Event(event) => events.push(event),
            Next::Empty | Next::Closed => return events,
            Next::Lagged => panic!("the test subscriber lagged behind the hub"),
        }
        assert!(Instant::now() < deadline, "the hub keeps publishing");
    }
}
