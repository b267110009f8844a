//! A forwarding proxy in front of an own registry, for tag-list pagination with a real token
//! check on every page.
//!
//! Debian's Distribution 2.8 sends every tag at once whatever `n` asks; newer registries page.
//! The proxy serves each `tags/list?n=…&last=…` page out of the registry's whole answer, with
//! the `Link` header registries send, but forwards every page request to the registry with the
//! client's own `Authorization`: the registry itself accepts or refuses the token each time,
//! and its refusal (status, `WWW-Authenticate` and body) reaches the client unchanged. Other
//! `GET` and `HEAD` requests are forwarded as they are.
//!
//! Optionally it holds a continuation page (one with `last=`) whose Bearer token is about to
//! go stale at the registry until it has: the registry then sees a token that expired between
//! two pages of one listing, at a moment computed from the token's own `exp` rather than
//! after a fixed sleep.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::http::{Handler, Request, Response, Server};
use super::token_server::{LEEWAY_SECS, token_exp};

/// Headers of the registry's answers that the proxy passes on.
const PASSED_HEADERS: [&str; 6] = [
    "content-type",
    "docker-content-digest",
    "docker-distribution-api-version",
    "www-authenticate",
    "location",
    "link",
];
/// A token going stale later than this is not waited for.
const HOLD_AT_MOST_SECS: f64 = 30.0;

struct State {
    upstream: String,
    agent: ureq::Agent,
    hold_expiring_tokens: bool,
    held: AtomicUsize,
    pages: AtomicUsize,
}

/// The running proxy; stops when dropped.
pub struct PagingProxy {
    state: Arc<State>,
    server: Server,
}

impl PagingProxy {
    /// A proxy to the registry at `upstream` (`127.0.0.1:port`).
    pub fn start(upstream: &str, hold_expiring_tokens: bool) -> PagingProxy {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let state = Arc::new(State {
            upstream: format!("http://{upstream}"),
            agent,
            hold_expiring_tokens,
            held: AtomicUsize::new(0),
            pages: AtomicUsize::new(0),
        });
        let handling = state.clone();
        let handler: Handler = Arc::new(move |request| handling.answer(request));
        PagingProxy {
            state,
            server: Server::start("paging-proxy", handler),
        }
    }

    /// `127.0.0.1:port`, where clients go instead of the registry.
    pub fn host(&self) -> &str {
        self.server.addr()
    }

    /// Requests held until their token went stale.
    pub fn held(&self) -> usize {
        self.state.held.load(Ordering::SeqCst)
    }

    /// Tag-list pages served (the registry answered 200).
    pub fn pages_served(&self) -> usize {
        self.state.pages.load(Ordering::SeqCst)
    }
}

impl State {
    fn answer(&self, request: &Request) -> Response {
        let page_size = request
            .query_value("n")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n > 0);
        let paged = request.method == "GET" && request.path().ends_with("/tags/list");
        let last = request.query_value("last");
        if paged && last.is_some() && self.hold_expiring_tokens {
            self.hold_until_stale(request);
        }
        // The registry ignores `n` anyway; asking without it makes that plain.
        let target = match (paged, page_size) {
            (true, Some(_)) => request.path(),
            _ => request.target.as_str(),
        };
        let url = format!("{}{target}", self.upstream);
        let mut call = match request.method.as_str() {
            "GET" => self.agent.get(&url),
            "HEAD" => self.agent.head(&url),
            other => {
                return Response::json(
                    400,
                    &serde_json::json!({"errors": [{"code": "UNSUPPORTED", "message": other}]}),
                );
            }
        };
        for name in ["authorization", "accept"] {
            if let Some(value) = request.header(name) {
                call = call.header(name, value);
            }
        }
        let mut upstream = match call.call() {
            Ok(response) => response,
            Err(err) => {
                return Response::json(
                    502,
                    &serde_json::json!({"errors": [{"code": "BAD_GATEWAY", "message": err.to_string()}]}),
                );
            }
        };
        let status = upstream.status().as_u16();
        let headers: Vec<(String, String)> = PASSED_HEADERS
            .iter()
            .flat_map(|name| {
                upstream
                    .headers()
                    .get_all(*name)
                    .iter()
                    .filter_map(|value| value.to_str().ok())
                    .map(|value| ((*name).to_owned(), value.to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let body = if request.method == "HEAD" {
            Vec::new()
        } else {
            upstream.body_mut().read_to_vec().unwrap_or_default()
        };
        match (paged, page_size, status) {
            (true, Some(n), 200) => {
                self.pages.fetch_add(1, Ordering::SeqCst);
                page(request.path(), &body, n, last.as_deref())
            }
            _ => Response {
                status,
                headers,
                body,
            },
        }
    }

    /// Waits until the registry refuses the request's Bearer token, when that is soon.
    fn hold_until_stale(&self, request: &Request) {
        let Some(exp) = request
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .and_then(token_exp)
        else {
            return;
        };
        // Distribution refuses a token once its clock is past exp + leeway; one more second
        // clears any rounding of its sub-second clock.
        let stale_at = (exp + LEEWAY_SECS + 1) as f64;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs_f64())
            .unwrap_or(0.0);
        let wait = stale_at - now;
        if wait <= 0.0 || wait > HOLD_AT_MOST_SECS {
            return;
        }
        self.held.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_secs_f64(wait));
    }
}

/// One page of the registry's whole tag list: up to `n` tags after `last`, in order, with a
/// `Link` to the next page when tags remain.
fn page(path: &str, body: &[u8], n: usize, last: Option<&str>) -> Response {
    let list: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let mut tags: Vec<String> = list["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tag| tag.as_str().map(str::to_owned))
        .collect();
    tags.sort();
    let rest: Vec<String> = tags
        .into_iter()
        .filter(|tag| last.is_none_or(|last| tag.as_str() > last))
        .collect();
    let shown = &rest[..n.min(rest.len())];
    let mut response = Response::json(
        200,
        &serde_json::json!({"name": list["name"], "tags": shown}),
    );
    if rest.len() > shown.len()
        && let Some(end) = shown.last()
    {
        response.headers.push((
            "Link".into(),
            format!("<{path}?n={n}&last={end}>; rel=\"next\""),
        ));
    }
    response
}
