//! `serve --ui-dir DIR`: a built dashboard in a folder replaces the embedded one, and a folder
//! that holds no built dashboard is refused at start instead of answering every page with an
//! error. No Docker engine is needed: the server starts (and warns) without one.

mod support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::http_get;

const NO_ENGINE: &str = "unix:///nonexistent/docker.sock";

fn serve(work: &Path, ui_dir: &Path, addr: SocketAddr) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docker-watcher"));
    command
        .current_dir(work)
        .args(["serve", "--docker-host", NO_ENGINE, "--listen"])
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(work.join("data"))
        .arg("--ui-dir")
        .arg(ui_dir)
        .env_remove("DW_CONFIG")
        .env_remove("DW_SECRET_KEY")
        .stdin(Stdio::null());
    command
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_folder_without_a_built_dashboard_is_refused_at_start() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let empty = work.path().join("not-built");
    std::fs::create_dir(&empty).expect("make a folder");
    for ui_dir in [work.path().join("missing"), empty] {
        let Output { status, stderr, .. } = serve(work.path(), &ui_dir, free_addr())
            .output()
            .expect("run docker-watcher");
        let stderr = String::from_utf8_lossy(&stderr);
        assert!(!status.success(), "served {}:\n{stderr}", ui_dir.display());
        assert!(
            stderr.contains(&format!("--ui-dir {}", ui_dir.display()))
                && stderr.contains("index.html"),
            "expected the folder and what it lacks named:\n{stderr}"
        );
        assert!(
            !work.path().join("data").exists(),
            "a refused start created the data folder"
        );
    }
}

#[test]
fn a_built_dashboard_in_a_folder_is_served_for_every_page() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let ui_dir = work.path().join("build");
    std::fs::create_dir(&ui_dir).expect("make a folder");
    let marker = "a dashboard served from a folder";
    std::fs::write(
        ui_dir.join("index.html"),
        format!("<!doctype html><title>{marker}</title>"),
    )
    .expect("write index.html");
    std::fs::write(ui_dir.join("app.js"), "console.log('app')").expect("write app.js");

    let addr = free_addr();
    let child = serve(work.path(), &ui_dir, addr)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-watcher");
    let _server = Running(child);
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    for page in ["/", "/projects/shop"] {
        let reply = http_get(&format!("http://{addr}{page}"));
        assert_eq!(reply.status, 200, "{page}: {}", reply.body);
        assert!(reply.body.contains(marker), "{page}: {}", reply.body);
    }
    let script = http_get(&format!("http://{addr}/app.js"));
    assert_eq!(script.body, "console.log('app')");
    assert_eq!(http_get(&format!("http://{addr}/healthz")).status, 200);
}
