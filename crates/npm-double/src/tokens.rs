//! NPM's users and session tokens, replayed: `POST /api/tokens` checks the identity and secret
//! (or answers a 2FA challenge), `GET /api/tokens` renews a valid token, and every other call
//! checks the bearer token. Tokens are shaped like NPM's JWTs (`header.payload.signature`,
//! with `exp` in the payload) but are only valid if this double issued them.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde_json::{Value, json};

/// An NPM user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: u64,
    pub email: String,
    pub password: String,
    /// Whether the user has TOTP enabled: the login then answers a challenge, not a token.
    pub two_factor: bool,
}

impl User {
    /// The user as NPM expands `owner`.
    pub fn to_json(&self, created_on: &str) -> Value {
        json!({
            "id": self.id,
            "created_on": created_on,
            "modified_on": created_on,
            "is_deleted": 0,
            "is_disabled": false,
            "email": self.email,
            "name": "Administrator",
            "nickname": "Admin",
            "avatar": "",
            "roles": ["admin"],
        })
    }
}

/// Why a bearer token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Not a token of this double (NPM: a JWT that does not verify).
    Malformed,
    /// Past its expiry: NPM's `400 Token has expired`.
    Expired,
}

#[derive(Debug, Clone)]
struct Issued {
    user_id: u64,
    expires: SystemTime,
}

/// The tokens issued so far.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, Issued>,
}

impl Tokens {
    /// A new token for `user`, valid for `lifetime`: the body NPM answers, `{token, expires}`.
    pub fn issue(&mut self, user: &User, lifetime: Duration) -> Value {
        let now = SystemTime::now();
        let expires = now + lifetime;
        let unix = |time: SystemTime| {
            time.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
        };
        let mut rng = rand::rng();
        let jti: String = (0..16)
            .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
            .collect();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(
            json!({
                "iss": "api",
                "attrs": {"id": user.id},
                "scope": ["user"],
                "expiresIn": format!("{}s", lifetime.as_secs()),
                "jti": jti,
                "iat": unix(now),
                "exp": unix(expires),
            })
            .to_string(),
        );
        let signature: [u8; 32] = rng.random();
        let token = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(signature));
        self.issued.insert(
            token.clone(),
            Issued {
                user_id: user.id,
                expires,
            },
        );
        json!({"token": token, "expires": iso_time(expires)})
    }

    /// The user a request's `Authorization` header authenticates.
    pub fn check(&self, authorization: Option<&str>) -> Result<u64, Refusal> {
        let Some(token) = authorization.and_then(|value| value.strip_prefix("Bearer ")) else {
            return Err(Refusal::Missing);
        };
        let Some(issued) = self.issued.get(token.trim()) else {
            return Err(Refusal::Malformed);
        };
        if issued.expires <= SystemTime::now() {
            return Err(Refusal::Expired);
        }
        Ok(issued.user_id)
    }

    /// Makes every token issued so far expired, as if a day had passed.
    pub fn expire_all(&mut self) {
        let now = SystemTime::now();
        for issued in self.issued.values_mut() {
            issued.expires = issued.expires.min(now);
        }
    }
}

/// A 2FA challenge token: opaque, not a JWT, and never a valid bearer token.
pub(crate) fn challenge_token() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// NPM's `expires`: ISO-8601 in UTC with milliseconds.
pub(crate) fn iso_time(time: SystemTime) -> String {
    DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The `?expiry=` of a renewal: a number and one of `y Q M w d h m s ms`.
pub(crate) fn parse_expiry(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = |per: u64| Some(Duration::from_secs(number.checked_mul(per)?));
    match unit {
        "ms" => Some(Duration::from_millis(number)),
        "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        "w" => seconds(7 * 86_400),
        "M" => seconds(30 * 86_400),
        "Q" => seconds(91 * 86_400),
        "y" => seconds(365 * 86_400),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: 1,
            email: "admin@example.com".into(),
            password: "changeme".into(),
            two_factor: false,
        }
    }

    #[test]
    fn issued_tokens_are_jwt_shaped_and_accepted_until_they_expire() {
        let mut tokens = Tokens::default();
        let answer = tokens.issue(&user(), Duration::from_secs(60));
        let token = answer["token"].as_str().unwrap();
        assert_eq!(token.split('.').count(), 3);
        assert!(answer["expires"].as_str().unwrap().ends_with('Z'));
        assert_eq!(tokens.check(Some(&format!("Bearer {token}"))), Ok(1));
        tokens.expire_all();
        assert_eq!(
            tokens.check(Some(&format!("Bearer {token}"))),
            Err(Refusal::Expired)
        );
        assert_eq!(tokens.check(None), Err(Refusal::Missing));
        assert_eq!(tokens.check(Some("Bearer abc")), Err(Refusal::Malformed));
    }

    #[test]
    fn expiry_parameters() {
        assert_eq!(parse_expiry("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_expiry("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_expiry("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_expiry("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_expiry("2x"), None);
        assert_eq!(parse_expiry("h"), None);
    }
}
