//! Watching container registries for new image tags.
//!
//! Owns: image references (parsing, normalizing and printing Docker image names the way
//! `docker pull` reads them), the tag rules that decide which tags a stage accepts, the registry
//! client, and the poller that watches registries for the stages that opt in (reporting what it
//! finds to a [`PollTarget`]).
//! Does not own: pulling images or running containers (that is `docker-client` and
//! `deployer`), nor which images a project watches (that is configuration in `store`).

mod checks;
mod poll_stage;
mod poller;
pub mod reference;
pub mod registry;
mod snapshot;
mod status;
pub mod tag_rule;
pub mod tag_select;
mod target;

pub use poll_stage::StageOutcome;
pub use poller::{PollReport, Poller, PollerConfig, PollerHandle, StageReport};
pub use reference::{ImageName, ImageReference, ReferenceError};
pub use registry::{ClientConfig, Credentials, RateLimitState, RegistryClient, RegistryError};
pub use status::{PollStatus, RegistryStatus, StageStatus};
pub use tag_rule::{TagRule, TagRuleError, tag_version};
pub use tag_select::{TagSelector, compare_versions};
pub use target::{FoundTag, FoundWhy, PollTarget};
