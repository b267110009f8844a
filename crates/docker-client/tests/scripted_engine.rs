//! Answers a real engine will not give on demand (errors inside a pull
//! stream, a stream cut short, an engine that is too new), played by a small
//! scripted HTTP server on a unix socket, so bollard's own decoding is exercised.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use docker_client::{DockerClient, DockerError, PullProgress};

const VERSION_20_10: &str = r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12"}"#;

#[derive(Clone)]
enum Reply {
    /// A complete JSON answer.
    Json(u16, &'static str),
    /// A 200 streamed in chunks, one line each; `finished` false drops the
    /// connection before the terminating chunk, like an engine that died.
    Stream {
        lines: Vec<&'static str>,
        finished: bool,
    },
}

/// Serves `(path suffix, reply)` routes until dropped.
struct ScriptedEngine {
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedEngine {
    fn socket_path() -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        std::env::temp_dir().join(format!(
            "dw-scripted-engine-{}-{nanos}-{n}.sock",
            std::process::id()
        ))
    }

    fn start(socket: PathBuf, routes: Vec<(&'static str, Reply)>) -> ScriptedEngine {
        let listener = UnixListener::bind(&socket).expect("bind scripted engine socket");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for connection in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(connection) = connection else { continue };
                serve(connection, &routes);
            }
        });
        ScriptedEngine {
            socket,
            stop,
            thread: Some(thread),
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for ScriptedEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = UnixStream::connect(&self.socket);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn serve(mut connection: UnixStream, routes: &[(&'static str, Reply)]) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match connection.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&request).into_owned();
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .split('?')
        .next()
        .unwrap_or("")
        .to_owned();
    let reply = routes
        .iter()
        .find(|(suffix, _)| path.ends_with(suffix))
        .map(|(_, reply)| reply.clone())
        .unwrap_or(Reply::Json(404, r#"{"message":"page not found"}"#));
    let _ = match reply {
        Reply::Json(status, body) => write!(
            connection,
            "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        Reply::Stream { lines, finished } => (|| {
            write!(
                connection,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )?;
            for line in lines {
                let chunk = format!("{line}\r\n");
                write!(connection, "{:x}\r\n{chunk}\r\n", chunk.len())?;
                connection.flush()?;
            }
            if finished {
                write!(connection, "0\r\n\r\n")?;
            }
            connection.flush()
        })(),
    };
}

async fn pull_through(
    engine: &ScriptedEngine,
    image: &str,
) -> (Result<(), DockerError>, Vec<String>) {
    let client = DockerClient::new(Some(&engine.host())).unwrap();
    let mut seen = Vec::new();
    let mut record = |progress: PullProgress| seen.push(progress.message);
    let result = client.pull(image, None, &mut record).await;
    (result, seen)
}

#[tokio::test]
async fn an_error_line_inside_a_successful_pull_stream_fails_the_pull() {
    let engine = ScriptedEngine::start(
        ScriptedEngine::socket_path(),
        vec![
            ("/version", Reply::Json(200, VERSION_20_10)),
            (
                "/images/create",
                Reply::Stream {
                    lines: vec![
                        r#"{"status":"Pulling from acme/web","id":"1.4.2"}"#,
                        r#"{"status":"Downloading","progressDetail":{"current":1048576,"total":4194304},"id":"a1b2c3d4e5f6"}"#,
                        r#"{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}"#,
                    ],
                    finished: true,
                },
            ),
        ],
    );
    let (result, seen) = pull_through(&engine, "registry.example/acme/web:1.4.2").await;
    match result {
        Err(DockerError::PullFailed { image, message }) => {
            assert_eq!(image, "registry.example/acme/web:1.4.2");
            assert_eq!(message, "unauthorized: authentication required");
        }
        other => panic!("expected PullFailed, got {other:?}"),
    }
    assert_eq!(
        seen,
        ["1.4.2: Pulling from acme/web", "a1b2c3d4e5f6: Downloading"]
    );
}

#[tokio::test]
async fn a_pull_stream_that_breaks_off_is_a_failure() {
    let engine = ScriptedEngine::start(
        ScriptedEngine::socket_path(),
        vec![
            ("/version", Reply::Json(200, VERSION_20_10)),
            (
                "/images/create",
                Reply::Stream {
                    lines: vec![
                        r#"{"status":"Pulling from acme/web","id":"1.4.2"}"#,
                        r#"{"status":"Downloading","progressDetail":{"current":1,"total":4},"id":"a1b2c3d4e5f6"}"#,
                    ],
                    finished: false,
                },
            ),
        ],
    );
    let (result, _) = pull_through(&engine, "acme/web:1.4.2").await;
    match result {
        Err(DockerError::PullFailed { image, message }) => {
            assert_eq!(image, "acme/web:1.4.2");
            assert!(message.contains("broke off"), "{message}");
        }
        other => panic!("expected PullFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn a_pull_stream_that_ends_without_the_final_status_is_a_failure() {
    let engine = ScriptedEngine::start(
        ScriptedEngine::socket_path(),
        vec![
            ("/version", Reply::Json(200, VERSION_20_10)),
            (
                "/images/create",
                Reply::Stream {
                    lines: vec![r#"{"status":"Pulling from acme/web","id":"1.4.2"}"#],
                    finished: true,
                },
            ),
        ],
    );
    let (result, _) = pull_through(&engine, "acme/web:1.4.2").await;
    assert!(
        matches!(result, Err(DockerError::PullFailed { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_complete_pull_stream_succeeds() {
    let engine = ScriptedEngine::start(
        ScriptedEngine::socket_path(),
        vec![
            ("/version", Reply::Json(200, VERSION_20_10)),
            (
                "/images/create",
                Reply::Stream {
                    lines: vec![
                        r#"{"status":"Pulling from acme/web","id":"1.4.2"}"#,
                        r#"{"status":"Digest: sha256:0123"}"#,
                        r#"{"status":"Status: Downloaded newer image for acme/web:1.4.2"}"#,
                    ],
                    finished: true,
                },
            ),
        ],
    );
    let (result, seen) = pull_through(&engine, "acme/web:1.4.2").await;
    result.expect("pull should succeed");
    assert_eq!(seen.len(), 3, "{seen:?}");
}

#[tokio::test]
async fn a_manifest_unknown_refusal_fails_the_pull_with_the_engines_message() {
    let engine = ScriptedEngine::start(
        ScriptedEngine::socket_path(),
        vec![
            ("/version", Reply::Json(200, VERSION_20_10)),
            (
                "/images/create",
                Reply::Json(
                    404,
                    r#"{"message":"manifest for acme/web:9 not found: manifest unknown: manifest unknown"}"#,
                ),
            ),
        ],
    );
    let (result, _) = pull_through(&engine, "acme/web:9").await;
    match result {
        Err(DockerError::PullFailed { image, message }) => {
            assert_eq!(image, "acme/web:9");
            assert!(message.contains("manifest unknown"), "{message}");
        }
        other => panic!("expected PullFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_ping_is_not_cached() {
    let socket = ScriptedEngine::socket_path();
    let client = DockerClient::new(Some(&format!("unix://{}", socket.display()))).unwrap();
    let first = client.ping().await;
    assert!(
        matches!(first, Err(DockerError::Unreachable { .. })),
        "{first:?}"
    );

    let _engine =
        ScriptedEngine::start(socket, vec![("/version", Reply::Json(200, VERSION_20_10))]);
    let info = client
        .ping()
        .await
        .expect("the second ping should reach the engine");
    assert_eq!(info.api_version, "1.41");
    assert_eq!(info.engine_version, "20.10.24");
}

#[tokio::test]
async fn an_engine_that_requires_a_newer_api_is_unsupported() {
    let engine = ScriptedEngine::start(
        ScriptedEngine::socket_path(),
        vec![(
            "/version",
            Reply::Json(
                200,
                r#"{"Version":"99.0.0","ApiVersion":"9.9","MinAPIVersion":"9.0"}"#,
            ),
        )],
    );
    let client = DockerClient::new(Some(&engine.host())).unwrap();
    let result = client.ping().await;
    assert!(
        matches!(result, Err(DockerError::UnsupportedEngine { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_engine_older_than_health_checks_is_unsupported() {
    let engine = ScriptedEngine::start(
        ScriptedEngine::socket_path(),
        vec![(
            "/version",
            Reply::Json(
                200,
                r#"{"Version":"1.11.2","ApiVersion":"1.23","MinAPIVersion":"1.12"}"#,
            ),
        )],
    );
    let client = DockerClient::new(Some(&engine.host())).unwrap();
    let result = client.ping().await;
    assert!(
        matches!(result, Err(DockerError::UnsupportedEngine { .. })),
        "{result:?}"
    );
}
