//! `cargo xtask testbed`: the services the tests talk to, installed and started on demand.
//!
//! Every piece is checked first and only installed, started or built when missing, so it
//! is cheap to run before each test run. Services are started detached and keep running
//! after xtask exits; later runs reuse them. State lives in `target/testbed/`:
//!
//! - `dockerd.log`: output of a dockerd we started
//! - `registry/`: config.yml, data/, `port` of the running registry, registry.log
//! - `image-<tag>/`: build context of each test image
//! - `env`: the `KEY=VALUE` lines that tell tests where everything is

use std::{
    fs::{self, File, TryLockError},
    io::{self, Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::Path,
    process::{Child, Command},
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
];

const DOCKER_HOST: &str = "unix:///var/run/docker.sock";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Local repository holding the test images; nothing can be pulled, so they are built here.
const IMAGE: &str = "dw-testbed/app";

/// One tag of [`IMAGE`]: whether it answers `/healthz`, and the `CMD` it runs.
struct TestImage {
    tag: &'static str,
    healthy: bool,
    cmd: &'static str,
}

/// The tags of [`IMAGE`]: `unhealthy` serves but its `/healthz` stays 404, `crashing` exits
/// with code 3 right after it starts, having written a line to stderr.
const TAGS: &[TestImage] = &[
    TestImage {
        tag: "v1",
        healthy: true,
        cmd: SERVE,
    },
    TestImage {
        tag: "v2",
        healthy: true,
        cmd: SERVE,
    },
    TestImage {
        tag: "unhealthy",
        healthy: false,
        cmd: SERVE,
    },
    TestImage {
        tag: "crashing",
        healthy: false,
        cmd: CRASH,
    },
];

/// A tiny web server: `/version` returns the tag, `/healthz` returns `ok` when present.
/// `{cmd}` is replaced by the image's `CMD`.
const DOCKERFILE: &str = r#"FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY www /www
EXPOSE 8080
CMD {cmd}
"#;

/// Serves `/www` on port 8080.
const SERVE: &str = r#"["httpd", "-f", "-p", "8080", "-h", "/www"]"#;

/// Fails the way a misconfigured app does: a line on stdout, the cause on stderr, exit code 3.
const CRASH: &str =
    r#"["sh", "-c", "echo starting; echo cannot open /data/db: permission denied >&2; exit 3"]"#;

/// Host busybox (from busybox-static, so it runs in an empty image).
const BUSYBOX: &str = "/bin/busybox";

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
    build_images(&dir)?;
    push_images(&registry)?;

    let vars = env_vars(&registry);
    let env_file = dir.join("env");
    let contents: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    write_file(&env_file, &contents)?;
    print!("testbed ready ({}):\n{contents}", env_file.display());
    Ok(vars)
}

fn env_vars(registry: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DW_TEST_REGISTRY", registry.to_owned()),
        ("DW_TEST_IMAGE", IMAGE.to_owned()),
        ("DW_TEST_DOCKER_HOST", DOCKER_HOST.to_owned()),
        ("DW_CHROMIUM", CHROMIUM.to_owned()),
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
    println!("docker: engine started");
    Ok(())
}

/// Returns the registry's `host:port`.
fn start_registry(dir: &Path) -> Result<String> {
    let port_file = dir.join("port");
    if let Some(port) = fs::read_to_string(&port_file)
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
    {
        if http_status(port, "/v2/") == Some(200) {
            println!("registry: running on 127.0.0.1:{port}");
            return Ok(format!("127.0.0.1:{port}"));
        }
        println!("registry: nothing answers on port {port} any more, starting a new one");
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
    write_file(&port_file, &format!("{port}\n"))?;
    println!("registry: started on 127.0.0.1:{port}");
    Ok(format!("127.0.0.1:{port}"))
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
    /// The body as text, de-chunked.
    pub body: String,
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
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
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
    let chunked = lines.any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    if !chunked {
        let body = String::from_utf8_lossy(body).into_owned();
        return Some(HttpResponse { status, body });
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
    Some(HttpResponse { status, body })
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
        &DOCKERFILE.replace("{cmd}", image.cmd),
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

fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|err| format!("creating {}: {err}", path.display()).into())
}

fn write_file(path: &Path, contents: &str) -> Result<()> {
    fs::write(path, contents).map_err(|err| format!("writing {}: {err}", path.display()).into())
}
