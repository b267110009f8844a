//! `GET /api/poller`: what the registry poller last saw — per registry its rate limit (what is
//! left, and until when it backs off after a 429) and what polling cost, per stage the outcome of
//! its last poll, so a registry that is down or rate limiting shows here and not only in the log.

use std::time::SystemTime;

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::envelope::{ApiError, ok};
use crate::state::AppState;
use crate::time::rfc3339;

#[derive(Debug, Serialize)]
struct PollerOut {
    last_cycle_at: Option<String>,
    registries: Vec<RegistryOut>,
    stages: Vec<StageOut>,
}

#[derive(Debug, Serialize)]
struct RegistryOut {
    registry: String,
    requests_sent: u64,
    rate_limit: RateLimitOut,
}

#[derive(Debug, Serialize)]
struct RateLimitOut {
    /// `null` when the registry never sent `RateLimit-*` headers (no known limit).
    limit: Option<u32>,
    remaining: Option<u32>,
    window_secs: Option<u64>,
    /// Set only while the poller holds back after a 429.
    backing_off_until: Option<String>,
}

#[derive(Debug, Serialize)]
struct StageOut {
    stage_id: i64,
    /// `project/stage`.
    stage: String,
    outcome: String,
    failed: bool,
    at: String,
}

/// Shows the poller's board.
pub async fn status(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let board = &state.poll_status;
    let now = SystemTime::now();
    let registries = board
        .registries()
        .into_iter()
        .map(|registry| {
            let rate = registry.rate_limit;
            RegistryOut {
                registry: registry.registry,
                requests_sent: registry.requests_sent,
                rate_limit: RateLimitOut {
                    limit: rate.limit,
                    remaining: rate.remaining,
                    window_secs: rate.window.map(|window| window.as_secs()),
                    backing_off_until: rate
                        .backing_off_until
                        .filter(|_| rate.is_backing_off(now))
                        .map(time_text),
                },
            }
        })
        .collect();
    let stages = board
        .stages()
        .into_iter()
        .map(|stage| StageOut {
            stage_id: stage.stage_id,
            stage: stage.label,
            outcome: stage.outcome,
            failed: stage.failed,
            at: time_text(stage.at),
        })
        .collect();
    Ok(ok(PollerOut {
        last_cycle_at: board.last_cycle().map(time_text),
        registries,
        stages,
    }))
}

fn time_text(at: SystemTime) -> String {
    let ms = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    rfc3339(ms)
}
