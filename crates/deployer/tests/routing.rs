//! Routing through Nginx Proxy Manager, proved on a real nginx: the NPM test double (NPM itself
//! cannot run here) writes one server block per proxy host and reloads a real nginx, so these
//! tests send requests with the stage's domain as `Host` and see which version answers.

mod support;

use std::sync::Arc;

use deployer::{META_MARKER, NpmHostOptions, NpmRouter};
use npm_client::{ForwardScheme, NewProxyHost, NpmClient, NpmConfig};
use npm_double::{ADMIN_EMAIL, ADMIN_PASSWORD, NpmDouble};
use serde_json::Value;
use store::{DeployStatus, NewStage};
use support::{Bed, stage};

/// A client of the double, logged in as its admin on first use.
fn npm_client(npm: &NpmDouble) -> NpmClient {
    NpmClient::new(
        &npm.url(),
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
        NpmConfig::default(),
    )
    .expect("the double's address is valid")
}

/// A bed with one stage `dev` accepting every tag, routing through `npm`.
fn routed_bed(npm: &NpmDouble, route_target: &str) -> Bed {
    routed_bed_with(
        npm,
        stage("dev", "*"),
        NpmHostOptions::default(),
        route_target,
    )
}

/// A bed with this stage, routing through `npm` with these host options.
fn routed_bed_with(
    npm: &NpmDouble,
    stage: NewStage,
    options: NpmHostOptions,
    route_target: &str,
) -> Bed {
    let bed = Bed::with_route_target(vec![stage], route_target);
    let router = NpmRouter::new(npm_client(npm), options);
    bed.deployer.set_router(Some(Arc::new(router)));
    bed
}

/// The stage's domain, as the test settings make it (`{stage}-{project}` on `test.invalid`).
fn dev_domain(bed: &Bed) -> String {
    format!("dev-{}.test.invalid", bed.project)
}

/// What nginx answers for `GET /version` with the domain as `Host`.
fn through_nginx(npm: &NpmDouble, domain: &str) -> (u16, String) {
    let answer = npm
        .get_through_nginx(domain, "/version")
        .unwrap_or_else(|err| panic!("nginx does not answer for {domain}: {err}"));
    (answer.status, answer.body.trim().to_string())
}

fn hosts_for(npm: &NpmDouble, domain: &str) -> Vec<Value> {
    npm.proxy_hosts()
        .into_iter()
        .filter(|host| {
            host["domain_names"]
                .as_array()
                .is_some_and(|names| names.iter().any(|name| name == domain))
        })
        .collect()
}

#[test]
fn each_deploy_points_the_stage_domain_at_the_new_version_and_removal_takes_it_away() {
    let npm = NpmDouble::start();
    let bed = routed_bed(&npm, "container_ip");
    let domain = dev_domain(&bed);
    assert_eq!(through_nginx(&npm, &domain).0, 404, "nothing is routed yet");

    let first = bed.deploy_ok("v1");
    assert_eq!(through_nginx(&npm, &domain), (200, "v1".into()));
    let instance = bed.assert_serving("v1");
    assert_eq!(instance.domain.as_deref(), Some(domain.as_str()));
    let hosts = hosts_for(&npm, &domain);
    assert_eq!(hosts.len(), 1, "{hosts:#?}");
    assert_eq!(
        hosts[0]["meta"][META_MARKER],
        format!("{}/dev", bed.project),
        "our hosts are marked as ours: {hosts:#?}"
    );
    assert!(
        bed.log_text(first.id)
            .contains(&format!("routing {domain} to ")),
        "{}",
        bed.log_text(first.id)
    );

    bed.deploy_ok("v2");
    assert_eq!(through_nginx(&npm, &domain), (200, "v2".into()));
    let hosts = hosts_for(&npm, &domain);
    assert_eq!(hosts.len(), 1, "the same host is repointed: {hosts:#?}");
    let serving = bed.assert_serving("v2");

    let done = bed
        .deployer
        .remove_instance(serving.id)
        .expect("the instance is removed");
    assert!(
        done.iter()
            .any(|line| line.starts_with("deleted NPM proxy host")),
        "{done:?}"
    );
    assert_eq!(through_nginx(&npm, &domain).0, 404, "the route is gone");
    assert!(hosts_for(&npm, &domain).is_empty());
    assert!(bed.live_instances().is_empty());
    assert!(bed.containers(&[]).is_empty(), "{:#?}", bed.containers(&[]));
    let again = bed.deployer.remove_instance(serving.id).unwrap_err();
    assert!(again.to_string().contains("it must be live"), "{again}");
}

#[test]
fn a_published_port_is_routed_through_the_host_address() {
    let npm = NpmDouble::start();
    let bed = routed_bed(&npm, "published_port");
    let domain = dev_domain(&bed);
    bed.deploy_ok("v1");
    assert_eq!(through_nginx(&npm, &domain), (200, "v1".into()));
    let host = &hosts_for(&npm, &domain)[0];
    assert_eq!(host["forward_host"], "127.0.0.1", "{host:#?}");
}

#[test]
fn a_domain_someone_else_routes_is_never_taken_over() {
    let npm = NpmDouble::start();
    let bed = routed_bed(&npm, "container_ip");
    let domain = dev_domain(&bed);
    let theirs = npm_client(&npm)
        .create_proxy_host(&NewProxyHost::new(
            [domain.clone()],
            ForwardScheme::Http,
            "192.0.2.10",
            9999,
        ))
        .expect("a host made by hand");

    let deploy = bed.deploy("v1");
    assert_eq!(deploy.status, DeployStatus::Failed);
    let reason = deploy.reason.unwrap_or_default();
    assert!(
        reason.contains(&domain) && reason.contains("did not make"),
        "{reason}"
    );
    assert!(
        bed.containers(&[]).is_empty(),
        "the new container is removed"
    );
    let hosts = hosts_for(&npm, &domain);
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0]["id"], theirs.id.0);
    assert_eq!(hosts[0]["forward_host"], "192.0.2.10", "left untouched");
}

#[test]
fn npm_down_fails_the_deploy_and_the_old_version_keeps_its_route() {
    let npm = NpmDouble::start();
    let bed = routed_bed(&npm, "container_ip");
    let domain = dev_domain(&bed);
    bed.deploy_ok("v1");

    npm.go_down();
    let deploy = bed.deploy("v2");
    assert_eq!(deploy.status, DeployStatus::Failed);
    let reason = deploy.reason.unwrap_or_default();
    assert!(reason.contains("proxy cannot be used"), "{reason}");
    bed.assert_serving("v1");
    assert_eq!(
        bed.containers(&[]).len(),
        1,
        "the new container is removed: {:#?}",
        bed.containers(&[])
    );
    assert_eq!(
        through_nginx(&npm, &domain),
        (200, "v1".into()),
        "nginx keeps serving the old version"
    );
    npm.come_back();
}

#[test]
fn a_token_npm_calls_expired_when_a_deploy_routes_is_renewed_by_logging_in_again() {
    let npm = NpmDouble::start();
    let bed = routed_bed(&npm, "container_ip");
    let domain = dev_domain(&bed);
    bed.deploy_ok("v1");
    assert_eq!(npm.logins(), 1);

    npm.expire_tokens();
    bed.deploy_ok("v2");
    assert_eq!(
        npm.logins(),
        2,
        "one new login after NPM said the token expired"
    );
    assert_eq!(through_nginx(&npm, &domain), (200, "v2".into()));
}

#[test]
fn the_npm_settings_reach_the_host_and_a_custom_subdomain_is_used() {
    let npm = NpmDouble::start();
    let custom = NewStage {
        subdomain: Some("Shop".into()),
        ..stage("prod", "*")
    };
    let options = NpmHostOptions {
        certificate_id: None,
        ssl_forced: false,
        allow_websocket_upgrade: true,
        access_list_id: None,
    };
    let bed = routed_bed_with(&npm, custom, options, "container_ip");
    bed.deploy_ok("v1");
    let domain = "shop.test.invalid";
    assert_eq!(through_nginx(&npm, domain), (200, "v1".into()));
    let host = &hosts_for(&npm, domain)[0];
    assert_eq!(host["allow_websocket_upgrade"], true, "{host:#?}");
    assert_eq!(host["forward_scheme"], "http", "{host:#?}");
    assert!(
        npm.nginx_config_of(host["id"].as_u64().unwrap())
            .is_some_and(|config| config.contains("Upgrade")),
        "websocket upgrades pass through"
    );
}

#[test]
fn a_repoint_nginx_refuses_is_rolled_back_and_fails_the_deploy() {
    let npm = NpmDouble::start();
    let bed = routed_bed(&npm, "container_ip");
    let domain = dev_domain(&bed);
    bed.deploy_ok("v1");
    let before = hosts_for(&npm, &domain)[0].clone();

    // Someone adds configuration nginx cannot read to our host in NPM's UI.
    let client = npm_client(&npm);
    let id = npm_client::ProxyHostId(before["id"].as_u64().unwrap());
    client
        .update_proxy_host(
            id,
            &npm_client::ProxyHostPatch {
                advanced_config: Some("proxy_read_timeout forever;".into()),
                ..Default::default()
            },
        )
        .expect("NPM takes the change and reports nginx's refusal in meta");

    let deploy = bed.deploy("v2");
    assert_eq!(deploy.status, DeployStatus::Failed);
    let reason = deploy.reason.unwrap_or_default();
    assert!(reason.contains("offline"), "{reason}");
    let after = &hosts_for(&npm, &domain)[0];
    assert_eq!(after["forward_host"], before["forward_host"], "rolled back");
    assert_eq!(after["forward_port"], before["forward_port"]);
    bed.assert_serving("v1");
}

#[test]
fn by_default_npm_forwards_to_the_container_name_on_the_shared_network() {
    let npm = NpmDouble::start();
    let bed = routed_bed(&npm, "container_name");
    let domain = dev_domain(&bed);
    let deploy = bed.deploy_ok("v1");
    let instance = bed.assert_serving("v1");
    let host = &hosts_for(&npm, &domain)[0];
    assert_eq!(
        host["forward_host"],
        instance.container_name.as_str(),
        "{host:#?}"
    );
    assert_eq!(host["forward_port"], 8080, "{host:#?}");
    assert!(bed.log_text(deploy.id).contains(&instance.container_name));
}

#[test]
fn ten_blue_green_deploys_under_load_through_nginx_fail_no_request() {
    let npm = NpmDouble::start();
    let bed = routed_bed(&npm, "container_ip");
    let domain = dev_domain(&bed);
    bed.push("v1");
    bed.push("v2");
    bed.deploy_ok("v1");

    let stop = std::sync::atomic::AtomicBool::new(false);
    let (sent, failures, versions) = std::thread::scope(|scope| {
        let load = scope.spawn(|| {
            let mut sent = 0usize;
            let mut failures = Vec::new();
            let mut versions = std::collections::BTreeSet::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                sent += 1;
                match npm.get_through_nginx(&domain, "/version") {
                    Ok(answer) if answer.status == 200 => {
                        versions.insert(answer.body.trim().to_string());
                    }
                    Ok(answer) => failures.push(format!("HTTP {}: {}", answer.status, answer.body)),
                    Err(error) => failures.push(error.to_string()),
                }
            }
            (sent, failures, versions)
        });
        for round in 0..10 {
            let tag = if round % 2 == 0 { "v2" } else { "v1" };
            let queued = bed.announce_one(tag);
            bed.wait_idle();
            let deploy = bed.deploy_row(queued.deploy_id);
            assert_eq!(
                deploy.status,
                DeployStatus::Succeeded,
                "round {round}: {:?}\n{}",
                deploy.reason,
                bed.log_text(deploy.id)
            );
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        load.join().expect("the load thread")
    });
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed: {failures:#?}",
        failures.len()
    );
    assert!(
        sent > 100,
        "the load was too light to prove anything: {sent} requests"
    );
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), ["v1", "v2"]);
    bed.assert_serving("v1");
}

#[test]
fn a_stage_of_several_instances_gives_each_tag_a_domain_and_evicts_the_oldest() {
    let npm = NpmDouble::start();
    let several = NewStage {
        max_instances: 2,
        ..stage("dev", "*")
    };
    let bed = routed_bed_with(&npm, several, NpmHostOptions::default(), "container_ip");
    let main = dev_domain(&bed);
    let of_tag = |tag: &str| format!("dev-{}-{tag}.test.invalid", bed.project);

    bed.deploy_ok("v1");
    bed.deploy_ok("v2");
    assert_eq!(
        through_nginx(&npm, &main),
        (200, "v2".into()),
        "main follows the newest"
    );
    assert_eq!(through_nginx(&npm, &of_tag("v1")), (200, "v1".into()));
    assert_eq!(through_nginx(&npm, &of_tag("v2")), (200, "v2".into()));
    assert_eq!(bed.live_instances().len(), 2);

    // A third tag: the oldest goes, with its host.
    bed.deploy_ok("healthcheck");
    let live = bed.live_instances();
    let mut tags: Vec<&str> = live.iter().map(|instance| instance.tag.as_str()).collect();
    tags.sort();
    assert_eq!(tags, ["healthcheck", "v2"]);
    assert_eq!(
        through_nginx(&npm, &of_tag("v1")).0,
        404,
        "the evicted tag's route is gone"
    );
    assert_eq!(through_nginx(&npm, &main), (200, "healthcheck".into()));
    assert_eq!(through_nginx(&npm, &of_tag("v2")), (200, "v2".into()));

    // Removing the newest hands the main domain to the next; removing the last takes it away.
    let newest = live
        .iter()
        .find(|instance| instance.tag == "healthcheck")
        .unwrap();
    bed.deployer.remove_instance(newest.id).expect("removed");
    assert_eq!(through_nginx(&npm, &main), (200, "v2".into()));
    assert_eq!(through_nginx(&npm, &of_tag("healthcheck")).0, 404);
    let last = bed.live_instances().remove(0);
    bed.deployer.remove_instance(last.id).expect("removed");
    assert_eq!(through_nginx(&npm, &main).0, 404);
    assert!(npm.proxy_hosts().is_empty(), "{:#?}", npm.proxy_hosts());
}

#[test]
fn an_idle_extra_instance_expires_with_its_route_and_the_newest_stays() {
    let npm = NpmDouble::start();
    let several = NewStage {
        max_instances: 3,
        expire_after_ms: Some(60_000),
        ..stage("dev", "*")
    };
    let bed = routed_bed_with(&npm, several, NpmHostOptions::default(), "container_ip");
    let of_tag = |tag: &str| format!("dev-{}-{tag}.test.invalid", bed.project);
    bed.deploy_ok("v1");
    bed.deploy_ok("v2");

    let now = store::now_ms();
    let early = bed.deployer.expire_instances_at(now + 30_000).unwrap();
    assert!(early.is_empty(), "nothing is a minute old yet: {early:?}");
    assert_eq!(bed.live_instances().len(), 2);

    // Much later, with nobody redeploying: v1 goes, v2 (the newest) stays even though it is old.
    let later = bed.deployer.expire_instances_at(now + 3_600_000).unwrap();
    assert!(
        later
            .iter()
            .any(|line| line.starts_with("deleted NPM proxy host")),
        "{later:?}"
    );
    let live = bed.live_instances();
    assert_eq!(live.len(), 1, "{live:#?}");
    assert_eq!(live[0].tag, "v2");
    assert_eq!(through_nginx(&npm, &of_tag("v1")).0, 404);
    assert_eq!(through_nginx(&npm, &dev_domain(&bed)), (200, "v2".into()));
}
