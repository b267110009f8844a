//! ntfy: the message is the body of a POST to the topic URL (`https://ntfy.sh/mytopic`), with
//! its title, priority and tags in the `Title`, `Priority` and `Tags` headers, as ntfy's
//! publishing documentation describes. An access token can ride in the URL (`?auth=…`, or
//! `user:password@` for Basic authentication).

use base64::Engine;

use super::{Notice, Request};

pub(super) fn request(notice: &Notice, url: &str) -> Request {
    let (priority, tags) = match notice {
        // ntfy priorities: 1 min, 2 low, 3 default, 4 high, 5 max. Tags naming an emoji show as
        // that emoji.
        Notice::Succeeded(_) => ("3", "white_check_mark,docker-watcher"),
        Notice::Failed(_) => ("4", "x,docker-watcher"),
        Notice::WaitingApproval(_) => ("4", "hourglass,docker-watcher"),
        Notice::RolledBack(_) => ("4", "rewind,docker-watcher"),
    };
    Request {
        url: url.to_owned(),
        headers: vec![
            ("Content-Type", "text/plain; charset=utf-8".to_owned()),
            ("Title", header_text(&notice.headline())),
            ("Priority", priority.to_owned()),
            ("Tags", tags.to_owned()),
        ],
        body: notice.plain_text().into_bytes(),
    }
}

/// A header value that HTTP carries intact: printable ASCII as is, anything else as an RFC 2047
/// encoded word, which ntfy decodes.
fn header_text(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return text.to_owned();
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("=?UTF-8?B?{encoded}?=")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{facts, failed};

    fn header<'a>(request: &'a Request, name: &str) -> &'a str {
        request
            .headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {request:?}"))
    }

    #[test]
    fn posts_the_message_to_the_topic_with_title_priority_and_tags() {
        let request = request(
            &failed(),
            "https://ntfy.example.com/deploys-x7k?auth=tk_abc",
        );
        assert_eq!(
            request.url,
            "https://ntfy.example.com/deploys-x7k?auth=tk_abc"
        );
        assert_eq!(
            header(&request, "Title"),
            "shop/prod: v1.2.3 failed to deploy"
        );
        assert_eq!(header(&request, "Priority"), "4");
        assert_eq!(header(&request, "Tags"), "x,docker-watcher");
        assert_eq!(
            header(&request, "Content-Type"),
            "text/plain; charset=utf-8"
        );
        let body = String::from_utf8(request.body).unwrap();
        assert!(
            body.starts_with(
                "Deploy 42 of registry.example.com/acme/shop:v1.2.3 to shop/prod failed"
            ),
            "{body}"
        );
        assert!(
            body.contains("Reason: the container exited with code 3"),
            "{body}"
        );
        assert!(body.ends_with("\nDigest: sha256:abcd"), "{body}");
    }

    #[test]
    fn success_has_the_default_priority() {
        let request = request(&Notice::Succeeded(facts()), "http://127.0.0.1:1/t");
        assert_eq!(header(&request, "Priority"), "3");
        assert_eq!(header(&request, "Tags"), "white_check_mark,docker-watcher");
    }

    #[test]
    fn titles_outside_printable_ascii_are_encoded_words() {
        assert_eq!(header_text("plain title"), "plain title");
        assert_eq!(header_text("Äpfel"), "=?UTF-8?B?w4RwZmVs?=");
        // A line break could end the header early: it is encoded too.
        assert_eq!(header_text("a\nb"), "=?UTF-8?B?YQpi?=");
    }
}
