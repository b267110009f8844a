//! Keeping secrets out of the access log. A matched route is logged by its pattern
//! (`/api/webhook/{secret}`), never its values; any other path is logged with every known secret
//! masked, since a mistyped webhook URL (`/API/webhook/<secret>`) still carries the secret.

use std::sync::{Arc, PoisonError, RwLock};

use actix_web::dev::ServiceRequest;

/// The secrets that must not appear in the access log. Cheap to clone; clones share the list.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    /// A redactor masking these secrets (empty ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let redactor = Redactor::default();
        for secret in secrets {
            redactor.add(secret);
        }
        redactor
    }

    /// Masks one more secret from now on.
    pub fn add(&self, secret: String) {
        if !secret.is_empty() {
            self.secrets
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .push(secret);
        }
    }

    /// `text` with every known secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.read().unwrap_or_else(PoisonError::into_inner);
        secrets.iter().fold(text.to_string(), |res, secret| {
            res.replace(secret.as_str(), "***")
        })
    }

    /// What the access log shows for a request: method and route pattern, or the masked path.
    pub fn request_line(&self, request: &ServiceRequest) -> String {
        let target = match request.match_pattern() {
            Some(pattern) => pattern,
            None => self.redact(request.path()),
        };
        format!("{} {target}", request.method())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let redactor = Redactor::new(["s3cret-webhook-key".to_string(), String::new()]);
        assert_eq!(
            redactor.redact("/API/webhook/s3cret-webhook-key"),
            "/API/webhook/***"
        );
        assert_eq!(redactor.redact("/s3cret-webhook-key/x"), "/***/x");
        assert_eq!(redactor.redact("/api/deploys/3"), "/api/deploys/3");
    }

    #[test]
    fn unmatched_requests_are_logged_masked() {
        let redactor = Redactor::new(["s3cret-webhook-key".to_string()]);
        let request = TestRequest::get()
            .uri("/api//webhook/s3cret-webhook-key")
            .to_srv_request();
        assert_eq!(redactor.request_line(&request), "GET /api//webhook/***");
    }
}
