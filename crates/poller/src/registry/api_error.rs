//! The registry API's error bodies: `{"errors":[{"code":"NAME_UNKNOWN","message":"…"}]}`.
//! Their codes tell "this repository does not exist" from other 404s, and their messages say
//! more than a status code when shown to users.

use serde::Deserialize;

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    errors: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// Whether the body lists the error `code`.
pub(crate) fn has_code(body: &[u8], code: &str) -> bool {
    serde_json::from_slice::<Body>(body).is_ok_and(|body| {
        body.errors
            .iter()
            .any(|e| e.code.eq_ignore_ascii_case(code))
    })
}

/// A short human description of an error body: the registry's own codes and messages when it
/// sent them, else the start of the text.
pub(crate) fn describe(body: &[u8]) -> String {
    const SHOWN: usize = 200;
    if let Ok(parsed) = serde_json::from_slice::<Body>(body)
        && !parsed.errors.is_empty()
    {
        return parsed
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; ");
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME_UNKNOWN: &[u8] = br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"acme/app"}}]}"#;

    #[test]
    fn codes_and_messages_are_read() {
        assert!(has_code(NAME_UNKNOWN, "NAME_UNKNOWN"));
        assert!(!has_code(NAME_UNKNOWN, "MANIFEST_UNKNOWN"));
        assert!(!has_code(b"<html>", "NAME_UNKNOWN"));
        assert_eq!(
            describe(NAME_UNKNOWN),
            "NAME_UNKNOWN: repository name not known to registry"
        );
    }

    #[test]
    fn other_bodies_are_shown_shortened() {
        assert_eq!(describe(b""), "(empty body)");
        assert_eq!(describe(b"  404 page not found\n"), "404 page not found");
        let long = "é".repeat(300);
        assert_eq!(describe(long.as_bytes()).chars().count(), 201);
    }
}
