//! The nginx configuration the double writes, in the manner of NPM's templates: a main file with
//! a default server (404 for unknown hosts, plus the generation marker the double polls after a
//! reload), and one `server {}` per enabled proxy host, forwarding through variables as NPM
//! does (`set $server …; proxy_pass $forward_scheme://$server:$port$request_uri`).
//!
//! Not rendered, because the double serves plain HTTP on one port: certificates, forced SSL,
//! HTTP/2, HSTS, the exploit-blocking and caching includes and access lists. They are stored and
//! returned as NPM does.

use std::path::Path;

use serde_json::{Map, Value};

/// Path of the marker location in the default server: it answers the generation of the config
/// that nginx runs, so the double knows when a reload is in effect.
pub(crate) const GENERATION_PATH: &str = "/__npm_double/generation";
/// The `Host` the double sends to reach the default server.
pub(crate) const PROBE_HOST: &str = "npm-double.invalid";

/// The main `nginx.conf`.
pub(crate) fn main_config(prefix: &Path, port: u16, generation: u64, as_root: bool) -> String {
    let dir = prefix.display();
    let user = if as_root { "user root;\n" } else { "" };
    let resolver = resolver_line();
    format!(
        r#"# Written by npm-double; rewritten at every reload.
daemon off;
master_process on;
worker_processes 1;
{user}pid {dir}/nginx.pid;
error_log {dir}/logs/error.log notice;

events {{
    worker_connections 512;
}}

http {{
    access_log {dir}/logs/access.log;
    client_body_temp_path {dir}/temp/client_body;
    proxy_temp_path {dir}/temp/proxy;
    fastcgi_temp_path {dir}/temp/fastcgi;
    uwsgi_temp_path {dir}/temp/uwsgi;
    scgi_temp_path {dir}/temp/scgi;
    server_names_hash_bucket_size 128;
    server_names_hash_max_size 4096;
    proxy_connect_timeout 5s;
    {resolver}

    server {{
        listen 127.0.0.1:{port} default_server;
        server_name _;
        location = {GENERATION_PATH} {{
            default_type text/plain;
            return 200 "{generation}";
        }}
        location / {{
            return 404;
        }}
    }}

    include {dir}/hosts/*.conf;
}}
"#
    )
}

/// The `server {}` of one enabled proxy host.
pub(crate) fn proxy_host(id: u64, host: &Map<String, Value>, port: u16) -> String {
    let text = |name: &str| host.get(name).and_then(Value::as_str).unwrap_or("");
    let number = |name: &str| host.get(name).and_then(Value::as_i64).unwrap_or(0);
    let flag = |name: &str| host.get(name).and_then(Value::as_bool).unwrap_or(false);
    let names: Vec<&str> = host
        .get("domain_names")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let websocket = if flag("allow_websocket_upgrade") {
        "        proxy_set_header Upgrade $http_upgrade;\n        \
         proxy_set_header Connection $http_connection;\n        \
         proxy_http_version 1.1;\n"
    } else {
        ""
    };
    let mut locations = String::new();
    for location in host
        .get("locations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        let field = |name: &str| location.get(name).and_then(Value::as_str).unwrap_or("");
        locations.push_str(&format!(
            "    location {path} {{\n        \
             proxy_set_header Host $host;\n        \
             proxy_pass {scheme}://{host}:{port}{forward_path};\n        \
             {advanced}\n    }}\n",
            path = field("path"),
            scheme = field("forward_scheme"),
            host = field("forward_host"),
            port = location
                .get("forward_port")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            forward_path = field("forward_path"),
            advanced = field("advanced_config"),
        ));
    }
    format!(
        r#"# Proxy host {id}: {names}, written by npm-double.
server {{
    set $forward_scheme {scheme};
    set $server "{forward_host}";
    set $port {forward_port};

    listen 127.0.0.1:{port};
    server_name {names};

    {advanced}

{locations}
    location / {{
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Scheme $scheme;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Real-IP $remote_addr;
{websocket}        proxy_pass $forward_scheme://$server:$port$request_uri;
    }}
}}
"#,
        names = names.join(" "),
        scheme = text("forward_scheme"),
        forward_host = text("forward_host"),
        forward_port = number("forward_port"),
        advanced = text("advanced_config"),
    )
}

/// `resolver …;` with the name servers of `/etc/resolv.conf`, as NPM writes it, so that
/// forward hosts given by name resolve at request time; nothing when there are none.
fn resolver_line() -> String {
    let servers: Vec<String> = std::fs::read_to_string("/etc/resolv.conf")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.trim().strip_prefix("nameserver"))
        .map(str::trim)
        .filter(|address| !address.is_empty() && !address.contains('%'))
        .map(|address| {
            if address.contains(':') {
                format!("[{address}]")
            } else {
                address.to_owned()
            }
        })
        .collect();
    if servers.is_empty() {
        String::new()
    } else {
        format!("resolver {} valid=10s;", servers.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_host_forwards_its_names_to_its_upstream() {
        let host = json!({
            "domain_names": ["a.test", "b.test"], "forward_scheme": "http",
            "forward_host": "127.0.0.1", "forward_port": 8081, "allow_websocket_upgrade": true,
            "advanced_config": "", "locations": null
        });
        let text = proxy_host(3, host.as_object().unwrap(), 9000);
        assert!(text.contains("server_name a.test b.test;"), "{text}");
        assert!(text.contains("listen 127.0.0.1:9000;"), "{text}");
        assert!(text.contains("set $server \"127.0.0.1\";"), "{text}");
        assert!(text.contains("set $port 8081;"), "{text}");
        assert!(
            text.contains("proxy_set_header Upgrade $http_upgrade;"),
            "{text}"
        );
    }

    #[test]
    fn websocket_headers_only_when_allowed() {
        let host = json!({
            "domain_names": ["a.test"], "forward_scheme": "https", "forward_host": "web",
            "forward_port": 443, "allow_websocket_upgrade": false
        });
        let text = proxy_host(1, host.as_object().unwrap(), 9000);
        assert!(!text.contains("Upgrade"), "{text}");
        assert!(text.contains("set $forward_scheme https;"), "{text}");
    }
}
