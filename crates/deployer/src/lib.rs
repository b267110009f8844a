//! The deploy pipeline: from "this image was pushed" to a running, health-checked instance.
//!
//! Owns: matching a pushed image to a project's stages, the per-stage queue (one deploy at a time
//! per stage, stages in parallel up to a bound), and the steps of a deploy (pull, create, start,
//! health-check, replace the previous instance), with every step written to the deploy's log and
//! published as an event. A failed deploy removes what it made and leaves the previous instance
//! serving. It also owns [`Secrets`], the one place where stored secrets are sealed and opened:
//! registry passwords and secret environment variables are opened only for the pull and the
//! container they are for. The deployer is the poller's target: it opens registry credentials
//! for the poller and deploys what the poller finds (trigger `poll`).
//!
//! Does not own: HTTP (that is `api`), how Docker is spoken to (that is `docker-client`), or how
//! image references are parsed (that is `poller`). Routing through a proxy, approvals, rollbacks and
//! reconciliation after a crash are not here yet.

mod deployer;
mod error;
mod health;
mod journal;
mod matching;
mod naming;
mod pipeline;
mod poll_target;
mod secrets;
mod subdomain;

pub use deployer::{Deployer, DeployerConfig};
pub use error::{DeployerError, Result};
pub use health::{HealthCheck, Probe, probe};
pub use matching::{PushOutcome, RecordedDeploy};
pub use naming::{container_name, labels, slug};
pub use secrets::{Secrets, SecretsError};
pub use subdomain::{dns_label, stage_domain, tag_domain};
