//! `GET /api/registries`.

use actix_web::{HttpResponse, web};

use crate::envelope::{ApiError, ok};
use crate::registries::RegistryOut;
use crate::state::AppState;

/// Lists registries, passwords shown only as `password_set`.
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let registries = web::block(move || store.registries()).await??;
    Ok(ok(registries
        .into_iter()
        .map(RegistryOut::from)
        .collect::<Vec<_>>()))
}
