//! `GET /api/events`: every deploy and instance change, live, resumable with `Last-Event-ID`.

use std::future::poll_fn;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use events::{Catchup, Event, Next, Subscription};

use crate::sse;
use crate::state::AppState;

/// Opens the system event stream.
pub async fn stream(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let last_seen = sse::last_event_id(&request);
    let subscription = state.hub.subscribe(match last_seen {
        sse::LastEventId::Id(id) => Some(id),
        sse::LastEventId::Absent | sse::LastEventId::Unreadable => None,
    });
    let mut first = sse::retry_frame();
    match (last_seen, subscription.catchup()) {
        // A client whose position is unknown cannot be caught up: it reloads its snapshot.
        (sse::LastEventId::Unreadable, _) | (_, Catchup::Resync) => first.push_str(&resync_frame()),
        (_, Catchup::Events(missed)) => missed
            .iter()
            .for_each(|event| first.push_str(&frame(event))),
    }
    let state = EventStream {
        subscription,
        first: Some(first),
        keepalive: keepalive_timer(),
    };
    sse::response(futures_util::stream::unfold(
        state,
        |mut state| async move {
            let chunk = state.next_chunk().await?;
            Some((Ok(Bytes::from(chunk)), state))
        },
    ))
}

struct EventStream {
    subscription: Subscription,
    first: Option<String>,
    keepalive: tokio::time::Interval,
}

impl EventStream {
    /// The next piece of the stream; None ends it (the hub is gone: the server is stopping).
    async fn next_chunk(&mut self) -> Option<String> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        tokio::select! {
            next = poll_fn(|cx| self.subscription.poll_next(cx)) => match next {
                Next::Event(event) => Some(frame(&event)),
                // The client fell behind and events were dropped: it must reload its snapshot.
                Next::Lagged => Some(resync_frame()),
                Next::Empty => Some(String::new()),
                Next::Closed => None,
            },
            _ = self.keepalive.tick() => Some(sse::keepalive_frame().to_string()),
        }
    }
}

fn frame(event: &Event) -> String {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_string());
    sse::event_frame(Some(&event.id.to_string()), event.body.name(), &data)
}

fn resync_frame() -> String {
    sse::event_frame(None, "resync", "{}")
}

/// Ticks every [`sse::KEEPALIVE`], first one after a full period.
pub(crate) fn keepalive_timer() -> tokio::time::Interval {
    let start = tokio::time::Instant::now() + sse::KEEPALIVE;
    let mut timer = tokio::time::interval_at(start, sse::KEEPALIVE);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer
}
