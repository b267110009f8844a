//! NPM's session token: reading the answers of `POST /api/tokens` (log in) and `GET /api/tokens`
//! (renew), and deciding when to renew. NPM's tokens last a day; an expired one cannot be
//! renewed (NPM answers `400 Token has expired`), so the client renews ahead of `expires` and
//! otherwise logs in again.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::lenient;

/// A bearer token and when NPM says it expires.
#[derive(Clone)]
pub(crate) struct Token {
    pub value: String,
    pub expires: DateTime<Utc>,
    /// When it was received, to know its lifetime.
    pub received: DateTime<Utc>,
}

impl Token {
    /// Whether the token is past its expiry: renewing it would fail, log in instead.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires <= now
    }

    /// Whether to renew the token before using it: less than `margin` is left, or less than
    /// half its lifetime for tokens shorter than twice `margin`.
    pub fn needs_refresh(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        let lifetime = (self.expires - self.received).max(chrono::TimeDelta::zero());
        let margin = chrono::TimeDelta::from_std(margin)
            .unwrap_or(chrono::TimeDelta::MAX)
            .min(lifetime / 2);
        self.expires - margin <= now
    }
}

impl fmt::Debug for Token {
    // The token is as good as the password until it expires.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &"<redacted>")
            .field("expires", &self.expires)
            .finish()
    }
}

/// What a login answer can be.
#[derive(Debug)]
pub(crate) enum LoginAnswer {
    Token(Token),
    /// `{"requires_2fa": true, "challenge_token": …}` (NPM 2.13 and later). The challenge token
    /// is not a bearer token and is never used as one.
    TwoFactorRequired,
}

#[derive(Deserialize)]
struct TokenBody {
    token: Option<String>,
    expires: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    requires_2fa: bool,
}

/// Reads the answer of `POST /api/tokens`.
pub(crate) fn parse_login(body: &[u8], now: DateTime<Utc>) -> Result<LoginAnswer, String> {
    let body: TokenBody = serde_json::from_slice(body).map_err(|err| err.to_string())?;
    if body.requires_2fa {
        return Ok(LoginAnswer::TwoFactorRequired);
    }
    token_from(body, now).map(LoginAnswer::Token)
}

/// Reads the answer of `GET /api/tokens`.
pub(crate) fn parse_refresh(body: &[u8], now: DateTime<Utc>) -> Result<Token, String> {
    let body: TokenBody = serde_json::from_slice(body).map_err(|err| err.to_string())?;
    token_from(body, now)
}

fn token_from(body: TokenBody, now: DateTime<Utc>) -> Result<Token, String> {
    let value = body
        .token
        .filter(|token| !token.is_empty())
        .ok_or("no token in the answer")?;
    let expires = body.expires.ok_or("no expiry in the answer")?;
    let expires = lenient::parse_timestamp(&expires)
        .ok_or_else(|| format!("unreadable expiry {expires:?}"))?;
    Ok(Token {
        value,
        expires,
        received: now,
    })
}

/// Whether an error answer is NPM's "Token has expired" (HTTP 400, not 401).
pub(crate) fn is_expired_answer(status: u16, body: &[u8]) -> bool {
    status == 400
        && crate::error::describe(body)
            .to_ascii_lowercase()
            .contains("token has expired")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        lenient::parse_timestamp(text).unwrap()
    }

    #[test]
    fn login_answer_with_a_token() {
        let body = br#"{"token":"eyJ.abc.def","expires":"2026-12-04T15:30:00.000Z"}"#;
        let LoginAnswer::Token(token) = parse_login(body, at("2026-12-03 15:30:00")).unwrap()
        else {
            panic!("expected a token");
        };
        assert_eq!(token.value, "eyJ.abc.def");
        assert_eq!(token.expires, at("2026-12-04 15:30:00"));
        assert!(!format!("{token:?}").contains("eyJ"));
    }

    #[test]
    fn login_answer_with_a_2fa_challenge() {
        let body = br#"{"requires_2fa":true,"challenge_token":"opaque"}"#;
        assert!(matches!(
            parse_login(body, Utc::now()),
            Ok(LoginAnswer::TwoFactorRequired)
        ));
    }

    #[test]
    fn answers_without_a_token_are_refused() {
        assert!(parse_login(b"{}", Utc::now()).is_err());
        assert!(parse_login(br#"{"token":"a","expires":"soon"}"#, Utc::now()).is_err());
        assert!(parse_refresh(b"[]", Utc::now()).is_err());
    }

    #[test]
    fn renewal_starts_a_margin_before_expiry() {
        let token = Token {
            value: "t".into(),
            received: at("2026-12-03 12:00:00"),
            expires: at("2026-12-04 12:00:00"),
        };
        let hour = Duration::from_secs(3600);
        assert!(!token.needs_refresh(at("2026-12-04 10:59:59"), hour));
        assert!(token.needs_refresh(at("2026-12-04 11:00:00"), hour));
        assert!(!token.is_expired(at("2026-12-04 11:59:59")));
        assert!(token.is_expired(at("2026-12-04 12:00:00")));
    }

    #[test]
    fn short_tokens_are_renewed_at_half_their_life() {
        let token = Token {
            value: "t".into(),
            received: at("2026-12-03 12:00:00"),
            expires: at("2026-12-03 12:00:10"),
        };
        let hour = Duration::from_secs(3600);
        assert!(!token.needs_refresh(at("2026-12-03 12:00:04"), hour));
        assert!(token.needs_refresh(at("2026-12-03 12:00:05"), hour));
    }

    #[test]
    fn expired_answers_are_recognised() {
        let expired = br#"{"error":{"code":400,"message":"Token has expired","message_i18n":{}}}"#;
        assert!(is_expired_answer(400, expired));
        assert!(!is_expired_answer(500, expired));
        let other = br#"{"error":{"code":400,"message":"Invalid email or password"}}"#;
        assert!(!is_expired_answer(400, other));
    }
}
