//! Slack: a POST of JSON to an incoming webhook URL (`https://hooks.slack.com/services/…`). The
//! `text` is the whole message in plain words (what notifications and old clients show); the
//! `blocks` lay it out: a section with the headline and sentence, and a section of fields. `&`,
//! `<` and `>` are escaped as Slack requires, so nothing in a reason becomes a link or a
//! mention. Slack answers `ok`.

use serde_json::{Value, json};

use super::{Notice, Request, clip};

/// Slack's limits: a section's text 3000 characters, a field's text 2000.
const SECTION_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;

pub(super) fn request(notice: &Notice, url: &str) -> Request {
    Request::json(url.to_owned(), &payload(notice))
}

fn payload(notice: &Notice) -> Value {
    let facts = notice.facts();
    let emoji = match notice {
        Notice::Succeeded(_) => ":white_check_mark:",
        Notice::Failed(_) => ":x:",
        Notice::WaitingApproval(_) => ":hourglass:",
        Notice::RolledBack(_) => ":rewind:",
    };
    let headline = escape(&notice.headline());
    let sentence = escape(&notice.sentence());
    let field = |name: &str, value: &str| json!({"type": "mrkdwn", "text": clip(&format!("*{name}*\n{}", escape(value)), FIELD_MAX)});
    let mut fields = vec![
        field("Project", &facts.project),
        field("Stage", &facts.stage),
        field("Tag", &facts.tag),
        field("Deploy", &facts.deploy_id.to_string()),
    ];
    if let Some(digest) = &facts.digest {
        fields.push(field("Digest", digest));
    }
    json!({
        "text": format!("{headline}: {sentence}"),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": clip(&format!("{emoji} *{headline}*\n{sentence}"), SECTION_MAX),
                },
            },
            {"type": "section", "fields": fields},
        ],
    })
}

/// Slack's control characters as the entities it asks for.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{facts, failed};

    #[test]
    fn posts_text_and_blocks() {
        let request = request(&failed(), "https://hooks.slack.com/services/T0/B0/XyZ");
        assert_eq!(request.url, "https://hooks.slack.com/services/T0/B0/XyZ");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("shop/prod: v1.2.3 failed to deploy: Deploy 42 of"),
            "{text}"
        );
        assert!(
            text.contains("Reason: the container exited with code 3"),
            "{text}"
        );
        let blocks = body["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0]["type"], "section");
        assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
        let first = blocks[0]["text"]["text"].as_str().unwrap();
        assert!(
            first.starts_with(":x: *shop/prod: v1.2.3 failed to deploy*\n"),
            "{first}"
        );
        let fields = blocks[1]["fields"].as_array().unwrap();
        assert_eq!(
            fields[0],
            json!({"type": "mrkdwn", "text": "*Project*\nshop"})
        );
        assert_eq!(fields[3]["text"], "*Deploy*\n42");
        assert_eq!(fields[4]["text"], "*Digest*\nsha256:abcd");
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut facts = facts();
        facts.reason = Some("<!channel> & <https://evil|click>".into());
        let body = payload(&Notice::Failed(facts));
        let text = body["text"].as_str().unwrap();
        assert!(
            text.contains("&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"),
            "{text}"
        );
        assert!(!body.to_string().contains("<!channel>"));
    }
}
