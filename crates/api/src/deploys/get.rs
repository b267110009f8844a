//! `GET /api/deploys/{id}`: one deploy, with the steps it went through.

use actix_web::{HttpResponse, web};

use crate::deploys::DeployOut;
use crate::envelope::{ApiError, ok};
use crate::state::AppState;

/// Shows one deploy.
pub async fn get(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let store = state.store.clone();
    let (view, steps) = web::block(move || -> store::Result<_> {
        Ok((store.deploy_view(id)?, store.deploy_steps(id)?))
    })
    .await??;
    Ok(ok(DeployOut::from(view).with_steps(steps)))
}
