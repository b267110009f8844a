//! NPM's error answers: `{"error": {"code": …, "message": …}}` with the status in `code`, and
//! the texts NPM uses for the situations the double plays.

use serde_json::{Value, json};

use crate::http::Response;

/// An error answer with NPM's shape.
pub(crate) fn npm_error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"error": {"code": status, "message": message}}),
    )
}

/// An error answer that also has NPM's `message_i18n` (a key, or for an expired token an
/// empty object: a bug of NPM's, kept so clients are tested against it).
pub(crate) fn npm_error_i18n(status: u16, message: &str, i18n: Value) -> Response {
    Response::json(
        status,
        &json!({"error": {"code": status, "message": message, "message_i18n": i18n}}),
    )
}

pub(crate) fn invalid_credentials() -> Response {
    npm_error_i18n(
        400,
        "Invalid email or password",
        json!("error.invalid-auth"),
    )
}

pub(crate) fn token_expired() -> Response {
    npm_error_i18n(400, "Token has expired", json!({}))
}

/// What NPM masks every non-public error as.
pub(crate) fn internal_error() -> Response {
    npm_error(500, "Internal Error")
}

/// NPM's 404, which names what was not found (a path, or an id).
pub(crate) fn not_found(what: &str) -> Response {
    npm_error(404, &format!("Not Found - {what}"))
}
