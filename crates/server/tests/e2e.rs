//! End to end: the `docker-watcher` binary against the real Docker engine and the test registry
//! from `cargo xtask testbed`, driven only through its HTTP API (and, once, a real browser).
//!
//! Each test starts its own server with its own project, network and registry repository, so the
//! tests run in parallel. A missing testbed fails a test with a message saying how to get one;
//! nothing is skipped.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::sse::{Frame, Next};
use support::{DEPLOY_TIMEOUT, Options, Server, container_exists, docker, http_get, http_post};

/// How long a stream may stay silent before a test gives up on it.
const STREAM_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The project's one instance, asserted to be running this tag; returns it.
fn only_running_instance(server: &Server, tag: &str) -> Value {
    let instances = server.instances();
    assert_eq!(
        instances.len(),
        1,
        "expected exactly one instance (tag {tag}), got {instances:#?}"
    );
    let instance = instances[0].clone();
    assert_eq!(instance["status"], "running", "{instance:#}");
    assert_eq!(instance["tag"], tag, "{instance:#}");
    assert_eq!(instance["stage"], "dev", "{instance:#}");
    instance
}

fn address_of(instance: &Value) -> String {
    let address = instance["address"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an address on {instance:#}"));
    assert!(
        address.starts_with("http://") && address.rsplit_once(':').is_some(),
        "expected http://IP:PORT, got {address}"
    );
    address.to_string()
}

fn container_name_of(instance: &Value) -> String {
    instance["container_name"]
        .as_str()
        .unwrap_or_else(|| panic!("expected a container name on {instance:#}"))
        .to_string()
}

/// What the test app at `address` says its version is.
fn version_at(address: &str) -> String {
    let reply = http_get(&format!("{address}/version"));
    assert_eq!(reply.status, 200, "GET {address}/version: {}", reply.body);
    reply.body.trim().to_string()
}

/// The whole log of a finished deploy through its SSE stream: its log frames and its end frame.
fn read_log(server: &Server, id: i64, last_event_id: Option<&str>) -> (Vec<Frame>, Frame) {
    let mut stream = server.sse(&format!("/api/deploys/{id}/logs"), last_event_id);
    assert_eq!(stream.status, 200);
    let frames = stream.collect_to_end(STREAM_TIMEOUT);
    split_log(frames)
}

/// Checks the shape of a log stream (`retry` first, log frames, one `end` last) and splits it.
fn split_log(frames: Vec<Frame>) -> (Vec<Frame>, Frame) {
    let mut frames = frames.into_iter().filter(|frame| {
        // Keepalive comments may come at any time and carry nothing.
        frame.is_event() || frame.retry.is_some()
    });
    let first = frames.next().expect("a first frame");
    assert_eq!(
        first.retry,
        Some(3000),
        "expected the stream to open with retry: 3000, got {first:?}"
    );
    let rest: Vec<Frame> = frames.collect();
    let (end, lines) = rest
        .split_last()
        .unwrap_or_else(|| panic!("expected an end event, got nothing after {first:?}"));
    assert_eq!(
        end.event.as_deref(),
        Some("end"),
        "expected the last frame to be the end event: {rest:#?}"
    );
    for line in lines {
        assert_eq!(
            line.event.as_deref(),
            Some("log"),
            "expected only log events before the end: {line:?}"
        );
    }
    (lines.to_vec(), end.clone())
}

/// Asserts that log frames have ids `first..` without gaps, and that `seq` matches the id.
fn assert_log_lines_numbered_from(lines: &[Frame], first: u64) {
    for (offset, line) in lines.iter().enumerate() {
        let expected = first + offset as u64;
        assert_eq!(
            line.id_number(),
            expected,
            "expected log line ids {first}.. without gaps: {lines:#?}"
        );
        let data = line.json();
        assert_eq!(data["seq"].as_u64(), Some(expected), "{data}");
        assert!(
            data["message"].as_str().is_some_and(|m| !m.is_empty()),
            "expected a message in {data}"
        );
        assert!(
            data["at"].as_str().is_some_and(|at| !at.is_empty()),
            "expected a time in {data}"
        );
    }
}

fn messages(lines: &[Frame]) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            line.json()["message"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The name of the container a deploy created, from its log's "created container NAME" line.
fn container_created_by(server: &Server, id: i64) -> String {
    let (lines, _) = read_log(server, id, None);
    messages(&lines)
        .iter()
        .find_map(|message| {
            message
                .strip_prefix("created container ")
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("deploy {id} logged no `created container` line"))
}

/// Deploys `tag` (pushed already) and waits for its success; returns the deploy id.
fn deploy(server: &Server, tag: &str) -> i64 {
    let id = server.webhook_queued(&server.image(tag));
    server.wait_for_success(id);
    id
}

// ---------------------------------------------------------------------------------------------
// The deploy pipeline
// ---------------------------------------------------------------------------------------------

#[test]
fn pushed_versions_replace_each_other_and_an_unhealthy_one_is_rolled_back() {
    let server = Server::start();
    let docker_host = server.docker.clone().expect("the testbed engine");

    // v1: a new instance that answers as v1, made from the pushed digest.
    let digest_v1 = server.push("v1");
    let v1 = server.webhook_queued(&server.image("v1"));
    let deploy_v1 = server.wait_for_success(v1);
    assert_eq!(deploy_v1["digest"], digest_v1.as_str(), "{deploy_v1:#}");
    assert_eq!(deploy_v1["trigger"], "webhook", "{deploy_v1:#}");
    let first = only_running_instance(&server, "v1");
    assert_eq!(first["deploy_id"], v1);
    assert_eq!(first["digest"], digest_v1.as_str());
    assert_eq!(version_at(&address_of(&first)), "v1");
    let first_name = container_name_of(&first);
    assert!(
        first_name.starts_with(&format!("dw-{}-dev-v1-", server.project)),
        "unexpected container name {first_name}"
    );
    let labels: Value = serde_json::from_str(&docker(
        &docker_host,
        &[
            "container",
            "inspect",
            "--format",
            "{{json .Config.Labels}}",
            &first_name,
        ],
    ))
    .expect("labels as JSON");
    assert_eq!(labels["docker-watcher.project"], server.project.as_str());
    assert_eq!(labels["docker-watcher.stage"], "dev");
    assert_eq!(labels["docker-watcher.deploy"], v1.to_string());
    assert_eq!(
        labels["docker-watcher.instance"],
        first["id"].to_string(),
        "{labels:#}"
    );
    let networks = docker(
        &docker_host,
        &[
            "container",
            "inspect",
            "--format",
            "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}",
            &first_name,
        ],
    );
    assert_eq!(
        networks.split_whitespace().collect::<Vec<_>>(),
        [server.network.as_str()]
    );

    // v2 replaces v1: v2 answers, the v1 container is gone.
    server.push("v2");
    let v2 = deploy(&server, "v2");
    let second = only_running_instance(&server, "v2");
    assert_eq!(second["deploy_id"], v2);
    let second_name = container_name_of(&second);
    let second_address = address_of(&second);
    assert_eq!(version_at(&second_address), "v2");
    assert!(
        !container_exists(&docker_host, &first_name),
        "the replaced v1 container {first_name} still exists"
    );
    assert_eq!(server.containers(), std::slice::from_ref(&second_name));

    // An unhealthy image fails its health check; what it made is removed and v2 keeps serving.
    server.push("unhealthy");
    let bad = server.webhook_queued(&server.image("unhealthy"));
    let failed = server.wait_for_deploy(bad, DEPLOY_TIMEOUT);
    assert_eq!(failed["status"], "failed", "{failed:#}");
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(
        reason.to_lowercase().contains("health"),
        "expected the reason to mention the health check, got {reason:?}"
    );
    let bad_name = container_created_by(&server, bad);
    assert!(
        !container_exists(&docker_host, &bad_name),
        "the unhealthy container {bad_name} was left behind"
    );
    assert_eq!(server.containers(), std::slice::from_ref(&second_name));
    assert_eq!(version_at(&second_address), "v2");
    let still = only_running_instance(&server, "v2");
    assert_eq!(still["deploy_id"], v2);
    assert_eq!(container_name_of(&still), second_name);
}

/// Waits until the server's log contains `text`; returns the log.
fn wait_for_log(server: &Server, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = server.log();
        if log.contains(text) {
            return log;
        }
        assert!(Instant::now() < deadline, "the log never said {text:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `GET /api/deploys` lists a deploy of `tag`; returns it.
fn wait_for_deploy_of(server: &Server, tag: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let deploys = server.get_data("/api/deploys");
        if let Some(deploy) = deploys
            .as_array()
            .expect("a list")
            .iter()
            .find(|deploy| deploy["tag"] == tag)
        {
            return deploy.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no deploy of {tag} was queued: {deploys:#}"
        );
        std::thread::sleep(Duration::from_millis(150));
    }
}

#[test]
fn tags_pushed_while_the_server_runs_are_deployed_by_the_poller_alone() {
    let server = Server::start_with(Options {
        tag_pattern: "v*".into(),
        poll: true,
        poll_interval: Some("1s".into()),
        ..Options::default()
    });
    let stages = server.project_view()["stages"].clone();
    assert_eq!(stages[0]["poll"], true, "{stages:#}");
    // The first poll finds nothing pushed yet and only records that.
    wait_for_log(
        &server,
        &format!("poller: {}/dev: baseline recorded", server.project),
    );
    for tag in ["v1", "v2"] {
        let digest = server.push(tag);
        let queued = wait_for_deploy_of(&server, tag);
        assert_eq!(queued["trigger"], "poll", "{queued:#}");
        let id = queued["id"].as_i64().expect("a numeric deploy id");
        let deploy = server.wait_for_success(id);
        assert_eq!(deploy["digest"], digest.as_str(), "{deploy:#}");
        let instance = only_running_instance(&server, tag);
        assert_eq!(version_at(&address_of(&instance)), tag);
    }
    let deploys = server.get_data("/api/deploys");
    let triggers: Vec<&str> = deploys
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|deploy| deploy["trigger"].as_str())
        .collect();
    assert_eq!(
        triggers,
        ["poll", "poll"],
        "one deploy per tag: {deploys:#}"
    );
}

#[test]
fn a_gated_stage_deploys_only_what_is_approved_and_each_request_is_decided_once() {
    let server = Server::start_with(Options {
        auto_deploy: false,
        ..Options::default()
    });
    server.push("v1");
    let id = server.webhook_queued(&server.image("v1"));
    assert_eq!(
        server.get_data(&format!("/api/deploys/{id}"))["status"],
        "waiting_approval"
    );
    // A second announcement of the same tag is the same request.
    let again = server.webhook(&server.image("v1")).data();
    assert_eq!(again["deploys"][0]["id"], id, "{again:#}");
    assert_eq!(
        again["deploys"][0]["status"], "waiting_approval",
        "{again:#}"
    );
    assert!(
        server.containers().is_empty(),
        "nothing runs before approval"
    );

    let decide = |id: i64, verb: &str| {
        http_post(&server.url(&format!("/api/deploys/{id}/{verb}")), None, b"")
    };
    let approved = decide(id, "approve");
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.data()["status"], "queued", "{}", approved.body);
    server.wait_for_success(id);
    assert_eq!(
        version_at(&address_of(&only_running_instance(&server, "v1"))),
        "v1"
    );

    let twice = decide(id, "reject");
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert!(
        twice.error_envelope().contains(&format!(
            "deploy {id} has status succeeded; it must be waiting for approval"
        )),
        "{}",
        twice.body
    );

    let declined = server.webhook_queued(&server.image("v2"));
    let rejected = decide(declined, "reject");
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert_eq!(rejected.data()["status"], "rejected", "{}", rejected.body);
    assert!(
        rejected.data()["finished_at"].is_string(),
        "{}",
        rejected.body
    );
    let unknown = decide(999_999, "approve");
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(
        unknown.error_envelope().contains("deploy 999999 not found"),
        "{}",
        unknown.body
    );
    // v1 still the one serving.
    assert_eq!(
        version_at(&address_of(&only_running_instance(&server, "v1"))),
        "v1"
    );
}

#[test]
fn the_poller_board_shows_each_registry_and_the_last_poll_of_each_stage() {
    let healthy = Server::start_with(Options {
        tag_pattern: "v*".into(),
        poll: true,
        poll_interval: Some("1s".into()),
        ..Options::default()
    });
    // Nothing listens on port 9 of the loopback address: the registry is down.
    let down = Server::start_with(Options {
        tag_pattern: "v*".into(),
        poll: true,
        poll_interval: Some("1s".into()),
        registry: Some("127.0.0.1:9".into()),
        ..Options::default()
    });
    for (server, failed) in [(&healthy, false), (&down, true)] {
        let label = format!("{}/dev", server.project);
        let deadline = Instant::now() + Duration::from_secs(30);
        let board = loop {
            let board = server.get_data("/api/poller");
            if board["stages"]
                .as_array()
                .is_some_and(|stages| !stages.is_empty())
            {
                break board;
            }
            assert!(Instant::now() < deadline, "no poll on the board: {board:#}");
            std::thread::sleep(Duration::from_millis(200));
        };
        assert!(board["last_cycle_at"].is_string(), "{board:#}");
        let stage = &board["stages"][0];
        assert_eq!(stage["stage"], label.as_str(), "{board:#}");
        assert_eq!(stage["failed"], failed, "{board:#}");
        let outcome = stage["outcome"].as_str().unwrap_or_default();
        if failed {
            assert!(outcome.starts_with("error: "), "{board:#}");
        } else {
            assert!(outcome.starts_with("baseline recorded"), "{board:#}");
        }
        let registry = &board["registries"][0];
        let host = server.repository.split('/').next().unwrap();
        assert_eq!(registry["registry"], host, "{board:#}");
        assert!(
            registry["requests_sent"].as_u64().unwrap_or(0) >= 1,
            "{board:#}"
        );
        // The test registry sends no rate-limit headers: no limit is known, and no back-off.
        assert_eq!(registry["rate_limit"]["limit"], Value::Null, "{board:#}");
        assert_eq!(
            registry["rate_limit"]["backing_off_until"],
            Value::Null,
            "{board:#}"
        );
    }
}

#[test]
fn a_moved_tag_redeploys_without_colliding_and_an_unchanged_one_is_skipped() {
    let server = Server::start();
    let docker_host = server.docker.clone().expect("the testbed engine");
    server.push_as("v1", "moving");
    let first = server.webhook_queued(&server.image("moving"));
    server.wait_for_success(first);
    let first_name = container_created_by(&server, first);

    // The same tag and digest again (a webhook sent twice): nothing to do.
    let again = server.webhook_queued(&server.image("moving"));
    let skipped = server.wait_for_deploy(again, DEPLOY_TIMEOUT);
    assert_eq!(skipped["status"], "skipped", "{skipped:#}");
    let reason = skipped["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("already runs moving"), "{skipped:#}");
    assert_eq!(server.containers(), std::slice::from_ref(&first_name));

    // The tag moves to another image: a new deploy with a container name of its own.
    server.push_as("v2", "moving");
    let second = server.webhook_queued(&server.image("moving"));
    server.wait_for_success(second);
    let second_name = container_created_by(&server, second);
    assert_ne!(
        first_name, second_name,
        "two deploys of one tag must not share a container name"
    );
    let instance = only_running_instance(&server, "moving");
    assert_eq!(instance["deploy_id"], second);
    assert_eq!(container_name_of(&instance), second_name);
    assert!(
        !container_exists(&docker_host, &first_name),
        "the first deploy's container {first_name} was not replaced"
    );
    assert_eq!(server.containers(), [second_name]);
    assert_eq!(version_at(&address_of(&instance)), "v2");
}

#[test]
fn docker_engine_unreachable_fails_the_deploy_and_the_server_stays_up() {
    let server = Server::start_with(Options {
        docker_host: Some("unix:///nonexistent/docker.sock".into()),
        ..Options::default()
    });
    let id = server.webhook_queued(&server.image("v1"));
    let deploy = server.wait_for_deploy(id, DEPLOY_TIMEOUT);
    assert_eq!(deploy["status"], "failed", "{deploy:#}");
    let reason = deploy["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("Docker engine"),
        "expected the reason to name the Docker engine, got {reason:?}"
    );
    assert!(server.instances().is_empty());
    let health = server.get("/healthz");
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.data()["status"], "ok");
}

// ---------------------------------------------------------------------------------------------
// Deploy log streams
// ---------------------------------------------------------------------------------------------

#[test]
fn deploy_log_streams_lines_in_order_then_ends() {
    let server = Server::start();
    server.push("v1");
    server.push("v2");
    deploy(&server, "v1");

    // Replacing v1 takes a while (its server ignores SIGTERM), so this deploy is still running
    // when the stream opens.
    let id = server.webhook_queued(&server.image("v2"));
    let mut stream = server.sse(&format!("/api/deploys/{id}/logs"), None);
    assert_eq!(stream.status, 200);
    let opened = server.get_data(&format!("/api/deploys/{id}"));
    assert!(
        matches!(opened["status"].as_str(), Some("queued" | "running")),
        "the deploy should still be running when its log is opened: {opened:#}"
    );
    let frames = stream.collect_to_end(DEPLOY_TIMEOUT);
    assert!(
        matches!(stream.next(Duration::from_secs(1)), Next::End),
        "nothing may follow the end of the stream"
    );
    let (lines, end) = split_log(frames);
    assert!(
        lines.len() >= 5,
        "expected the steps of a deploy, got {lines:#?}"
    );
    assert_log_lines_numbered_from(&lines, 1);
    let end_data = end.json();
    assert_eq!(end_data["status"], "succeeded", "{end_data}");
    assert_eq!(end_data["reason"], Value::Null, "{end_data}");

    // The lines were delivered as they happened, not in one batch at the end.
    let first_at = lines[0].received.expect("arrival time");
    let end_at = end.received.expect("arrival time");
    assert!(
        end_at.duration_since(first_at) > Duration::from_secs(1),
        "expected the log to arrive live over the deploy's run"
    );

    // The stream says what the store says.
    let (again, _) = read_log(&server, id, None);
    assert_eq!(messages(&again), messages(&lines));
    let text = messages(&lines).join("\n");
    assert!(text.contains("health check passed"), "{text}");
    assert!(text.contains("replaced dw-"), "{text}");
}

#[test]
fn deploy_log_resumes_after_last_event_id() {
    let server = Server::start();
    server.push("v1");
    server.push("v2");
    deploy(&server, "v1");

    // Lost mid-deploy: a reconnect with the last id seen continues exactly where it stopped.
    let id = server.webhook_queued(&server.image("v2"));
    let mut stream = server.sse(&format!("/api/deploys/{id}/logs"), None);
    let before = stream.collect_until(STREAM_TIMEOUT, |frame| {
        frame.is_event()
            && frame
                .json()
                .get("message")
                .and_then(Value::as_str)
                .is_some_and(|message| message.starts_with("health check passed"))
    });
    drop(stream);
    let status = server.get_data(&format!("/api/deploys/{id}"))["status"].clone();
    assert_eq!(
        status, "running",
        "the connection should have dropped mid-deploy"
    );
    let before: Vec<Frame> = before
        .into_iter()
        .filter(|frame| frame.event.as_deref() == Some("log"))
        .collect();
    assert_log_lines_numbered_from(&before, 1);
    let last_seen = before.last().expect("lines before the drop").id_number();
    server.wait_for_success(id);
    let (after, end) = read_log(&server, id, Some(&last_seen.to_string()));
    assert_log_lines_numbered_from(&after, last_seen + 1);
    assert_eq!(end.json()["status"], "succeeded");

    // The finished deploy: every resume point gives exactly the lines after it, then the end.
    let (all, end) = read_log(&server, id, None);
    assert_log_lines_numbered_from(&all, 1);
    assert_eq!(
        messages(&all),
        [messages(&before), messages(&after)].concat(),
        "the two halves of the interrupted read must make the whole log"
    );
    assert_eq!(end.json()["status"], "succeeded");
    let n = all.len() as u64;
    for k in [0, 1, n / 2, n - 1, n, n + 5] {
        let (rest, end) = read_log(&server, id, Some(&k.to_string()));
        let expected: Vec<String> = messages(&all).into_iter().skip(k as usize).collect();
        assert_eq!(messages(&rest), expected, "resuming after line {k}");
        if !rest.is_empty() {
            assert_log_lines_numbered_from(&rest, k + 1);
        }
        assert_eq!(end.json()["status"], "succeeded", "resuming after line {k}");
    }
}

// ---------------------------------------------------------------------------------------------
// The event stream
// ---------------------------------------------------------------------------------------------

#[test]
fn event_stream_replays_missed_events_after_reconnect() {
    let server = Server::start();
    server.push("v1");
    server.push("v2");
    let v1 = deploy(&server, "v1");

    let mut stream = server.sse("/api/events", None);
    assert_eq!(stream.status, 200);
    let id = server.webhook_queued(&server.image("v2"));
    // Until the new instance runs: the old one is still being stopped, so the deploy goes on.
    let first = stream.collect_until(STREAM_TIMEOUT, |frame| {
        frame.event.as_deref() == Some("instance_status") && {
            let data = frame.json();
            data["tag"] == "v2" && data["status"] == "running"
        }
    });
    drop(stream);
    let mid = server.get_data(&format!("/api/deploys/{id}"));
    assert_eq!(
        mid["status"], "running",
        "the connection should have dropped mid-deploy: {mid:#}"
    );
    let first: Vec<Frame> = first.into_iter().filter(Frame::is_event).collect();
    let last_seen = first.last().expect("events before the drop").id_number();
    server.wait_for_success(id);

    let mut resumed = server.sse("/api/events", Some(&last_seen.to_string()));
    assert_eq!(resumed.status, 200);
    let is_end = |frame: &Frame| {
        frame.event.as_deref() == Some("deploy_status") && {
            let data = frame.json();
            data["deploy_id"] == id && data["status"] == "succeeded"
        }
    };
    let second: Vec<Frame> = resumed
        .collect_until(STREAM_TIMEOUT, is_end)
        .into_iter()
        .filter(Frame::is_event)
        .collect();
    assert!(
        matches!(resumed.next(Duration::from_millis(500)), Next::TimedOut),
        "nothing should follow the deploy's last event"
    );

    let union: Vec<&Frame> = first.iter().chain(second.iter()).collect();
    let ids: Vec<u64> = union.iter().map(|frame| frame.id_number()).collect();
    for pair in ids.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "expected consecutive ids without gaps or duplicates: {ids:?}"
        );
    }
    for frame in &union {
        let data = frame.json();
        assert_eq!(data["id"].as_u64(), Some(frame.id_number()), "{data}");
        assert_eq!(
            data["type"].as_str(),
            frame.event.as_deref(),
            "the SSE event name is the JSON type: {data}"
        );
    }
    let has = |kind: &str, check: &dyn Fn(&Value) -> bool| {
        union
            .iter()
            .any(|frame| frame.event.as_deref() == Some(kind) && check(&frame.json()))
    };
    assert!(has("deploy_queued", &|d| d["deploy_id"] == id
        && d["tag"] == "v2"
        && d["project"] == server.project.as_str()));
    assert!(has("deploy_status", &|d| d["deploy_id"] == id
        && d["status"] == "running"));
    assert!(has("deploy_status", &|d| d["deploy_id"] == id
        && d["status"] == "succeeded"));
    assert!(has("instance_status", &|d| d["tag"] == "v2"
        && d["status"] == "running"
        && d["project"] == server.project.as_str()));
    assert!(has("instance_status", &|d| d["tag"] == "v1"
        && d["status"] == "removed"));
    assert!(has("deploy_log", &|d| d["deploy_id"] == id));
    assert!(
        !has("deploy_queued", &|d| d["deploy_id"] == v1),
        "events from before the first connection must not be replayed to it"
    );

    // The replay ring agrees: asking for everything gives the same events, in the same order.
    let mut everything = server.sse("/api/events", Some("0"));
    let all: Vec<Frame> = everything
        .collect_until(STREAM_TIMEOUT, is_end)
        .into_iter()
        .filter(Frame::is_event)
        .collect();
    assert_eq!(all[0].id_number(), 1);
    let tail: Vec<(u64, Option<String>)> = all
        .iter()
        .filter(|frame| frame.id_number() >= ids[0])
        .map(|frame| (frame.id_number(), frame.data.clone()))
        .collect();
    let seen: Vec<(u64, Option<String>)> = union
        .iter()
        .map(|frame| (frame.id_number(), frame.data.clone()))
        .collect();
    assert_eq!(seen, tail);

    // An id this run never issued (a previous run's), or no id at all, asks the client to reload.
    for last_event_id in ["999999", "abc"] {
        let mut stale = server.sse("/api/events", Some(last_event_id));
        let frames = stale.collect_until(STREAM_TIMEOUT, |frame| frame.is_event());
        assert_eq!(
            frames.last().and_then(|frame| frame.event.as_deref()),
            Some("resync"),
            "Last-Event-ID {last_event_id}: {frames:#?}"
        );
    }
}

#[test]
fn sse_responses_carry_streaming_headers() {
    let server = Server::start();
    // Never pushed: the deploy fails at the pull, which is enough to have a log.
    let id = server.webhook_queued(&server.image("never-pushed"));
    server.wait_for_deploy(id, DEPLOY_TIMEOUT);
    let logs = format!("/api/deploys/{id}/logs");
    for path in ["/api/events", logs.as_str()] {
        let mut stream = server.sse(path, None);
        assert_eq!(stream.status, 200, "{path}");
        let content_type = stream.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{path}: Content-Type {content_type:?}"
        );
        assert_eq!(
            stream.header("cache-control"),
            Some("no-cache, no-transform"),
            "{path}"
        );
        assert_eq!(stream.header("x-accel-buffering"), Some("no"), "{path}");
        assert_eq!(
            stream.header("content-encoding"),
            None,
            "{path}: a compressed stream would be buffered"
        );
        match stream.next(STREAM_TIMEOUT) {
            Next::Frame(frame) => assert_eq!(frame.retry, Some(3000), "{path}: {frame:?}"),
            other => panic!("{path}: expected a retry frame first, got {other:?}"),
        }
    }
}

#[test]
fn event_stream_sends_keepalive_comments() {
    let server = Server::start();
    let opened = Instant::now();
    let mut stream = server.sse("/api/events", None);
    assert_eq!(stream.status, 200);
    let deadline = opened + Duration::from_secs(16);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stream.next(left) {
            Next::Frame(frame) if !frame.comments.is_empty() => {
                assert!(
                    !frame.is_event(),
                    "a keepalive is a comment only: {frame:?}"
                );
                break;
            }
            Next::Frame(frame) => assert!(
                frame.retry.is_some() && !frame.is_event(),
                "an idle server sent an event: {frame:?}"
            ),
            Next::End => panic!("the idle event stream ended"),
            Next::TimedOut => panic!("no keepalive comment within 16 s of opening /api/events"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Input the server must refuse, and fallbacks
// ---------------------------------------------------------------------------------------------

struct BadInput {
    what: &'static str,
    /// Replaces the secret in the URL.
    secret: Option<String>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    /// Text the error (or the reason, for a 200) must contain.
    says: String,
}

#[test]
fn bad_webhook_input_is_refused_and_writes_nothing() {
    let server = Server::start_with(Options {
        tag_pattern: "v*".into(),
        ..Options::default()
    });
    let json = Some("application/json");
    let image = |image: &str| {
        serde_json::json!({ "image": image })
            .to_string()
            .into_bytes()
    };
    let ours = server.image("v1");
    let oversized = {
        // Valid JSON, one byte over the limit.
        let filler = 64 * 1024 + 1 - r#"{"image":""}"#.len();
        image(&"a".repeat(filler))
    };
    assert_eq!(oversized.len(), 64 * 1024 + 1);
    let at_limit = image(&"a".repeat(64 * 1024 - r#"{"image":""}"#.len()));
    let secret = server.secret.clone();
    let cases = vec![
        BadInput {
            what: "wrong secret",
            secret: Some("0123456789abcdef0123456789abcdef".into()),
            content_type: json,
            body: image(&ours),
            status: 404,
            says: "no such API endpoint".into(),
        },
        BadInput {
            what: "the secret with one more character",
            secret: Some(format!("{secret}x")),
            content_type: json,
            body: image(&ours),
            status: 404,
            says: "no such API endpoint".into(),
        },
        BadInput {
            what: "the secret without its last character",
            secret: Some(secret[..secret.len() - 1].to_string()),
            content_type: json,
            body: image(&ours),
            status: 404,
            says: "no such API endpoint".into(),
        },
        BadInput {
            what: "a wrong secret is refused before the Content-Type is looked at",
            secret: Some("0123456789abcdef0123456789abcdef".into()),
            content_type: Some("text/plain"),
            body: b"hello".to_vec(),
            status: 404,
            says: "no such API endpoint".into(),
        },
        BadInput {
            what: "malformed JSON",
            secret: None,
            content_type: json,
            body: br#"{"image": "#.to_vec(),
            status: 400,
            says: "invalid webhook body".into(),
        },
        BadInput {
            what: "a JSON array",
            secret: None,
            content_type: json,
            body: b"[]".to_vec(),
            status: 400,
            says: "invalid webhook body".into(),
        },
        BadInput {
            what: "JSON null, answered without naming an internal type",
            secret: None,
            content_type: json,
            body: b"null".to_vec(),
            status: 400,
            says: r#"invalid type: null, expected a JSON object with an "image" string"#.into(),
        },
        BadInput {
            what: "text/plain",
            secret: None,
            content_type: Some("text/plain"),
            body: image(&ours),
            status: 415,
            says: "Content-Type must be application/json".into(),
        },
        BadInput {
            what: "no Content-Type",
            secret: None,
            content_type: None,
            body: image(&ours),
            status: 415,
            says: "Content-Type must be application/json".into(),
        },
        BadInput {
            what: "an unknown field",
            secret: None,
            content_type: json,
            body: format!(r#"{{"image":"{ours}","x":1}}"#).into_bytes(),
            status: 400,
            says: "unknown field `x`".into(),
        },
        BadInput {
            what: "a body over 64 KiB",
            secret: None,
            content_type: json,
            body: oversized,
            status: 413,
            says: "too large".into(),
        },
        BadInput {
            what: "a body of exactly 64 KiB is read (and its absurd image refused)",
            secret: None,
            content_type: json,
            body: at_limit,
            status: 400,
            says: "at most 512 are allowed".into(),
        },
        BadInput {
            what: "an empty image",
            secret: None,
            content_type: json,
            body: image(""),
            status: 400,
            says: "empty".into(),
        },
        BadInput {
            what: "an uppercase repository",
            secret: None,
            content_type: json,
            body: image("127.0.0.1:5000/Acme/App:v1"),
            status: 400,
            says: "lowercase".into(),
        },
        BadInput {
            what: "a malformed digest",
            secret: None,
            content_type: json,
            body: image("a/b@sha256:abc"),
            status: 400,
            says: "digest".into(),
        },
        BadInput {
            what: "an image no project watches",
            secret: None,
            content_type: Some("application/json; charset=utf-8"),
            body: image("127.0.0.1:5000/nobody/watches:v1"),
            status: 200,
            says: "no project watches".into(),
        },
        BadInput {
            what: "a reference by digest only",
            secret: None,
            content_type: json,
            body: image(&format!("{}@sha256:{}", server.repository, "0".repeat(64))),
            status: 200,
            says: "has no tag".into(),
        },
        BadInput {
            what: "a tag no stage accepts",
            secret: None,
            content_type: json,
            body: image(&server.image("nightly")),
            status: 200,
            says: "nightly".into(),
        },
    ];

    let unknown_path = server.get("/api/nope");
    assert_eq!(unknown_path.status, 404);
    let mut replies = vec![unknown_path.clone()];
    for case in &cases {
        let url = match &case.secret {
            Some(secret) => server.url(&format!("/api/webhook/{secret}")),
            None => server.webhook_url(),
        };
        let reply = http_post(&url, case.content_type, &case.body);
        assert_eq!(
            reply.status, case.status,
            "{}: expected HTTP {}, got {}: {}",
            case.what, case.status, reply.status, reply.body
        );
        if case.status == 200 {
            let data = reply.data();
            assert_eq!(data["deploys"], serde_json::json!([]), "{}", case.what);
            let reason = data["reason"].as_str().unwrap_or_default();
            assert!(
                reason.contains(&case.says),
                "{}: expected the reason to mention {:?}, got {reason:?}",
                case.what,
                case.says
            );
        } else {
            let error = reply.error_envelope();
            assert!(
                error.contains(&case.says),
                "{}: expected the error to mention {:?}, got {error:?}",
                case.what,
                case.says
            );
        }
        if case.status == 404 {
            assert_eq!(
                reply.body, unknown_path.body,
                "{}: a wrong secret must look like an unknown path",
                case.what
            );
        }
        let deploys = server.get_data("/api/deploys");
        assert_eq!(
            deploys,
            serde_json::json!([]),
            "{}: no deploy may be recorded",
            case.what
        );
        replies.push(reply);
    }

    // Mistyped webhook URLs still carry the secret; they must not reach the log either.
    for path in [
        format!("/API/webhook/{}", server.secret),
        format!("/api//webhook/{}", server.secret),
        format!("/{}", server.secret),
    ] {
        let reply = http_post(&format!("{}{path}", server.base), json, &image(&ours));
        assert!(reply.status >= 400, "{path}: {}", reply.status);
        replies.push(server.get(&path));
    }

    let health = server.get("/healthz");
    assert_eq!(health.status, 200, "{}", health.body);
    replies.push(health);
    for reply in &replies {
        assert!(
            !reply.body.contains(&server.secret)
                && !reply
                    .headers
                    .iter()
                    .any(|(_, value)| value.contains(&server.secret)),
            "a response repeats the webhook secret: {reply:?}"
        );
    }
    let log = server.log();
    assert!(
        log.contains("/api/webhook/"),
        "expected the server to log webhook requests (redacted):\n{log}"
    );
    for line in log.lines() {
        assert!(
            !line.contains(&server.secret),
            "the server log repeats the webhook secret: {line}"
        );
    }
}

#[test]
fn spa_and_api_fallbacks() {
    let server = Server::start();
    let page = server.get("/deploys/123");
    assert_eq!(page.status, 200, "{}", page.body);
    let content_type = page.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/html"),
        "Content-Type {content_type:?}"
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert!(
        page.body.to_lowercase().contains("<html"),
        "expected the SPA's index.html: {}",
        page.body
    );
    assert_eq!(server.get("/").body, page.body, "every page is index.html");

    for (path, status, says) in [
        ("/api/does-not-exist", 404, "no such API endpoint"),
        ("/api/deploys/999999", 404, "not found"),
        ("/api/deploys/999999/logs", 404, "not found"),
        ("/api/deploys/abc", 400, "expected a whole number"),
        (
            "/api/deploys?limit=abc",
            400,
            r#"invalid query string "limit=abc": invalid digit"#,
        ),
        (
            "/api/deploys?limit=0",
            400,
            "limit must be between 1 and 500",
        ),
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        let content_type = reply.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "{path}: Content-Type {content_type:?}"
        );
        let error = reply.error_envelope();
        assert!(
            error.contains(says),
            "{path}: expected the error to mention {says:?}, got {error:?}"
        );
    }

    // A missing build asset is a 404, not the page (a browser would run HTML as a script).
    let asset = server.get("/_app/immutable/missing.js");
    assert_eq!(asset.status, 404, "{}", asset.body);
}

#[test]
fn a_tag_missing_from_the_registry_fails_the_deploy_with_a_clear_reason() {
    let server = Server::start();
    let image = server.image("never-pushed");
    let id = server.webhook_queued(&image);
    let deploy = server.wait_for_deploy(id, DEPLOY_TIMEOUT);
    assert_eq!(deploy["status"], "failed", "{deploy:#}");
    let reason = deploy["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&image),
        "expected the reason to name the image, got {reason:?}"
    );
    // "what failed: why", with "what failed" said once.
    let what_failed = reason.split(": ").next().unwrap_or_default();
    assert_eq!(
        reason.matches(what_failed).count(),
        1,
        "expected the reason to say once what failed, got {reason:?}"
    );
    let (lines, end) = read_log(&server, id, None);
    assert_eq!(end.json()["reason"], reason);
    assert!(
        messages(&lines).iter().any(|line| line.contains(reason)),
        "expected the log to carry the reason: {:#?}",
        messages(&lines)
    );
    assert!(server.instances().is_empty());
    assert!(server.containers().is_empty());
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn a_fresh_start_logs_no_errors() {
    let server = Server::start();
    assert_eq!(server.get("/healthz").status, 200);
    let log = server.log();
    let errors: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(" ERROR "))
        .collect();
    assert!(
        errors.is_empty(),
        "a first start on an empty data folder logged errors:\n{}",
        errors.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The dashboard in a real browser
// ---------------------------------------------------------------------------------------------

#[test]
fn dashboard_shows_a_deploy_live_in_a_real_browser() {
    let frontend = support::workspace_root().join("frontend");
    for needed in ["node_modules/playwright-core", "build/index.html"] {
        assert!(
            frontend.join(needed).exists(),
            "{} is missing: run `cargo xtask test`, or `npm ci && npm run build` in frontend/",
            frontend.join(needed).display()
        );
    }
    let chromium = support::testbed_var("DW_CHROMIUM");
    let server = Server::start();

    let index = server.get("/");
    assert!(
        index.body.contains("/_app/"),
        "the binary was built without the web UI (GET / is not the SvelteKit app); \
         build frontend/ first (`cargo xtask test` does), then rebuild:\n{}",
        index.body
    );
    // SvelteKit's content-hashed assets may be cached for good.
    let asset = index
        .body
        .split('"')
        .find(|part| part.contains("/_app/immutable/"))
        .map(|part| part.trim_start_matches('.').to_string())
        .unwrap_or_else(|| panic!("no /_app/immutable/ asset in index.html:\n{}", index.body));
    let asset = server.get(&asset);
    assert_eq!(asset.status, 200);
    assert!(
        asset
            .header("cache-control")
            .is_some_and(|value| value.contains("immutable")),
        "expected a long cache on immutable assets: {:?}",
        asset.headers
    );

    server.push("v1");
    server.push("v2");
    let artifacts: PathBuf = support::target_dir().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("create the artifact folder");
    let screenshots = [
        "dashboard.png",
        "deploy.png",
        "deploy-live.png",
        "actions.png",
    ]
    .map(|name| artifacts.join(name));
    for screenshot in &screenshots {
        let _ = std::fs::remove_file(screenshot);
    }
    let output = Command::new("node")
        .arg("tests/dashboard.browser.mjs")
        .current_dir(&frontend)
        .env("DW_URL", &server.base)
        .env("DW_WEBHOOK_URL", server.webhook_url())
        .env("DW_IMAGE", server.image("v1"))
        .env("DW_EXPECT_TAG", "v1")
        .env("DW_NEXT_IMAGE", server.image("v2"))
        .env("DW_ARTIFACT_DIR", &artifacts)
        .env("DW_CHROMIUM", chromium)
        .output()
        .expect("run node (is Node.js installed?)");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the browser test failed ({}):\n{printed}",
        output.status
    );
    for screenshot in &screenshots {
        assert!(
            screenshot.is_file(),
            "expected {} after the browser test:\n{printed}",
            screenshot.display()
        );
    }
    only_running_instance(&server, "v2");
    // Two webhooks, a deploy typed into the stage's tag field, then a rollback: all succeeded.
    let deploys = server.get_data("/api/deploys");
    let triggers: Vec<(&str, &str, &str)> = deploys
        .as_array()
        .expect("a list")
        .iter()
        .rev()
        .map(|deploy| {
            (
                deploy["trigger"].as_str().unwrap_or_default(),
                deploy["tag"].as_str().unwrap_or_default(),
                deploy["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        triggers,
        [
            ("webhook", "v1", "succeeded"),
            ("webhook", "v2", "succeeded"),
            ("manual", "v1", "succeeded"),
            ("rollback", "v2", "succeeded"),
        ],
        "{deploys:#}"
    );
}
