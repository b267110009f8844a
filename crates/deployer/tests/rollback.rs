//! Going back and acting on instances, on the real engine: a rollback repeats the stage's
//! previous healthy deploy with its digest and the container settings it recorded (not what the
//! project says now), and an instance can be stopped, started and restarted.

mod support;

use std::collections::BTreeMap;

use deployer::DeployerError;
use store::{DeployStatus, InstanceStatus, Trigger};
use support::{Bed, docker, stage};

fn container_env(name: &str) -> Vec<String> {
    let json = docker(&["inspect", "-f", "{{json .Config.Env}}", name]);
    serde_json::from_str(json.trim()).expect("the container's env as JSON")
}

#[test]
fn a_rollback_repeats_the_previous_healthy_deploy_with_its_recorded_settings() {
    let bed = Bed::new(vec![stage("dev", "*")]);
    let first = bed.deploy_ok("v1");
    let project = bed.store.projects().unwrap().remove(0);
    bed.store
        .set_project_env(
            project.id,
            &BTreeMap::from([("PLAIN_SETTING".to_string(), "changed".to_string())]),
        )
        .unwrap();
    bed.deploy_ok("v2");
    let v2 = bed.assert_serving("v2");
    assert!(container_env(&v2.container_name).contains(&"PLAIN_SETTING=changed".to_string()));

    let queued = bed
        .deployer
        .rollback(&bed.project, "dev")
        .expect("the stage has an earlier healthy deploy");
    assert_eq!(queued.tag, "v1");
    bed.wait_idle();
    let rollback = bed.deploy_row(queued.deploy_id);
    assert_eq!(
        rollback.status,
        DeployStatus::Succeeded,
        "{:?}\n{}",
        rollback.reason,
        bed.log_text(rollback.id)
    );
    assert_eq!(rollback.trigger, Trigger::Rollback);
    assert_eq!(rollback.digest, first.digest, "the same image, by digest");
    assert_eq!(
        rollback.recorded_settings(),
        bed.deploy_row(first.id).recorded_settings(),
        "the same container settings"
    );
    let serving = bed.assert_serving("v1");
    let env = container_env(&serving.container_name);
    assert!(
        env.contains(&"PLAIN_SETTING=plain-value".to_string()),
        "{env:?}"
    );
    assert!(
        env.iter().any(|var| var.starts_with("APP_SECRET=")),
        "the secret variable is given again: {env:?}"
    );
}

#[test]
fn a_rollback_needs_something_to_go_back_to() {
    let bed = Bed::new(vec![stage("dev", "*")]);
    let nothing = bed.deployer.rollback(&bed.project, "dev").unwrap_err();
    assert!(matches!(nothing, DeployerError::Refused(_)), "{nothing:?}");
    assert!(nothing.to_string().contains("runs nothing"), "{nothing}");

    bed.deploy_ok("v1");
    let first_only = bed.deployer.rollback(&bed.project, "dev").unwrap_err();
    assert!(
        first_only.to_string().contains("no healthy deploy before"),
        "{first_only}"
    );
    let unknown = bed.deployer.rollback(&bed.project, "qa").unwrap_err();
    assert!(
        unknown.to_string().contains("stage qa of project"),
        "{unknown}"
    );
}

#[test]
fn an_instance_is_stopped_started_and_restarted() {
    let bed = Bed::new(vec![stage("dev", "*")]);
    bed.deploy_ok("v1");
    let instance = bed.assert_serving("v1");

    bed.deployer.stop_instance(instance.id).expect("it stops");
    assert_eq!(
        bed.store.instance(instance.id).unwrap().status,
        InstanceStatus::Stopped
    );
    let state = docker(&[
        "inspect",
        "-f",
        "{{.State.Running}}",
        &instance.container_name,
    ]);
    assert_eq!(state.trim(), "false");
    let again = bed.deployer.stop_instance(instance.id).unwrap_err();
    assert!(
        again
            .to_string()
            .contains("has status stopped; it must be running"),
        "{again}"
    );

    bed.deployer.start_instance(instance.id).expect("it starts");
    bed.assert_serving("v1");
    bed.deployer
        .restart_instance(instance.id)
        .expect("it restarts");
    let restarted = bed.assert_serving("v1");
    assert_eq!(restarted.id, instance.id);
    let running = bed.deployer.start_instance(instance.id).unwrap_err();
    assert!(
        running
            .to_string()
            .contains("has status running; it must be stopped or failed"),
        "{running}"
    );
}
