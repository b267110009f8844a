//! `POST /api/projects/{project}/stages/{stage}/deploy` with `{"tag": "v2"}`: a person deploys a
//! tag; `POST …/rollback`: back to the stage's previous healthy deploy (409 when it has none). 202 with the queued deploy; 404 for an unknown project, stage or a tag the registry does
//! not have; 409 when the stage promotes from another and the tag does not run healthy there;
//! 400 for a malformed tag; 502 when the registry cannot be asked.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::envelope::{ApiError, with_status};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
// Error messages name what is expected, not this type.
#[serde(deny_unknown_fields, expecting = "a JSON object with a \"tag\" string")]
pub struct DeployBody {
    tag: String,
}

#[derive(Debug, Serialize)]
struct Queued {
    id: i64,
    project: String,
    stage: String,
    tag: String,
    status: &'static str,
}

/// Queues the deploy.
pub async fn deploy(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<DeployBody>,
) -> Result<HttpResponse, ApiError> {
    let (project, stage) = path.into_inner();
    let tag = body.into_inner().tag.trim().to_string();
    if tag.is_empty() {
        return Err(ApiError::BadRequest("tag: must not be empty".into()));
    }
    let deployer = state.deployer.clone();
    let queued = web::block(move || deployer.deploy_tag(&project, &stage, &tag)).await??;
    Ok(accepted(queued))
}

/// Queues a rollback of the stage.
pub async fn rollback(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project, stage) = path.into_inner();
    let deployer = state.deployer.clone();
    let queued = web::block(move || deployer.rollback(&project, &stage)).await??;
    Ok(accepted(queued))
}

fn accepted(queued: deployer::RecordedDeploy) -> HttpResponse {
    with_status(
        StatusCode::ACCEPTED,
        Queued {
            id: queued.deploy_id,
            project: queued.project,
            stage: queued.stage,
            tag: queued.tag,
            status: queued.status.as_str(),
        },
    )
}
