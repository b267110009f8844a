//! Gotify: a POST to the server's `/message` with the application token, and a JSON body
//! `{"title", "message", "priority"}`, as Gotify's push documentation shows. The token is
//! passed as the stored URL gives it (`https://push.example.com/message?token=A…`); a URL of the
//! server itself (`https://push.example.com/?token=A…`) gets `/message` added to its path.

use serde_json::json;

use super::{Notice, Request};

pub(super) fn request(notice: &Notice, url: &str) -> Request {
    // Gotify priorities run 0 to 10; its apps sound from 4 and pop up from 8.
    let priority = match notice {
        Notice::Succeeded(_) => 5,
        Notice::WaitingApproval(_) => 6,
        Notice::RolledBack(_) => 7,
        Notice::Failed(_) => 8,
    };
    let body = json!({
        "title": notice.headline(),
        "message": notice.plain_text(),
        "priority": priority,
    });
    Request::json(message_url(url), &body)
}

/// `url` with its path ending in `/message`, query kept.
fn message_url(url: &str) -> String {
    let (without_fragment, _) = url.split_once('#').unwrap_or((url, ""));
    let (base, query) = match without_fragment.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (without_fragment, None),
    };
    let base = base.trim_end_matches('/');
    let path_start = base.find("://").map_or(0, |at| at + 3);
    let has_path = base[path_start..].contains('/');
    let mut out = if has_path && base.ends_with("/message") {
        base.to_owned()
    } else {
        format!("{base}/message")
    };
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{facts, failed};

    #[test]
    fn posts_title_message_and_priority_as_json_to_message() {
        let request = request(
            &failed(),
            "https://push.example.com/message?token=AbCdEf123",
        );
        assert_eq!(
            request.url,
            "https://push.example.com/message?token=AbCdEf123"
        );
        assert_eq!(
            request.headers,
            vec![("Content-Type", "application/json".to_owned())]
        );
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["title"], "shop/prod: v1.2.3 failed to deploy");
        assert_eq!(body["priority"], 8);
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("Reason: the container exited"),
            "{message}"
        );
        assert_eq!(body.as_object().map(|o| o.len()), Some(3));
    }

    #[test]
    fn success_is_a_normal_priority() {
        let request = request(&Notice::Succeeded(facts()), "http://gotify/message?token=A");
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["priority"], 5);
    }

    #[test]
    fn the_server_url_gets_the_message_path() {
        assert_eq!(
            message_url("https://push.example.com/message?token=A1"),
            "https://push.example.com/message?token=A1"
        );
        assert_eq!(
            message_url("https://push.example.com?token=A1"),
            "https://push.example.com/message?token=A1"
        );
        assert_eq!(
            message_url("https://push.example.com/?token=A1"),
            "https://push.example.com/message?token=A1"
        );
        assert_eq!(
            message_url("https://example.com/gotify/?token=A1"),
            "https://example.com/gotify/message?token=A1"
        );
        assert_eq!(
            message_url("http://127.0.0.1:8008/message/"),
            "http://127.0.0.1:8008/message"
        );
    }
}
