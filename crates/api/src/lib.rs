//! The HTTP API: REST endpoints, the webhook, and the SSE streams, on actix-web.
//!
//! Owns: routes, request parsing and validation, the `{success, data, error}` envelope, the mapping
//! from errors to status codes, and SSE framing.
//!
//! Does not own: any business rule. Handlers parse, call the `deployer` or the `store` (off the async
//! threads, through `web::block`), and shape the answer. Serving the web UI is the server's job.

mod body;
mod deploys;
mod envelope;
mod events;
mod health;
mod projects;
mod sse;
mod state;
mod time;
mod webhook;

use actix_web::web;

pub use envelope::{ApiError, Envelope};
pub use state::AppState;
pub use webhook::redacted_path;

/// Registers `/healthz` and everything under `/api`.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .app_data(web::PathConfig::default().error_handler(|error, _| {
            ApiError::BadRequest(format!("invalid path: {error}")).into()
        }))
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            ApiError::BadRequest(format!("invalid query: {error}")).into()
        }))
        .route("/healthz", web::get().to(health::healthz))
        .service(
            web::scope("/api")
                .route("/webhook/{secret}", web::post().to(webhook::receive))
                .route("/projects", web::get().to(projects::list::list))
                .route("/deploys", web::get().to(deploys::list::list))
                .route("/deploys/{id}", web::get().to(deploys::get::get))
                .route("/deploys/{id}/logs", web::get().to(deploys::logs::stream))
                .route("/events", web::get().to(events::stream))
                .default_service(web::to(envelope::not_found)),
        );
}
