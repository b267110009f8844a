//! Provenance and image retention on the real engine: a deploy records the steps it went
//! through with their timings (and the one it failed in), who approved it and what it repeats;
//! after a successful deploy, images of the project's repository that no stage keeps are
//! removed, while an image a container uses stays.

mod support;

use std::ops::Deref;

use docker_client::DockerError;
use store::{Deploy, DeployStatus, NewStage, StepOutcome};
use support::{Bed, docker, stage, test_image};

/// Names and outcomes of a deploy's steps, in order.
fn steps(bed: &Bed, deploy: &Deploy) -> Vec<(String, StepOutcome)> {
    bed.store
        .deploy_steps(deploy.id)
        .expect("the steps read")
        .into_iter()
        .map(|step| (step.name, step.outcome))
        .collect()
}

fn named(list: &[(&str, StepOutcome)]) -> Vec<(String, StepOutcome)> {
    list.iter()
        .map(|(name, outcome)| (name.to_string(), *outcome))
        .collect()
}

use StepOutcome::{Failed, Ok as Passed};

#[test]
fn a_deploys_steps_are_recorded_in_order_with_sane_timings() {
    let bed = Bed::new(vec![stage("dev", "*")]);
    bed.deploy_ok("v1");
    let deploy = bed.deploy_ok("v2");
    assert_eq!(
        steps(&bed, &deploy),
        named(&[
            ("pull", Passed),
            ("create", Passed),
            ("start", Passed),
            ("health", Passed),
            ("restart_policy", Passed),
            ("route", Passed),
            ("replace", Passed),
            ("prune", Passed),
        ]),
        "log:\n{}",
        bed.log_text(deploy.id)
    );
    let recorded = bed.store.deploy_steps(deploy.id).unwrap();
    let (started, finished) = (deploy.started_at.unwrap(), deploy.finished_at.unwrap());
    // The epoch clock and the monotonic one can disagree by a millisecond or so per step.
    let slack = 5;
    let mut previous_end = started;
    for step in &recorded {
        assert!(step.duration_ms >= 0, "{step:?}");
        assert!(
            step.started_at + slack >= previous_end,
            "{step:?} starts before the step before it ended ({previous_end})"
        );
        assert!(
            step.started_at + step.duration_ms <= finished + slack,
            "{step:?} ends after the deploy ({finished})"
        );
        previous_end = step.started_at + step.duration_ms;
    }
    let total: i64 = recorded.iter().map(|step| step.duration_ms).sum();
    assert!(
        total <= finished - started + slack * recorded.len() as i64,
        "{total}ms of steps in a deploy of {}ms",
        finished - started
    );
    let pull = &recorded[0];
    assert!(
        pull.duration_ms >= 1,
        "a pull talks to the registry: {pull:?}"
    );
    // Replacing stops the old container, which gets 1s to exit in these tests; the replace step
    // holds that time.
    let replace = recorded.iter().find(|step| step.name == "replace").unwrap();
    assert!(replace.duration_ms >= 1, "{replace:?}");
}

#[test]
fn a_failed_deploy_records_the_step_it_failed_in_and_none_after() {
    let bed = Bed::new(vec![stage("dev", "*")]);
    bed.deploy_ok("v1");
    let failed = bed.deploy("unhealthy");
    bed.assert_failed_cleanly(&failed, "v1");
    assert_eq!(
        steps(&bed, &failed),
        named(&[
            ("pull", Passed),
            ("create", Passed),
            ("start", Passed),
            ("health", Failed),
        ]),
        "log:\n{}",
        bed.log_text(failed.id)
    );
    let health = bed.store.deploy_steps(failed.id).unwrap().remove(3);
    // Five failures at least 200 ms apart.
    assert!(health.duration_ms >= 800, "{health:?}");
}

#[test]
fn an_approved_deploy_records_who_approved_it() {
    let bed = Bed::new(vec![NewStage {
        auto_deploy: false,
        ..stage("prod", "*")
    }]);
    bed.push("v1");
    let waiting = bed.announce_one("v1");
    assert_eq!(waiting.status, DeployStatus::WaitingApproval);
    bed.deployer
        .decide(waiting.deploy_id, store::Decision::Approve, "api 127.0.0.1")
        .expect("the waiting deploy is approved");
    bed.wait_idle();
    let deploy = bed.deploy_row(waiting.deploy_id);
    assert_eq!(
        deploy.status,
        DeployStatus::Succeeded,
        "{:?}",
        deploy.reason
    );
    assert_eq!(deploy.approved_by(), Some("api 127.0.0.1"));
    assert!(
        bed.log(deploy.id)
            .iter()
            .any(|line| line.message == "approved by api 127.0.0.1"),
        "{}",
        bed.log_text(deploy.id)
    );
    assert_eq!(steps(&bed, &deploy)[0].0, "pull");
    // A deploy nobody had to approve names no approver.
    let auto = Bed::new(vec![stage("dev", "*")]);
    assert_eq!(auto.deploy_ok("v1").approved_by(), None);
}

#[test]
fn a_promotion_and_a_rollback_record_the_deploy_they_repeat() {
    let bed = Bed::new(vec![
        stage("rel", "*"),
        NewStage {
            promote_from: Some("rel".into()),
            ..stage("prod", "*")
        },
    ]);
    bed.push("v1");
    // Pushing v1 deploys it to rel; prod takes only what runs there, by hand.
    let rel_v1 = bed.announce_one("v1");
    bed.wait_idle();
    assert_eq!(bed.deploy_row(rel_v1.deploy_id).source_deploy_id, None);
    let promoted = bed
        .deployer
        .deploy_tag(&bed.project, "prod", "v1")
        .expect("v1 runs healthy in rel");
    bed.wait_idle();
    let promoted = bed.deploy_row(promoted.deploy_id);
    assert_eq!(
        promoted.status,
        DeployStatus::Succeeded,
        "{:?}",
        promoted.reason
    );
    assert_eq!(promoted.source_deploy_id, Some(rel_v1.deploy_id));

    let first = bed.deploy_row(rel_v1.deploy_id);
    bed.deploy_ok("v2");
    let rollback = bed
        .deployer
        .rollback(&bed.project, "rel")
        .expect("rel ran v1 before v2");
    bed.wait_idle();
    let rollback = bed.deploy_row(rollback.deploy_id);
    assert_eq!(
        rollback.status,
        DeployStatus::Succeeded,
        "{:?}",
        rollback.reason
    );
    assert_eq!(rollback.source_deploy_id, Some(first.id));
}

/// A bed whose project's repository gets images no other name shares; once the bed is gone,
/// the digest references its deploys left are removed too.
struct OwnImages {
    bed: Option<Bed>,
    repo: String,
}

impl OwnImages {
    /// A project with one stage `dev` keeping `keep` images.
    fn new(keep: i32) -> OwnImages {
        let bed = Bed::new(vec![NewStage {
            keep_images: keep,
            ..stage("dev", "*")
        }]);
        let repo = bed.repo.clone();
        OwnImages {
            bed: Some(bed),
            repo,
        }
    }

    /// Pushes an image of its own as `<repo>:<tag>`: the testbed's `base` with a label, so its
    /// id is new; no local name is left for it, so the deploy pulls it and it has no other.
    fn push_own(&self, base: &str, tag: &str, mark: &str) {
        let reference = self.reference(tag);
        let created = docker(&["create", &format!("{}:{base}", test_image())]);
        let container = created.trim();
        let label = format!("LABEL dw.test.image={}-{mark}", self.run);
        docker(&["commit", "-c", &label, container, &reference]);
        docker(&["rm", container]);
        docker(&["push", "-q", &reference]);
        docker(&["rmi", &reference]);
    }

    /// Deploys what [`OwnImages::push_own`] pushed as `tag` (not the testbed's image, which
    /// [`Bed::deploy`] would push first); the deploy must succeed.
    fn deploy_own(&self, tag: &str) -> Deploy {
        let queued = self.announce_one(tag);
        self.wait_idle();
        let deploy = self.deploy_row(queued.deploy_id);
        assert_eq!(
            deploy.status,
            DeployStatus::Succeeded,
            "deploying {tag}: {:?}; log:\n{}",
            deploy.reason,
            self.log_text(deploy.id)
        );
        deploy
    }

    /// `<repo>@<digest>`.
    fn by_digest(&self, deploy: &Deploy) -> String {
        format!("{}@{}", self.repo, deploy.digest.as_deref().unwrap())
    }

    /// The id of the local image `reference` names, or None when the engine has none.
    fn image_id(&self, reference: &str) -> Option<String> {
        match self.block_on(self.engine.inspect_image(reference)) {
            Ok(info) => Some(info.id),
            Err(DockerError::NotFound { .. }) => None,
            Err(error) => panic!("inspecting {reference}: {error}"),
        }
    }

    fn logged(&self, deploy: &Deploy, text: &str) -> bool {
        self.log(deploy.id)
            .iter()
            .any(|line| line.message.contains(text))
    }
}

impl Deref for OwnImages {
    type Target = Bed;
    fn deref(&self) -> &Bed {
        self.bed.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for OwnImages {
    fn drop(&mut self) {
        // The containers first (the bed does that), then what still names the images.
        drop(self.bed.take());
        let format = "{{.Repository}}@{{.Digest}}";
        let listed = std::process::Command::new("docker")
            .args(["image", "ls", "--digests", "--format", format, &self.repo])
            .output();
        let Ok(listed) = listed else { return };
        for reference in String::from_utf8_lossy(&listed.stdout).lines() {
            if !reference.ends_with("@<none>") {
                let _ = std::process::Command::new("docker")
                    .args(["rmi", reference])
                    .output();
            }
        }
    }
}

#[test]
fn keeping_one_image_removes_the_older_ones_from_the_engine() {
    let bed = OwnImages::new(1);
    bed.push_own("v1", "v1", "first");
    let first = bed.deploy_own("v1");
    let first_image = bed.image_id(&bed.by_digest(&first)).expect("pulled");

    // v1 moves to another image: the old one keeps only its digest reference, and goes by it.
    bed.push_own("v1", "v1", "moved");
    let moved = bed.deploy_own("v1");
    assert_ne!(moved.digest, first.digest);
    assert_eq!(bed.image_id(&bed.by_digest(&first)), None);
    assert_eq!(
        bed.image_id(&first_image),
        None,
        "the image itself is gone; log:\n{}",
        bed.log_text(moved.id)
    );
    assert!(bed.logged(&moved, &format!("removed image {}", bed.by_digest(&first))));
    let moved_image = bed.image_id(&bed.by_digest(&moved)).expect("current");
    assert_eq!(
        bed.image_id(&bed.reference("v1")),
        Some(moved_image.clone())
    );

    // v2 replaces it: the moved v1 goes with its tag, v2 stays.
    bed.push_own("v2", "v2", "second");
    let second = bed.deploy_own("v2");
    bed.assert_serving("v2");
    assert_eq!(bed.image_id(&bed.by_digest(&moved)), None);
    assert_eq!(bed.image_id(&moved_image), None);
    assert_eq!(bed.image_id(&bed.reference("v1")), None, "the tag went too");
    let current = bed.image_id(&bed.by_digest(&second)).expect("current");
    assert_eq!(bed.image_id(&bed.reference("v2")), Some(current));
    assert!(
        bed.logged(&second, "(tag v1)"),
        "log:\n{}",
        bed.log_text(second.id)
    );
}

#[test]
fn an_image_a_container_uses_is_never_removed() {
    let bed = OwnImages::new(1);
    bed.push_own("v1", "v1", "used");
    let first = bed.deploy_own("v1");
    let used = bed.by_digest(&first);
    // Someone runs the same image outside the deployer; the label lets the bed clean it up.
    let outside = format!("dw-test-{}-outside", bed.run);
    let label = format!("{}={}", deployer::labels::PROJECT, bed.project);
    docker(&["run", "-d", "--name", &outside, "--label", &label, &used]);

    bed.push_own("v2", "v2", "next");
    let second = bed.deploy_own("v2");
    bed.assert_serving("v2");
    assert!(bed.image_id(&used).is_some(), "the used image stays");
    assert!(
        bed.logged(&second, &format!("container {outside} uses it")),
        "log:\n{}",
        bed.log_text(second.id)
    );
    let state = bed
        .block_on(bed.engine.inspect_container(&outside))
        .expect("the outside container is there");
    assert!(state.running, "{state:#?}");
}

#[test]
fn an_image_with_other_names_loses_only_the_projects_names() {
    // The testbed's images are shared: dw-testbed/app:v1 names the same image as the project's
    // v1, and keeps naming it.
    let bed = OwnImages::new(1);
    let first = bed.deploy_ok("v1");
    let testbed_v1 = format!("{}:v1", test_image());
    let id = bed.image_id(&testbed_v1).expect("the testbed image");
    bed.deploy_ok("v2");
    assert_eq!(bed.image_id(&bed.by_digest(&first)), None);
    assert_eq!(bed.image_id(&bed.reference("v1")), None);
    assert_eq!(bed.image_id(&testbed_v1), Some(id));
}
