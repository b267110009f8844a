//! The poller: the fallback detector for registries that cannot call the webhook. Every cycle
//! it polls each stage with `poll` on (several at once, up to a bound), through one
//! [`RegistryClient`] per registry kept across cycles so tokens stay cached, and hands what is
//! new to its [`PollTarget`]. One stage's failure never stops the others. The store is read
//! once at the start of a cycle ([`Snapshot`]), and the stages that found nothing new have their
//! check recorded together at its end ([`record_checks`]), so a quiet cycle costs little more
//! than its registry requests.

use std::collections::HashMap;
use std::fmt;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use store::{Project, Stage, Store};

use crate::checks::record_checks;
use crate::poll_stage::{StageOutcome, StagePoll};
use crate::reference::ImageName;
use crate::registry::{ClientConfig, RegistryClient};
use crate::snapshot::Snapshot;
use crate::status::PollStatus;
use crate::target::PollTarget;

/// Tunables of the poller.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// How many stages are polled at the same time.
    pub max_concurrent_stages: usize,
    /// Limits of each registry client.
    pub client: ClientConfig,
}

impl Default for PollerConfig {
    fn default() -> PollerConfig {
        PollerConfig {
            max_concurrent_stages: 4,
            client: ClientConfig::default(),
        }
    }
}

/// One cycle's result, stage by stage (ordered by project and stage id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// One entry per polled stage.
    pub stages: Vec<StageReport>,
}

impl PollReport {
    /// The entry of one stage, if it was polled.
    pub fn stage(&self, stage_id: i64) -> Option<&StageReport> {
        self.stages
            .iter()
            .find(|report| report.stage_id == stage_id)
    }
}

/// What became of one stage in a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageReport {
    /// The stage.
    pub stage_id: i64,
    /// `project/stage`, for logs.
    pub label: String,
    /// What happened.
    pub outcome: StageOutcome,
}

impl fmt::Display for StageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label, self.outcome)
    }
}

/// Watches registries for the stages that opt in.
pub struct Poller {
    store: Store,
    target: Arc<dyn PollTarget>,
    config: PollerConfig,
    /// Clients by registry and credentials, kept across cycles.
    clients: Mutex<HashMap<String, RegistryClient>>,
    status: PollStatus,
}

impl Poller {
    /// A poller over the store's stages, reporting to `target`.
    pub fn new(store: Store, target: Arc<dyn PollTarget>, config: PollerConfig) -> Poller {
        Poller {
            store,
            target,
            config,
            clients: Mutex::new(HashMap::new()),
            status: PollStatus::default(),
        }
    }

    /// The board this poller writes after every cycle; take it before [`Poller::spawn`].
    pub fn status(&self) -> PollStatus {
        self.status.clone()
    }

    /// One cycle over every stage with `poll` on.
    pub fn poll_once(&self) -> PollReport {
        let stages = match self.store.polled_stages() {
            Ok(stages) => stages,
            Err(error) => {
                log::error!("poller: cannot list the polled stages: {error}");
                return PollReport::default();
            }
        };
        let snapshot = Snapshot::read(&self.store, &stages);
        let next = Mutex::new(stages.iter());
        let handed_over = Mutex::new(HashMap::new());
        let reports = Mutex::new(Vec::with_capacity(stages.len()));
        let workers = self
            .config
            .max_concurrent_stages
            .clamp(1, stages.len().max(1));
        thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let stage = match next.lock() {
                            Ok(mut next) => next.next(),
                            Err(poisoned) => poisoned.into_inner().next(),
                        };
                        let Some(stage) = stage else { return };
                        let report = self.poll_stage(stage, &snapshot, &handed_over);
                        log_report(&report);
                        reports
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .push(report);
                    }
                });
            }
        });
        let mut stages = reports
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        stages.sort_by_key(|report| report.stage_id);
        record_checks(&self.store, &mut stages);
        let polled: Vec<i64> = stages.iter().map(|report| report.stage_id).collect();
        self.status.keep_stages(&polled);
        self.status
            .record_cycle(&stages, self.lock_clients().values());
        PollReport { stages }
    }

    /// Runs a cycle now and then every `interval` (±10 %) on a thread of its own, until the
    /// handle is dropped.
    pub fn spawn(self, interval: Duration) -> PollerHandle {
        let (stop, stopped) = mpsc::channel::<()>();
        let (done, finished) = mpsc::channel::<()>();
        let spawned = thread::Builder::new()
            .name("dw-poller".into())
            .spawn(move || {
                loop {
                    self.poll_once();
                    match stopped.recv_timeout(jittered(interval)) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                // The store's connections close here, before the handle's owner goes on.
                drop(self);
                let _ = done.send(());
            });
        if let Err(error) = spawned {
            log::error!("cannot start the poller: {error}");
        }
        PollerHandle {
            stop: Some(stop),
            finished,
        }
    }

    fn poll_stage(
        &self,
        stage: &Stage,
        snapshot: &Snapshot,
        handed_over: &Mutex<HashMap<String, String>>,
    ) -> StageReport {
        let project = snapshot.project(stage.project_id);
        let label = match &project {
            Ok(project) => format!("{}/{}", project.name, stage.name),
            Err(_) => format!("stage {}", stage.id),
        };
        let outcome = project
            .and_then(|project| {
                let name = ImageName::parse(&project.image)
                    .map_err(|error| format!("unusable image name: {error}"))?;
                let client = self.client_for(project, &name, snapshot)?;
                StagePoll {
                    store: &self.store,
                    target: self.target.as_ref(),
                    client: &client,
                    name: &name,
                    stage,
                    state: snapshot.poll_state(stage.id)?,
                    handed_over,
                }
                .run()
            })
            .unwrap_or_else(StageOutcome::Error);
        StageReport {
            stage_id: stage.id,
            label,
            outcome,
        }
    }

    /// The client for a project's image: its stored registry's (with its URL's scheme and its
    /// credentials) when that registry serves the image's host, else one for the image's host,
    /// still with the registry's credentials when there are any.
    fn client_for(
        &self,
        project: &Project,
        name: &ImageName,
        snapshot: &Snapshot,
    ) -> Result<RegistryClient, String> {
        let registry = match project.registry_id {
            Some(id) => Some(snapshot.registry(id)?),
            None => None,
        };
        // The sealed password is part of the key, so a changed password gets a new client.
        let key = match registry {
            Some(registry) => format!(
                "{}|{}|{}|{:?}|{:?}",
                name.registry(),
                registry.id,
                registry.url,
                registry.username,
                registry.password.as_ref().map(|sealed| sealed.as_bytes())
            ),
            None => name.registry().to_string(),
        };
        // Held until the new client is in: stages starting together would otherwise each make
        // one, asking for the credentials and fetching tokens once per client, and the counts
        // of all but the one kept would be lost. Making a client sends no request.
        let mut clients = self.lock_clients();
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let credentials = match registry {
            Some(registry) => self.target.credentials(registry)?,
            None => None,
        };
        let client = RegistryClient::for_image(
            name.registry(),
            registry.map(|registry| registry.url.as_str()),
            credentials,
            self.config.client.clone(),
        )
        .map_err(|error| error.to_string())?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    fn lock_clients(&self) -> std::sync::MutexGuard<'_, HashMap<String, RegistryClient>> {
        self.clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How long dropping a [`PollerHandle`] waits for a cycle in progress to end. Requests have their
/// own timeouts, possibly longer: past this the thread is left to finish on its own.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Keeps the poller's thread running. Dropping it stops the thread: at once between cycles,
/// else when the current cycle ends, waiting at most a few seconds for that.
pub struct PollerHandle {
    stop: Option<mpsc::Sender<()>>,
    finished: mpsc::Receiver<()>,
}

impl Drop for PollerHandle {
    fn drop(&mut self) {
        drop(self.stop.take());
        // Returns at once as well when the thread never started (its sender is gone).
        if let Err(RecvTimeoutError::Timeout) = self.finished.recv_timeout(STOP_GRACE) {
            log::warn!("the poller is still busy; not waiting for it");
        }
    }
}

fn log_report(report: &StageReport) {
    match &report.outcome {
        StageOutcome::Error(_) => log::warn!("poller: {report}"),
        StageOutcome::Found { .. } | StageOutcome::Baseline { .. } => {
            log::info!("poller: {report}")
        }
        StageOutcome::NothingNew => log::debug!("poller: {report}"),
    }
}

/// `interval` give or take 10 %, so pollers started together do not hit a registry together.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(rand::random_range(0.9..=1.1))
}
