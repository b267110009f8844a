//! `cargo xtask bench deploy`: how long the product takes from a webhook to the new version
//! answering at its stage's domain, against the same steps done by hand.
//!
//! Set up once: the testbed (engine, registry, test images), `v1` and `v2` of the test image
//! pushed to `dw-bench/deploy` on the testbed's registry, the NPM double (its nginx runs on this
//! host), and the release `docker-watcher` binary started on a fresh data folder in
//! `target/bench-deploy/` with a seed that routes through the double by container address and
//! probes health on the fast schedule.
//!
//! Both first deploy `v1` and `v2` once unmeasured (the first pulls, the proxy hosts created, NPM
//! logged into). Then R rounds (default 5) of each, alternating which goes first, the tag
//! alternating so that every deploy is real (a tag and digest already running is skipped by
//! design):
//!
//! - server: from sending the webhook until nginx answers the new version at the stage's
//!   domain (`GET /version` through the double's nginx every [`ROUTED_POLL`]). The old instance
//!   is then drained and stopped, which is not counted; the next round waits for the deploy to
//!   finish.
//! - baseline: the same steps with the same clients and no queue or store: pull the same image
//!   by tag, create a container on the same network with the same labels, port and restart
//!   policy (given at creation; the product gives it once the container is healthy, one engine
//!   call more, inside its "route" step), start it, probe `GET /healthz` at its address on the product's schedule until it
//!   answers 2xx, find the proxy host by its domain and repoint it (the router's calls), and
//!   wait for nginx the same way. The old container goes after the timed window.
//!
//! The table compares medians against [`TARGET_RATIO`]; a second one splits each round into
//! steps, the server's from the timestamps of its deploy log.

use std::{
    collections::BTreeMap,
    fs::{self, File},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use docker_client::{ContainerSpec, DockerClient, RestartPolicy};
use npm_client::{ForwardScheme, NewProxyHost, NpmClient, NpmConfig, ProxyHost, ProxyHostPatch};
use npm_double::{ADMIN_EMAIL, ADMIN_PASSWORD, NpmDouble};
use serde_json::Value;

use crate::{Result, shell, testbed};

const DEFAULT_ROUNDS: usize = 5;
/// At most this times the baseline's median.
const TARGET_RATIO: f64 = 1.10;

/// The server's project; the baseline labels its containers with its own project name, so
/// neither ever takes the other's containers for its own.
const PROJECT: &str = "bench-deploy";
const BASELINE_PROJECT: &str = "bench-deploy-baseline";
const STAGE: &str = "dev";
/// The network both deploy to.
const NETWORK: &str = "dw-bench-deploy";
/// The repository on the testbed registry both pull from, and the testbed image it holds.
const REPOSITORY: &str = "dw-bench/deploy";
const SOURCE_IMAGE: &str = "dw-testbed/app";
/// Deployed in turn; the first one by the warm-up.
const TAGS: [&str; 2] = ["v1", "v2"];
/// `settings.domain` of the seed; the server's stage domain is read back from its API.
const DOMAIN: &str = "test.invalid";
const BASELINE_DOMAIN: &str = "bench-baseline.test.invalid";
const PORT: u16 = 8080;
const WEBHOOK_SECRET: &str = "bench-deploy-webhook-secret";
/// What the router writes into a proxy host's `meta` (deployer's `META_MARKER`).
const META_MARKER: &str = "docker_watcher";

/// The seed's health check: `GET /healthz`, its interval as the seed writes it.
const HEALTH_PATH: &str = "/healthz";
const HEALTH_INTERVAL: &str = "100ms";
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// The product's probe schedule (`deployer::health::Schedule` during its fast phase): a probe at
/// once, the next after [`FIRST_WAIT`], each wait doubling up to [`FAST_WAIT`] (which the seed's
/// interval does not lower).
const FIRST_WAIT: Duration = Duration::from_millis(25);
const FAST_WAIT: Duration = Duration::from_millis(100);
/// The baseline gives up on a container that is not healthy by then.
const HEALTH_GIVE_UP: Duration = Duration::from_secs(30);
/// How long a replaced container may take to stop (the seed's `stop_timeout`; after "routed").
const STOP_TIMEOUT: Duration = Duration::from_secs(1);

/// How often nginx is asked for the new version while a round is timed.
const ROUTED_POLL: Duration = Duration::from_millis(5);
const ROUTED_TIMEOUT: Duration = Duration::from_secs(90);
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(120);
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries at starting the server, in case another process takes its port first.
const START_ATTEMPTS: usize = 3;

/// What the command line asked for.
struct Options {
    rounds: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            rounds: DEFAULT_ROUNDS,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag, Some(value)),
                None => (arg.as_str(), None),
            };
            if flag != "--rounds" {
                return Err(format!("unexpected argument `{flag}`").into());
            }
            let value = match inline {
                Some(value) => value,
                None => args.next().ok_or("`--rounds` needs a number")?,
            };
            options.rounds = value
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("`--rounds {value}`: not a positive whole number"))?;
        }
        Ok(options)
    }
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;

    step("testbed (Docker engine, registry, test images, nginx)");
    let vars = testbed::ensure(root)?;
    let var = |name: &str| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| format!("the testbed did not report {name}"))
    };
    let registry = var("DW_TEST_REGISTRY")?;
    let docker_host = var("DW_TEST_DOCKER_HOST")?;
    let repository = format!("{registry}/{REPOSITORY}");
    push_images(&repository)?;

    step("the server (a release build)");
    let binary = server_binary(root)?;

    step("setup");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-docker")
        .enable_all()
        .build()?;
    let docker = DockerClient::new(Some(&docker_host))?;
    let mut fixture = Fixture {
        runtime,
        docker,
        server: None,
        repository: repository.clone(),
    };
    fixture.clean_up();
    fixture.block_on(fixture.docker.ensure_network(NETWORK))?;
    let npm = NpmDouble::builder()
        .try_start()
        .map_err(|err| format!("the NPM double: {err}"))?;
    println!(
        "NPM double: API {}, nginx on port {}",
        npm.url(),
        npm.nginx_port()
    );
    let dir = crate::target_dir(root).join("bench-deploy");
    fixture.server = Some(Server::start(
        &binary,
        &dir,
        &repository,
        &npm,
        &docker_host,
    )?);

    let mut baseline = Baseline::new(&fixture, &npm, &repository)?;
    let server = fixture.server.as_ref().ok_or("the server is not running")?;

    // Warm-up: the first pull of each tag, the proxy hosts created, NPM logged into.
    let tag = TAGS[0];
    let warm = server.deploy(&npm, &repository, tag, None)?;
    let domain = server.stage_domain()?;
    println!(
        "warm-up: server deployed {tag} in {} (routed at {domain})",
        millis(warm.total)
    );
    let warm = baseline.deploy(&fixture, &npm, tag)?;
    println!(
        "warm-up: baseline deployed {tag} in {} (routed at {BASELINE_DOMAIN})",
        millis(warm.total)
    );
    // The other tag once each too, so every measured pull finds its image already there.
    let tag = TAGS[1];
    server.deploy(&npm, &repository, tag, Some(&domain))?;
    baseline.deploy(&fixture, &npm, tag)?;
    println!("warm-up: both deployed {tag}");

    let mut server_rounds = Vec::with_capacity(options.rounds);
    let mut baseline_rounds = Vec::with_capacity(options.rounds);
    for round in 0..options.rounds {
        let tag = TAGS[round % 2];
        // Alternating which goes first cancels drift (caches warming, other load).
        let (served, by_hand) = if round % 2 == 0 {
            let by_hand = baseline.deploy(&fixture, &npm, tag)?;
            (
                server.deploy(&npm, &repository, tag, Some(&domain))?,
                by_hand,
            )
        } else {
            let served = server.deploy(&npm, &repository, tag, Some(&domain))?;
            (served, baseline.deploy(&fixture, &npm, tag)?)
        };
        println!(
            "round {} ({tag}): server {}, baseline {}",
            round + 1,
            millis(served.total),
            millis(by_hand.total)
        );
        server_rounds.push(served);
        baseline_rounds.push(by_hand);
    }
    baseline.remove_current(&fixture);

    print_tables(&server_rounds, &baseline_rounds, &domain);
    println!("\nserver log: {}", server.log.display());
    Ok(())
}

fn step(title: &str) {
    println!("\n==> {title}");
}

/// Puts the testbed image's tags on the registry as `repository:TAG`, then drops the local
/// registry-named tags so that the warm-up pulls for real.
fn push_images(repository: &str) -> Result<()> {
    for tag in TAGS {
        let local = format!("{SOURCE_IMAGE}:{tag}");
        let remote = format!("{repository}:{tag}");
        shell::output(Command::new("docker").args(["tag", &local, &remote]))?;
        let pushed = shell::output(Command::new("docker").args(["push", "--quiet", &remote]));
        let removed = shell::output(Command::new("docker").args(["rmi", &remote]));
        pushed.and(removed)?;
        println!("images: pushed {remote}");
    }
    Ok(())
}

/// Builds the release server when cargo finds it out of date; returns the binary.
fn server_binary(root: &Path) -> Result<PathBuf> {
    shell::run(
        Command::new("cargo")
            .args(["build", "--release", "--package", "server"])
            .current_dir(root),
    )?;
    let binary = crate::target_dir(root).join("release/docker-watcher");
    if !binary.is_file() {
        return Err(format!("the build succeeded but {} is missing", binary.display()).into());
    }
    Ok(binary)
}

/// One timed deploy: its total, and when each step ended, from the start of the round.
struct Round {
    total: Duration,
    /// Indexed like [`STEPS`]; `None` when the step's end is not known.
    marks: [Option<Duration>; STEPS.len()],
}

/// The steps a round is split into, each with the deploy log line the server writes at its end
/// (the baseline takes its own times). The last one ends when nginx answers the new version.
const STEPS: [(&str, Option<&str>); 7] = [
    ("queue (webhook to deploy running)", Some("deploying ")),
    ("pull (and inspect)", Some("image digest ")),
    ("create", Some("created container ")),
    ("start", Some("started container ")),
    ("health (to a passing probe)", Some("health check passed")),
    ("route (to NPM's answer)", Some("routed: ")),
    ("nginx answers the new version", None),
];

// --- The server ---------------------------------------------------------------------------

/// What is cleaned up whatever happens: the server process, then every container of both
/// projects, the network and the pulled tags.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    docker: DockerClient,
    server: Option<Server>,
    /// `REGISTRY/dw-bench/deploy`.
    repository: String,
}

impl Fixture {
    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Removes the containers of both projects (of this run, or left by one that was killed)
    /// and the network. Best effort.
    fn clean_up(&self) {
        for project in [PROJECT, BASELINE_PROJECT] {
            let label = [("docker-watcher.project", Some(project))];
            let containers = self
                .block_on(self.docker.list_containers(&label))
                .unwrap_or_default();
            for container in containers {
                if let Err(err) = self.block_on(self.docker.remove_container(&container.id)) {
                    println!("cannot remove container {}: {err}", container.name);
                }
            }
        }
        if let Err(err) = self.block_on(self.docker.remove_network(NETWORK)) {
            println!("cannot remove network {NETWORK}: {err}");
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // The server first, so that it does not act on what is removed next.
        drop(self.server.take());
        self.clean_up();
        // The pulled tags; the images stay as the testbed's own tags.
        let images = TAGS.map(|tag| format!("{}:{tag}", self.repository));
        let _ = shell::output(Command::new("docker").args(["image", "rm"]).args(&images));
    }
}

/// The release binary serving on a free port, with its log in a file; killed on drop.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
    agent: ureq::Agent,
}

impl Server {
    /// Starts the server on a fresh data folder in `dir`, seeded with one project on
    /// `repository` routed through `npm`.
    fn start(
        binary: &Path,
        dir: &Path,
        repository: &str,
        npm: &NpmDouble,
        docker_host: &str,
    ) -> Result<Server> {
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(|err| format!("removing {}: {err}", dir.display()))?;
        }
        fs::create_dir_all(dir).map_err(|err| format!("creating {}: {err}", dir.display()))?;
        let config = dir.join("docker-watcher.yaml");
        fs::write(&config, seed(repository, &npm.url()))
            .map_err(|err| format!("writing {}: {err}", config.display()))?;
        let log = dir.join("server.log");
        let agent = http_agent();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = testbed::free_port()?;
            let file =
                File::create(&log).map_err(|err| format!("creating {}: {err}", log.display()))?;
            let mut cmd = Command::new(binary);
            cmd.arg("serve")
                .arg("--config")
                .arg(&config)
                .arg("--data-dir")
                .arg(dir.join("data"))
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--docker-host")
                .arg(docker_host)
                .env("RUST_LOG", "info")
                .env_remove("DW_CONFIG")
                .env_remove("DW_DATA_DIR")
                .env_remove("DW_UI_DIR")
                .stdin(Stdio::null())
                .stdout(file.try_clone()?)
                .stderr(file);
            println!("$ {}  > {} 2>&1", shell::cmdline(&cmd), log.display());
            let child = cmd
                .spawn()
                .map_err(|err| format!("cannot run {}: {err}", binary.display()))?;
            let mut server = Server {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log: log.clone(),
                agent: agent.clone(),
            };
            let url = server.url("/healthz");
            let up = testbed::wait_until(
                "the server",
                SERVER_START_TIMEOUT,
                &mut server.child,
                &log,
                || {
                    agent
                        .get(&url)
                        .call()
                        .is_ok_and(|response| response.status() == 200)
                },
            );
            match up {
                Ok(()) => {
                    println!("the server answers on {}", server.base);
                    return Ok(server);
                }
                Err(err) if attempt < START_ATTEMPTS && err.to_string().contains("in use") => {
                    println!("port {port} was taken; trying another");
                }
                Err(err) => return Err(err),
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`, expecting 200 and the success envelope; returns `data`.
    fn get(&self, path: &str) -> Result<Value> {
        let url = self.url(path);
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|err| format!("GET {url}: {err}"))?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        if status != 200 {
            return Err(format!("GET {url}: HTTP {status}: {body}").into());
        }
        envelope_data(&body).map_err(|err| format!("GET {url}: {err}").into())
    }

    /// Sends the webhook for `image`; returns the id of the one deploy it must queue.
    fn webhook(&self, image: &str) -> Result<i64> {
        let url = self.url(&format!("/api/webhook/{WEBHOOK_SECRET}"));
        let body = serde_json::json!({ "image": image }).to_string();
        let mut response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .map_err(|err| format!("POST the webhook: {err}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string()?;
        let data = envelope_data(&text).map_err(|err| format!("the webhook: {err}"))?;
        let ids: Vec<i64> = data["deploys"]
            .as_array()
            .map(|deploys| deploys.iter().filter_map(|d| d["id"].as_i64()).collect())
            .unwrap_or_default();
        match (status, ids.as_slice()) {
            (202, [id]) => Ok(*id),
            _ => Err(format!("the webhook for {image} answered HTTP {status}: {text}").into()),
        }
    }

    /// Deploys `repository:tag` through the webhook and times it until nginx answers `tag` at
    /// `domain` (when `None`, the warm-up: the domain is not known yet, so only the deploy's
    /// end is waited for). Returns once the deploy has finished.
    fn deploy(
        &self,
        npm: &NpmDouble,
        repository: &str,
        tag: &str,
        domain: Option<&str>,
    ) -> Result<Round> {
        let image = format!("{repository}:{tag}");
        let wall = SystemTime::now();
        let started = Instant::now();
        let id = self.webhook(&image)?;
        let routed = match domain {
            Some(domain) => match wait_routed(npm, domain, tag, started) {
                Ok(time) => Some(time),
                Err(err) => {
                    let deploy = self.get(&format!("/api/deploys/{id}")).unwrap_or_default();
                    return Err(format!(
                        "deploy {id} of {tag}: {err} (the deploy is {}: {}){}",
                        deploy["status"],
                        deploy["reason"],
                        testbed::log_tail(&self.log)
                    )
                    .into());
                }
            },
            None => None,
        };
        let deploy = self.wait_finished(id)?;
        let total = routed.unwrap_or_else(|| started.elapsed());
        if deploy["status"] != "succeeded" {
            return Err(format!(
                "deploy {id} of {tag} ended {}: {}{}",
                deploy["status"],
                deploy["reason"],
                testbed::log_tail(&self.log)
            )
            .into());
        }
        let lines = self.log_lines(id).unwrap_or_else(|err| {
            println!("(deploy {id}: no log, so no steps: {err})");
            Vec::new()
        });
        let since = |at: SystemTime| at.duration_since(wall).unwrap_or_default();
        let mut marks = STEPS.map(|(_, marker)| {
            let marker = marker?;
            lines
                .iter()
                .find(|(_, message)| message.starts_with(marker))
                .map(|(at, _)| since(*at))
        });
        marks[STEPS.len() - 1] = routed;
        Ok(Round { total, marks })
    }

    /// Polls `GET /api/deploys/{id}` until the deploy has finished; returns it.
    fn wait_finished(&self, id: i64) -> Result<Value> {
        let deadline = Instant::now() + DEPLOY_TIMEOUT;
        loop {
            let deploy = self.get(&format!("/api/deploys/{id}"))?;
            let status = deploy["status"].as_str().unwrap_or_default();
            if matches!(
                status,
                "succeeded" | "failed" | "interrupted" | "rejected" | "skipped"
            ) {
                return Ok(deploy);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "deploy {id} has not finished after {} s (it is {status}){}",
                    DEPLOY_TIMEOUT.as_secs(),
                    testbed::log_tail(&self.log)
                )
                .into());
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The log of a finished deploy, as (time, message): its stream ends after the `end`
    /// event, so one plain GET reads all of it.
    fn log_lines(&self, id: i64) -> Result<Vec<(SystemTime, String)>> {
        let url = self.url(&format!("/api/deploys/{id}/logs"));
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|err| format!("GET {url}: {err}"))?;
        let stream = response.body_mut().read_to_string()?;
        Ok(sse_log_lines(&stream))
    }

    /// The domain the server routed its instance to.
    fn stage_domain(&self) -> Result<String> {
        let projects = self.get("/api/projects")?;
        projects
            .as_array()
            .into_iter()
            .flatten()
            .filter(|project| project["name"] == PROJECT)
            .flat_map(|project| project["instances"].as_array().into_iter().flatten())
            .find_map(|instance| instance["domain"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| "GET /api/projects shows no routed instance".into())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The configuration the server starts with: one project on `repository`, routed through the
/// NPM double by container address (nginx runs on this host), health probed at once and often.
fn seed(repository: &str, npm_url: &str) -> String {
    format!(
        r#"settings:
  network: {NETWORK}
  webhook_secret: {WEBHOOK_SECRET}
  domain: {DOMAIN}
  route_target: container_ip
  npm:
    url: {npm_url}
    identity: {ADMIN_EMAIL}
    password: {ADMIN_PASSWORD}
projects:
  {PROJECT}:
    image: {repository}
    port: {PORT}
    stop_timeout: {stop}s
    health:
      path: {HEALTH_PATH}
      interval: {HEALTH_INTERVAL}
      timeout: {timeout}s
      retries: 30
    stages:
      {STAGE}:
        tag_pattern: "v*"
"#,
        stop = STOP_TIMEOUT.as_secs(),
        timeout = HEALTH_TIMEOUT.as_secs(),
    )
}

/// `data` of a `{"success": true, "data": …}` envelope.
fn envelope_data(body: &str) -> Result<Value, String> {
    let mut json: Value =
        serde_json::from_str(body).map_err(|err| format!("not JSON ({err}): {body}"))?;
    if json["success"] != true {
        return Err(format!("not a success: {body}"));
    }
    Ok(json["data"].take())
}

/// The `log` events of a deploy's log stream, as (time, message).
fn sse_log_lines(stream: &str) -> Vec<(SystemTime, String)> {
    let mut lines = Vec::new();
    for event in stream.split("\n\n") {
        let mut name = "";
        let mut data = "";
        for line in event.lines() {
            if let Some(value) = line.strip_prefix("event: ") {
                name = value;
            } else if let Some(value) = line.strip_prefix("data: ") {
                data = value;
            }
        }
        if name != "log" {
            continue;
        }
        let Ok(line) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        let at = line["at"]
            .as_str()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .and_then(|at| u64::try_from(at.timestamp_millis()).ok())
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
        if let (Some(at), Some(message)) = (at, line["message"].as_str()) {
            lines.push((at, message.to_owned()));
        }
    }
    lines
}

// --- The baseline -------------------------------------------------------------------------

/// The same deploy by hand: the engine and NPM clients, called in order, nothing recorded.
struct Baseline {
    npm: NpmClient,
    probe: ureq::Agent,
    repository: String,
    /// The container serving the baseline's domain.
    current: Option<String>,
    /// Numbers the containers, as deploy ids do the server's.
    serial: u32,
}

impl Baseline {
    fn new(fixture: &Fixture, npm: &NpmDouble, repository: &str) -> Result<Baseline> {
        let client = NpmClient::new(
            &npm.url(),
            ADMIN_EMAIL,
            ADMIN_PASSWORD,
            NpmConfig::default(),
        )?;
        client.login()?;
        // Connected and the API version agreed, as the server's client is after its first deploy.
        fixture.block_on(fixture.docker.ping())?;
        let probe = ureq::Agent::config_builder()
            .timeout_global(Some(HEALTH_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .build()
            .into();
        Ok(Baseline {
            npm: client,
            probe,
            repository: repository.to_owned(),
            current: None,
            serial: 0,
        })
    }

    /// Deploys `tag` and times it until nginx answers it at [`BASELINE_DOMAIN`]; then removes
    /// the container it replaced.
    fn deploy(&mut self, fixture: &Fixture, npm: &NpmDouble, tag: &str) -> Result<Round> {
        self.serial += 1;
        let docker = &fixture.docker;
        let image = format!("{}:{tag}", self.repository);
        let name = format!("dw-{BASELINE_PROJECT}-{STAGE}-{tag}-{}", self.serial);
        let labels = BTreeMap::from([
            (
                "docker-watcher.project".to_owned(),
                BASELINE_PROJECT.to_owned(),
            ),
            ("docker-watcher.stage".to_owned(), STAGE.to_owned()),
            (
                "docker-watcher.instance".to_owned(),
                self.serial.to_string(),
            ),
            ("docker-watcher.deploy".to_owned(), self.serial.to_string()),
        ]);
        let spec = ContainerSpec {
            name: name.clone(),
            image: image.clone(),
            labels,
            network: Some(NETWORK.to_owned()),
            exposed_port: Some(PORT),
            restart: Some(RestartPolicy::UnlessStopped),
            stop_timeout: Some(STOP_TIMEOUT),
            ..ContainerSpec::default()
        };
        let mut marks = [None; STEPS.len()];

        let started = Instant::now();
        marks[0] = Some(Duration::ZERO);
        fixture.block_on(docker.pull(&image, None, &mut |_| {}))?;
        marks[1] = Some(started.elapsed());
        let id = fixture.block_on(docker.create_container(&spec))?;
        marks[2] = Some(started.elapsed());
        if let Err(err) = self.start_and_route(fixture, npm, &id, tag, started, &mut marks) {
            let _ = fixture.block_on(docker.remove_container(&id));
            return Err(format!("baseline deploy of {tag} ({name}): {err}").into());
        }
        let total = marks[STEPS.len() - 1].unwrap_or_default();
        // Outside the timed window: the container it replaced goes.
        self.remove_current(fixture);
        self.current = Some(id);
        Ok(Round { total, marks })
    }

    /// The steps after the container was created, each marking its end in `marks`.
    fn start_and_route(
        &self,
        fixture: &Fixture,
        npm: &NpmDouble,
        id: &str,
        tag: &str,
        started: Instant,
        marks: &mut [Option<Duration>; STEPS.len()],
    ) -> Result<()> {
        let docker = &fixture.docker;
        fixture.block_on(docker.start_container(id))?;
        marks[3] = Some(started.elapsed());
        let state = fixture.block_on(docker.inspect_container(id))?;
        let ip = state
            .ip_addresses
            .get(NETWORK)
            .ok_or_else(|| format!("the container has no address on {NETWORK}"))?;
        self.wait_healthy(&format!("http://{ip}:{PORT}{HEALTH_PATH}"))?;
        marks[4] = Some(started.elapsed());
        self.point(ip)?;
        marks[5] = Some(started.elapsed());
        marks[6] = Some(wait_routed(npm, BASELINE_DOMAIN, tag, started)?);
        Ok(())
    }

    /// Probes `url` on the product's schedule until it answers 2xx.
    fn wait_healthy(&self, url: &str) -> Result<()> {
        let started = Instant::now();
        let mut wait: Option<Duration> = None;
        loop {
            if let Ok(response) = self.probe.get(url).call()
                && response.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > HEALTH_GIVE_UP {
                return Err(format!(
                    "GET {url} did not answer 2xx within {} s",
                    HEALTH_GIVE_UP.as_secs()
                )
                .into());
            }
            let next = wait.map_or(FIRST_WAIT, |wait| (wait * 2).min(FAST_WAIT));
            wait = Some(next);
            thread::sleep(next);
        }
    }

    /// The router's calls: find the proxy host by its domain and repoint it (or create it the
    /// first time), with the product's host settings and marker.
    fn point(&self, ip: &str) -> Result<()> {
        let marker = serde_json::Map::from_iter([(
            META_MARKER.to_owned(),
            Value::String(format!("{BASELINE_PROJECT}/{STAGE}")),
        )]);
        let host: ProxyHost = match self.npm.find_proxy_host(BASELINE_DOMAIN)? {
            Some(host) => {
                let patch = ProxyHostPatch {
                    forward_scheme: Some(ForwardScheme::Http),
                    forward_host: Some(ip.to_owned()),
                    forward_port: Some(PORT),
                    meta: Some(marker),
                    ..ProxyHostPatch::default()
                };
                self.npm.update_proxy_host(host.id, &patch)?
            }
            None => {
                let mut new =
                    NewProxyHost::new([BASELINE_DOMAIN], ForwardScheme::Http, ip.to_owned(), PORT);
                new.ssl_forced = Some(false);
                new.allow_websocket_upgrade = Some(true);
                new.meta = Some(marker);
                self.npm.create_proxy_host(&new)?
            }
        };
        if host.meta.nginx_online == Some(false) {
            return Err(format!(
                "nginx refused the proxy host of {BASELINE_DOMAIN}: {}",
                host.meta.nginx_err.unwrap_or_default()
            )
            .into());
        }
        Ok(())
    }

    /// Removes the container serving now, if any. Best effort.
    fn remove_current(&mut self, fixture: &Fixture) {
        if let Some(old) = self.current.take()
            && let Err(err) = fixture.block_on(fixture.docker.remove_container(&old))
        {
            println!("cannot remove the baseline's container {old}: {err}");
        }
    }
}

/// Asks nginx for `/version` at `domain` every [`ROUTED_POLL`] until it answers `tag`; returns
/// the time since `started`.
fn wait_routed(npm: &NpmDouble, domain: &str, tag: &str, started: Instant) -> Result<Duration> {
    loop {
        let last = match npm.get_through_nginx(domain, "/version") {
            Ok(answer) if answer.status == 200 && answer.body.trim() == tag => {
                return Ok(started.elapsed());
            }
            Ok(answer) => format!("HTTP {} {:?}", answer.status, answer.body.trim()),
            Err(err) => err.to_string(),
        };
        if started.elapsed() > ROUTED_TIMEOUT {
            return Err(format!(
                "nginx did not answer {tag} at {domain} within {} s (last: {last})",
                ROUTED_TIMEOUT.as_secs()
            )
            .into());
        }
        thread::sleep(ROUTED_POLL);
    }
}

fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(HTTP_TIMEOUT))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into()
}

// --- The report ----------------------------------------------------------------------------

fn print_tables(server: &[Round], baseline: &[Round], domain: &str) {
    let totals = |rounds: &[Round]| rounds.iter().map(|round| round.total).collect::<Vec<_>>();
    let (server_totals, baseline_totals) = (totals(server), totals(baseline));
    let server_median = median(&server_totals);
    let baseline_median = median(&baseline_totals);
    let server_min = server_totals.iter().min().copied().unwrap_or_default();
    let baseline_min = baseline_totals.iter().min().copied().unwrap_or_default();
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(f64::EPSILON);
    let median_ratio = ratio(server_median, baseline_median);
    let verdict = if median_ratio <= TARGET_RATIO {
        "PASS"
    } else {
        "MISS"
    };
    println!(
        "\ndeploy bench: webhook to healthy-and-routed ({domain} through the NPM double's nginx), \
         {} rounds, {} build",
        server.len(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    print_rows(
        &["", "server", "baseline", "ratio", "target", ""],
        &[
            vec![
                "median".into(),
                millis(server_median),
                millis(baseline_median),
                format!("{median_ratio:.2}x"),
                format!("<= {TARGET_RATIO:.2}x"),
                verdict.into(),
            ],
            vec![
                "min".into(),
                millis(server_min),
                millis(baseline_min),
                format!("{:.2}x", ratio(server_min, baseline_min)),
                String::new(),
                String::new(),
            ],
        ],
    );

    println!(
        "\nsteps (median of each step's own time; the server's from its deploy log, to the ms):"
    );
    let step_median = |rounds: &[Round], index: usize| {
        let times: Vec<Duration> = rounds
            .iter()
            .filter_map(|round| {
                let end = round.marks[index]?;
                let start = match index {
                    0 => Duration::ZERO,
                    _ => round.marks[index - 1]?,
                };
                Some(end.saturating_sub(start))
            })
            .collect();
        if times.is_empty() {
            "?".to_owned()
        } else {
            millis(median(&times))
        }
    };
    let rows: Vec<Vec<String>> = STEPS
        .iter()
        .enumerate()
        .map(|(index, (name, _))| {
            vec![
                (*name).to_owned(),
                step_median(server, index),
                step_median(baseline, index),
            ]
        })
        .collect();
    print_rows(&["", "server", "baseline"], &rows);
}

/// Prints a table: the first column left-aligned, the others right-aligned, except a last
/// column of words.
fn print_rows(header: &[&str], rows: &[Vec<String>]) {
    let header: Vec<String> = header.iter().map(|cell| (*cell).to_owned()).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            std::iter::once(&header)
                .chain(rows)
                .map(|row| row.get(column).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(column, (cell, &width))| {
                if column == 0 || (column + 1 == widths.len() && widths.len() > 3) {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        println!("  {}", cells.join("   ").trim_end());
    }
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        len if len % 2 == 1 => sorted[len / 2],
        len => (sorted[len / 2 - 1] + sorted[len / 2]) / 2,
    }
}

fn millis(time: Duration) -> String {
    format!("{:.1} ms", time.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_to_five_rounds_and_take_both_spellings() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Options::parse(&[]).unwrap().rounds, 5);
        assert_eq!(Options::parse(&args(&["--rounds", "3"])).unwrap().rounds, 3);
        assert_eq!(Options::parse(&args(&["--rounds=7"])).unwrap().rounds, 7);
        assert!(Options::parse(&args(&["--rounds", "0"])).is_err());
        assert!(Options::parse(&args(&["--rounds"])).is_err());
        assert!(Options::parse(&args(&["--images", "3"])).is_err());
    }

    #[test]
    fn the_log_stream_gives_each_line_with_its_time() {
        let stream = "retry: 3000\n\n\
             id: 1\nevent: log\ndata: {\"seq\":1,\"at\":\"2025-12-03T16:09:15.123Z\",\"message\":\"deploying x\"}\n\n\
             id: 2\nevent: log\ndata: {\"seq\":2,\"at\":\"2025-12-03T16:09:15.200Z\",\"message\":\"routed: y\"}\n\n\
             event: end\ndata: {\"status\":\"succeeded\",\"reason\":null}\n\n";
        let lines = sse_log_lines(stream);
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(
            lines,
            [
                (at(1_764_778_155_123), "deploying x".to_owned()),
                (at(1_764_778_155_200), "routed: y".to_owned()),
            ]
        );
    }

    #[test]
    fn the_seed_routes_by_container_address_through_the_double() {
        let seed = seed("127.0.0.1:5000/dw-bench/deploy", "http://127.0.0.1:4000");
        assert!(seed.contains("route_target: container_ip\n"), "{seed}");
        assert!(seed.contains("    url: http://127.0.0.1:4000\n"), "{seed}");
        assert!(
            seed.contains("    image: 127.0.0.1:5000/dw-bench/deploy\n"),
            "{seed}"
        );
        assert!(seed.contains("      interval: 100ms\n"), "{seed}");
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(
            median(&[ms(4), ms(1), ms(2), ms(3)]),
            ms(2) + ms(500) / 1000
        );
    }
}
