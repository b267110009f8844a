//! The deployer: takes requests, keeps one queue per stage, and runs each stage's deploys in order
//! on a worker thread, with a bound on how many stages deploy at once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use docker_client::DockerClient;
use events::{EventBody, Hub};
use poller::ImageReference;
use store::{Decision, NewDeploy, Store, Trigger};

use crate::error::{DeployerError, Result};
use crate::gates::{self, Gate};
use crate::journal::Journal;
use crate::matching::{self, PushOutcome, RecordedDeploy, Selection};
use crate::notify::{Facts, Notice, Notifier};
use crate::pipeline;
use crate::routing::Router;
use crate::secrets::Secrets;

/// Tunables of the deployer.
#[derive(Debug, Clone)]
pub struct DeployerConfig {
    /// How many stages may deploy at the same time.
    pub max_parallel_deploys: usize,
    /// How long a replaced container gets to stop before it is killed.
    pub stop_timeout: Duration,
    /// After the proxy has switched a stage's domain to the new instance, how long the old one
    /// keeps running to finish the requests it already had.
    pub drain: Duration,
}

impl Default for DeployerConfig {
    fn default() -> Self {
        DeployerConfig {
            max_parallel_deploys: 2,
            stop_timeout: Duration::from_secs(10),
            drain: Duration::from_secs(3),
        }
    }
}

/// What every deploy needs to reach.
pub(crate) struct Context {
    pub(crate) store: Store,
    pub(crate) hub: Hub,
    pub(crate) docker: DockerClient,
    /// Opens registry passwords and secret environment variables when a deploy needs them.
    pub(crate) secrets: Secrets,
    /// Docker calls are async; deploy workers are plain threads that wait on this runtime.
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) config: DeployerConfig,
    /// The proxy that gives instances their domains; none: instances are reached by address.
    pub(crate) router: RwLock<Option<Arc<dyn Router>>>,
    /// Tells the configured notification targets how deploys went, in the background.
    pub(crate) notifier: Notifier,
}

impl Context {
    pub(crate) fn router(&self) -> Option<Arc<dyn Router>> {
        self.router
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// Queued deploy ids per stage, and which stages have a worker.
#[derive(Default)]
struct Queues {
    pending: HashMap<i64, VecDeque<i64>>,
    active: HashSet<i64>,
    running: usize,
}

struct Inner {
    context: Context,
    queues: Mutex<Queues>,
    /// Signalled when a deploy slot frees up or a stage's queue empties.
    changed: Condvar,
    /// Owned so it lives as long as the deployer; shut down without blocking on drop.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping a runtime inside another async runtime would panic; this never blocks.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Takes deploy requests and carries them out. Cheap to clone; all methods block (call them from
/// `web::block` or a plain thread).
#[derive(Clone)]
pub struct Deployer {
    inner: Arc<Inner>,
}

impl Deployer {
    /// A deployer over these parts. Starts its own small runtime for Docker calls.
    pub fn new(
        store: Store,
        hub: Hub,
        docker: DockerClient,
        secrets: Secrets,
        config: DeployerConfig,
    ) -> Result<Deployer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dw-docker")
            .enable_all()
            .build()
            .map_err(DeployerError::Runtime)?;
        let notifier = Notifier::new(store.clone(), hub.clone(), secrets.clone());
        let context = Context {
            notifier,
            store,
            hub,
            docker,
            secrets,
            runtime: runtime.handle().clone(),
            config,
            router: RwLock::new(None),
        };
        Ok(Deployer {
            inner: Arc::new(Inner {
                context,
                queues: Mutex::new(Queues::default()),
                changed: Condvar::new(),
                runtime: Some(runtime),
            }),
        })
    }

    /// Handles "this image was pushed": for each stage that accepts its tag, queues a deploy, or,
    /// where the stage deploys only what a person approves, records a request waiting for
    /// approval. Says why when no stage accepts it. `digest` is the image's digest when the caller
    /// knows it (the poller does).
    pub fn image_pushed(
        &self,
        reference: &ImageReference,
        trigger: Trigger,
        digest: Option<&str>,
    ) -> Result<PushOutcome> {
        let store = &self.inner.context.store;
        let polled_only = trigger == Trigger::Poll;
        let (project, stages) = match matching::select(store, reference, polled_only)? {
            Selection::Stages { project, stages } => (project, stages),
            Selection::None { reason } => return Ok(PushOutcome::Ignored { reason }),
        };
        let tag = reference.tag().unwrap_or("latest").to_string();
        let mut recorded = Vec::with_capacity(stages.len());
        let mut refused = Vec::new();
        for stage in stages {
            let (image, digest, source) =
                match gates::check(store, &project, &stage, reference, digest, false)? {
                    Gate::Open {
                        image,
                        digest,
                        source,
                    } => (image, digest, source),
                    Gate::Closed(reason) => {
                        log::info!("{}/{}: not deployed: {reason}", project.name, stage.name);
                        refused.push(reason);
                        continue;
                    }
                };
            let new = NewDeploy {
                project_id: project.id,
                stage_id: stage.id,
                tag: tag.clone(),
                image,
                trigger,
                digest,
                source_deploy_id: source,
            };
            let deploy = if stage.auto_deploy {
                let deploy = store.create_deploy(&new)?;
                self.inner.context.hub.publish(EventBody::DeployQueued {
                    deploy_id: deploy.id,
                    project: project.name.clone(),
                    stage: stage.name.clone(),
                    tag: tag.clone(),
                });
                self.enqueue(stage.id, deploy.id);
                deploy
            } else {
                let (deploy, created) = store.request_approval(&new)?;
                if created {
                    log::info!(
                        "deploy {}: {reference} waits for approval in {}/{}",
                        deploy.id,
                        project.name,
                        stage.name
                    );
                    self.inner
                        .context
                        .hub
                        .publish(EventBody::ApprovalRequested {
                            deploy_id: deploy.id,
                            project: project.name.clone(),
                            stage: stage.name.clone(),
                            tag: tag.clone(),
                            digest: deploy.digest.clone(),
                            trigger: trigger.to_string(),
                        });
                    let facts = Facts::new(&deploy, &project.name, &stage.name);
                    self.inner
                        .context
                        .notifier
                        .send(Notice::WaitingApproval(facts));
                }
                deploy
            };
            recorded.push(RecordedDeploy {
                deploy_id: deploy.id,
                project: project.name.clone(),
                stage: stage.name.clone(),
                tag: tag.clone(),
                status: deploy.status,
            });
        }
        if recorded.is_empty() {
            return Ok(PushOutcome::Ignored {
                reason: refused.join("; "),
            });
        }
        Ok(PushOutcome::Recorded(recorded))
    }

    /// Sets the proxy that routes each stage's domain to its instance (`None`: no routing;
    /// instances are reached at their container address). Deploys that start afterwards use it.
    pub fn set_router(&self, router: Option<Arc<dyn Router>>) {
        *self
            .inner
            .context
            .router
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = router;
    }

    /// Applies a person's decision to a deploy waiting for approval: approved, it joins its stage's
    /// queue; rejected, it ends. A deploy that is not waiting is refused (it was decided already).
    /// `by` says who decided (`api 127.0.0.1` until there are users); the deploy records it and
    /// its log says it.
    pub fn decide(&self, deploy_id: i64, decision: Decision, by: &str) -> Result<store::Deploy> {
        let context = &self.inner.context;
        let deploy = context.store.decide_deploy(deploy_id, decision, by)?;
        let view = context.store.deploy_view(deploy_id)?;
        let decided = match decision {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        };
        Journal::new(context.store.clone(), context.hub.clone(), &view)
            .line(format!("{decided} by {by}"));
        context.hub.publish(EventBody::DeployStatus {
            deploy_id,
            project: view.project,
            stage: view.stage,
            tag: deploy.tag.clone(),
            status: deploy.status.to_string(),
            reason: deploy.reason.clone(),
        });
        if decision == Decision::Approve {
            self.enqueue(deploy.stage_id, deploy.id);
        }
        Ok(deploy)
    }

    /// Sends the deploy notifications (for tests and shutdown: `wait_idle`).
    pub fn notifier(&self) -> &Notifier {
        &self.inner.context.notifier
    }

    pub(crate) fn context(&self) -> &Context {
        &self.inner.context
    }

    /// Opens stored secrets (for the poller's registry credentials).
    pub(crate) fn secrets(&self) -> &Secrets {
        &self.inner.context.secrets
    }

    /// Ends deploys a newer request for their stage replaced before they ran.
    fn skip_superseded(&self, superseded: &[i64], newest: i64) {
        let context = &self.inner.context;
        for &deploy_id in superseded {
            let reason = format!("superseded by deploy {newest}, a newer request for the stage");
            if let Err(error) =
                context
                    .store
                    .finish_deploy(deploy_id, store::DeployStatus::Skipped, Some(&reason))
            {
                log::error!("deploy {deploy_id}: cannot record it as skipped: {error}");
                continue;
            }
            if let Ok(view) = context.store.deploy_view(deploy_id) {
                context.hub.publish(EventBody::DeployStatus {
                    deploy_id,
                    project: view.project,
                    stage: view.stage,
                    tag: view.deploy.tag,
                    status: store::DeployStatus::Skipped.to_string(),
                    reason: Some(reason),
                });
            }
        }
    }

    /// Waits until no deploy is queued or running, at most `timeout`. True when idle.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut queues = self.lock();
        while !queues.active.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            queues = match self.inner.changed.wait_timeout(queues, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    fn lock(&self) -> MutexGuard<'_, Queues> {
        // A worker that panicked must not stop every later deploy; the queue data stays consistent
        // because every change to it is a single statement.
        self.inner
            .queues
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn enqueue(&self, stage_id: i64, deploy_id: i64) {
        let mut queues = self.lock();
        queues
            .pending
            .entry(stage_id)
            .or_default()
            .push_back(deploy_id);
        if queues.active.insert(stage_id) {
            let deployer = self.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("dw-stage-{stage_id}"))
                .spawn(move || deployer.work_stage(stage_id));
            if let Err(error) = spawned {
                queues.active.remove(&stage_id);
                log::error!("cannot start a worker for stage {stage_id}: {error}");
            }
        }
    }

    /// Runs one stage's queued deploys until the queue is empty. Requests that piled up while the
    /// stage was busy collapse to the newest: only it runs, the older ones are skipped.
    fn work_stage(&self, stage_id: i64) {
        loop {
            let Some((deploy_id, superseded)) = self.next_deploy(stage_id) else {
                return;
            };
            self.skip_superseded(&superseded, deploy_id);
            let context = &self.inner.context;
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pipeline::run(context, deploy_id)
            }));
            if result.is_err() {
                log::error!("deploy {deploy_id} panicked; marking it failed");
                let _ = context.store.finish_deploy(
                    deploy_id,
                    store::DeployStatus::Failed,
                    Some("internal error while deploying (see the server log)"),
                );
                context.notifier.deploy_finished(deploy_id);
            }
            let mut queues = self.lock();
            queues.running -= 1;
            self.inner.changed.notify_all();
        }
    }

    /// Takes the stage's newest queued deploy, and the older ones it supersedes, once a parallel
    /// slot is free; None (and the stage goes idle) when its queue is empty.
    fn next_deploy(&self, stage_id: i64) -> Option<(i64, Vec<i64>)> {
        let mut queues = self.lock();
        loop {
            let waiting = queues
                .pending
                .get(&stage_id)
                .is_some_and(|queue| !queue.is_empty());
            if !waiting {
                queues.pending.remove(&stage_id);
                queues.active.remove(&stage_id);
                self.inner.changed.notify_all();
                return None;
            }
            if queues.running < self.inner.context.config.max_parallel_deploys.max(1) {
                let mut queued: Vec<i64> = queues
                    .pending
                    .get_mut(&stage_id)
                    .map(|queue| queue.drain(..).collect())
                    .unwrap_or_default();
                // Not empty: `waiting` said so.
                let newest = queued.pop()?;
                queues.running += 1;
                return Some((newest, queued));
            }
            queues = match self.inner.changed.wait(queues) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
        }
    }
}
