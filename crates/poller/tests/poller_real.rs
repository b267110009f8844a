//! The poller against the testbed's open registry (`cargo xtask testbed`), with a target that
//! records what it is told: baselines, new tags found once, restarts that find nothing, a moved
//! `latest`, an unreachable registry failing only its own stage, and stages that do not poll.
//! A missing testbed fails these tests; nothing is skipped.

mod store_fixture;
mod testbed;

use store_fixture::{project, stage, stage_id, store_with};
use testbed::registry;

use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use poller::{
    Credentials, FoundTag, FoundWhy, PollReport, PollTarget, Poller, PollerConfig, StageOutcome,
};
use store::{NewRegistry, Store};

/// The local repository holding the testbed's images (tags v1, v2).
const TEST_IMAGE: &str = "dw-testbed/app";

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run `docker {}`: {err}", args.join(" ")));
    assert!(
        out.status.success(),
        "`docker {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository nobody else uses, on the open registry: `host:port/poller-…/app`.
fn fresh_image() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{}/poller-{}-{}-{}/app",
        registry(),
        std::process::id(),
        secs % 100_000,
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Pushes the testbed's `local_tag` as `image:tag`.
fn push(image: &str, local_tag: &str, tag: &str) {
    let local = format!("{TEST_IMAGE}:{local_tag}");
    let remote = format!("{image}:{tag}");
    docker(&["tag", &local, &remote]);
    docker(&["push", "-q", &remote]);
    docker(&["rmi", &remote]);
}

/// A port nothing listens on.
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Records what the poller tells it and says "queued" (or fails, while `failing` is set).
#[derive(Default)]
struct Recorder {
    found: Mutex<Vec<FoundTag>>,
    credentials_asked: Mutex<Vec<String>>,
    failing: AtomicBool,
}

impl Recorder {
    fn found(&self) -> Vec<FoundTag> {
        self.found.lock().unwrap().clone()
    }
}

impl PollTarget for Recorder {
    fn credentials(&self, registry: &store::Registry) -> Result<Option<Credentials>, String> {
        self.credentials_asked
            .lock()
            .unwrap()
            .push(registry.name.clone());
        Ok(None)
    }

    fn found(&self, found: &FoundTag) -> Result<String, String> {
        if self.failing.load(Ordering::SeqCst) {
            return Err("the deployer is busy".into());
        }
        self.found.lock().unwrap().push(found.clone());
        Ok(format!("queued {}", found.reference))
    }
}

fn outcome(report: &PollReport, stage_id: i64) -> &StageOutcome {
    &report
        .stage(stage_id)
        .unwrap_or_else(|| panic!("stage {stage_id} missing from {report:#?}"))
        .outcome
}

fn poller(store: &Store, target: &Arc<Recorder>) -> Poller {
    Poller::new(store.clone(), target.clone(), PollerConfig::default())
}

#[test]
fn a_new_tag_is_found_once_after_the_baseline_and_not_again_after_a_restart() {
    let image = fresh_image();
    push(&image, "v1", "v1");
    let (_dir, store) = store_with(
        Vec::new(),
        vec![project(
            "app",
            &image,
            None,
            vec![stage("dev", "v*", true), stage("quiet", "v*", false)],
        )],
    );
    let dev = stage_id(&store, "app", "dev");
    let quiet = stage_id(&store, "app", "quiet");
    let target = Arc::new(Recorder::default());
    let first = poller(&store, &target);

    let report = first.poll_once();
    match outcome(&report, dev) {
        StageOutcome::Baseline {
            tag: Some(tag),
            digest: Some(digest),
        } => {
            assert_eq!(tag, "v1");
            assert!(digest.starts_with("sha256:"), "{digest}");
        }
        other => panic!("expected a baseline, got {other:?}"),
    }
    assert!(target.found().is_empty(), "a first poll deploys nothing");
    assert!(report.stage(quiet).is_none(), "{report:#?}");
    assert_eq!(store.poll_state(quiet).unwrap(), None);

    push(&image, "v2", "v2");
    let report = first.poll_once();
    let found = target.found();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].reference.to_string(), format!("{image}:v2"));
    assert_eq!(found[0].why, FoundWhy::NewTag);
    assert_eq!(found[0].stage_id, dev);
    match outcome(&report, dev) {
        StageOutcome::Found { found: f, said } => {
            assert_eq!(f, &found[0]);
            assert_eq!(said, &format!("queued {image}:v2"));
        }
        other => panic!("expected v2 found, got {other:?}"),
    }
    let state = store.poll_state(dev).unwrap().unwrap();
    assert_eq!(state.last_tag.as_deref(), Some("v2"));
    assert_eq!(state.last_digest.as_deref(), Some(found[0].digest.as_str()));

    assert_eq!(outcome(&first.poll_once(), dev), &StageOutcome::NothingNew);
    drop(first);
    let restarted = poller(&store, &target);
    assert_eq!(
        outcome(&restarted.poll_once(), dev),
        &StageOutcome::NothingNew
    );
    assert_eq!(target.found().len(), 1, "found once, whatever restarts");
    assert_eq!(store.poll_state(quiet).unwrap(), None, "never touched");
}

#[test]
fn a_moved_latest_is_found_once_when_its_digest_is_watched() {
    let image = fresh_image();
    push(&image, "v1", "latest");
    let mut edge = stage("edge", "latest", true);
    edge.watch_digest = true;
    let (_dir, store) = store_with(Vec::new(), vec![project("app", &image, None, vec![edge])]);
    let edge = stage_id(&store, "app", "edge");
    let target = Arc::new(Recorder::default());
    let poller = poller(&store, &target);

    let first_digest = match outcome(&poller.poll_once(), edge) {
        StageOutcome::Baseline {
            tag: Some(tag),
            digest: Some(digest),
        } if tag == "latest" => digest.clone(),
        other => panic!("expected a baseline of latest, got {other:?}"),
    };
    assert_eq!(
        outcome(&poller.poll_once(), edge),
        &StageOutcome::NothingNew
    );

    push(&image, "v2", "latest");
    poller.poll_once();
    let found = target.found();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].why, FoundWhy::MovedDigest);
    assert_eq!(found[0].reference.to_string(), format!("{image}:latest"));
    assert_ne!(found[0].digest, first_digest);
    assert_eq!(
        outcome(&poller.poll_once(), edge),
        &StageOutcome::NothingNew
    );
    assert_eq!(target.found().len(), 1);
}

#[test]
fn an_unreachable_registry_fails_its_own_stage_only() {
    let image = fresh_image();
    push(&image, "v1", "v1");
    let dead = format!("127.0.0.1:{}", dead_port());
    let (_dir, store) = store_with(
        vec![NewRegistry {
            name: "gone".into(),
            url: format!("http://{dead}"),
            username: None,
            password: None,
        }],
        vec![
            project(
                "lost",
                &format!("{dead}/team/app"),
                Some("gone"),
                vec![stage("dev", "v*", true)],
            ),
            project("fine", &image, None, vec![stage("dev", "v*", true)]),
        ],
    );
    let lost = stage_id(&store, "lost", "dev");
    let fine = stage_id(&store, "fine", "dev");
    let target = Arc::new(Recorder::default());
    let poller = poller(&store, &target);

    for _ in 0..2 {
        let report = poller.poll_once();
        match outcome(&report, lost) {
            StageOutcome::Error(error) => assert!(error.contains(&dead), "{error}"),
            other => panic!("expected an error, got {other:?}"),
        }
        assert!(
            !matches!(outcome(&report, fine), StageOutcome::Error(_)),
            "{report:#?}"
        );
    }
    assert_eq!(store.poll_state(lost).unwrap(), None);
    assert!(store.poll_state(fine).unwrap().is_some());
    assert_eq!(
        *target.credentials_asked.lock().unwrap(),
        ["gone"],
        "the client is made once and kept"
    );
}

#[test]
fn a_find_the_target_refuses_is_found_again_next_cycle() {
    let image = fresh_image();
    push(&image, "v1", "v1");
    let (_dir, store) = store_with(
        Vec::new(),
        vec![project("app", &image, None, vec![stage("dev", "v*", true)])],
    );
    let dev = stage_id(&store, "app", "dev");
    let target = Arc::new(Recorder::default());
    let poller = poller(&store, &target);
    poller.poll_once();

    push(&image, "v2", "v2");
    target.failing.store(true, Ordering::SeqCst);
    match outcome(&poller.poll_once(), dev) {
        StageOutcome::Error(error) => assert!(error.contains("the deployer is busy"), "{error}"),
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(
        store.poll_state(dev).unwrap().unwrap().last_tag.as_deref(),
        Some("v1"),
        "not remembered"
    );
    target.failing.store(false, Ordering::SeqCst);
    assert!(matches!(
        outcome(&poller.poll_once(), dev),
        StageOutcome::Found { .. }
    ));
    assert_eq!(target.found().len(), 1);
}

#[test]
fn a_spawned_poller_polls_on_its_own_and_stops_when_its_handle_is_dropped() {
    let image = fresh_image();
    push(&image, "v1", "v1");
    let (_dir, store) = store_with(
        Vec::new(),
        vec![project("app", &image, None, vec![stage("dev", "v*", true)])],
    );
    let dev = stage_id(&store, "app", "dev");
    let target = Arc::new(Recorder::default());
    let handle = poller(&store, &target).spawn(Duration::from_millis(100));
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.poll_state(dev).unwrap().is_none() {
        assert!(Instant::now() < deadline, "no baseline recorded");
        std::thread::sleep(Duration::from_millis(20));
    }
    push(&image, "v2", "v2");
    while target.found().is_empty() {
        assert!(Instant::now() < deadline, "v2 not found");
        std::thread::sleep(Duration::from_millis(20));
    }
    let dropped = Instant::now();
    drop(handle);
    assert!(
        dropped.elapsed() < Duration::from_secs(2),
        "dropping waits at most for the cycle under way"
    );
    // The thread is gone: no cycle runs after the drop.
    let checked = store.poll_state(dev).unwrap().unwrap().checked_at;
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(store.poll_state(dev).unwrap().unwrap().checked_at, checked);
    assert_eq!(target.found().len(), 1);
}

#[test]
fn an_image_two_polled_stages_of_a_project_find_is_handed_over_once() {
    let image = fresh_image();
    push(&image, "v1", "v1");
    let (_dir, store) = store_with(
        Vec::new(),
        vec![project(
            "app",
            &image,
            None,
            vec![stage("dev", "v*", true), stage("rel", "v[0-9]*", true)],
        )],
    );
    let dev = stage_id(&store, "app", "dev");
    let rel = stage_id(&store, "app", "rel");
    let target = Arc::new(Recorder::default());
    let poller = poller(&store, &target);
    poller.poll_once();
    push(&image, "v2", "v2");
    let report = poller.poll_once();
    for stage in [dev, rel] {
        assert!(
            matches!(outcome(&report, stage), StageOutcome::Found { .. }),
            "{report:#?}"
        );
        assert_eq!(
            store
                .poll_state(stage)
                .unwrap()
                .unwrap()
                .last_tag
                .as_deref(),
            Some("v2")
        );
    }
    assert_eq!(target.found().len(), 1, "the target deploys to both stages");
}

#[test]
fn a_cycle_that_finds_nothing_new_still_records_the_check_of_every_stage() {
    let image = fresh_image();
    push(&image, "v1", "v1");
    push(&image, "v1", "latest");
    let other = fresh_image();
    push(&other, "v2", "v2");
    let mut edge = stage("edge", "latest", true);
    edge.watch_digest = true;
    let (_dir, store) = store_with(
        Vec::new(),
        vec![
            project(
                "app",
                &image,
                None,
                vec![
                    stage("dev", "v*", true),
                    edge,
                    // Follows one tag without watching its digest: no request once it is seen.
                    stage("pinned", "v1", true),
                    stage("quiet", "v*", false),
                ],
            ),
            project("other", &other, None, vec![stage("dev", "v*", true)]),
        ],
    );
    let polled = [
        stage_id(&store, "app", "dev"),
        stage_id(&store, "app", "edge"),
        stage_id(&store, "app", "pinned"),
        stage_id(&store, "other", "dev"),
    ];
    let quiet = stage_id(&store, "app", "quiet");
    let target = Arc::new(Recorder::default());
    let poller = poller(&store, &target);
    poller.poll_once();
    let baselines: Vec<_> = polled
        .iter()
        .map(|&stage| store.poll_state(stage).unwrap().unwrap())
        .collect();

    for _ in 0..2 {
        // Check times are in milliseconds: make sure the next one differs.
        std::thread::sleep(Duration::from_millis(5));
        let before: Vec<_> = polled
            .iter()
            .map(|&stage| store.poll_state(stage).unwrap().unwrap())
            .collect();
        let report = poller.poll_once();
        for ((&stage, before), baseline) in polled.iter().zip(&before).zip(&baselines) {
            assert_eq!(outcome(&report, stage), &StageOutcome::NothingNew);
            let after = store.poll_state(stage).unwrap().unwrap();
            assert!(
                after.checked_at > before.checked_at,
                "stage {stage}: checked at {:?}, then {:?}",
                before.checked_at,
                after.checked_at
            );
            assert_eq!(after.last_tag, baseline.last_tag, "stage {stage}");
            assert_eq!(after.last_digest, baseline.last_digest, "stage {stage}");
        }
    }
    assert_eq!(store.poll_state(quiet).unwrap(), None, "never touched");
    assert!(target.found().is_empty());
}
