//! `DELETE /api/instances/{id}`: stop and remove one instance, and take its domain off the proxy.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::envelope::{ApiError, ok};
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct Removed {
    id: i64,
    /// What was done, in words.
    done: Vec<String>,
}

/// Removes an instance; 404 for an unknown one, 409 for one already removed, 502 when Docker or
/// the proxy refuses.
pub async fn remove(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let deployer = state.deployer.clone();
    let done = web::block(move || deployer.remove_instance(id)).await??;
    Ok(ok(Removed { id, done }))
}
