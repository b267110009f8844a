//! SIGKILL in the middle of a deploy, at every step, then a restart on the same data: the
//! restarted server leaves no deploy stuck as running, no container that no live instance owns,
//! and the stage served by one version, reachable through the proxy (the NPM test double and its
//! real nginx). Killed before the switch, the previous version serves; killed while the old one
//! drains after the switch, the new one does (it is healthy and already routed).

mod support;

use std::collections::BTreeSet;

use npm_double::{ADMIN_EMAIL, ADMIN_PASSWORD, NpmDouble};
use serde_json::Value;
use support::{DEPLOY_TIMEOUT, Options, Server, docker};

/// The step to kill in, the tag to deploy, and the deploy-log text that says the step began.
const STEPS: [(&str, &str, &str); 6] = [
    ("pulling", "v2", "pulling "),
    ("created", "v2", "created container"),
    ("started", "v2", "started container"),
    ("health-checking", "unhealthy", "health check: GET"),
    ("routing", "v2", "routing stage-dev-"),
    ("draining", "v2", "letting the previous instance finish"),
];

#[test]
fn a_sigkill_at_any_step_of_a_deploy_leaves_a_clean_state_after_a_restart() {
    let npm = NpmDouble::start();
    let mut server = Server::start_with(Options {
        npm: Some((npm.url(), ADMIN_EMAIL.into(), ADMIN_PASSWORD.into())),
        route_target: Some("container_ip".into()),
        ..Options::default()
    });
    let domain = format!("stage-dev-{}.test.invalid", server.project);
    for tag in ["v1", "v2", "unhealthy"] {
        server.push(tag);
    }
    let first = server.webhook_queued(&server.image("v1"));
    server.wait_for_success(first);
    assert_eq!(through_nginx(&npm, &domain), "v1");

    for (step, tag, marker) in STEPS {
        // Routing hangs while NPM does not answer, so the kill lands inside that step.
        npm.set_unresponsive(step == "routing");
        let id = server.webhook_queued(&server.image(tag));
        wait_for_log_line(&server, id, marker);
        npm.set_unresponsive(false);
        server.kill_and_restart();

        let deploy = server.get_data(&format!("/api/deploys/{id}"));
        assert_eq!(deploy["status"], "interrupted", "{step}: {deploy:#}");
        let unfinished: Vec<Value> = server
            .get_data("/api/deploys?limit=500")
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|deploy| matches!(deploy["status"].as_str(), Some("queued" | "running")))
            .collect();
        assert!(unfinished.is_empty(), "{step}: {unfinished:#?}");

        let instances = server.instances();
        assert_eq!(
            instances.len(),
            1,
            "{step}: one live instance: {instances:#?}"
        );
        let serving = &instances[0];
        assert_eq!(serving["status"], "running", "{step}: {serving:#}");
        let expected = if step == "draining" { "v2" } else { "v1" };
        assert_eq!(serving["tag"], expected, "{step}: {serving:#}");
        let containers: BTreeSet<String> = server.containers().into_iter().collect();
        let owned: BTreeSet<String> = instances
            .iter()
            .filter_map(|instance| instance["container_name"].as_str().map(str::to_string))
            .collect();
        assert_eq!(
            containers, owned,
            "{step}: containers no live instance owns"
        );
        assert_eq!(
            through_nginx(&npm, &domain),
            expected,
            "{step}: the domain serves the surviving version"
        );
        assert_running(&server, &containers);
    }
}

fn through_nginx(npm: &NpmDouble, domain: &str) -> String {
    let answer = npm
        .get_through_nginx(domain, "/version")
        .unwrap_or_else(|err| panic!("nginx does not answer for {domain}: {err}"));
    assert_eq!(answer.status, 200, "{domain}: {}", answer.body);
    answer.body.trim().to_string()
}

/// Follows the deploy's log until a line containing `marker` appears.
fn wait_for_log_line(server: &Server, id: i64, marker: &str) {
    let mut stream = server.sse(&format!("/api/deploys/{id}/logs"), None);
    stream.collect_until(DEPLOY_TIMEOUT, |frame| {
        frame.event.as_deref() == Some("log")
            && frame.json()["message"]
                .as_str()
                .is_some_and(|message| message.contains(marker))
    });
}

fn assert_running(server: &Server, containers: &BTreeSet<String>) {
    let host = server.docker.as_deref().expect("an engine");
    for name in containers {
        let state = docker(host, &["inspect", "-f", "{{.State.Status}}", name]);
        assert_eq!(state.trim(), "running", "{name}");
    }
}
