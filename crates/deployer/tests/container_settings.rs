//! Container settings end to end, on the real engine: what a project and its stage configure
//! (volumes, memory and CPU limits, restart policy, stop signal and timeout) is what the
//! deployed container has, the deploy records it (secret variables by name only), data in a named
//! volume outlives the version that wrote it, and a replaced instance is stopped with its own
//! recorded timeout.
//!
//! Needs `cargo xtask testbed`. The test image is busybox's `httpd` as PID 1, which ignores
//! SIGTERM and SIGINT: a stop always lasts the whole timeout, which makes the timeout visible.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use docker_client::RestartPolicy;
use store::{ContainerSettings, Deploy, Instance};

use support::{Bed, SECRET_ENV_VALUE, docker, run_id, stage};

/// A named volume and a host folder for one test, removed when it ends (declare it before the
/// bed, so the bed's containers are gone first).
struct Mounts {
    volume: String,
    host_dir: PathBuf,
}

impl Mounts {
    fn new() -> Mounts {
        let run = run_id();
        let host_dir = std::env::temp_dir().join(format!("dw-settings-{run}"));
        std::fs::create_dir_all(&host_dir).expect("a host folder to mount");
        std::fs::write(host_dir.join("greeting"), "from the host").expect("a file to mount");
        Mounts {
            volume: format!("dw-settings-{run}-data"),
            host_dir,
        }
    }

    fn host_path(&self) -> String {
        self.host_dir.to_str().expect("a UTF-8 path").to_owned()
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["volume", "rm", "-f", &self.volume])
            .output();
        let _ = std::fs::remove_dir_all(&self.host_dir);
    }
}

/// `docker exec <container> sh -c <script>`, trimmed stdout.
fn exec(instance: &Instance, script: &str) -> String {
    docker(&["exec", &instance.container_id, "sh", "-c", script])
        .trim()
        .to_owned()
}

/// Milliseconds between the first log lines of `deploy` starting with `from` and with `to`.
fn millis_between(bed: &Bed, deploy: &Deploy, from: &str, to: &str) -> i64 {
    let log = bed.log(deploy.id);
    let at = |start: &str| {
        log.iter()
            .find(|line| line.message.starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?} in\n{}", bed.log_text(deploy.id)))
            .at
    };
    at(to) - at(from)
}

#[test]
fn a_deploy_applies_and_records_volumes_limits_restart_and_stop_settings() {
    let mounts = Mounts::new();
    let project_volumes = vec![
        format!("{}:/data", mounts.volume),
        // Replaced by the stage's mount of the same path.
        "/nonexistent-project-config:/config".to_owned(),
    ];
    let mut dev = stage("dev", "*");
    dev.volumes = vec![format!("{}:/config:ro", mounts.host_path())];
    let bed = Bed::with_project(vec![dev], &|project| {
        project.volumes = store::NewProject::volumes_json(&project_volumes);
        project.memory_bytes = Some(64 << 20);
        project.nano_cpus = Some(500_000_000);
        project.restart_policy = "on-failure:4".into();
        project.stop_signal = Some("SIGINT".into());
        project.stop_timeout_ms = 3_000;
    });

    let first = bed.deploy_ok("v1");
    let v1 = bed.assert_serving("v1");

    // The container has what the project and stage configured.
    let state = bed
        .block_on(bed.engine.inspect_container(&v1.container_id))
        .expect("the instance's container exists");
    let mut container_mounts = state.mounts.clone();
    container_mounts.sort_by(|a, b| a.target.cmp(&b.target));
    let shape: Vec<(&str, Option<&str>, &str, bool)> = container_mounts
        .iter()
        .map(|m| {
            (
                m.kind.as_str(),
                m.name.as_deref(),
                m.target.as_str(),
                m.read_only,
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("bind", None, "/config", true),
            ("volume", Some(mounts.volume.as_str()), "/data", false),
        ],
        "{container_mounts:#?}"
    );
    assert_eq!(container_mounts[0].source, mounts.host_path());
    assert_eq!(state.memory_bytes, Some(64 << 20));
    assert_eq!(state.nano_cpus, Some(500_000_000));
    assert_eq!(
        state.restart,
        RestartPolicy::OnFailure {
            max_retries: Some(4)
        },
        "given once the container was healthy"
    );
    assert_eq!(state.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(state.stop_timeout, Some(Duration::from_secs(3)));
    // The mounts work: the stage's host folder is there read-only, the volume takes writes.
    assert_eq!(exec(&v1, "cat /config/greeting"), "from the host");
    assert_eq!(
        exec(
            &v1,
            "touch /config/x 2>/dev/null && echo writable || echo read-only"
        ),
        "read-only"
    );
    exec(&v1, "echo written-by-v1 > /data/kept");

    // The deploy recorded exactly that, secret variables by name.
    let digest = first.digest.clone().expect("the deploy has a digest");
    let expected = ContainerSettings {
        image: format!("{}@{digest}", bed.repo),
        port: 8080,
        network: bed.network.clone(),
        env: BTreeMap::from([("PLAIN_SETTING".to_owned(), "plain-value".to_owned())]),
        secret_env: vec!["APP_SECRET".to_owned()],
        volumes: vec![
            format!("{}:/data", mounts.volume),
            format!("{}:/config:ro", mounts.host_path()),
        ],
        memory_bytes: Some(64 << 20),
        nano_cpus: Some(500_000_000),
        restart: "on-failure:4".to_owned(),
        stop_signal: Some("SIGINT".to_owned()),
        stop_timeout_secs: 3,
    };
    assert_eq!(first.recorded_settings(), Some(expected.clone()));
    let raw = first.container_settings.clone().unwrap_or_default();
    assert!(
        !raw.contains(SECRET_ENV_VALUE),
        "a secret value is recorded: {raw}"
    );
    // What the API shows (`GET /api/deploys/{id}` serialises these settings) reads back the same.
    let shown = serde_json::to_value(&expected).expect("the settings serialise");
    assert_eq!(shown["secret_env"], serde_json::json!(["APP_SECRET"]));
    assert_eq!(shown["image"], serde_json::json!(expected.image));
    let read_back: ContainerSettings =
        serde_json::from_value(shown.clone()).expect("the shown settings read back");
    assert_eq!(read_back, expected);
    assert!(!shown.to_string().contains(SECRET_ENV_VALUE));

    // The deploy log sums it up, without the secret's value.
    let log = bed.log_text(first.id);
    let summary = bed
        .log(first.id)
        .into_iter()
        .find(|line| line.message.starts_with("container settings: "))
        .unwrap_or_else(|| panic!("no settings line in\n{log}"))
        .message;
    for part in [
        "64 MiB",
        "cpus 0.5",
        "restart on-failure:4 once healthy",
        "SIGINT",
        "3s",
        "APP_SECRET",
        &mounts.volume,
    ] {
        assert!(summary.contains(part), "{part:?} missing in {summary:?}");
    }
    assert!(
        !log.contains(SECRET_ENV_VALUE),
        "the log shows a secret:\n{log}"
    );

    // v2 finds what v1 wrote in the named volume, and v1 was given its own 3 s to stop (the
    // deployer's fallback in this bed is 1 s).
    let second = bed.deploy_ok("v2");
    let v2 = bed.assert_serving("v2");
    assert_eq!(exec(&v2, "cat /data/kept"), "written-by-v1");
    let stopping = format!(
        "stopping {} (tag v1), allowing it 3s to exit",
        v1.container_name
    );
    let log = bed.log_text(second.id);
    assert!(log.contains(&stopping), "{stopping:?} missing in\n{log}");
    let took = millis_between(
        &bed,
        &second,
        &stopping,
        &format!("replaced {}", v1.container_name),
    );
    assert!(
        took >= 2_500,
        "v1 (which ignores SIGINT) was stopped after {took}ms, not its own 3s"
    );
    assert!(
        !log.contains(SECRET_ENV_VALUE),
        "the log shows a secret:\n{log}"
    );
    let recorded = bed
        .deploy_row(second.id)
        .recorded_settings()
        .expect("v2's settings are recorded");
    assert_eq!(
        recorded.image,
        format!("{}@{}", bed.repo, second.digest.unwrap_or_default())
    );
    assert_eq!(recorded.volumes, expected.volumes);
}

#[test]
fn by_default_a_container_restarts_unless_stopped_and_keeps_the_images_stop_signal() {
    let bed = Bed::new(vec![stage("dev", "*")]);
    let deploy = bed.deploy_ok("v1");
    let instance = bed.assert_serving("v1");
    let state = bed
        .block_on(bed.engine.inspect_container(&instance.container_id))
        .expect("the instance's container exists");
    assert_eq!(state.restart, RestartPolicy::UnlessStopped);
    assert!(state.mounts.is_empty(), "{:#?}", state.mounts);
    assert_eq!((state.memory_bytes, state.nano_cpus), (None, None));
    assert_eq!(state.stop_signal, None, "the test image sets no STOPSIGNAL");
    let recorded = deploy
        .recorded_settings()
        .expect("the settings are recorded");
    assert_eq!(recorded.restart, "unless-stopped");
    assert_eq!(recorded.stop_signal, None);
    assert!(recorded.volumes.is_empty());
    assert_eq!((recorded.memory_bytes, recorded.nano_cpus), (None, None));
    assert_eq!(recorded.secret_env, ["APP_SECRET"]);
}
