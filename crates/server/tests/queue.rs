//! The deploy queue under load, through the real binary: many webhook calls at once for many
//! stages are all recorded, each stage deploys one thing at a time, requests that pile up for a
//! stage collapse to the newest, and nothing is lost.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Options, Server};

const STAGES: usize = 20;
const TRIGGERS: usize = 200;

#[test]
fn two_hundred_concurrent_webhooks_over_twenty_stages_are_all_recorded_and_serialized_per_stage() {
    let stages: Vec<String> = (0..STAGES).map(|i| format!("s{i:02}")).collect();
    let server = Server::start_with(Options {
        // `dev` accepts none of the tags below.
        tag_pattern: "dev-only".into(),
        more_stages: stages
            .iter()
            .map(|stage| (stage.clone(), format!("tag_pattern: \"{stage}-*\"")))
            .collect(),
        ..Options::default()
    });
    for stage in &stages {
        server.push_as("v1", &format!("{stage}-v1"));
    }

    // Every trigger on its own thread, released together.
    let barrier = std::sync::Barrier::new(TRIGGERS);
    let answers: Vec<(String, u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..TRIGGERS)
            .map(|n| {
                let stage = &stages[n % STAGES];
                let (server, barrier) = (&server, &barrier);
                scope.spawn(move || {
                    let image = server.image(&format!("{stage}-v1"));
                    barrier.wait();
                    let reply = server.webhook(&image);
                    let body = if reply.status == 202 {
                        reply.data()
                    } else {
                        Value::String(reply.body.clone())
                    };
                    (stage.clone(), reply.status, body)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a trigger thread"))
            .collect()
    });

    let mut ids_by_stage: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for (stage, status, body) in &answers {
        assert_eq!(*status, 202, "{stage}: {body}");
        let deploys = body["deploys"].as_array().expect("a deploys list");
        assert_eq!(deploys.len(), 1, "{body}");
        assert_eq!(deploys[0]["stage"], stage.as_str(), "{body}");
        let id = deploys[0]["id"].as_i64().expect("an id");
        ids_by_stage.entry(stage.clone()).or_default().insert(id);
    }
    let recorded: usize = ids_by_stage.values().map(BTreeSet::len).sum();
    assert_eq!(recorded, TRIGGERS, "every trigger got a deploy of its own");

    let deploys = wait_until_all_finished(&server, Duration::from_secs(300));
    assert_eq!(deploys.len(), TRIGGERS, "{deploys:#?}");
    for (stage, ids) in &ids_by_stage {
        let mine: Vec<&Value> = deploys
            .iter()
            .filter(|deploy| ids.contains(&deploy["id"].as_i64().unwrap_or(-1)))
            .collect();
        assert_eq!(
            mine.len(),
            ids.len(),
            "{stage}: deploys missing from the list"
        );
        let ran: Vec<&&Value> = mine
            .iter()
            .filter(|deploy| deploy["status"] == "succeeded")
            .collect();
        assert_eq!(
            ran.len(),
            1,
            "{stage}: exactly one deploy does the work: {mine:#?}"
        );
        for deploy in &mine {
            let status = deploy["status"].as_str().unwrap_or_default();
            let reason = deploy["reason"].as_str().unwrap_or_default();
            match status {
                "succeeded" => {}
                "skipped" => assert!(
                    reason.starts_with("superseded by deploy") || reason.contains("already runs"),
                    "{deploy:#}"
                ),
                other => panic!("{stage}: deploy ended {other}: {deploy:#}"),
            }
        }
        // One at a time: the stage's deploys that started never overlap.
        let mut spans: Vec<(String, String)> = mine
            .iter()
            .filter_map(|deploy| {
                Some((
                    deploy["started_at"].as_str()?.to_string(),
                    deploy["finished_at"].as_str()?.to_string(),
                ))
            })
            .collect();
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0,
                "{stage}: overlapping deploys {pair:?}"
            );
        }
    }
    let instances = server.instances();
    assert_eq!(
        instances.len(),
        STAGES,
        "one instance per stage: {instances:#?}"
    );
    let served: BTreeSet<&str> = instances
        .iter()
        .filter_map(|instance| instance["stage"].as_str())
        .collect();
    assert_eq!(served.len(), STAGES);
}

/// The deploy list once every deploy has finished.
fn wait_until_all_finished(server: &Server, timeout: Duration) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let list = server.get_data("/api/deploys?limit=500");
        let deploys = list.as_array().cloned().unwrap_or_default();
        let unfinished = deploys
            .iter()
            .filter(|deploy| matches!(deploy["status"].as_str(), Some("queued" | "running")))
            .count();
        if unfinished == 0 && deploys.len() >= TRIGGERS {
            return deploys;
        }
        assert!(
            Instant::now() < deadline,
            "{unfinished} deploys unfinished after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
