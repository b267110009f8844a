//! The registries API against the real binary: passwords are write-only, an update keeps, clears
//! or replaces a password exactly as asked, and bad requests get clear errors.

mod support;

use serde_json::{Value, json};
use support::Server;

/// Sends `method url` with a JSON body (or none) and returns the status and the parsed body.
fn send(method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        ("POST", Some(body)) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body.to_string()),
        ("PUT", Some(body)) => agent
            .put(url)
            .header("Content-Type", "application/json")
            .send(body.to_string()),
        _ => panic!("unsupported request {method} {url}"),
    };
    let mut response = response.unwrap_or_else(|error| panic!("{method} {url} failed: {error}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {url}: not JSON: {text}"));
    (status, value)
}

#[test]
fn passwords_are_write_only_and_updates_keep_clear_or_replace_them() {
    let server = Server::start();
    let registries = server.url("/api/registries");
    let planted = "hunter2-but-longer-and-planted";

    let (status, created) = send(
        "POST",
        &registries,
        Some(
            &json!({"name": "ghcr", "url": "https://ghcr.io", "username": "bot", "password": planted}),
        ),
    );
    assert_eq!(status, 201, "{created}");
    let data = &created["data"];
    assert_eq!(data["password_set"], true, "{created}");
    assert_eq!(data["username"], "bot");
    let id = data["id"].as_i64().expect("an id");
    let one = format!("{registries}/{id}");

    let mut bodies = vec![created.clone()];
    let (status, listed) = send("GET", &registries, None);
    assert_eq!(status, 200);
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1), "{listed}");
    bodies.push(listed);

    // No password field: kept.
    let (status, kept) = send("PUT", &one, Some(&json!({"url": "https://ghcr.example"})));
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["data"]["url"], "https://ghcr.example");
    assert_eq!(kept["data"]["password_set"], true, "{kept}");
    bodies.push(kept);
    // A username and a password go together: neither can be cleared alone.
    for half in [json!({"password": null}), json!({"username": null})] {
        let (status, refused) = send("PUT", &one, Some(&half));
        assert_eq!(status, 400, "{half}: {refused}");
        let error = refused["error"].as_str().unwrap_or_default();
        assert!(error.contains("a password needs a username"), "{error}");
    }
    // Explicit nulls: cleared.
    let (status, cleared) = send(
        "PUT",
        &one,
        Some(&json!({"username": null, "password": null})),
    );
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["data"]["password_set"], false, "{cleared}");
    assert_eq!(cleared["data"]["username"], Value::Null, "{cleared}");
    bodies.push(cleared);
    // A string: set again.
    let (status, set) = send(
        "PUT",
        &one,
        Some(&json!({"username": "bot", "password": planted})),
    );
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["data"]["password_set"], true, "{set}");
    bodies.push(set);

    for body in &bodies {
        assert!(
            !body.to_string().contains(planted),
            "an answer shows the password: {body}"
        );
    }
    assert!(
        !server.log().contains(planted),
        "the server log shows the password"
    );

    let (status, deleted) = send("DELETE", &one, None);
    assert_eq!(status, 200, "{deleted}");
    let (status, missing) = send("DELETE", &one, None);
    assert_eq!(status, 404, "{missing}");
}

#[test]
fn bad_registry_requests_get_clear_errors() {
    let server = Server::start();
    let registries = server.url("/api/registries");
    let cases = [
        (
            json!({"name": "Bad Name", "url": "https://x.test"}),
            400,
            "name: invalid name",
        ),
        (
            json!({"name": "ok", "url": "ftp://x.test"}),
            400,
            "must start with http:// or https://",
        ),
        (
            json!({"name": "ok", "url": "https://x.test", "colour": "red"}),
            400,
            "unknown field `colour`",
        ),
        (
            json!({"name": "ok", "url": "https://x.test", "password": "p"}),
            400,
            "needs a username",
        ),
        (
            json!({"url": "https://x.test"}),
            400,
            "missing field `name`",
        ),
    ];
    for (body, status, says) in cases {
        let (got, answer) = send("POST", &registries, Some(&body));
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["success"], false);
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(says),
            "{body}: expected {says:?} in {error:?}"
        );
    }
    let (status, _) = send(
        "POST",
        &registries,
        Some(&json!({"name": "dup", "url": "https://a.test"})),
    );
    assert_eq!(status, 201);
    let (status, answer) = send(
        "POST",
        &registries,
        Some(&json!({"name": "dup", "url": "https://b.test"})),
    );
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        answer["error"], "a registry named dup already exists",
        "{answer}"
    );
    // Credentials in the URL would be stored in plain text: refused, and not echoed.
    let (status, answer) = send(
        "POST",
        &registries,
        Some(&json!({"name": "inurl", "url": "https://bot:UrlSecret-77@c.test/v2"})),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(!answer.to_string().contains("UrlSecret-77"), "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|error| error.contains("not in the URL")),
        "{answer}"
    );
    let (status, answer) = send(
        "POST",
        &registries,
        Some(&json!({"name": "half", "url": "https://d.test", "username": "bot"})),
    );
    assert_eq!(status, 400, "a username needs a password: {answer}");
    let (status, answer) = send(
        "PUT",
        &format!("{registries}/424242"),
        Some(&json!({"url": "https://c.test"})),
    );
    assert_eq!(status, 404, "{answer}");
    let text = support::http_post(&registries, Some("text/plain"), b"{}");
    assert_eq!(text.status, 415, "{}", text.body);
}

#[test]
fn a_registry_can_be_tested_and_its_tags_listed_newest_first() {
    let server = Server::start();
    let registries = server.url("/api/registries");
    let host = support::testbed_var("DW_TEST_AUTH_REGISTRY");
    let user = support::testbed_var("DW_TEST_AUTH_USER");
    let password = support::testbed_var("DW_TEST_AUTH_PASSWORD");
    let url = format!("http://{host}");

    let (status, good) = send(
        "POST",
        &registries,
        Some(&json!({"name": "private", "url": url, "username": user, "password": password})),
    );
    assert_eq!(status, 201, "{good}");
    let good_id = good["data"]["id"].as_i64().expect("an id");
    let (status, tested) = send(
        "POST",
        &format!("{registries}/{good_id}/test"),
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{tested}");
    assert_eq!(tested["data"]["ok"], true, "{tested}");

    let (_, wrong) = send(
        "POST",
        &registries,
        Some(
            &json!({"name": "wrong", "url": url, "username": user, "password": "not-the-password-at-all"}),
        ),
    );
    let wrong_id = wrong["data"]["id"].as_i64().expect("an id");
    let (status, failed) = send(
        "POST",
        &format!("{registries}/{wrong_id}/test"),
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{failed}");
    assert_eq!(failed["data"]["ok"], false, "{failed}");
    let reason = failed["data"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&host),
        "the reason names the registry: {reason}"
    );
    assert!(!reason.contains("not-the-password-at-all"), "{reason}");

    let (status, tags) = send(
        "GET",
        &format!("{registries}/{good_id}/tags?image=private/app"),
        None,
    );
    assert_eq!(status, 200, "{tags}");
    let listed: Vec<&str> = tags["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(listed.contains(&"v1") && listed.contains(&"v2"), "{tags}");

    // Sorted by the fixture project's `dev` stage rule, newest first.
    let projects = server.get_data("/api/projects");
    let stage_id = projects[0]["stages"][0]["id"].as_i64().expect("a stage id");
    let (status, sorted) = send(
        "GET",
        &format!("{registries}/{good_id}/tags?image=private/app&stage={stage_id}"),
        None,
    );
    assert_eq!(status, 200, "{sorted}");
    let sorted: Vec<&str> = sorted["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let v1 = sorted
        .iter()
        .position(|tag| *tag == "v1")
        .expect("v1 listed");
    let v2 = sorted
        .iter()
        .position(|tag| *tag == "v2")
        .expect("v2 listed");
    assert!(v2 < v1, "newest first: {sorted:?}");

    let (status, bad) = send(
        "GET",
        &format!("{registries}/{good_id}/tags?image=Not/Valid"),
        None,
    );
    assert_eq!(status, 400, "{bad}");
    let (status, full) = send(
        "GET",
        &format!("{registries}/{good_id}/tags?image={host}/private/app"),
        None,
    );
    assert_eq!(
        status, 200,
        "a full name on this registry is accepted: {full}"
    );
    assert_eq!(full["data"], tags["data"], "{full}");
    let (status, unknown) = send(
        "GET",
        &format!("{registries}/{good_id}/tags?image=private/no-such-app"),
        None,
    );
    assert_eq!(status, 404, "{unknown}");
    assert_eq!(
        unknown["error"],
        format!("registry {host} has no repository private/no-such-app"),
        "{unknown}"
    );
    let (status, elsewhere) = send(
        "GET",
        &format!("{registries}/{good_id}/tags?image=ghcr.io/private/app"),
        None,
    );
    assert_eq!(status, 400, "{elsewhere}");
    let message = elsewhere["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("\"ghcr.io\"") && message.contains(&host) && !message.contains("/ghcr.io"),
        "the error names both registries once: {message}"
    );
    let (status, denied) = send(
        "GET",
        &format!("{registries}/{wrong_id}/tags?image=private/app"),
        None,
    );
    assert_eq!(status, 502, "{denied}");
    assert!(
        !server.log().contains(&password),
        "the server log shows the registry password"
    );
}
