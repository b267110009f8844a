//! Watching container registries for new image tags.
//!
//! Owns: image references (parsing, normalizing and printing Docker image names the way
//! `docker pull` reads them), the tag rules that decide which tags a stage accepts, and, later,
//! the registry client and the poller.
//! Does not own: pulling images or running containers (that is `docker-client` and
//! `deployer`), nor which images a project watches (that is configuration in `store`).

pub mod reference;
pub mod registry;
pub mod tag_rule;
pub mod tag_select;

pub use reference::{ImageName, ImageReference, ReferenceError};
pub use registry::{ClientConfig, Credentials, RateLimitState, RegistryClient, RegistryError};
pub use tag_rule::{TagRule, TagRuleError, tag_version};
pub use tag_select::{TagSelector, compare_versions};
