//! The client: one per NPM, shared by every thread that routes through it. It logs in, keeps
//! the session token fresh, logs in again (once) when NPM says the token has expired, and
//! sends each API call. The calls themselves live in `proxy_hosts.rs` and `status.rs`.

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use serde::Serialize;

use crate::address::Base;
use crate::config::NpmConfig;
use crate::error::{self, NpmError};
use crate::password::Password;
use crate::token::{self, LoginAnswer, Token};

/// Largest answer read: a list of thousands of proxy hosts stays far below this.
const MAX_BODY: u64 = 32 * 1024 * 1024;

/// A blocking client for one Nginx Proxy Manager's REST API.
///
/// Cheap to clone: clones share the connection pool and the session token.
#[derive(Clone)]
pub struct NpmClient {
    inner: Arc<Inner>,
}

struct Inner {
    base: Base,
    agent: ureq::Agent,
    identity: String,
    password: Password,
    config: NpmConfig,
    /// The session; held while logging in or renewing, so threads share one login.
    token: Mutex<Option<Token>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// One API call, described for [`NpmClient::call`].
pub(crate) struct Call<'a> {
    /// For errors: `disable proxy host 7`.
    pub operation: &'a str,
    pub method: Method,
    /// After `/api`, with the query: `/nginx/proxy-hosts?query=shop`.
    pub path: &'a str,
    pub body: Option<serde_json::Value>,
}

/// An answer, read whole.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub url: String,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The login body. No `Debug`: it holds the password.
#[derive(Serialize)]
struct LoginBody<'a> {
    identity: &'a str,
    secret: &'a str,
}

impl NpmClient {
    /// A client for the NPM at `url` (`http://npm:81`; a trailing `/api` is fine) that logs in as
    /// `identity` (the user's e-mail) with `password`. Nothing is sent until the first call.
    pub fn new(
        url: &str,
        identity: &str,
        password: impl Into<Password>,
        config: NpmConfig,
    ) -> Result<NpmClient, NpmError> {
        let base = Base::parse(url)?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            // NPM's API does not redirect; a redirect means a wrong address (the admin UI's
            // login page, another proxy), which is better reported than followed.
            .max_redirects(0)
            // Statuses are answers to interpret: NPM reports auth errors as 400.
            .http_status_as_error(false)
            .user_agent(concat!("docker-watcher/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(NpmClient {
            inner: Arc::new(Inner {
                base,
                agent,
                identity: identity.to_owned(),
                password: password.into(),
                config,
                token: Mutex::new(None),
            }),
        })
    }

    /// NPM's address as errors name it (`http://npm:81`).
    pub fn npm(&self) -> &str {
        &self.inner.base.origin
    }

    /// The user the client logs in as.
    pub fn identity(&self) -> &str {
        &self.inner.identity
    }

    /// Logs in now, replacing any session: checks the address, the credentials and that the
    /// user has no 2FA. Other calls log in by themselves when needed.
    pub fn login(&self) -> Result<(), NpmError> {
        let mut slot = lock(&self.inner.token);
        self.log_in(&mut slot).map(|_| ())
    }

    /// When the current session token expires, if there is one.
    pub fn token_expires(&self) -> Option<chrono::DateTime<Utc>> {
        lock(&self.inner.token).as_ref().map(|token| token.expires)
    }

    /// Sends `call` with a valid token. When NPM answers that the token has expired, logs in
    /// again and sends it once more; a second "expired" is an error, never a loop.
    pub(crate) fn call(&self, call: &Call<'_>) -> Result<Reply, NpmError> {
        let mut token = self.usable_token()?;
        let mut logged_in_again = false;
        loop {
            let reply = self.send(call, Some(&token.value))?;
            if !token::is_expired_answer(reply.status, &reply.body) {
                return Ok(reply);
            }
            if logged_in_again {
                return Err(NpmError::TokenRejected {
                    npm: self.npm().to_owned(),
                    operation: call.operation.to_owned(),
                    message: error::describe(&reply.body),
                });
            }
            logged_in_again = true;
            let mut slot = lock(&self.inner.token);
            token = match slot.as_ref() {
                // Another thread has logged in since: use its token.
                Some(held) if held.value != token.value => held.clone(),
                _ => {
                    log::info!(
                        "NPM {}: the session token has expired; logging in again as {}",
                        self.npm(),
                        self.inner.identity
                    );
                    self.log_in(&mut slot)?
                }
            };
        }
    }

    /// Sends `call` without a token (`GET /api/`).
    pub(crate) fn call_anonymous(&self, call: &Call<'_>) -> Result<Reply, NpmError> {
        self.send(call, None)
    }

    /// The session token, logged in or renewed first when needed.
    fn usable_token(&self) -> Result<Token, NpmError> {
        let mut slot = lock(&self.inner.token);
        let now = Utc::now();
        match slot.as_ref() {
            Some(token) if token.is_expired(now) => {
                log::debug!("NPM {}: the session token has expired", self.npm());
                self.log_in(&mut slot)
            }
            Some(token) if token.needs_refresh(now, self.inner.config.refresh_margin) => {
                let token = token.clone();
                self.refresh(&mut slot, token)
            }
            Some(token) => Ok(token.clone()),
            None => self.log_in(&mut slot),
        }
    }

    /// `GET /api/tokens`: a new token for the current one. A refused renewal falls back to
    /// logging in when NPM says the token has expired, and to the current token otherwise
    /// (it is still valid; the call itself will report a down NPM).
    fn refresh(&self, slot: &mut Option<Token>, current: Token) -> Result<Token, NpmError> {
        let call = Call {
            operation: "renew the session token",
            method: Method::Get,
            path: "/tokens",
            body: None,
        };
        let reply = match self.send(&call, Some(&current.value)) {
            Ok(reply) => reply,
            Err(err) => {
                log::warn!("{err}");
                return Ok(current);
            }
        };
        if token::is_expired_answer(reply.status, &reply.body) {
            return self.log_in(slot);
        }
        if !reply.is_success() {
            log::warn!(
                "NPM {}: renewing the session token failed (HTTP {}): {}",
                self.npm(),
                reply.status,
                error::describe(&reply.body)
            );
            return Ok(current);
        }
        let token = token::parse_refresh(&reply.body, Utc::now())
            .map_err(|reason| self.invalid_response(call.operation, &reply.url, reason))?;
        log::debug!(
            "NPM {}: renewed the session token, valid until {}",
            self.npm(),
            token.expires
        );
        *slot = Some(token.clone());
        Ok(token)
    }

    /// `POST /api/tokens` with the identity and password.
    fn log_in(&self, slot: &mut Option<Token>) -> Result<Token, NpmError> {
        *slot = None;
        let body = serde_json::to_value(LoginBody {
            identity: &self.inner.identity,
            secret: self.inner.password.expose(),
        })
        .map_err(|err| self.invalid_response("log in", "", err.to_string()))?;
        let call = Call {
            operation: "log in",
            method: Method::Post,
            path: "/tokens",
            body: Some(body),
        };
        let reply = self.send(&call, None)?;
        if !reply.is_success() {
            return Err(NpmError::Login {
                npm: self.npm().to_owned(),
                identity: self.inner.identity.clone(),
                status: reply.status,
                message: error::describe(&reply.body),
            });
        }
        let answer = token::parse_login(&reply.body, Utc::now())
            .map_err(|reason| self.invalid_response(call.operation, &reply.url, reason))?;
        match answer {
            LoginAnswer::TwoFactorRequired => Err(NpmError::TwoFactorRequired {
                npm: self.npm().to_owned(),
                identity: self.inner.identity.clone(),
            }),
            LoginAnswer::Token(token) => {
                log::debug!(
                    "NPM {}: logged in as {}, token valid until {}",
                    self.npm(),
                    self.inner.identity,
                    token.expires
                );
                *slot = Some(token.clone());
                Ok(token)
            }
        }
    }

    /// One HTTP request.
    fn send(&self, call: &Call<'_>, token: Option<&str>) -> Result<Reply, NpmError> {
        let url = format!("{}{}", self.inner.base.api, call.path);
        log::debug!("NPM {}: {} {}", self.npm(), call.method.as_str(), url);
        let agent = &self.inner.agent;
        let authorization = token.map(|token| format!("Bearer {token}"));
        let result = match call.method {
            Method::Get | Method::Delete => {
                let mut request = match call.method {
                    Method::Get => agent.get(&url),
                    _ => agent.delete(&url),
                };
                request = request.header("Accept", "application/json");
                if let Some(authorization) = &authorization {
                    request = request.header("Authorization", authorization);
                }
                request.call()
            }
            Method::Post | Method::Put => {
                let mut request = match call.method {
                    Method::Post => agent.post(&url),
                    _ => agent.put(&url),
                };
                request = request.header("Accept", "application/json");
                if let Some(authorization) = &authorization {
                    request = request.header("Authorization", authorization);
                }
                match &call.body {
                    Some(body) => request.send_json(body),
                    None => request.send_empty(),
                }
            }
        };
        let mut response = result.map_err(|err| self.transport_error(call.operation, &url, err))?;
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|err| self.transport_error(call.operation, &url, err))?;
        Ok(Reply {
            status: response.status().as_u16(),
            body,
            url,
        })
    }

    fn transport_error(&self, operation: &str, url: &str, err: ureq::Error) -> NpmError {
        NpmError::Transport {
            npm: self.npm().to_owned(),
            operation: operation.to_owned(),
            url: url.to_owned(),
            message: err.to_string(),
        }
    }

    /// The error for an answer that is not a success, with NPM's message.
    pub(crate) fn api_error(&self, operation: &str, reply: &Reply) -> NpmError {
        NpmError::Api {
            npm: self.npm().to_owned(),
            operation: operation.to_owned(),
            status: reply.status,
            message: error::describe(&reply.body),
        }
    }

    pub(crate) fn invalid_response(&self, operation: &str, url: &str, reason: String) -> NpmError {
        NpmError::InvalidResponse {
            npm: self.npm().to_owned(),
            operation: operation.to_owned(),
            url: url.to_owned(),
            reason,
        }
    }
}

impl std::fmt::Debug for NpmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpmClient")
            .field("npm", &self.inner.base.origin)
            .field("identity", &self.inner.identity)
            .field("password", &self.inner.password)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// The token stays consistent even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
