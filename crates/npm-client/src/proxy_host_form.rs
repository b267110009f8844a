//! What the client sends to create or change a proxy host. NPM validates bodies with
//! `additionalProperties: false`, so a field newer than the server makes it refuse the whole
//! request: only fields that are set (`Some`) are sent.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::proxy_host::{ForwardScheme, Location};

/// The body of `POST /api/nginx/proxy-hosts`: the four fields NPM requires, and the optional
/// ones, each left out while `None` (NPM then applies its default, noted on each field).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewProxyHost {
    /// 1 to 100 distinct names; `*.example.com` is allowed, ports and paths are not.
    pub domain_names: Vec<String>,
    pub forward_scheme: ForwardScheme,
    /// An IP address, a host name, or a container name when NPM shares a Docker network.
    pub forward_host: String,
    pub forward_port: u16,
    /// Default 0: no certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<u64>,
    /// Default false; NPM forces it off without a certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_forced: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2_support: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hsts_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hsts_subdomains: Option<bool>,
    /// Only NPM 2.14 and later know this field: older ones refuse any body that has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_forwarded_proto: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_exploits: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caching_enabled: Option<bool>,
    /// Default false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_websocket_upgrade: Option<bool>,
    /// Default 0: no access list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_list_id: Option<u64>,
    /// Raw nginx directives added to the host's `server {}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_config: Option<String>,
    /// Default true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Free-form; NPM keeps it and adds its nginx status to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Location>>,
}

impl NewProxyHost {
    /// A host with the required fields only.
    pub fn new(
        domain_names: impl IntoIterator<Item = impl Into<String>>,
        forward_scheme: ForwardScheme,
        forward_host: impl Into<String>,
        forward_port: u16,
    ) -> NewProxyHost {
        NewProxyHost {
            domain_names: domain_names.into_iter().map(Into::into).collect(),
            forward_scheme,
            forward_host: forward_host.into(),
            forward_port,
            certificate_id: None,
            ssl_forced: None,
            http2_support: None,
            hsts_enabled: None,
            hsts_subdomains: None,
            trust_forwarded_proto: None,
            block_exploits: None,
            caching_enabled: None,
            allow_websocket_upgrade: None,
            access_list_id: None,
            advanced_config: None,
            enabled: None,
            meta: None,
            locations: None,
        }
    }
}

/// The body of `PUT /api/nginx/proxy-hosts/{id}`: a patch, where fields left `None` keep their
/// value. NPM refuses an empty patch, and replaces `meta` as a whole (send all of it).
/// Enabling and disabling go through their own calls, not through `enabled` here.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProxyHostPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_scheme: Option<ForwardScheme>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_forced: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2_support: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hsts_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hsts_subdomains: Option<bool>,
    /// Only NPM 2.14 and later know this field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_forwarded_proto: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_exploits: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caching_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_websocket_upgrade: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_list_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_config: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Location>>,
}

impl ProxyHostPatch {
    /// Whether nothing would be changed (NPM answers such a patch with a 400).
    pub fn is_empty(&self) -> bool {
        *self == ProxyHostPatch::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_required_fields_are_sent_by_default() {
        let host = NewProxyHost::new(["a.example.com"], ForwardScheme::Http, "web", 8080);
        assert_eq!(
            serde_json::to_value(&host).unwrap(),
            serde_json::json!({
                "domain_names": ["a.example.com"],
                "forward_scheme": "http",
                "forward_host": "web",
                "forward_port": 8080
            })
        );
    }

    #[test]
    fn optional_fields_are_sent_when_set_with_npm_names_and_types() {
        let mut host = NewProxyHost::new(["a.example.com"], ForwardScheme::Https, "web", 443);
        host.certificate_id = Some(7);
        host.ssl_forced = Some(true);
        host.allow_websocket_upgrade = Some(true);
        host.access_list_id = Some(0);
        host.block_exploits = Some(false);
        host.meta = Some(Map::from_iter([("dw".to_owned(), Value::from("shop/dev"))]));
        assert_eq!(
            serde_json::to_value(&host).unwrap(),
            serde_json::json!({
                "domain_names": ["a.example.com"],
                "forward_scheme": "https",
                "forward_host": "web",
                "forward_port": 443,
                "certificate_id": 7,
                "ssl_forced": true,
                "allow_websocket_upgrade": true,
                "access_list_id": 0,
                "block_exploits": false,
                "meta": {"dw": "shop/dev"}
            })
        );
    }

    #[test]
    fn a_patch_sends_only_what_changes() {
        let patch = ProxyHostPatch {
            forward_port: Some(9090),
            ..ProxyHostPatch::default()
        };
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            serde_json::json!({"forward_port": 9090})
        );
        assert!(!patch.is_empty());
        assert!(ProxyHostPatch::default().is_empty());
    }
}
