//! Reading NPM's answers leniently: NPM stores booleans as 0/1 and some versions or database
//! drivers hand them out that way, `locations` and `meta` may be `null`, and dates come in
//! two formats depending on the database (`2026-12-03 15:45:10` from SQLite,
//! `2025-10-30T01:12:05.000Z` from MySQL).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::{Deserialize, Deserializer, Error};
use serde_json::Value;

/// A boolean written as `true`/`false`, `1`/`0` or `"1"`/`"0"`; `null` is false.
pub fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    optional_flag(deserializer).map(Option::unwrap_or_default)
}

/// Like [`flag`], but `null` is "not said".
pub fn optional_flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(flag)),
        Value::Number(number) if number.as_f64() == Some(0.0) => Ok(Some(false)),
        Value::Number(number) if number.as_f64() == Some(1.0) => Ok(Some(true)),
        Value::String(text) if text == "0" || text == "false" => Ok(Some(false)),
        Value::String(text) if text == "1" || text == "true" => Ok(Some(true)),
        other => Err(D::Error::custom(format!(
            "expected a boolean or 0/1, found {other}"
        ))),
    }
}

/// A non-negative integer, also written as a string of digits; `null` is 0.
pub fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(0),
        Value::Number(number) => number.as_u64().ok_or_else(|| {
            D::Error::custom(format!("expected a non-negative integer, found {number}"))
        }),
        Value::String(text) => text.trim().parse().map_err(|_| {
            D::Error::custom(format!("expected a non-negative integer, found {text:?}"))
        }),
        other => Err(D::Error::custom(format!(
            "expected a non-negative integer, found {other}"
        ))),
    }
}

/// Any value whose `null` means its default (an empty list, an empty object).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// A timestamp in either of NPM's formats; `None` when absent, `null` or unreadable (a date
/// is never worth refusing a whole proxy host over).
pub fn timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => parse_timestamp(&text),
        _ => None,
    })
}

pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Sample {
        #[serde(deserialize_with = "flag")]
        flag: bool,
        #[serde(deserialize_with = "integer")]
        number: u64,
    }

    fn sample(json: &str) -> Result<Sample, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn booleans_may_be_zero_or_one() {
        assert!(sample(r#"{"flag": 1, "number": 0}"#).unwrap().flag);
        assert!(!sample(r#"{"flag": 0, "number": 0}"#).unwrap().flag);
        assert!(sample(r#"{"flag": true, "number": 0}"#).unwrap().flag);
        assert!(sample(r#"{"flag": "1", "number": 0}"#).unwrap().flag);
        assert!(!sample(r#"{"flag": null, "number": 0}"#).unwrap().flag);
        assert!(sample(r#"{"flag": 2, "number": 0}"#).is_err());
        assert!(sample(r#"{"flag": "yes", "number": 0}"#).is_err());
    }

    #[test]
    fn integers_may_be_strings() {
        assert_eq!(sample(r#"{"flag": 0, "number": "12"}"#).unwrap().number, 12);
        assert_eq!(sample(r#"{"flag": 0, "number": null}"#).unwrap().number, 0);
        assert!(sample(r#"{"flag": 0, "number": -1}"#).is_err());
    }

    #[test]
    fn both_date_formats_are_read() {
        let sqlite = parse_timestamp("2026-12-03 15:45:10").unwrap();
        assert_eq!(sqlite.to_rfc3339(), "2026-12-03T15:45:10+00:00");
        let mysql = parse_timestamp("2025-10-30T01:12:05.000Z").unwrap();
        assert_eq!(mysql.to_rfc3339(), "2025-10-30T01:12:05+00:00");
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
