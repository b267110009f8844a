//! One instance: `DELETE /api/instances/{id}` stops and removes it and takes its domain off the
//! proxy; `POST /api/instances/{id}/stop`, `/start` and `/restart` do what they say (a started
//! instance gets its domain pointed at it again).

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::envelope::{ApiError, ok};
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct Done {
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
    Ok(ok(Done { id, done }))
}

/// Stops a running instance; 409 when it is not running.
pub async fn stop(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    act(state, id.into_inner(), deployer::Deployer::stop_instance).await
}

/// Starts a stopped or failed instance; 409 when it is neither.
pub async fn start(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    act(state, id.into_inner(), deployer::Deployer::start_instance).await
}

/// Restarts a running instance; 409 when it is not running.
pub async fn restart(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    act(state, id.into_inner(), deployer::Deployer::restart_instance).await
}

async fn act(
    state: web::Data<AppState>,
    id: i64,
    action: fn(&deployer::Deployer, i64) -> deployer::Result<Vec<String>>,
) -> Result<HttpResponse, ApiError> {
    let deployer = state.deployer.clone();
    let done = web::block(move || action(&deployer, id)).await??;
    Ok(ok(Done { id, done }))
}
