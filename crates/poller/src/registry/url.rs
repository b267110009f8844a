//! URLs the client builds: token requests, whose query values must be percent-encoded
//! (scopes hold `:`, `/` and `,`, realms may already carry a query).

use std::fmt::Write;

use super::token::TokenKey;

/// `realm?service=…&scope=…`. A scope of several space-separated entries becomes one `scope`
/// parameter each, as the token specification has clients send them.
pub(crate) fn token_url(key: &TokenKey) -> String {
    let mut params = Vec::new();
    if let Some(service) = &key.service {
        params.push(format!("service={}", encode(service)));
    }
    if let Some(scope) = &key.scope {
        for scope in scope.split(' ').filter(|scope| !scope.is_empty()) {
            params.push(format!("scope={}", encode(scope)));
        }
    }
    if params.is_empty() {
        return key.realm.clone();
    }
    let separator = if key.realm.contains('?') { '&' } else { '?' };
    format!("{}{separator}{}", key.realm, params.join("&"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(realm: &str, service: Option<&str>, scope: Option<&str>) -> TokenKey {
        TokenKey {
            realm: realm.to_owned(),
            service: service.map(str::to_owned),
            scope: scope.map(str::to_owned),
        }
    }

    #[test]
    fn scope_and_service_are_encoded() {
        assert_eq!(
            token_url(&key(
                "https://registry.example.com/v2/token",
                Some("registry.example.com"),
                Some("repository:team/app:pull,push"),
            )),
            "https://registry.example.com/v2/token?service=registry.example.com&scope=repository%3Ateam%2Fapp%3Apull%2Cpush"
        );
    }

    #[test]
    fn docker_hub_token_url() {
        assert_eq!(
            token_url(&key(
                "https://auth.docker.io/token",
                Some("registry.docker.io"),
                Some("repository:library/redis:pull"),
            )),
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fredis%3Apull"
        );
    }

    #[test]
    fn several_scopes_and_realms_with_a_query() {
        assert_eq!(
            token_url(&key(
                "https://auth.example.com/token?account=x",
                None,
                Some("repository:a:pull repository:b:pull"),
            )),
            "https://auth.example.com/token?account=x&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull"
        );
        assert_eq!(
            token_url(&key("https://auth.example.com/token", None, None)),
            "https://auth.example.com/token"
        );
    }

    #[test]
    fn only_unreserved_characters_stay() {
        assert_eq!(
            encode("a-b_c.d~e f&g=h+é"),
            "a-b_c.d~e%20f%26g%3Dh%2B%C3%A9"
        );
    }
}
