//! Routing through the real nginx the NPM double drives: a proxy host created, repointed,
//! disabled, enabled and deleted through the client changes what a request with that `Host`
//! gets, as soon as each call returns.

mod support;

use npm_client::{ForwardScheme, NewProxyHost, ProxyHostPatch};
use npm_double::NpmDouble;
use support::{backend, client};

const DOMAIN: &str = "stage-dev-shop.example.test";

#[test]
fn a_proxy_host_routes_its_domain_through_nginx() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let v1 = backend("v1");
    let v2 = backend("v2");
    let through_nginx = |domain: &str| {
        let answer = npm.get_through_nginx(domain, "/version").unwrap();
        (answer.status, answer.body)
    };
    assert_eq!(
        through_nginx(DOMAIN).0,
        404,
        "no host yet: nginx's default server"
    );

    let mut new = NewProxyHost::new([DOMAIN], ForwardScheme::Http, "127.0.0.1", v1);
    new.allow_websocket_upgrade = Some(true);
    let host = client.create_proxy_host(&new).unwrap();
    assert_eq!(host.meta.nginx_online, Some(true));
    assert_eq!(through_nginx(DOMAIN), (200, "v1".to_owned()));
    assert_eq!(
        through_nginx(&DOMAIN.to_uppercase()),
        (200, "v1".to_owned()),
        "host names match regardless of case"
    );
    assert_eq!(through_nginx("stage-dev-other.example.test").0, 404);
    let config = npm.nginx_config_of(host.id.0).unwrap();
    assert!(
        config.contains("proxy_set_header Upgrade $http_upgrade;"),
        "{config}"
    );

    let patch = ProxyHostPatch {
        forward_port: Some(v2),
        ..ProxyHostPatch::default()
    };
    client.update_proxy_host(host.id, &patch).unwrap();
    assert_eq!(through_nginx(DOMAIN), (200, "v2".to_owned()));

    client.disable_proxy_host(host.id).unwrap();
    assert_eq!(through_nginx(DOMAIN).0, 404);

    client.enable_proxy_host(host.id).unwrap();
    assert_eq!(through_nginx(DOMAIN), (200, "v2".to_owned()));

    client.delete_proxy_host(host.id).unwrap();
    assert_eq!(through_nginx(DOMAIN).0, 404);
}

#[test]
fn hosts_route_independently() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let dev = backend("dev");
    let rel = backend("rel");
    let dev_host = client
        .create_proxy_host(&NewProxyHost::new(
            ["stage-dev-shop.example.test"],
            ForwardScheme::Http,
            "127.0.0.1",
            dev,
        ))
        .unwrap();
    client
        .create_proxy_host(&NewProxyHost::new(
            ["stage-rel-shop.example.test", "shop.example.test"],
            ForwardScheme::Http,
            "127.0.0.1",
            rel,
        ))
        .unwrap();
    let body = |domain: &str| npm.get_through_nginx(domain, "/").unwrap().body;
    assert_eq!(body("stage-dev-shop.example.test"), "dev");
    assert_eq!(body("stage-rel-shop.example.test"), "rel");
    assert_eq!(body("shop.example.test"), "rel");
    client.disable_proxy_host(dev_host.id).unwrap();
    assert_eq!(
        npm.get_through_nginx("stage-dev-shop.example.test", "/")
            .unwrap()
            .status,
        404
    );
    assert_eq!(body("shop.example.test"), "rel");
}
