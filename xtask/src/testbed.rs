//! `cargo xtask testbed`: the services the tests talk to, installed and started on demand.
//!
//! Every piece is checked first and only installed, started or built when missing, so it
//! is cheap to run before each test run. Services are started detached and keep running
//! after xtask exits; later runs reuse them. State lives in `target/testbed/`:
//!
//! - `dockerd.log`: output of a dockerd we started, and `dockerd/pid`
//! - `registry/`: config.yml, data/, `port` and `pid` of the running registry, registry.log
//! - `auth-registry/`: the same for a registry that only lets [`AUTH_USER`] in, plus its
//!   `password` (generated once, mode 0600) and the bcrypt `htpasswd` file made from it
//! - `image-<tag>/`: build context of each test image
//! - `env`: the `KEY=VALUE` lines that tell tests where everything is (mode 0600: it holds the
//!   password of the auth registry)
//!
//! `cargo xtask testbed stop` stops what the pid files name (see [`crate::testbed_stop`]).

use std::{
    fs::{self, File, OpenOptions, TryLockError},
    io::{self, Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::Path,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::{Result, shell};

/// Debian packages the tests need: nginx and chromium are run by the tests themselves.
const PACKAGES: &[&str] = &[
    "docker.io",
    "docker-registry",
    "nginx",
    "chromium",
    "busybox-static",
    // htpasswd, for the auth registry's bcrypt password file.
    "apache2-utils",
];

const DOCKER_HOST: &str = "unix:///var/run/docker.sock";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Local repository holding the test images; nothing can be pulled, so they are built here.
const IMAGE: &str = "dw-testbed/app";

/// One tag of [`IMAGE`]: whether it answers `/healthz`, the `CMD` it runs and its
/// `HEALTHCHECK` line (empty for none).
struct TestImage {
    tag: &'static str,
    healthy: bool,
    cmd: &'static str,
    healthcheck: &'static str,
}

/// The tags of [`IMAGE`]: `unhealthy` serves but its `/healthz` stays 404, `crashing` exits
/// with code 3 right after it starts, having written a line to stderr. `healthcheck` serves
/// like v1 with a Docker HEALTHCHECK that passes; `sick` serves too, but its HEALTHCHECK fails,
/// printing `database unreachable`. The others have no HEALTHCHECK.
const TAGS: &[TestImage] = &[
    TestImage {
        tag: "v1",
        healthy: true,
        cmd: SERVE,
        healthcheck: "",
    },
    TestImage {
        tag: "v2",
        healthy: true,
        cmd: SERVE,
        healthcheck: "",
    },
    TestImage {
        tag: "unhealthy",
        healthy: false,
        cmd: SERVE,
        healthcheck: "",
    },
    TestImage {
        tag: "crashing",
        healthy: false,
        cmd: CRASH,
        healthcheck: "",
    },
    TestImage {
        tag: "healthcheck",
        healthy: true,
        cmd: SERVE,
        healthcheck: HEALTHCHECK_PASSES,
    },
    TestImage {
        tag: "sick",
        healthy: true,
        cmd: SERVE,
        healthcheck: HEALTHCHECK_FAILS,
    },
];

/// A tiny web server: `/version` returns the tag, `/healthz` returns `ok` when present.
/// `{cmd}` is replaced by the image's `CMD`, `{healthcheck}` by its `HEALTHCHECK` line.
const DOCKERFILE: &str = r#"FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY www /www
EXPOSE 8080
{healthcheck}
CMD {cmd}
"#;

/// Asks the server for `/healthz` every second (not the engine's default 30 s, so tests wait
/// seconds): healthy after the first run once the server answers.
const HEALTHCHECK_PASSES: &str = r#"HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]"#;

/// Fails every second, saying why; unhealthy after two runs.
const HEALTHCHECK_FAILS: &str = r#"HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["sh", "-c", "echo database unreachable; exit 1"]"#;

/// Serves `/www` on port 8080.
const SERVE: &str = r#"["httpd", "-f", "-p", "8080", "-h", "/www"]"#;

/// Fails the way a misconfigured app does: a line on stdout, the cause on stderr, exit code 3.
const CRASH: &str =
    r#"["sh", "-c", "echo starting; echo cannot open /data/db: permission denied >&2; exit 3"]"#;

/// Host busybox (from busybox-static, so it runs in an empty image).
const BUSYBOX: &str = "/bin/busybox";

/// The one user of the auth registry.
const AUTH_USER: &str = "dw-test";
/// The realm of the auth registry's Basic challenge.
const AUTH_REALM: &str = "docker-watcher-test";
/// Repository the test image is pushed to on the auth registry (tags [`AUTH_TAGS`]).
const AUTH_REPOSITORY: &str = "private/app";
/// Tags of [`IMAGE`] pushed to the auth registry.
const AUTH_TAGS: &[&str] = &["v1", "v2"];
/// Random bytes in a generated password (written as hex).
const PASSWORD_BYTES: usize = 24;

/// Where the auth registry is and how to get in.
struct AuthRegistry {
    /// `127.0.0.1:PORT`.
    addr: String,
    password: String,
}

/// Makes sure everything is installed and running, writes `target/testbed/env`, and
/// returns its variables so tasks can pass them to child processes.
pub fn ensure(root: &Path) -> Result<Vec<(&'static str, String)>> {
    let dir = crate::target_dir(root).join("testbed");
    create_dir(&dir)?;
    // Two checkouts' worth of `cargo xtask test` at once would otherwise race to start
    // two registries and run apt twice.
    let _lock = lock(&dir.join("lock"))?;

    install_packages()?;
    start_docker(&dir)?;
    let registry = start_registry(&dir.join("registry"))?;
    let auth_registry = start_auth_registry(&dir.join("auth-registry"))?;
    build_images(&dir)?;
    push_images(&registry)?;
    push_private_images(&auth_registry)?;

    let vars = env_vars(&registry, &auth_registry);
    let env_file = dir.join("env");
    let contents: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    write_private_file(&env_file, &contents)?;
    // The password stays in the file: logs of test runs do not need it.
    let shown: String = vars
        .iter()
        .map(|(k, v)| match *k {
            "DW_TEST_AUTH_PASSWORD" => format!("{k}=(in the file)\n"),
            _ => format!("{k}={v}\n"),
        })
        .collect();
    print!("testbed ready ({}):\n{shown}", env_file.display());
    Ok(vars)
}

fn env_vars(registry: &str, auth_registry: &AuthRegistry) -> Vec<(&'static str, String)> {
    vec![
        ("DW_TEST_REGISTRY", registry.to_owned()),
        ("DW_TEST_IMAGE", IMAGE.to_owned()),
        ("DW_TEST_DOCKER_HOST", DOCKER_HOST.to_owned()),
        ("DW_CHROMIUM", CHROMIUM.to_owned()),
        ("DW_TEST_AUTH_REGISTRY", auth_registry.addr.clone()),
        ("DW_TEST_AUTH_USER", AUTH_USER.to_owned()),
        ("DW_TEST_AUTH_PASSWORD", auth_registry.password.clone()),
    ]
}

fn lock(path: &Path) -> Result<File> {
    let file = File::create(path).map_err(|err| format!("{}: {err}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            println!("waiting for another `cargo xtask testbed` to finish");
            file.lock()?;
        }
        Err(TryLockError::Error(err)) => return Err(format!("{}: {err}", path.display()).into()),
    }
    Ok(file)
}

fn install_packages() -> Result<()> {
    let mut missing = Vec::new();
    for &package in PACKAGES {
        if !is_installed(package)? {
            missing.push(package);
        }
    }
    if missing.is_empty() {
        println!("packages: all installed");
        return Ok(());
    }
    println!("packages: installing {}", missing.join(" "));
    shell::run(Command::new("apt-get").arg("update"))?;
    shell::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y"])
            .args(&missing),
    )
}

fn is_installed(package: &str) -> Result<bool> {
    let out = Command::new("dpkg")
        .args(["-s", package])
        .output()
        .map_err(|err| {
            format!("cannot run `dpkg -s {package}` (the testbed needs Debian): {err}")
        })?;
    // A removed package whose config files remain still exits 0, so read its status.
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(out.status.success() && stdout.lines().any(|l| l == "Status: install ok installed"))
}

fn docker_running() -> bool {
    shell::succeeds(Command::new("docker").arg("info"))
}

fn start_docker(dir: &Path) -> Result<()> {
    if docker_running() {
        println!("docker: engine running");
        return Ok(());
    }
    let log = dir.join("dockerd.log");
    let mut dockerd = shell::spawn_detached(&mut Command::new("dockerd"), &log)?;
    wait_until(
        "dockerd",
        Duration::from_secs(60),
        &mut dockerd,
        &log,
        docker_running,
    )?;
    crate::testbed_stop::record(&dir.join("dockerd"), &dockerd)?;
    println!("docker: engine started");
    Ok(())
}

/// The open registry's `host:port`, for tasks that need only it: the running one, or, when none
/// answers, the one [`ensure`] starts (bringing up the rest of the testbed and rewriting `env`,
/// so that tests find the new port too).
#[cfg(feature = "bench")]
pub(crate) fn registry(root: &Path) -> Result<String> {
    let dir = crate::target_dir(root).join("testbed").join("registry");
    if let Ok(Some(port)) = running_registry(&dir) {
        println!("registry: running on 127.0.0.1:{port}");
        return Ok(format!("127.0.0.1:{port}"));
    }
    ensure(root)?
        .into_iter()
        .find(|(key, _)| *key == "DW_TEST_REGISTRY")
        .map(|(_, value)| value)
        .ok_or_else(|| "the testbed did not report its registry".into())
}

/// The port of the open registry in `dir` when it answers; `Err` holds the port it had
/// recorded when that one no longer does.
fn running_registry(dir: &Path) -> Result<Option<u16>, u16> {
    let Some(port) = fs::read_to_string(dir.join("port"))
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
    else {
        return Ok(None);
    };
    if http_status(port, "/v2/") == Some(200) {
        Ok(Some(port))
    } else {
        Err(port)
    }
}

/// Returns the registry's `host:port`.
fn start_registry(dir: &Path) -> Result<String> {
    let port_file = dir.join("port");
    match running_registry(dir) {
        Ok(Some(port)) => {
            println!("registry: running on 127.0.0.1:{port}");
            return Ok(format!("127.0.0.1:{port}"));
        }
        Ok(None) => {}
        Err(port) => {
            println!("registry: nothing answers on port {port} any more, starting a new one")
        }
    }
    // Only a registry known to answer gets a port file.
    let _ = fs::remove_file(&port_file);

    let data = dir.join("data");
    create_dir(&data)?;
    let port = free_port()?;
    let config = dir.join("config.yml");
    write_file(
        &config,
        &format!(
            "version: 0.1\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            data.display()
        ),
    )?;

    let log = dir.join("registry.log");
    let mut registry = shell::spawn_detached(
        Command::new("docker-registry").arg("serve").arg(&config),
        &log,
    )?;
    wait_until(
        "docker-registry",
        Duration::from_secs(30),
        &mut registry,
        &log,
        || http_status(port, "/v2/") == Some(200),
    )?;
    crate::testbed_stop::record(dir, &registry)?;
    write_file(&port_file, &format!("{port}\n"))?;
    println!("registry: started on 127.0.0.1:{port}");
    Ok(format!("127.0.0.1:{port}"))
}

/// Starts (or finds running) the registry that needs [`AUTH_USER`] and its password, and returns
/// where it is. The password is generated on first use and kept in `dir/password`.
fn start_auth_registry(dir: &Path) -> Result<AuthRegistry> {
    create_dir(dir)?;
    let password = load_or_create_password(&dir.join("password"))?;
    let htpasswd = dir.join("htpasswd");
    ensure_htpasswd(&htpasswd, &password)?;
    let authorization = format!(
        "Basic {}",
        base64(format!("{AUTH_USER}:{password}").as_bytes())
    );
    // Anonymous requests are turned away with a Basic challenge, ours are let in.
    let answers = |port: u16| {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let timeout = Duration::from_secs(2);
        let anonymous = http_request(addr, "GET", "/v2/", None, None, timeout);
        let challenged = anonymous.is_ok_and(|response| {
            response.status == 401
                && response
                    .header("www-authenticate")
                    .is_some_and(|value| value.starts_with("Basic"))
        });
        challenged
            && http_request(addr, "GET", "/v2/", None, Some(&authorization), timeout)
                .is_ok_and(|response| response.status == 200)
    };

    let port_file = dir.join("port");
    if let Some(port) = fs::read_to_string(&port_file)
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
    {
        if answers(port) {
            println!("auth registry: running on 127.0.0.1:{port}");
            return Ok(AuthRegistry {
                addr: format!("127.0.0.1:{port}"),
                password,
            });
        }
        println!(
            "auth registry: no registry taking {AUTH_USER}'s password answers on port {port} \
             any more, starting a new one"
        );
    }
    let _ = fs::remove_file(&port_file);

    let data = dir.join("data");
    create_dir(&data)?;
    let port = free_port()?;
    let config = dir.join("config.yml");
    write_file(
        &config,
        &format!(
            "version: 0.1\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n\
             auth:\n  htpasswd:\n    realm: {AUTH_REALM}\n    path: {}\n",
            data.display(),
            htpasswd.display()
        ),
    )?;
    let log = dir.join("registry.log");
    let mut registry = shell::spawn_detached(
        Command::new("docker-registry").arg("serve").arg(&config),
        &log,
    )?;
    wait_until(
        "docker-registry (auth)",
        Duration::from_secs(30),
        &mut registry,
        &log,
        || answers(port),
    )?;
    crate::testbed_stop::record(dir, &registry)?;
    write_file(&port_file, &format!("{port}\n"))?;
    println!("auth registry: started on 127.0.0.1:{port}");
    Ok(AuthRegistry {
        addr: format!("127.0.0.1:{port}"),
        password,
    })
}

/// The password in `path`, or a new random one written there (mode 0600).
fn load_or_create_password(path: &Path) -> Result<String> {
    match fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            // Kept private even if someone widened it.
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .map_err(|err| format!("{}: {err}", path.display()))?;
            return Ok(text.trim().to_owned());
        }
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(format!("reading {}: {err}", path.display()).into()),
    }
    let mut bytes = [0u8; PASSWORD_BYTES];
    File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|err| format!("reading /dev/urandom: {err}"))?;
    let password: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    write_private_file(path, &format!("{password}\n"))?;
    println!(
        "auth registry: generated a password for {AUTH_USER} in {}",
        path.display()
    );
    Ok(password)
}

/// Makes `path` an htpasswd file (bcrypt) with [`AUTH_USER`] and `password`, unless it already
/// accepts them. The password goes through stdin, never on a command line.
fn ensure_htpasswd(path: &Path, password: &str) -> Result<()> {
    if path.exists() {
        let mut verify = Command::new("htpasswd");
        verify.arg("-vi").arg(path).arg(AUTH_USER);
        if run_with_input(&mut verify, password).is_ok() {
            return Ok(());
        }
    }
    let line = run_with_input(Command::new("htpasswd").args(["-Bin", AUTH_USER]), password)?;
    if !line.starts_with(&format!("{AUTH_USER}:$2")) {
        return Err(format!("`htpasswd -Bin {AUTH_USER}` did not write a bcrypt entry").into());
    }
    write_file(path, &format!("{}\n", line.trim()))?;
    println!("auth registry: wrote {}", path.display());
    Ok(())
}

/// Runs the command with `input` on its stdin; returns its stdout. On failure the error shows its
/// output (but not the input, which is a password).
fn run_with_input(cmd: &mut Command, input: &str) -> Result<String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run `{}`: {err}", shell::cmdline(cmd)))?;
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes());
    let out = child.wait_with_output()?;
    if let Err(err) = written {
        return Err(format!("`{}`: writing its input: {err}", shell::cmdline(cmd)).into());
    }
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(format!(
        "`{}` failed ({}):\n{}{}",
        shell::cmdline(cmd),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    )
    .into())
}

/// Standard base64 with padding, for a Basic `Authorization` header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |acc, (i, &byte)| {
            acc | u32::from(byte) << (16 - 8 * i)
        });
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(
                    ALPHABET[(group >> (18 - 6 * i) & 0x3f) as usize],
                ));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// A loopback port nobody is listening on right now (the OS picks it).
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Status code of `GET path` on a loopback port, or `None` if nothing sensible answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    http(addr, "GET", path, None, Duration::from_secs(2))
        .ok()
        .map(|response| response.status)
}

/// What [`http`] got back.
pub(crate) struct HttpResponse {
    pub status: u16,
    /// Header names in lowercase, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body as text, de-chunked.
    pub body: String,
}

impl HttpResponse {
    /// The first value of a header; `name` in lowercase.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection, with an optional JSON body; the answer is read
/// until the server closes the connection, which the request asks for. Enough for the local
/// services xtask talks to, not a general client.
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    json: Option<&str>,
    timeout: Duration,
) -> io::Result<HttpResponse> {
    http_request(addr, method, path, json, None, timeout)
}

/// [`http`], with an `Authorization` header when given.
fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    json: Option<&str>,
    authorization: Option<&str>,
    timeout: Duration,
) -> io::Result<HttpResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(authorization) = authorization {
        request.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    if let Some(json) = json {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            json.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(json.unwrap_or(""));
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{method} {path} on {addr}: not an HTTP answer"),
        )
    })
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut body = &raw[split + 4..];
    let mut lines = head.lines();
    // "HTTP/1.1 200 OK"
    let mut status_line = lines.next()?.split_whitespace();
    status_line.next().filter(|v| v.starts_with("HTTP/"))?;
    let status = status_line.next()?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
    if !chunked {
        let body = String::from_utf8_lossy(body).into_owned();
        return Some(HttpResponse {
            status,
            headers,
            body,
        });
    }
    let mut decoded = Vec::new();
    loop {
        let end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_field = String::from_utf8_lossy(&body[..end]);
        let size_hex = size_field.split(';').next()?.trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        body = &body[end + 2..];
        if size == 0 {
            break;
        }
        decoded.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
    let body = String::from_utf8_lossy(&decoded).into_owned();
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Polls `ready` until it holds; fails early if the service exits, showing its log.
pub(crate) fn wait_until(
    what: &str,
    timeout: Duration,
    child: &mut Child,
    log: &Path,
    mut ready: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!(
                "{what} exited ({status}) before it was ready{}",
                log_tail(log)
            )
            .into());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{what} not ready after {} s{}",
                timeout.as_secs(),
                log_tail(log)
            )
            .into());
        }
        thread::sleep(Duration::from_millis(250));
    }
}

/// `; last lines of <log>:` and up to 20 of them, to end an error message with.
pub(crate) fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(20)..];
    format!("; last lines of {}:\n{}", log.display(), tail.join("\n"))
}

fn build_images(dir: &Path) -> Result<()> {
    for test_image in TAGS {
        let image = format!("{IMAGE}:{}", test_image.tag);
        if shell::succeeds(Command::new("docker").args(["image", "inspect", &image])) {
            println!("images: {image} present");
            continue;
        }
        let context = dir.join(format!("image-{}", test_image.tag));
        write_context(&context, test_image)?;
        // The engine is 20.10 and nothing can be pulled: the classic builder needs neither
        // BuildKit nor its frontend image.
        let id = shell::output(
            Command::new("docker")
                .env("DOCKER_BUILDKIT", "0")
                .args(["build", "-q", "-t", &image])
                .arg(&context),
        )?;
        println!("images: built {image} ({})", id.trim());
    }
    Ok(())
}

fn write_context(context: &Path, image: &TestImage) -> Result<()> {
    if context.exists() {
        fs::remove_dir_all(context).map_err(|err| format!("{}: {err}", context.display()))?;
    }
    let www = context.join("www");
    create_dir(&www)?;
    write_file(
        &context.join("Dockerfile"),
        &DOCKERFILE
            .replace("{cmd}", image.cmd)
            .replace("{healthcheck}", image.healthcheck),
    )?;
    fs::copy(BUSYBOX, context.join("busybox"))
        .map_err(|err| format!("copying {BUSYBOX} into {}: {err}", context.display()))?;
    write_file(&www.join("version"), image.tag)?;
    if image.healthy {
        write_file(&www.join("healthz"), "ok")?;
    }
    Ok(())
}

/// Pushing every run proves the registry accepts pushes; layers already there are skipped.
fn push_images(registry: &str) -> Result<()> {
    for &TestImage { tag, .. } in TAGS {
        let local = format!("{IMAGE}:{tag}");
        let remote = format!("{registry}/{IMAGE}:{tag}");
        shell::output(Command::new("docker").args(["tag", &local, &remote]))?;
        shell::output(Command::new("docker").args(["push", &remote]))?;
        // Drop the registry-named tag again: tests that pull then really pull, and tags
        // naming the ports of earlier registries do not pile up.
        shell::output(Command::new("docker").args(["rmi", &remote]))?;
        println!("images: pushed {remote}");
    }
    Ok(())
}

/// Pushes [`AUTH_TAGS`] to the auth registry as `REGISTRY/private/app:TAG`, logged in only for
/// the push: afterwards the engine holds no credentials for it, so a pull works only with the
/// ones Docker Watcher passes.
fn push_private_images(registry: &AuthRegistry) -> Result<()> {
    let addr = registry.addr.as_str();
    run_with_input(
        Command::new("docker").args(["login", addr, "-u", AUTH_USER, "--password-stdin"]),
        &registry.password,
    )?;
    let pushed = AUTH_TAGS.iter().try_for_each(|tag| {
        let local = format!("{IMAGE}:{tag}");
        let remote = format!("{addr}/{AUTH_REPOSITORY}:{tag}");
        shell::output(Command::new("docker").args(["tag", &local, &remote]))?;
        let pushed = shell::output(Command::new("docker").args(["push", &remote]));
        // Untagged whether or not the push worked, so no registry-named tag is left behind.
        let removed = shell::output(Command::new("docker").args(["rmi", &remote]));
        pushed.and(removed)?;
        println!("images: pushed {remote}");
        Ok::<_, Box<dyn std::error::Error>>(())
    });
    let logged_out = shell::output(Command::new("docker").args(["logout", addr]));
    pushed?;
    logged_out?;
    Ok(())
}

/// Writes a file only its owner may read (created so, and narrowed if it already existed).
fn write_private_file(path: &Path, contents: &str) -> Result<()> {
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        file.write_all(contents.as_bytes())
    };
    write().map_err(|err| format!("writing {}: {err}", path.display()).into())
}

fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|err| format!("creating {}: {err}", path.display()).into())
}

fn write_file(path: &Path, contents: &str) -> Result<()> {
    fs::write(path, contents).map_err(|err| format!("writing {}: {err}", path.display()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_like_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"dw-test:s3cr\xfft"), "ZHctdGVzdDpzM2Ny/3Q=");
    }
}
