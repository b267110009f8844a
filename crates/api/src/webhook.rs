//! `POST /api/webhook/{secret}`: "this image was pushed", from a registry or a CI job.
//!
//! The secret in the path is the key: a wrong one gets the same 404 as an unknown path. The body is
//! read as raw bytes (signature checks of native payloads need the exact bytes), then parsed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use deployer::PushOutcome;
use poller::ImageReference;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::body::read_limited;
use crate::envelope::{ApiError, with_status};
use crate::state::AppState;

/// Bodies are one short JSON object; anything near this size is not a webhook.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Longer than any valid reference (a 255-character name, a 128-character tag and a sha512
/// digest), so a longer one is refused without being parsed or echoed back.
const MAX_REFERENCE_LEN: usize = 512;

/// Why a webhook call was refused; the wrong-secret case is kept apart for the audit log.
enum Rejection {
    WrongSecret,
    Invalid(ApiError),
}

impl<E: Into<ApiError>> From<E> for Rejection {
    fn from(error: E) -> Rejection {
        Rejection::Invalid(error.into())
    }
}

/// The generic payload: `{"image": "registry/org/app:tag"}`.
#[derive(Debug, Deserialize)]
// Error messages name what is expected, not this type.
#[serde(
    deny_unknown_fields,
    expecting = "a JSON object with an \"image\" string"
)]
struct GenericPayload {
    image: String,
}

#[derive(Debug, Serialize)]
struct Answer {
    deploys: Vec<RecordedDeploy>,
    reason: Option<String>,
}

#[derive(Debug, Serialize)]
struct RecordedDeploy {
    id: i64,
    project: String,
    stage: String,
    tag: String,
    /// `queued`, or `waiting_approval` where the stage deploys only approved tags.
    status: &'static str,
}

/// Handles a push notification.
pub async fn receive(
    state: web::Data<AppState>,
    request: HttpRequest,
    secret: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let peer = request
        .peer_addr()
        .map(|addr| addr.ip().to_string())
        .unwrap_or_default();
    // The audit line names the caller and the problem, never the secret.
    match handle(state, &request, secret.into_inner(), payload).await {
        Ok(response) => Ok(response),
        Err(Rejection::WrongSecret) => {
            log::warn!(target: "audit", "webhook from {peer} rejected: wrong secret");
            // Indistinguishable from an unknown path, so the secret cannot be probed.
            Err(ApiError::NotFound("no such API endpoint".into()))
        }
        Err(Rejection::Invalid(error)) => {
            log::warn!(target: "audit", "webhook from {peer} rejected: {error}");
            Err(error)
        }
    }
}

async fn handle(
    state: web::Data<AppState>,
    request: &HttpRequest,
    secret: String,
    payload: web::Payload,
) -> Result<HttpResponse, Rejection> {
    let store = state.store.clone();
    let settings = web::block(move || store.settings()).await??;
    let expected = state
        .secrets
        .webhook_secret(&settings)
        .map_err(|error| ApiError::internal("webhook", error))?;
    if !bool::from(secret.as_bytes().ct_eq(expected.expose().as_bytes())) {
        return Err(Rejection::WrongSecret);
    }
    require_json(request)?;
    let body = read_limited(payload, BODY_LIMIT).await?;
    let parsed: GenericPayload = serde_json::from_slice(&body)
        .map_err(|error| ApiError::BadRequest(format!("invalid webhook body: {error}")))?;
    let image = parsed.image.trim();
    if image.len() > MAX_REFERENCE_LEN {
        return Err(ApiError::BadRequest(format!(
            "image: the reference is {} characters long; at most {MAX_REFERENCE_LEN} are allowed",
            image.len()
        ))
        .into());
    }
    let reference = ImageReference::parse(image)
        .map_err(|error| ApiError::BadRequest(format!("image: {error}")))?;

    let deployer = state.deployer.clone();
    let outcome =
        web::block(move || deployer.image_pushed(&reference, store::Trigger::Webhook, None))
            .await??;
    Ok(match outcome {
        PushOutcome::Recorded(queued) => {
            let deploys = queued
                .into_iter()
                .map(|queued| RecordedDeploy {
                    id: queued.deploy_id,
                    project: queued.project,
                    stage: queued.stage,
                    tag: queued.tag,
                    status: queued.status.as_str(),
                })
                .collect();
            with_status(
                StatusCode::ACCEPTED,
                Answer {
                    deploys,
                    reason: None,
                },
            )
        }
        PushOutcome::Ignored { reason } => {
            log::info!("webhook ignored: {reason}");
            with_status(
                StatusCode::OK,
                Answer {
                    deploys: Vec::new(),
                    reason: Some(reason),
                },
            )
        }
    })
}

fn require_json(request: &HttpRequest) -> Result<(), ApiError> {
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else if content_type.is_empty() {
        Err(ApiError::UnsupportedMediaType(
            "Content-Type must be application/json".into(),
        ))
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be application/json, not {content_type}"
        )))
    }
}
