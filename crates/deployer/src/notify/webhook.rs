//! The generic webhook (`kind: webhook`): one stable JSON document per event, POSTed to the URL.
//!
//! ```json
//! {"event": "failed", "project": "shop", "stage": "prod", "tag": "v1.2.3",
//!  "image": "registry.example.com/acme/shop:v1.2.3", "digest": "sha256:…", "deploy_id": 42,
//!  "status": "failed", "reason": "…", "at": "2024-05-01T12:00:00.123Z"}
//! ```
//!
//! Every key is always present; `digest` and `reason` are null when unknown. New keys may be
//! added, existing ones keep their meaning.

use serde_json::json;

use super::{Notice, Request, rfc3339};

pub(super) fn request(notice: &Notice, url: &str) -> Request {
    Request::json(url.to_owned(), &document(notice))
}

/// The JSON document describing `notice`.
pub(super) fn document(notice: &Notice) -> serde_json::Value {
    let facts = notice.facts();
    json!({
        "event": notice.event(),
        "project": facts.project,
        "stage": facts.stage,
        "tag": facts.tag,
        "image": facts.image,
        "digest": facts.digest,
        "deploy_id": facts.deploy_id,
        "status": facts.status,
        "reason": facts.reason,
        "at": rfc3339(facts.at_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::{facts, failed};

    #[test]
    fn the_document_has_every_key_with_the_facts() {
        let request = request(&failed(), "https://hooks.example.com/deploys?key=s3cret");
        assert_eq!(request.url, "https://hooks.example.com/deploys?key=s3cret");
        assert_eq!(
            request.headers,
            vec![("Content-Type", "application/json".to_owned())]
        );
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({
                "event": "failed",
                "project": "shop",
                "stage": "prod",
                "tag": "v1.2.3",
                "image": "registry.example.com/acme/shop:v1.2.3",
                "digest": "sha256:abcd",
                "deploy_id": 42,
                "status": "failed",
                "reason": "the container exited with code 3 before it became healthy",
                "at": "2024-05-01T12:00:00.123Z",
            })
        );
    }

    #[test]
    fn unknown_facts_are_null_not_missing() {
        let notice = Notice::WaitingApproval(crate::notify::Facts {
            digest: None,
            status: "waiting_approval".into(),
            ..facts()
        });
        let body = document(&notice);
        assert_eq!(body["event"], "waiting_approval");
        assert_eq!(body["status"], "waiting_approval");
        assert!(body["digest"].is_null());
        assert!(body["reason"].is_null());
        assert_eq!(body.as_object().map(|o| o.len()), Some(10));
    }
}
