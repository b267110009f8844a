//! `GET /api/deploys/{id}/logs`: one deploy's log as SSE — the lines so far, then live lines, then
//! an `end` event with the outcome. Event ids are the lines' sequence numbers, so a reconnect with
//! `Last-Event-ID: n` continues at line n+1, read from the store: no gaps, no duplicates.

use std::future::poll_fn;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use events::{EventBody, Next, Subscription};
use serde::Serialize;
use store::{LogLine, Store};

use crate::envelope::ApiError;
use crate::events::keepalive_timer;
use crate::sse;
use crate::state::AppState;
use crate::time::rfc3339;

#[derive(Serialize)]
struct LineOut<'a> {
    seq: i64,
    at: String,
    message: &'a str,
}

#[derive(Serialize)]
struct EndOut<'a> {
    status: &'a str,
    reason: Option<&'a str>,
}

/// Opens a deploy's log stream; 404 for an unknown deploy.
pub async fn stream(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let deploy_id = id.into_inner();
    // Subscribe before reading the store, so a line written in between arrives live.
    let subscription = state.hub.subscribe(None);
    let store = state.store.clone();
    web::block(move || store.deploy(deploy_id)).await??;
    let log = LogStream {
        store: state.store.clone(),
        subscription,
        deploy_id,
        // An unreadable id replays the whole log; the client de-duplicates by sequence number.
        last_seq: match sse::last_event_id(&request) {
            sse::LastEventId::Id(id) => i64::try_from(id).unwrap_or(i64::MAX),
            sse::LastEventId::Absent | sse::LastEventId::Unreadable => 0,
        },
        started: false,
        ended: false,
        keepalive: keepalive_timer(),
    };
    Ok(sse::response(futures_util::stream::unfold(
        log,
        |mut log| async move {
            let chunk = log.next_chunk().await?;
            Some((Ok(Bytes::from(chunk)), log))
        },
    )))
}

struct LogStream {
    store: Store,
    subscription: Subscription,
    deploy_id: i64,
    /// The last line sent.
    last_seq: i64,
    started: bool,
    ended: bool,
    keepalive: tokio::time::Interval,
}

impl LogStream {
    async fn next_chunk(&mut self) -> Option<String> {
        if self.ended {
            return None;
        }
        if !self.started {
            self.started = true;
            let mut chunk = sse::retry_frame();
            chunk.push_str(&self.catch_up().await);
            return Some(chunk);
        }
        tokio::select! {
            next = poll_fn(|cx| self.subscription.poll_next(cx)) => match next {
                Next::Event(event) => Some(self.on_event(event.body).await),
                // Dropped events are still in the store.
                Next::Lagged => Some(self.catch_up().await),
                Next::Empty => Some(String::new()),
                Next::Closed => None,
            },
            _ = self.keepalive.tick() => Some(sse::keepalive_frame().to_string()),
        }
    }

    async fn on_event(&mut self, body: EventBody) -> String {
        match body {
            EventBody::DeployLog {
                deploy_id,
                seq,
                at_ms,
                message,
            } if deploy_id == self.deploy_id => {
                if seq == self.last_seq + 1 {
                    self.last_seq = seq;
                    line_frame(&LogLine {
                        deploy_id,
                        seq,
                        at: at_ms,
                        message,
                    })
                } else if seq > self.last_seq {
                    self.catch_up().await
                } else {
                    String::new()
                }
            }
            EventBody::DeployStatus { deploy_id, .. } if deploy_id == self.deploy_id => {
                self.catch_up().await
            }
            _ => String::new(),
        }
    }

    /// Sends the lines after the last one sent, and the end event when the deploy has finished.
    async fn catch_up(&mut self) -> String {
        let store = self.store.clone();
        let (deploy_id, after) = (self.deploy_id, self.last_seq);
        // Status first: a finished deploy has written all its lines, so reading them second sees every one.
        let read = web::block(move || -> store::Result<_> {
            let deploy = store.deploy(deploy_id)?;
            let lines = store.logs_after(deploy_id, after)?;
            Ok((deploy, lines))
        })
        .await;
        let (deploy, lines) = match read {
            Ok(Ok(read)) => read,
            Ok(Err(error)) => {
                log::error!("deploy {deploy_id} log stream: {error}");
                return String::new();
            }
            Err(error) => {
                log::error!("deploy {deploy_id} log stream: {error}");
                return String::new();
            }
        };
        let mut chunk = String::new();
        for line in &lines {
            chunk.push_str(&line_frame(line));
            self.last_seq = line.seq;
        }
        if deploy.status.is_finished() {
            let end = EndOut {
                status: deploy.status.as_str(),
                reason: deploy.reason.as_deref(),
            };
            let data = serde_json::to_string(&end).unwrap_or_else(|_| "{}".into());
            chunk.push_str(&sse::event_frame(None, "end", &data));
            self.ended = true;
        }
        chunk
    }
}

fn line_frame(line: &LogLine) -> String {
    let out = LineOut {
        seq: line.seq,
        at: rfc3339(line.at),
        message: &line.message,
    };
    let data = serde_json::to_string(&out).unwrap_or_else(|_| "{}".into());
    sse::event_frame(Some(&line.seq.to_string()), "log", &data)
}
