//! `DELETE /api/registries/{id}`: refused while a project uses the registry.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::envelope::{ApiError, ok};
use crate::state::AppState;

#[derive(Serialize)]
struct Deleted {
    id: i64,
}

/// Removes a registry.
pub async fn delete(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let store = state.store.clone();
    web::block(move || store.delete_registry(id))
        .await?
        .map_err(|error| match error {
            store::StoreError::Conflict { message, .. } => ApiError::Conflict(format!(
                "registry {id} is {message}; give them another registry first"
            )),
            other => other.into(),
        })?;
    Ok(ok(Deleted { id }))
}
