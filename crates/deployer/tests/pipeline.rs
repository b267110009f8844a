//! The deployer end to end: a real database, the real Docker engine and the testbed registry.
//!
//! Needs `cargo xtask testbed` (the engine, the registry and the `dw-testbed/app` images:
//! v1 and v2 serve `/version` and `/healthz`, `unhealthy` has no `/healthz`, `crashing` exits
//! with code 3 right after it starts). Each test pushes to its own repository, deploys into its
//! own network and removes what it made when it ends.

mod support;

use std::time::Duration;

use deployer::{PushOutcome, labels};
use docker_client::{ContainerSpec, DockerClient, DockerError};
use events::{Event, EventBody};
use poller::{FoundTag, FoundWhy, ImageReference, PollTarget};
use store::{
    Decision, DeployStatus, InstanceStatus, NewDeploy, NewInstance, NewRegistry, NewStage,
    PlainSecret, SecretInput, SecretPlace, Trigger,
};

use support::{Bed, HEALTH_RETRIES, drain, stage};

fn dev_only() -> Vec<NewStage> {
    vec![stage("dev", "*")]
}

#[test]
fn a_healthy_image_is_deployed_labelled_logged_and_announced() {
    let bed = Bed::new(dev_only());
    let subscription = bed.hub.subscribe(None);
    let deploy = bed.deploy_ok("v1");
    let log = bed.log(deploy.id);

    let digest = deploy.digest.clone().unwrap_or_default();
    assert!(digest.starts_with("sha256:"), "digest {digest:?}");
    assert!(deploy.started_at.is_some() && deploy.finished_at.is_some());
    assert_eq!(deploy.reason, None);

    // One running instance, reachable at its address and serving the tag.
    let instance = bed.assert_serving("v1");
    assert_eq!(instance.deploy_id, deploy.id);
    assert_eq!(instance.digest.as_deref(), Some(digest.as_str()));
    let address = instance.address.clone().unwrap_or_default();
    let host = address
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix(":8080"))
        .unwrap_or_else(|| panic!("address {address:?} is not http://IP:8080"));
    assert!(
        host.parse::<std::net::Ipv4Addr>().is_ok(),
        "address {address:?} is not http://IP:8080"
    );

    // The container: its name and the four labels.
    let state = bed
        .block_on(bed.engine.inspect_container(&instance.container_id))
        .expect("the instance's container exists");
    let expected_name = format!("dw-{}-dev-v1-{}", bed.project, deploy.short_id);
    assert_eq!(state.name, expected_name);
    assert_eq!(instance.container_name, expected_name);
    let label = |key: &str| state.labels.get(key).cloned().unwrap_or_default();
    assert_eq!(label(labels::PROJECT), bed.project);
    assert_eq!(label(labels::STAGE), "dev");
    assert_eq!(label(labels::INSTANCE), instance.id.to_string());
    assert_eq!(label(labels::DEPLOY), deploy.id.to_string());
    assert_eq!(state.ip_addresses.get(&bed.network), Some(&host.to_owned()));

    // The container gets the plain variables and the secret one, opened for it.
    let env = support::docker(&[
        "inspect",
        "-f",
        "{{json .Config.Env}}",
        &instance.container_id,
    ]);
    assert!(env.contains("PLAIN_SETTING=plain-value"), "{env}");
    assert!(
        env.contains(&format!("APP_SECRET={}", support::SECRET_ENV_VALUE)),
        "{env}"
    );
    // ...and the value appears nowhere in what the deploy recorded.
    assert!(
        !bed.log_text(deploy.id).contains(support::SECRET_ENV_VALUE),
        "the deploy log shows a secret"
    );

    // The stored log is numbered 1..n without gaps.
    let seqs: Vec<i64> = log.iter().map(|line| line.seq).collect();
    let expected: Vec<i64> = (1..=log.len() as i64).collect();
    assert_eq!(seqs, expected);
    assert!(log.len() > 3, "{}", bed.log_text(deploy.id));

    // The hub delivered the same lines, the deploy's statuses and the instance's.
    let events = drain(&subscription);
    let mut live_lines = Vec::new();
    let mut statuses = Vec::new();
    let mut instance_statuses = Vec::new();
    for event in events {
        match event.body {
            EventBody::DeployLog {
                deploy_id,
                seq,
                at_ms,
                message,
            } if deploy_id == deploy.id => live_lines.push((seq, at_ms, message)),
            EventBody::DeployStatus {
                deploy_id,
                status,
                reason,
                ref project,
                ref stage,
                ref tag,
            } if deploy_id == deploy.id => {
                assert_eq!(
                    (project, stage, tag),
                    (&bed.project, &"dev".into(), &"v1".into())
                );
                statuses.push((status, reason));
            }
            EventBody::InstanceStatus {
                instance_id,
                status,
                address,
                container_name,
                ..
            } if instance_id == instance.id => {
                assert_eq!(container_name, expected_name);
                instance_statuses.push((status, address));
            }
            _ => {}
        }
    }
    let stored_lines: Vec<(i64, i64, String)> = log
        .iter()
        .map(|line| (line.seq, line.at, line.message.clone()))
        .collect();
    assert_eq!(live_lines, stored_lines);
    assert_eq!(
        statuses,
        [("running".to_owned(), None), ("succeeded".to_owned(), None)]
    );
    assert_eq!(
        instance_statuses,
        [("running".to_owned(), Some(address.clone()))]
    );
}

#[test]
fn a_new_version_replaces_the_running_one() {
    let bed = Bed::new(dev_only());
    let first = bed.deploy_ok("v1");
    let old = bed.assert_serving("v1");
    let second = bed.deploy_ok("v2");

    let new = bed.assert_serving("v2");
    assert_eq!(new.deploy_id, second.id);
    assert_ne!(new.id, old.id);

    let old_row = bed
        .store
        .instances_with_status(InstanceStatus::Removed)
        .expect("instances list")
        .into_iter()
        .find(|instance| instance.id == old.id)
        .unwrap_or_else(|| {
            panic!(
                "v1's instance is not removed; log:\n{}",
                bed.log_text(second.id)
            )
        });
    assert_eq!(old_row.deploy_id, first.id);
    assert!(bed.containers_of_deploy(first.id).is_empty());
    match bed.block_on(bed.engine.inspect_container(&old.container_id)) {
        Err(DockerError::NotFound { .. }) => {}
        other => panic!("v1's container should be gone: {other:?}"),
    }
    assert_eq!(bed.containers(&[]).len(), 1);
}

#[test]
fn an_image_that_never_becomes_healthy_is_removed_and_the_old_one_keeps_serving() {
    let bed = Bed::new(dev_only());
    bed.deploy_ok("v1");
    let failed = bed.deploy("unhealthy");
    let reason = failed.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("healthy") && reason.contains("/healthz"),
        "reason {reason:?}"
    );
    let log = bed.log_text(failed.id);
    assert!(
        log.contains(&format!("failure {HEALTH_RETRIES} of {HEALTH_RETRIES}")),
        "{log}"
    );
    bed.assert_failed_cleanly(&failed, "v1");
}

#[test]
fn a_container_that_exits_fails_the_deploy_at_once_with_its_last_words() {
    let bed = Bed::new(dev_only());
    bed.deploy_ok("v1");
    let failed = bed.deploy("crashing");
    let log = bed.log_text(failed.id);
    let reason = failed.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("exited with code 3"),
        "reason {reason:?}; log:\n{log}"
    );
    assert!(log.contains("permission denied"), "{log}");
    // The exit is noticed, not waited out: the health check never ran out of retries.
    assert!(
        !log.contains(&format!("failure {HEALTH_RETRIES} of {HEALTH_RETRIES}")),
        "{log}"
    );
    bed.assert_failed_cleanly(&failed, "v1");
}

#[test]
fn a_tag_missing_from_the_registry_fails_naming_the_image() {
    let bed = Bed::new(dev_only());
    let tag = format!("missing-{}", bed.run);
    let queued = bed.announce_one(&tag);
    bed.wait_idle();
    let failed = bed.deploy_row(queued.deploy_id);
    assert_eq!(failed.status, DeployStatus::Failed);
    let reason = failed.reason.clone().unwrap_or_default();
    assert!(
        reason.contains(&bed.reference(&tag)) && reason.to_lowercase().contains("pull"),
        "reason {reason:?}"
    );
    assert!(bed.containers(&[]).is_empty());
    assert!(bed.live_instances().is_empty());
}

#[test]
fn an_unreachable_engine_fails_the_deploy_and_says_so() {
    let docker = DockerClient::new(Some("unix:///nonexistent/docker.sock")).expect("a valid host");
    let bed = Bed::with_docker(dev_only(), docker);
    let queued = bed.announce_one("v1");
    bed.wait_idle();
    let failed = bed.deploy_row(queued.deploy_id);
    assert_eq!(failed.status, DeployStatus::Failed);
    let reason = failed.reason.clone().unwrap_or_default();
    assert!(reason.contains("Docker engine"), "reason {reason:?}");
    assert!(!reason.contains("internal error"), "reason {reason:?}");
    assert!(failed.finished_at.is_some());
    assert!(bed.live_instances().is_empty());
}

#[test]
fn deploys_of_one_stage_run_one_at_a_time_in_order() {
    let bed = Bed::new(dev_only());
    for tag in ["v1", "v2"] {
        bed.push(tag);
    }
    // Each request arrives while the one before runs, so none is superseded by a newer one.
    let mut ids = Vec::new();
    for tag in ["v1", "v2", "v1"] {
        let id = bed.announce_one(tag).deploy_id;
        let deadline = std::time::Instant::now() + support::DEPLOY_TIMEOUT;
        while bed.deploy_row(id).status == DeployStatus::Queued {
            assert!(
                std::time::Instant::now() < deadline,
                "deploy {id} never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        ids.push(id);
    }
    bed.wait_idle();
    let deploys: Vec<store::Deploy> = ids.iter().map(|&id| bed.deploy_row(id)).collect();
    for deploy in &deploys {
        assert_eq!(
            deploy.status,
            DeployStatus::Succeeded,
            "{:?}; log:\n{}",
            deploy.reason,
            bed.log_text(deploy.id)
        );
    }
    for pair in deploys.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        assert!(
            after.started_at >= before.finished_at,
            "deploy {} started at {:?}, before deploy {} finished at {:?}",
            after.id,
            after.started_at,
            before.id,
            before.finished_at
        );
    }
    let last = bed.assert_serving("v1");
    assert_eq!(last.deploy_id, ids[2]);
    assert_eq!(bed.containers(&[]).len(), 1);
}

#[test]
fn the_deploys_of_different_stages_run_side_by_side() {
    // One push queues a deploy per accepting stage.
    let bed = Bed::new(vec![stage("dev", "*"), stage("qa", "*")]);
    bed.push("v1");
    let queued = match bed.announce("v1") {
        PushOutcome::Recorded(queued) => queued,
        other => panic!("expected two queued deploys, got {other:?}"),
    };
    let mut stages: Vec<&str> = queued.iter().map(|q| q.stage.as_str()).collect();
    stages.sort_unstable();
    assert_eq!(stages, ["dev", "qa"]);
    bed.wait_idle();
    let rows: Vec<store::Deploy> = queued.iter().map(|q| bed.deploy_row(q.deploy_id)).collect();
    for row in &rows {
        assert_eq!(row.status, DeployStatus::Succeeded, "{:?}", row.reason);
    }
    let span = |deploy: &store::Deploy| {
        (
            deploy.started_at.unwrap_or(i64::MAX),
            deploy.finished_at.unwrap_or(i64::MIN),
        )
    };
    let ((a_start, a_end), (b_start, b_end)) = (span(&rows[0]), span(&rows[1]));
    assert!(
        a_start < b_end && b_start < a_end,
        "the stages' deploys did not overlap: {:?} and {:?}",
        span(&rows[0]),
        span(&rows[1])
    );
    assert_eq!(bed.live_instances().len(), 2);
}

#[test]
fn recovery_after_a_restart_interrupts_deploys_and_removes_half_made_containers() {
    let bed = Bed::new(dev_only());
    let project = bed
        .store
        .projects()
        .expect("projects list")
        .into_iter()
        .next()
        .expect("the test project");
    let stage = bed.store.stages_of(project.id).expect("stages")[0].clone();
    let deploy = bed
        .store
        .create_deploy(&NewDeploy {
            project_id: project.id,
            stage_id: stage.id,
            tag: "v1".into(),
            image: bed.reference("v1"),
            trigger: Trigger::Webhook,
            digest: None,
            source_deploy_id: None,
        })
        .expect("a deploy row");
    bed.store
        .start_deploy(deploy.id)
        .expect("the deploy starts");
    let name = deployer::container_name(&project.name, &stage.name, "v1", &deploy.short_id);
    let instance = bed
        .store
        .create_instance(&NewInstance {
            project_id: project.id,
            stage_id: stage.id,
            deploy_id: deploy.id,
            tag: "v1".into(),
            digest: None,
            container_name: name.clone(),
        })
        .expect("an instance row");
    let spec = ContainerSpec {
        name: name.clone(),
        image: format!("{}:v1", support::test_image()),
        labels: [
            (labels::PROJECT.to_owned(), project.name.clone()),
            (labels::STAGE.to_owned(), stage.name.clone()),
            (labels::INSTANCE.to_owned(), instance.id.to_string()),
            (labels::DEPLOY.to_owned(), deploy.id.to_string()),
        ]
        .into(),
        ..Default::default()
    };
    let container = bed
        .block_on(bed.engine.create_container(&spec))
        .expect("the half-made container is created");
    bed.store
        .attach_container(instance.id, &container)
        .expect("the container is recorded");
    bed.block_on(bed.engine.start_container(&container))
        .expect("the half-made container starts");

    let interrupted = bed.deployer.reconcile().expect("recovery runs").interrupted;
    assert_eq!(interrupted, 1);

    let deploy = bed.deploy_row(deploy.id);
    assert_eq!(deploy.status, DeployStatus::Interrupted);
    assert!(deploy.reason.is_some() && deploy.finished_at.is_some());
    match bed.block_on(bed.engine.inspect_container(&name)) {
        Err(DockerError::NotFound { .. }) => {}
        other => panic!("the half-made container should be gone: {other:?}"),
    }
    let removed = bed
        .store
        .instances_with_status(InstanceStatus::Removed)
        .expect("instances list");
    assert!(
        removed.iter().any(|row| row.id == instance.id),
        "the instance is not removed: {:#?}",
        bed.store.instances_with_status(InstanceStatus::Starting)
    );
}

#[test]
fn a_stage_without_auto_deploy_deploys_only_what_a_person_approves() {
    let bed = Bed::new(vec![NewStage {
        auto_deploy: false,
        ..stage("prod", "v*")
    }]);
    let events = bed.hub.subscribe(None);
    bed.push("v1");

    let waiting = bed.announce_one("v1");
    assert_eq!(waiting.status, DeployStatus::WaitingApproval);
    // Announced again (a webhook retry, the poller): still the one request.
    assert_eq!(bed.announce_one("v1").deploy_id, waiting.deploy_id);
    let requested: Vec<Event> = support::drain(&events)
        .into_iter()
        .filter(|event| matches!(event.body, EventBody::ApprovalRequested { .. }))
        .collect();
    assert_eq!(requested.len(), 1, "{requested:#?}");
    assert!(bed.deployer.wait_idle(Duration::from_secs(1)));
    assert!(
        bed.containers(&[]).is_empty(),
        "nothing runs before approval"
    );
    assert_eq!(
        bed.deploy_row(waiting.deploy_id).status,
        DeployStatus::WaitingApproval
    );

    let approved = bed
        .deployer
        .decide(waiting.deploy_id, Decision::Approve, "test")
        .expect("the waiting deploy is approved");
    assert_eq!(approved.status, DeployStatus::Queued);
    bed.wait_idle();
    assert_eq!(
        bed.deploy_row(waiting.deploy_id).status,
        DeployStatus::Succeeded,
        "log:\n{}",
        bed.log_text(waiting.deploy_id)
    );
    bed.assert_serving("v1");

    let again = bed
        .deployer
        .decide(waiting.deploy_id, Decision::Reject, "test")
        .expect_err("a decided deploy cannot be decided again");
    assert!(
        again
            .to_string()
            .contains("it must be waiting for approval"),
        "{again}"
    );

    bed.push("v2");
    let declined = bed.announce_one("v2");
    let rejected = bed
        .deployer
        .decide(declined.deploy_id, Decision::Reject, "test")
        .expect("the waiting deploy is rejected");
    assert_eq!(rejected.status, DeployStatus::Rejected);
    assert!(bed.deployer.wait_idle(Duration::from_secs(1)));
    bed.assert_serving("v1");
}

#[test]
fn pushes_nothing_accepts_are_ignored_with_the_reason() {
    let bed = Bed::new(vec![
        stage("rel", "release-*"),
        NewStage {
            auto_deploy: false,
            ..stage("prod", "approved-*")
        },
    ]);
    let ignored = |outcome: PushOutcome| match outcome {
        PushOutcome::Ignored { reason } => reason,
        other => panic!("expected the push to be ignored, got {other:?}"),
    };

    let stranger = format!("{}/deployer-{}/other:v1", support::registry(), bed.run);
    let reason = ignored(bed.announce_image(&stranger));
    assert!(
        reason.contains("no project") && reason.contains(&stranger.replace(":v1", "")),
        "reason {reason:?}"
    );

    let reason = ignored(bed.announce("v1"));
    assert!(
        reason.contains("no stage") && reason.contains("v1") && reason.contains(&bed.project),
        "reason {reason:?}"
    );

    assert!(
        bed.store
            .recent_deploys(100)
            .expect("deploys list")
            .is_empty()
    );
    assert!(bed.deployer.wait_idle(Duration::from_secs(1)));
}

#[test]
fn as_the_pollers_target_the_deployer_opens_credentials_and_deploys_what_is_found() {
    // `dev` is polled; `qa` accepts the same tags but did not ask to be polled.
    let polled = NewStage {
        poll: true,
        ..stage("dev", "*")
    };
    let bed = Bed::new(vec![polled, stage("qa", "*")]);
    let seal = |place: SecretPlace, value: &PlainSecret| bed.secrets.seal(place, value);
    let registry = |name: &str, credentials: Option<(&str, &str)>| {
        bed.store
            .create_registry(
                &NewRegistry {
                    name: name.into(),
                    url: "http://127.0.0.1:5000".into(),
                    username: credentials.map(|(user, _)| user.into()),
                    password: credentials.map(|(_, password)| SecretInput {
                        value: PlainSecret::new(password),
                        env: None,
                    }),
                },
                &seal,
            )
            .expect("the registry is stored")
    };
    let private = registry("private", Some(("ci", "token-for-the-poller")));
    let credentials = bed.deployer.credentials(&private).unwrap().unwrap();
    assert_eq!(credentials.username, "ci");
    assert_eq!(credentials.password, "token-for-the-poller");
    let open = registry("open", None);
    assert_eq!(bed.deployer.credentials(&open).unwrap(), None);

    bed.push("v1");
    let project = bed.store.projects().unwrap().remove(0);
    let stage = bed
        .store
        .stages_of(project.id)
        .unwrap()
        .into_iter()
        .find(|stage| stage.name == "dev")
        .unwrap();
    let said = bed
        .deployer
        .found(&FoundTag {
            project_id: project.id,
            stage_id: stage.id,
            reference: ImageReference::parse(&bed.reference("v1")).unwrap(),
            digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000"
                .into(),
            why: FoundWhy::NewTag,
        })
        .unwrap();
    assert!(
        said.starts_with("queued deploy ") && said.ends_with(" to dev"),
        "{said}"
    );
    bed.wait_idle();
    // Only the polled stage deployed it.
    let deploys = bed.store.recent_deploys(10).unwrap();
    assert_eq!(deploys.len(), 1);
    assert_eq!(deploys[0].stage, "dev");
    assert_eq!(deploys[0].deploy.trigger, Trigger::Poll);
    assert_eq!(deploys[0].deploy.status, DeployStatus::Succeeded);
    bed.assert_serving("v1");
}

#[test]
fn a_poll_find_for_a_gated_stage_waits_for_approval_with_its_digest() {
    let gated = NewStage {
        auto_deploy: false,
        poll: true,
        ..stage("prod", "v*")
    };
    let bed = Bed::new(vec![gated]);
    let events = bed.hub.subscribe(None);
    let project = bed.store.projects().unwrap().remove(0);
    let stage = bed.store.stages_of(project.id).unwrap().remove(0);
    let digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let said = bed
        .deployer
        .found(&FoundTag {
            project_id: project.id,
            stage_id: stage.id,
            reference: ImageReference::parse(&bed.reference("v7")).unwrap(),
            digest: digest.into(),
            why: FoundWhy::NewTag,
        })
        .unwrap();
    assert!(said.ends_with(" to prod waits for approval"), "{said}");

    let deploys = bed.store.recent_deploys(10).unwrap();
    assert_eq!(deploys.len(), 1);
    let waiting = &deploys[0].deploy;
    assert_eq!(waiting.status, DeployStatus::WaitingApproval);
    assert_eq!(waiting.trigger, Trigger::Poll);
    assert_eq!(waiting.digest.as_deref(), Some(digest));
    let requested: Vec<EventBody> = drain(&events)
        .into_iter()
        .map(|event| event.body)
        .filter(|body| matches!(body, EventBody::ApprovalRequested { .. }))
        .collect();
    assert_eq!(
        requested,
        [EventBody::ApprovalRequested {
            deploy_id: waiting.id,
            project: project.name.clone(),
            stage: "prod".into(),
            tag: "v7".into(),
            digest: Some(digest.into()),
            trigger: "poll".into(),
        }]
    );
    assert!(bed.deployer.wait_idle(Duration::from_secs(1)));
    assert!(bed.containers(&[]).is_empty());
}

#[test]
fn requests_that_pile_up_for_a_busy_stage_collapse_to_the_newest() {
    let bed = Bed::new(dev_only());
    bed.push("v1");
    bed.push("v2");
    bed.push("unhealthy");
    // The first keeps the stage busy for seconds (it never becomes healthy); once it runs,
    // three more arrive.
    let first = bed.announce_one("unhealthy");
    let deadline = std::time::Instant::now() + support::DEPLOY_TIMEOUT;
    while bed.deploy_row(first.deploy_id).status == DeployStatus::Queued {
        assert!(
            std::time::Instant::now() < deadline,
            "the first deploy never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let piled: Vec<i64> = ["v2", "v1", "v2"]
        .iter()
        .map(|tag| bed.announce_one(tag).deploy_id)
        .collect();
    bed.wait_idle();

    let newest = *piled.last().unwrap();
    assert_eq!(bed.deploy_row(newest).status, DeployStatus::Succeeded);
    for &older in &piled[..piled.len() - 1] {
        let row = bed.deploy_row(older);
        assert_eq!(row.status, DeployStatus::Skipped, "{row:#?}");
        assert_eq!(
            row.reason.as_deref(),
            Some(format!("superseded by deploy {newest}, a newer request for the stage").as_str())
        );
        assert!(bed.containers_of_deploy(older).is_empty());
    }
    assert_eq!(bed.deploy_row(first.deploy_id).status, DeployStatus::Failed);
    bed.assert_serving("v2");
}

#[test]
fn reconciling_leaves_the_containers_of_other_servers_projects_alone() {
    let mine = Bed::new(dev_only());
    let theirs = Bed::new(dev_only());
    theirs.deploy_ok("v1");
    let done = mine.deployer.reconcile().expect("reconcile runs");
    assert_eq!(done.removed_containers, 0, "{done:?}");
    theirs.assert_serving("v1");
}
