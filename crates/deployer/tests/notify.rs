//! Notifications against local HTTP receivers: each configured kind gets one message of its
//! service's shape when a deploy succeeds, fails or waits for approval; a receiver that answers
//! 5xx is tried again; one that is dead neither fails nor slows the deploy, and its failure is
//! reported without the secret parts of its URL.
//!
//! Needs the testbed (`cargo xtask testbed`): the deploys are real.

mod support;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deployer::Delivery;
use serde_json::Value;
use store::{DeployStatus, NewStage};
use support::{Bed, stage};

/// Far more than any delivery here takes: only a hang trips it.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// Quick retries, so the tests do not wait out production backoffs.
fn quick(timeout: Duration) -> Delivery {
    Delivery {
        attempts: 3,
        backoff: Duration::from_millis(50),
        timeout,
    }
}

/// One request a receiver took.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    /// Path and query.
    target: String,
    /// Header names lowercased.
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }
}

/// In a receiver's script: take the connection and never answer it (nor record it).
const HOLD: u16 = 0;

/// A local HTTP server that records every request and answers with the next scripted status
/// (200 once the script is used up; [`HOLD`] holds the connection unanswered).
struct Receiver {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    fn answering(script: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let port = listener.local_addr().expect("its address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let held = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut script: VecDeque<u16> = script.iter().copied().collect();
        let (log, holding, stopped) = (received.clone(), held.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let status = script.pop_front().unwrap_or(200);
                if status == HOLD {
                    holding.lock().unwrap().push(stream);
                    continue;
                }
                if let Some(request) = serve(stream, status) {
                    log.lock().unwrap().push(request);
                }
            }
        });
        Receiver {
            port,
            received,
            held,
            stop,
        }
    }

    fn ok() -> Receiver {
        Receiver::answering(&[])
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Waits until `count` connections are held unanswered.
    fn wait_holding(&self, count: usize) {
        let deadline = std::time::Instant::now() + DELIVERY_TIMEOUT;
        while self.held.lock().unwrap().len() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "no notification arrived to hold"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The one request this receiver took.
    fn only(&self) -> Received {
        let received = self.received();
        assert_eq!(received.len(), 1, "one request expected: {received:#?}");
        received.into_iter().next().unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one request and answers it with `status`.
fn serve(stream: TcpStream, status: u16) -> Option<Received> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let answer = if status == 200 { "ok" } else { "try later" };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} Whatever\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    Some(Received {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A port that accepts connections and never answers.
struct BlackHole {
    port: u16,
}

impl BlackHole {
    fn new() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let port = listener.local_addr().expect("its address").port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        });
        BlackHole { port }
    }
}

/// A port nothing listens on.
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    listener.local_addr().expect("its address").port()
}

/// Every log record of this test binary: the deployer's at any level, everything else at info
/// and above (the server keeps HTTP client libraries at info too).
fn captured_logs() -> &'static Mutex<Vec<String>> {
    static LOGS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    struct Capture;
    impl log::Log for Capture {
        fn enabled(&self, metadata: &log::Metadata) -> bool {
            metadata.target().starts_with("deployer") || metadata.level() <= log::Level::Info
        }
        fn log(&self, record: &log::Record) {
            if self.enabled(record.metadata()) {
                let line = format!("{} {}: {}", record.level(), record.target(), record.args());
                captured_logs().lock().unwrap().push(line);
            }
        }
        fn flush(&self) {}
    }
    LOGS.get_or_init(|| {
        static CAPTURE: Capture = Capture;
        if log::set_logger(&CAPTURE).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
        Mutex::new(Vec::new())
    })
}

fn wait_for_notifications(bed: &Bed) {
    assert!(
        bed.deployer.notifier().wait_idle(DELIVERY_TIMEOUT),
        "notifications still being sent after {}s",
        DELIVERY_TIMEOUT.as_secs()
    );
}

fn approval_stage() -> NewStage {
    NewStage {
        auto_deploy: false,
        ..stage("prod", "v*")
    }
}

#[test]
fn a_successful_deploy_sends_one_message_of_each_kind() {
    let (webhook, ntfy, gotify, discord, slack) = (
        Receiver::ok(),
        Receiver::ok(),
        Receiver::ok(),
        Receiver::ok(),
        Receiver::ok(),
    );
    let bed = Bed::with_notifications(
        vec![stage("dev", "v*")],
        &[
            ("webhook", &webhook.url("/hooks/deploys")),
            ("ntfy", &ntfy.url("/deploys-topic")),
            ("gotify", &gotify.url("/message?token=AppTok3n")),
            ("discord", &discord.url("/api/webhooks/123/disc-tok")),
            ("slack", &slack.url("/services/T0/B0/slack-tok")),
        ],
    );
    let deploy = bed.deploy_ok("v1");
    wait_for_notifications(&bed);
    let digest = deploy.digest.clone().expect("the deploy knows its digest");
    let headline = format!("{}/dev: v1 deployed", bed.project);
    let image = bed.reference("v1");

    let hook = webhook.only();
    assert_eq!(
        (hook.method.as_str(), hook.target.as_str()),
        ("POST", "/hooks/deploys")
    );
    assert_eq!(hook.header("content-type"), Some("application/json"));
    let document = hook.json();
    let at = document["at"].as_str().unwrap_or_default().to_owned();
    assert!(at.ends_with('Z') && at.len() == 24, "{document}");
    assert_eq!(
        document,
        serde_json::json!({
            "event": "succeeded",
            "project": bed.project,
            "stage": "dev",
            "tag": "v1",
            "image": image,
            "digest": digest,
            "deploy_id": deploy.id,
            "status": "succeeded",
            "reason": null,
            "at": at,
        })
    );

    let topic = ntfy.only();
    assert_eq!(
        (topic.method.as_str(), topic.target.as_str()),
        ("POST", "/deploys-topic")
    );
    assert_eq!(topic.header("title"), Some(headline.as_str()));
    assert_eq!(topic.header("priority"), Some("3"));
    assert_eq!(
        topic.header("tags"),
        Some("white_check_mark,docker-watcher")
    );
    assert_eq!(
        topic.body,
        format!(
            "Deploy {} of {image} to {}/dev succeeded.\nDigest: {digest}",
            deploy.id, bed.project
        )
    );

    let push = gotify.only();
    assert_eq!(
        (push.method.as_str(), push.target.as_str()),
        ("POST", "/message?token=AppTok3n")
    );
    assert_eq!(push.header("content-type"), Some("application/json"));
    let body = push.json();
    assert_eq!(body["title"], headline.as_str());
    assert_eq!(body["priority"], 5);
    assert_eq!(body["message"], topic.body.as_str());

    let chat = discord.only();
    assert_eq!(chat.target, "/api/webhooks/123/disc-tok");
    let body = chat.json();
    assert_eq!(body["content"], headline.as_str());
    assert_eq!(body["allowed_mentions"], serde_json::json!({"parse": []}));
    let embed = &body["embeds"][0];
    assert_eq!(embed["title"], "Deploy succeeded");
    assert_eq!(embed["color"], 0x2EA043);
    assert_eq!(embed["timestamp"], at.as_str());
    assert_eq!(embed["fields"][0]["value"], bed.project.as_str());
    assert_eq!(embed["fields"][2]["value"], "v1");

    let channel = slack.only();
    assert_eq!(channel.target, "/services/T0/B0/slack-tok");
    let body = channel.json();
    let text = body["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!("{headline}: Deploy {}", deploy.id)),
        "{text}"
    );
    assert_eq!(body["blocks"][0]["type"], "section");
    assert_eq!(
        body["blocks"][1]["fields"][0]["text"],
        format!("*Project*\n{}", bed.project)
    );

    let log = bed.log_text(deploy.id);
    assert!(!log.contains("notification to"), "{log}");
}

#[test]
fn a_failed_deploy_sends_failed_with_the_reason() {
    let webhook = Receiver::ok();
    let ntfy = Receiver::ok();
    let bed = Bed::with_notifications(
        vec![stage("dev", "*")],
        &[
            ("webhook", &webhook.url("/hook")),
            ("ntfy", &ntfy.url("/alerts")),
        ],
    );
    let failed = bed.deploy("crashing");
    assert_eq!(failed.status, DeployStatus::Failed);
    wait_for_notifications(&bed);
    let reason = failed.reason.clone().expect("a failed deploy says why");

    let document = webhook.only().json();
    assert_eq!(document["event"], "failed");
    assert_eq!(document["status"], "failed");
    assert_eq!(document["tag"], "crashing");
    assert_eq!(document["deploy_id"], failed.id);
    assert_eq!(document["reason"], reason.as_str());

    let topic = ntfy.only();
    assert_eq!(
        topic.header("title"),
        Some(format!("{}/dev: crashing failed to deploy", bed.project).as_str())
    );
    assert_eq!(topic.header("priority"), Some("4"));
    assert!(
        topic.body.contains(&format!("Reason: {reason}")),
        "{}",
        topic.body
    );
}

#[test]
fn a_stage_without_auto_deploy_sends_waiting_for_approval() {
    let webhook = Receiver::ok();
    let slack = Receiver::ok();
    let bed = Bed::with_notifications(
        vec![approval_stage()],
        &[
            ("webhook", &webhook.url("/hook")),
            ("slack", &slack.url("/services/T/B/x")),
        ],
    );
    bed.push("v1");
    let waiting = bed.announce_one("v1");
    assert_eq!(waiting.status, DeployStatus::WaitingApproval);
    // The same request announced again is not news.
    bed.announce_one("v1");
    wait_for_notifications(&bed);

    let document = webhook.only().json();
    assert_eq!(document["event"], "waiting_approval");
    assert_eq!(document["status"], "waiting_approval");
    assert_eq!(document["stage"], "prod");
    assert_eq!(document["deploy_id"], waiting.deploy_id);
    let text = slack.only().json()["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        text.starts_with(&format!("{}/prod: v1 waits for approval", bed.project)),
        "{text}"
    );
}

#[test]
fn a_receiver_answering_500_twice_is_tried_again_until_it_takes_the_message() {
    let flaky = Receiver::answering(&[500, 500, 200]);
    let bed = Bed::with_notifications(vec![approval_stage()], &[("webhook", &flaky.url("/h"))]);
    bed.deployer
        .notifier()
        .set_delivery(quick(Duration::from_secs(5)));
    bed.push("v1");
    let waiting = bed.announce_one("v1");
    wait_for_notifications(&bed);

    let received = flaky.received();
    assert_eq!(received.len(), 3, "{received:#?}");
    assert!(received.iter().all(|r| r.body == received[0].body));
    assert_eq!(received[2].json()["event"], "waiting_approval");
    let log = bed.log_text(waiting.deploy_id);
    assert!(
        !log.contains("notification to"),
        "delivered in the end:\n{log}"
    );
}

#[test]
fn a_receiver_refusing_the_message_is_not_tried_again() {
    let refusing = Receiver::answering(&[404]);
    let bed = Bed::with_notifications(
        vec![approval_stage()],
        &[("discord", &refusing.url("/api/webhooks/1/gone"))],
    );
    bed.deployer
        .notifier()
        .set_delivery(quick(Duration::from_secs(5)));
    bed.push("v1");
    let waiting = bed.announce_one("v1");
    wait_for_notifications(&bed);

    assert_eq!(refusing.received().len(), 1);
    let log = bed.log_text(waiting.deploy_id);
    let expected = format!(
        "notification to discord failed: 127.0.0.1:{}: answered HTTP 404: try later",
        refusing.port
    );
    assert!(log.contains(&expected), "{log}");
}

#[test]
fn a_dead_receiver_neither_fails_nor_slows_the_deploy_and_keeps_its_secret() {
    let logs = captured_logs();
    let hole = BlackHole::new();
    let dead = dead_port();
    let good = Receiver::ok();
    let hole_url = format!(
        "http://127.0.0.1:{}/hooks/zqhush-path-1?key=zqhush-key-2",
        hole.port
    );
    let dead_url = format!("http://user:zqhush-pass-3@127.0.0.1:{dead}/services/zqhush-slack-4");
    let bed = Bed::with_notifications(
        vec![stage("dev", "v*")],
        &[
            ("webhook", &hole_url),
            ("slack", &dead_url),
            ("ntfy", &good.url("/still-told")),
        ],
    );
    // Each try of the black hole takes the whole timeout: at least 6 s in all.
    bed.deployer
        .notifier()
        .set_delivery(quick(Duration::from_secs(2)));

    let deploy = bed.deploy_ok("v1");
    let idle_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    let finished_at = deploy.finished_at.expect("the deploy finished");
    assert!(
        idle_at - finished_at < 1_500,
        "the deployer was idle {} ms after the deploy finished",
        idle_at - finished_at
    );
    wait_for_notifications(&bed);

    assert_eq!(
        good.only().header("title").map(str::to_owned),
        Some(format!("{}/dev: v1 deployed", bed.project))
    );
    let log = bed.log_text(deploy.id);
    assert!(
        log.contains(&format!(
            "notification to webhook failed: 127.0.0.1:{}: timeout",
            hole.port
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!("notification to slack failed: 127.0.0.1:{dead}: ")),
        "{log}"
    );
    assert!(log.contains("(3 attempts)"), "{log}");
    assert!(!log.contains("zqhush"), "{log}");

    let logs = logs.lock().unwrap().clone();
    let about_it: Vec<&String> = logs
        .iter()
        .filter(|line| line.contains(&format!("deploy {}:", deploy.id)))
        .collect();
    assert!(
        about_it
            .iter()
            .any(|line| line.contains("notification to webhook failed")),
        "{about_it:#?}"
    );
    let leaked: Vec<&String> = logs.iter().filter(|line| line.contains("zqhush")).collect();
    assert!(
        leaked.is_empty(),
        "secret URL parts in the log: {leaked:#?}"
    );
}

/// A run that dies with a notice in flight: the receiver takes the first delivery and never
/// answers, and the next run starts while it hangs.
fn killed_mid_delivery(stages: Vec<NewStage>, receiver: &Receiver) -> Bed {
    let bed = Bed::with_notifications(stages, &[("webhook", &receiver.url("/h"))]);
    bed.deployer.notifier().set_delivery(Delivery {
        attempts: 1,
        ..quick(DELIVERY_TIMEOUT)
    });
    bed.push("v1");
    bed
}

/// Starts the next run, which must send exactly one notice the killed run left; returns it.
fn next_run_sends_what_was_left(bed: &Bed, receiver: &Receiver) -> Value {
    let next = bed.next_run();
    let reconciled = next.reconcile().expect("the next run reconciles");
    assert_eq!(reconciled.resent_notices, 1, "{reconciled:?}");
    assert!(next.notifier().wait_idle(DELIVERY_TIMEOUT));
    let sent = receiver.only().json();
    // Handled notices are forgotten: a further run has nothing to send.
    let after = bed
        .next_run()
        .reconcile()
        .expect("a further run reconciles");
    assert_eq!(after.resent_notices, 0, "{after:?}");
    sent
}

#[test]
fn a_request_for_approval_left_unsent_by_a_killed_run_is_sent_by_the_next() {
    let receiver = Receiver::answering(&[HOLD]);
    let bed = killed_mid_delivery(vec![approval_stage()], &receiver);
    let waiting = bed.announce_one("v1");
    receiver.wait_holding(1);

    let sent = next_run_sends_what_was_left(&bed, &receiver);
    assert_eq!(sent["event"], "waiting_approval", "{sent}");
    assert_eq!(sent["deploy_id"], waiting.deploy_id, "{sent}");
}

#[test]
fn the_end_of_a_deploy_left_unsent_by_a_killed_run_is_sent_by_the_next() {
    let receiver = Receiver::answering(&[HOLD]);
    let bed = killed_mid_delivery(vec![stage("dev", "v*")], &receiver);
    let deployed = bed.deploy_ok("v1");
    receiver.wait_holding(1);

    let sent = next_run_sends_what_was_left(&bed, &receiver);
    assert_eq!(sent["event"], "succeeded", "{sent}");
    assert_eq!(sent["deploy_id"], deployed.id, "{sent}");
}

#[test]
fn a_request_for_approval_decided_before_the_next_run_is_not_sent() {
    let receiver = Receiver::answering(&[HOLD]);
    let bed = killed_mid_delivery(vec![approval_stage()], &receiver);
    let waiting = bed.announce_one("v1");
    receiver.wait_holding(1);
    bed.store
        .decide_deploy(waiting.deploy_id, store::Decision::Reject, "test")
        .expect("the request is decided");

    let next = bed.next_run();
    let reconciled = next.reconcile().expect("the next run reconciles");
    assert_eq!(reconciled.resent_notices, 0, "{reconciled:?}");
    assert!(receiver.received().is_empty());
    assert!(bed.store.pending_notices().unwrap().is_empty());
}
