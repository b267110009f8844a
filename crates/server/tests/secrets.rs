//! Secrets end to end: values planted through environment variables are sealed when a seed file
//! is imported, opened only where they are used (a registry login, a container's environment), and
//! never appear in plain text: not in the database files, the server's output, the API, the
//! command line's output or an export. Also: the key file's permissions, a wrong key, key rotation
//! and seed files with mistakes.
//!
//! Like `e2e.rs`, these tests drive the real `docker-watcher` binary against the testbed's Docker
//! engine and its registry that needs a password (`cargo xtask testbed`). Each test has its own
//! data folder, project, network and port, and removes its containers and network when it ends.

mod support;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::sse::{Frame, Next};
use support::{DEPLOY_TIMEOUT, Reply, docker, docker_output, http_get, http_post, random_u64};

/// The database file in a data folder.
const DATABASE_FILE: &str = "docker-watcher.sqlite";
/// The key file in a data folder.
const KEY_FILE: &str = "secret.key";
/// What the server says when its key does not open the stored secrets.
const WRONG_KEY: &str = "the secret key does not open stored secrets";
/// How long a server may take to start listening, or to stop after SIGTERM.
const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stream may stay silent before a test gives up on it.
const STREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts at a free port when another process takes it between our probe and the bind.
const PORT_ATTEMPTS: u32 = 3;
/// The variables every process of the binary starts without, so the caller's shell cannot leak in.
const CLEARED_VARIABLES: &[&str] = &[
    "DW_SECRET_KEY",
    "DW_CONFIG",
    "DW_DATA_DIR",
    "DW_LISTEN",
    "DW_UI_DIR",
    "DOCKER_HOST",
];
/// Bytes of a WAL file's header: a WAL no longer than this holds no changes.
const WAL_HEADER_LEN: usize = 32;

// ---------------------------------------------------------------------------------------------
// The testbed and the planted secrets
// ---------------------------------------------------------------------------------------------

/// What these tests need from the testbed.
struct Testbed {
    /// The Docker engine.
    docker: String,
    /// The registry that needs a password, `127.0.0.1:PORT`, holding `private/app:v1` and `:v2`.
    auth_registry: String,
    auth_user: String,
    auth_password: String,
}

impl Testbed {
    fn get() -> Testbed {
        let auth_registry = support::testbed_var("DW_TEST_AUTH_REGISTRY");
        let addr: SocketAddr = auth_registry.parse().unwrap_or_else(|_| {
            panic!("DW_TEST_AUTH_REGISTRY={auth_registry} is not an IP:PORT address")
        });
        if let Err(error) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            panic!(
                "the test registry with a password at {auth_registry} does not answer ({error}): \
                 run `cargo xtask testbed` to start it"
            );
        }
        // Pulls from it prove that Docker Watcher passed the password: nobody gets in without.
        let anonymous = http_get(&format!("http://{auth_registry}/v2/"));
        assert_eq!(
            anonymous.status, 401,
            "the test registry at {auth_registry} should turn anonymous requests away; run \
             `cargo xtask testbed` to set it up"
        );
        Testbed {
            docker: support::docker_host(),
            auth_registry,
            auth_user: support::testbed_var("DW_TEST_AUTH_USER"),
            auth_password: support::testbed_var("DW_TEST_AUTH_PASSWORD"),
        }
    }
}

/// A secret value handed to `seed import` through an environment variable.
struct Planted {
    /// What it is, for messages (never the value).
    label: &'static str,
    /// The variable that carries it.
    variable: String,
    /// The value as planted.
    value: String,
    /// The part of the value that must never show up (the value itself, or its random part
    /// when the rest, such as a URL's scheme, is not secret).
    needle: String,
}

/// One of each kind of secret the seed format has.
struct Secrets {
    webhook: Planted,
    npm_password: Planted,
    notification_url: Planted,
    registry_password: Planted,
    app_token: Planted,
}

/// 32 random hex digits.
fn random_hex() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

impl Secrets {
    /// Fresh random values (and the testbed registry's real password), carried by variables
    /// whose names are unique to this test.
    fn plant(bed: &Testbed) -> Secrets {
        let prefix = format!("DWT_{:08X}", random_u64() as u32);
        let planted = |label, name: &str, value: String, needle: String| Planted {
            label,
            variable: format!("{prefix}_{name}"),
            value,
            needle,
        };
        let webhook = random_hex();
        let npm = random_hex();
        let hook = random_hex();
        let token = random_hex();
        Secrets {
            webhook: planted(
                "the webhook secret",
                "WEBHOOK_SECRET",
                webhook.clone(),
                webhook,
            ),
            npm_password: planted("the NPM password", "NPM_PASSWORD", npm.clone(), npm),
            notification_url: planted(
                "the notification URL",
                "NOTIFY_URL",
                format!("https://notify.invalid/hooks/{hook}"),
                hook,
            ),
            registry_password: planted(
                "the registry password",
                "REGISTRY_PASSWORD",
                bed.auth_password.clone(),
                bed.auth_password.clone(),
            ),
            app_token: planted("the secret env value", "APP_TOKEN", token.clone(), token),
        }
    }

    fn all(&self) -> [&Planted; 5] {
        [
            &self.webhook,
            &self.npm_password,
            &self.notification_url,
            &self.registry_password,
            &self.app_token,
        ]
    }

    /// The variables `seed import` needs.
    fn env(&self) -> Vec<(String, String)> {
        self.all()
            .iter()
            .map(|planted| (planted.variable.clone(), planted.value.clone()))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Looking for secrets
// ---------------------------------------------------------------------------------------------

/// Everything a test collected to search: where it came from, and its bytes.
#[derive(Default)]
struct Evidence {
    items: Vec<(String, Vec<u8>)>,
}

impl Evidence {
    fn add(&mut self, what: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.items.push((what.into(), bytes.into()));
    }

    fn add_run(&mut self, what: &str, run: &Run) {
        self.add(format!("stdout of `{what}`"), run.stdout.clone());
        self.add(format!("stderr of `{what}`"), run.stderr.clone());
    }

    fn add_reply(&mut self, what: &str, reply: &Reply) {
        let headers: String = reply
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\n"))
            .collect();
        self.add(
            format!("{what} (HTTP {})", reply.status),
            headers + &reply.body,
        );
    }

    fn add_frames(&mut self, what: &str, frames: &[Frame]) {
        let text: String = frames.iter().map(frame_text).collect();
        self.add(format!("{what} ({} frames)", frames.len()), text);
    }

    /// The database file and its -wal and -shm companions, as they are now.
    fn add_database(&mut self, when: &str, data_dir: &Path) {
        let main = data_dir.join(DATABASE_FILE);
        assert!(
            main.is_file(),
            "expected the database at {}",
            main.display()
        );
        for suffix in ["", "-wal", "-shm"] {
            let path = data_dir.join(format!("{DATABASE_FILE}{suffix}"));
            if let Ok(bytes) = std::fs::read(&path) {
                self.add(format!("{DATABASE_FILE}{suffix} {when}"), bytes);
            }
        }
    }

    /// Fails the test, naming each secret and where it was found, if any planted value appears
    /// in plain text or in base64 (as in an `X-Registry-Auth` header) in anything collected.
    fn assert_free_of(&self, secrets: &[&Planted]) {
        assert!(!self.items.is_empty(), "nothing was collected to search");
        let mut found = Vec::new();
        for planted in secrets {
            for (form, needle) in encodings(&planted.needle) {
                for (what, bytes) in &self.items {
                    if let Some(at) = find(bytes, needle.as_bytes()) {
                        found.push(format!(
                            "{} ({form}) in {what}, here: {}",
                            planted.label,
                            context(bytes, at, &needle, planted.label)
                        ));
                    }
                }
            }
        }
        found.dedup();
        assert!(
            found.is_empty(),
            "secrets appear where they must not:\n  {}",
            found.join("\n  ")
        );
    }
}

/// A frame as the text it was sent as (near enough: every field's value is there).
fn frame_text(frame: &Frame) -> String {
    let mut text = String::new();
    for (field, value) in [
        ("id", &frame.id),
        ("event", &frame.event),
        ("data", &frame.data),
    ] {
        if let Some(value) = value {
            text.push_str(&format!("{field}: {value}\n"));
        }
    }
    for comment in &frame.comments {
        text.push_str(&format!(": {comment}\n"));
    }
    text.push('\n');
    text
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The line around a finding (at most 120 bytes either side), with the secret replaced by its
/// label, so a failure shows where it leaked without repeating it.
fn context(bytes: &[u8], at: usize, needle: &str, label: &str) -> String {
    let line_start = bytes[..at]
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |newline| newline + 1);
    let line_end = bytes[at..]
        .iter()
        .position(|&byte| byte == b'\n')
        .map_or(bytes.len(), |newline| at + newline);
    let start = line_start.max(at.saturating_sub(120));
    let end = line_end.min(at + needle.len() + 120);
    String::from_utf8_lossy(&bytes[start..end])
        .replace(needle, &format!("<{label}>"))
        .escape_debug()
        .to_string()
}

/// The forms a leaked value could take: as is, and base64 (standard and URL-safe) at each of the
/// three alignments it could have inside a longer encoded text; for the latter, only the
/// characters that do not depend on the neighbouring bytes.
fn encodings(value: &str) -> Vec<(&'static str, String)> {
    let mut forms = vec![("plain text", value.to_string())];
    let bytes = value.as_bytes();
    for skip in 0..3 {
        let rest = &bytes[skip.min(bytes.len())..];
        let whole = rest.len() / 3 * 3;
        if whole < 12 {
            continue;
        }
        let standard = base64(&rest[..whole]);
        let url_safe = standard.replace('+', "-").replace('/', "_");
        if url_safe != standard {
            forms.push(("base64url", url_safe));
        }
        forms.push(("base64", standard));
    }
    forms
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |acc, (i, &byte)| {
            acc | (u32::from(byte) << (16 - 8 * i))
        });
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(
                    ALPHABET[((group >> (18 - 6 * i)) & 0x3f) as usize],
                ));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// A valid key nobody uses: base64 of 32 random bytes.
fn random_key() -> String {
    let bytes: Vec<u8> = (0..4).flat_map(|_| random_u64().to_le_bytes()).collect();
    base64(&bytes)
}

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// A finished command.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_success(&self, what: &str) -> &Run {
        assert!(
            self.status.success(),
            "`{what}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    fn assert_failure(&self, what: &str) -> &Run {
        assert!(
            !self.status.success(),
            "`{what}` should have failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The binary, with a clean environment for its own variables; `log` is `RUST_LOG` (unset: the
/// binary's default, `info`).
fn binary(dir: &Path, log: Option<&str>, env: &[(String, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docker-watcher"));
    command.current_dir(dir);
    for variable in CLEARED_VARIABLES {
        command.env_remove(variable);
    }
    match log {
        Some(level) => command.env("RUST_LOG", level),
        None => command.env_remove("RUST_LOG"),
    };
    command.envs(env.iter().map(|(key, value)| (key, value)));
    command
}

/// A `docker-watcher serve` process; killed on drop if still running.
struct Running {
    child: Child,
    addr: SocketAddr,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn output(&self) -> (String, String) {
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        (read(&self.stdout), read(&self.stderr))
    }

    fn log(&self) -> String {
        let (stdout, stderr) = self.output();
        format!("{stdout}{stderr}")
    }

    /// Waits for `/healthz` to answer 200; on failure returns the server's log.
    fn wait_until_up(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("(exited with {status})\n{}", self.log()));
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                let reply = http_get(&self.url("/healthz"));
                if reply.status == 200 {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "(not answering on {} after {START_TIMEOUT:?})\n{}",
                    self.addr,
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server the way an operator does (SIGTERM) and waits for it to exit.
    fn stop(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop within {STOP_TIMEOUT:?} of SIGTERM; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn get(&self, path: &str, evidence: &mut Evidence) -> Reply {
        let reply = http_get(&self.url(path));
        evidence.add_reply(&format!("GET {path}"), &reply);
        reply
    }

    /// `GET path`, asserting 200 and the success envelope; returns `data`.
    fn get_data(&self, path: &str, evidence: &mut Evidence) -> Value {
        let reply = self.get(path, evidence);
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
        reply.data()
    }

    fn sse(&self, path: &str, last_event_id: Option<&str>) -> support::sse::SseStream {
        support::sse::SseStream::open(self.addr, path, last_event_id)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            // Debug logs hold whole Docker answers: a line's start says enough.
            let tail: Vec<String> = lines[lines.len().saturating_sub(80)..]
                .iter()
                .map(|line| match line.char_indices().nth(300) {
                    Some((cut, _)) => format!("{}…", &line[..cut]),
                    None => line.to_string(),
                })
                .collect();
            eprintln!(
                "---- server log ({}, last {} lines) ----\n{}\n---- end of server log ----",
                self.stderr.display(),
                tail.len(),
                tail.join("\n")
            );
        }
    }
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("the system can pick a free port")
}

// ---------------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------------

/// One test's folder, project and network; removes the project's containers and the network on
/// drop, even when the test failed.
/// The NPM user the seed names.
const NPM_IDENTITY: &str = "deploy@example.com";

struct Case {
    bed: Testbed,
    project: String,
    network: String,
    /// Seed files, server logs, exports; the data folder is `data/` inside it.
    dir: tempfile::TempDir,
    /// `RUST_LOG` of every process of the binary; `None` leaves the default.
    log: Option<&'static str>,
    serves: AtomicUsize,
    /// The NPM the seed names (the test double), started with the planted password once the
    /// secrets are known: deploys log in to it and route through it.
    npm: std::sync::OnceLock<npm_double::NpmDouble>,
}

impl Case {
    fn new() -> Case {
        Case::with_log(None)
    }

    fn with_log(log: Option<&'static str>) -> Case {
        let bed = Testbed::get();
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let project = format!(
            "secrets-{}-{}-{:06x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst),
            random_u64() & 0xff_ffff
        );
        let network = format!("{project}-net");
        let dir = tempfile::Builder::new()
            .prefix("dw-secrets-")
            .tempdir()
            .expect("a temporary folder");
        Case {
            bed,
            project,
            network,
            dir,
            log,
            serves: AtomicUsize::new(0),
            npm: std::sync::OnceLock::new(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn data_dir(&self) -> PathBuf {
        self.path("data")
    }

    fn key_file(&self) -> PathBuf {
        self.data_dir().join(KEY_FILE)
    }

    /// `REGISTRY/private/app:TAG` on the registry that needs a password.
    fn image(&self, tag: &str) -> String {
        format!("{}/private/app:{tag}", self.bed.auth_registry)
    }

    /// A seed file that takes every secret from the variables of `secrets`.
    fn seed(&self, secrets: &Secrets) -> String {
        let npm = self.npm.get_or_init(|| {
            npm_double::NpmDouble::builder()
                .user(NPM_IDENTITY, &secrets.npm_password.value)
                .start()
        });
        format!(
            r#"settings:
  network: {network}
  webhook_secret_env: {webhook}
  npm:
    url: {npm_url}
    identity: {npm_identity}
    password_env: {npm}
  notifications:
    - kind: webhook
      url_env: {notification}
registries:
  private:
    url: http://{registry}
    username: {user}
    password_env: {registry_password}
projects:
  {project}:
    image: {registry}/private/app
    registry: private
    port: 8080
    health:
      path: /healthz
      interval: 300ms
      timeout: 2s
      retries: 10
    env:
      GREETING: hello
    secret_env:
      APP_TOKEN_env: {token}
    stages:
      dev:
        tag_pattern: "*"
"#,
            network = self.network,
            webhook = secrets.webhook.variable,
            npm = secrets.npm_password.variable,
            npm_url = npm.url(),
            npm_identity = NPM_IDENTITY,
            notification = secrets.notification_url.variable,
            registry = self.bed.auth_registry,
            user = self.bed.auth_user,
            registry_password = secrets.registry_password.variable,
            project = self.project,
            token = secrets.app_token.variable,
        )
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap_or_else(|error| panic!("write {name}: {error}"));
        path
    }

    /// Runs `docker-watcher ARGS` to the end.
    fn cli(&self, args: &[OsString], env: &[(String, String)]) -> Run {
        let output = binary(self.dir.path(), self.log, env)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run the docker-watcher binary");
        Run {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `docker-watcher COMMAND... --data-dir DATA` to the end.
    fn on_data_dir(&self, command: &[&str], data_dir: &Path) -> Run {
        let mut args: Vec<OsString> = command.iter().map(OsString::from).collect();
        args.extend(["--data-dir".into(), data_dir.into()]);
        self.cli(&args, &[])
    }

    /// `seed import FILE --data-dir DATA` (into `data_dir`).
    fn import(&self, file: &Path, data_dir: &Path, env: &[(String, String)]) -> Run {
        self.cli(
            &[
                "seed".into(),
                "import".into(),
                file.into(),
                "--data-dir".into(),
                data_dir.into(),
            ],
            env,
        )
    }

    /// `key rotate --data-dir DATA`, with `DW_SECRET_KEY` when given.
    fn rotate(&self, env_key: Option<&str>) -> Run {
        let env: Vec<(String, String)> = env_key
            .map(|key| ("DW_SECRET_KEY".to_string(), key.to_string()))
            .into_iter()
            .collect();
        self.cli(
            &[
                "key".into(),
                "rotate".into(),
                "--data-dir".into(),
                self.data_dir().into(),
            ],
            &env,
        )
    }

    /// Starts `serve` on a free port, with `DW_SECRET_KEY` when given (else the key file).
    fn spawn(&self, env_key: Option<&str>) -> Running {
        let n = self.serves.fetch_add(1, Ordering::SeqCst);
        let stdout = self.path(&format!("serve-{n}.stdout"));
        let stderr = self.path(&format!("serve-{n}.stderr"));
        let addr = free_addr();
        let env: Vec<(String, String)> = env_key
            .map(|key| ("DW_SECRET_KEY".to_string(), key.to_string()))
            .into_iter()
            .collect();
        let child = binary(self.dir.path(), self.log, &env)
            .arg("serve")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--docker-host")
            .arg(&self.bed.docker)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("create the stdout log"))
            .stderr(std::fs::File::create(&stderr).expect("create the stderr log"))
            .spawn()
            .expect("start the docker-watcher binary");
        Running {
            child,
            addr,
            stdout,
            stderr,
        }
    }

    /// A server that is up and answering.
    fn serve(&self, env_key: Option<&str>) -> Running {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut server = self.spawn(env_key);
            match server.wait_until_up() {
                Ok(()) => return server,
                // Another process took the port between our probe and the bind.
                Err(log) if attempt < PORT_ATTEMPTS && log.contains("in use") => {}
                Err(log) => panic!("the server did not start; its log:\n{log}"),
            }
        }
    }

    /// Starts `serve` expecting it to refuse to start: it must exit non-zero without ever
    /// accepting a connection. Returns its output.
    fn serve_refused(&self, env_key: Option<&str>) -> Run {
        let mut server = self.spawn(env_key);
        let deadline = Instant::now() + START_TIMEOUT;
        let mut listened = false;
        let status = loop {
            if let Some(status) = server.child.try_wait().expect("wait for the server") {
                break status;
            }
            listened |=
                TcpStream::connect_timeout(&server.addr, Duration::from_millis(100)).is_ok();
            assert!(
                Instant::now() < deadline,
                "the server should have refused to start but still runs after {START_TIMEOUT:?}; \
                 its log:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let (stdout, stderr) = server.output();
        assert!(
            !listened && !stderr.contains("listening on"),
            "the server listened on {} before stopping; its log:\n{stdout}{stderr}",
            server.addr
        );
        Run {
            status,
            stdout,
            stderr,
        }
    }

    /// What the data folder holds: every file with its contents, except SQLite's shared-memory
    /// index and a WAL without changes, which opening the database may leave behind.
    fn data_files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(self.data_dir()).expect("read the data folder") {
            let entry = entry.expect("a folder entry");
            if !entry.file_type().expect("a file type").is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(entry.path()).expect("read a data file");
            let unchanged_wal = name.ends_with("-wal") && bytes.len() <= WAL_HEADER_LEN;
            if name.ends_with("-shm") || unchanged_wal {
                continue;
            }
            files.insert(name, bytes);
        }
        files
    }

    fn key_text(&self) -> String {
        std::fs::read_to_string(self.key_file()).expect("read the key file")
    }

    fn key_mode(&self) -> u32 {
        std::fs::metadata(self.key_file())
            .expect("the key file exists")
            .permissions()
            .mode()
            & 0o7777
    }

    /// Imports the standard seed into the data folder; returns the planted secrets.
    fn import_seed(&self, evidence: &mut Evidence) -> Secrets {
        let secrets = Secrets::plant(&self.bed);
        let seed = self.write("seed.yaml", &self.seed(&secrets));
        let run = self.import(&seed, &self.data_dir(), &secrets.env());
        run.assert_success("seed import");
        evidence.add_run("seed import", &run);
        secrets
    }

    /// Sends the webhook for `tag`, waits for the deploy, asserts it succeeded and that the new
    /// instance runs `tag` with the planted secret in its environment; returns the deploy id.
    fn deploy(
        &self,
        server: &Running,
        secrets: &Secrets,
        tag: &str,
        evidence: &mut Evidence,
    ) -> i64 {
        let body = serde_json::json!({ "image": self.image(tag) }).to_string();
        let url = server.url(&format!("/api/webhook/{}", secrets.webhook.value));
        let reply = http_post(&url, Some("application/json"), body.as_bytes());
        evidence.add_reply("POST /api/webhook/…", &reply);
        assert_eq!(
            reply.status, 202,
            "the webhook should queue a deploy: {}",
            reply.body
        );
        let deploys = reply.data()["deploys"].clone();
        assert_eq!(
            deploys.as_array().map(Vec::len),
            Some(1),
            "one deploy: {}",
            reply.body
        );
        let id = deploys[0]["id"].as_i64().expect("a deploy id");

        let deadline = Instant::now() + DEPLOY_TIMEOUT;
        let deploy = loop {
            let deploy = server.get_data(&format!("/api/deploys/{id}"), evidence);
            if matches!(
                deploy["status"].as_str(),
                Some("succeeded" | "failed" | "interrupted")
            ) {
                break deploy;
            }
            assert!(
                Instant::now() < deadline,
                "deploy {id} did not finish within {DEPLOY_TIMEOUT:?}: {deploy:#}"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(
            deploy["status"], "succeeded",
            "the deploy from the registry that needs a password should succeed: {deploy:#}"
        );

        let projects = server.get_data("/api/projects", evidence);
        let project = projects
            .as_array()
            .and_then(|projects| projects.iter().find(|p| p["name"] == self.project.as_str()))
            .unwrap_or_else(|| panic!("project {} in {projects:#}", self.project))
            .clone();
        let instance = project["instances"]
            .as_array()
            .and_then(|instances| instances.iter().find(|i| i["deploy_id"] == id))
            .unwrap_or_else(|| panic!("an instance of deploy {id} in {project:#}"))
            .clone();
        assert_eq!(instance["status"], "running", "{instance:#}");
        let address = instance["address"].as_str().expect("an address");
        let version = http_get(&format!("{address}/version"));
        assert_eq!(
            version.status, 200,
            "GET {address}/version: {}",
            version.body
        );
        assert_eq!(version.body.trim(), tag, "the instance runs the pushed tag");

        let container = instance["container_name"].as_str().expect("a container");
        let env: Vec<String> = serde_json::from_str(&docker(
            &self.bed.docker,
            &["inspect", "-f", "{{json .Config.Env}}", container],
        ))
        .expect("the container's environment as JSON");
        let token = format!("APP_TOKEN={}", secrets.app_token.value);
        assert!(
            env.contains(&token),
            "the container should get APP_TOKEN from secret_env; its variables are {:?}",
            env.iter()
                .map(|entry| entry.split('=').next().unwrap_or_default())
                .collect::<Vec<_>>()
        );
        assert!(env.contains(&"GREETING=hello".to_string()), "{env:?}");
        id
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        // Never panic here: a panic while unwinding would abort every other test.
        let filter = format!("label=docker-watcher.project={}", self.project);
        let listed = docker_output(&self.bed.docker, &["ps", "-aq", "--filter", &filter]);
        let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.iter().map(String::as_str));
            let _ = docker_output(&self.bed.docker, &args);
        }
        let _ = docker_output(&self.bed.docker, &["network", "rm", &self.network]);
    }
}

/// Reads a stream until it has been quiet for `quiet` (or has ended).
fn read_while_busy(stream: &mut support::sse::SseStream, quiet: Duration) -> Vec<Frame> {
    let mut frames = Vec::new();
    let cap = Instant::now() + STREAM_TIMEOUT;
    while Instant::now() < cap {
        match stream.next(quiet) {
            Next::Frame(frame) => frames.push(frame),
            Next::End | Next::TimedOut => break,
        }
    }
    frames
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[test]
fn planted_secrets_never_appear_in_plain_text() {
    secrets_stay_hidden(None);
}

/// Operators turn on debug logs to see why a deploy fails: secrets must stay out of them too.
#[test]
fn planted_secrets_stay_out_of_debug_logs() {
    secrets_stay_hidden(Some("debug"));
}

/// Plants a secret of each kind, imports, serves, deploys from the registry that needs a
/// password, reads every endpoint, stops, exports, then looks for the secrets everywhere.
fn secrets_stay_hidden(log: Option<&'static str>) {
    let case = Case::with_log(log);
    let mut evidence = Evidence::default();
    let secrets = case.import_seed(&mut evidence);
    let seed_text = std::fs::read_to_string(case.path("seed.yaml")).expect("the seed file");
    let mut seed_evidence = Evidence::default();
    seed_evidence.add("the seed file", seed_text);
    seed_evidence.assert_free_of(&secrets.all());

    let mut server = case.serve(None);
    // Opened before the deploy, so it carries the deploy's events live.
    let mut events = server.sse("/api/events", None);
    assert_eq!(events.status, 200);
    let id = case.deploy(&server, &secrets, "v1", &mut evidence);

    // Every endpoint, read after the deploy.
    server.get_data("/healthz", &mut evidence);
    let deploys = server.get_data("/api/deploys", &mut evidence);
    assert!(
        deploys
            .as_array()
            .is_some_and(|deploys| deploys.iter().any(|deploy| deploy["id"] == id)),
        "deploy {id} in {deploys:#}"
    );
    server.get_data(&format!("/api/deploys/{id}"), &mut evidence);
    let registries = server.get_data("/api/registries", &mut evidence);
    assert!(
        registries.to_string().contains("\"private\""),
        "the registry in {registries:#}"
    );
    let mut logs = server.sse(&format!("/api/deploys/{id}/logs"), None);
    assert_eq!(logs.status, 200);
    let log_frames = logs.collect_to_end(STREAM_TIMEOUT);
    let log_text: String = log_frames.iter().map(frame_text).collect();
    assert!(
        log_text.contains(&format!("pulling as {}", case.bed.auth_user)),
        "the deploy log should say it pulled with credentials:\n{log_text}"
    );
    evidence.add_frames(&format!("GET /api/deploys/{id}/logs"), &log_frames);
    let live = read_while_busy(&mut events, Duration::from_millis(1500));
    assert!(
        live.iter().any(|frame| frame.event.is_some()),
        "the event stream should have carried the deploy: {live:#?}"
    );
    evidence.add_frames("GET /api/events (live)", &live);
    let mut replay = server.sse("/api/events", Some("0"));
    assert_eq!(replay.status, 200);
    let replayed = read_while_busy(&mut replay, Duration::from_millis(1000));
    evidence.add_frames("GET /api/events (Last-Event-ID: 0)", &replayed);
    drop(events);
    drop(replay);
    drop(logs);

    evidence.add_database("while serving", &case.data_dir());
    let status = server.stop();
    assert!(
        status.success(),
        "the server should stop cleanly on SIGTERM ({status}); its log:\n{}",
        server.log()
    );
    let (stdout, stderr) = server.output();
    assert!(
        stderr.contains("listening on"),
        "expected the server's log in its stderr:\n{stderr}"
    );
    evidence.add("the server's stdout", stdout);
    evidence.add("the server's stderr", stderr);
    evidence.add_database("after the server stopped", &case.data_dir());

    // The export refers to every secret by its variable's name.
    let data_dir = case.data_dir();
    let export = case.on_data_dir(&["seed", "export"], &data_dir);
    export.assert_success("seed export");
    evidence.add_run("seed export", &export);
    let export_file = case.path("export.yaml");
    let to_file = case.cli(
        &[
            "seed".into(),
            "export".into(),
            "--data-dir".into(),
            data_dir.into(),
            "--output".into(),
            export_file.clone().into(),
        ],
        &[],
    );
    to_file.assert_success("seed export --output");
    evidence.add_run("seed export --output", &to_file);
    let exported = std::fs::read_to_string(&export_file).expect("the exported file");
    evidence.add("the exported file", exported.clone());
    assert_eq!(
        exported, export.stdout,
        "--output should write what standard output gets"
    );
    for (key, planted) in [
        ("webhook_secret_env", &secrets.webhook),
        ("password_env", &secrets.npm_password),
        ("url_env", &secrets.notification_url),
        ("password_env", &secrets.registry_password),
        ("APP_TOKEN_env", &secrets.app_token),
    ] {
        assert!(
            exported.contains(&format!("{key}: {}", planted.variable)),
            "the export should refer to {} as `{key}: {}`:\n{exported}",
            planted.label,
            planted.variable
        );
    }
    // ... and imports again elsewhere with the same variables.
    let again = case.import(&export_file, &case.path("data-again"), &secrets.env());
    again.assert_success("seed import of the export");
    evidence.add_run("seed import of the export", &again);
    evidence.add_database("imported from the export", &case.path("data-again"));

    evidence.assert_free_of(&secrets.all());
    // The database keeps the variables' names (so the search above did read it).
    let mut database = Vec::new();
    for (what, bytes) in &evidence.items {
        if what.starts_with(DATABASE_FILE) {
            database.extend_from_slice(bytes);
        }
    }
    for planted in secrets.all() {
        assert!(
            contains(&database, planted.variable.as_bytes()),
            "the database should name the variable of {}",
            planted.label
        );
    }
}

#[test]
fn the_key_file_is_private_and_a_wrong_key_stops_the_server() {
    let case = Case::new();
    let mut evidence = Evidence::default();
    let secrets = case.import_seed(&mut evidence);
    assert_eq!(case.key_mode(), 0o600, "the key file made by the import");

    let mut server = case.serve(None);
    let status = server.stop();
    assert!(status.success(), "stop: {status}\n{}", server.log());
    assert_eq!(case.key_mode(), 0o600, "the key file after a start");
    let (stdout, stderr) = server.output();
    evidence.add("the server's output", stdout + &stderr);

    // Another valid key: refused before the server listens, and nothing is written.
    let before = case.data_files();
    let other_key = random_key();
    assert_ne!(other_key, case.key_text().trim());
    let refused = case.serve_refused(Some(&other_key));
    refused.assert_failure("serve with another key");
    assert!(
        refused.stderr.contains(WRONG_KEY),
        "expected {WRONG_KEY:?} in:\n{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains(&other_key) && !refused.stdout.contains(&other_key),
        "the key must not be printed"
    );
    evidence.add_run("serve with another key", &refused);
    assert!(
        case.data_files() == before,
        "a start with the wrong key changed the data folder: {:?} before, {:?} after",
        before.keys().collect::<Vec<_>>(),
        case.data_files().keys().collect::<Vec<_>>()
    );

    // A key file that others may read is refused too.
    let key_file = case.key_file();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644))
        .expect("chmod the key file");
    let open = case.serve_refused(None);
    open.assert_failure("serve with a key file of mode 0644");
    assert!(
        open.stderr.contains("chmod 600"),
        "expected the fix in:\n{}",
        open.stderr
    );
    evidence.add_run("serve with a key file of mode 0644", &open);
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))
        .expect("chmod the key file back");
    assert!(
        case.data_files() == before,
        "a refused start changed the data folder"
    );
    let mut server = case.serve(None);
    server.stop();

    evidence.assert_free_of(&secrets.all());
}

#[test]
fn rotation_re_seals_everything_and_the_old_key_stops_working() {
    let case = Case::new();
    let mut evidence = Evidence::default();
    let secrets = case.import_seed(&mut evidence);
    let old_key = case.key_text();

    let rotated = case.rotate(None);
    rotated.assert_success("key rotate");
    evidence.add_run("key rotate", &rotated);
    assert!(
        rotated.stderr.contains("re-sealed 5 secret(s)"),
        "all five planted secrets should be re-sealed:\n{}",
        rotated.stderr
    );
    let new_key = case.key_text();
    assert_ne!(new_key.trim(), old_key.trim(), "the key file should change");
    assert_eq!(case.key_mode(), 0o600, "the new key file");
    for key in [&old_key, &new_key] {
        assert!(
            !rotated.stdout.contains(key.trim()) && !rotated.stderr.contains(key.trim()),
            "a key rotated in its file is never printed"
        );
    }
    let leftovers: Vec<String> = case
        .data_files()
        .into_keys()
        .filter(|name| name.starts_with("secret.key") || name.starts_with(".secret.key"))
        .filter(|name| name != KEY_FILE)
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");

    // The new key opens everything: the registry password and the secret variable work.
    let mut server = case.serve(None);
    case.deploy(&server, &secrets, "v2", &mut evidence);
    let status = server.stop();
    assert!(status.success(), "stop: {status}\n{}", server.log());
    let (stdout, stderr) = server.output();
    evidence.add("the server's output", stdout + &stderr);

    // The old key opens nothing any more.
    let before = case.data_files();
    let refused = case.serve_refused(Some(old_key.trim()));
    refused.assert_failure("serve with the old key");
    assert!(
        refused.stderr.contains(WRONG_KEY),
        "expected {WRONG_KEY:?} in:\n{}",
        refused.stderr
    );
    evidence.add_run("serve with the old key", &refused);
    assert!(
        case.data_files() == before,
        "a refused start changed the data folder"
    );

    evidence.add_database("after rotation", &case.data_dir());
    evidence.assert_free_of(&secrets.all());
}

#[test]
fn rotation_with_the_key_in_the_environment_prints_the_new_key_once() {
    let case = Case::new();
    let secrets = Secrets::plant(&case.bed);
    let mut evidence = Evidence::default();
    let old_key = random_key();
    let seed = case.write("seed.yaml", &case.seed(&secrets));
    let mut env = secrets.env();
    env.push(("DW_SECRET_KEY".into(), old_key.clone()));
    let import = case.import(&seed, &case.data_dir(), &env);
    import.assert_success("seed import with DW_SECRET_KEY");
    evidence.add_run("seed import", &import);
    assert!(
        !case.key_file().exists(),
        "with DW_SECRET_KEY set, no key file is written"
    );

    let rotated = case.rotate(Some(&old_key));
    rotated.assert_success("key rotate with DW_SECRET_KEY");
    let new_key = rotated.stdout.trim().to_string();
    assert_eq!(
        rotated.stdout.lines().count(),
        1,
        "the new key, alone on standard output:\n{}",
        rotated.stdout
    );
    assert_eq!(new_key.len(), 44, "base64 of 32 bytes: {new_key:?}");
    assert_ne!(new_key, old_key);
    assert!(
        !rotated.stderr.contains(&new_key) && !rotated.stderr.contains(&old_key),
        "keys belong on standard output only, once:\n{}",
        rotated.stderr
    );
    assert!(!case.key_file().exists(), "no key file appears");
    evidence.add("stderr of `key rotate`", rotated.stderr.clone());

    let mut server = case.serve(Some(&new_key));
    let status = server.stop();
    assert!(status.success(), "stop: {status}\n{}", server.log());
    evidence.add("the server's output", server.log());
    let refused = case.serve_refused(Some(&old_key));
    refused.assert_failure("serve with the old key");
    assert!(
        refused.stderr.contains(WRONG_KEY),
        "expected {WRONG_KEY:?} in:\n{}",
        refused.stderr
    );
    evidence.add_run("serve with the old key", &refused);
    evidence.add_database("after rotation", &case.data_dir());
    evidence.assert_free_of(&secrets.all());
}

#[test]
fn bad_seed_files_leave_the_database_untouched() {
    let case = Case::new();
    let mut evidence = Evidence::default();
    let secrets = Secrets::plant(&case.bed);
    let project = &case.project;
    let registry = &case.bed.auth_registry;
    let unset = format!("{}_NOT_SET", secrets.webhook.variable);
    // Secrets that are wrong must be reported without being repeated.
    let short_secret = format!("short!{}", &random_hex()[..8]);
    let ftp_url = format!("ftp://notify.invalid/{}", random_hex());
    let bad_seed = format!(
        r#"settings:
  colour: blue
  webhook_secret_env: SHORT_{webhook}
  notifications:
    - kind: pager
      url_env: FTP_{notification}
registries:
  private:
    url: ftp://{registry}
    username: someone
projects:
  {project}:
    image: {registry}/private/app
    registry: nowhere
    port: 70000
    health:
      interval: 5 sec
    secret_env:
      APP_TOKEN_env: {unset}
    stages:
      dev:
        tag_pattern: "[a"
"#,
        webhook = secrets.webhook.variable,
        notification = secrets.notification_url.variable,
    );
    let bad = case.write("bad.yaml", &bad_seed);
    let env = vec![
        (
            format!("SHORT_{}", secrets.webhook.variable),
            short_secret.clone(),
        ),
        (
            format!("FTP_{}", secrets.notification_url.variable),
            ftp_url.clone(),
        ),
    ];
    let run = case.import(&bad, &case.data_dir(), &env);
    run.assert_failure("seed import of a bad file");
    evidence.add_run("seed import of a bad file", &run);
    for path in [
        "settings.colour".to_string(),
        "settings.webhook_secret_env".to_string(),
        "settings.notifications[0].kind".to_string(),
        "settings.notifications[0].url_env".to_string(),
        "registries.private.url".to_string(),
        "registries.private.username".to_string(),
        format!("projects.{project}.registry"),
        format!("projects.{project}.port"),
        format!("projects.{project}.health.interval"),
        format!("projects.{project}.secret_env.APP_TOKEN_env"),
        format!("projects.{project}.stages.dev.tag_pattern"),
    ] {
        assert!(
            run.stderr.contains(&format!("{path}: ")),
            "expected a problem at {path} in:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("has 11 problem(s)"),
        "expected the problems counted:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&unset),
        "the unset variable should be named:\n{}",
        run.stderr
    );
    let wrong_values = [
        &Planted {
            label: "the too short webhook secret",
            variable: String::new(),
            value: short_secret.clone(),
            needle: short_secret,
        },
        &Planted {
            label: "the ftp notification URL",
            variable: String::new(),
            value: ftp_url.clone(),
            needle: ftp_url,
        },
    ];
    evidence.assert_free_of(&wrong_values);

    // Nothing was written: the good file goes into what is still an empty database.
    let seed = case.write("seed.yaml", &case.seed(&secrets));
    let good = case.import(&seed, &case.data_dir(), &secrets.env());
    good.assert_success("seed import of a good file after a bad one");
    evidence.add_run("seed import of a good file", &good);

    // A configured database is not imported into again.
    let before = case.data_files();
    let again = case.import(&seed, &case.data_dir(), &secrets.env());
    again.assert_failure("seed import into a configured database");
    assert!(
        again.stderr.contains("already holds a configuration"),
        "expected a clear refusal:\n{}",
        again.stderr
    );
    evidence.add_run("seed import into a configured database", &again);
    assert!(
        case.data_files() == before,
        "a refused import changed the data folder"
    );
    evidence.assert_free_of(&secrets.all());
}

#[test]
fn a_missing_or_broken_seed_file_on_a_first_start_creates_no_data_folder() {
    let case = Case::new();
    let missing = case.path("missing.yaml");
    let broken = case.write("broken.yaml", "projects: [this is not a map\n");
    for file in [&missing, &broken] {
        let serve = case.cli(
            &[
                "serve".into(),
                "--config".into(),
                file.into(),
                "--data-dir".into(),
                case.data_dir().into(),
                "--listen".into(),
                free_addr().to_string().into(),
                "--docker-host".into(),
                case.bed.docker.clone().into(),
            ],
            &[],
        );
        serve.assert_failure("serve with a seed file it cannot read");
        let import = case.import(file, &case.data_dir(), &[]);
        import.assert_failure("seed import of a file it cannot read");
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for run in [&serve, &import] {
            assert!(
                run.stderr.contains(&name),
                "the error names the file {name}:\n{}",
                run.stderr
            );
        }
        assert!(
            !case.data_dir().exists(),
            "a failed first start left a data folder (and a key) behind"
        );
    }
}

#[test]
fn one_process_at_a_time_writes_a_data_folder() {
    let case = Case::new();
    let mut evidence = Evidence::default();
    let secrets = case.import_seed(&mut evidence);
    let server = case.serve(None);
    let key_before = case.key_text();

    // A second server on the same folder stops before it touches the engine or the database.
    let second = case.serve_refused(None);
    second.assert_failure("a second server on the same data folder");
    for run in [&second, &case.rotate(None)] {
        assert!(
            run.stderr
                .contains("is held by another docker-watcher process"),
            "expected the busy folder named:\n{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("interrupted"),
            "a refused process cleaned up after the running server:\n{}",
            run.stderr
        );
    }
    assert_eq!(
        case.key_text(),
        key_before,
        "a refused rotation changed the key"
    );

    // Reading beside the running server is fine.
    let export = case.on_data_dir(&["seed", "export"], &case.data_dir());
    export.assert_success("seed export beside a running server");
    assert!(export.stdout.contains(&case.project), "{}", export.stdout);

    // A server that cannot take its port stops before it builds anything on the engine.
    let busy_port = case.cli(
        &[
            "serve".into(),
            "--data-dir".into(),
            case.path("other-data").into(),
            "--listen".into(),
            server.addr.to_string().into(),
            "--docker-host".into(),
            case.bed.docker.clone().into(),
        ],
        &[],
    );
    busy_port.assert_failure("serve on a port in use");
    assert!(
        busy_port
            .stderr
            .contains(&format!("cannot listen on {}", server.addr))
            && !busy_port.stderr.contains("Nginx Proxy Manager"),
        "expected a refusal before the deployer was built:\n{}",
        busy_port.stderr
    );
    assert_eq!(http_get(&server.url("/healthz")).status, 200);

    // Once the server has stopped, the folder is free again.
    let mut server = server;
    assert!(server.stop().success(), "{}", server.log());
    case.rotate(None)
        .assert_success("key rotate after the server stopped");
    assert_ne!(case.key_text(), key_before);
    evidence.add_run("seed export beside a running server", &export);
    evidence.assert_free_of(&secrets.all());
}

#[test]
fn commands_on_a_folder_without_a_database_create_nothing() {
    let case = Case::new();
    let nowhere = case.path("mistyped-data-dir");
    let export = case.on_data_dir(&["seed", "export"], &nowhere);
    let rotate = case.on_data_dir(&["key", "rotate"], &nowhere);
    for (what, run) in [("seed export", &export), ("key rotate", &rotate)] {
        run.assert_failure(what);
        assert!(
            run.stderr
                .contains(&format!("no database in {}", nowhere.display())),
            "{what}: expected the missing database named:\n{}",
            run.stderr
        );
    }
    assert!(!nowhere.exists(), "a command created {}", nowhere.display());
}
