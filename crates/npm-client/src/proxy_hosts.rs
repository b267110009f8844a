//! The proxy host calls: list, search, find by domain, get, create, update, delete, enable and
//! disable (`/api/nginx/proxy-hosts`).

use serde::de::DeserializeOwned;

use crate::client::{Call, Method, NpmClient, Reply};
use crate::error::NpmError;
use crate::proxy_host::{ProxyHost, ProxyHostId};
use crate::proxy_host_form::{NewProxyHost, ProxyHostPatch};

const PROXY_HOSTS: &str = "/nginx/proxy-hosts";

impl NpmClient {
    /// Every proxy host the user can see, sorted by NPM by their domain names.
    pub fn list_proxy_hosts(&self) -> Result<Vec<ProxyHost>, NpmError> {
        self.get_json("list proxy hosts", PROXY_HOSTS)
    }

    /// The proxy hosts whose domain names contain `text` (NPM's `?query=`, a substring match:
    /// `shop.example.com` also finds `myshop.example.com`).
    pub fn search_proxy_hosts(&self, text: &str) -> Result<Vec<ProxyHost>, NpmError> {
        let path = format!("{PROXY_HOSTS}?query={}", encode_query(text));
        self.get_json(&format!("search proxy hosts for {text:?}"), &path)
    }

    /// The proxy host that has exactly `domain` among its names (ignoring ASCII case, as NPM's
    /// uniqueness rule does), enabled or not. NPM's search matches substrings, so its results
    /// are filtered here.
    pub fn find_proxy_host(&self, domain: &str) -> Result<Option<ProxyHost>, NpmError> {
        let path = format!("{PROXY_HOSTS}?query={}", encode_query(domain.trim()));
        let hosts: Vec<ProxyHost> =
            self.get_json(&format!("find the proxy host of {domain}"), &path)?;
        Ok(hosts.into_iter().find(|host| host.has_domain(domain)))
    }

    /// One proxy host; NPM answers 404 (see [`NpmError::is_not_found`]) for an unknown or
    /// deleted one.
    pub fn get_proxy_host(&self, id: ProxyHostId) -> Result<ProxyHost, NpmError> {
        self.get_json(
            &format!("get proxy host {id}"),
            &format!("{PROXY_HOSTS}/{id}"),
        )
    }

    /// Creates a proxy host and returns it as NPM has it once nginx has been configured.
    ///
    /// NPM answers the create with the row as it was before it wrote the nginx config, so
    /// the host is read again for `meta.nginx_online`: check it, a host nginx refused is
    /// created all the same. Should that read fail, the create's own answer is returned, with
    /// `nginx_online` unknown (`None`).
    pub fn create_proxy_host(&self, host: &NewProxyHost) -> Result<ProxyHost, NpmError> {
        let operation = format!("create a proxy host for {}", host.domain_names.join(", "));
        let body = serde_json::to_value(host)
            .map_err(|err| self.invalid_response(&operation, "", err.to_string()))?;
        let reply = self.call(&Call {
            operation: &operation,
            method: Method::Post,
            path: PROXY_HOSTS,
            body: Some(body),
        })?;
        let created: ProxyHost = self.success_json(&operation, &reply)?;
        match self.get_proxy_host(created.id) {
            Ok(host) => Ok(host),
            Err(err) => {
                log::warn!(
                    "NPM {}: created proxy host {} but could not read its nginx status: {err}",
                    self.npm(),
                    created.id
                );
                Ok(created)
            }
        }
    }

    /// Changes the fields set in `patch` and returns the host with its new nginx status.
    pub fn update_proxy_host(
        &self,
        id: ProxyHostId,
        patch: &ProxyHostPatch,
    ) -> Result<ProxyHost, NpmError> {
        let operation = format!("update proxy host {id}");
        let body = serde_json::to_value(patch)
            .map_err(|err| self.invalid_response(&operation, "", err.to_string()))?;
        let reply = self.call(&Call {
            operation: &operation,
            method: Method::Put,
            path: &format!("{PROXY_HOSTS}/{id}"),
            body: Some(body),
        })?;
        self.success_json(&operation, &reply)
    }

    /// Deletes a proxy host: NPM removes its nginx config and frees its domain names.
    pub fn delete_proxy_host(&self, id: ProxyHostId) -> Result<(), NpmError> {
        self.action(
            &format!("delete proxy host {id}"),
            Method::Delete,
            &format!("{PROXY_HOSTS}/{id}"),
        )
    }

    /// Enables a disabled proxy host (its nginx config is written again). NPM answers 400
    /// `Host is already enabled` for an enabled one.
    pub fn enable_proxy_host(&self, id: ProxyHostId) -> Result<(), NpmError> {
        self.action(
            &format!("enable proxy host {id}"),
            Method::Post,
            &format!("{PROXY_HOSTS}/{id}/enable"),
        )
    }

    /// Disables a proxy host: nginx stops serving it, but NPM keeps it and its domain names
    /// stay taken. NPM answers 400 `Host is already disabled` for a disabled one.
    pub fn disable_proxy_host(&self, id: ProxyHostId) -> Result<(), NpmError> {
        self.action(
            &format!("disable proxy host {id}"),
            Method::Post,
            &format!("{PROXY_HOSTS}/{id}/disable"),
        )
    }

    fn get_json<T: DeserializeOwned>(&self, operation: &str, path: &str) -> Result<T, NpmError> {
        let reply = self.call(&Call {
            operation,
            method: Method::Get,
            path,
            body: None,
        })?;
        self.success_json(operation, &reply)
    }

    /// A call whose success answer is `true` and says nothing more.
    fn action(&self, operation: &str, method: Method, path: &str) -> Result<(), NpmError> {
        let reply = self.call(&Call {
            operation,
            method,
            path,
            body: None,
        })?;
        if !reply.is_success() {
            return Err(self.api_error(operation, &reply));
        }
        Ok(())
    }

    fn success_json<T: DeserializeOwned>(
        &self,
        operation: &str,
        reply: &Reply,
    ) -> Result<T, NpmError> {
        if !reply.is_success() {
            return Err(self.api_error(operation, reply));
        }
        serde_json::from_slice(&reply.body)
            .map_err(|err| self.invalid_response(operation, &reply.url, err.to_string()))
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode_query(text: &str) -> String {
    let mut res = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                res.push(byte as char)
            }
            _ => res.push_str(&format!("%{byte:02X}")),
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(encode_query("shop.example.com"), "shop.example.com");
        assert_eq!(encode_query("*.example.com"), "%2A.example.com");
        assert_eq!(encode_query("a b&c"), "a%20b%26c");
    }
}
