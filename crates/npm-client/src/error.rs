//! What can go wrong talking to NPM. Every error names the NPM (its configured address) and what
//! was being done, and carries NPM's own message when NPM gave one: NPM's messages ("app.example.com
//! is already in use", "data/forward_port must be integer") say exactly what to fix. No error ever
//! holds the password or a token.

/// A failed NPM operation.
///
/// `npm` is NPM's address as configured (`http://npm:81`); `operation` says what was being done,
/// e.g. `create a proxy host for shop.example.com` or `disable proxy host 7`.
#[derive(thiserror::Error, Debug)]
pub enum NpmError {
    #[error("invalid NPM address {url:?}: {reason}")]
    InvalidAddress { url: String, reason: String },

    /// NPM did not answer: refused connection, DNS failure, timeout, broken connection.
    #[error("NPM {npm}: {operation}: cannot reach {url}: {message}")]
    Transport {
        npm: String,
        operation: String,
        url: String,
        message: String,
    },

    /// NPM refused the identity and password (NPM says `Invalid email or password`, with
    /// HTTP 400), or answered the login otherwise than with a token.
    #[error("NPM {npm}: logging in as {identity} failed (HTTP {status}): {message}")]
    Login {
        npm: String,
        identity: String,
        status: u16,
        message: String,
    },

    /// The user has two-factor authentication, which an unattended tool cannot answer.
    #[error(
        "NPM {npm}: the NPM user {identity} has two-factor authentication (2FA) enabled, \
         which Docker Watcher cannot answer; create an NPM user without 2FA for Docker Watcher \
         and configure that one"
    )]
    TwoFactorRequired { npm: String, identity: String },

    /// NPM called a token it had just issued expired: the client logged in again once and
    /// gives up rather than loop. Usually NPM's clock is wrong.
    #[error(
        "NPM {npm}: {operation}: NPM says a token it has just issued has expired ({message}); \
         check the clock of the NPM host"
    )]
    TokenRejected {
        npm: String,
        operation: String,
        message: String,
    },

    /// NPM answered with an error: `message` is NPM's own (`{"error":{"message":…}}`), or a
    /// description of the body when it had none.
    #[error("NPM {npm}: {operation}: NPM answered HTTP {status}: {message}")]
    Api {
        npm: String,
        operation: String,
        status: u16,
        message: String,
    },

    /// NPM answered success with a body this client cannot read.
    #[error("NPM {npm}: {operation}: {url} gave an invalid answer: {reason}")]
    InvalidResponse {
        npm: String,
        operation: String,
        url: String,
        reason: String,
    },
}

impl NpmError {
    /// NPM's own message, when the error is NPM's answer.
    pub fn npm_message(&self) -> Option<&str> {
        match self {
            NpmError::Login { message, .. }
            | NpmError::TokenRejected { message, .. }
            | NpmError::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The HTTP status of NPM's answer, when the error is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            NpmError::Login { status, .. } | NpmError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether NPM said the object does not exist (`404 Not Found - 42`).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether the user must fix the account (credentials, 2FA) before anything works.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            NpmError::Login { .. } | NpmError::TwoFactorRequired { .. }
        )
    }

    /// Whether NPM could not be reached at all.
    pub fn is_transport(&self) -> bool {
        matches!(self, NpmError::Transport { .. })
    }
}

/// NPM's message in an error answer `{"error": {"code": 400, "message": "…"}}`, or a short
/// description of a body that is not one (a proxy's HTML page, an empty body).
pub(crate) fn describe(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        message: Option<serde_json::Value>,
    }
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(body) {
        match envelope.error.message {
            Some(serde_json::Value::String(message)) => return message,
            Some(other) => return other.to_string(),
            None => {}
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "empty answer".to_owned();
    }
    const SHOWN: usize = 200;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_messages_are_taken_from_the_error_envelope() {
        let body = br#"{"error":{"code":400,"message":"Token has expired","message_i18n":{}}}"#;
        assert_eq!(describe(body), "Token has expired");
        assert_eq!(describe(b""), "empty answer");
        assert_eq!(
            describe(b"<html>Bad Gateway</html>"),
            "<html>Bad Gateway</html>"
        );
        assert_eq!(describe("x".repeat(300).as_bytes()).chars().count(), 201);
    }

    #[test]
    fn two_factor_message_tells_what_to_do() {
        let err = NpmError::TwoFactorRequired {
            npm: "http://npm:81".into(),
            identity: "me@example.com".into(),
        };
        let text = err.to_string();
        assert!(text.contains("me@example.com"), "{text}");
        assert!(text.contains("without 2FA"), "{text}");
        assert!(err.is_auth());
    }
}
