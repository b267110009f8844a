//! What a deploy gives its container besides its name, labels and network: environment, volume
//! mounts (the project's, with the stage's added or replacing them by path), resource limits,
//! restart policy, stop signal and stop timeout. Built from the project and stage as they are
//! when the deploy runs, recorded on the deploy before the container is created
//! ([`store::ContainerSettings`], secret variables by name only), and read back to stop the
//! container the way it asked.

use std::time::Duration;

use docker_client::{RestartPolicy, VolumeMount};
use store::{ContainerSettings, Instance, Project, Stage, Store};

use crate::error::Failure;

/// The container settings of one deploy: what goes into the container spec and its record.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub volumes: Vec<VolumeMount>,
    pub memory_bytes: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Duration,
    /// What is recorded on the deploy.
    pub record: ContainerSettings,
}

/// What the image reference, port, network and environment (`env`: the plain variables, then
/// the opened secret ones) add to the project's and stage's settings.
pub(crate) struct Given<'a> {
    pub image: &'a str,
    pub port: u16,
    pub network: &'a str,
    pub env: &'a [(String, String)],
}

/// The settings for a container of `project` in `stage`. The configuration was checked when it
/// was stored, so a value that does not read now means a damaged row: the deploy fails saying so.
pub(crate) fn plan(project: &Project, stage: &Stage, given: &Given<'_>) -> Result<Plan, Failure> {
    let damaged = |what: &str, error: String| {
        Failure::new(format!(
            "project {}: the stored {what} cannot be used: {error}",
            project.name
        ))
    };
    let parse_all = |list: Vec<String>, what: &str| -> Result<Vec<VolumeMount>, Failure> {
        list.iter()
            .map(|text| VolumeMount::parse(text).map_err(|error| damaged(what, error)))
            .collect()
    };
    let volumes = merge_volumes(
        parse_all(project.volume_list(), "volumes")?,
        parse_all(stage.volume_list(), "stage volumes")?,
    );
    let restart = RestartPolicy::parse(&project.restart_policy)
        .map_err(|error| damaged("restart policy", error))?;
    let stop_timeout_secs = u64::try_from(project.stop_timeout_ms)
        .map_err(|_| damaged("stop timeout", format!("{}ms", project.stop_timeout_ms)))?
        .div_ceil(1000);
    let plain = project.env_vars();
    let secret_env = given
        .env
        .iter()
        .filter(|(name, _)| !plain.contains_key(name))
        .map(|(name, _)| name.clone())
        .collect();
    let record = ContainerSettings {
        image: given.image.to_string(),
        port: given.port,
        network: given.network.to_string(),
        env: plain,
        secret_env,
        volumes: volumes.iter().map(VolumeMount::to_string).collect(),
        memory_bytes: project.memory_bytes,
        nano_cpus: project.nano_cpus,
        restart: restart.to_string(),
        stop_signal: project.stop_signal.clone(),
        stop_timeout_secs,
    };
    Ok(Plan {
        volumes,
        memory_bytes: project.memory_bytes,
        nano_cpus: project.nano_cpus,
        stop_signal: project.stop_signal.clone(),
        stop_timeout: Duration::from_secs(stop_timeout_secs),
        record,
    })
}

/// The settings an earlier deploy recorded, for a rollback that must give its container the same
/// environment, mounts, limits and stop behaviour, whatever the project says today. `opened` is
/// the project's environment with secrets opened: the recorded plain variables replace its plain
/// ones, and of its secrets only those the record names are kept. Returns the plan and the
/// environment to give the container.
pub(crate) fn replay(
    record: &ContainerSettings,
    opened: &[(String, String)],
) -> Result<(Plan, Vec<(String, String)>), Failure> {
    let damaged = |what: &str, error: String| {
        Failure::new(format!("the recorded {what} cannot be used: {error}"))
    };
    let volumes = record
        .volumes
        .iter()
        .map(|text| VolumeMount::parse(text).map_err(|error| damaged("volumes", error)))
        .collect::<Result<Vec<_>, _>>()?;
    RestartPolicy::parse(&record.restart).map_err(|error| damaged("restart policy", error))?;
    let mut env: Vec<(String, String)> = record
        .env
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    env.extend(
        opened
            .iter()
            .filter(|(name, _)| record.secret_env.contains(name))
            .cloned(),
    );
    let plan = Plan {
        volumes,
        memory_bytes: record.memory_bytes,
        nano_cpus: record.nano_cpus,
        stop_signal: record.stop_signal.clone(),
        stop_timeout: Duration::from_secs(record.stop_timeout_secs),
        record: record.clone(),
    };
    Ok((plan, env))
}

/// The project's mounts with the stage's: a stage mount at a path the project also mounts
/// replaces it in place; the others follow in order.
pub(crate) fn merge_volumes(
    project: Vec<VolumeMount>,
    stage: Vec<VolumeMount>,
) -> Vec<VolumeMount> {
    let mut merged = project;
    for mount in stage {
        match merged.iter_mut().find(|known| known.target == mount.target) {
            Some(known) => *known = mount,
            None => merged.push(mount),
        }
    }
    merged
}

/// One deploy-log line saying what the container gets, with variable names but never a value.
pub(crate) fn summary(record: &ContainerSettings) -> String {
    let list = |items: &[String]| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
    let plain: Vec<String> = record.env.keys().cloned().collect();
    let memory = record
        .memory_bytes
        .map_or_else(|| "unlimited".to_string(), memory_text);
    let cpus = record.nano_cpus.map_or_else(
        || "unlimited".to_string(),
        |nanos| format!("{}", nanos as f64 / 1e9),
    );
    let signal = record
        .stop_signal
        .clone()
        .unwrap_or_else(|| "the image's".to_string());
    format!(
        "container settings: volumes {}; memory {memory}, cpus {cpus}; restart {} once healthy; stop with {signal} signal, killed after {}s; env {}; secret env {}",
        list(&record.volumes),
        record.restart,
        record.stop_timeout_secs,
        list(&plain),
        list(&record.secret_env),
    )
}

/// Bytes in the largest binary unit that writes them exactly.
fn memory_text(bytes: i64) -> String {
    for (unit, factor) in [("GiB", 1i64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes % factor == 0 {
            return format!("{} {unit}", bytes / factor);
        }
    }
    format!("{bytes} bytes")
}

/// How long to let `instance` stop before it is killed: what its own deploy recorded, else
/// `fallback` (instances deployed before settings were recorded).
pub(crate) fn stop_timeout_of(store: &Store, instance: &Instance, fallback: Duration) -> Duration {
    let recorded = store
        .deploy(instance.deploy_id)
        .map_err(|error| {
            log::warn!(
                "instance {}: its deploy cannot be read for its stop timeout: {error}",
                instance.id
            );
        })
        .ok()
        .and_then(|deploy| deploy.recorded_settings());
    recorded_stop_timeout(recorded.as_ref(), fallback)
}

fn recorded_stop_timeout(recorded: Option<&ContainerSettings>, fallback: Duration) -> Duration {
    recorded.map_or(fallback, |settings| {
        Duration::from_secs(settings.stop_timeout_secs)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn mount(text: &str) -> VolumeMount {
        VolumeMount::parse(text).unwrap()
    }

    fn project() -> Project {
        Project {
            id: 1,
            name: "shop".into(),
            image: "r.test/acme/shop".into(),
            registry_id: None,
            port: Some(8080),
            health_path: "/".into(),
            health_interval_ms: 1000,
            health_timeout_ms: 2000,
            health_retries: 3,
            health_start_period_ms: 0,
            env: r#"{"LOG_LEVEL":"info"}"#.into(),
            created_at: 0,
            volumes: r#"["shop-data:/data","/srv/shop:/srv:ro"]"#.into(),
            memory_bytes: Some(256 << 20),
            nano_cpus: Some(500_000_000),
            restart_policy: "on-failure:3".into(),
            stop_timeout_ms: 30_000,
            stop_signal: Some("SIGINT".into()),
            health_kind: "http".into(),
            health_status: "200-399".into(),
        }
    }

    fn stage(volumes: &str) -> Stage {
        Stage {
            id: 2,
            project_id: 1,
            name: "dev".into(),
            tag_pattern: Some("*".into()),
            tag_regex: None,
            tag_semver: None,
            include_prerelease: false,
            auto_deploy: true,
            max_instances: 1,
            promote_from: None,
            subdomain: None,
            watch_digest: false,
            created_at: 0,
            poll: false,
            volumes: volumes.into(),
            keep_images: 3,
            expire_after_ms: None,
        }
    }

    #[test]
    fn stage_volumes_replace_the_projects_by_path_and_add_the_rest() {
        let merged = merge_volumes(
            vec![mount("shop-data:/data"), mount("/srv/shop:/srv:ro")],
            vec![mount("/srv/dev:/srv"), mount("dev-cache:/cache:ro")],
        );
        let texts: Vec<String> = merged.iter().map(VolumeMount::to_string).collect();
        assert_eq!(
            texts,
            ["shop-data:/data", "/srv/dev:/srv", "dev-cache:/cache:ro"]
        );
        assert_eq!(
            merge_volumes(vec![mount("a-vol:/a")], Vec::new()),
            [mount("a-vol:/a")]
        );
        assert_eq!(
            merge_volumes(Vec::new(), vec![mount("b-vol:/b/")]),
            [mount("b-vol:/b")]
        );
    }

    #[test]
    fn the_plan_records_what_the_container_gets_and_secret_names_only() {
        let env = vec![
            ("LOG_LEVEL".to_string(), "info".to_string()),
            (
                "DATABASE_URL".to_string(),
                "postgres://u:hunter2@db".to_string(),
            ),
        ];
        let given = Given {
            image: "r.test/acme/shop@sha256:abcd",
            port: 8080,
            network: "dw",
            env: &env,
        };
        let plan = plan(&project(), &stage(r#"["/srv/dev:/srv"]"#), &given).unwrap();
        assert_eq!(plan.stop_timeout, Duration::from_secs(30));
        assert_eq!(plan.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(
            plan.volumes,
            [mount("shop-data:/data"), mount("/srv/dev:/srv")]
        );
        assert_eq!(
            plan.record,
            ContainerSettings {
                image: "r.test/acme/shop@sha256:abcd".into(),
                port: 8080,
                network: "dw".into(),
                env: BTreeMap::from([("LOG_LEVEL".to_string(), "info".to_string())]),
                secret_env: vec!["DATABASE_URL".into()],
                volumes: vec!["shop-data:/data".into(), "/srv/dev:/srv".into()],
                memory_bytes: Some(256 << 20),
                nano_cpus: Some(500_000_000),
                restart: "on-failure:3".into(),
                stop_signal: Some("SIGINT".into()),
                stop_timeout_secs: 30,
            }
        );
        let json = plan.record.to_json();
        let line = summary(&plan.record);
        for shown in [&json, &line] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("DATABASE_URL"), "{shown}");
        }
        assert_eq!(
            line,
            "container settings: volumes shop-data:/data, /srv/dev:/srv; memory 256 MiB, cpus 0.5; restart on-failure:3 once healthy; stop with SIGINT signal, killed after 30s; env LOG_LEVEL; secret env DATABASE_URL"
        );
    }

    #[test]
    fn a_damaged_row_fails_the_plan_naming_the_value() {
        let mut broken = project();
        broken.restart_policy = "sometimes".into();
        let given = Given {
            image: "i",
            port: 1,
            network: "n",
            env: &[],
        };
        let error = plan(&broken, &stage("[]"), &given).unwrap_err();
        assert!(error.0.contains("restart policy"), "{}", error.0);
        let error = plan(&project(), &stage(r#"["nope"]"#), &given).unwrap_err();
        assert!(error.0.contains("stage volumes"), "{}", error.0);
    }

    #[test]
    fn a_plain_project_summary_says_unlimited_and_the_images_signal() {
        let record = ContainerSettings {
            image: "i".into(),
            port: 80,
            network: "n".into(),
            env: BTreeMap::new(),
            secret_env: Vec::new(),
            volumes: Vec::new(),
            memory_bytes: None,
            nano_cpus: None,
            restart: "unless-stopped".into(),
            stop_signal: None,
            stop_timeout_secs: 10,
        };
        assert_eq!(
            summary(&record),
            "container settings: volumes none; memory unlimited, cpus unlimited; restart unless-stopped once healthy; stop with the image's signal, killed after 10s; env none; secret env none"
        );
    }

    #[test]
    fn an_instance_stops_with_its_own_recorded_timeout_else_the_fallback() {
        let fallback = Duration::from_secs(10);
        let mut record = plan(
            &project(),
            &stage("[]"),
            &Given {
                image: "i",
                port: 1,
                network: "n",
                env: &[],
            },
        )
        .unwrap()
        .record;
        record.stop_timeout_secs = 2;
        assert_eq!(
            recorded_stop_timeout(Some(&record), fallback),
            Duration::from_secs(2)
        );
        record.stop_timeout_secs = 0;
        assert_eq!(
            recorded_stop_timeout(Some(&record), fallback),
            Duration::ZERO
        );
        assert_eq!(recorded_stop_timeout(None, fallback), fallback);
    }
}
