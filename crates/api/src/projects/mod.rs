//! Project endpoints: listing, and deploying a tag to a stage.

pub mod deploy;
pub mod list;
