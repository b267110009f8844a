//! Bearer tokens: reading the token endpoint's answer and keeping tokens until shortly before
//! they expire, so an unchanged image costs one manifest request, not a token request as well.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

/// What the token specification assumes when a server gives no lifetime.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// Tokens are replaced this long before they expire: a request started with a token that is
/// about to lapse could reach the registry after it has. Tokens that live no longer than this
/// are replaced half-way instead: they would otherwise be stale on arrival, thrown away unused
/// and fetched again for every request.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(10);

/// A token and when it stops being valid.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub value: String,
    pub expires_at: SystemTime,
    /// How long before `expires_at` it is replaced: [`REFRESH_MARGIN`], or half its lifetime
    /// when it lives no longer than that.
    pub refresh_margin: Duration,
}

impl std::fmt::Debug for Token {
    // Tokens are credentials: they never reach logs or error messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("value", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Token {
    /// Usable at `now` for a request, keeping its refresh margin in hand.
    pub fn is_fresh(&self, now: SystemTime) -> bool {
        now + self.refresh_margin < self.expires_at
    }
}

/// Why a token endpoint's answer is unusable.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenError {
    #[error("token endpoint returned no token")]
    NoToken,
    #[error("token endpoint returned invalid JSON: {0}")]
    Json(String),
}

/// The answer of a token endpoint. Registries disagree on the field name (`token` per the
/// Docker spec, `access_token` per OAuth 2; Azure sends only the latter, Docker Hub both), and
/// some add fields of their own, which are ignored.
#[derive(Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<i64>,
    issued_at: Option<String>,
}

/// Reads a token endpoint's JSON body, received at `received_at`.
pub(crate) fn parse(body: &[u8], received_at: SystemTime) -> Result<Token, TokenError> {
    let response: TokenResponse =
        serde_json::from_slice(body).map_err(|err| TokenError::Json(err.to_string()))?;
    // The spec calls both fields equivalent; `token` is the registry's own name for it.
    let value = [response.token, response.access_token]
        .into_iter()
        .flatten()
        .find(|value| !value.is_empty())
        .ok_or(TokenError::NoToken)?;
    let lifetime = response
        .expires_in
        .filter(|&seconds| seconds > 0)
        .map_or(DEFAULT_LIFETIME, |seconds| {
            Duration::from_secs(seconds.unsigned_abs())
        });
    let issued_at = response
        .issued_at
        .as_deref()
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map(SystemTime::from);
    let expires_at = match issued_at {
        // A server clock far behind ours would make the token look expired on arrival and
        // cost a token request per call; then our own clock is the better guide.
        Some(issued) if issued + lifetime > received_at => issued + lifetime,
        _ => received_at + lifetime,
    };
    Ok(Token {
        value,
        expires_at,
        refresh_margin: if lifetime > REFRESH_MARGIN {
            REFRESH_MARGIN
        } else {
            lifetime / 2
        },
    })
}

/// Which token a request needs: registries issue one per realm, service and scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey {
    pub realm: String,
    pub service: Option<String>,
    pub scope: Option<String>,
}

/// Tokens by [`TokenKey`].
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    tokens: HashMap<TokenKey, Token>,
}

impl TokenCache {
    pub fn get(&self, key: &TokenKey, now: SystemTime) -> Option<&Token> {
        self.tokens.get(key).filter(|token| token.is_fresh(now))
    }

    pub fn insert(&mut self, key: TokenKey, token: Token) {
        self.tokens.insert(key, token);
    }

    pub fn remove(&mut self, key: &TokenKey) {
        self.tokens.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> SystemTime {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .into()
    }

    #[test]
    fn access_token_alone_is_used_with_its_lifetime() {
        let now = at("2026-03-01T12:00:00Z");
        let token = parse(br#"{"access_token":"t1","expires_in":300}"#, now).unwrap();
        assert_eq!(token.value, "t1");
        assert_eq!(token.expires_at, now + Duration::from_secs(300));
    }

    #[test]
    fn a_token_without_lifetime_lasts_sixty_seconds() {
        let now = at("2026-03-01T12:00:00Z");
        let token = parse(br#"{"token":"t2"}"#, now).unwrap();
        assert_eq!(token.value, "t2");
        assert_eq!(token.expires_at, now + Duration::from_secs(60));
    }

    #[test]
    fn issued_at_anchors_the_lifetime() {
        let now = at("2026-01-01T00:00:01Z");
        let body = br#"{"token":"t3","access_token":"t3","expires_in":300,"issued_at":"2026-01-01T00:00:00Z"}"#;
        let token = parse(body, now).unwrap();
        assert_eq!(token.value, "t3");
        assert_eq!(token.expires_at, at("2026-01-01T00:05:00Z"));
    }

    #[test]
    fn a_server_clock_far_behind_does_not_expire_the_token_on_arrival() {
        let now = at("2026-06-01T00:00:00Z");
        let body = br#"{"token":"t","expires_in":300,"issued_at":"2026-01-01T00:00:00Z"}"#;
        let token = parse(body, now).unwrap();
        assert_eq!(token.expires_at, now + Duration::from_secs(300));
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let now = at("2026-03-01T12:00:00Z");
        let body = br#"{"token":"t4","expires_at":"2026-03-01T13:00:00Z","refresh_token":"r"}"#;
        let token = parse(body, now).unwrap();
        assert_eq!(token.value, "t4");
        assert_eq!(token.expires_at, now + Duration::from_secs(60));
    }

    #[test]
    fn no_token_is_an_error_not_a_panic() {
        let now = SystemTime::now();
        assert_eq!(parse(b"{}", now), Err(TokenError::NoToken));
        assert_eq!(
            parse(br#"{"token":"","access_token":null}"#, now),
            Err(TokenError::NoToken)
        );
        assert_eq!(
            TokenError::NoToken.to_string(),
            "token endpoint returned no token"
        );
        assert!(matches!(parse(b"<html>", now), Err(TokenError::Json(_))));
        assert!(matches!(
            parse(br#"{"token":5}"#, now),
            Err(TokenError::Json(_))
        ));
    }

    #[test]
    fn zero_or_negative_lifetimes_fall_back_to_the_default() {
        let now = at("2026-03-01T12:00:00Z");
        for body in [
            &br#"{"token":"t","expires_in":0}"#[..],
            br#"{"token":"t","expires_in":-5}"#,
        ] {
            assert_eq!(
                parse(body, now).unwrap().expires_at,
                now + Duration::from_secs(60)
            );
        }
    }

    #[test]
    fn tokens_are_refreshed_ten_seconds_before_expiry() {
        let now = at("2026-03-01T12:00:00Z");
        let key = TokenKey {
            realm: "https://auth/token".into(),
            service: Some("svc".into()),
            scope: Some("repository:a:pull".into()),
        };
        let mut cache = TokenCache::default();
        cache.insert(
            key.clone(),
            Token {
                value: "t".into(),
                expires_at: now + Duration::from_secs(60),
                refresh_margin: REFRESH_MARGIN,
            },
        );
        assert!(cache.get(&key, now + Duration::from_secs(49)).is_some());
        assert!(cache.get(&key, now + Duration::from_secs(50)).is_none());
        let other_scope = TokenKey {
            scope: Some("repository:b:pull".into()),
            ..key.clone()
        };
        assert!(cache.get(&other_scope, now).is_none());
        cache.remove(&key);
        assert!(cache.get(&key, now).is_none());
    }

    #[test]
    fn tokens_shorter_than_the_margin_are_used_for_half_their_life() {
        // With the usual margin such a token would be stale on arrival: fetched, thrown away
        // unused and fetched again for every request.
        let now = at("2026-03-01T12:00:00Z");
        let token = parse(br#"{"token":"t","expires_in":8}"#, now).unwrap();
        assert!(token.is_fresh(now));
        assert!(token.is_fresh(now + Duration::from_millis(3999)));
        assert!(!token.is_fresh(now + Duration::from_secs(4)));
        let eleven = parse(br#"{"token":"t","expires_in":11}"#, now).unwrap();
        assert!(eleven.is_fresh(now + Duration::from_millis(999)));
        assert!(!eleven.is_fresh(now + Duration::from_secs(1)));
        let usual = parse(br#"{"token":"t","expires_in":300}"#, now).unwrap();
        assert!(usual.is_fresh(now + Duration::from_secs(289)));
        assert!(!usual.is_fresh(now + Duration::from_secs(290)));
    }

    #[test]
    fn debug_hides_the_token() {
        let token = Token {
            value: "very-secret".into(),
            expires_at: SystemTime::UNIX_EPOCH,
            refresh_margin: REFRESH_MARGIN,
        };
        assert!(!format!("{token:?}").contains("very-secret"));
    }
}
