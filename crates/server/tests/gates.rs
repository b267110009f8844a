//! The gates between a pushed tag and a stage, through the real binary: promotion takes exactly
//! the digest that runs healthy in the source stage, a person's deploy of a tag is checked
//! against the registry first, and a rejected tag is not offered again until it moves.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{DEPLOY_TIMEOUT, Options, Reply, Server, http_get, http_post};

fn deploy_tag(server: &Server, stage: &str, body: &Value) -> Reply {
    let url = server.url(&format!(
        "/api/projects/{}/stages/{stage}/deploy",
        server.project
    ));
    http_post(&url, Some("application/json"), body.to_string().as_bytes())
}

fn instance_of(server: &Server, stage: &str) -> Value {
    let instances: Vec<Value> = server
        .instances()
        .into_iter()
        .filter(|instance| instance["stage"] == stage)
        .collect();
    assert_eq!(
        instances.len(),
        1,
        "one instance in {stage}: {instances:#?}"
    );
    instances[0].clone()
}

fn version_of(instance: &Value) -> String {
    let address = instance["address"].as_str().expect("an address");
    http_get(&format!("{address}/version"))
        .body
        .trim()
        .to_string()
}

#[test]
fn promotion_deploys_exactly_the_digest_that_runs_healthy_in_the_source_stage() {
    let server = Server::start_with(Options {
        more_stages: vec![(
            "prod".into(),
            "tag_pattern: \"*\"\nauto_deploy: false\npromote_from: dev".into(),
        )],
        ..Options::default()
    });
    let v1_digest = server.push("v1");
    // The webhook reaches dev; prod takes only what runs in dev, which is nothing yet.
    let dev = server.webhook_queued(&server.image("v1"));
    server.wait_for_success(dev);
    assert_eq!(instance_of(&server, "dev")["digest"], v1_digest.as_str());

    // The tag moves in the registry; dev still runs the first image.
    let moved = server.push_as("v2", "v1");
    assert_ne!(moved, v1_digest);

    let refused = deploy_tag(&server, "prod", &json!({"tag": "v2"}));
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused
            .error_envelope()
            .contains("v2 does not run healthy in stage dev"),
        "{}",
        refused.body
    );

    let promoted = deploy_tag(&server, "prod", &json!({"tag": "v1"}));
    assert_eq!(promoted.status, 202, "{}", promoted.body);
    let id = promoted.data()["id"].as_i64().expect("an id");
    let deploy = server.wait_for_success(id);
    assert_eq!(deploy["trigger"], "promote", "{deploy:#}");
    assert_eq!(deploy["digest"], v1_digest.as_str(), "{deploy:#}");
    assert!(
        deploy["image"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&v1_digest),
        "pulled by digest: {deploy:#}"
    );
    let prod = instance_of(&server, "prod");
    assert_eq!(
        version_of(&prod),
        "v1",
        "the promoted image, not the moved tag"
    );
}

#[test]
fn a_person_deploys_a_tag_only_when_the_registry_has_it() {
    let server = Server::start();
    server.push("v1");

    let missing = deploy_tag(&server, "dev", &json!({"tag": "v404"}));
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert!(
        missing.error_envelope().contains("is not in the registry"),
        "{}",
        missing.body
    );
    let stage = deploy_tag(&server, "qa", &json!({"tag": "v1"}));
    assert_eq!(stage.status, 404, "{}", stage.body);
    assert!(
        stage.error_envelope().contains("stage qa of project"),
        "{}",
        stage.body
    );
    let project = http_post(
        &server.url("/api/projects/nope/stages/dev/deploy"),
        Some("application/json"),
        br#"{"tag":"v1"}"#,
    );
    assert_eq!(project.status, 404, "{}", project.body);
    assert!(
        project.error_envelope().contains("project nope not found"),
        "{}",
        project.body
    );
    for body in [
        json!({"tag": ""}),
        json!({"tag": 5}),
        json!({"tag": "no spaces"}),
        json!({}),
    ] {
        let bad = deploy_tag(&server, "dev", &body);
        assert_eq!(bad.status, 400, "{body}: {}", bad.body);
        bad.error_envelope();
    }
    assert!(
        server
            .get_data("/api/deploys")
            .as_array()
            .unwrap()
            .is_empty()
    );

    let manual = deploy_tag(&server, "dev", &json!({"tag": "v1"}));
    assert_eq!(manual.status, 202, "{}", manual.body);
    let deploy = server.wait_for_success(manual.data()["id"].as_i64().unwrap());
    assert_eq!(deploy["trigger"], "manual", "{deploy:#}");
    assert_eq!(version_of(&instance_of(&server, "dev")), "v1");
}

#[test]
fn a_rejected_tag_is_not_offered_again_until_it_points_at_another_image() {
    let server = Server::start_with(Options {
        tag_pattern: "dev-only".into(),
        poll_interval: Some("1s".into()),
        more_stages: vec![(
            "gate".into(),
            "tag_pattern: latest\nwatch_digest: true\npoll: true\nauto_deploy: false".into(),
        )],
        ..Options::default()
    });
    server.push_as("v1", "latest");
    wait_for(&server, "the baseline", |server| {
        server.get_data("/api/poller")["stages"]
            .as_array()
            .is_some_and(|stages| !stages.is_empty())
    });
    server.push_as("v2", "latest");
    let first = wait_for_waiting(&server, None);
    assert_eq!(first["trigger"], "poll", "{first:#}");
    let id = first["id"].as_i64().unwrap();
    let rejected = http_post(&server.url(&format!("/api/deploys/{id}/reject")), None, b"");
    assert_eq!(rejected.status, 200, "{}", rejected.body);

    // Announced again by a webhook: refused with the reason, no new request.
    let again = server.webhook(&server.image("latest"));
    assert_eq!(again.status, 200, "{}", again.body);
    let reason = again.data()["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(reason.contains("was rejected for stage gate"), "{reason}");

    // The tag moves: a new question.
    server.push_as("v1", "latest");
    let second = wait_for_waiting(&server, Some(id));
    assert_ne!(second["id"], first["id"]);
    assert_ne!(second["digest"], first["digest"]);
}

/// The newest deploy waiting for approval other than `not`.
fn wait_for_waiting(server: &Server, not: Option<i64>) -> Value {
    let mut found = Value::Null;
    wait_for(server, "a deploy waiting for approval", |server| {
        let deploys = server.get_data("/api/deploys");
        found = deploys
            .as_array()
            .into_iter()
            .flatten()
            .find(|deploy| deploy["status"] == "waiting_approval" && deploy["id"].as_i64() != not)
            .cloned()
            .unwrap_or(Value::Null);
        !found.is_null()
    });
    found
}

fn wait_for(server: &Server, what: &str, mut done: impl FnMut(&Server) -> bool) {
    let deadline = Instant::now() + DEPLOY_TIMEOUT;
    while !done(server) {
        assert!(
            Instant::now() < deadline,
            "no {what} within {DEPLOY_TIMEOUT:?}:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
