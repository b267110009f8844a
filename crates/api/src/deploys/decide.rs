//! `POST /api/deploys/{id}/approve` and `/reject`: a person's answer to a deploy waiting for
//! approval. Each request is decided once; a second answer is a 409 naming the deploy's state.

use actix_web::{HttpResponse, web};
use store::Decision;

use crate::deploys::DeployOut;
use crate::envelope::{ApiError, ok};
use crate::state::AppState;

/// Approves a waiting deploy: it joins its stage's queue.
pub async fn approve(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    decide(state, id.into_inner(), Decision::Approve).await
}

/// Rejects a waiting deploy: it ends without running.
pub async fn reject(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    decide(state, id.into_inner(), Decision::Reject).await
}

async fn decide(
    state: web::Data<AppState>,
    id: i64,
    decision: Decision,
) -> Result<HttpResponse, ApiError> {
    let deployer = state.deployer.clone();
    let store = state.store.clone();
    let view = web::block(move || {
        deployer.decide(id, decision)?;
        Ok::<_, deployer::DeployerError>(store.deploy_view(id)?)
    })
    .await??;
    log::info!("deploy {id}: {}", view.deploy.status);
    Ok(ok(DeployOut::from(view)))
}
