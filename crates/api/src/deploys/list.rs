//! `GET /api/deploys?limit=N`: recent deploys, newest first.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::deploys::DeployOut;
use crate::envelope::{ApiError, ok};
use crate::state::AppState;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    limit: Option<i64>,
}

/// Lists recent deploys.
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let store = state.store.clone();
    let deploys = web::block(move || store.recent_deploys(limit)).await??;
    Ok(ok(deploys
        .into_iter()
        .map(DeployOut::from)
        .collect::<Vec<_>>()))
}
