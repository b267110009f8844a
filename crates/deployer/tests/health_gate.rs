//! The health gate end to end: a new version takes traffic only once healthy, by HTTP status
//! ranges or by the image's own Docker HEALTHCHECK, on the real engine.
//!
//! Needs `cargo xtask testbed` (the engine, the registry and the `dw-testbed/app` images: v1
//! serves `/version` and `/healthz`, `unhealthy` answers 404 on `/healthz`, `crashing` exits with
//! code 3 at once, `healthcheck` has a HEALTHCHECK that passes and `sick` one that fails printing
//! `database unreachable`). Each test pushes to its own repository and removes what it made.

mod support;

use store::{Deploy, NewProject, NewStage};

use support::{Bed, HEALTH_RETRIES, stage};

fn dev_only() -> Vec<NewStage> {
    vec![stage("dev", "*")]
}

/// A bed whose project checks health with `kind`, accepting `status`.
fn bed(kind: &'static str, status: &'static str) -> Bed {
    Bed::with_project(dev_only(), &|project: &mut NewProject| {
        project.health_kind = kind.to_owned();
        project.health_status = status.to_owned();
    })
}

fn reason(deploy: &Deploy) -> String {
    deploy.reason.clone().unwrap_or_default()
}

#[test]
fn an_http_status_outside_the_accepted_range_fails_naming_the_status() {
    let bed = bed("http", "200-399");
    bed.deploy_ok("v1");
    let failed = bed.deploy("unhealthy");
    let reason = reason(&failed);
    let log = bed.log_text(failed.id);
    assert!(
        reason.contains("HTTP 404") && reason.contains("200-399") && reason.contains("/healthz"),
        "reason {reason:?}; log:\n{log}"
    );
    assert!(
        log.contains(&format!("failure {HEALTH_RETRIES} of {HEALTH_RETRIES}")),
        "{log}"
    );
    bed.assert_failed_cleanly(&failed, "v1");
}

#[test]
fn a_range_that_accepts_the_status_lets_the_version_take_over() {
    let bed = bed("http", "200-299,404");
    bed.deploy_ok("v1");
    let deploy = bed.deploy_ok("unhealthy");
    let log = bed.log_text(deploy.id);
    assert!(log.contains("health check passed: HTTP 404"), "{log}");
    assert!(log.contains("until it answers 200-299,404"), "{log}");
    bed.assert_serving("unhealthy");
}

#[test]
fn docker_mode_deploys_an_image_whose_healthcheck_passes() {
    let bed = bed("docker", "200-399");
    let deploy = bed.deploy_ok("healthcheck");
    let log = bed.log_text(deploy.id);
    assert!(log.contains("the container's HEALTHCHECK (wget"), "{log}");
    assert!(log.contains("health check passed: healthy after"), "{log}");
    // Docker mode does not probe over HTTP.
    assert!(!log.contains("GET http"), "{log}");
    bed.assert_serving("healthcheck");
}

#[test]
fn a_failing_healthcheck_fails_with_its_output_and_the_old_version_keeps_serving() {
    let bed = bed("docker", "200-399");
    bed.deploy_ok("healthcheck");
    // `sick` answers HTTP fine: only its HEALTHCHECK says it is not ready.
    let failed = bed.deploy("sick");
    let reason = reason(&failed);
    let log = bed.log_text(failed.id);
    assert!(
        reason.contains("HEALTHCHECK reports unhealthy") && reason.contains("database unreachable"),
        "reason {reason:?}; log:\n{log}"
    );
    assert!(
        log.contains("healthcheck: exit code 1: database unreachable"),
        "{log}"
    );
    bed.assert_failed_cleanly(&failed, "healthcheck");
}

#[test]
fn docker_mode_passes_an_image_without_healthcheck_after_the_grace_period() {
    let bed = bed("docker", "200-399");
    let deploy = bed.deploy_ok("v1");
    let log = bed.log_text(deploy.id);
    assert!(log.contains("its image has no HEALTHCHECK"), "{log}");
    let waited_ms: u128 = log
        .lines()
        .find_map(|line| {
            let rest = line
                .split("health check passed: still running after ")
                .nth(1)?;
            rest.strip_suffix("ms")?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no grace period line in\n{log}"));
    assert!(
        waited_ms >= deployer::MIN_DOCKER_GRACE.as_millis(),
        "passed after {waited_ms}ms; log:\n{log}"
    );
    bed.assert_serving("v1");
}

/// Deploys `crashing` after `old` with the given kind: the exit fails the deploy at once.
fn assert_exit_fails_at_once(kind: &'static str, old: &str) {
    let bed = bed(kind, "200-399");
    bed.deploy_ok(old);
    let failed = bed.deploy("crashing");
    let reason = reason(&failed);
    let log = bed.log_text(failed.id);
    assert!(
        reason.contains("exited with code 3"),
        "{kind}: reason {reason:?}; log:\n{log}"
    );
    assert!(
        log.contains("container: cannot open /data/db: permission denied"),
        "{kind}: {log}"
    );
    // Noticed, not waited out: the retries are not used up, no grace period ended. (A probe sent
    // before the exit may count as a first failure.)
    assert!(
        !log.contains(&format!("failure {HEALTH_RETRIES} of")),
        "{kind}: {log}"
    );
    assert!(!log.contains("health check passed"), "{kind}: {log}");
    bed.assert_failed_cleanly(&failed, old);
}

#[test]
fn an_exit_fails_an_http_checked_deploy_at_once_with_its_code_and_last_lines() {
    assert_exit_fails_at_once("http", "v1");
}

#[test]
fn an_exit_fails_a_docker_checked_deploy_at_once_with_its_code_and_last_lines() {
    assert_exit_fails_at_once("docker", "healthcheck");
}
