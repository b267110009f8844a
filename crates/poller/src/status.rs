//! What the poller last saw, for people: per registry its rate limit and what polling it cost,
//! per stage the outcome of its last poll. The poller writes it after every cycle; the API reads
//! it. Cloning shares the board.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::poll_stage::StageOutcome;
use crate::poller::StageReport;
use crate::registry::{RateLimitState, RegistryClient};

/// One registry as the poller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryStatus {
    /// The registry's host (`registry-1.docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// What the registry last said about its rate limit, and whether the poller is backing off.
    pub rate_limit: RateLimitState,
    /// HTTP requests sent to it since the start, token requests included.
    pub requests_sent: u64,
}

/// The last poll of one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageStatus {
    /// The stage.
    pub stage_id: i64,
    /// `project/stage`.
    pub label: String,
    /// What the poll came to, in words.
    pub outcome: String,
    /// Whether it failed (the registry was down, refused us, answered nonsense).
    pub failed: bool,
    /// When it ended.
    pub at: SystemTime,
}

/// The shared board.
#[derive(Debug, Clone, Default)]
pub struct PollStatus {
    inner: Arc<Mutex<Board>>,
}

#[derive(Debug, Default)]
struct Board {
    last_cycle: Option<SystemTime>,
    registries: BTreeMap<String, RegistryStatus>,
    stages: BTreeMap<i64, StageStatus>,
}

impl PollStatus {
    /// When the last cycle ended; `None` before the first.
    pub fn last_cycle(&self) -> Option<SystemTime> {
        self.lock().last_cycle
    }

    /// Every registry polled so far, by host.
    pub fn registries(&self) -> Vec<RegistryStatus> {
        self.lock().registries.values().cloned().collect()
    }

    /// The last poll of every stage polled so far, by stage id.
    pub fn stages(&self) -> Vec<StageStatus> {
        self.lock().stages.values().cloned().collect()
    }

    /// Records a finished cycle: its stage reports and the state of the clients it used.
    pub(crate) fn record_cycle<'a>(
        &self,
        reports: &[StageReport],
        clients: impl Iterator<Item = &'a RegistryClient>,
    ) {
        let now = SystemTime::now();
        let mut board = self.lock();
        board.last_cycle = Some(now);
        // Several clients can serve one host (other credentials): add up what they cost, and
        // show the limit of the one that heard most recently that it must back off.
        let mut registries: BTreeMap<String, RegistryStatus> = BTreeMap::new();
        for client in clients {
            let status = registries
                .entry(client.registry().to_string())
                .or_insert_with(|| RegistryStatus {
                    registry: client.registry().to_string(),
                    rate_limit: RateLimitState::default(),
                    requests_sent: 0,
                });
            status.requests_sent += client.requests_sent();
            let rate = client.rate_limit();
            if rate.backing_off_until >= status.rate_limit.backing_off_until {
                status.rate_limit = rate;
            }
        }
        board.registries = registries;
        for report in reports {
            board.stages.insert(
                report.stage_id,
                StageStatus {
                    stage_id: report.stage_id,
                    label: report.label.clone(),
                    outcome: report.outcome.to_string(),
                    failed: matches!(report.outcome, StageOutcome::Error(_)),
                    at: now,
                },
            );
        }
    }

    /// Forgets stages no longer polled, so the board does not show them forever.
    pub(crate) fn keep_stages(&self, polled: &[i64]) {
        self.lock().stages.retain(|id, _| polled.contains(id));
    }

    fn lock(&self) -> MutexGuard<'_, Board> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
