//! Watching container registries for new image tags.
//!
//! Owns: image references (parsing, normalizing and printing Docker image names the way
//! `docker pull` reads them) and, later, the registry client and the rules that pick which
//! new tags to deploy.
//! Does not own: pulling images or running containers (that is `docker-client` and
//! `deployer`), nor which images a project watches (that is configuration in `store`).

pub mod reference;

pub use reference::{ImageName, ImageReference, ReferenceError};
