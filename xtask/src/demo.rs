//! `cargo xtask demo`: a real deploy on the local Docker engine, from nothing, in one command.
//!
//! It prepares the testbed (Docker, a registry, the test images), builds the frontend and
//! the server, writes a one-project configuration into `target/demo/`, starts the server
//! on a fresh database, pushes `v1` of a tiny web server to the registry, calls the webhook
//! and follows the deploy to its end. Then it prints where to look and how to deploy `v2`,
//! and keeps the server in the foreground until Ctrl-C.
//!
//! Every run starts clean: the data folder is deleted, and so are containers an earlier
//! demo left behind (found by their `docker-watcher.project=hello` label).

use std::{
    fs::{self, File},
    io::{self, Read, Seek, SeekFrom, Write},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::{Result, dist, shell, testbed};

/// The configuration template; see [`config_text`].
const CONFIG_TEMPLATE: &str = include_str!("../demo/docker-watcher.yaml");

/// Fixed, so that the printed commands work as they are. Only ever used by the demo.
const WEBHOOK_SECRET: &str = "demo-webhook-secret-not-for-production";

/// The project, stage and repository the demo configures.
const PROJECT: &str = "hello";
const STAGE: &str = "dev";
const REPOSITORY: &str = "demo/hello";

/// The testbed's image whose tags the demo pushes.
const SOURCE_IMAGE: &str = "dw-testbed/app";

/// The address tried first; taken means a free port instead.
const PREFERRED_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(120);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the command line asked for.
pub struct Options {
    /// Where the server listens; by default 127.0.0.1:8080, or a free port if that is taken.
    pub listen: Option<SocketAddr>,
    /// Stop the server and exit once the deploy is done, instead of serving until Ctrl-C.
    pub no_wait: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            listen: None,
            no_wait: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let listen = match arg.as_str() {
                "--no-wait" => {
                    options.no_wait = true;
                    continue;
                }
                "--listen" => args
                    .next()
                    .ok_or("`--listen` needs an address, such as 127.0.0.1:8080")?,
                other => match other.strip_prefix("--listen=") {
                    Some(value) => value,
                    None => return Err(format!("unexpected argument `{other}`").into()),
                },
            };
            let addr = listen.parse().map_err(|_| {
                format!("`--listen {listen}`: not an address such as 127.0.0.1:8080")
            })?;
            options.listen = Some(addr);
        }
        Ok(options)
    }
}

pub fn run(root: &Path, options: &Options) -> Result<()> {
    let target = crate::target_dir(root);
    let demo_dir = target.join("demo");

    step("testbed (Docker engine, local registry, test images)");
    let vars = testbed::ensure(root)?;
    let registry = vars
        .iter()
        .find(|(key, _)| *key == "DW_TEST_REGISTRY")
        .map(|(_, value)| value.clone())
        .ok_or("the testbed did not report its registry")?;

    step("frontend (embedded into the server binary)");
    dist::frontend(root)?;

    step("server binary (a debug build: quicker to compile, fine for a demo)");
    shell::run(
        Command::new("cargo")
            .args(["build", "-p", "server"])
            .current_dir(root),
    )?;
    let binary = target.join("debug/docker-watcher");
    if !binary.is_file() {
        return Err(format!("the build succeeded but {} is missing", binary.display()).into());
    }

    step("configuration and a fresh database");
    fs::create_dir_all(&demo_dir)
        .map_err(|err| format!("creating {}: {err}", demo_dir.display()))?;
    let config = demo_dir.join("docker-watcher.yaml");
    fs::write(&config, config_text(&registry)?)
        .map_err(|err| format!("writing {}: {err}", config.display()))?;
    println!("wrote {}", config.display());
    let data_dir = demo_dir.join("data");
    if data_dir.exists() {
        fs::remove_dir_all(&data_dir)
            .map_err(|err| format!("removing {}: {err}", data_dir.display()))?;
        println!("removed the previous demo's data in {}", data_dir.display());
    }
    remove_old_containers()?;

    step("server");
    let listen = match options.listen {
        Some(addr) => addr,
        None => default_listen()?,
    };
    let mut server = Server::start(
        &binary,
        &config,
        &data_dir,
        listen,
        &demo_dir.join("server.log"),
    )?;
    let api = Api {
        addr: connect_addr(listen),
    };
    testbed::wait_until(
        "the server",
        SERVER_START_TIMEOUT,
        &mut server.child,
        &server.log,
        || api.get("/healthz").is_ok(),
    )?;
    println!("the server answers on {}", api.base_url());

    step("deploy v1");
    let image = format!("{registry}/{REPOSITORY}");
    push(&format!("{SOURCE_IMAGE}:v1"), &format!("{image}:v1"))?;
    let webhook = format!("/api/webhook/{WEBHOOK_SECRET}");
    let body = format!(r#"{{"image": "{image}:v1"}}"#);
    println!("POST {}/api/webhook/<secret> {body}", api.base_url());
    let answer = api.post(&webhook, &body)?;
    let deploy_id = match answer.get("deploys").as_array().first() {
        Some(deploy) => deploy
            .get("id")
            .as_i64()
            .ok_or("the webhook's answer has no deploy id")?,
        None => {
            let reason = answer.get("reason").as_str().unwrap_or("no reason given");
            return Err(format!("the webhook queued no deploy: {reason}").into());
        }
    };
    let deploy = follow_deploy(&api, deploy_id)?;
    print_log(&api, deploy_id);
    let status = deploy.get("status").as_str().unwrap_or("?").to_owned();
    if status != "succeeded" {
        let reason = deploy.get("reason").as_str().unwrap_or("no reason given");
        return Err(format!(
            "deploy {deploy_id} {status}: {reason}\n(the server's log is in {})",
            server.log.display()
        )
        .into());
    }

    let address = instance_address(&api, deploy_id)?;
    print_summary(
        &api,
        &image,
        deploy_id,
        &address,
        &server.log,
        !options.no_wait,
    );

    if options.no_wait {
        server.stop();
        println!("\n--no-wait: server stopped; the {PROJECT} container keeps running");
        return Ok(());
    }
    println!("\nCtrl-C to stop. The server's log follows.\n");
    let status = server.follow()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the server exited ({status})").into())
    }
}

fn step(title: &str) {
    println!("\n==> {title}");
}

/// The template with the registry and the webhook secret filled in.
fn config_text(registry: &str) -> Result<String> {
    for placeholder in ["{registry}", "{webhook_secret}"] {
        if !CONFIG_TEMPLATE.contains(placeholder) {
            return Err(format!("the demo configuration template lacks {placeholder}").into());
        }
    }
    Ok(CONFIG_TEMPLATE
        .replace("{registry}", registry)
        .replace("{webhook_secret}", WEBHOOK_SECRET))
}

/// Containers of an earlier demo: their database is gone, so nothing would ever remove them.
fn remove_old_containers() -> Result<()> {
    let label = format!("label=docker-watcher.project={PROJECT}");
    let ids = shell::output(Command::new("docker").args(["ps", "-aq", "--filter", &label]))?;
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if ids.is_empty() {
        return Ok(());
    }
    shell::output(Command::new("docker").args(["rm", "-f"]).args(&ids))?;
    println!(
        "removed {} container(s) left by an earlier demo ({label})",
        ids.len()
    );
    Ok(())
}

/// 127.0.0.1:8080 when nobody listens there, else a free loopback port.
fn default_listen() -> Result<SocketAddr> {
    if TcpListener::bind(PREFERRED_LISTEN).is_ok() {
        return Ok(PREFERRED_LISTEN);
    }
    let port = testbed::free_port()?;
    println!("{PREFERRED_LISTEN} is taken; using port {port}");
    Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
}

/// Where to reach a server listening on `listen`: "all addresses" means loopback will do.
fn connect_addr(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

fn push(local: &str, remote: &str) -> Result<()> {
    shell::run(Command::new("docker").args(["tag", local, remote]))?;
    shell::run(Command::new("docker").args(["push", "--quiet", remote]))
}

/// Polls the deploy until it has finished, printing each status it passes through.
fn follow_deploy(api: &Api, id: i64) -> Result<Json> {
    let deadline = Instant::now() + DEPLOY_TIMEOUT;
    let mut last_status = String::new();
    loop {
        let deploy = api.get(&format!("/api/deploys/{id}"))?;
        let status = deploy.get("status").as_str().unwrap_or("?").to_owned();
        if status != last_status {
            println!("deploy {id}: {status}");
            last_status = status;
        }
        if matches!(last_status.as_str(), "succeeded" | "failed" | "interrupted") {
            return Ok(deploy);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "deploy {id} has not finished after {} s (it is {last_status})",
                DEPLOY_TIMEOUT.as_secs(),
            )
            .into());
        }
        thread::sleep(Duration::from_millis(500));
    }
}

/// Prints the deploy's log. The log stream of a finished deploy ends after its `end`
/// event, so one plain GET reads all of it. Best effort: the outcome is known already.
fn print_log(api: &Api, id: i64) {
    let path = format!("/api/deploys/{id}/logs");
    let stream = match testbed::http(api.addr, "GET", &path, None, HTTP_TIMEOUT) {
        Ok(response) if response.status == 200 => response.body,
        Ok(response) => {
            println!("(no log: GET {path} answered {})", response.status);
            return;
        }
        Err(err) => {
            println!("(no log: GET {path}: {err})");
            return;
        }
    };
    println!("deploy log:");
    // Server-sent events: `event:` and `data:` lines, events separated by blank lines.
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
        if name == "log"
            && let Ok(line) = Json::parse(data)
        {
            println!("  {}", line.get("message").as_str().unwrap_or(""));
        }
    }
}

/// The address of the instance the deploy started, from `GET /api/projects`.
fn instance_address(api: &Api, deploy_id: i64) -> Result<String> {
    let projects = api.get("/api/projects")?;
    projects
        .as_array()
        .iter()
        .filter(|project| project.get("name").as_str() == Some(PROJECT))
        .flat_map(|project| project.get("instances").as_array())
        .find(|instance| instance.get("deploy_id").as_i64() == Some(deploy_id))
        .and_then(|instance| instance.get("address").as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            format!("GET /api/projects shows no address for the instance of deploy {deploy_id}")
                .into()
        })
}

/// What the demo did; with `next_steps`, also how to try more while the server keeps running
/// (left out when the server is about to stop).
fn print_summary(
    api: &Api,
    image: &str,
    deploy_id: i64,
    address: &str,
    log: &Path,
    next_steps: bool,
) {
    let base = api.base_url();
    step("Docker Watcher deployed v1");
    let instance = format!("{PROJECT}/{STAGE} v1:");
    let rows = [
        ("dashboard:", format!("{base}/")),
        ("this deploy:", format!("{base}/deploys/{deploy_id}")),
        (
            &instance,
            format!("{address}   (try: curl {address}/version)"),
        ),
        ("server log:", log.display().to_string()),
    ];
    for (label, value) in rows {
        println!("{label:<14}{value}");
    }
    if !next_steps {
        return;
    }
    println!(
        "\nDeploy v2 (watch the dashboard while it runs):\n\n  \
         docker tag {SOURCE_IMAGE}:v2 {image}:v2 && \\\n  \
         docker push {image}:v2 && \\\n  \
         curl -X POST -H 'Content-Type: application/json' \\\n    \
         -d '{{\"image\": \"{image}:v2\"}}' \\\n    \
         {base}/api/webhook/{WEBHOOK_SECRET}"
    );
    println!(
        "\nOr push {SOURCE_IMAGE}:unhealthy the same way: it never passes its health check,\n\
         and the failed deploy leaves the running version serving."
    );
}

/// The server process, writing its log to a file.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(
        binary: &Path,
        config: &Path,
        data_dir: &Path,
        listen: SocketAddr,
        log: &Path,
    ) -> Result<Server> {
        let file = File::create(log).map_err(|err| format!("creating {}: {err}", log.display()))?;
        let mut cmd = Command::new(binary);
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(listen.to_string())
            // The embedded dashboard, whatever the environment says.
            .env_remove("DW_UI_DIR")
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        println!("$ {}  > {} 2>&1", shell::cmdline(&cmd), log.display());
        let child = cmd
            .spawn()
            .map_err(|err| format!("cannot run {}: {err}", binary.display()))?;
        Ok(Server {
            child,
            log: log.to_path_buf(),
        })
    }

    /// Shows what the server logs from now on until it exits, and returns how it exited.
    fn follow(&mut self) -> Result<ExitStatus> {
        let mut log =
            File::open(&self.log).map_err(|err| format!("{}: {err}", self.log.display()))?;
        log.seek(SeekFrom::End(0))?;
        let mut copy_new = || -> Result<()> {
            let mut new = Vec::new();
            log.read_to_end(&mut new)?;
            let mut stdout = io::stdout().lock();
            stdout.write_all(&new)?;
            Ok(stdout.flush()?)
        };
        loop {
            copy_new()?;
            if let Some(status) = self.child.try_wait()? {
                copy_new()?;
                return Ok(status);
            }
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Asks the server to shut down (SIGTERM: it lets requests finish); kills it if it does not.
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let asked = shell::succeeds(
            Command::new("kill")
                .args(["-TERM", "--"])
                .arg(self.child.id().to_string()),
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        while asked && Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    /// Leaves no server behind when the demo fails.
    fn drop(&mut self) {
        self.stop();
    }
}

/// The server's API, spoken over loopback with the testbed's small HTTP helper.
struct Api {
    addr: SocketAddr,
}

impl Api {
    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn get(&self, path: &str) -> Result<Json> {
        self.call("GET", path, None)
    }

    fn post(&self, path: &str, json: &str) -> Result<Json> {
        self.call("POST", path, Some(json))
    }

    /// Sends the request and returns the envelope's `data`, or the envelope's `error`.
    fn call(&self, method: &str, path: &str, json: Option<&str>) -> Result<Json> {
        // The webhook's path holds its secret: keep it out of messages.
        let shown = if path.starts_with("/api/webhook/") {
            "/api/webhook/<secret>"
        } else {
            path
        };
        let response = testbed::http(self.addr, method, path, json, HTTP_TIMEOUT)
            .map_err(|err| format!("{method} {shown}: {err}"))?;
        let envelope = Json::parse(&response.body).map_err(|err| {
            format!(
                "{method} {shown} answered {} with something other than JSON ({err}): {}",
                response.status, response.body
            )
        })?;
        if response.status >= 400 || envelope.get("success") != &Json::Bool(true) {
            let error = envelope.get("error").as_str().unwrap_or("no error given");
            return Err(format!("{method} {shown} answered {}: {error}", response.status).into());
        }
        Ok(envelope.get("data").clone())
    }
}

/// Just enough JSON to read the API's answers.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

static NULL: Json = Json::Null;

impl Json {
    fn parse(text: &str) -> Result<Json, String> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = parser.value()?;
        parser.skip_whitespace();
        if parser.pos != parser.bytes.len() {
            return Err(format!("unexpected text at byte {}", parser.pos));
        }
        Ok(value)
    }

    /// The member `key` of an object; null when absent or not an object.
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(members) => members
                .iter()
                .find(|(name, _)| name == key)
                .map_or(&NULL, |(_, value)| value),
            _ => &NULL,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(n) if n.fract() == 0.0 => Some(*n as i64),
            _ => None,
        }
    }

    /// The elements of an array; none when it is not one.
    fn as_array(&self) -> &[Json] {
        match self {
            Json::Array(items) => items,
            _ => &[],
        }
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", byte as char)))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected word"))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end")),
        }
    }

    fn object(&mut self) -> Result<Json, String> {
        self.expect(b'{')?;
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            let key = self.string()?;
            self.skip_whitespace();
            self.expect(b':')?;
            members.push((key, self.value()?));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self) -> Result<Json, String> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or("");
        text.parse()
            .map(Json::Number)
            .map_err(|_| format!("invalid number {text:?} at byte {start}"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            self.pos += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let Some(escape) = self.peek() else {
                        return Err(self.error("unterminated string"));
                    };
                    self.pos += 1;
                    let ch = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.error("invalid escape")),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(byte),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("invalid UTF-8 in string"))
    }

    /// After `\u`: four hex digits, or a surrogate pair written as two escapes.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.bytes[self.pos..].starts_with(b"\\u") {
                return Err(self.error("unpaired surrogate"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("unpaired surrogate"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u32::from_str_radix(digits, 16).ok())
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        self.pos += 4;
        Ok(digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_api_envelope() {
        let text = r#"{"success":true,"data":[{"id":3,"name":"h\u00e9\"llo","ok":false,
            "list":[],"n":-1.5e2,"none":null,"emoji":"\ud83d\ude00"}],"error":null}"#;
        let json = Json::parse(text).unwrap();
        assert_eq!(json.get("success"), &Json::Bool(true));
        let item = &json.get("data").as_array()[0];
        assert_eq!(item.get("id").as_i64(), Some(3));
        assert_eq!(item.get("name").as_str(), Some("hé\"llo"));
        assert_eq!(item.get("n"), &Json::Number(-150.0));
        assert_eq!(item.get("emoji").as_str(), Some("😀"));
        assert_eq!(item.get("missing"), &Json::Null);
        assert!(item.get("list").as_array().is_empty());
    }

    #[test]
    fn rejects_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "tru",
            "\"abc",
            "1 2",
            "\"\\ud800\"",
        ] {
            assert!(Json::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn the_template_becomes_a_complete_configuration() {
        let text = config_text("127.0.0.1:5000").unwrap();
        assert!(text.contains("image: \"127.0.0.1:5000/demo/hello\""));
        assert!(text.contains(WEBHOOK_SECRET));
        assert!(!text.contains('{'), "a placeholder is left:\n{text}");
    }

    #[test]
    fn parses_the_command_line() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = Options::parse(&args(&["--listen", "0.0.0.0:9000", "--no-wait"])).unwrap();
        assert_eq!(options.listen, Some("0.0.0.0:9000".parse().unwrap()));
        assert!(options.no_wait);
        let options = Options::parse(&args(&["--listen=127.0.0.1:1"])).unwrap();
        assert_eq!(options.listen, Some("127.0.0.1:1".parse().unwrap()));
        assert!(!options.no_wait);
        assert!(Options::parse(&args(&["--listen"])).is_err());
        assert!(Options::parse(&args(&["--listen", "nowhere"])).is_err());
        assert!(Options::parse(&args(&["--verbose"])).is_err());
        assert_eq!(
            connect_addr("0.0.0.0:9000".parse().unwrap()),
            "127.0.0.1:9000".parse().unwrap()
        );
    }
}
