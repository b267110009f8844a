//! The API's front: records each request, plays the faults tests switched on, checks the bearer
//! token, and routes to the token and proxy host handlers, answering unknown paths as NPM does.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::errors::{self, npm_error};
use crate::http::{Handler, Request, Response};
use crate::proxy_hosts;
use crate::schema;
use crate::state::{RecordedRequest, Shared, State, lock};
use crate::tokens::{self, Refusal};

/// NPM's version as the double reports it.
pub(crate) const VERSION: (u32, u32, u32) = (2, 15, 1);

pub(crate) struct Api {
    pub shared: Arc<Shared>,
}

impl Handler for Api {
    fn handle(&self, request: Request) -> Option<Response> {
        record(&mut lock(&self.shared.state), &request);
        {
            let mut faults = lock(&self.shared.faults);
            while faults.unresponsive && !faults.stopping {
                faults = self
                    .shared
                    .faults_changed
                    .wait(faults)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if faults.stopping {
                return None;
            }
            if let Some((status, message)) = faults.failures.pop_front() {
                return Some(npm_error(status, &message));
            }
        }
        Some(route(&self.shared, &request))
    }
}

fn record(state: &mut State, request: &Request) {
    let mut query: Vec<(String, String)> = request
        .query
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    query.sort();
    state.requests.push(RecordedRequest {
        method: request.method.clone(),
        path: request.path.clone(),
        query,
        bearer: request
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::to_owned),
        body: serde_json::from_slice(&request.body).ok(),
    });
}

fn route(shared: &Shared, request: &Request) -> Response {
    let method = request.method.as_str();
    if request.path == "/api" {
        return Response {
            status: 302,
            headers: vec![("Location".to_owned(), "/api/".to_owned())],
            body: Vec::new(),
        };
    }
    let Some(path) = request.path.strip_prefix("/api") else {
        return errors::not_found(&request.path);
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", [""]) => status(),
        ("POST", ["tokens"]) => log_in(&mut lock(&shared.state), request),
        // Finishing a 2FA login is not played: the double's 2FA user exists to be refused.
        (_, ["tokens", "2fa"]) => errors::not_found(path),
        (_, ["tokens", ..]) | (_, ["nginx", "proxy-hosts", ..]) => {
            let mut state = lock(&shared.state);
            let user = match state.tokens.check(request.header("authorization")) {
                Ok(user) => user,
                Err(refusal) => return refused(refusal, method, path),
            };
            match (method, segments.as_slice()) {
                ("GET", ["tokens"]) => refresh(&mut state, request, user),
                (_, ["nginx", "proxy-hosts", rest @ ..]) => {
                    let failing_create = method == "POST" && rest.is_empty() && {
                        let mut faults = lock(&shared.faults);
                        let failing = faults.failing_creates > 0;
                        faults.failing_creates = faults.failing_creates.saturating_sub(1);
                        failing
                    };
                    proxy_hosts::route(&mut state, request, user, rest, failing_create)
                        .unwrap_or_else(|| errors::not_found(path))
                }
                _ => errors::not_found(path),
            }
        }
        _ => errors::not_found(path),
    }
}

/// NPM's answers to a request without a usable token. Without any token, NPM lets a GET fall
/// through to its 404 route and masks other methods as a 500; a token that does not verify
/// is a 500; an expired one is `400 Token has expired`.
fn refused(refusal: Refusal, method: &str, path: &str) -> Response {
    match refusal {
        Refusal::Missing if method == "GET" => errors::not_found(path),
        Refusal::Missing | Refusal::Malformed => errors::internal_error(),
        Refusal::Expired => errors::token_expired(),
    }
}

fn status() -> Response {
    let (major, minor, revision) = VERSION;
    Response::json(
        200,
        &json!({
            "status": "OK",
            "setup": true,
            "version": {"major": major, "minor": minor, "revision": revision},
        }),
    )
}

/// `POST /api/tokens`.
fn log_in(state: &mut State, request: &Request) -> Response {
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(_) => return npm_error(400, "data must be object"),
    };
    let fields = match schema::login(&body) {
        Ok(fields) => fields,
        Err(message) => return npm_error(400, &message),
    };
    let identity = fields["identity"].as_str().unwrap_or("");
    let secret = fields["secret"].as_str().unwrap_or("");
    let Some(user) = state
        .users
        .iter()
        .find(|user| user.email.eq_ignore_ascii_case(identity.trim()) && user.password == secret)
        .cloned()
    else {
        return errors::invalid_credentials();
    };
    if user.two_factor {
        return Response::json(
            200,
            &json!({"requires_2fa": true, "challenge_token": tokens::challenge_token()}),
        );
    }
    state.logins += 1;
    let lifetime = state.token_lifetime;
    Response::json(200, &state.tokens.issue(&user, lifetime))
}

/// `GET /api/tokens`: a new token for a valid one, for `?expiry=` or the usual lifetime.
fn refresh(state: &mut State, request: &Request, user_id: u64) -> Response {
    let lifetime = match request.query.get("expiry") {
        Some(expiry) => match tokens::parse_expiry(expiry) {
            Some(lifetime) => lifetime,
            None => {
                return npm_error(
                    400,
                    "data/expiry must match pattern \"^[0-9]+(y|Q|M|w|d|h|m|s|ms)$\"",
                );
            }
        },
        None => state.token_lifetime,
    };
    let Some(user) = state.users.iter().find(|user| user.id == user_id).cloned() else {
        return errors::internal_error();
    };
    state.refreshes += 1;
    Response::json(200, &state.tokens.issue(&user, lifetime))
}
