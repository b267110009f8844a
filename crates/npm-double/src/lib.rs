//! A test double of Nginx Proxy Manager's API, used only by tests and benchmarks: it is only
//! ever a dev-dependency, or an optional one of xtask behind its `bench` feature
//! (`xtask/tests/tidy.rs` checks that), and nothing in the product runs it.
//!
//! It follows NPM's documented API exactly as the project's design notes on it (NPM-API.md,
//! written from NPM's source and a running NPM 2.15) describe: `POST`/`GET /api/tokens` with
//! expiring JWT-shaped tokens, `400 Token has expired` and `400 Invalid email or password`, a
//! 2FA challenge for 2FA users, the proxy host endpoints with NPM's answers, schema messages
//! and status codes, and NPM's odd answers to requests without a token. Where it knowingly
//! differs from NPM, the module that plays that part says so.
//!
//! And it does NPM's real job: it runs a real nginx (Debian's `/usr/sbin/nginx`, installed by
//! `cargo xtask testbed`) on a free port of 127.0.0.1, with one `server {}` per enabled proxy
//! host, and reloads it after every change before it answers. A request to
//! [`NpmDouble::nginx_port`] with a proxy host's domain as `Host` reaches that host's upstream;
//! other domains get nginx's 404.
//!
//! ```no_run
//! let npm = npm_double::NpmDouble::start();
//! // A client logs in at npm.url() with npm_double::ADMIN_EMAIL / ADMIN_PASSWORD, creates
//! // a proxy host, and then:
//! let answer = npm.get_through_nginx("stage-dev-shop.example.test", "/").unwrap();
//! assert_eq!(answer.body, "v1");
//! ```
//!
//! Faults for tests: [`NpmDouble::go_down`] / [`NpmDouble::come_back`] (connections refused),
//! [`NpmDouble::set_unresponsive`] (connections accepted, never answered),
//! [`NpmDouble::fail_next`] (the next requests answer an error), [`NpmDouble::expire_tokens`],
//! [`NpmDouble::fail_next_creates_after_insert`].
//!
//! Owns: playing NPM for tests. Does not own: anything the product runs; it uses no workspace
//! crate, so it cannot drift into agreeing with the client it tests.

mod api;
mod errors;
mod http;
mod nginx;
mod nginx_config;
mod proxy_hosts;
mod schema;
mod state;
mod tokens;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;

pub use nginx::ProxiedAnswer;
pub use state::RecordedRequest;

use crate::http::Server;
use crate::state::{Faults, Shared, State, lock};
use crate::tokens::{Tokens, User};

/// The user every double has (NPM's classic first user).
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "changeme";

/// NPM's token lifetime: one day.
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How to start a double; see [`NpmDouble::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    token_lifetime: Duration,
    users: Vec<(String, String, bool)>,
}

impl Builder {
    /// Lifetime of the tokens the double issues (NPM: one day; `?expiry=` still overrides it
    /// on renewal).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Builder {
        self.token_lifetime = lifetime;
        self
    }

    /// Another user, without 2FA.
    pub fn user(mut self, email: &str, password: &str) -> Builder {
        self.users
            .push((email.to_owned(), password.to_owned(), false));
        self
    }

    /// A user with TOTP enabled: logging in answers a 2FA challenge instead of a token.
    pub fn two_factor_user(mut self, email: &str, password: &str) -> Builder {
        self.users
            .push((email.to_owned(), password.to_owned(), true));
        self
    }

    /// Starts nginx and the API; panics with the reason when it cannot (nginx missing, …).
    pub fn start(self) -> NpmDouble {
        self.try_start()
            .unwrap_or_else(|err| panic!("cannot start the NPM double: {err}"))
    }

    /// Starts nginx and the API.
    pub fn try_start(self) -> Result<NpmDouble, String> {
        let nginx = nginx::Nginx::start()?;
        let users = self
            .users
            .into_iter()
            .enumerate()
            .map(|(idx, (email, password, two_factor))| User {
                id: idx as u64 + 1,
                email,
                password,
                two_factor,
            })
            .collect();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                users,
                tokens: Tokens::default(),
                token_lifetime: self.token_lifetime,
                hosts: BTreeMap::new(),
                next_host_id: 1,
                nginx,
                requests: Vec::new(),
                logins: 0,
                refreshes: 0,
                started: SystemTime::now(),
            }),
            faults: Mutex::new(Faults::default()),
            faults_changed: Condvar::new(),
        });
        let server = Server::start(
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            Arc::new(api::Api {
                shared: shared.clone(),
            }),
        )
        .map_err(|err| format!("cannot listen for the API: {err}"))?;
        Ok(NpmDouble {
            api_addr: server.addr(),
            server: Mutex::new(Some(server)),
            shared,
        })
    }
}

/// A running NPM double: its API on one port, its nginx on another. Dropping it stops both.
pub struct NpmDouble {
    shared: Arc<Shared>,
    server: Mutex<Option<Server>>,
    api_addr: SocketAddr,
}

impl NpmDouble {
    /// A double with [`ADMIN_EMAIL`]/[`ADMIN_PASSWORD`] and NPM's one-day tokens.
    pub fn start() -> NpmDouble {
        NpmDouble::builder().start()
    }

    pub fn builder() -> Builder {
        Builder {
            token_lifetime: DAY,
            users: vec![(ADMIN_EMAIL.to_owned(), ADMIN_PASSWORD.to_owned(), false)],
        }
    }

    /// NPM's address as a user configures it: `http://127.0.0.1:PORT` (the API is under `/api`).
    pub fn url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    /// The port nginx serves the proxy hosts on, on 127.0.0.1.
    pub fn nginx_port(&self) -> u16 {
        lock(&self.shared.state).nginx.port()
    }

    /// A GET through nginx with `domain` as `Host`, like
    /// `curl -H 'Host: DOMAIN' http://127.0.0.1:NGINX_PORT/PATH`.
    pub fn get_through_nginx(&self, domain: &str, path: &str) -> std::io::Result<ProxiedAnswer> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.nginx_port()));
        nginx::http_get(addr, domain, path, Duration::from_secs(10))
    }

    /// The nginx `server {}` nginx serves for a proxy host (`None` while it is disabled,
    /// deleted or refused by nginx).
    pub fn nginx_config_of(&self, id: u64) -> Option<String> {
        lock(&self.shared.state).nginx.host_config(id)
    }

    /// The proxy hosts that are not deleted, as `GET /api/nginx/proxy-hosts` returns them.
    pub fn proxy_hosts(&self) -> Vec<Value> {
        lock(&self.shared.state)
            .hosts
            .values()
            .filter(|host| !host.deleted)
            .map(|host| Value::Object(host.fields.clone()))
            .collect()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.state).requests.clone()
    }

    /// Successful logins (`POST /api/tokens` answered with a token).
    pub fn logins(&self) -> usize {
        lock(&self.shared.state).logins
    }

    /// Successful renewals (`GET /api/tokens`).
    pub fn refreshes(&self) -> usize {
        lock(&self.shared.state).refreshes
    }

    /// Lifetime of the tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        lock(&self.shared.state).token_lifetime = lifetime;
    }

    /// Expires every token issued so far, as if their day had passed: the next request with one
    /// gets `400 Token has expired`, and so does renewing it.
    pub fn expire_tokens(&self) {
        lock(&self.shared.state).tokens.expire_all();
    }

    /// Answers the next `count` requests (any path, logins included) with
    /// `{"error":{"code":status,"message":message}}`, doing nothing else.
    pub fn fail_next(&self, count: usize, status: u16, message: &str) {
        let mut faults = lock(&self.shared.faults);
        for _ in 0..count {
            faults.failures.push_back((status, message.to_owned()));
        }
    }

    /// Makes the next `count` creates insert the host and then answer `500 Internal Error`
    /// without configuring nginx, as NPM does when nginx as a whole fails: a retry then gets
    /// "… is already in use".
    pub fn fail_next_creates_after_insert(&self, count: u32) {
        lock(&self.shared.faults).failing_creates += count;
    }

    /// Accepts connections and reads requests but never answers them (until switched off
    /// again, or the double is dropped), like an NPM that hangs.
    pub fn set_unresponsive(&self, unresponsive: bool) {
        lock(&self.shared.faults).unresponsive = unresponsive;
        self.shared.faults_changed.notify_all();
    }

    /// Stops listening: connections to [`NpmDouble::url`] are refused. Hosts, users and tokens
    /// are kept, and nginx keeps serving, as when NPM's backend is restarted.
    pub fn go_down(&self) {
        if let Some(mut server) = lock(&self.server).take() {
            server.stop();
        }
    }

    /// Listens again on the same port after [`NpmDouble::go_down`].
    pub fn come_back(&self) {
        let mut server = lock(&self.server);
        if server.is_some() {
            return;
        }
        let started = Server::start(
            self.api_addr,
            Arc::new(api::Api {
                shared: self.shared.clone(),
            }),
        )
        .unwrap_or_else(|err| {
            panic!(
                "the NPM double cannot listen on {} again: {err}",
                self.api_addr
            )
        });
        *server = Some(started);
    }
}

impl Drop for NpmDouble {
    fn drop(&mut self) {
        {
            let mut faults = lock(&self.shared.faults);
            faults.stopping = true;
            faults.unresponsive = false;
        }
        self.shared.faults_changed.notify_all();
        self.go_down();
        // Connection threads may outlive the double for a moment; nginx must not.
        lock(&self.shared.state).nginx.stop();
    }
}

impl std::fmt::Debug for NpmDouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpmDouble")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}
