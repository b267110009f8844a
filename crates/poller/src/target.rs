//! What the poller hands over: the [`PollTarget`] it reports finds to (implemented by the
//! deployer, so this crate never depends on it) and the [`FoundTag`] it reports.

use std::fmt;

use crate::reference::ImageReference;
use crate::registry::Credentials;

/// What the poller needs from the rest of the system.
pub trait PollTarget: Send + Sync {
    /// Credentials for a stored registry (its secrets opened); `None` for anonymous access.
    fn credentials(&self, registry: &store::Registry) -> Result<Option<Credentials>, String>;

    /// A new tag (or a moved digest of a watched tag) was found for a stage; returns what was
    /// done, in words. An error leaves the poll state as it was, so the next cycle tries again.
    fn found(&self, found: &FoundTag) -> Result<String, String>;
}

/// Something new in a registry, for one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundTag {
    /// The stage's project.
    pub project_id: i64,
    /// The stage that accepts the tag.
    pub stage_id: i64,
    /// The image, `name:tag`.
    pub reference: ImageReference,
    /// The digest the tag points at.
    pub digest: String,
    /// Why this counts as new.
    pub why: FoundWhy,
}

/// Why a found tag is news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundWhy {
    /// A tag the stage accepts, newer than the last one seen.
    NewTag,
    /// The watched tag (such as `latest`) points at another image than before.
    MovedDigest,
}

impl fmt::Display for FoundWhy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FoundWhy::NewTag => "new tag",
            FoundWhy::MovedDigest => "moved digest",
        })
    }
}

impl fmt::Display for FoundTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.reference, self.why, self.digest)
    }
}
