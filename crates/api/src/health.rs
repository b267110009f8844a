//! `GET /healthz`: the process is up and its database answers.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::envelope::{ApiError, ok};
use crate::state::AppState;

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

/// Answers 200 when the database can be read.
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    web::block(move || store.is_configured()).await??;
    Ok(ok(Health { status: "ok" }))
}
