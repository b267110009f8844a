//! `POST /api/registries/{id}/test`: can the registry be reached, and do its credentials work?

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::envelope::{ApiError, ok};
use crate::registries::client::client_for;
use crate::state::AppState;

#[derive(Serialize)]
struct TestResult {
    ok: bool,
    /// Why not, in the registry client's words (which never include the password).
    reason: Option<String>,
}

/// Probes `/v2/` and authenticates as a pull would.
pub async fn test(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let result = web::block(move || -> Result<TestResult, ApiError> {
        let registry = state.store.registry(id)?;
        let client = client_for(&state, &registry)?;
        Ok(match client.check() {
            Ok(()) => TestResult {
                ok: true,
                reason: None,
            },
            Err(error) => TestResult {
                ok: false,
                reason: Some(error.to_string()),
            },
        })
    })
    .await??;
    Ok(ok(result))
}
