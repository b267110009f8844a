//! The client: one per registry, shared by every thread that polls it. It sends each request,
//! answers authentication challenges (anonymous, Basic, Bearer tokens), waits out rate limits,
//! and counts what it sends. The API calls themselves live in `tags.rs` and `manifest.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use ureq::http::HeaderMap;

use super::address::{Base, base_for_host};
use super::challenge::{self, AuthChallenge};
use super::config::ClientConfig;
use super::credentials::Credentials;
use super::error::RegistryError;
use super::rate_limit::{self, RateLimitState};
use super::semaphore::Semaphore;
use super::token::{self, Token, TokenCache, TokenKey};
use super::{api_error, url};

/// Largest body read: tag lists of big repositories and image indexes stay far below this; a
/// runaway response must not exhaust memory.
const MAX_BODY: u64 = 16 * 1024 * 1024;
/// Redirects followed per request; more means a loop or a misconfigured proxy.
const MAX_REDIRECTS: u32 = 5;

/// A blocking client for one registry's HTTP API v2 (the OCI distribution API).
///
/// Cheap to clone: clones share the connection pool, the token cache, the rate-limit state,
/// the request counter and the in-flight limit.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

struct Inner {
    base: Base,
    agent: ureq::Agent,
    credentials: Option<Credentials>,
    config: ClientConfig,
    auth: Mutex<AuthState>,
    rate: Mutex<RateLimitState>,
    sent: AtomicU64,
    limiter: Semaphore,
}

#[derive(Default)]
struct AuthState {
    /// The registry's last challenge, so later requests authenticate up front instead of
    /// paying a 401 round trip each.
    challenge: Option<AuthChallenge>,
    tokens: TokenCache,
    /// The scope a 401 named for the scope we would have asked for: a token is cached under
    /// the scope it was issued for, and found again through this.
    scope_aliases: HashMap<Option<String>, Option<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
}

/// One API call, described for [`RegistryClient::request`].
pub(crate) struct Call<'a> {
    /// For errors: `tags of acme/app`.
    pub operation: &'a str,
    pub method: Method,
    pub url: &'a str,
    pub accept: Option<&'a str>,
    /// The repository the call reads, for the token scope; `None` for `/v2/`.
    pub repository: Option<&'a str>,
}

/// A response, read whole.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Every value of a header that may repeat, joined as one list.
    fn joined(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

/// What a request carried, to word the error when the registry still says 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Nothing,
    Basic,
    Bearer,
}

impl RegistryClient {
    /// A client for the registry at `base` (`http://127.0.0.1:5000`, `https://ghcr.io`).
    pub fn new(
        base: &str,
        credentials: Option<Credentials>,
        config: ClientConfig,
    ) -> Result<RegistryClient, RegistryError> {
        let base = Base::parse(base)?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .max_redirects(MAX_REDIRECTS)
            // Registries redirect manifests and blobs within themselves (keep the credentials)
            // and to storage hosts (never send them there).
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
            // Statuses are answers to interpret (401 challenges, 404 NAME_UNKNOWN, 429).
            .http_status_as_error(false)
            .user_agent(concat!("docker-watcher/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                base,
                agent,
                credentials,
                limiter: Semaphore::new(config.max_concurrent),
                config,
                auth: Mutex::default(),
                rate: Mutex::default(),
                sent: AtomicU64::new(0),
            }),
        })
    }

    /// A client for the registry named `host[:port]` in an image reference (see
    /// [`crate::ImageName::registry`]): http for loopback addresses, https otherwise, and
    /// Docker Hub's API host for `docker.io`.
    pub fn for_host(
        host: &str,
        credentials: Option<Credentials>,
        config: ClientConfig,
    ) -> Result<RegistryClient, RegistryError> {
        RegistryClient::new(&base_for_host(host), credentials, config)
    }

    /// The client for an image: the stored registry's (its URL's scheme, its credentials) when
    /// that registry serves the image's host, else one for the image's host, still with the
    /// credentials when there are any.
    pub fn for_image(
        image_host: &str,
        registry_url: Option<&str>,
        credentials: Option<Credentials>,
        config: ClientConfig,
    ) -> Result<RegistryClient, RegistryError> {
        let own = registry_url
            .and_then(|url| RegistryClient::new(url, credentials.clone(), config.clone()).ok())
            .filter(|client| client.registry() == image_host);
        match own {
            Some(client) => Ok(client),
            None => RegistryClient::for_host(image_host, credentials, config),
        }
    }

    /// Probes `/v2/` and authenticates: whether the registry answers and lets these
    /// credentials (or anonymous users) in. For "test connection" buttons.
    pub fn check(&self) -> Result<(), RegistryError> {
        let operation = "connection check";
        let url = format!("{}/v2/", self.origin());
        let reply = self.request(&Call {
            operation,
            method: Method::Get,
            url: &url,
            accept: None,
            repository: None,
        })?;
        match reply.status {
            200..=299 => Ok(()),
            status => Err(self.status_error(operation, &url, status, &reply.body)),
        }
    }

    /// What the client last saw of the registry's rate limit.
    pub fn rate_limit(&self) -> RateLimitState {
        *lock(&self.inner.rate)
    }

    /// HTTP requests sent so far, token requests included (redirects followed within one
    /// request count once).
    pub fn requests_sent(&self) -> u64 {
        self.inner.sent.load(Ordering::SeqCst)
    }

    /// The registry's `host[:port]`, as errors name it.
    pub fn registry(&self) -> &str {
        &self.inner.base.authority
    }

    pub(crate) fn origin(&self) -> &str {
        &self.inner.base.origin
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Sends `call`, authenticating when challenged (re-authenticating at most once, so a
    /// registry that keeps refusing cannot make the client loop) and retrying once after a
    /// 429 whose `Retry-After` is short enough to wait out.
    pub(crate) fn request(&self, call: &Call<'_>) -> Result<Reply, RegistryError> {
        let mut answered_challenge = false;
        let mut retried_rate_limit = false;
        loop {
            self.wait_for_backoff(call.operation)?;
            let (authorization, sent) = self.authorization(call)?;
            let reply = self.send(call, authorization.as_deref())?;
            match reply.status {
                401 if answered_challenge => return Err(self.refused(call, sent, &reply)),
                401 => {
                    answered_challenge = true;
                    self.answer_challenge(call, &reply)?;
                }
                429 if !retried_rate_limit => {
                    retried_rate_limit = true;
                    // The retry waits in `wait_for_backoff`, or fails there if the wait is
                    // longer than we are willing to block.
                    self.back_off(&reply);
                }
                429 => {
                    self.back_off(&reply);
                    return Err(self.rate_limited(call.operation));
                }
                _ => return Ok(reply),
            }
        }
    }

    /// One HTTP request, within the in-flight limit.
    fn send(&self, call: &Call<'_>, authorization: Option<&str>) -> Result<Reply, RegistryError> {
        let agent = &self.inner.agent;
        let mut request = match call.method {
            Method::Get => agent.get(call.url),
            Method::Head => agent.head(call.url),
        };
        if let Some(accept) = call.accept {
            request = request.header("Accept", accept);
        }
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let _permit = self.inner.limiter.acquire();
        self.inner.sent.fetch_add(1, Ordering::SeqCst);
        let mut response = request
            .call()
            .map_err(|err| self.transport_error(call.operation, call.url, err))?;
        let body = match call.method {
            Method::Head => Vec::new(),
            Method::Get => response
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_vec()
                .map_err(|err| self.transport_error(call.operation, call.url, err))?,
        };
        let reply = Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
        };
        lock(&self.inner.rate).observe(
            reply.header("ratelimit-limit"),
            reply.header("ratelimit-remaining"),
        );
        Ok(reply)
    }

    fn transport_error(&self, operation: &str, url: &str, err: ureq::Error) -> RegistryError {
        match err {
            ureq::Error::TooManyRedirects => RegistryError::TooManyRedirects {
                registry: self.registry().to_owned(),
                operation: operation.to_owned(),
                url: url.to_owned(),
            },
            err => RegistryError::Transport {
                registry: self.registry().to_owned(),
                operation: operation.to_owned(),
                url: url.to_owned(),
                message: err.to_string(),
            },
        }
    }

    /// The `Authorization` header for `call`, from what the registry asked for last time.
    /// A Bearer token close to expiry is replaced here, before the request, rather than after
    /// the registry refuses it.
    fn authorization(&self, call: &Call<'_>) -> Result<(Option<String>, Sent), RegistryError> {
        let challenge = lock(&self.inner.auth).challenge.clone();
        match challenge {
            None => Ok((None, Sent::Nothing)),
            Some(AuthChallenge::Basic) => Ok(match &self.inner.credentials {
                Some(credentials) => (Some(credentials.basic_header()), Sent::Basic),
                None => (None, Sent::Nothing),
            }),
            Some(AuthChallenge::Bearer { realm, service, .. }) => {
                let wanted = repository_scope(call.repository);
                let scope = lock(&self.inner.auth)
                    .scope_aliases
                    .get(&wanted)
                    .cloned()
                    .unwrap_or(wanted);
                let key = TokenKey {
                    realm,
                    service,
                    scope,
                };
                let token = self.token(call.operation, &key, false)?;
                Ok((Some(format!("Bearer {}", token.value)), Sent::Bearer))
            }
        }
    }

    /// Learns from a 401 how to authenticate, and gets a token when that is how.
    fn answer_challenge(&self, call: &Call<'_>, reply: &Reply) -> Result<(), RegistryError> {
        let Some(header) = reply.joined("www-authenticate") else {
            return Err(self.auth_error(
                call.operation,
                "the registry answered 401 without a WWW-Authenticate challenge",
            ));
        };
        let challenge =
            challenge::parse_and_select(&header).map_err(|source| RegistryError::Challenge {
                registry: self.registry().to_owned(),
                operation: call.operation.to_owned(),
                header: header.clone(),
                source,
            })?;
        match &challenge {
            AuthChallenge::Basic if self.inner.credentials.is_none() => {
                return Err(self.auth_error(
                    call.operation,
                    "the registry requires a user name and password (Basic auth) \
                     and none are configured",
                ));
            }
            AuthChallenge::Basic => {}
            AuthChallenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let wanted = repository_scope(call.repository);
                // A scope in the challenge is what this registry wants, verbatim; without
                // one (Docker Hub's /v2/ probe) it is built from the repository.
                let scope = scope.clone().or_else(|| wanted.clone());
                let key = TokenKey {
                    realm: realm.clone(),
                    service: service.clone(),
                    scope: scope.clone(),
                };
                // The token we sent (if any) was refused: never reuse it.
                self.token(call.operation, &key, true)?;
                lock(&self.inner.auth).scope_aliases.insert(wanted, scope);
            }
        }
        lock(&self.inner.auth).challenge = Some(challenge);
        Ok(())
    }

    /// A cached token for `key` that is not about to expire, or a new one.
    fn token(&self, operation: &str, key: &TokenKey, renew: bool) -> Result<Token, RegistryError> {
        {
            let mut auth = lock(&self.inner.auth);
            if renew {
                auth.tokens.remove(key);
            } else if let Some(token) = auth.tokens.get(key, SystemTime::now()) {
                return Ok(token.clone());
            }
        }
        let token = self.fetch_token(operation, key)?;
        lock(&self.inner.auth)
            .tokens
            .insert(key.clone(), token.clone());
        Ok(token)
    }

    /// `GET realm?service=…&scope=…`, with the credentials when there are any (anonymous
    /// pulls from public registries get a token without them).
    fn fetch_token(&self, operation: &str, key: &TokenKey) -> Result<Token, RegistryError> {
        let url = url::token_url(key);
        let token_error = |reason: String| RegistryError::Token {
            registry: self.registry().to_owned(),
            operation: operation.to_owned(),
            realm: key.realm.clone(),
            reason,
        };
        let mut request = self
            .inner
            .agent
            .get(&url)
            .header("Accept", "application/json");
        if let Some(credentials) = &self.inner.credentials {
            request = request.header("Authorization", credentials.basic_header());
        }
        let (status, body) = {
            let _permit = self.inner.limiter.acquire();
            self.inner.sent.fetch_add(1, Ordering::SeqCst);
            let mut response = request
                .call()
                .map_err(|err| self.transport_error(operation, &url, err))?;
            let body = response
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_vec()
                .map_err(|err| self.transport_error(operation, &url, err))?;
            (response.status().as_u16(), body)
        };
        match status {
            200..=299 => token::parse(&body, SystemTime::now())
                .map_err(|err| token_error(err.to_string())),
            401 | 403 => Err(self.auth_error(
                operation,
                &match self.inner.credentials {
                    Some(_) => format!(
                        "the token endpoint {} refused the credentials (invalid registry credentials?)",
                        key.realm
                    ),
                    None => format!(
                        "the token endpoint {} refused anonymous access: credentials are needed",
                        key.realm
                    ),
                },
            )),
            status => Err(token_error(format!(
                "HTTP {status}: {}",
                api_error::describe(&body)
            ))),
        }
    }

    /// The error for a second 401 in a row, worded by what was sent.
    fn refused(&self, call: &Call<'_>, sent: Sent, reply: &Reply) -> RegistryError {
        let detail = api_error::describe(&reply.body);
        let reason = match sent {
            Sent::Basic => format!("invalid registry credentials ({detail})"),
            Sent::Bearer => format!("the registry refused a freshly issued token ({detail})"),
            Sent::Nothing => format!("the registry refused anonymous access ({detail})"),
        };
        self.auth_error(call.operation, &reason)
    }

    fn auth_error(&self, operation: &str, reason: &str) -> RegistryError {
        RegistryError::Auth {
            registry: self.registry().to_owned(),
            operation: operation.to_owned(),
            reason: reason.to_owned(),
        }
    }

    /// Records how long to hold back after a 429: `Retry-After` when given, else
    /// `max_retry_after`, as a registry that gives no hint must not be hit again at once.
    fn back_off(&self, reply: &Reply) {
        let now = SystemTime::now();
        let wait = reply
            .header("retry-after")
            .and_then(|value| rate_limit::parse_retry_after(value, now))
            .unwrap_or(self.inner.config.max_retry_after);
        lock(&self.inner.rate).backing_off_until = Some(now + wait);
    }

    /// Sleeps out a back-off short enough to wait for; fails on a longer one without sending.
    fn wait_for_backoff(&self, operation: &str) -> Result<(), RegistryError> {
        let Some(until) = lock(&self.inner.rate).backing_off_until else {
            return Ok(());
        };
        let Ok(wait) = until.duration_since(SystemTime::now()) else {
            return Ok(());
        };
        if wait > self.inner.config.max_retry_after {
            return Err(self.rate_limited(operation));
        }
        log::info!(
            "registry {}: rate limited, waiting {:.1}s",
            self.registry(),
            wait.as_secs_f64()
        );
        std::thread::sleep(wait);
        Ok(())
    }

    fn rate_limited(&self, operation: &str) -> RegistryError {
        RegistryError::RateLimited {
            registry: self.registry().to_owned(),
            operation: operation.to_owned(),
            until: lock(&self.inner.rate)
                .backing_off_until
                .unwrap_or_else(SystemTime::now),
        }
    }

    pub(crate) fn status_error(
        &self,
        operation: &str,
        url: &str,
        status: u16,
        body: &[u8],
    ) -> RegistryError {
        RegistryError::Status {
            registry: self.registry().to_owned(),
            operation: operation.to_owned(),
            url: url.to_owned(),
            status,
            message: api_error::describe(body),
        }
    }

    pub(crate) fn invalid_response(
        &self,
        operation: &str,
        url: &str,
        reason: String,
    ) -> RegistryError {
        RegistryError::InvalidResponse {
            registry: self.registry().to_owned(),
            operation: operation.to_owned(),
            url: url.to_owned(),
            reason,
        }
    }
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("base", &self.inner.base.origin)
            .field("credentials", &self.inner.credentials)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// The pull scope of a repository, as registries expect it when their challenge names none.
fn repository_scope(repository: Option<&str>) -> Option<String> {
    repository.map(|repository| format!("repository:{repository}:pull"))
}

/// The data behind these locks stays consistent even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
