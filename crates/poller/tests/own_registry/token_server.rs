//! A token server for a registry started with `auth: token`, as Docker Hub, GHCR or Harbor run
//! in front of theirs: it checks Basic credentials and issues JWTs that Distribution accepts.
//!
//! Tokens are ES256 (ECDSA P-256, the signature as `r || s`), and carry in their `x5c` header
//! a self-signed certificate of the signing key; the same certificate is the registry's
//! `rootcertbundle`, which is how Distribution decides to trust the key. Claims: `iss`, `sub`,
//! `aud` (the registry's service name), `exp`, `nbf`, `iat`, `jti` and `access` (what was asked
//! for, to the right user). Tests choose the `expires_in` it answers and, separately, the real
//! `exp` it writes in the token, and read how many tokens it issued.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;

use super::http::{Handler, Request, Response, Server};

/// The registry's service name: the `service` of its challenges and the `aud` of its tokens.
pub const SERVICE: &str = "dw-own-registry";
/// Who signs the tokens, as the registry's `issuer` setting names it.
pub const ISSUER: &str = "dw-test-token-server";
/// How far past `exp` (and before `nbf`) Distribution still accepts a token.
pub const LEEWAY_SECS: i64 = 60;
/// Lifetime of tokens unless a test says otherwise.
const DEFAULT_LIFETIME_SECS: i64 = 300;

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One entry of a token's `access` claim: `repository`, `acme/app`, `["pull"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Access {
    /// Reads a scope, `type:name:actions` (the name may hold colons, as in a port).
    pub fn parse(scope: &str) -> Option<Access> {
        let (kind, rest) = scope.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        Some(Access {
            kind: kind.to_owned(),
            name: name.to_owned(),
            actions: actions
                .split(',')
                .filter(|action| !action.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    pub fn repository(name: &str, actions: &[&str]) -> Access {
        Access {
            kind: "repository".into(),
            name: name.into(),
            actions: actions.iter().map(|action| (*action).to_owned()).collect(),
        }
    }
}

/// A P-256 signing key and its self-signed certificate.
pub struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    cert_der: Vec<u8>,
    cert_pem: String,
    next_jti: AtomicU64,
}

impl Signer {
    pub fn new() -> Signer {
        let key_pair = rcgen::KeyPair::generate().expect("generate a P-256 key");
        let mut params =
            rcgen::CertificateParams::new(vec![ISSUER.to_owned()]).expect("certificate parameters");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, ISSUER);
        let cert = params
            .self_signed(&key_pair)
            .expect("self-sign the certificate");
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &rng,
        )
        .expect("ring reads rcgen's PKCS#8 key");
        Signer {
            key,
            rng,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            next_jti: AtomicU64::new(1),
        }
    }

    /// The certificate, PEM: the registry's `rootcertbundle`.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A signed token for `subject`, issued at `issued_at` (seconds since the epoch), with
    /// `exp` at `issued_at + lifetime` (a negative lifetime gives a token already expired).
    pub fn token(&self, subject: &str, access: &[Access], issued_at: i64, lifetime: i64) -> String {
        let header = json!({
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [STANDARD.encode(&self.cert_der)],
        });
        let access: Vec<_> = access
            .iter()
            .map(|entry| json!({"type": entry.kind, "name": entry.name, "actions": entry.actions}))
            .collect();
        let claims = json!({
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": issued_at + lifetime,
            "nbf": issued_at.min(issued_at + lifetime),
            "iat": issued_at,
            "jti": format!("dw-{}-{}", std::process::id(), self.next_jti.fetch_add(1, Ordering::SeqCst)),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .expect("sign the token");
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )
    }
}

/// The `exp` claim of a JWT, read without checking anything.
pub fn token_exp(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get("exp")?.as_i64()
}

/// What the token server does with requests that carry no credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anonymous {
    /// 401, as a private registry's token server answers.
    Refused,
    /// A token that grants nothing, as public registries answer for repositories an
    /// anonymous user may not read: the registry then refuses the token.
    NothingGranted,
}

struct State {
    signer: Arc<Signer>,
    user: String,
    password: String,
    anonymous: Anonymous,
    expires_in: AtomicI64,
    next_lifetimes: Mutex<VecDeque<i64>>,
    requests: AtomicUsize,
    issued: AtomicUsize,
    scopes: Mutex<Vec<Vec<String>>>,
}

/// The running token server; stops when dropped.
pub struct TokenServer {
    state: Arc<State>,
    server: Server,
}

impl TokenServer {
    /// A token server that lets `user` with `password` in, and anonymous requests as said.
    pub fn start(user: &str, password: &str, anonymous: Anonymous) -> TokenServer {
        let state = Arc::new(State {
            signer: Arc::new(Signer::new()),
            user: user.to_owned(),
            password: password.to_owned(),
            anonymous,
            expires_in: AtomicI64::new(DEFAULT_LIFETIME_SECS),
            next_lifetimes: Mutex::new(VecDeque::new()),
            requests: AtomicUsize::new(0),
            issued: AtomicUsize::new(0),
            scopes: Mutex::new(Vec::new()),
        });
        let handling = state.clone();
        let handler: Handler = Arc::new(move |request| handling.answer(request));
        TokenServer {
            state,
            server: Server::start("token-server", handler),
        }
    }

    /// The URL registries send clients to: their challenge's `realm`.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.server.addr())
    }

    pub fn signer(&self) -> Arc<Signer> {
        self.state.signer.clone()
    }

    /// Requests received, answered with a token or not.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Tokens issued.
    pub fn tokens_issued(&self) -> usize {
        self.state.issued.load(Ordering::SeqCst)
    }

    /// The `scope` parameters of each request, in order.
    pub fn scopes_asked(&self) -> Vec<Vec<String>> {
        self.state.scopes.lock().unwrap().clone()
    }

    /// The `expires_in` answered with every later token (300 unless set).
    pub fn answer_expires_in(&self, seconds: i64) {
        self.state.expires_in.store(seconds, Ordering::SeqCst);
    }

    /// The real lifetime (`exp - iat`) of the next token only, whatever `expires_in` says;
    /// later tokens get the usual 300 s. Calls queue up for the tokens after it.
    pub fn real_lifetime_of_next_token(&self, seconds: i64) {
        self.state.next_lifetimes.lock().unwrap().push_back(seconds);
    }
}

impl State {
    fn answer(&self, request: &Request) -> Response {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let query = request.query();
        let scopes: Vec<String> = query
            .iter()
            .filter(|(key, _)| key == "scope")
            .map(|(_, value)| value.clone())
            .collect();
        self.scopes.lock().unwrap().push(scopes.clone());
        if request.method != "GET" || request.path() != "/token" {
            return error(404, "NOT_FOUND", "no such endpoint");
        }
        if request.query_value("service").as_deref() != Some(SERVICE) {
            return error(400, "INVALID_REQUEST", "unknown service");
        }
        let subject = match request.header("authorization").map(basic_pair) {
            Some(Some((user, password))) if user == self.user && password == self.password => {
                Some(user)
            }
            Some(_) => return error(401, "UNAUTHORIZED", "invalid username or password"),
            None if self.anonymous == Anonymous::Refused => {
                return error(401, "UNAUTHORIZED", "authentication required");
            }
            None => None,
        };
        let access: Vec<Access> = match subject {
            Some(_) => scopes
                .iter()
                .filter_map(|scope| Access::parse(scope))
                .collect(),
            None => Vec::new(),
        };
        let lifetime = self
            .next_lifetimes
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(DEFAULT_LIFETIME_SECS);
        let now = unix_now();
        let token = self
            .signer
            .token(subject.as_deref().unwrap_or(""), &access, now, lifetime);
        self.issued.fetch_add(1, Ordering::SeqCst);
        let issued_at = chrono::DateTime::from_timestamp(now, 0)
            .expect("a representable time")
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Response::json(
            200,
            &json!({
                "token": token,
                "access_token": token,
                "expires_in": self.expires_in.load(Ordering::SeqCst),
                "issued_at": issued_at,
            }),
        )
    }
}

/// User and password of a Basic `Authorization` header; `None` for anything else.
fn basic_pair(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({"errors": [{"code": code, "message": message}]}),
    )
}
