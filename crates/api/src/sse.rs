//! Server-Sent Events framing and the response every stream shares.
//!
//! Streams start with `retry:` so browsers wait a few seconds before reconnecting, carry an `id:` on
//! every event so a reconnect resumes with `Last-Event-ID`, and send a comment at least every
//! [`KEEPALIVE`] so idle proxies keep the connection open and a vanished client is noticed.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::Stream;

/// The longest a stream stays silent.
pub const KEEPALIVE: Duration = Duration::from_secs(15);

/// How long a browser waits before reconnecting, in milliseconds.
const RETRY_MS: u32 = 3000;

/// The first frame of every stream.
pub fn retry_frame() -> String {
    format!("retry: {RETRY_MS}\n\n")
}

/// One event frame. `data` must be one line (JSON from serde_json is).
pub fn event_frame(id: Option<&str>, event: &str, data: &str) -> String {
    let mut frame = String::with_capacity(data.len() + 48);
    if let Some(id) = id {
        frame.push_str("id: ");
        frame.push_str(id);
        frame.push('\n');
    }
    frame.push_str("event: ");
    frame.push_str(event);
    frame.push_str("\ndata: ");
    frame.push_str(data);
    frame.push_str("\n\n");
    frame
}

/// A comment frame; EventSource ignores it.
pub fn keepalive_frame() -> &'static str {
    ": keepalive\n\n"
}

/// What a reconnecting client says it has already seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastEventId {
    /// No `Last-Event-ID` header: a first connection.
    Absent,
    /// The id of the last event the client received.
    Id(u64),
    /// A header that is not one of our ids: the client's state is unknown.
    Unreadable,
}

/// Reads the `Last-Event-ID` header.
pub fn last_event_id(request: &HttpRequest) -> LastEventId {
    match request.headers().get("Last-Event-ID") {
        None => LastEventId::Absent,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|value| value.trim().parse().ok())
            .map_or(LastEventId::Unreadable, LastEventId::Id),
    }
}

/// A streaming `text/event-stream` response with the headers proxies need to pass it through live.
pub fn response<S>(stream: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
{
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache, no-transform"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_follow_the_event_stream_format() {
        assert_eq!(
            event_frame(Some("7"), "log", "{\"a\":1}"),
            "id: 7\nevent: log\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(event_frame(None, "end", "{}"), "event: end\ndata: {}\n\n");
        assert_eq!(retry_frame(), "retry: 3000\n\n");
    }
}
