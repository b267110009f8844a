//! Rate limits: what the registry says is left (`RateLimit-Limit` / `RateLimit-Remaining`, as
//! Docker Hub sends them) and how long it asked us to wait (`Retry-After` on a 429).

use std::time::{Duration, SystemTime};

/// What the client last learned about its rate limit on one registry.
///
/// `None` means the registry never said: registries without limits (and Docker Hub for
/// accounts without one) send no headers, and that must not read as "nothing left".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitState {
    /// Requests allowed per window.
    pub limit: Option<u32>,
    /// Requests left in the current window.
    pub remaining: Option<u32>,
    /// The window (`w=` in the headers).
    pub window: Option<Duration>,
    /// Until when the client holds back after a 429; in the past once that time has passed.
    pub backing_off_until: Option<SystemTime>,
}

impl RateLimitState {
    /// Whether the client is holding back requests at `now`.
    pub fn is_backing_off(&self, now: SystemTime) -> bool {
        self.backing_off_until.is_some_and(|until| until > now)
    }

    /// Takes whatever rate-limit headers a response carried; absent ones keep the last value.
    pub(crate) fn observe(&mut self, limit: Option<&str>, remaining: Option<&str>) {
        if let Some((limit, window)) = limit.and_then(parse_header) {
            self.limit = Some(limit);
            self.window = window.or(self.window);
        }
        if let Some((remaining, window)) = remaining.and_then(parse_header) {
            self.remaining = Some(remaining);
            self.window = window.or(self.window);
        }
    }
}

/// Reads `100;w=21600` (or a bare `100`) into the count and the window.
pub(crate) fn parse_header(value: &str) -> Option<(u32, Option<Duration>)> {
    let mut parts = value.split(';');
    let count = parts.next()?.trim().parse().ok()?;
    let window = parts.find_map(|part| {
        let (name, seconds) = part.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("w") {
            return None;
        }
        seconds.trim().parse().ok().map(Duration::from_secs)
    });
    Some((count, window))
}

/// How long `Retry-After` (delay-seconds or an HTTP date) asks to wait from `now`; a date in
/// the past means now. `None` when the value is neither.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_headers_give_count_and_window() {
        assert_eq!(
            parse_header("100;w=21600"),
            Some((100, Some(Duration::from_secs(21600))))
        );
        assert_eq!(
            parse_header(" 0 ; w=21600 "),
            Some((0, Some(Duration::from_secs(21600))))
        );
        assert_eq!(parse_header("42"), Some((42, None)));
        assert_eq!(parse_header("lots"), None);
        assert_eq!(parse_header(""), None);
    }

    #[test]
    fn the_state_keeps_the_last_values_seen() {
        let mut state = RateLimitState::default();
        state.observe(Some("100;w=21600"), Some("0;w=21600"));
        assert_eq!(state.limit, Some(100));
        assert_eq!(state.remaining, Some(0));
        assert_eq!(state.window, Some(Duration::from_secs(21600)));
        // A response without headers says nothing new, and certainly not "zero left".
        state.observe(None, None);
        assert_eq!(state.remaining, Some(0));
        state.observe(None, Some("7"));
        assert_eq!(state.remaining, Some(7));
        assert_eq!(state.window, Some(Duration::from_secs(21600)));
    }

    #[test]
    fn missing_headers_mean_unknown() {
        let mut state = RateLimitState::default();
        state.observe(None, Some("garbage"));
        assert_eq!(state, RateLimitState::default());
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Thu, 03 Dec 2026 17:32:47 GMT").unwrap();
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Thu, 03 Dec 2026 17:33:17 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Thu, 03 Dec 2026 17:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn backing_off_is_judged_against_the_clock() {
        let now = SystemTime::now();
        let state = RateLimitState {
            backing_off_until: Some(now + Duration::from_secs(5)),
            ..RateLimitState::default()
        };
        assert!(state.is_backing_off(now));
        assert!(!state.is_backing_off(now + Duration::from_secs(6)));
        assert!(!RateLimitState::default().is_backing_off(now));
    }
}
