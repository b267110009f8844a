//! The notifier: a bounded queue and one background thread that sends each notice to every
//! configured target, each target on its own short-lived thread so a slow one does not hold up
//! the others. Target URLs are opened from the store only when sending and never logged: a
//! failure names the target's kind and host.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use events::{EventBody, Hub};
use store::{Notification, SecretPlace, Store, secret_columns};

use super::{Kind, Notice, Request, clip};
use crate::secrets::Secrets;

/// How many notices may wait to be sent; past that new ones are dropped (and logged), so a
/// deploy never waits for a notification.
const QUEUE_CAPACITY: usize = 256;

/// The longest a target's `Retry-After` is honoured.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(30);

/// How much of a refusing target's answer is read, and how much of it is reported.
const ANSWER_READ_MAX: u64 = 4096;
const ANSWER_SHOWN_MAX: usize = 200;

/// How each target is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Tries per target (at least one). A target is tried again after a network error, a
    /// timeout, HTTP 408, 429 or 5xx; any other answer is final.
    pub attempts: u32,
    /// The wait before the second try; it doubles for each later one. A `Retry-After` from the
    /// target (up to 30 s) takes its place.
    pub backoff: Duration,
    /// The longest one request may take, connecting included.
    pub timeout: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            attempts: 3,
            backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Sends notices to the configured targets in the background. Cheap to clone; nothing here
/// blocks for longer than it takes to queue a notice.
#[derive(Clone)]
pub struct Notifier {
    shared: Arc<Shared>,
    /// Where accepted notices are kept until handled (the outbox).
    store: Store,
    /// None when the sending thread could not be started: notices are then only logged.
    queue: Option<SyncSender<Job>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("pending", &*self.shared.lock())
            .field("delivery", &self.delivery())
            .finish()
    }
}

struct Shared {
    /// Notices queued or being sent.
    pending: Mutex<usize>,
    /// Signalled when `pending` drops.
    idle: Condvar,
    delivery: RwLock<Delivery>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn done(&self) {
        let mut pending = self.lock();
        *pending = pending.saturating_sub(1);
        self.idle.notify_all();
    }
}

/// What the sending thread is asked to do, with the outbox row to forget once it is done (none
/// when the notice could not be recorded).
struct Job {
    what: JobKind,
    outbox_id: Option<i64>,
}

enum JobKind {
    Notice(Notice),
    /// The deploy has ended: announce how, as the store has it.
    Finished(i64),
}

/// The outbox's name for the end of a deploy, whose notice is read from the store when sent.
const FINISHED: &str = "finished";

impl Notifier {
    /// A notifier reading its targets from `store`, opening their URLs with `secrets`, and
    /// writing failures to the deploy logs (and out as events through `hub`). Starts the
    /// sending thread, which ends when the last clone of the notifier is dropped.
    pub fn new(store: Store, hub: Hub, secrets: Secrets) -> Notifier {
        let shared = Arc::new(Shared {
            pending: Mutex::new(0),
            idle: Condvar::new(),
            delivery: RwLock::new(Delivery::default()),
        });
        let (queue, jobs) = sync_channel(QUEUE_CAPACITY);
        let worker = Worker {
            store: store.clone(),
            hub,
            secrets,
            shared: shared.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name("dw-notify".into())
            .spawn(move || worker.run(jobs));
        let queue = match spawned {
            Ok(_) => Some(queue),
            Err(error) => {
                log::error!(
                    "cannot start the notification thread; no notification will be sent: {error}"
                );
                None
            }
        };
        Notifier {
            shared,
            store,
            queue,
        }
    }

    /// Queues `notice` for every configured target. Returns at once.
    pub fn send(&self, notice: Notice) {
        let outbox_id = self.record(notice.facts().deploy_id, notice.event());
        self.enqueue(Job {
            what: JobKind::Notice(notice),
            outbox_id,
        });
    }

    /// Queues the notice of a deploy that has ended (succeeded or failed), read from the store
    /// when it is sent. Returns at once.
    pub fn deploy_finished(&self, deploy_id: i64) {
        let outbox_id = self.record(deploy_id, FINISHED);
        self.enqueue(Job {
            what: JobKind::Finished(deploy_id),
            outbox_id,
        });
    }

    /// Queues the notices an earlier run accepted and did not get to handle (it was killed,
    /// say). A request for approval that has been decided since is dropped: it is no longer
    /// news. Returns how many were queued. Call once at start, before new notices.
    pub fn resume_pending(&self) -> usize {
        let pending = match self.store.pending_notices() {
            Ok(pending) => pending,
            Err(error) => {
                log::error!("cannot read the notices an earlier run left unsent: {error}");
                return 0;
            }
        };
        let mut queued = 0;
        for notice in pending {
            let what = if notice.event == Notice::WAITING_APPROVAL {
                let still_waiting = self
                    .store
                    .deploy_view(notice.deploy_id)
                    .ok()
                    .filter(|view| view.deploy.status == store::DeployStatus::WaitingApproval);
                match still_waiting {
                    Some(view) => {
                        JobKind::Notice(Notice::WaitingApproval(super::Facts::of_view(&view)))
                    }
                    None => {
                        forget(&self.store, notice.id);
                        continue;
                    }
                }
            } else {
                JobKind::Finished(notice.deploy_id)
            };
            self.enqueue(Job {
                what,
                outbox_id: Some(notice.id),
            });
            queued += 1;
        }
        if queued > 0 {
            log::info!("sending {queued} notification(s) an earlier run left unsent");
        }
        queued
    }

    /// Writes a notice to the outbox; without it the notice is still sent, only not again
    /// after a crash.
    fn record(&self, deploy_id: i64, event: &str) -> Option<i64> {
        self.store
            .add_pending_notice(deploy_id, event)
            .map_err(|error| {
                log::warn!(
                    "deploy {deploy_id}: the {event} notification is sent unrecorded: {error}"
                )
            })
            .ok()
    }

    /// How targets are tried from now on.
    pub fn set_delivery(&self, delivery: Delivery) {
        *self
            .shared
            .delivery
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = delivery;
    }

    /// How targets are tried.
    pub fn delivery(&self) -> Delivery {
        *self
            .shared
            .delivery
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until every queued notice has been sent or given up on, at most `timeout`. True
    /// when idle.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut pending = self.shared.lock();
        while *pending > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            pending = match self.shared.idle.wait_timeout(pending, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    fn enqueue(&self, job: Job) {
        let Some(queue) = &self.queue else {
            refused(&job, "the notification thread is not running");
            return;
        };
        *self.shared.lock() += 1;
        let (job, reason) = match queue.try_send(job) {
            Ok(()) => return,
            Err(TrySendError::Full(job)) => (job, "the notification queue is full"),
            Err(TrySendError::Disconnected(job)) => (job, "the notification thread has stopped"),
        };
        self.shared.done();
        refused(&job, reason);
    }
}

/// Removes a handled notice from the outbox; a failure only means it may be sent again.
fn forget(store: &Store, outbox_id: i64) {
    if let Err(error) = store.remove_pending_notice(outbox_id) {
        log::warn!("{error}; the notice may be sent again at the next start");
    }
}

/// Logs a notice that could not be queued; one in the outbox goes out at the next start.
fn refused(job: &Job, reason: &str) {
    let later = if job.outbox_id.is_some() {
        "; it is sent at the next start"
    } else {
        ""
    };
    log::warn!("{}: not sent now, {reason}{later}", job.what());
}

impl Job {
    fn what(&self) -> String {
        match &self.what {
            JobKind::Notice(notice) => format!(
                "the {} notification of deploy {}",
                notice.event(),
                notice.facts().deploy_id
            ),
            JobKind::Finished(deploy_id) => format!("the notification of deploy {deploy_id}"),
        }
    }
}

/// The sending thread's side.
struct Worker {
    store: Store,
    hub: Hub,
    secrets: Secrets,
    shared: Arc<Shared>,
}

impl Worker {
    fn run(self, jobs: Receiver<Job>) {
        for job in jobs {
            let handled =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(job.what)));
            if handled.is_err() {
                log::error!("sending a notification panicked; the next ones are still sent");
            }
            // Handled either way: a notice that failed was reported, and would fail again.
            if let Some(outbox_id) = job.outbox_id {
                forget(&self.store, outbox_id);
            }
            self.shared.done();
        }
    }

    fn handle(&self, job: JobKind) {
        let notice = match job {
            JobKind::Notice(notice) => notice,
            JobKind::Finished(deploy_id) => match self.store.deploy_view(deploy_id) {
                Ok(view) => match Notice::finished(&view) {
                    Some(notice) => notice,
                    None => return,
                },
                Err(error) => {
                    log::error!("deploy {deploy_id}: cannot read it to notify: {error}");
                    return;
                }
            },
        };
        let targets = match self.store.notifications() {
            Ok(targets) => targets,
            Err(error) => {
                log::error!(
                    "deploy {}: cannot list the notification targets: {error}",
                    notice.facts().deploy_id
                );
                return;
            }
        };
        if targets.is_empty() {
            return;
        }
        let delivery = self.shared_delivery();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(delivery.timeout))
            // A redirect of a POST would lose its body; a moved hook is reported instead.
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("docker-watcher/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        std::thread::scope(|scope| {
            for target in &targets {
                let (agent, notice) = (&agent, &notice);
                let work = move || self.deliver(agent, &delivery, target, notice);
                let spawned = std::thread::Builder::new()
                    .name("dw-notify-target".into())
                    .spawn_scoped(scope, work);
                if let Err(error) = spawned {
                    log::warn!(
                        "cannot start a thread for a notification target ({error}); sending in turn"
                    );
                    self.deliver(agent, &delivery, target, notice);
                }
            }
        });
    }

    fn shared_delivery(&self) -> Delivery {
        *self
            .shared
            .delivery
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends `notice` to one target, retrying as `delivery` says; reports a failure.
    fn deliver(
        &self,
        agent: &ureq::Agent,
        delivery: &Delivery,
        target: &Notification,
        notice: &Notice,
    ) {
        let Some(kind) = Kind::parse(&target.kind) else {
            self.failed(notice, &target.kind, "", "this kind of target is not known");
            return;
        };
        let place = SecretPlace::new(secret_columns::NOTIFICATION_URL, target.id);
        let Ok(url) = self.secrets.open(place, &target.url) else {
            self.failed(
                notice,
                &target.kind,
                "",
                "its URL does not open with the secret key",
            );
            return;
        };
        let request = super::request(kind, notice, url.expose());
        let host = host_of(&request.url);
        match post_with_retries(agent, delivery, &request) {
            Ok(attempts) => log::info!(
                "deploy {}: {} notification sent to {} ({host}){}",
                notice.facts().deploy_id,
                notice.event(),
                target.kind,
                if attempts > 1 {
                    format!(" at attempt {attempts}")
                } else {
                    String::new()
                }
            ),
            Err(reason) => self.failed(notice, &target.kind, host, &reason),
        }
    }

    /// Logs a failed notification (kind and host only) and says so in the deploy's log.
    fn failed(&self, notice: &Notice, kind: &str, host: &str, reason: &str) {
        let deploy_id = notice.facts().deploy_id;
        let at = if host.is_empty() {
            String::new()
        } else {
            format!("{host}: ")
        };
        let line = format!("notification to {kind} failed: {at}{reason}");
        log::warn!("deploy {deploy_id}: {} {line}", notice.event());
        match self.store.append_log(deploy_id, &line) {
            Ok(logged) => {
                self.hub.publish(EventBody::DeployLog {
                    deploy_id,
                    seq: logged.seq,
                    at_ms: logged.at,
                    message: logged.message,
                });
            }
            Err(error) => log::warn!("deploy {deploy_id}: cannot record a log line: {error}"),
        }
    }
}

/// How one attempt went.
enum Attempt {
    Delivered,
    /// A final answer: trying again would not help.
    Refused(String),
    /// Worth another try, after `after` when the target says.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

/// POSTs `request` until it is delivered, refused, or out of attempts. Returns the number of
/// the attempt that delivered it, or why it failed (without the URL).
fn post_with_retries(
    agent: &ureq::Agent,
    delivery: &Delivery,
    request: &Request,
) -> Result<u32, String> {
    let attempts = delivery.attempts.max(1);
    let mut backoff = delivery.backoff;
    let mut last = String::new();
    for attempt in 1..=attempts {
        match post(agent, request) {
            Attempt::Delivered => return Ok(attempt),
            Attempt::Refused(reason) => {
                return Err(if attempt > 1 {
                    format!("{reason} (attempt {attempt})")
                } else {
                    reason
                });
            }
            Attempt::Retry { reason, after } => {
                last = reason;
                if attempt < attempts {
                    std::thread::sleep(after.map_or(backoff, |after| after.min(RETRY_AFTER_MAX)));
                    backoff = backoff.saturating_mul(2);
                }
            }
        }
    }
    Err(format!("{last} ({attempts} attempts)"))
}

fn post(agent: &ureq::Agent, request: &Request) -> Attempt {
    let (url, authorization) = split_userinfo(&request.url);
    let mut builder = agent.post(&url);
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    if let Some(authorization) = &authorization {
        builder = builder.header("Authorization", authorization);
    }
    let mut response = match builder.send(&request.body[..]) {
        Ok(response) => response,
        Err(error) => {
            return Attempt::Retry {
                reason: scrub(&error.to_string(), &request.url),
                after: None,
            };
        }
    };
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Attempt::Delivered;
    }
    let after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .map(|secs| Duration::from_secs_f64(secs.min(RETRY_AFTER_MAX.as_secs_f64())));
    let answer = response
        .body_mut()
        .with_config()
        .limit(ANSWER_READ_MAX)
        .read_to_string()
        .unwrap_or_default();
    let answer = clip(
        answer
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
        ANSWER_SHOWN_MAX,
    );
    let reason = if answer.is_empty() {
        format!("answered HTTP {status}")
    } else {
        format!("answered HTTP {status}: {answer}")
    };
    let reason = scrub(&reason, &request.url);
    if status == 408 || status == 429 || status >= 500 {
        Attempt::Retry { reason, after }
    } else {
        Attempt::Refused(reason)
    }
}

/// The host (and port) of `url`, without any credentials: what may be logged of a target.
pub(crate) fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// `url` without `user:password@`, and those credentials as a Basic `Authorization` value.
fn split_userinfo(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some((userinfo, host)) = rest[..end].rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let mut credentials = percent_decode(user);
    credentials.push(b':');
    credentials.extend(percent_decode(password));
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    );
    (format!("{scheme}://{host}{}", &rest[end..]), Some(header))
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    out
}

/// `text` with every part of `url` that may be secret (the whole URL, what follows the host,
/// credentials, long path segments and query values) replaced by `…`.
pub(crate) fn scrub(text: &str, url: &str) -> String {
    let host = host_of(url);
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let mut secrets = vec![url, &rest[authority.len()..]];
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        secrets.push(userinfo);
        secrets.extend(userinfo.split(':'));
    }
    secrets.extend(
        rest[authority.len()..]
            .split(['/', '?', '&', '=', '#', ';'])
            .filter(|piece| piece.len() >= 6 && *piece != host),
    );
    secrets.retain(|secret| secret.len() > 1);
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    let mut out = text.to_owned();
    for secret in secrets {
        out = out.replace(secret, "…");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_all_that_is_shown_of_a_url() {
        assert_eq!(
            host_of("https://hooks.slack.com/services/T0/B0/XyZ"),
            "hooks.slack.com"
        );
        assert_eq!(
            host_of("http://user:pw@127.0.0.1:8080/topic?auth=tk"),
            "127.0.0.1:8080"
        );
        assert_eq!(
            host_of("https://push.example.com?token=A1"),
            "push.example.com"
        );
    }

    #[test]
    fn credentials_in_the_url_become_basic_auth() {
        let (url, auth) = split_userinfo("https://phil:my%20pass@ntfy.example.com/alerts");
        assert_eq!(url, "https://ntfy.example.com/alerts");
        // base64("phil:my pass")
        assert_eq!(auth.as_deref(), Some("Basic cGhpbDpteSBwYXNz"));
        let (url, auth) = split_userinfo("https://ntfy.example.com/alerts?auth=tk_1");
        assert_eq!(url, "https://ntfy.example.com/alerts?auth=tk_1");
        assert_eq!(auth, None);
    }

    #[test]
    fn scrub_removes_every_secret_part_of_the_url() {
        let url =
            "https://bob:hunter22@hooks.example.com/services/T0123/B0456/s3cretT0ken?key=abcdefgh";
        let text = format!(
            "bad uri: {url}; path /services/T0123/B0456/s3cretT0ken; token s3cretT0ken; key abcdefgh; pw hunter22"
        );
        let clean = scrub(&text, url);
        for secret in ["s3cretT0ken", "abcdefgh", "hunter22", "bob:"] {
            assert!(!clean.contains(secret), "{secret} left in {clean}");
        }
        assert!(clean.starts_with("bad uri: …;"), "{clean}");
    }

    #[test]
    fn scrub_leaves_ordinary_words_alone() {
        let url = "http://127.0.0.1:9/hook";
        assert_eq!(
            scrub("io: Connection refused (os error 111)", url),
            "io: Connection refused (os error 111)"
        );
    }

    #[test]
    fn an_unstarted_queue_counts_nothing_pending() {
        let dir = tempfile::tempdir().unwrap();
        let notifier = Notifier {
            store: Store::open(&dir.path().join("dw.sqlite")).unwrap(),
            shared: Arc::new(Shared {
                pending: Mutex::new(0),
                idle: Condvar::new(),
                delivery: RwLock::new(Delivery::default()),
            }),
            queue: None,
        };
        notifier.deploy_finished(1);
        assert!(notifier.wait_idle(Duration::ZERO));
    }
}
