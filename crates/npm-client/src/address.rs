//! NPM's address as the user writes it (`http://npm:81`, maybe with `/api`), turned into the
//! API's base URL.

use crate::error::NpmError;

/// Where NPM's API lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    /// The address as configured, without a trailing `/` or `/api`: how errors name this NPM.
    pub origin: String,
    /// `{origin}/api`, to which endpoint paths (`/tokens`) are appended.
    pub api: String,
}

impl Base {
    /// Accepts `http(s)://host[:port][/prefix]`, with or without a trailing `/api` or `/`,
    /// since users copy either the admin UI's address or the API's.
    pub fn parse(url: &str) -> Result<Base, NpmError> {
        let invalid = |reason: &str| NpmError::InvalidAddress {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = url.trim();
        let rest = trimmed
            .strip_prefix("http://")
            .or_else(|| trimmed.strip_prefix("https://"))
            .ok_or_else(|| invalid("it must start with http:// or https://"))?;
        if rest.contains(['?', '#']) {
            return Err(invalid("it must not have a query or fragment"));
        }
        let authority = rest.split('/').next().unwrap_or("");
        if authority.is_empty() {
            return Err(invalid("it has no host"));
        }
        if authority.contains('@') {
            return Err(invalid(
                "it must not carry credentials; configure the identity and password instead",
            ));
        }
        let mut origin = trimmed.trim_end_matches('/');
        if let Some(without_api) = origin.strip_suffix("/api") {
            origin = without_api.trim_end_matches('/');
        }
        origin
            .parse::<ureq::http::Uri>()
            .map_err(|err| invalid(&err.to_string()))?;
        Ok(Base {
            origin: origin.to_owned(),
            api: format!("{origin}/api"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_path_is_added_once() {
        for url in [
            "http://npm:81",
            "http://npm:81/",
            "http://npm:81/api",
            "http://npm:81/api/",
            " http://npm:81 ",
        ] {
            let base = Base::parse(url).unwrap();
            assert_eq!(base.origin, "http://npm:81", "{url}");
            assert_eq!(base.api, "http://npm:81/api", "{url}");
        }
        let prefixed = Base::parse("https://proxy.example.com/npm/").unwrap();
        assert_eq!(prefixed.api, "https://proxy.example.com/npm/api");
    }

    #[test]
    fn addresses_that_are_not_http_urls_are_refused() {
        for url in [
            "npm:81",
            "ftp://npm",
            "http://",
            "http://npm:81/?x=1",
            "http://user:pw@npm:81",
        ] {
            assert!(
                matches!(Base::parse(url), Err(NpmError::InvalidAddress { .. })),
                "{url}"
            );
        }
    }
}
