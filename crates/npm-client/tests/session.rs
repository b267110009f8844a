//! The session against the NPM double: logging in, renewing the token before it expires,
//! logging in again once when NPM says it has expired (never in a loop), refused credentials,
//! 2FA accounts, and an NPM that is down, hangs or fails.

mod support;

use std::thread;
use std::time::Duration;

use npm_client::{NpmClient, NpmConfig, NpmError};
use npm_double::{ADMIN_EMAIL, NpmDouble};
use support::{client, client_with, impatient};

/// The requests the double received, as `METHOD /path`.
fn sent(npm: &NpmDouble) -> Vec<String> {
    npm.requests()
        .iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

#[test]
fn logs_in_once_and_reuses_the_token() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    assert_eq!(npm.logins(), 0, "nothing is sent before the first call");
    client.login().unwrap();
    let expires = client.token_expires().unwrap();
    assert!(expires > chrono::Utc::now() + chrono::TimeDelta::hours(23));
    for _ in 0..3 {
        assert!(client.list_proxy_hosts().unwrap().is_empty());
    }
    assert_eq!(npm.logins(), 1);
    assert_eq!(npm.refreshes(), 0);
    let requests = npm.requests();
    assert_eq!(
        requests[0].body.as_ref().unwrap(),
        &serde_json::json!({"identity": ADMIN_EMAIL, "secret": npm_double::ADMIN_PASSWORD}),
        "the login sends identity and secret only"
    );
    let token = requests[1].bearer.clone().unwrap();
    assert!(
        requests[1..]
            .iter()
            .all(|request| request.bearer.as_ref() == Some(&token))
    );
}

#[test]
fn logs_in_by_itself_on_the_first_call() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    client.list_proxy_hosts().unwrap();
    assert_eq!(
        sent(&npm),
        ["POST /api/tokens", "GET /api/nginx/proxy-hosts"]
    );
}

#[test]
fn renews_the_token_before_it_expires() {
    // Tokens of 2 s are renewed from half their life on; calls every 400 ms for 3.2 s
    // outlive the first token without ever sending an expired one.
    let npm = NpmDouble::builder()
        .token_lifetime(Duration::from_secs(2))
        .start();
    let client = client(&npm);
    client.login().unwrap();
    let first_expiry = client.token_expires().unwrap();
    for _ in 0..8 {
        thread::sleep(Duration::from_millis(400));
        client.list_proxy_hosts().unwrap();
    }
    assert_eq!(npm.logins(), 1, "renewed, never logged in again");
    assert!(npm.refreshes() >= 2, "renewed {} times", npm.refreshes());
    assert!(client.token_expires().unwrap() > first_expiry);
    assert!(
        sent(&npm)
            .iter()
            .any(|request| request == "GET /api/tokens"),
        "renewal is GET /api/tokens"
    );
}

#[test]
fn a_renewal_uses_the_current_token_and_its_answer_is_used_next() {
    let npm = NpmDouble::builder()
        .token_lifetime(Duration::from_secs(2))
        .start();
    let client = client(&npm);
    client.login().unwrap();
    thread::sleep(Duration::from_millis(1100));
    client.list_proxy_hosts().unwrap();
    let requests = npm.requests();
    let login_token = requests[1].bearer.clone();
    assert_eq!(requests[1].path, "/api/tokens");
    assert_eq!(requests[1].method, "GET");
    assert!(login_token.is_some());
    assert_eq!(requests[2].path, "/api/nginx/proxy-hosts");
    assert_ne!(requests[2].bearer, login_token, "the renewed token is used");
}

#[test]
fn a_token_past_its_expiry_is_not_renewed_but_replaced_by_a_login() {
    let npm = NpmDouble::builder()
        .token_lifetime(Duration::from_millis(300))
        .start();
    let client = client(&npm);
    client.login().unwrap();
    thread::sleep(Duration::from_millis(400));
    client.list_proxy_hosts().unwrap();
    assert_eq!(npm.logins(), 2);
    assert_eq!(npm.refreshes(), 0);
    assert_eq!(
        sent(&npm),
        [
            "POST /api/tokens",
            "POST /api/tokens",
            "GET /api/nginx/proxy-hosts"
        ]
    );
}

#[test]
fn an_expired_token_mid_session_means_one_new_login_and_one_retry() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    client.list_proxy_hosts().unwrap();
    // NPM now says the token has expired (400, not 401), although its `expires` is a day off.
    npm.expire_tokens();
    assert!(client.list_proxy_hosts().unwrap().is_empty());
    assert_eq!(npm.logins(), 2);
    assert_eq!(
        sent(&npm),
        [
            "POST /api/tokens",
            "GET /api/nginx/proxy-hosts",
            "GET /api/nginx/proxy-hosts",
            "POST /api/tokens",
            "GET /api/nginx/proxy-hosts",
        ]
    );
}

#[test]
fn a_token_that_keeps_expiring_is_an_error_not_a_loop() {
    let npm = NpmDouble::builder().token_lifetime(Duration::ZERO).start();
    let client = client(&npm);
    let err = client.list_proxy_hosts().unwrap_err();
    assert!(matches!(err, NpmError::TokenRejected { .. }), "{err:?}");
    assert_eq!(err.npm_message(), Some("Token has expired"));
    assert!(err.to_string().contains("clock"), "{err}");
    assert_eq!(npm.logins(), 2, "one login, then exactly one more");
    assert_eq!(npm.requests().len(), 4);
}

#[test]
fn refused_credentials_carry_npms_message_and_never_the_password() {
    let npm = NpmDouble::start();
    let password = "wrong-password-7f3a";
    let client = NpmClient::new(&npm.url(), ADMIN_EMAIL, password, NpmConfig::default()).unwrap();
    let err = client.list_proxy_hosts().unwrap_err();
    assert!(
        matches!(&err, NpmError::Login { status: 400, message, .. } if message == "Invalid email or password"),
        "{err:?}"
    );
    assert!(err.is_auth());
    for shown in [err.to_string(), format!("{err:?}"), format!("{client:?}")] {
        assert!(!shown.contains(password), "{shown}");
    }
    assert!(format!("{client:?}").contains(ADMIN_EMAIL));
    assert_eq!(
        sent(&npm),
        ["POST /api/tokens"],
        "no retry with wrong credentials"
    );
}

#[test]
fn a_2fa_account_is_refused_with_what_to_do() {
    let npm = NpmDouble::builder()
        .two_factor_user("totp@example.com", "pw-with-2fa")
        .start();
    let client = NpmClient::new(
        &npm.url(),
        "totp@example.com",
        "pw-with-2fa",
        NpmConfig::default(),
    )
    .unwrap();
    let err = client.login().unwrap_err();
    assert!(matches!(err, NpmError::TwoFactorRequired { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("totp@example.com"), "{text}");
    assert!(
        text.contains("two-factor") && text.contains("without 2FA"),
        "{text}"
    );
    let err = client.list_proxy_hosts().unwrap_err();
    assert!(matches!(err, NpmError::TwoFactorRequired { .. }), "{err:?}");
    assert!(
        npm.requests()
            .iter()
            .all(|request| request.bearer.is_none()),
        "the challenge token is never used as a bearer token"
    );
}

#[test]
fn an_npm_that_is_down_is_a_transport_error_and_the_client_recovers() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    client.list_proxy_hosts().unwrap();
    npm.go_down();
    let err = client.list_proxy_hosts().unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&npm.url()) && text.contains("list proxy hosts"),
        "{text}"
    );
    npm.come_back();
    assert!(client.list_proxy_hosts().unwrap().is_empty());
    assert_eq!(npm.logins(), 1, "the token outlives NPM's restart");
}

#[test]
fn an_npm_that_never_answers_times_out() {
    let npm = NpmDouble::start();
    let client = client_with(&npm, impatient());
    client.login().unwrap();
    npm.set_unresponsive(true);
    let err = client.list_proxy_hosts().unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    npm.set_unresponsive(false);
    client.list_proxy_hosts().unwrap();
}

#[test]
fn npm_errors_come_back_typed_with_npms_message_and_are_not_retried() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    client.login().unwrap();
    npm.fail_next(1, 500, "Internal Error");
    let err = client.list_proxy_hosts().unwrap_err();
    assert!(
        matches!(&err, NpmError::Api { status: 500, message, .. } if message == "Internal Error"),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(500));
    assert_eq!(npm.requests().len(), 2, "a 500 is not retried");
}

#[test]
fn a_refused_renewal_falls_back_to_logging_in() {
    let npm = NpmDouble::builder()
        .token_lifetime(Duration::from_secs(2))
        .start();
    let client = client(&npm);
    client.login().unwrap();
    // Past half its life the token is renewed; NPM says it has expired, so log in instead.
    thread::sleep(Duration::from_millis(1100));
    npm.expire_tokens();
    client.list_proxy_hosts().unwrap();
    assert_eq!(
        sent(&npm),
        [
            "POST /api/tokens",
            "GET /api/tokens",
            "POST /api/tokens",
            "GET /api/nginx/proxy-hosts"
        ]
    );
}

#[test]
fn the_server_status_needs_no_login() {
    let npm = NpmDouble::start();
    let client = client(&npm);
    let status = client.server_status().unwrap();
    assert_eq!(status.status, "OK");
    assert_eq!(status.version.map(|version| version.major), Some(2));
    assert_eq!(npm.logins(), 0);
}

#[test]
fn an_address_with_api_works_the_same() {
    let npm = NpmDouble::start();
    let url = format!("{}/api/", npm.url());
    let client = NpmClient::new(
        &url,
        ADMIN_EMAIL,
        npm_double::ADMIN_PASSWORD,
        NpmConfig::default(),
    )
    .unwrap();
    assert_eq!(client.npm(), npm.url());
    client.list_proxy_hosts().unwrap();
}
