//! Against the real Docker engine (DOCKER_HOST or the local socket), the test
//! images `dw-testbed/app:{v1,v2}` and the testbed registry (`DW_TEST_REGISTRY`, which
//! `cargo xtask testbed` sets up and also writes to `target/testbed/env`).
//! A missing service fails the test with a message naming it; nothing is skipped.
//!
//! Every object a test creates carries that test's run id, and a guard
//! removes them when the test ends, whether it passed or not.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use docker_client::{
    ContainerMount, ContainerSpec, DockerClient, DockerError, PullProgress, RestartPolicy,
    VolumeMount,
};

const APP_V1: &str = "dw-testbed/app:v1";

/// `host:port` of the test registry: from the environment, else from the file the testbed writes.
fn registry() -> String {
    const NAME: &str = "DW_TEST_REGISTRY";
    if let Ok(value) = std::env::var(NAME)
        && !value.trim().is_empty()
    {
        return value.trim().to_owned();
    }
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/testbed/env");
    std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let (key, value) = line.split_once('=')?;
                (key.trim() == NAME).then(|| value.trim().to_owned())
            })
        })
        .unwrap_or_else(|| {
            panic!(
                "{NAME} is not set and {} does not define it: run `cargo xtask testbed` first",
                file.display()
            )
        })
}

/// The testbed pushes its images to the registry under their own names.
fn registry_image() -> String {
    format!("{}/{APP_V1}", registry())
}
/// Every container a test creates carries this label, valued with the run id.
const RUN_LABEL: &str = "dw-test.run";

fn run_id() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

async fn engine() -> DockerClient {
    let client = DockerClient::new(None).expect("DOCKER_HOST should be a usable address");
    if let Err(err) = client.ping().await {
        panic!(
            "these tests need a running Docker engine at {}: {err}. Start dockerd first.",
            client.host()
        );
    }
    client
}

async fn require_image(client: &DockerClient, image: &str) {
    if let Err(err) = client.inspect_image(image).await {
        panic!(
            "the test image {image} is missing from the Docker engine ({err}); build the testbed images first"
        );
    }
}

fn require_registry() {
    let registry = registry();
    let addr: SocketAddr = registry
        .parse()
        .unwrap_or_else(|err| panic!("DW_TEST_REGISTRY={registry:?} is not host:port: {err}"));
    if let Err(err) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        panic!("the test registry at {registry} is not running ({err}); run `cargo xtask testbed`");
    }
}

/// Removes the run's containers, networks and volumes on drop, even when the test panicked.
struct Cleanup {
    run: String,
    networks: Vec<String>,
    /// Named volumes, removed with the docker CLI after the containers.
    volumes: Vec<String>,
}

impl Cleanup {
    fn new(run: &str) -> Cleanup {
        Cleanup {
            run: run.to_owned(),
            networks: Vec::new(),
            volumes: Vec::new(),
        }
    }

    /// Registers a named volume before a container creates it.
    fn volume(&mut self, name: String) -> String {
        self.volumes.push(name.clone());
        name
    }

    /// Registers a network before it is created, so a failure midway still cleans it.
    fn network(&mut self, name: String) -> String {
        self.networks.push(name.clone());
        name
    }

    fn spec(&self, name: &str) -> ContainerSpec {
        ContainerSpec {
            name: format!("dw-test-{}-{name}", self.run),
            image: APP_V1.into(),
            labels: BTreeMap::from([(RUN_LABEL.to_owned(), self.run.clone())]),
            ..Default::default()
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let run = self.run.clone();
        let networks = std::mem::take(&mut self.networks);
        let volumes = std::mem::take(&mut self.volumes);
        // Drop cannot await, and the test's runtime may be shutting down:
        // clean up on a runtime of our own in a separate thread.
        let cleaning = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(async {
                let Ok(client) = DockerClient::new(None) else {
                    return;
                };
                if let Ok(containers) = client.list_containers(&[(RUN_LABEL, Some(&run))]).await {
                    for container in containers {
                        let _ = client.remove_container(&container.id).await;
                    }
                }
                for network in networks {
                    let _ = client.remove_network(&network).await;
                }
            });
            for volume in volumes {
                let _ = std::process::Command::new("docker")
                    .args(["volume", "rm", "-f", &volume])
                    .output();
            }
        });
        let _ = cleaning.join();
    }
}

/// One plain HTTP/1.0 GET; returns the body, or None if the server is not answering yet.
fn http_get(ip: IpAddr, port: u16, path: &str) -> Option<String> {
    let addr = SocketAddr::new(ip, port);
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {ip}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.").then(|| body.to_owned())
}

/// Polls until the container's web server answers (it needs a moment after start).
async fn probe_version(ip: IpAddr) -> String {
    probe_version_at(ip, 8080).await
}

async fn probe_version_at(ip: IpAddr, port: u16) -> String {
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(body) = http_get(ip, port, "/version") {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "the container at {ip}:{port} never answered"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .unwrap()
}

async fn wait_until_stopped(client: &DockerClient, name: &str) -> docker_client::ContainerState {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = client.inspect_container(name).await.unwrap();
        if !state.running && state.status != "created" {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "{name} is still running: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn ping_reports_engine_and_api_versions() {
    let client = engine().await;
    let info = client.ping().await.unwrap();
    assert!(
        info.api_version.starts_with("1."),
        "api version {:?}",
        info.api_version
    );
    assert!(!info.engine_version.is_empty());
    // Cached: a clone answers the same without a new handshake.
    assert_eq!(client.clone().ping().await.unwrap(), info);
}

#[tokio::test]
async fn pull_from_the_test_registry_reports_progress_and_the_image_describes_itself() {
    require_registry();
    let client = engine().await;
    let mut seen = Vec::new();
    let mut record = |progress: PullProgress| seen.push(progress.message);
    let registry_image = registry_image();
    client
        .pull(&registry_image, None, &mut record)
        .await
        .unwrap_or_else(|err| panic!("pulling {registry_image}: {err}"));
    assert!(
        seen.iter().any(|m| m.starts_with("Digest: sha256:")),
        "{seen:?}"
    );
    assert!(
        seen.last().is_some_and(|m| m.starts_with("Status: ")),
        "{seen:?}"
    );

    let image = client.inspect_image(&registry_image).await.unwrap();
    assert!(image.id.starts_with("sha256:"), "{image:?}");
    assert_eq!(image.exposed_ports, [8080]);
    assert!(
        image
            .repo_digests
            .iter()
            .any(|d| d.starts_with(&format!("{}/dw-testbed/app@sha256:", registry()))),
        "{image:?}"
    );
}

#[tokio::test]
async fn pulling_a_tag_missing_from_the_registry_fails_naming_the_image() {
    require_registry();
    let client = engine().await;
    let image = format!("{}/dw-testbed/app:missing-{}", registry(), run_id());
    let result = client.pull(&image, None, &mut |_| {}).await;
    match result {
        Err(err @ DockerError::PullFailed { .. }) => {
            let text = err.to_string();
            assert!(text.contains(&image), "{text}");
            assert!(text.contains("manifest unknown"), "{text}");
        }
        other => panic!("expected PullFailed for {image}, got {other:?}"),
    }
}

#[tokio::test]
async fn inspecting_missing_things_is_not_found() {
    let client = engine().await;
    let run = run_id();
    let image = format!("dw-testbed/absent:{run}");
    let container = format!("dw-test-{run}-absent");
    assert!(matches!(
        client.inspect_image(&image).await,
        Err(DockerError::NotFound { ref what }) if *what == format!("image {image}")
    ));
    assert!(matches!(
        client.inspect_container(&container).await,
        Err(DockerError::NotFound { ref what }) if *what == format!("container {container}")
    ));
    assert!(matches!(
        client.start_container(&container).await,
        Err(DockerError::NotFound { .. })
    ));
}

#[tokio::test]
async fn ensure_network_creates_once_then_finds_it() {
    let client = engine().await;
    let run = run_id();
    let mut cleanup = Cleanup::new(&run);
    let network = cleanup.network(format!("dw-test-{run}-net"));
    assert!(client.ensure_network(&network).await.unwrap());
    assert!(!client.ensure_network(&network).await.unwrap());
}

#[tokio::test]
async fn racing_ensure_network_calls_create_exactly_one_network() {
    let client = engine().await;
    let run = run_id();
    let mut cleanup = Cleanup::new(&run);
    let network = cleanup.network(format!("dw-test-{run}-race"));
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            let network = network.clone();
            tokio::spawn(async move { client.ensure_network(&network).await })
        })
        .collect();
    let mut created = 0;
    for racer in racers {
        if racer.await.unwrap().expect("no racer may fail") {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    // Still exactly one network of that name: a container can join it by name.
    let mut spec = cleanup.spec("on-race-net");
    spec.network = Some(network.clone());
    client.create_container(&spec).await.unwrap();
}

#[tokio::test]
async fn container_lifecycle_create_start_probe_stop_remove() {
    let client = engine().await;
    require_image(&client, APP_V1).await;
    let run = run_id();
    let mut cleanup = Cleanup::new(&run);
    let network = cleanup.network(format!("dw-test-{run}-net"));
    client.ensure_network(&network).await.unwrap();

    let mut spec = cleanup.spec("web");
    spec.network = Some(network.clone());
    spec.exposed_port = Some(8080);
    spec.env = vec![("GREETING".into(), "hello".into())];
    spec.labels.insert("dw.app".into(), "web".into());
    let id = client.create_container(&spec).await.unwrap();

    let created = client.inspect_container(&spec.name).await.unwrap();
    assert_eq!(created.id, id);
    assert_eq!(created.name, spec.name);
    assert_eq!(created.status, "created");
    assert!(!created.running);
    assert_eq!(created.started_at, None);

    client.start_container(&id).await.unwrap();
    let running = client.inspect_container(&id).await.unwrap();
    assert!(running.running, "{running:?}");
    assert_eq!(running.status, "running");
    assert_eq!(running.exit_code, None);
    assert!(running.started_at.is_some());
    assert_eq!(running.health, None, "the test image has no health check");
    assert_eq!(
        running.labels.get("dw.app").map(String::as_str),
        Some("web")
    );
    let ip: IpAddr = running
        .ip_addresses
        .get(&network)
        .unwrap_or_else(|| panic!("no address on {network}: {running:?}"))
        .parse()
        .unwrap();
    assert_eq!(probe_version(ip).await.trim(), "v1");

    client
        .stop_container(&id, Duration::from_secs(5))
        .await
        .unwrap();
    let stopped = client.inspect_container(&id).await.unwrap();
    assert!(!stopped.running);
    assert_eq!(stopped.status, "exited");
    assert!(stopped.exit_code.is_some());
    // Stopping again is fine.
    client
        .stop_container(&id, Duration::from_secs(5))
        .await
        .unwrap();

    assert!(client.remove_container(&id).await.unwrap());
    assert!(!client.remove_container(&id).await.unwrap());
    assert!(matches!(
        client.inspect_container(&id).await,
        Err(DockerError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_published_port_answers_on_the_loopback_address_only() {
    let client = engine().await;
    require_image(&client, APP_V1).await;
    let run = run_id();
    let cleanup = Cleanup::new(&run);
    let mut spec = cleanup.spec("published");
    spec.exposed_port = Some(8080);
    spec.publish_port = true;
    let id = client.create_container(&spec).await.unwrap();
    client.start_container(&id).await.unwrap();

    let state = client.inspect_container(&id).await.unwrap();
    let host_port = *state
        .published_ports
        .get(&8080)
        .unwrap_or_else(|| panic!("8080 is not published: {state:?}"));
    assert_ne!(host_port, 0);
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    assert_eq!(probe_version_at(loopback, host_port).await.trim(), "v1");

    let unpublished = client
        .inspect_container(
            &client
                .create_container(&cleanup.spec("plain"))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(unpublished.published_ports.is_empty(), "{unpublished:?}");
}

/// Runs `docker exec <container> sh -c <script>` and returns its stdout.
fn exec(container: &str, script: &str) -> String {
    let out = std::process::Command::new("docker")
        .args(["exec", container, "sh", "-c", script])
        .output()
        .expect("the docker CLI runs");
    assert!(
        out.status.success(),
        "`docker exec {container} sh -c {script:?}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn volumes_limits_restart_policy_and_stop_settings_are_applied_and_read_back() {
    let client = engine().await;
    require_image(&client, APP_V1).await;
    let run = run_id();
    let mut cleanup = Cleanup::new(&run);
    let volume = cleanup.volume(format!("dw-test-{run}-data"));
    let host_dir = std::env::temp_dir().join(format!("dw-test-{run}-bind"));
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("greeting"), "from the host").unwrap();
    let host_path = host_dir.to_str().unwrap().to_owned();

    let mut spec = cleanup.spec("settings");
    spec.volumes = vec![
        VolumeMount::parse(&format!("{volume}:/data")).unwrap(),
        VolumeMount::parse(&format!("{host_path}:/config:ro")).unwrap(),
    ];
    spec.memory_bytes = Some(64 << 20);
    spec.nano_cpus = Some(500_000_000);
    spec.restart = Some(RestartPolicy::OnFailure {
        max_retries: Some(2),
    });
    spec.stop_signal = Some("SIGINT".into());
    spec.stop_timeout = Some(Duration::from_secs(3));
    let id = client.create_container(&spec).await.unwrap();
    client.start_container(&id).await.unwrap();

    let state = client.inspect_container(&id).await.unwrap();
    let mut mounts = state.mounts.clone();
    mounts.sort_by(|a, b| a.target.cmp(&b.target));
    assert_eq!(mounts.len(), 2, "{mounts:#?}");
    let (config, data) = (&mounts[0], &mounts[1]);
    assert_eq!(
        config,
        &ContainerMount {
            kind: "bind".into(),
            name: None,
            source: host_path.clone(),
            target: "/config".into(),
            read_only: true,
        }
    );
    assert_eq!(data.kind, "volume");
    assert_eq!(data.name.as_deref(), Some(volume.as_str()));
    assert_eq!(data.target, "/data");
    assert!(!data.read_only);
    assert_eq!(state.memory_bytes, Some(64 << 20));
    assert_eq!(state.nano_cpus, Some(500_000_000));
    assert_eq!(
        state.restart,
        RestartPolicy::OnFailure {
            max_retries: Some(2)
        }
    );
    assert_eq!(state.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(state.stop_timeout, Some(Duration::from_secs(3)));

    // The mounts are really there: the host file reads, the read-only one refuses writes, the
    // named volume takes them.
    assert_eq!(exec(&spec.name, "cat /config/greeting"), "from the host");
    assert_eq!(
        exec(
            &spec.name,
            "touch /config/x 2>/dev/null && echo writable || echo read-only"
        )
        .trim(),
        "read-only"
    );
    exec(&spec.name, "echo kept > /data/file");
    assert_eq!(exec(&spec.name, "cat /data/file").trim(), "kept");

    // The policy can change on a running container.
    client
        .set_restart_policy(&id, RestartPolicy::UnlessStopped)
        .await
        .unwrap();
    let updated = client.inspect_container(&id).await.unwrap();
    assert_eq!(updated.restart, RestartPolicy::UnlessStopped);
    assert!(updated.running, "{updated:?}");

    // Without settings, the engine's defaults: nothing mounted, no limits, no restart.
    let plain_id = client
        .create_container(&cleanup.spec("plain"))
        .await
        .unwrap();
    let plain = client.inspect_container(&plain_id).await.unwrap();
    assert!(plain.mounts.is_empty(), "{plain:?}");
    assert_eq!((plain.memory_bytes, plain.nano_cpus), (None, None));
    assert_eq!(plain.restart, RestartPolicy::No);
    assert_eq!(plain.stop_timeout, None);
    let _ = std::fs::remove_dir_all(&host_dir);
}

#[tokio::test]
async fn creating_a_taken_name_is_a_name_conflict() {
    let client = engine().await;
    require_image(&client, APP_V1).await;
    let cleanup = Cleanup::new(&run_id());
    let spec = cleanup.spec("twice");
    client.create_container(&spec).await.unwrap();
    match client.create_container(&spec).await {
        Err(DockerError::NameConflict { name }) => assert_eq!(name, spec.name),
        other => panic!("expected NameConflict, got {other:?}"),
    }
}

#[tokio::test]
async fn creating_from_a_missing_image_is_not_found() {
    let client = engine().await;
    let cleanup = Cleanup::new(&run_id());
    let mut spec = cleanup.spec("no-image");
    spec.image = format!("dw-testbed/absent:{}", cleanup.run);
    let result = client.create_container(&spec).await;
    assert!(
        matches!(result, Err(DockerError::NotFound { ref what }) if what.contains(&spec.image)),
        "{result:?}"
    );
}

#[tokio::test]
async fn list_containers_finds_exactly_this_runs_containers() {
    let client = engine().await;
    require_image(&client, APP_V1).await;
    let run = run_id();
    let cleanup = Cleanup::new(&run);
    let mut blue = cleanup.spec("blue");
    blue.labels.insert("dw.colour".into(), "blue".into());
    let mut green = cleanup.spec("green");
    green.labels.insert("dw.colour".into(), "green".into());
    client.create_container(&blue).await.unwrap();
    let green_id = client.create_container(&green).await.unwrap();
    client.start_container(&green_id).await.unwrap();

    let mut names: Vec<String> = client
        .list_containers(&[(RUN_LABEL, Some(&run))])
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    assert_eq!(names, [blue.name.clone(), green.name.clone()]);

    let only_green = client
        .list_containers(&[(RUN_LABEL, Some(&run)), ("dw.colour", Some("green"))])
        .await
        .unwrap();
    assert_eq!(only_green.len(), 1);
    let summary = &only_green[0];
    assert_eq!(summary.id, green_id);
    assert_eq!(summary.name, green.name);
    assert_eq!(summary.image, APP_V1);
    assert_eq!(summary.state, "running");
    assert_eq!(summary.labels.get(RUN_LABEL), Some(&run));

    // A key without a value matches any value of it.
    let any_colour = client
        .list_containers(&[(RUN_LABEL, Some(&run)), ("dw.colour", None)])
        .await
        .unwrap();
    assert_eq!(any_colour.len(), 2);
}

#[tokio::test]
async fn a_failing_command_reports_its_exit_code_and_logs() {
    let client = engine().await;
    require_image(&client, APP_V1).await;
    let cleanup = Cleanup::new(&run_id());
    let mut spec = cleanup.spec("exits");
    spec.cmd = Some(vec![
        "sh".into(),
        "-c".into(),
        "echo starting up; echo config missing >&2; exit 3".into(),
    ]);
    let id = client.create_container(&spec).await.unwrap();
    client.start_container(&id).await.unwrap();

    let state = wait_until_stopped(&client, &spec.name).await;
    assert!(!state.running);
    assert_eq!(state.status, "exited");
    assert_eq!(state.exit_code, Some(3));

    let logs = client.container_logs_tail(&id, 10).await.unwrap();
    assert!(logs.iter().any(|l| l == "starting up"), "{logs:?}");
    assert!(logs.iter().any(|l| l == "config missing"), "{logs:?}");
    let last = client.container_logs_tail(&id, 1).await.unwrap();
    assert_eq!(last.len(), 1, "{last:?}");
}

#[tokio::test]
async fn an_unreachable_engine_is_reported_quickly() {
    let client = DockerClient::new(Some("unix:///nonexistent.sock")).unwrap();
    let started = Instant::now();
    let result = client.ping().await;
    assert!(started.elapsed() < Duration::from_secs(15));
    match result {
        Err(err @ DockerError::Unreachable { .. }) => {
            let text = err.to_string();
            assert!(
                text.contains("unix:///nonexistent.sock") && text.contains("cannot be reached"),
                "{text}"
            );
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    // Every other call goes through the same handshake.
    assert!(matches!(
        client.list_containers(&[]).await,
        Err(DockerError::Unreachable { .. })
    ));
}
