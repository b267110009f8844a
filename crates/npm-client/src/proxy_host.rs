//! A proxy host as NPM returns it: one nginx `server {}` forwarding a set of domain names to one
//! upstream. Reading is lenient (0/1 booleans, `null` lists, unknown extra fields, two date
//! formats) so that every NPM version from 2.9 on can be read.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::lenient;

/// NPM's id of a proxy host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProxyHostId(pub u64);

impl fmt::Display for ProxyHostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How NPM talks to the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForwardScheme {
    Http,
    Https,
}

/// A proxy host, as read from NPM.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProxyHost {
    pub id: ProxyHostId,
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub created_on: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::timestamp")]
    pub modified_on: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::integer")]
    pub owner_user_id: u64,
    /// As NPM stores them: sorted, in the case they were sent.
    pub domain_names: Vec<String>,
    pub forward_scheme: ForwardScheme,
    pub forward_host: String,
    pub forward_port: u16,
    /// 0 when the host has no certificate (plain http).
    #[serde(default, deserialize_with = "lenient::integer")]
    pub certificate_id: u64,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub ssl_forced: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub http2_support: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub hsts_enabled: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub hsts_subdomains: bool,
    /// NPM 2.14 and later; false on older ones.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub trust_forwarded_proto: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub block_exploits: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub caching_enabled: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub allow_websocket_upgrade: bool,
    /// 0 when the host has no access list.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub access_list_id: u64,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub advanced_config: String,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub enabled: bool,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub meta: ProxyHostMeta,
    /// NPM answers `null` for a host created without locations; read as empty.
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub locations: Vec<Location>,
}

impl ProxyHost {
    /// Whether `domain` is one of the host's names, compared as NPM does: exactly, ignoring
    /// ASCII case.
    pub fn has_domain(&self, domain: &str) -> bool {
        let domain = domain.trim();
        self.domain_names
            .iter()
            .any(|name| name.trim().eq_ignore_ascii_case(domain))
    }
}

/// A proxy host's `meta`: NPM's verdict on its nginx config, plus whatever the creator stored
/// there (a free-form object; NPM replaces it whole on update).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ProxyHostMeta {
    /// Whether nginx accepted the host's config. `None` until NPM has written it: the answer of
    /// a create does not have it yet; a read after it does. The only sign that a host works.
    #[serde(default, deserialize_with = "lenient::optional_flag")]
    pub nginx_online: Option<bool>,
    /// What nginx said when it refused the config.
    #[serde(default)]
    pub nginx_err: Option<String>,
    /// Everything else in `meta`.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A custom location of a proxy host (`/api` to another upstream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_id"
    )]
    pub id: Option<u64>,
    pub path: String,
    pub forward_scheme: ForwardScheme,
    pub forward_host: String,
    pub forward_port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_config: Option<String>,
}

fn optional_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Option::<serde_json::Value>::deserialize(deserializer)?
        .filter(|value| !value.is_null())
        .map(|value| lenient::integer(value).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer of NPM 2.15 (SQLite), trimmed.
    const CURRENT: &str = r#"{
        "id": 3, "created_on": "2026-12-03 15:45:10", "modified_on": "2026-12-03 15:45:11",
        "owner_user_id": 1, "domain_names": ["App.example.com"], "forward_host": "web",
        "forward_port": 8080, "access_list_id": 0, "certificate_id": 0, "ssl_forced": false,
        "caching_enabled": false, "block_exploits": true, "advanced_config": "",
        "meta": {"nginx_online": true, "nginx_err": null, "dw": "shop/dev"},
        "allow_websocket_upgrade": true, "http2_support": false, "forward_scheme": "http",
        "enabled": true, "locations": null, "hsts_enabled": false, "hsts_subdomains": false,
        "trust_forwarded_proto": false,
        "owner": {"id": 1, "email": "admin@example.com"}, "certificate": null, "access_list": null
    }"#;

    #[test]
    fn a_current_answer_is_read_with_extra_fields_ignored() {
        let host: ProxyHost = serde_json::from_str(CURRENT).unwrap();
        assert_eq!(host.id, ProxyHostId(3));
        assert_eq!(host.forward_scheme, ForwardScheme::Http);
        assert!(host.block_exploits && host.allow_websocket_upgrade && host.enabled);
        assert!(host.locations.is_empty());
        assert_eq!(host.meta.nginx_online, Some(true));
        assert_eq!(host.meta.nginx_err, None);
        assert_eq!(host.meta.other["dw"], "shop/dev");
        assert_eq!(
            host.created_on.unwrap().to_rfc3339(),
            "2026-12-03T15:45:10+00:00"
        );
        assert!(host.has_domain("app.EXAMPLE.com"));
        assert!(!host.has_domain("pp.example.com"));
    }

    #[test]
    fn booleans_as_integers_and_missing_newer_fields_are_read() {
        let old = r#"{
            "id": 4, "created_on": "2025-10-30T01:12:05.000Z", "domain_names": ["a.test"],
            "forward_host": "10.0.0.2", "forward_port": 80, "forward_scheme": "https",
            "ssl_forced": 1, "block_exploits": 0, "enabled": 0, "allow_websocket_upgrade": 1,
            "meta": {"nginx_online": 0, "nginx_err": "nginx: [emerg] unknown directive"},
            "locations": [{"id": null, "path": "/api", "forward_scheme": "http",
                           "forward_host": "api", "forward_port": 81}]
        }"#;
        let host: ProxyHost = serde_json::from_str(old).unwrap();
        assert!(host.ssl_forced && host.allow_websocket_upgrade);
        assert!(!host.block_exploits && !host.enabled && !host.trust_forwarded_proto);
        assert_eq!(host.forward_scheme, ForwardScheme::Https);
        assert_eq!(host.meta.nginx_online, Some(false));
        assert_eq!(host.locations[0].path, "/api");
        assert_eq!(host.locations[0].id, None);
    }

    #[test]
    fn a_create_answer_without_nginx_status_is_read() {
        let created = r#"{"id": 5, "domain_names": ["b.test"], "forward_host": "b",
            "forward_port": 1, "forward_scheme": "http", "enabled": true, "meta": {}}"#;
        let host: ProxyHost = serde_json::from_str(created).unwrap();
        assert_eq!(host.meta.nginx_online, None);
        let null_meta = created.replace(r#""meta": {}"#, r#""meta": null"#);
        let host: ProxyHost = serde_json::from_str(&null_meta).unwrap();
        assert_eq!(host.meta, ProxyHostMeta::default());
    }
}
