//! A private Distribution registry for one test: Debian's `docker-registry` (2.8) serving on a
//! free loopback port from a temporary folder, either open to anyone or behind token auth (with
//! the [`TokenServer`] of this module as its issuer). It is killed when dropped.
//!
//! Tests read its access log to count what reached the registry itself, by method and path
//! (`HEAD /v2/acme/app/manifests/latest`), independently of what the client believes it sent.
//! Images are put in it without Docker, through the registry API: a small config blob and a
//! layer blob (`POST …/blobs/uploads/`, then `PUT …?digest=`), then a Docker v2 or OCI
//! manifest under a tag. Putting different content under the same tag moves its digest.

mod http;
pub mod paging_proxy;
pub mod token_server;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub use paging_proxy::PagingProxy;
pub use token_server::{Access, Anonymous, TokenServer};
use token_server::{ISSUER, SERVICE, Signer, unix_now};

/// The registry program, as Debian's `docker-registry` package installs it.
const REGISTRY_PROGRAM: &str = "docker-registry";
/// How long the registry may take to start, or to write a request to its log.
const PATIENCE: Duration = Duration::from_secs(20);

/// Which manifest format [`OwnRegistry::put_image`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// `application/vnd.docker.distribution.manifest.v2+json`, what `docker push` writes.
    Docker,
    /// `application/vnd.oci.image.manifest.v1+json`.
    Oci,
}

/// An image put in the registry.
#[derive(Debug, Clone)]
pub struct PutImage {
    /// The manifest's bytes, exactly as sent.
    pub manifest: Vec<u8>,
    /// What the registry answered in `Docker-Content-Digest`.
    pub digest: String,
}

/// One line of the registry's access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// Path and query, as requested.
    pub target: String,
    pub status: u16,
}

impl Logged {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// Whether this is `method path` (the query not compared).
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path() == path
    }
}

impl std::fmt::Display for Logged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.method, self.target, self.status)
    }
}

/// `sha256:` and the hex hash of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let mut digest = String::from("sha256:");
    for byte in Sha256::digest(bytes) {
        digest.push_str(&format!("{byte:02x}"));
    }
    digest
}

/// A running registry of this test's own.
pub struct OwnRegistry {
    child: Child,
    host: String,
    dir: tempfile::TempDir,
    agent: ureq::Agent,
    /// Signs the tokens the uploads use, when the registry wants tokens.
    signer: Option<Arc<Signer>>,
    next_sync: AtomicUsize,
}

impl OwnRegistry {
    /// An open registry: anyone may pull and push.
    pub fn start() -> OwnRegistry {
        OwnRegistry::launch(None)
    }

    /// A registry that accepts only tokens of `tokens`, and sends clients there to get one.
    pub fn start_with_tokens(tokens: &TokenServer) -> OwnRegistry {
        OwnRegistry::launch(Some(tokens))
    }

    fn launch(tokens: Option<&TokenServer>) -> OwnRegistry {
        let signer = tokens.map(TokenServer::signer);
        let mut refused = String::new();
        // The port is free when chosen, but something may take it before the registry binds
        // it: then the registry says so and another port is tried.
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("a temporary folder");
            if let Some(signer) = &signer {
                std::fs::write(dir.path().join("token-cert.pem"), signer.cert_pem())
                    .expect("write the token certificate");
            }
            let port = free_port();
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config(dir.path(), port, tokens))
                .expect("write the registry config");
            let access_log = File::create(dir.path().join("access.log")).expect("access log");
            let app_log = File::create(dir.path().join("registry.log")).expect("registry log");
            let child = Command::new(REGISTRY_PROGRAM)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(access_log)
                .stderr(app_log)
                .spawn()
                .unwrap_or_else(|err| {
                    panic!(
                        "cannot run {REGISTRY_PROGRAM} ({err}): install Debian's docker-registry \
                         package (`cargo xtask testbed` does)"
                    )
                });
            let mut registry = OwnRegistry {
                child,
                host: format!("127.0.0.1:{port}"),
                dir,
                agent: ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .into(),
                signer: signer.clone(),
                next_sync: AtomicUsize::new(0),
            };
            match registry.wait_until_listening() {
                Ok(()) => return registry,
                // Dropping the registry kills the process and removes its folder.
                Err(log) if log.contains("address already in use") => refused = log,
                Err(log) => panic!("{REGISTRY_PROGRAM} did not start:\n{log}"),
            }
        }
        panic!("{REGISTRY_PROGRAM} found no free port in 5 tries:\n{refused}")
    }

    /// Waits for the registry's "listening on" line; on an early exit, returns its log.
    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let log = self.app_log();
            if log.contains("listening on") {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}:\n{log}"));
            }
            if Instant::now() > deadline {
                return Err(format!("not listening after {PATIENCE:?}:\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:port`, as image references name the registry.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `http://127.0.0.1:port`.
    pub fn base(&self) -> String {
        format!("http://{}", self.host)
    }

    /// The registry's own log (level info: one line per response, errors with their reason).
    pub fn app_log(&self) -> String {
        std::fs::read_to_string(self.path("registry.log")).unwrap_or_default()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The `Authorization` header uploads send: a token of our own with push rights, not one
    /// from the token server (whose counts belong to the client under test).
    fn push_authorization(&self, repository: &str) -> Option<String> {
        self.signer.as_ref().map(|signer| {
            let access = [Access::repository(repository, &["pull", "push"])];
            let token = signer.token("dw-test-pusher", &access, unix_now(), 300);
            format!("Bearer {token}")
        })
    }

    /// Puts an image whose config and layer hold `content` under `repository:tag`, and checks
    /// that the registry gives the digest of the manifest's bytes for it.
    pub fn put_image(
        &self,
        repository: &str,
        tag: &str,
        content: &str,
        kind: ManifestKind,
    ) -> PutImage {
        let authorization = self.push_authorization(repository);
        let layer = format!("layer of {content}\n").into_bytes();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"dw.content": content}},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(&layer)]},
        }))
        .expect("serialize the config");
        self.upload_blob(repository, &config, authorization.as_deref());
        self.upload_blob(repository, &layer, authorization.as_deref());
        let (manifest_type, config_type, layer_type) = match kind {
            ManifestKind::Docker => (
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            ),
            ManifestKind::Oci => (
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
        };
        // Pretty-printed on purpose: the digest is that of these very bytes, whitespace and all.
        let manifest = serde_json::to_vec_pretty(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {
                "mediaType": config_type,
                "size": config.len(),
                "digest": sha256_digest(&config),
            },
            "layers": [{
                "mediaType": layer_type,
                "size": layer.len(),
                "digest": sha256_digest(&layer),
            }],
        }))
        .expect("serialize the manifest");
        let url = format!("{}/v2/{repository}/manifests/{tag}", self.base());
        let mut request = self.agent.put(&url).header("Content-Type", manifest_type);
        if let Some(authorization) = &authorization {
            request = request.header("Authorization", authorization);
        }
        let mut response = request
            .send(&manifest[..])
            .unwrap_or_else(|err| panic!("PUT {url}: {err}"));
        let status = response.status().as_u16();
        let digest = header(&response, "docker-content-digest");
        let body = response.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, 201, "PUT {url} answered {status}: {body}");
        assert_eq!(
            digest.as_deref(),
            Some(sha256_digest(&manifest).as_str()),
            "the registry's digest of the manifest put at {url}"
        );
        PutImage {
            digest: sha256_digest(&manifest),
            manifest,
        }
    }

    /// Uploads one blob: `POST` starts the upload, `PUT …?digest=` sends it whole and ends it.
    fn upload_blob(&self, repository: &str, bytes: &[u8], authorization: Option<&str>) {
        let start_url = format!("{}/v2/{repository}/blobs/uploads/", self.base());
        let mut start = self.agent.post(&start_url);
        if let Some(authorization) = authorization {
            start = start.header("Authorization", authorization);
        }
        let mut started = start
            .send_empty()
            .unwrap_or_else(|err| panic!("POST {start_url}: {err}"));
        let status = started.status().as_u16();
        let location = header(&started, "location");
        let body = started.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, 202, "POST {start_url} answered {status}: {body}");
        let location = location.expect("an upload location");
        let location = if location.starts_with('/') {
            format!("{}{location}", self.base())
        } else {
            location
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let put_url = format!("{location}{separator}digest={}", sha256_digest(bytes));
        let mut put = self
            .agent
            .put(&put_url)
            .header("Content-Type", "application/octet-stream");
        if let Some(authorization) = authorization {
            put = put.header("Authorization", authorization);
        }
        let mut finished = put
            .send(bytes)
            .unwrap_or_else(|err| panic!("PUT {put_url}: {err}"));
        let status = finished.status().as_u16();
        let body = finished.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, 201, "PUT {put_url} answered {status}: {body}");
    }

    /// Every request in the access log so far, once the registry has written all those
    /// answered before this call: a request of our own is sent and waited for in the log,
    /// since the registry writes a line after answering. The probes are left in.
    fn synced_log(&self) -> Vec<Logged> {
        let probe = format!(
            "/v2/?dw-sync={}",
            self.next_sync.fetch_add(1, Ordering::SeqCst)
        );
        let url = format!("{}{probe}", self.base());
        // Open or not, the registry answers /v2/ (200 or 401) and logs it.
        self.agent
            .get(&url)
            .call()
            .unwrap_or_else(|err| panic!("GET {url}: {err}"));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = std::fs::read_to_string(self.path("access.log")).unwrap_or_default();
            let lines: Vec<Logged> = text.lines().filter_map(parse_access_line).collect();
            if lines.iter().any(|line| line.target == probe) {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "{probe} not in the access log after {PATIENCE:?}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A position in the access log: what [`OwnRegistry::requests_since`] counts from.
    pub fn log_mark(&self) -> usize {
        self.synced_log().len()
    }

    /// The requests the registry answered since `mark`, in order (the log probes left out).
    pub fn requests_since(&self, mark: usize) -> Vec<Logged> {
        self.synced_log()
            .into_iter()
            .skip(mark)
            .filter(|line| !line.target.starts_with("/v2/?dw-sync="))
            .collect()
    }
}

impl Drop for OwnRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The registry's configuration: storage in `dir`, logs at level info with the access log
/// on, and token auth when `tokens` is given.
fn config(dir: &Path, port: u16, tokens: Option<&TokenServer>) -> String {
    let mut config = format!(
        "version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: dw-own-registry-{pid}-{port}
",
        storage = dir.join("storage").display(),
        pid = std::process::id(),
    );
    if let Some(tokens) = tokens {
        config.push_str(&format!(
            "auth:
  token:
    realm: {realm}
    service: {SERVICE}
    issuer: {ISSUER}
    rootcertbundle: {bundle}
",
            realm = tokens.realm(),
            bundle = dir.join("token-cert.pem").display(),
        ));
    }
    config
}

/// `127.0.0.1 - - [date] "GET /v2/ HTTP/1.1" 200 2 "" "agent"` (the combined log format).
fn parse_access_line(line: &str) -> Option<Logged> {
    let (_, rest) = line.split_once('"')?;
    let (request, rest) = rest.split_once('"')?;
    let mut request = request.split(' ');
    let method = request.next()?.to_owned();
    let target = request.next()?.to_owned();
    let status = rest.split_whitespace().next()?.parse().ok()?;
    Some(Logged {
        method,
        target,
        status,
    })
}
