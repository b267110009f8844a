//! Registry behaviour the testbed's real registry cannot be made to show, played by a small
//! scripted HTTP/1.1 server on 127.0.0.1: Bearer token auth with expiring tokens, token
//! endpoints that answer oddly, 429 with `Retry-After`, a missing `Docker-Content-Digest`,
//! `null` tags, HTML where JSON belongs, redirect loops, schema 1 manifests and paginated tag
//! lists. Each test scripts the answers as a function of the request and then checks both
//! what the client returned and what it sent.

mod store_fixture;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use poller::registry::MANIFEST_ACCEPT;
use poller::{ClientConfig, Credentials, RegistryClient, RegistryError};

// ---------------------------------------------------------------------------------------------
// The scripted server

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    /// Path and query exactly as sent.
    target: String,
    /// Names lowercased.
    headers: HashMap<String, String>,
    received: Instant,
}

impl Request {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// A canned answer.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn json(status: u16, body: &str) -> Response {
        Response::new(status)
            .header("Content-Type", "application/json")
            .body(body.as_bytes())
    }

    fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn body(mut self, body: &[u8]) -> Response {
        self.body = body.to_vec();
        self
    }
}

type Handler = dyn Fn(&Request, &str) -> Response + Send + Sync;

/// Answers every request with `handler(request, base_url)` on its own thread until dropped,
/// and records the requests.
struct ScriptedRegistry {
    base: String,
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedRegistry {
    fn start(handler: impl Fn(&Request, &str) -> Response + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind scripted registry");
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let thread = {
            let (base, requests, stop) = (base.clone(), requests.clone(), stop.clone());
            std::thread::spawn(move || {
                for connection in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(connection) = connection else { continue };
                    let (handler, base, requests) =
                        (handler.clone(), base.clone(), requests.clone());
                    std::thread::spawn(move || serve(connection, &*handler, &base, &requests));
                }
            })
        };
        ScriptedRegistry {
            base,
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn client(&self, credentials: Option<Credentials>) -> RegistryClient {
        RegistryClient::new(&self.base, credentials, ClientConfig::default()).unwrap()
    }

    fn client_with(&self, config: ClientConfig) -> RegistryClient {
        RegistryClient::new(&self.base, None, config).unwrap()
    }

    fn registry(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// `METHOD target` of every request, in order.
    fn log(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    }
}

impl Drop for ScriptedRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request per connection (the answer says `Connection: close`); requests have no body.
fn serve(mut connection: TcpStream, handler: &Handler, base: &str, log: &Mutex<Vec<Request>>) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        match connection.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let request = Request {
        method: request_line.next().unwrap_or("").to_owned(),
        target: request_line.next().unwrap_or("").to_owned(),
        headers: lines
            .take_while(|line| !line.is_empty())
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect(),
        received: Instant::now(),
    };
    log.lock().unwrap().push(request.clone());
    let response = handler(&request, base);
    let mut out = format!("HTTP/1.1 {} Scripted\r\n", response.status);
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response.body.len()
    ));
    let mut bytes = out.into_bytes();
    if request.method != "HEAD" {
        bytes.extend_from_slice(&response.body);
    }
    let _ = connection.write_all(&bytes);
}

// ---------------------------------------------------------------------------------------------
// Helpers

const DIGEST: &str = "sha256:a0396d55403ad69b1540819818672d1935e7c2b29850d0a1d1eb610560eb8fb9";

fn bearer_challenge(base: &str, scope: Option<&str>) -> String {
    let mut challenge = format!(r#"Bearer realm="{base}/token",service="registry.test""#);
    if let Some(scope) = scope {
        challenge.push_str(&format!(r#",scope="{scope}""#));
    }
    challenge
}

fn unauthorized(challenge: &str) -> Response {
    Response::json(
        401,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    )
    .header("WWW-Authenticate", challenge)
}

fn manifest_ok() -> Response {
    Response::new(200)
        .header(
            "Content-Type",
            "application/vnd.docker.distribution.manifest.v2+json",
        )
        .header("Docker-Content-Digest", DIGEST)
}

fn tags_json(tags: &[&str]) -> String {
    let quoted: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
    format!(r#"{{"name":"acme/app","tags":[{}]}}"#, quoted.join(","))
}

// ---------------------------------------------------------------------------------------------
// Bearer tokens

#[test]
fn bearer_scope_comes_from_the_challenge_verbatim() {
    let registry = ScriptedRegistry::start(|request, base| match request.path() {
        "/token" => Response::json(200, r#"{"token":"T1","expires_in":300}"#),
        _ if request.header("authorization") == Some("Bearer T1") => {
            Response::json(200, &tags_json(&["v2", "v1"]))
        }
        _ => unauthorized(&bearer_challenge(
            base,
            Some("repository:team/app:pull,push"),
        )),
    });
    let client = registry.client(None);
    assert_eq!(client.tags("team/app").unwrap(), ["v1", "v2"]);
    let requests = registry.requests();
    assert_eq!(requests.len(), 3, "{:?}", registry.log());
    let token = &requests[1];
    assert_eq!(
        token.target,
        "/token?service=registry.test&scope=repository%3Ateam%2Fapp%3Apull%2Cpush"
    );
    assert_eq!(
        token.header("authorization"),
        None,
        "anonymous token request"
    );

    // The token is cached: the next listing is one request.
    client.tags("team/app").unwrap();
    assert_eq!(registry.requests().len(), 4);
}

#[test]
fn bearer_scope_is_built_from_the_repository_when_the_challenge_has_none() {
    // Docker Hub's shape: the challenge names realm and service only.
    let registry = ScriptedRegistry::start(|request, base| match request.path() {
        "/token" => Response::json(
            200,
            r#"{"token":"HUB","access_token":"HUB","expires_in":300,"issued_at":"2020-01-01T00:00:00Z"}"#,
        ),
        _ if request.header("authorization") == Some("Bearer HUB") => manifest_ok(),
        _ => unauthorized(&bearer_challenge(base, None)),
    });
    let client = registry.client(None);
    assert_eq!(client.digest("library/redis", "7-alpine").unwrap(), DIGEST);
    assert_eq!(
        registry.log(),
        [
            "HEAD /v2/library/redis/manifests/7-alpine",
            "GET /token?service=registry.test&scope=repository%3Alibrary%2Fredis%3Apull",
            "HEAD /v2/library/redis/manifests/7-alpine",
        ]
    );
    // An unchanged image then costs exactly one HEAD.
    client.digest("library/redis", "7-alpine").unwrap();
    assert_eq!(registry.requests().len(), 4);
    // Another repository needs a token of its own scope, fetched up front since the
    // registry's challenge is known by now.
    client.digest("library/nginx", "1").unwrap();
    assert_eq!(
        registry.log()[4..],
        [
            "GET /token?service=registry.test&scope=repository%3Alibrary%2Fnginx%3Apull",
            "HEAD /v2/library/nginx/manifests/1",
        ]
    );
}

#[test]
fn credentials_go_to_the_token_endpoint_as_basic_auth() {
    let registry = ScriptedRegistry::start(|request, base| match request.path() {
        "/token" if request.header("authorization") == Some("Basic ZGVwbG95OnMzY3JldA==") => {
            Response::json(200, r#"{"access_token":"ACR"}"#)
        }
        "/token" => Response::json(401, r#"{"details":"incorrect username or password"}"#),
        _ if request.header("authorization") == Some("Bearer ACR") => manifest_ok(),
        _ => unauthorized(&bearer_challenge(base, None)),
    });
    let client = registry.client(Some(Credentials::new("deploy", "s3cret")));
    assert_eq!(client.digest("acme/app", "v1").unwrap(), DIGEST);

    let wrong = registry.client(Some(Credentials::new("deploy", "wrong")));
    let err = wrong.digest("acme/app", "v1").unwrap_err();
    assert!(err.is_auth(), "{err}");
    let message = err.to_string();
    assert!(message.contains(&registry.registry()), "{message}");
    assert!(message.contains("acme/app:v1"), "{message}");
    assert!(message.contains("refused the credentials"), "{message}");
}

#[test]
fn a_token_about_to_expire_is_replaced_before_the_next_page() {
    // Tokens live 11 s, so with the 10 s refresh margin the first one is stale a second
    // later; the first page takes longer than that to answer.
    let issued = Arc::new(AtomicUsize::new(0));
    let registry = {
        let issued = issued.clone();
        ScriptedRegistry::start(move |request, base| {
            if request.path() == "/token" {
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                return Response::json(200, &format!(r#"{{"token":"T{n}","expires_in":11}}"#));
            }
            let Some(auth) = request.header("authorization") else {
                return unauthorized(&bearer_challenge(base, None));
            };
            if request.target.contains("last=") {
                assert_eq!(auth, "Bearer T2", "second page with the new token");
                Response::json(200, &tags_json(&["v2"]))
            } else {
                std::thread::sleep(Duration::from_millis(1200));
                Response::json(200, &tags_json(&["v1"])).header(
                    "Link",
                    r#"</v2/acme/app/tags/list?n=1&last=v1>; rel="next""#,
                )
            }
        })
    };
    let client = registry.client(None);
    assert_eq!(client.tags("acme/app").unwrap(), ["v1", "v2"]);
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    let unauthorized_answers = registry
        .requests()
        .iter()
        .filter(|r| r.path() != "/token" && r.header("authorization").is_none())
        .count();
    assert_eq!(
        unauthorized_answers, 1,
        "only the very first request was anonymous"
    );
}

#[test]
fn a_token_the_registry_stops_accepting_is_replaced_once() {
    // The registry revokes T1 after the first page; the client must drop it and get another.
    let issued = Arc::new(AtomicUsize::new(0));
    let registry = {
        let issued = issued.clone();
        ScriptedRegistry::start(move |request, base| {
            if request.path() == "/token" {
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                return Response::json(200, &format!(r#"{{"token":"T{n}","expires_in":300}}"#));
            }
            let second_page = request.target.contains("last=");
            match (request.header("authorization"), second_page) {
                (Some("Bearer T1"), false) => Response::json(200, &tags_json(&["v1"])).header(
                    "Link",
                    r#"</v2/acme/app/tags/list?n=1&last=v1>; rel="next""#,
                ),
                (Some("Bearer T2"), true) => Response::json(200, &tags_json(&["v2"])),
                _ => unauthorized(&bearer_challenge(base, Some("repository:acme/app:pull"))),
            }
        })
    };
    let client = registry.client(None);
    assert_eq!(client.tags("acme/app").unwrap(), ["v1", "v2"]);
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    let log = registry.log();
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(log[3], "GET /v2/acme/app/tags/list?n=1&last=v1");
    assert_eq!(log[5], "GET /v2/acme/app/tags/list?n=1&last=v1");
}

#[test]
fn a_registry_that_refuses_every_token_is_an_auth_error_not_a_loop() {
    let registry = ScriptedRegistry::start(|request, base| match request.path() {
        "/token" => Response::json(200, r#"{"token":"useless"}"#),
        _ => unauthorized(&bearer_challenge(base, None)),
    });
    let client = registry.client(None);
    for round in 1..=2 {
        let before = registry.requests().len();
        let err = client.digest("acme/app", "v1").unwrap_err();
        assert!(err.is_auth(), "{err}");
        let message = err.to_string();
        assert!(message.contains(&registry.registry()), "{message}");
        assert!(message.contains("acme/app:v1"), "{message}");
        // Request, token, request again: then give up.
        let sent = registry.requests().len() - before;
        assert!(
            sent <= 3,
            "round {round}: {sent} requests: {:?}",
            registry.log()
        );
    }
}

#[test]
fn a_token_endpoint_without_a_token_is_an_error() {
    let registry = ScriptedRegistry::start(|request, base| match request.path() {
        "/token" => Response::json(200, "{}"),
        _ => unauthorized(&bearer_challenge(base, None)),
    });
    let err = registry.client(None).tags("acme/app").unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("token endpoint returned no token"),
        "{message}"
    );
    assert!(message.contains(&registry.registry()), "{message}");
    assert!(message.contains("tags of acme/app"), "{message}");
}

#[test]
fn an_unusable_challenge_is_a_clear_error() {
    let registry = ScriptedRegistry::start(|_, _| unauthorized(r#"Bearer realm="unterminated"#));
    let err = registry.client(None).check().unwrap_err();
    assert!(matches!(err, RegistryError::Challenge { .. }), "{err}");
    assert!(err.to_string().contains("unterminated"), "{err}");

    let registry = ScriptedRegistry::start(|_, _| Response::json(401, "{}"));
    let err = registry.client(None).check().unwrap_err();
    assert!(
        err.to_string()
            .contains("without a WWW-Authenticate challenge"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Basic auth

#[test]
fn a_basic_challenge_is_answered_with_the_credentials() {
    // Nexus writes the scheme in capitals.
    let registry = ScriptedRegistry::start(|request, _| match request.header("authorization") {
        Some("Basic ZGVwbG95OnMzY3JldA==") => manifest_ok(),
        _ => unauthorized(r#"BASIC realm="Nexus""#),
    });
    let client = registry.client(Some(Credentials::new("deploy", "s3cret")));
    assert_eq!(client.digest("acme/app", "v1").unwrap(), DIGEST);
    assert_eq!(client.digest("acme/app", "v1").unwrap(), DIGEST);
    let log = registry.log();
    assert_eq!(
        log.len(),
        3,
        "no token exchange, credentials up front later: {log:?}"
    );
    assert!(log.iter().all(|line| !line.contains("token")));

    let wrong = registry.client(Some(Credentials::new("deploy", "wrong")));
    let message = wrong.digest("acme/app", "v1").unwrap_err().to_string();
    assert!(
        message.contains("invalid registry credentials"),
        "{message}"
    );
    assert!(!message.contains("Bearer"), "{message}");

    let anonymous = registry.client(None);
    let message = anonymous.check().unwrap_err().to_string();
    assert!(message.contains("none are configured"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Rate limits

#[test]
fn a_429_is_retried_once_after_retry_after() {
    let calls = Arc::new(AtomicUsize::new(0));
    let registry = {
        let calls = calls.clone();
        ScriptedRegistry::start(move |_, _| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Response::json(
                    429,
                    r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"toomanyrequests: You have reached your pull rate limit"}]}"#,
                )
                .header("Retry-After", "1")
                .header("RateLimit-Limit", "100;w=21600")
                .header("RateLimit-Remaining", "0;w=21600")
            } else {
                manifest_ok()
                    .header("RateLimit-Limit", "100;w=21600")
                    .header("RateLimit-Remaining", "99;w=21600")
            }
        })
    };
    let client = registry.client(None);
    let started = SystemTime::now();
    assert_eq!(client.digest("acme/app", "v1").unwrap(), DIGEST);
    let requests = registry.requests();
    assert_eq!(requests.len(), 2, "{:?}", registry.log());
    assert!(requests.iter().all(|r| r.method == "HEAD"));
    let gap = requests[1].received - requests[0].received;
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");

    let state = client.rate_limit();
    assert_eq!(state.limit, Some(100));
    assert_eq!(state.remaining, Some(99));
    assert_eq!(state.window, Some(Duration::from_secs(21600)));
    let until = state.backing_off_until.expect("back-off recorded");
    assert!(until >= started + Duration::from_secs(1));
    assert!(!state.is_backing_off(SystemTime::now()));
}

#[test]
fn a_retry_after_beyond_the_cap_is_a_rate_limited_error_without_retrying() {
    let registry =
        ScriptedRegistry::start(|_, _| Response::json(429, "{}").header("Retry-After", "3600"));
    let client = registry.client(None);
    let err = client.tags("acme/app").unwrap_err();
    let RegistryError::RateLimited { until, .. } = &err else {
        panic!("expected RateLimited, got {err}");
    };
    let wait = until.duration_since(SystemTime::now()).unwrap();
    assert!(wait > Duration::from_secs(3500), "{wait:?}");
    assert!(err.to_string().contains(&registry.registry()), "{err}");
    assert!(client.rate_limit().is_backing_off(SystemTime::now()));
    // While backing off, nothing more is sent.
    let again = client.digest("acme/app", "v1").unwrap_err();
    assert!(
        matches!(again, RegistryError::RateLimited { .. }),
        "{again}"
    );
    assert_eq!(registry.requests().len(), 1);
}

#[test]
fn a_second_429_gives_up() {
    let registry =
        ScriptedRegistry::start(|_, _| Response::json(429, "{}").header("Retry-After", "1"));
    let client = registry.client_with(ClientConfig {
        max_retry_after: Duration::from_secs(2),
        ..ClientConfig::default()
    });
    let err = client.digest("acme/app", "v1").unwrap_err();
    assert!(matches!(err, RegistryError::RateLimited { .. }), "{err}");
    assert_eq!(registry.requests().len(), 2);
}

#[test]
fn a_retry_after_date_is_honoured() {
    let calls = Arc::new(AtomicUsize::new(0));
    let registry = {
        let calls = calls.clone();
        ScriptedRegistry::start(move |_, _| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                let at = SystemTime::now() + Duration::from_secs(2);
                Response::json(429, "{}").header("Retry-After", &httpdate_fmt(at))
            } else {
                Response::json(200, &tags_json(&["v1"]))
            }
        })
    };
    let client = registry.client(None);
    assert_eq!(client.tags("acme/app").unwrap(), ["v1"]);
    let requests = registry.requests();
    // HTTP dates have whole seconds: at least one of the two seconds is waited.
    assert!(requests[1].received - requests[0].received >= Duration::from_secs(1));
}

/// RFC 9110 IMF-fixdate, written here so the test does not lean on the code under test.
fn httpdate_fmt(at: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant), for dates after 1970.
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[test]
fn at_most_max_concurrent_requests_are_in_flight() {
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let registry = {
        let (inside, most) = (inside.clone(), most.clone());
        ScriptedRegistry::start(move |_, _| {
            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(150));
            inside.fetch_sub(1, Ordering::SeqCst);
            manifest_ok()
        })
    };
    let client = registry.client_with(ClientConfig {
        max_concurrent: 2,
        ..ClientConfig::default()
    });
    std::thread::scope(|scope| {
        for _ in 0..6 {
            let client = client.clone();
            scope.spawn(move || client.digest("acme/app", "v1").unwrap());
        }
    });
    assert_eq!(client.requests_sent(), 6);
    assert_eq!(most.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------------------------
// Manifests and digests

#[test]
fn the_digest_comes_from_one_head_with_all_four_manifest_types() {
    let registry = ScriptedRegistry::start(|_, _| manifest_ok());
    let client = registry.client(None);
    assert_eq!(client.digest("acme/app", "v1").unwrap(), DIGEST);
    let requests = registry.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "HEAD");
    assert_eq!(requests[0].target, "/v2/acme/app/manifests/v1");
    assert_eq!(requests[0].header("accept"), Some(MANIFEST_ACCEPT));
    for media_type in [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ] {
        assert!(MANIFEST_ACCEPT.contains(media_type));
    }
}

#[test]
fn without_a_digest_header_the_exact_body_bytes_are_hashed() {
    // Odd spacing and key order: re-serialised JSON would hash differently.
    const BODY: &[u8] = b"{ \"schemaVersion\":2,\n  \"mediaType\" : \"application/vnd.oci.image.index.v1+json\", \"manifests\":[] }\n";
    let registry = ScriptedRegistry::start(|_, _| {
        Response::new(200)
            .header("Content-Type", "application/vnd.oci.image.index.v1+json")
            .body(BODY)
    });
    let client = registry.client(None);
    let digest = client.digest("acme/app", "1.4").unwrap();
    let expected = {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(BODY);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    };
    assert_eq!(digest, expected);
    let requests = registry.requests();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["HEAD", "GET"]);
    assert_eq!(
        requests[1].header("accept"),
        Some(MANIFEST_ACCEPT),
        "same Accept"
    );
}

#[test]
fn an_empty_json_body_hashes_to_the_known_digest() {
    let registry = ScriptedRegistry::start(|_, _| {
        Response::new(200)
            .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            .body(b"{}")
    });
    assert_eq!(
        registry.client(None).digest("acme/app", "v1").unwrap(),
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}

#[test]
fn schema_1_manifests_are_refused() {
    for media_type in [
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v1+json",
    ] {
        let registry = ScriptedRegistry::start(move |_, _| {
            Response::new(200)
                .header("Content-Type", media_type)
                .header("Docker-Content-Digest", DIGEST)
                .body(br#"{"schemaVersion":1}"#)
        });
        let err = registry.client(None).digest("acme/app", "old").unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("schema 1 manifests are not supported"),
            "{message}"
        );
        assert!(message.contains("acme/app:old"), "{message}");
    }

    // Served without a type and without a digest header: the body gives it away.
    let registry = ScriptedRegistry::start(|_, _| {
        Response::new(200).body(br#"{"schemaVersion":1,"name":"acme/app","fsLayers":[]}"#)
    });
    let err = registry.client(None).digest("acme/app", "old").unwrap_err();
    assert!(matches!(err, RegistryError::Schema1 { .. }), "{err}");
}

#[test]
fn an_unknown_manifest_names_the_image() {
    let registry = ScriptedRegistry::start(|_, _| {
        Response::json(
            404,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        )
    });
    let err = registry
        .client(None)
        .digest("acme/app", "gone")
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::ManifestUnknown { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("acme/app:gone"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Tag lists

#[test]
fn null_tags_are_an_empty_list() {
    let registry =
        ScriptedRegistry::start(|_, _| Response::json(200, r#"{"name":"acme/app","tags":null}"#));
    assert!(registry.client(None).tags("acme/app").unwrap().is_empty());
}

#[test]
fn name_unknown_is_an_empty_list_other_404s_are_errors() {
    let registry = ScriptedRegistry::start(|request, _| {
        if request.target.starts_with("/v2/acme/deleted/") {
            Response::json(
                404,
                r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"acme/deleted"}}]}"#,
            )
        } else {
            Response::new(404).body(b"404 page not found")
        }
    });
    let client = registry.client(None);
    assert!(client.tags("acme/deleted").unwrap().is_empty());
    let err = client.tags("acme/other").unwrap_err();
    assert!(
        matches!(err, RegistryError::Status { status: 404, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("404 page not found"), "{err}");
}

#[test]
fn html_or_garbage_instead_of_json_is_an_error_naming_the_url() {
    for (body, hint) in [
        (
            &b"<!DOCTYPE html><html><body>Sign in</body></html>"[..],
            "HTML page",
        ),
        (b"{\"tags\": [\"v1\",", "expected a JSON tag list"),
    ] {
        let registry = ScriptedRegistry::start(move |_, _| {
            Response::new(200)
                .header("Content-Type", "text/html")
                .body(body)
        });
        let err = registry.client(None).tags("acme/app").unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, RegistryError::InvalidResponse { .. }),
            "{message}"
        );
        assert!(message.contains(hint), "{message}");
        assert!(
            message.contains(&format!("{}/v2/acme/app/tags/list?n=100", registry.base)),
            "{message}"
        );
    }
}

#[test]
fn pages_are_followed_with_the_query_exactly_as_linked() {
    let registry = ScriptedRegistry::start(|request, base| match request.target.as_str() {
        "/v2/acme/app/tags/list?n=2" => Response::json(200, &tags_json(&["b", "a"]))
            .header("Link", r#"</v2/acme/app/tags/list?last=b&n=2>; rel="next""#),
        // An absolute link on the same origin, with an opaque cursor.
        "/v2/acme/app/tags/list?last=b&n=2" => Response::json(200, &tags_json(&["d", "c"])).header(
            "Link",
            &format!(r#"<{base}/v2/acme/app/tags/list?cursor=x%2By%3D&n=2>; rel="next""#),
        ),
        "/v2/acme/app/tags/list?cursor=x%2By%3D&n=2" => {
            Response::json(200, &tags_json(&["e", "a"]))
        }
        other => panic!("unexpected request {other}"),
    });
    let client = registry.client_with(ClientConfig {
        page_size: 2,
        ..ClientConfig::default()
    });
    assert_eq!(client.tags("acme/app").unwrap(), ["a", "b", "c", "d", "e"]);
    assert_eq!(registry.requests().len(), 3);
}

#[test]
fn a_next_link_seen_before_stops_with_an_error() {
    let registry = ScriptedRegistry::start(|request, _| {
        let next = if request.target.contains("last=") {
            "</v2/acme/app/tags/list?n=1>; rel=\"next\""
        } else {
            "</v2/acme/app/tags/list?n=1&last=a>; rel=\"next\""
        };
        Response::json(200, &tags_json(&["a"])).header("Link", next)
    });
    let client = registry.client_with(ClientConfig {
        page_size: 1,
        ..ClientConfig::default()
    });
    let err = client.tags("acme/app").unwrap_err();
    assert!(matches!(err, RegistryError::PaginationLoop { .. }), "{err}");
    assert!(err.to_string().contains("tags/list?n=1"), "{err}");
    assert_eq!(registry.requests().len(), 2);
}

#[test]
fn pages_beyond_max_pages_are_an_error() {
    let page = Arc::new(AtomicUsize::new(0));
    let registry = {
        let page = page.clone();
        ScriptedRegistry::start(move |_, _| {
            let n = page.fetch_add(1, Ordering::SeqCst);
            Response::json(200, &tags_json(&["t"])).header(
                "Link",
                &format!("</v2/acme/app/tags/list?n=1&last=t{n}>; rel=\"next\""),
            )
        })
    };
    let client = registry.client_with(ClientConfig {
        page_size: 1,
        max_pages: 3,
        ..ClientConfig::default()
    });
    let err = client.tags("acme/app").unwrap_err();
    assert!(
        matches!(err, RegistryError::TooManyPages { max_pages: 3, .. }),
        "{err}"
    );
    assert_eq!(registry.requests().len(), 3);
}

// ---------------------------------------------------------------------------------------------
// Redirects and the connection check

#[test]
fn a_redirect_is_followed_and_a_redirect_loop_is_an_error() {
    let registry = ScriptedRegistry::start(|request, _| match request.path() {
        "/v2/acme/moved/tags/list" => {
            Response::new(307).header("Location", "/v2/acme/app/tags/list?n=100")
        }
        "/v2/acme/app/tags/list" => Response::json(200, &tags_json(&["v1"])),
        "/v2/acme/loop-a/tags/list" => {
            Response::new(302).header("Location", "/v2/acme/loop-b/tags/list")
        }
        "/v2/acme/loop-b/tags/list" => {
            Response::new(302).header("Location", "/v2/acme/loop-a/tags/list")
        }
        _ => Response::new(404),
    });
    let client = registry.client(None);
    assert_eq!(client.tags("acme/moved").unwrap(), ["v1"]);

    let err = client.tags("acme/loop-a").unwrap_err();
    assert!(
        matches!(err, RegistryError::TooManyRedirects { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("redirect"), "{err}");
    assert!(err.to_string().contains(&registry.registry()), "{err}");
}

#[test]
fn check_probes_v2() {
    let registry = ScriptedRegistry::start(|request, _| match request.target.as_str() {
        "/v2/" => Response::json(200, "{}"),
        _ => Response::new(500),
    });
    registry.client(None).check().unwrap();
    assert_eq!(registry.log(), ["GET /v2/"]);

    let broken = ScriptedRegistry::start(|_, _| Response::new(503).body(b"maintenance"));
    let err = broken.client(None).check().unwrap_err();
    assert!(
        matches!(err, RegistryError::Status { status: 503, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("maintenance"), "{err}");
}

#[test]
fn an_unreachable_registry_is_a_transport_error_naming_it() {
    // Bind then drop: a port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client =
        RegistryClient::for_host(&format!("127.0.0.1:{port}"), None, ClientConfig::default())
            .unwrap();
    let err = client.tags("acme/app").unwrap_err();
    assert!(matches!(err, RegistryError::Transport { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn credentials_never_show_in_debug_output() {
    let credentials = Credentials::new("deploy", "s3cret-password");
    assert!(!format!("{credentials:?}").contains("s3cret-password"));
    let client = RegistryClient::new(
        "http://127.0.0.1:1",
        Some(credentials),
        ClientConfig::default(),
    )
    .unwrap();
    assert!(!format!("{client:?}").contains("s3cret-password"));
}

// ---------------------------------------------------------------------------------------------
// The poller's status board

/// Takes every find and says so.
struct AcceptAll;

impl poller::PollTarget for AcceptAll {
    fn credentials(&self, _: &store::Registry) -> Result<Option<Credentials>, String> {
        Ok(None)
    }

    fn found(&self, found: &poller::FoundTag) -> Result<String, String> {
        Ok(format!("queued {}", found.reference))
    }
}

/// A store whose projects each follow `latest` of one image, polled with digest watching.
fn polled_store(images: &[(&str, String)]) -> (tempfile::TempDir, store::Store) {
    let projects = images
        .iter()
        .map(|(name, image)| {
            let follower = store::NewStage {
                watch_digest: true,
                ..store_fixture::stage("dev", "latest", true)
            };
            store_fixture::project(name, image, None, vec![follower])
        })
        .collect();
    store_fixture::store_with(Vec::new(), projects)
}

#[test]
fn the_status_board_shows_a_rate_limited_registry_and_a_failing_stage_beside_a_healthy_one() {
    let limited = ScriptedRegistry::start(|_, _| {
        Response::json(
            429,
            r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
        )
        .header("Retry-After", "3600")
        .header("RateLimit-Limit", "100;w=21600")
        .header("RateLimit-Remaining", "0;w=21600")
    });
    let healthy = ScriptedRegistry::start(|_, _| {
        manifest_ok()
            .header("RateLimit-Limit", "100;w=21600")
            .header("RateLimit-Remaining", "42;w=21600")
    });
    let (_dir, store) = polled_store(&[
        ("limited", format!("127.0.0.1:{}/acme/app", limited.port)),
        ("healthy", format!("127.0.0.1:{}/acme/app", healthy.port)),
    ]);
    let poller = poller::Poller::new(
        store.clone(),
        Arc::new(AcceptAll),
        poller::PollerConfig::default(),
    );
    let status = poller.status();
    assert_eq!(status.last_cycle(), None);
    assert!(status.registries().is_empty() && status.stages().is_empty());

    let started = SystemTime::now();
    poller.poll_once();

    assert!(status.last_cycle().is_some_and(|at| at >= started));
    let registries = status.registries();
    assert_eq!(registries.len(), 2, "{registries:#?}");
    let limited_host = format!("127.0.0.1:{}", limited.port);
    let limited_status = registries
        .iter()
        .find(|status| status.registry == limited_host)
        .expect("the limited registry is on the board");
    assert_eq!(limited_status.rate_limit.remaining, Some(0));
    assert_eq!(limited_status.rate_limit.limit, Some(100));
    assert!(
        limited_status
            .rate_limit
            .is_backing_off(started + Duration::from_secs(3000)),
        "{limited_status:#?}"
    );
    assert_eq!(limited_status.requests_sent, 1, "{:?}", limited.log());
    let healthy_status = registries
        .iter()
        .find(|status| status.registry != limited_host)
        .unwrap();
    assert_eq!(healthy_status.rate_limit.remaining, Some(42));
    assert!(!healthy_status.rate_limit.is_backing_off(SystemTime::now()));

    let stages = status.stages();
    assert_eq!(stages.len(), 2, "{stages:#?}");
    let failing = stages
        .iter()
        .find(|stage| stage.label == "limited/dev")
        .unwrap();
    assert!(failing.failed, "{failing:#?}");
    assert!(failing.outcome.contains("rate limit"), "{failing:#?}");
    let fine = stages
        .iter()
        .find(|stage| stage.label == "healthy/dev")
        .unwrap();
    assert!(!fine.failed, "{fine:#?}");
    assert!(fine.outcome.starts_with("baseline recorded"), "{fine:#?}");
}
