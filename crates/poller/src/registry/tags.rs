//! Listing a repository's tags: `GET /v2/NAME/tags/list?n=…`, page by page.

use std::collections::HashSet;

use serde::Deserialize;

use super::client::{Call, Method, RegistryClient};
use super::error::RegistryError;
use super::{api_error, link};

#[derive(Deserialize)]
struct TagList {
    // `null` is what GHCR sends when only untagged manifests exist, and what old registries
    // send for unknown repositories: both mean "no tags".
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl RegistryClient {
    /// Every tag of `repository` (`acme/app`, `library/redis`), sorted and without
    /// duplicates; registry order carries no meaning. A repository the registry does not know
    /// (404 `NAME_UNKNOWN`, as after its last tag was deleted) has no tags: that is a state of
    /// one image, not a failure of the registry.
    pub fn tags(&self, repository: &str) -> Result<Vec<String>, RegistryError> {
        Ok(self.tags_if_known(repository)?.unwrap_or_default())
    }

    /// Like [`tags`](Self::tags), but `None` when the registry does not know the repository,
    /// for a person who asked for it by name and may have mistyped it.
    pub fn tags_if_known(&self, repository: &str) -> Result<Option<Vec<String>>, RegistryError> {
        let operation = format!("tags of {repository}");
        let config = self.config();
        let mut url = format!(
            "{}/v2/{repository}/tags/list?n={}",
            self.origin(),
            config.page_size.max(1)
        );
        let mut visited = HashSet::new();
        let mut tags = Vec::new();
        loop {
            if visited.len() >= config.max_pages as usize {
                return Err(RegistryError::TooManyPages {
                    registry: self.registry().to_owned(),
                    operation,
                    max_pages: config.max_pages,
                });
            }
            visited.insert(url.clone());
            let reply = self.request(&Call {
                operation: &operation,
                method: Method::Get,
                url: &url,
                accept: Some("application/json"),
                repository: Some(repository),
            })?;
            match reply.status {
                200 => {}
                404 if api_error::has_code(&reply.body, "NAME_UNKNOWN") => return Ok(None),
                status => return Err(self.status_error(&operation, &url, status, &reply.body)),
            }
            let page: TagList = serde_json::from_slice(&reply.body).map_err(|err| {
                self.invalid_response(&operation, &url, not_a_tag_list(&reply.body, &err))
            })?;
            tags.extend(page.tags.unwrap_or_default());

            let links = reply
                .headers
                .get_all("link")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .collect::<Vec<_>>()
                .join(", ");
            let Some(next) = link::next_link(&links) else {
                break;
            };
            let next = link::resolve(self.origin(), &url, next);
            if visited.contains(&next) {
                return Err(RegistryError::PaginationLoop {
                    registry: self.registry().to_owned(),
                    operation,
                    url: next,
                });
            }
            url = next;
        }
        tags.sort();
        tags.dedup();
        Ok(Some(tags))
    }
}

/// Why a 200 body is not a tag list, with a hint for the usual cause: an HTML page from a
/// proxy or a web UI at the configured address.
fn not_a_tag_list(body: &[u8], err: &serde_json::Error) -> String {
    let start = String::from_utf8_lossy(&body[..body.len().min(64)])
        .trim_start()
        .to_ascii_lowercase();
    if start.starts_with("<!doctype html") || start.starts_with("<html") || start.starts_with('<') {
        "expected a JSON tag list, got an HTML page (is this the registry's address?)".to_owned()
    } else {
        format!("expected a JSON tag list: {err}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Vec<String>, serde_json::Error> {
        serde_json::from_str::<TagList>(body).map(|list| list.tags.unwrap_or_default())
    }

    #[test]
    fn null_or_missing_tags_are_no_tags() {
        assert!(
            parse(r#"{"name":"acme/app","tags":null}"#)
                .unwrap()
                .is_empty()
        );
        assert!(parse(r#"{"name":"acme/app"}"#).unwrap().is_empty());
        assert_eq!(
            parse(r#"{"name":"acme/app","tags":["v1","v2"],"extra":1}"#).unwrap(),
            ["v1", "v2"]
        );
    }

    #[test]
    fn html_gets_a_hint() {
        let body = b"<!DOCTYPE html><html><body>Login</body></html>";
        let err = serde_json::from_slice::<TagList>(body).err().unwrap();
        assert!(not_a_tag_list(body, &err).contains("HTML page"));
        let err = serde_json::from_slice::<TagList>(b"{\"tags\":")
            .err()
            .unwrap();
        assert!(not_a_tag_list(b"{\"tags\":", &err).starts_with("expected a JSON tag list: "));
    }
}
