//! `GET /api/deploys/{id}`: one deploy.

use actix_web::{HttpResponse, web};

use crate::deploys::DeployOut;
use crate::envelope::{ApiError, ok};
use crate::state::AppState;

/// Shows one deploy.
pub async fn get(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let store = state.store.clone();
    let view = web::block(move || store.deploy_view(id)).await??;
    Ok(ok(DeployOut::from(view)))
}
