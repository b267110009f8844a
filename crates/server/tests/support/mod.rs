//! What the end-to-end tests share: where the testbed is, a `Server` fixture that runs the real
//! binary against the real Docker engine and registry, plain HTTP helpers, and Docker CLI helpers.
//!
//! Every fixture owns a unique project, network and registry repository, so tests run in
//! parallel without seeing each other, and its `Drop` removes what it made even when the test
//! failed.

#![allow(dead_code)] // Each test uses only some of the helpers.

pub mod sse;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one deploy may take before a test gives up (a replacement alone takes ~10 s).
pub const DEPLOY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long any single HTTP request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// How often `/healthz` is tried while the server starts, and how long between tries.
const STARTUP_TRIES: u32 = 150;
const STARTUP_PAUSE: Duration = Duration::from_millis(100);

/// Attempts at picking a free port when another process takes it between our probe and the bind.
const PORT_ATTEMPTS: u32 = 3;

// ---------------------------------------------------------------------------------------------
// The testbed
// ---------------------------------------------------------------------------------------------

/// The workspace root, two levels above this crate.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// Cargo's target folder, honouring `CARGO_TARGET_DIR` the way the xtask tasks do.
pub fn target_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// A testbed variable from the environment, or else from the file `cargo xtask testbed` writes;
/// `None` when neither has it.
pub fn try_testbed_var(name: &str) -> Option<String> {
    if let Ok(value) = std::env::var(name)
        && !value.trim().is_empty()
    {
        return Some(value.trim().to_string());
    }
    let file = target_dir().join("testbed/env");
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// A testbed variable; fails the test, saying how to get one, when it is not set anywhere.
pub fn testbed_var(name: &str) -> String {
    try_testbed_var(name).unwrap_or_else(|| {
        panic!(
            "{name} is not set and {} does not define it: run `cargo xtask testbed` first \
             (or run the tests with `cargo xtask test`)",
            target_dir().join("testbed/env").display()
        )
    })
}

/// The anonymous test registry, `127.0.0.1:PORT`, checked to be answering.
pub fn registry() -> String {
    let registry = testbed_var("DW_TEST_REGISTRY");
    let addr: SocketAddr = registry
        .parse()
        .unwrap_or_else(|_| panic!("DW_TEST_REGISTRY={registry} is not an IP:PORT address"));
    if let Err(error) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        panic!(
            "the test registry at {registry} does not answer ({error}): run `cargo xtask testbed` to start it"
        );
    }
    registry
}

/// The Docker engine the tests use.
pub fn docker_host() -> String {
    testbed_var("DW_TEST_DOCKER_HOST")
}

// ---------------------------------------------------------------------------------------------
// Docker CLI
// ---------------------------------------------------------------------------------------------

/// Runs `docker ARGS` against `host` and returns its output, whatever the exit status.
pub fn docker_output(host: &str, args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .env("DOCKER_HOST", host)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run `docker {}`: {error}", args.join(" ")))
}

/// Runs `docker ARGS` and returns its stdout; fails the test when the command fails.
pub fn docker(host: &str, args: &[&str]) -> String {
    let output = docker_output(host, args);
    assert!(
        output.status.success(),
        "`docker {}` failed ({}):\n{}{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether a container with this exact name exists, running or not.
pub fn container_exists(host: &str, name: &str) -> bool {
    docker_output(
        host,
        &["container", "inspect", "--format", "{{.Name}}", name],
    )
    .status
    .success()
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/// An HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Header names are lowercase.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON; fails the test when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| {
            panic!(
                "expected a JSON body ({error}), got HTTP {}: {}",
                self.status, self.body
            )
        })
    }

    /// Asserts the `{success:false, data:null, error:"..."}` envelope and returns the error text.
    pub fn error_envelope(&self) -> String {
        let json = self.json();
        assert_eq!(
            json["success"],
            Value::Bool(false),
            "expected success:false in {}",
            self.body
        );
        assert_eq!(
            json["data"],
            Value::Null,
            "expected data:null in {}",
            self.body
        );
        let error = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error message in {}", self.body));
        assert!(
            !error.trim().is_empty(),
            "expected a non-empty error in {}",
            self.body
        );
        error.to_string()
    }

    /// Asserts `{success:true, data:..., error:null}` and returns `data`.
    pub fn data(&self) -> Value {
        let mut json = self.json();
        assert_eq!(
            json["success"],
            Value::Bool(true),
            "expected success:true in {}",
            self.body
        );
        assert_eq!(
            json["error"],
            Value::Null,
            "expected error:null in {}",
            self.body
        );
        json["data"].take()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .max_redirects(0)
        .proxy(None)
        .build()
        .into()
}

fn into_reply(mut response: ureq::http::Response<ureq::Body>, what: &str) -> Reply {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|error| panic!("{what}: cannot read the body: {error}"));
    Reply {
        status,
        headers,
        body,
    }
}

/// `GET url`.
pub fn http_get(url: &str) -> Reply {
    let response = agent()
        .get(url)
        .call()
        .unwrap_or_else(|error| panic!("GET {url} failed: {error}"));
    into_reply(response, &format!("GET {url}"))
}

/// `DELETE url`.
pub fn http_delete(url: &str) -> Reply {
    let response = agent()
        .delete(url)
        .call()
        .unwrap_or_else(|error| panic!("DELETE {url} failed: {error}"));
    into_reply(response, &format!("DELETE {url}"))
}

/// `POST url` with this body and, when given, this Content-Type (none at all otherwise).
pub fn http_post(url: &str, content_type: Option<&str>, body: &[u8]) -> Reply {
    let mut request = agent().post(url);
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    let response = request
        .send(body)
        .unwrap_or_else(|error| panic!("POST {url} failed: {error}"));
    into_reply(response, &format!("POST {url}"))
}

// ---------------------------------------------------------------------------------------------
// The server fixture
// ---------------------------------------------------------------------------------------------

/// How a fixture's server is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// The stage `dev` accepts tags matching this glob.
    pub tag_pattern: String,
    /// `--docker-host`; `None` uses the testbed's engine.
    pub docker_host: Option<String>,
    /// Whether the registry poller watches the stage `dev` (`poll: true`).
    pub poll: bool,
    /// `settings.poll_interval`, such as `1s`; `None` leaves the default.
    pub poll_interval: Option<String>,
    /// The stage `dev`'s `auto_deploy`; off, its deploys wait for approval.
    pub auto_deploy: bool,
    /// The registry `host:port` of the project's image; `None` uses the testbed's.
    pub registry: Option<String>,
    /// `settings.npm` as (url, identity, password); `None` configures no NPM.
    pub npm: Option<(String, String, String)>,
    /// `settings.route_target`; `None` leaves the default.
    pub route_target: Option<String>,
    /// `RUST_LOG` of the server.
    pub rust_log: String,
    /// More stages beside `dev`, as (name, its YAML keys one per line, such as
    /// `tag_pattern: "v*"`).
    pub more_stages: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tag_pattern: "*".into(),
            docker_host: None,
            poll: false,
            poll_interval: None,
            auto_deploy: true,
            registry: None,
            npm: None,
            route_target: None,
            rust_log: "info".into(),
            more_stages: Vec::new(),
        }
    }
}

/// A `docker-watcher serve` process with a project of its own, stopped and cleaned up on drop.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub addr: SocketAddr,
    /// The project (also the label value on its containers), unique to this fixture.
    pub project: String,
    /// The Docker network its containers join, unique to this fixture.
    pub network: String,
    /// The image repository the project watches: `REGISTRY/PROJECT/app`.
    pub repository: String,
    /// The webhook secret.
    pub secret: String,
    /// The engine the test itself talks to (for pushes, inspection and cleanup).
    pub docker: Option<String>,
    child: Child,
    dir: tempfile::TempDir,
    pushed: Mutex<Vec<String>>,
    /// How the process was started, for [`Server::kill_and_restart`].
    engine: String,
    rust_log: String,
}

/// A name no other fixture (in this run or a concurrent one) uses: `e2e-<pid>-<n>-<random>`.
pub fn unique_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "e2e-{}-{}-{:06x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        random_u64() & 0xff_ffff
    )
}

/// Random bits from the standard library's randomly keyed hasher.
pub fn random_u64() -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("the system can pick a free port")
        .port()
}

impl Server {
    /// A server with the default options, on the testbed's engine and registry.
    pub fn start() -> Server {
        Server::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> Server {
        let project = unique_name();
        let network = format!("{project}-net");
        // A project whose engine is unreachable needs no real registry; every other one does.
        let (registry, docker) = match &options.docker_host {
            None => (registry(), Some(docker_host())),
            Some(_) => (
                try_testbed_var("DW_TEST_REGISTRY").unwrap_or_else(|| "127.0.0.1:5999".into()),
                try_testbed_var("DW_TEST_DOCKER_HOST"),
            ),
        };
        let registry = options.registry.clone().unwrap_or(registry);
        let repository = format!("{registry}/{project}/app");
        let secret = format!("{:016x}{:016x}", random_u64(), random_u64());
        let mut dir = tempfile::Builder::new()
            .prefix("dw-e2e-")
            .tempdir()
            .expect("a temporary folder");
        let poll_interval = options
            .poll_interval
            .as_ref()
            .map(|interval| format!("  poll_interval: {interval}\n"))
            .unwrap_or_default();
        let mut settings_keys = String::new();
        if let Some((url, identity, password)) = &options.npm {
            settings_keys.push_str(&format!(
                "  domain: test.invalid\n  npm:\n    url: {url}\n    identity: {identity}\n    password: {password}\n"
            ));
        }
        if let Some(target) = &options.route_target {
            settings_keys.push_str(&format!("  route_target: {target}\n"));
        }
        let mut stage_keys = String::new();
        if options.poll {
            stage_keys.push_str("        poll: true\n");
        }
        if !options.auto_deploy {
            stage_keys.push_str("        auto_deploy: false\n");
        }
        for (name, keys) in &options.more_stages {
            stage_keys.push_str(&format!("      {name}:\n"));
            for line in keys.lines() {
                stage_keys.push_str(&format!("        {line}\n"));
            }
        }
        let config = format!(
            r#"settings:
  network: {network}
  webhook_secret: {secret}
{poll_interval}{settings_keys}projects:
  {project}:
    image: {repository}
    port: 8080
    health:
      path: /healthz
      interval: 300ms
      timeout: 2s
      retries: 5
    stages:
      dev:
        tag_pattern: "{pattern}"
{stage_keys}"#,
            pattern = options.tag_pattern
        );
        let config_path = dir.path().join("docker-watcher.yaml");
        std::fs::write(&config_path, config).expect("write the configuration");
        let engine = options
            .docker_host
            .clone()
            .or_else(|| docker.clone())
            .expect("an engine address");

        let mut attempt = 0;
        loop {
            attempt += 1;
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let child = spawn(dir.path(), &config_path, addr, &engine, &options.rust_log);
            let mut server = Server {
                base: format!("http://{addr}"),
                addr,
                project: project.clone(),
                network: network.clone(),
                repository: repository.clone(),
                secret: secret.clone(),
                docker: docker.clone(),
                child,
                dir,
                pushed: Mutex::new(Vec::new()),
                engine: engine.clone(),
                rust_log: options.rust_log.clone(),
            };
            match server.wait_until_up() {
                Ok(()) => return server,
                Err(log) if attempt < PORT_ATTEMPTS && log.contains("in use") => {
                    // Another process took the port between our probe and the bind: try another.
                    dir = server.into_dir();
                }
                Err(log) => panic!("the server did not start; its log:\n{log}"),
            }
        }
    }

    /// Waits for `/healthz`; on failure returns the server's log.
    fn wait_until_up(&mut self) -> Result<(), String> {
        let url = self.url("/healthz");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(2)))
            .proxy(None)
            .build()
            .into();
        for _ in 0..STARTUP_TRIES {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("(exited with {status})\n{}", self.log()));
            }
            if let Ok(response) = agent.get(&url).call()
                && response.status() == 200
            {
                return Ok(());
            }
            std::thread::sleep(STARTUP_PAUSE);
        }
        Err(format!(
            "(no answer from {url} after {STARTUP_TRIES} tries)\n{}",
            self.log()
        ))
    }

    /// Kills the process with SIGKILL (it gets no chance to clean up), then starts it again on
    /// the same data folder and configuration, on a new port.
    pub fn kill_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the dead process's log for failure messages.
        let log = self.log();
        let _ = std::fs::write(self.dir.path().join("killed.log"), log);
        let config = self.dir.path().join("docker-watcher.yaml");
        for _ in 0..PORT_ATTEMPTS {
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            self.child = spawn(self.dir.path(), &config, addr, &self.engine, &self.rust_log);
            self.addr = addr;
            self.base = format!("http://{addr}");
            match self.wait_until_up() {
                Ok(()) => return,
                Err(log) if log.contains("in use") => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                }
                Err(log) => panic!("the server did not start again; its log:\n{log}"),
            }
        }
        panic!("no free port to start the server again on");
    }

    /// Stops this process and hands its folder back (for another start attempt).
    fn into_dir(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(
            &mut self.dir,
            tempfile::tempdir().expect("a temporary folder"),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn webhook_url(&self) -> String {
        self.url(&format!("/api/webhook/{}", self.secret))
    }

    /// `REPOSITORY:tag`.
    pub fn image(&self, tag: &str) -> String {
        format!("{}:{tag}", self.repository)
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        for name in ["stdout.log", "stderr.log"] {
            if let Ok(mut file) = std::fs::File::open(self.dir.path().join(name)) {
                let _ = file.read_to_string(&mut text);
            }
        }
        text
    }

    pub fn get(&self, path: &str) -> Reply {
        http_get(&self.url(path))
    }

    /// `GET path`, asserting 200 and the success envelope; returns `data`.
    pub fn get_data(&self, path: &str) -> Value {
        let reply = self.get(path);
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
        reply.data()
    }

    /// Sends the webhook for `image` with the right secret and Content-Type.
    pub fn webhook(&self, image: &str) -> Reply {
        let body = serde_json::json!({ "image": image }).to_string();
        http_post(
            &self.webhook_url(),
            Some("application/json"),
            body.as_bytes(),
        )
    }

    /// Sends the webhook for `image`, asserts that it queued exactly one deploy, returns its id.
    pub fn webhook_queued(&self, image: &str) -> i64 {
        let reply = self.webhook(image);
        assert_eq!(
            reply.status, 202,
            "expected the webhook to queue a deploy for {image}: {}",
            reply.body
        );
        let data = reply.data();
        assert_eq!(data["reason"], Value::Null, "{}", reply.body);
        let deploys = data["deploys"].as_array().expect("a deploys list");
        assert_eq!(
            deploys.len(),
            1,
            "expected one queued deploy: {}",
            reply.body
        );
        let deploy = &deploys[0];
        assert_eq!(deploy["project"], self.project.as_str(), "{}", reply.body);
        assert_eq!(deploy["stage"], "dev", "{}", reply.body);
        let tag = image.rsplit_once(':').map(|(_, tag)| tag).unwrap_or("");
        assert_eq!(deploy["tag"], tag, "{}", reply.body);
        deploy["id"].as_i64().expect("a numeric deploy id")
    }

    /// Tags the testbed image `tag` into this fixture's repository and pushes it; returns the
    /// digest the registry reported.
    pub fn push(&self, tag: &str) -> String {
        self.push_as(tag, tag)
    }

    /// Pushes the testbed image `source_tag` under this fixture's `tag` (a tag moving to another
    /// image); returns the pushed digest.
    pub fn push_as(&self, source_tag: &str, tag: &str) -> String {
        let host = self.docker.as_deref().expect("a Docker engine");
        let source = format!("{}:{source_tag}", testbed_var("DW_TEST_IMAGE"));
        let target = self.image(tag);
        self.pushed.lock().unwrap().push(target.clone());
        docker(host, &["tag", &source, &target]);
        let output = docker(host, &["push", &target]);
        output
            .split_whitespace()
            .find(|word| word.starts_with("sha256:"))
            .unwrap_or_else(|| {
                panic!("no digest in the output of `docker push {target}`:\n{output}")
            })
            .to_string()
    }

    /// Polls `GET /api/deploys/{id}` until the deploy has finished; returns it.
    pub fn wait_for_deploy(&self, id: i64, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let deploy = self.get_data(&format!("/api/deploys/{id}"));
            let status = deploy["status"].as_str().unwrap_or_default();
            if matches!(
                status,
                "succeeded" | "failed" | "interrupted" | "rejected" | "skipped"
            ) {
                return deploy;
            }
            assert!(
                Instant::now() < deadline,
                "deploy {id} did not finish within {timeout:?}; last seen: {deploy}"
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Waits for deploy `id` and asserts that it succeeded.
    pub fn wait_for_success(&self, id: i64) -> Value {
        let deploy = self.wait_for_deploy(id, DEPLOY_TIMEOUT);
        assert_eq!(
            deploy["status"], "succeeded",
            "expected deploy {id} to succeed: {deploy}"
        );
        deploy
    }

    /// This fixture's project as `GET /api/projects` shows it.
    pub fn project_view(&self) -> Value {
        let projects = self.get_data("/api/projects");
        let projects = projects.as_array().expect("a list of projects");
        assert_eq!(projects.len(), 1, "expected one project: {projects:?}");
        assert_eq!(projects[0]["name"], self.project.as_str());
        projects[0].clone()
    }

    /// The project's instances from the API.
    pub fn instances(&self) -> Vec<Value> {
        self.project_view()["instances"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Names of every container (running or not) labelled with this fixture's project.
    pub fn containers(&self) -> Vec<String> {
        let host = self.docker.as_deref().expect("a Docker engine");
        let filter = format!("label=docker-watcher.project={}", self.project);
        let mut names: Vec<String> = docker(
            host,
            &["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"],
        )
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect();
        names.sort();
        names
    }

    /// Opens an SSE stream on this server.
    pub fn sse(&self, path: &str, last_event_id: Option<&str>) -> sse::SseStream {
        sse::SseStream::open(self.addr, path, last_event_id)
    }
}

fn spawn(dir: &Path, config: &Path, addr: SocketAddr, engine: &str, rust_log: &str) -> Child {
    let stdout = std::fs::File::create(dir.join("stdout.log")).expect("create stdout.log");
    let stderr = std::fs::File::create(dir.join("stderr.log")).expect("create stderr.log");
    Command::new(env!("CARGO_BIN_EXE_docker-watcher"))
        .arg("serve")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--docker-host")
        .arg(engine)
        .current_dir(dir)
        .env("RUST_LOG", rust_log)
        .env_remove("DW_CONFIG")
        .env_remove("DW_DATA_DIR")
        .env_remove("DW_LISTEN")
        .env_remove("DW_UI_DIR")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("start the docker-watcher binary")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!(
                "---- server log of project {} (last {} lines) ----\n{}\n---- end of server log ----",
                self.project,
                tail.len(),
                tail.join("\n")
            );
        }
        // Never panic here: a panic while unwinding would abort every other test.
        let Some(docker) = self.docker.clone() else {
            return;
        };
        let filter = format!("label=docker-watcher.project={}", self.project);
        let listed = docker_output(&docker, &["ps", "-aq", "--filter", &filter]);
        let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.iter().map(String::as_str));
            let _ = docker_output(&docker, &args);
        }
        let _ = docker_output(&docker, &["network", "rm", &self.network]);
        let pushed = std::mem::take(&mut *self.pushed.lock().unwrap_or_else(|e| e.into_inner()));
        if !pushed.is_empty() {
            let mut args = vec!["image", "rm"];
            args.extend(pushed.iter().map(String::as_str));
            let _ = docker_output(&docker, &args);
        }
    }
}
