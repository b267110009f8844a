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
mod instances;
mod poller;
mod projects;
mod redact;
mod registries;
mod sse;
mod state;
mod time;
mod webhook;

use actix_web::web;

pub use envelope::{ApiError, Envelope};
pub use redact::Redactor;
pub use state::AppState;

/// How much of a query string an error answer quotes.
const QUERY_ECHO_MAX: usize = 200;

/// Registers `/healthz` and everything under `/api`.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        // Every path parameter under /api is a numeric id (the webhook secret is a string and
        // cannot fail to parse).
        .app_data(web::PathConfig::default().error_handler(|_, request| {
            ApiError::BadRequest(format!(
                "invalid id in {}: expected a whole number",
                request.path()
            ))
            .into()
        }))
        .app_data(
            web::JsonConfig::default()
                .limit(webhook::BODY_LIMIT)
                .error_handler(|error, _| envelope::json_error(error).into()),
        )
        .app_data(web::QueryConfig::default().error_handler(|error, request| {
            let detail = match error {
                actix_web::error::QueryPayloadError::Deserialize(inner) => inner.to_string(),
                other => other.to_string(),
            };
            // serde's message ("invalid digit found in string") does not say which parameter,
            // so the query is quoted, cut short as long input is everywhere in answers.
            let query: String = request
                .query_string()
                .chars()
                .take(QUERY_ECHO_MAX)
                .collect();
            ApiError::BadRequest(format!("invalid query string {query:?}: {detail}")).into()
        }))
        .route("/healthz", web::get().to(health::healthz))
        .service(
            web::scope("/api")
                .route("/webhook/{secret}", web::post().to(webhook::receive))
                .route("/projects", web::get().to(projects::list::list))
                .route("/deploys", web::get().to(deploys::list::list))
                .route("/deploys/{id}", web::get().to(deploys::get::get))
                .route("/deploys/{id}/logs", web::get().to(deploys::logs::stream))
                .route(
                    "/deploys/{id}/approve",
                    web::post().to(deploys::decide::approve),
                )
                .route(
                    "/deploys/{id}/reject",
                    web::post().to(deploys::decide::reject),
                )
                .route("/instances/{id}", web::delete().to(instances::remove))
                .route("/instances/{id}/stop", web::post().to(instances::stop))
                .route("/instances/{id}/start", web::post().to(instances::start))
                .route(
                    "/instances/{id}/restart",
                    web::post().to(instances::restart),
                )
                .route(
                    "/projects/{project}/stages/{stage}/rollback",
                    web::post().to(projects::deploy::rollback),
                )
                .route(
                    "/projects/{project}/stages/{stage}/deploy",
                    web::post().to(projects::deploy::deploy),
                )
                .route("/events", web::get().to(events::stream))
                .route("/poller", web::get().to(poller::status))
                .route("/registries", web::get().to(registries::list::list))
                .route("/registries", web::post().to(registries::create::create))
                .route(
                    "/registries/{id}",
                    web::put().to(registries::update::update),
                )
                .route(
                    "/registries/{id}",
                    web::delete().to(registries::delete::delete),
                )
                .route(
                    "/registries/{id}/test",
                    web::post().to(registries::test::test),
                )
                .route(
                    "/registries/{id}/tags",
                    web::get().to(registries::tags::tags),
                )
                .default_service(web::to(envelope::not_found)),
        );
}
