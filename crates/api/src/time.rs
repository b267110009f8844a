//! Times in answers: RFC 3339 in UTC with milliseconds, which browsers parse without guessing a zone.

/// `1764778155123` → `"2025-12-03T16:09:15.123Z"`.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_with_milliseconds() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::rfc3339(1_764_778_155_123),
            "2025-12-03T16:09:15.123Z"
        );
    }
}
