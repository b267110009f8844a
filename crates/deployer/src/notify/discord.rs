//! Discord: Execute Webhook, a POST of JSON to the channel's webhook URL
//! (`https://discord.com/api/webhooks/{id}/{token}`). The message has a one-line `content` (what
//! a push notification shows) and one rich embed with the details; `allowed_mentions` is empty so
//! that nothing in a tag or a failure reason can ping anyone. Discord answers 204 No Content.

use serde_json::{Value, json};

use super::{Notice, Request, clip, rfc3339};

/// Discord's limits: content 2000 characters, embed title 256, description 4096, field value
/// 1024.
const CONTENT_MAX: usize = 2000;
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 4096;
const FIELD_MAX: usize = 1024;

pub(super) fn request(notice: &Notice, url: &str) -> Request {
    Request::json(url.to_owned(), &payload(notice))
}

fn payload(notice: &Notice) -> Value {
    let facts = notice.facts();
    let (title, color) = match notice {
        Notice::Succeeded(_) => ("Deploy succeeded", 0x2E_A0_43),
        Notice::Failed(_) => ("Deploy failed", 0xD1_24_2F),
        Notice::WaitingApproval(_) => ("Deploy waiting for approval", 0xBF_87_00),
        Notice::RolledBack(_) => ("Rolled back", 0x82_50_DF),
    };
    let field = |name: &str, value: &str, inline: bool| json!({"name": name, "value": clip(value, FIELD_MAX), "inline": inline});
    let mut fields = vec![
        field("Project", &facts.project, true),
        field("Stage", &facts.stage, true),
        field("Tag", &facts.tag, true),
        field("Image", &facts.image, false),
    ];
    if let Some(digest) = &facts.digest {
        fields.push(field("Digest", digest, false));
    }
    if let Some(reason) = &facts.reason {
        fields.push(field("Reason", reason, false));
    }
    json!({
        "content": clip(&notice.headline(), CONTENT_MAX),
        "embeds": [{
            "title": clip(title, TITLE_MAX),
            "description": clip(&notice.sentence(), DESCRIPTION_MAX),
            "color": color,
            "fields": fields,
            "footer": {"text": format!("Docker Watcher · deploy {}", facts.deploy_id)},
            "timestamp": rfc3339(facts.at_ms),
        }],
        "allowed_mentions": {"parse": []},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{facts, failed};

    #[test]
    fn posts_content_and_one_embed_with_the_facts() {
        let request = request(&failed(), "https://discord.com/api/webhooks/1/tok");
        assert_eq!(request.url, "https://discord.com/api/webhooks/1/tok");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["content"], "shop/prod: v1.2.3 failed to deploy");
        assert_eq!(body["allowed_mentions"], json!({"parse": []}));
        let embeds = body["embeds"].as_array().unwrap();
        assert_eq!(embeds.len(), 1);
        let embed = &embeds[0];
        assert_eq!(embed["title"], "Deploy failed");
        assert_eq!(embed["color"], 0xD1242F);
        assert_eq!(embed["timestamp"], "2024-05-01T12:00:00.123Z");
        assert_eq!(embed["footer"]["text"], "Docker Watcher · deploy 42");
        let fields = embed["fields"].as_array().unwrap();
        let names: Vec<&str> = fields.iter().filter_map(|f| f["name"].as_str()).collect();
        assert_eq!(
            names,
            ["Project", "Stage", "Tag", "Image", "Digest", "Reason"]
        );
        assert_eq!(
            fields[5]["value"],
            "the container exited with code 3 before it became healthy"
        );
    }

    #[test]
    fn long_reasons_fit_in_a_field() {
        let mut facts = facts();
        facts.reason = Some("x".repeat(5000));
        facts.digest = None;
        let body = payload(&Notice::Failed(facts));
        let fields = body["embeds"][0]["fields"].as_array().unwrap();
        let reason = fields.last().unwrap()["value"].as_str().unwrap();
        assert_eq!(reason.chars().count(), FIELD_MAX);
        let description = body["embeds"][0]["description"].as_str().unwrap();
        assert_eq!(description.chars().count(), DESCRIPTION_MAX);
    }

    #[test]
    fn success_is_green_without_a_reason_field() {
        let body = payload(&Notice::Succeeded(facts()));
        assert_eq!(body["embeds"][0]["color"], 0x2EA043);
        assert_eq!(body["embeds"][0]["fields"].as_array().unwrap().len(), 5);
    }
}
