//! The JSON envelope every API answer uses, `{success, data, error}`, and the API's error type.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// A successful answer.
#[derive(Debug, Serialize)]
pub struct Envelope<T: Serialize> {
    success: bool,
    data: Option<T>,
    error: Option<String>,
}

/// `200 OK` with `data`.
pub fn ok<T: Serialize>(data: T) -> HttpResponse {
    with_status(StatusCode::OK, data)
}

/// Any status with `data`.
pub fn with_status<T: Serialize>(status: StatusCode, data: T) -> HttpResponse {
    HttpResponse::build(status).json(Envelope {
        success: true,
        data: Some(data),
        error: None,
    })
}

/// Why a request failed. Each case has one status; messages are written for the caller and never
/// carry internal error text (that goes to the server log).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; the message says what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing here (also the answer to a wrong webhook secret, so it reveals nothing).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with existing data (a taken name, a record still in use).
    #[error("{0}")]
    Conflict(String),
    /// A registry or other outside service failed; the message is its error, which carries no secret.
    #[error("{0}")]
    Upstream(String),
    /// The body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is larger than allowed.
    #[error("request body too large: at most {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Something failed inside; details are in the server log.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// Logs an internal failure and hides it from the caller.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        log::error!("{context}: {error}");
        ApiError::Internal
    }
}

impl From<store::StoreError> for ApiError {
    fn from(error: store::StoreError) -> ApiError {
        match error {
            store::StoreError::NotFound { what } => ApiError::NotFound(format!("{what} not found")),
            // The store's message names the rule, not internals ("UNIQUE constraint failed: registries.name").
            store::StoreError::Conflict { what, message } => {
                ApiError::Conflict(format!("{what}: {message}"))
            }
            wrong @ store::StoreError::WrongState { .. } => ApiError::Conflict(wrong.to_string()),
            other => ApiError::internal("database", other),
        }
    }
}

impl From<deployer::DeployerError> for ApiError {
    fn from(error: deployer::DeployerError) -> ApiError {
        match error {
            deployer::DeployerError::Store(error) => error.into(),
            // Docker or the proxy said no: their reason helps the caller, and holds no secret.
            error @ (deployer::DeployerError::Docker { .. }
            | deployer::DeployerError::Route(_)
            | deployer::DeployerError::Registry(_)) => ApiError::Upstream(error.to_string()),
            deployer::DeployerError::Refused(reason) => ApiError::Conflict(reason),
            deployer::DeployerError::BadInput(reason) => ApiError::BadRequest(reason),
            deployer::DeployerError::TagNotFound(reason) => ApiError::NotFound(reason),
            other => ApiError::internal("deployer", other),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> ApiError {
        ApiError::internal("blocking task", error)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(Envelope::<()> {
            success: false,
            data: None,
            error: Some(self.to_string()),
        })
    }
}

/// A JSON body that could not be read, in the API's own words and statuses.
pub(crate) fn json_error(error: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError;
    match error {
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("Content-Type must be application/json".into())
        }
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::PayloadTooLarge { limit }
        }
        JsonPayloadError::Deserialize(error) => {
            ApiError::BadRequest(format!("invalid body: {error}"))
        }
        other => ApiError::BadRequest(format!("invalid body: {other}")),
    }
}

/// The answer to any unknown `/api` path.
pub async fn not_found() -> HttpResponse {
    ApiError::NotFound("no such API endpoint".into()).error_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body_of(response: HttpResponse) -> String {
        let bytes = response.into_body().try_into_bytes().unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn errors_have_a_fixed_json_shape() {
        let response = ApiError::BadRequest("image: must not be empty".into()).error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body_of(response),
            r#"{"success":false,"data":null,"error":"image: must not be empty"}"#
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let error = ApiError::internal("database", "disk I/O error at /secret/path");
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body_of(response),
            r#"{"success":false,"data":null,"error":"internal error"}"#
        );
    }

    #[test]
    fn success_wraps_data() {
        assert_eq!(
            body_of(ok(vec![1, 2])),
            r#"{"success":true,"data":[1,2],"error":null}"#
        );
    }
}
