//! Everything the double remembers: users, tokens, proxy hosts (NPM's rows, deleted ones
//! kept as NPM's soft delete does), the nginx it drives, the requests it received and the
//! faults it has been told to play.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use crate::nginx::Nginx;
use crate::tokens::{Tokens, User};

/// A request as the double received it, for tests to check what a client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, decoded, sorted by name.
    pub query: Vec<(String, String)>,
    /// The bearer token sent, if any.
    pub bearer: Option<String>,
    /// The body, when it was JSON.
    pub body: Option<Value>,
}

/// A proxy host row.
#[derive(Debug, Clone)]
pub(crate) struct Host {
    /// The object NPM returns (without expansions).
    pub fields: Map<String, Value>,
    /// NPM deletes softly (`is_deleted = 1`): the row stays, invisible, its names free.
    pub deleted: bool,
}

impl Host {
    pub fn enabled(&self) -> bool {
        self.fields.get("enabled").and_then(Value::as_bool) == Some(true)
    }

    pub fn domain_names(&self) -> impl Iterator<Item = &str> {
        self.fields
            .get("domain_names")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }
}

pub(crate) struct State {
    pub users: Vec<User>,
    pub tokens: Tokens,
    pub token_lifetime: Duration,
    pub hosts: BTreeMap<u64, Host>,
    pub next_host_id: u64,
    pub nginx: Nginx,
    pub requests: Vec<RecordedRequest>,
    pub logins: usize,
    pub refreshes: usize,
    /// When the double started: the users' `created_on`.
    pub started: SystemTime,
}

/// Faults tests switch on.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Accept connections and read requests, but never answer.
    pub unresponsive: bool,
    /// Answers for the next requests, whatever they ask: `(status, message)`.
    pub failures: VecDeque<(u16, String)>,
    /// Creates that insert the row and then answer `500 Internal Error`, as NPM does when
    /// nginx as a whole fails after the insert.
    pub failing_creates: u32,
    /// The double is being dropped: unresponsive connections are released.
    pub stopping: bool,
}

/// What the API threads share.
pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub faults: Mutex<Faults>,
    /// Signalled when `unresponsive` or `stopping` changes.
    pub faults_changed: Condvar,
}

/// The data behind these locks stays usable even if a holder panicked.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// NPM's dates with SQLite: `2026-12-03 15:45:10`, UTC.
pub(crate) fn sqlite_time(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}
