//! What travels through the hub, and its wire form.

use serde::Serialize;

/// Position of an event in this server run's stream: 1 for the first publish, then +1 each.
pub type EventId = u64;

/// One published event: its id plus what happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub id: EventId,
    // Flattened so clients see one flat object with a `type` field, not a nested body.
    #[serde(flatten)]
    pub body: EventBody,
}

/// What happened. Serialized with a snake_case `type` tag matching [`EventBody::name`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    DeployQueued {
        deploy_id: i64,
        project: String,
        stage: String,
        tag: String,
    },
    ApprovalRequested {
        deploy_id: i64,
        project: String,
        stage: String,
        tag: String,
        digest: Option<String>,
        trigger: String,
    },
    DeployStatus {
        deploy_id: i64,
        project: String,
        stage: String,
        tag: String,
        status: String,
        reason: Option<String>,
    },
    DeployLog {
        deploy_id: i64,
        seq: i64,
        at_ms: i64,
        message: String,
    },
    InstanceStatus {
        instance_id: i64,
        project: String,
        stage: String,
        tag: String,
        status: String,
        container_name: String,
        address: Option<String>,
    },
}

impl EventBody {
    /// The event's kind, as used for the SSE `event:` field; equals the JSON `type` tag.
    pub fn name(&self) -> &'static str {
        match self {
            EventBody::DeployQueued { .. } => "deploy_queued",
            EventBody::ApprovalRequested { .. } => "approval_requested",
            EventBody::DeployStatus { .. } => "deploy_status",
            EventBody::DeployLog { .. } => "deploy_log",
            EventBody::InstanceStatus { .. } => "instance_status",
        }
    }
}
