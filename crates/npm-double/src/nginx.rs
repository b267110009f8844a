//! The real nginx behind the double: Debian's `/usr/sbin/nginx`, run as a child process with a
//! private prefix in a temporary folder and its own free port. Like NPM, the double writes one
//! file per enabled proxy host, tests the config with `nginx -t` (moving a refused host's file
//! aside, so the others keep serving), and reloads. A reload counts as done only once nginx
//! answers the new generation marker and no worker of the old configuration still accepts
//! connections; nothing waits a fixed time.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::nginx_config::{self, GENERATION_PATH, PROBE_HOST};

/// How long nginx gets to start, reload or stop before the double gives up.
const PATIENCE: Duration = Duration::from_secs(15);
/// Between two looks at nginx while waiting for it.
const POLL: Duration = Duration::from_millis(5);

/// A running nginx.
pub(crate) struct Nginx {
    binary: PathBuf,
    /// The prefix: `nginx.conf`, `hosts/`, `logs/`, `temp/`. Removed on drop.
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    generation: u64,
    as_root: bool,
}

/// An answer read through nginx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedAnswer {
    pub status: u16,
    pub body: String,
}

impl Nginx {
    /// Starts nginx on a free port of 127.0.0.1, serving only the default server.
    pub fn start() -> Result<Nginx, String> {
        let binary = find_binary()?;
        let as_root = running_as_root();
        let mut last_error = String::new();
        // A free port can be taken between finding it and nginx binding it: try again then.
        for _ in 0..3 {
            let dir = tempfile::Builder::new()
                .prefix("npm-double-nginx-")
                .tempdir()
                .map_err(|err| format!("cannot create nginx's folder: {err}"))?;
            for sub in ["hosts", "logs", "temp"] {
                fs::create_dir_all(dir.path().join(sub))
                    .map_err(|err| format!("cannot create nginx's {sub} folder: {err}"))?;
            }
            let port = free_port().map_err(|err| format!("no free port for nginx: {err}"))?;
            let mut nginx = Nginx {
                binary: binary.clone(),
                dir,
                port,
                child: None,
                generation: 0,
                as_root,
            };
            match nginx.launch() {
                Ok(()) => return Ok(nginx),
                Err(err) => last_error = err,
            }
        }
        Err(last_error)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn host_file(&self, id: u64) -> PathBuf {
        self.dir.path().join("hosts").join(format!("{id}.conf"))
    }

    /// The config of proxy host `id` as nginx serves it, if it serves it.
    pub fn host_config(&self, id: u64) -> Option<String> {
        fs::read_to_string(self.host_file(id)).ok()
    }

    /// Writes (`Some`) or removes (`None`) the config of proxy host `id`, tests it and reloads.
    /// Returns nginx's complaint when it refused the new config: that host's file is then
    /// moved aside and nginx goes on serving the others.
    pub fn apply_host(&mut self, id: u64, config: Option<&str>) -> Result<Option<String>, String> {
        let file = self.host_file(id);
        let aside = file.with_extension("conf.err");
        let _ = fs::remove_file(&file);
        let _ = fs::remove_file(&aside);
        let mut refused = None;
        if let Some(config) = config {
            fs::write(&file, config)
                .map_err(|err| format!("cannot write {}: {err}", file.display()))?;
            if let Err(complaint) = self.test() {
                let _ = fs::rename(&file, &aside);
                refused = Some(complaint);
            }
        }
        self.reload()?;
        Ok(refused)
    }

    /// `nginx -t`: nginx's own error lines when the config is refused.
    fn test(&self) -> Result<(), String> {
        let output = self
            .command()
            .args(["-e", "stderr", "-t"])
            .output()
            .map_err(|err| format!("cannot run {} -t: {err}", self.binary.display()))?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let complaint: Vec<&str> = stderr
            .lines()
            .filter(|line| line.contains("[emerg]") || line.contains("[alert]"))
            .collect();
        Err(if complaint.is_empty() {
            stderr.trim().to_owned()
        } else {
            complaint.join("\n")
        })
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg("-p")
            .arg(self.dir.path())
            .arg("-c")
            .arg(self.dir.path().join("nginx.conf"))
            .stdin(Stdio::null());
        command
    }

    fn write_main_config(&self) -> Result<(), String> {
        let path = self.dir.path().join("nginx.conf");
        let text =
            nginx_config::main_config(self.dir.path(), self.port, self.generation, self.as_root);
        fs::write(&path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
    }

    fn launch(&mut self) -> Result<(), String> {
        self.write_main_config()?;
        let error_log = self.dir.path().join("logs").join("error.log");
        let child = self
            .command()
            .arg("-e")
            .arg(&error_log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", self.binary.display()))?;
        self.child = Some(child);
        self.wait_for_generation("start")
    }

    /// Makes nginx load the config on disk and waits until it serves it.
    fn reload(&mut self) -> Result<(), String> {
        self.generation += 1;
        self.write_main_config()?;
        let output = self
            .command()
            .args(["-e", "stderr", "-s", "reload"])
            .output()
            .map_err(|err| format!("cannot run {} -s reload: {err}", self.binary.display()))?;
        if !output.status.success() {
            return Err(format!(
                "nginx -s reload failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        self.wait_for_generation("reload")
    }

    /// Waits until nginx answers the current generation and only one worker accepts.
    fn wait_for_generation(&mut self, what: &str) -> Result<(), String> {
        let deadline = Instant::now() + PATIENCE;
        let expected = self.generation.to_string();
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!(
                    "nginx exited ({status}) during {what}: {}",
                    self.error_log_tail()
                ));
            }
            let answer = self.get(PROBE_HOST, GENERATION_PATH, Duration::from_secs(2));
            if let Ok(answer) = answer
                && answer.status == 200
                && answer.body == expected
                && self.accepting_workers() <= 1
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "nginx did not serve configuration {expected} within {}s after {what}: {}",
                    PATIENCE.as_secs(),
                    self.error_log_tail()
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// Workers of the master that still accept connections: during a reload, the old
    /// configuration's worker goes on accepting until the master tells it to stop (nginx
    /// waits a little between starting the new workers and stopping the old ones). Counted
    /// from `/proc`: a worker told to stop is titled "worker process is shutting down".
    fn accepting_workers(&self) -> usize {
        let Some(master) = self.child.as_ref().map(Child::id) else {
            return 0;
        };
        let Ok(entries) = fs::read_dir("/proc") else {
            return 0;
        };
        entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| parent_of(*pid) == Some(master))
            .filter(|pid| {
                fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                    let title = String::from_utf8_lossy(&cmdline);
                    title.trim_end_matches(['\0', ' ']) == "nginx: worker process"
                })
            })
            .count()
    }

    fn error_log_tail(&self) -> String {
        let log =
            fs::read_to_string(self.dir.path().join("logs").join("error.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().rev().take(5).collect();
        if lines.is_empty() {
            "nothing in nginx's error log".to_owned()
        } else {
            lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
        }
    }

    /// A GET through nginx with this `Host`, as `curl -H 'Host: …'` would send it.
    pub fn get(&self, host: &str, path: &str, timeout: Duration) -> io::Result<ProxiedAnswer> {
        http_get(
            SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            host,
            path,
            timeout,
        )
    }

    /// Stops nginx (its master stops its workers) and waits for it.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = self
            .command()
            .args(["-e", "stderr", "-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            thread::sleep(POLL);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A plain HTTP/1.0 GET with a chosen `Host` header.
pub(crate) fn http_get(
    addr: SocketAddr,
    host: &str,
    path: &str,
    timeout: Duration,
) -> io::Result<ProxiedAnswer> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: npm-double\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no end of head"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no status"))?;
    Ok(ProxiedAnswer {
        status,
        body: body.to_owned(),
    })
}

fn find_binary() -> Result<PathBuf, String> {
    let debian = Path::new("/usr/sbin/nginx");
    if debian.is_file() {
        return Ok(debian.to_owned());
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("nginx"))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            "nginx is not installed (looked for /usr/sbin/nginx and nginx in PATH): \
             run `cargo xtask testbed`, which installs it"
                .to_owned()
        })
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// The parent of a process, from `/proc/<pid>/stat` (the command name may hold spaces and
/// parentheses, so fields are counted from the last `)`).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Whether this process runs as root: nginx's workers then need `user root;` to run as the
/// same user that owns the private prefix.
fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|uids| uids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_worker_accepts_after_start_and_after_each_reload() {
        let mut nginx = Nginx::start().unwrap();
        assert_eq!(nginx.accepting_workers(), 1);
        // Each change must be in effect when `apply_host` returns: without the wait for the
        // old worker to stop accepting, the first request after a reload often gets the old
        // configuration.
        for version in 1..=10 {
            let config = format!(
                "server {{ listen 127.0.0.1:{}; server_name h.test; return 200 \"v{version}\"; }}",
                nginx.port()
            );
            assert_eq!(nginx.apply_host(1, Some(&config)), Ok(None));
            assert_eq!(nginx.accepting_workers(), 1);
            let answer = nginx.get("h.test", "/", Duration::from_secs(2)).unwrap();
            assert_eq!(answer.body, format!("v{version}"));
        }
        let refused = nginx.apply_host(4, Some("server { nonsense; }")).unwrap();
        assert!(refused.unwrap().contains("unknown directive \"nonsense\""));
        assert_eq!(nginx.host_config(4), None);
        let answer = nginx
            .get(PROBE_HOST, GENERATION_PATH, Duration::from_secs(2))
            .unwrap();
        assert_eq!(answer.body, "11");
    }
}
