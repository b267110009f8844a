//! Proxy hosts against the NPM double: create, get, update, find, enable, disable, delete;
//! NPM's schema and uniqueness errors surfaced with NPM's message; and what goes on the wire.

mod support;

use npm_client::{ForwardScheme, NewProxyHost, NpmError, ProxyHostId, ProxyHostPatch};
use npm_double::NpmDouble;
use serde_json::{Map, Value, json};
use support::client;

const DOMAIN: &str = "stage-dev-shop.example.test";

fn shop(port: u16) -> NewProxyHost {
    NewProxyHost::new([DOMAIN], ForwardScheme::Http, "127.0.0.1", port)
}

/// The body of the last request the double received for `method path`.
fn last_body(npm: &NpmDouble, method: &str, path: &str) -> Value {
    npm.requests()
        .into_iter()
        .rev()
        .find(|request| request.method == method && request.path == path)
        .and_then(|request| request.body)
        .unwrap_or_else(|| panic!("no {method} {path} with a JSON body"))
}

#[test]
fn create_returns_the_host_with_its_nginx_status() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let mut new = shop(8080);
    new.allow_websocket_upgrade = Some(true);
    new.block_exploits = Some(true);
    new.access_list_id = Some(0);
    new.certificate_id = Some(0);
    new.ssl_forced = Some(true);
    new.meta = Some(Map::from_iter([(
        "docker_watcher".to_owned(),
        json!("shop/dev"),
    )]));
    let host = client.create_proxy_host(&new).unwrap();
    assert_eq!(host.domain_names, [DOMAIN]);
    assert_eq!(host.forward_scheme, ForwardScheme::Http);
    assert_eq!(
        (host.forward_host.as_str(), host.forward_port),
        ("127.0.0.1", 8080)
    );
    assert!(host.enabled && host.allow_websocket_upgrade && host.block_exploits);
    assert!(
        !host.ssl_forced,
        "NPM drops forced SSL without a certificate"
    );
    assert_eq!(
        host.meta.nginx_online,
        Some(true),
        "read back after the create"
    );
    assert_eq!(host.meta.other["docker_watcher"], "shop/dev");
    assert!(host.created_on.is_some());
    assert_eq!(
        last_body(&npm, "POST", "/api/nginx/proxy-hosts"),
        json!({
            "domain_names": [DOMAIN], "forward_scheme": "http", "forward_host": "127.0.0.1",
            "forward_port": 8080, "certificate_id": 0, "ssl_forced": true,
            "block_exploits": true, "allow_websocket_upgrade": true, "access_list_id": 0,
            "meta": {"docker_watcher": "shop/dev"}
        }),
        "only the fields set are sent"
    );
    assert_eq!(client.get_proxy_host(host.id).unwrap(), host);
}

#[test]
fn a_host_nginx_refuses_is_created_and_says_so() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let mut new = shop(8080);
    new.advanced_config = Some("proxy_read_timeout forever;".to_owned());
    let host = client.create_proxy_host(&new).unwrap();
    assert_eq!(host.meta.nginx_online, Some(false));
    let complaint = host.meta.nginx_err.unwrap();
    assert!(complaint.contains("proxy_read_timeout"), "{complaint}");
}

#[test]
fn find_matches_the_exact_domain_ignoring_case_only() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let shop = client.create_proxy_host(&shop(8080)).unwrap();
    let myshop = client
        .create_proxy_host(&NewProxyHost::new(
            ["my-stage-dev-shop.example.test", "other.example.test"],
            ForwardScheme::Http,
            "127.0.0.1",
            8081,
        ))
        .unwrap();
    // NPM's search is a substring match: both come back from the server.
    assert_eq!(client.search_proxy_hosts(DOMAIN).unwrap().len(), 2);
    let found = client
        .find_proxy_host("Stage-Dev-Shop.Example.TEST")
        .unwrap();
    assert_eq!(found.map(|host| host.id), Some(shop.id));
    let found = client.find_proxy_host("other.example.test").unwrap();
    assert_eq!(found.map(|host| host.id), Some(myshop.id));
    assert_eq!(
        client.find_proxy_host("dev-shop.example.test").unwrap(),
        None
    );
    assert_eq!(
        client.find_proxy_host("nowhere.example.test").unwrap(),
        None
    );
    let search = npm.requests().into_iter().last().unwrap();
    assert_eq!(
        search.query,
        [("query".to_owned(), "nowhere.example.test".to_owned())]
    );
}

#[test]
fn find_sees_disabled_hosts() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let host = client.create_proxy_host(&shop(8080)).unwrap();
    client.disable_proxy_host(host.id).unwrap();
    let found = client.find_proxy_host(DOMAIN).unwrap().unwrap();
    assert_eq!(found.id, host.id);
    assert!(!found.enabled);
}

#[test]
fn update_enable_disable_delete() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let host = client.create_proxy_host(&shop(8080)).unwrap();
    let patch = ProxyHostPatch {
        forward_port: Some(9090),
        ..ProxyHostPatch::default()
    };
    let updated = client.update_proxy_host(host.id, &patch).unwrap();
    assert_eq!(updated.forward_port, 9090);
    assert_eq!(updated.forward_host, "127.0.0.1");
    assert_eq!(updated.meta.nginx_online, Some(true));
    let path = format!("/api/nginx/proxy-hosts/{}", host.id);
    assert_eq!(last_body(&npm, "PUT", &path), json!({"forward_port": 9090}));

    client.disable_proxy_host(host.id).unwrap();
    assert!(!client.get_proxy_host(host.id).unwrap().enabled);
    let err = client.disable_proxy_host(host.id).unwrap_err();
    assert_eq!(err.npm_message(), Some("Host is already disabled"));
    assert_eq!(err.status(), Some(400));
    client.enable_proxy_host(host.id).unwrap();
    assert!(client.get_proxy_host(host.id).unwrap().enabled);
    let err = client.enable_proxy_host(host.id).unwrap_err();
    assert_eq!(err.npm_message(), Some("Host is already enabled"));
    let toggles: Vec<String> = npm
        .requests()
        .iter()
        .filter(|request| request.path.ends_with("able"))
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert_eq!(
        toggles,
        [
            format!("POST {path}/disable"),
            format!("POST {path}/disable"),
            format!("POST {path}/enable"),
            format!("POST {path}/enable"),
        ],
        "enable and disable use NPM's own endpoints"
    );
    assert_eq!(
        npm.requests()
            .iter()
            .filter(|request| request.method == "PUT")
            .count(),
        1,
        "and not PUT"
    );

    client.delete_proxy_host(host.id).unwrap();
    let err = client.get_proxy_host(host.id).unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(
        err.npm_message(),
        Some(format!("Not Found - {}", host.id).as_str())
    );
    assert!(client.list_proxy_hosts().unwrap().is_empty());
    let err = client.delete_proxy_host(ProxyHostId(9999)).unwrap_err();
    assert_eq!(err.npm_message(), Some("Not Found - 9999"));
}

#[test]
fn schema_errors_come_back_with_npms_message() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let cases = [
        (
            NewProxyHost::new(["shop.example.test:8443"], ForwardScheme::Http, "web", 80),
            "data/domain_names/0 must match pattern",
        ),
        (
            NewProxyHost::new(Vec::<String>::new(), ForwardScheme::Http, "web", 80),
            "data/domain_names must NOT have fewer than 1 items",
        ),
        (
            NewProxyHost::new(["a.test", "a.test"], ForwardScheme::Http, "web", 80),
            "data/domain_names must NOT have duplicate items",
        ),
        (
            NewProxyHost::new(["a.test"], ForwardScheme::Http, "", 80),
            "data/forward_host must NOT have fewer than 1 characters",
        ),
        (
            NewProxyHost::new(["a.test"], ForwardScheme::Http, "web", 0),
            "data/forward_port must be >= 1",
        ),
    ];
    for (new, expected) in cases {
        let err = client.create_proxy_host(&new).unwrap_err();
        let message = err.npm_message().unwrap_or_default();
        assert!(message.starts_with(expected), "{message:?} for {new:?}");
        assert_eq!(err.status(), Some(400));
        assert!(err.to_string().contains(message), "{err}");
    }
    let host = client
        .create_proxy_host(&NewProxyHost::new(
            ["a.test"],
            ForwardScheme::Http,
            "web",
            80,
        ))
        .unwrap();
    let err = client
        .update_proxy_host(host.id, &ProxyHostPatch::default())
        .unwrap_err();
    assert_eq!(
        err.npm_message(),
        Some("data must NOT have fewer than 1 properties")
    );
    assert!(npm.proxy_hosts().len() == 1, "nothing else was created");
}

#[test]
fn a_duplicate_domain_is_refused_also_against_a_disabled_host() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let first = client.create_proxy_host(&shop(8080)).unwrap();
    let upper = NewProxyHost::new(
        [DOMAIN.to_uppercase()],
        ForwardScheme::Http,
        "127.0.0.1",
        8081,
    );
    let err = client.create_proxy_host(&upper).unwrap_err();
    assert!(
        matches!(&err, NpmError::Api { status: 400, message, .. }
            if *message == format!("{} is already in use", DOMAIN.to_uppercase())),
        "{err:?}"
    );
    client.disable_proxy_host(first.id).unwrap();
    let err = client.create_proxy_host(&shop(8081)).unwrap_err();
    assert_eq!(
        err.npm_message(),
        Some(format!("{DOMAIN} is already in use").as_str())
    );
    client.delete_proxy_host(first.id).unwrap();
    let second = client.create_proxy_host(&shop(8081)).unwrap();
    assert_ne!(second.id, first.id);
}
