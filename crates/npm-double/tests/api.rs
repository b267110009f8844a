//! The double's API against what NPM answers (status codes, bodies, messages), spoken to with
//! a plain HTTP client so that no client logic hides a difference.

use std::net::TcpListener;
use std::time::Duration;

use npm_double::{ADMIN_EMAIL, ADMIN_PASSWORD, NpmDouble};
use serde_json::{Value, json};

/// Sends one request; returns the status and the body (JSON, or a string when it is not).
fn call(
    npm: &NpmDouble,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let url = format!("{}{path}", npm.url());
    let authorization = token.map(|token| format!("Bearer {token}"));
    let result = match (method, body) {
        ("GET", _) => {
            let mut request = agent.get(&url);
            if let Some(value) = &authorization {
                request = request.header("Authorization", value);
            }
            request.call()
        }
        ("DELETE", _) => {
            let mut request = agent.delete(&url);
            if let Some(value) = &authorization {
                request = request.header("Authorization", value);
            }
            request.call()
        }
        (method, body) => {
            let mut request = if method == "PUT" {
                agent.put(&url)
            } else {
                agent.post(&url)
            };
            if let Some(value) = &authorization {
                request = request.header("Authorization", value);
            }
            match body {
                Some(body) => request.send_json(&body),
                None => request.send_empty(),
            }
        }
    };
    let mut response = result.unwrap_or_else(|err| panic!("{method} {path}: {err}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

fn login(npm: &NpmDouble) -> String {
    let (status, body) = call(
        npm,
        "POST",
        "/api/tokens",
        None,
        Some(json!({"identity": ADMIN_EMAIL, "secret": ADMIN_PASSWORD})),
    );
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

fn host(domain: &str, port: u16) -> Value {
    json!({
        "domain_names": [domain],
        "forward_scheme": "http",
        "forward_host": "127.0.0.1",
        "forward_port": port,
    })
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

#[test]
fn status_and_the_api_redirect() {
    let npm = NpmDouble::start();
    let (status, body) = call(&npm, "GET", "/api/", None, None);
    assert_eq!(status, 200);
    assert_eq!(body["status"], "OK");
    assert_eq!(body["setup"], true);
    assert_eq!(body["version"]["major"], 2);
    let (status, _) = call(&npm, "GET", "/api", None, None);
    assert_eq!(status, 302);
    let (status, body) = call(&npm, "GET", "/api/nope", None, None);
    assert_eq!((status, message(&body)), (404, "Not Found - /nope"));
}

#[test]
fn login_answers_like_npm() {
    let npm = NpmDouble::builder()
        .two_factor_user("totp@example.com", "pw-totp")
        .start();
    let (status, body) = call(
        &npm,
        "POST",
        "/api/tokens",
        None,
        Some(json!({"identity": ADMIN_EMAIL, "secret": ADMIN_PASSWORD, "scope": "user"})),
    );
    assert_eq!(status, 200);
    assert_eq!(body["token"].as_str().unwrap().split('.').count(), 3);
    let expires = chrono::DateTime::parse_from_rfc3339(body["expires"].as_str().unwrap()).unwrap();
    let left = expires.signed_duration_since(chrono::Utc::now());
    assert!(left > chrono::TimeDelta::hours(23), "one day: {left}");

    let (status, body) = call(
        &npm,
        "POST",
        "/api/tokens",
        None,
        Some(json!({"identity": ADMIN_EMAIL, "secret": "wrong"})),
    );
    assert_eq!((status, message(&body)), (400, "Invalid email or password"));
    assert_eq!(body["error"]["message_i18n"], "error.invalid-auth");

    let (status, body) = call(
        &npm,
        "POST",
        "/api/tokens",
        None,
        Some(json!({"identity": ADMIN_EMAIL, "secret": ADMIN_PASSWORD, "expiry": "1y"})),
    );
    assert_eq!(
        (status, message(&body)),
        (400, "data must NOT have additional properties")
    );

    let (status, body) = call(
        &npm,
        "POST",
        "/api/tokens",
        None,
        Some(json!({"identity": "totp@example.com", "secret": "pw-totp"})),
    );
    assert_eq!(status, 200);
    assert_eq!(body["requires_2fa"], true);
    assert!(body.get("token").is_none());
    let challenge = body["challenge_token"].as_str().unwrap();
    let (status, body) = call(&npm, "GET", "/api/nginx/proxy-hosts", Some(challenge), None);
    assert_eq!(
        (status, message(&body)),
        (500, "Internal Error"),
        "a challenge token is not a bearer token"
    );
    assert_eq!(npm.logins(), 1);
}

#[test]
fn requests_without_a_usable_token() {
    let npm = NpmDouble::start();
    let (status, body) = call(&npm, "GET", "/api/nginx/proxy-hosts", None, None);
    assert_eq!(
        (status, message(&body)),
        (404, "Not Found - /nginx/proxy-hosts")
    );
    let (status, body) = call(
        &npm,
        "POST",
        "/api/nginx/proxy-hosts",
        None,
        Some(host("a.test", 1)),
    );
    assert_eq!((status, message(&body)), (500, "Internal Error"));
    let (status, _) = call(
        &npm,
        "GET",
        "/api/nginx/proxy-hosts",
        Some("not-a-jwt"),
        None,
    );
    assert_eq!(status, 500);

    let token = login(&npm);
    npm.expire_tokens();
    let (status, body) = call(&npm, "GET", "/api/nginx/proxy-hosts", Some(&token), None);
    assert_eq!((status, message(&body)), (400, "Token has expired"));
    let (status, body) = call(&npm, "GET", "/api/tokens", Some(&token), None);
    assert_eq!(
        (status, message(&body)),
        (400, "Token has expired"),
        "an expired token cannot be renewed"
    );
    assert!(npm.proxy_hosts().is_empty());
}

#[test]
fn tokens_are_renewed_and_expire_on_time() {
    let npm = NpmDouble::builder()
        .token_lifetime(Duration::from_secs(1))
        .start();
    let token = login(&npm);
    let (status, body) = call(&npm, "GET", "/api/tokens", Some(&token), None);
    assert_eq!(status, 200);
    let renewed = body["token"].as_str().unwrap().to_owned();
    assert_ne!(renewed, token);
    assert_eq!(npm.refreshes(), 1);
    let (status, body) = call(&npm, "GET", "/api/tokens?expiry=2h", Some(&renewed), None);
    assert_eq!(status, 200);
    let long = body["token"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(1100));
    let (status, body) = call(&npm, "GET", "/api/nginx/proxy-hosts", Some(&renewed), None);
    assert_eq!((status, message(&body)), (400, "Token has expired"));
    let (status, _) = call(&npm, "GET", "/api/nginx/proxy-hosts", Some(&long), None);
    assert_eq!(status, 200);
}

#[test]
fn create_get_update_delete_with_npm_shapes() {
    let npm = NpmDouble::start();
    let token = login(&npm);
    let mut body = host("B.example.test", 18400);
    body["domain_names"] = json!(["b.example.test", "a.example.test"]);
    body["forward_port"] = json!("18400");
    body["meta"] = json!({"owner": "dw"});
    let (status, created) = call(
        &npm,
        "POST",
        "/api/nginx/proxy-hosts",
        Some(&token),
        Some(body),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_u64().unwrap();
    assert_eq!(created["forward_port"], 18400, "coerced as NPM does");
    assert_eq!(
        created["domain_names"],
        json!(["a.example.test", "b.example.test"])
    );
    assert_eq!(created["enabled"], true);
    assert_eq!(created["locations"], Value::Null);
    assert_eq!(created["owner"]["email"], ADMIN_EMAIL);
    assert_eq!(created["certificate"], Value::Null);
    assert_eq!(
        created["meta"],
        json!({"owner": "dw"}),
        "the create answer predates nginx"
    );
    assert!(created["created_on"].as_str().unwrap().contains(' '));

    let (status, read) = call(
        &npm,
        "GET",
        &format!("/api/nginx/proxy-hosts/{id}"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(read["meta"]["nginx_online"], true);
    assert_eq!(read["meta"]["nginx_err"], Value::Null);
    assert_eq!(read["meta"]["owner"], "dw");
    assert!(read.get("owner").is_none(), "no expansion unless asked");

    let (status, updated) = call(
        &npm,
        "PUT",
        &format!("/api/nginx/proxy-hosts/{id}"),
        Some(&token),
        Some(json!({"forward_port": 18401, "meta": {"other": 1}, "locations": []})),
    );
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["forward_port"], 18401);
    assert_eq!(
        updated["forward_host"], "127.0.0.1",
        "a patch keeps the rest"
    );
    assert_eq!(updated["locations"], json!([]));
    assert_eq!(updated["meta"]["other"], 1);
    assert!(
        updated["meta"].get("owner").is_none(),
        "meta is replaced whole"
    );
    assert_eq!(
        updated["meta"]["nginx_online"], true,
        "PUT answers the nginx status"
    );

    let (status, body) = call(
        &npm,
        "PUT",
        &format!("/api/nginx/proxy-hosts/{id}"),
        Some(&token),
        Some(json!({})),
    );
    assert_eq!(
        (status, message(&body)),
        (400, "data must NOT have fewer than 1 properties")
    );

    let path = format!("/api/nginx/proxy-hosts/{id}");
    let (status, body) = call(&npm, "POST", &format!("{path}/enable"), Some(&token), None);
    assert_eq!((status, message(&body)), (400, "Host is already enabled"));
    let (status, body) = call(&npm, "POST", &format!("{path}/disable"), Some(&token), None);
    assert_eq!((status, body), (200, json!(true)));
    assert_eq!(npm.nginx_config_of(id), None);
    let (status, body) = call(&npm, "POST", &format!("{path}/disable"), Some(&token), None);
    assert_eq!((status, message(&body)), (400, "Host is already disabled"));
    let (status, body) = call(&npm, "POST", &format!("{path}/enable"), Some(&token), None);
    assert_eq!((status, body), (200, json!(true)));
    assert!(
        npm.nginx_config_of(id)
            .unwrap()
            .contains("a.example.test b.example.test")
    );

    let (status, body) = call(&npm, "DELETE", &path, Some(&token), None);
    assert_eq!((status, body), (200, json!(true)));
    let (status, body) = call(&npm, "GET", &path, Some(&token), None);
    assert_eq!(
        (status, message(&body)),
        (404, format!("Not Found - {id}").as_str())
    );
    let (status, body) = call(
        &npm,
        "GET",
        "/api/nginx/proxy-hosts/9999",
        Some(&token),
        None,
    );
    assert_eq!((status, message(&body)), (404, "Not Found - 9999"));
    assert_eq!(npm.nginx_config_of(id), None);
}

#[test]
fn schema_and_uniqueness_messages() {
    let npm = NpmDouble::start();
    let token = login(&npm);
    let post = |body: Value| {
        call(
            &npm,
            "POST",
            "/api/nginx/proxy-hosts",
            Some(&token),
            Some(body),
        )
    };
    let mut unknown = host("a.test", 80);
    unknown["enables"] = json!(true);
    let (status, body) = post(unknown);
    assert_eq!(
        (status, message(&body)),
        (400, "data must NOT have additional properties")
    );
    let (status, body) =
        post(json!({"domain_names": ["a.test"], "forward_host": "x", "forward_port": 1}));
    assert_eq!(
        (status, message(&body)),
        (400, "data must have required property 'forward_scheme'")
    );
    let (status, body) = post(host("app.example.test:8443", 80));
    assert_eq!(status, 400);
    assert!(
        message(&body).starts_with("data/domain_names/0 must match pattern"),
        "{body}"
    );

    let (status, first) = post(host("App.Example.test", 80));
    assert_eq!(status, 201);
    let (status, body) = post(host("app.example.test", 81));
    assert_eq!(
        (status, message(&body)),
        (400, "app.example.test is already in use")
    );
    let id = first["id"].as_u64().unwrap();
    let (status, _) = call(
        &npm,
        "POST",
        &format!("/api/nginx/proxy-hosts/{id}/disable"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    let (status, body) = post(host("app.example.test", 81));
    assert_eq!(
        (status, message(&body)),
        (400, "app.example.test is already in use"),
        "a disabled host keeps its names"
    );
    let (status, _) = call(
        &npm,
        "PUT",
        &format!("/api/nginx/proxy-hosts/{id}"),
        Some(&token),
        Some(json!({"domain_names": ["app.example.test"]})),
    );
    assert_eq!(status, 200, "a host's own names are not in use by another");
    let (status, _) = call(
        &npm,
        "DELETE",
        &format!("/api/nginx/proxy-hosts/{id}"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    let (status, _) = post(host("app.example.test", 81));
    assert_eq!(status, 201, "a deleted host frees its names");
}

#[test]
fn search_is_a_substring_match_and_the_list_is_sorted() {
    let npm = NpmDouble::start();
    let token = login(&npm);
    for domain in [
        "shop.example.test",
        "myshop.example.test",
        "blog.example.test",
    ] {
        let (status, _) = call(
            &npm,
            "POST",
            "/api/nginx/proxy-hosts",
            Some(&token),
            Some(host(domain, 80)),
        );
        assert_eq!(status, 201);
    }
    let names = |body: &Value| -> Vec<String> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|host| host["domain_names"][0].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = call(&npm, "GET", "/api/nginx/proxy-hosts", Some(&token), None);
    assert_eq!(
        names(&all),
        [
            "blog.example.test",
            "myshop.example.test",
            "shop.example.test"
        ]
    );
    let (_, found) = call(
        &npm,
        "GET",
        "/api/nginx/proxy-hosts?query=SHOP.example.test",
        Some(&token),
        None,
    );
    assert_eq!(names(&found), ["myshop.example.test", "shop.example.test"]);
    let (_, expanded) = call(
        &npm,
        "GET",
        "/api/nginx/proxy-hosts?expand=owner",
        Some(&token),
        None,
    );
    assert_eq!(expanded[0]["owner"]["email"], ADMIN_EMAIL);
}

#[test]
fn a_config_nginx_refuses_is_reported_and_the_others_keep_serving() {
    let npm = NpmDouble::start();
    let token = login(&npm);
    let backend = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = backend.local_addr().unwrap().port();
    let (status, good) = call(
        &npm,
        "POST",
        "/api/nginx/proxy-hosts",
        Some(&token),
        Some(host("good.test", port)),
    );
    assert_eq!(status, 201);
    let mut bad = host("bad.test", port);
    bad["advanced_config"] = json!("this_is_not_a_directive on;");
    let (status, created) = call(
        &npm,
        "POST",
        "/api/nginx/proxy-hosts",
        Some(&token),
        Some(bad),
    );
    assert_eq!(status, 201, "NPM creates the host all the same");
    let id = created["id"].as_u64().unwrap();
    let (_, read) = call(
        &npm,
        "GET",
        &format!("/api/nginx/proxy-hosts/{id}"),
        Some(&token),
        None,
    );
    assert_eq!(read["meta"]["nginx_online"], false);
    let complaint = read["meta"]["nginx_err"].as_str().unwrap();
    assert!(
        complaint.contains("unknown directive \"this_is_not_a_directive\""),
        "{complaint}"
    );
    assert_eq!(
        npm.nginx_config_of(id),
        None,
        "the refused file is moved aside"
    );
    let good_id = good["id"].as_u64().unwrap();
    assert!(npm.nginx_config_of(good_id).is_some());
    // The good host still routes (to a backend that accepts and closes: 502 from nginx, not 404).
    drop(backend);
    assert_eq!(npm.get_through_nginx("good.test", "/").unwrap().status, 502);
    assert_eq!(npm.get_through_nginx("bad.test", "/").unwrap().status, 404);

    let (status, fixed) = call(
        &npm,
        "PUT",
        &format!("/api/nginx/proxy-hosts/{id}"),
        Some(&token),
        Some(json!({"advanced_config": ""})),
    );
    assert_eq!(status, 200);
    assert_eq!(fixed["meta"]["nginx_online"], true);
    assert_eq!(fixed["meta"]["nginx_err"], Value::Null);
}

#[test]
fn faults_tests_can_switch_on() {
    let npm = NpmDouble::start();
    let token = login(&npm);

    npm.fail_next(2, 502, "Bad Gateway");
    for _ in 0..2 {
        let (status, body) = call(&npm, "GET", "/api/nginx/proxy-hosts", Some(&token), None);
        assert_eq!((status, message(&body)), (502, "Bad Gateway"));
    }
    let (status, _) = call(&npm, "GET", "/api/nginx/proxy-hosts", Some(&token), None);
    assert_eq!(status, 200);

    npm.fail_next_creates_after_insert(1);
    let (status, body) = call(
        &npm,
        "POST",
        "/api/nginx/proxy-hosts",
        Some(&token),
        Some(host("left.test", 80)),
    );
    assert_eq!((status, message(&body)), (500, "Internal Error"));
    let (status, body) = call(
        &npm,
        "POST",
        "/api/nginx/proxy-hosts",
        Some(&token),
        Some(host("left.test", 80)),
    );
    assert_eq!(
        (status, message(&body)),
        (400, "left.test is already in use")
    );

    npm.go_down();
    let refused = ureq::get(&format!("{}/api/", npm.url())).call();
    assert!(refused.is_err(), "connections are refused while down");
    npm.come_back();
    let (status, _) = call(&npm, "GET", "/api/nginx/proxy-hosts", Some(&token), None);
    assert_eq!(status, 200, "tokens survive a restart");

    npm.set_unresponsive(true);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(300)))
        .build()
        .into();
    let hung = agent.get(&format!("{}/api/", npm.url())).call();
    assert!(matches!(hung, Err(ureq::Error::Timeout(_))), "{hung:?}");
    npm.set_unresponsive(false);
    let (status, _) = call(&npm, "GET", "/api/", None, None);
    assert_eq!(status, 200);
}

#[test]
fn dropping_the_double_stops_nginx() {
    let npm = NpmDouble::start();
    let port = npm.nginx_port();
    assert_eq!(
        npm.get_through_nginx("unknown.test", "/").unwrap().status,
        404
    );
    drop(npm);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nginx still listens on {port}"
    );
}

#[test]
fn requests_are_recorded_for_tests_to_inspect() {
    let npm = NpmDouble::start();
    let token = login(&npm);
    call(
        &npm,
        "GET",
        "/api/nginx/proxy-hosts?query=a.test",
        Some(&token),
        None,
    );
    let requests = npm.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/api/tokens");
    assert_eq!(requests[0].body.as_ref().unwrap()["identity"], ADMIN_EMAIL);
    assert_eq!(
        requests[1].query,
        [("query".to_owned(), "a.test".to_owned())]
    );
    assert_eq!(requests[1].bearer.as_deref(), Some(token.as_str()));
}
