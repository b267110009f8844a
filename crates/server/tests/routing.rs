//! The whole product routing through Nginx Proxy Manager: the real binary, engine and registry,
//! and the NPM test double (NPM itself cannot run here) reloading a real nginx. A request with
//! the stage's domain as `Host` to that nginx reaches the version just deployed.

mod support;

use npm_double::{ADMIN_EMAIL, ADMIN_PASSWORD, NpmDouble};
use support::{Options, Server, http_delete};

fn routed_server(npm: &NpmDouble) -> Server {
    Server::start_with(Options {
        npm: Some((npm.url(), ADMIN_EMAIL.into(), ADMIN_PASSWORD.into())),
        // nginx runs on this host, outside Docker: it reaches containers by their address.
        route_target: Some("container_ip".into()),
        // The debug log is where a leaked password would show.
        rust_log: "debug".into(),
        ..Options::default()
    })
}

fn version_through_nginx(npm: &NpmDouble, domain: &str) -> (u16, String) {
    let answer = npm
        .get_through_nginx(domain, "/version")
        .unwrap_or_else(|err| panic!("nginx does not answer for {domain}: {err}"));
    (answer.status, answer.body.trim().to_string())
}

#[test]
fn a_new_version_is_reachable_at_the_stage_domain_through_nginx_until_it_is_removed() {
    let npm = NpmDouble::start();
    let server = routed_server(&npm);
    let domain = format!("stage-dev-{}.test.invalid", server.project);

    for tag in ["v1", "v2"] {
        server.push(tag);
        let id = server.webhook_queued(&server.image(tag));
        server.wait_for_success(id);
        assert_eq!(version_through_nginx(&npm, &domain), (200, tag.into()));
    }
    let instances = server.instances();
    assert_eq!(instances.len(), 1, "{instances:#?}");
    assert_eq!(instances[0]["domain"], domain.as_str(), "{instances:#?}");
    assert_eq!(npm.proxy_hosts().len(), 1, "one host, repointed");

    let id = instances[0]["id"].as_i64().expect("an instance id");
    let removed = http_delete(&server.url(&format!("/api/instances/{id}")));
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(version_through_nginx(&npm, &domain).0, 404);
    assert!(npm.proxy_hosts().is_empty());
    assert!(server.instances().is_empty());
    let twice = http_delete(&server.url(&format!("/api/instances/{id}")));
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert!(
        twice.error_envelope().contains("it must be live"),
        "{}",
        twice.body
    );
    let unknown = http_delete(&server.url("/api/instances/999999"));
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    let log = server.log();
    assert!(
        log.contains("routing each stage's domain through Nginx Proxy Manager"),
        "{log}"
    );
    assert!(
        !log.contains(ADMIN_PASSWORD),
        "the NPM password is in the log"
    );
    let projects = server.get("/api/projects").body;
    assert!(!projects.contains(ADMIN_PASSWORD), "{projects}");
    // The password reached NPM, in the login body only: NPM is configured from the seed.
    assert!(npm.logins() >= 1);
}
