//! Talking to the Docker Engine API.
//!
//! This crate owns the conversation with one Docker engine: connecting and
//! agreeing on an API version, pulling images, inspecting them, managing
//! bridge networks and the container lifecycle, and reading container logs.
//! Engine answers are turned into plain types and typed errors, so no bollard
//! type leaks out.
//!
//! It owns nothing else: it keeps no store, makes no deployment decisions
//! (what to run, when to swap or roll back) and knows nothing of Nginx Proxy
//! Manager. Callers decide; this crate carries the decisions out.

mod client;
mod containers;
mod error;
mod images;
mod logs;
mod networks;
mod pull;

pub use client::{DockerClient, EngineInfo};
pub use containers::{ContainerSpec, ContainerState, ContainerSummary};
pub use error::DockerError;
pub use images::{Healthcheck, ImageInfo};
pub use pull::{PullProgress, RegistryAuth};
