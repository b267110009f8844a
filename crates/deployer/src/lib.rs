//! The deploy pipeline: from "this image was pushed" to a running, health-checked instance.
//!
//! Owns: matching a pushed image to a project's stages, the per-stage queue (one deploy at a time
//! per stage, stages in parallel up to a bound), and the steps of a deploy (pull, create, start,
//! health-check, route the stage's domain to the new container, replace the previous instance),
//! approvals for stages that deploy only what a person approves, removing an instance, and the
//! names instances get (containers, subdomains), with every step written to the deploy's log and
//! published as an event. A failed deploy removes what it made and leaves the previous instance
//! serving. It also owns [`Secrets`], the one place where stored secrets are sealed and opened:
//! registry passwords and secret environment variables are opened only for the pull and the
//! container they are for. The deployer is the poller's target: it opens registry credentials
//! for the poller and deploys what the poller finds (trigger `poll`). The [`Notifier`] tells the
//! configured notification targets (a JSON webhook, ntfy, Gotify, Discord, Slack) how deploys went.
//! Each deploy records the steps it went through with their timings, who approved it and what
//! it repeats (a promotion's or rollback's source deploy); after a successful deploy, the
//! project's images it no longer needs are removed, each stage keeping its `keep_images` latest
//! healthy ones as rollback targets.
//!
//! Routing goes through the small [`Router`] trait; [`NpmRouter`] adapts Nginx Proxy Manager to it.
//!
//! Also: gates (approval, rejection memory, promotion by digest), manual deploys and rollbacks,
//! instance actions, reconciling with the engine at start, notifications, step timings, and
//! pruning images older than the stage's rollback targets.
//!
//! Does not own: HTTP (that is `api`), how Docker or NPM are spoken to (that is `docker-client` and
//! `npm-client`), or how image references are parsed (that is `poller`).

mod container_settings;
mod deployer;
mod error;
mod expiry;
mod gates;
mod health;
mod instance_actions;
mod journal;
mod lineup;
mod manual;
mod matching;
mod naming;
mod notify;
mod npm_router;
mod pipeline;
mod poll_target;
mod reconcile;
mod retention;
mod routing;
mod secrets;
mod subdomain;

pub use deployer::{Deployer, DeployerConfig};
pub use error::{DeployerError, Result};
pub use expiry::ExpiryHandle;
pub use health::{HealthCheck, HealthKind, MIN_DOCKER_GRACE, Probe, StatusRanges, probe};
pub use matching::{PushOutcome, RecordedDeploy};
pub use naming::{container_name, labels, slug};
pub use notify::{Delivery, Facts, Notice, Notifier};
pub use npm_router::{META_MARKER, NpmHostOptions, NpmRouter};
pub use reconcile::Reconciled;
pub use routing::{Route, RouteError, Router};
pub use secrets::{Secrets, SecretsError};
pub use subdomain::{dns_label, stage_domain, tag_domain};
