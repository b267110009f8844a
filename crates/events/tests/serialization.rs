//! The JSON clients receive is a contract with the frontend; these pin it.

use events::{Event, EventBody};

#[test]
fn deploy_log_serializes_flat_with_type_tag() {
    let event = Event {
        id: 7,
        body: EventBody::DeployLog {
            deploy_id: 3,
            seq: 1,
            at_ms: 5,
            message: "pulling".into(),
        },
    };
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"id":7,"type":"deploy_log","deploy_id":3,"seq":1,"at_ms":5,"message":"pulling"}"#
    );
}

#[test]
fn missing_optionals_serialize_as_null() {
    let event = Event {
        id: 1,
        body: EventBody::DeployStatus {
            deploy_id: 2,
            project: "web".into(),
            stage: "prod".into(),
            tag: "1.0".into(),
            status: "running".into(),
            reason: None,
        },
    };
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"id":1,"type":"deploy_status","deploy_id":2,"project":"web","stage":"prod","tag":"1.0","status":"running","reason":null}"#
    );
}

#[test]
fn name_matches_the_json_type_tag_for_every_kind() {
    let bodies = [
        EventBody::DeployQueued {
            deploy_id: 1,
            project: "p".into(),
            stage: "s".into(),
            tag: "t".into(),
        },
        EventBody::ApprovalRequested {
            deploy_id: 1,
            project: "p".into(),
            stage: "s".into(),
            tag: "t".into(),
            digest: Some("sha256:0".into()),
            trigger: "poll".into(),
        },
        EventBody::DeployStatus {
            deploy_id: 1,
            project: "p".into(),
            stage: "s".into(),
            tag: "t".into(),
            status: "failed".into(),
            reason: Some("pull failed".into()),
        },
        EventBody::DeployLog {
            deploy_id: 1,
            seq: 0,
            at_ms: 0,
            message: "m".into(),
        },
        EventBody::InstanceStatus {
            instance_id: 1,
            project: "p".into(),
            stage: "s".into(),
            tag: "t".into(),
            status: "running".into(),
            container_name: "c".into(),
            address: Some("10.0.0.2:80".into()),
        },
    ];
    let names: Vec<&str> = bodies.iter().map(EventBody::name).collect();
    assert_eq!(
        names,
        [
            "deploy_queued",
            "approval_requested",
            "deploy_status",
            "deploy_log",
            "instance_status"
        ]
    );
    for body in &bodies {
        let json = serde_json::to_value(body).unwrap();
        assert_eq!(json["type"], body.name());
    }
}
