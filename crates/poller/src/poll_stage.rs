//! One stage's poll: what to ask the registry, what counts as new, and what to remember.
//!
//! - No poll state yet: the newest accepted tag and its digest become the baseline, and nothing
//!   is reported (a first poll, or the first poll after enabling `poll`, deploys nothing).
//! - A rule naming one plain tag (`latest`): with `watch_digest`, one `HEAD` per cycle, reported
//!   when the digest moved. Without it, only the tag's first appearance is news.
//! - Any other rule: one tag list per cycle; a tag newer than the last one (and of its family)
//!   is reported, and costs one `HEAD` for its digest.
//!
//! The target deploys a found image to every stage of the project that accepts it, so when
//! several polled stages of one project find the same image in a cycle, it is handed over once.
//!
//! A baseline or a find is saved at once. Nothing new changes only the time of the check, which
//! the poller records for all such stages at the end of the cycle (see `checks`).

use std::collections::HashMap;
use std::sync::Mutex;

use store::{PollState, Stage};

use crate::reference::{ImageName, ImageReference};
use crate::registry::{RegistryClient, RegistryError};
use crate::tag_rule::TagRule;
use crate::tag_select::TagSelector;
use crate::target::{FoundTag, FoundWhy, PollTarget};

/// What one stage's poll came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageOutcome {
    /// First poll: this was recorded as the starting point; nothing was reported.
    Baseline {
        /// The newest accepted tag, if the repository has one.
        tag: Option<String>,
        /// Its digest.
        digest: Option<String>,
    },
    /// Nothing new since the last poll.
    NothingNew,
    /// Something new was reported to the target.
    Found {
        /// What was found.
        found: FoundTag,
        /// What the target did about it, in its words.
        said: String,
    },
    /// The poll failed; the poll state is unchanged.
    Error(String),
}

impl std::fmt::Display for StageOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StageOutcome::Baseline { tag: Some(tag), .. } => {
                write!(f, "baseline recorded: {tag}")
            }
            StageOutcome::Baseline { tag: None, .. } => {
                f.write_str("baseline recorded: no accepted tag yet")
            }
            StageOutcome::NothingNew => f.write_str("nothing new"),
            StageOutcome::Found { found, said } => write!(f, "found {found}: {said}"),
            StageOutcome::Error(error) => write!(f, "error: {error}"),
        }
    }
}

/// Everything one stage's poll needs.
pub(crate) struct StagePoll<'a> {
    pub store: &'a store::Store,
    pub target: &'a dyn PollTarget,
    pub client: &'a RegistryClient,
    pub name: &'a ImageName,
    pub stage: &'a Stage,
    /// The stage's poll state as the cycle read it at its start; `None` before its first poll.
    pub state: Option<&'a PollState>,
    /// What the target said about each image handed over this cycle, by project and image.
    pub handed_over: &'a Mutex<HashMap<String, String>>,
}

impl StagePoll<'_> {
    /// Polls the stage. [`StageOutcome::NothingNew`] writes nothing: the caller records the
    /// time of the check.
    pub(crate) fn run(&self) -> Result<StageOutcome, String> {
        let Some(state) = self.state else {
            return match plain_tag(self.stage) {
                Some(tag) => self.baseline_of_tag(tag),
                None => self.baseline_of_rule(),
            };
        };
        match plain_tag(self.stage) {
            Some(tag) => self.watch_tag(tag, state),
            None => self.newer_tag(state),
        }
    }

    fn repository(&self) -> &str {
        self.name.repository()
    }

    fn baseline_of_tag(&self, tag: &str) -> Result<StageOutcome, String> {
        let digest = self.digest_if_present(tag)?;
        self.save(Some(tag.to_string()), digest.clone())?;
        Ok(StageOutcome::Baseline {
            tag: digest.is_some().then(|| tag.to_string()),
            digest,
        })
    }

    fn baseline_of_rule(&self) -> Result<StageOutcome, String> {
        let tags = self.client.tags(self.repository()).map_err(text)?;
        let newest = TagSelector::new(self.rule()?).newest(&tags);
        let digest = match &newest {
            Some(tag) => Some(self.client.digest(self.repository(), tag).map_err(text)?),
            None => None,
        };
        self.save(newest.clone(), digest.clone())?;
        Ok(StageOutcome::Baseline {
            tag: newest,
            digest,
        })
    }

    /// A stage following one tag: its digest moving (with `watch_digest`) or its first
    /// appearance is news.
    fn watch_tag(&self, tag: &str, state: &PollState) -> Result<StageOutcome, String> {
        if state.last_digest.is_some() && !self.stage.watch_digest {
            return Ok(StageOutcome::NothingNew);
        }
        let Some(digest) = self.digest_if_present(tag)? else {
            return Ok(StageOutcome::NothingNew);
        };
        let why = match &state.last_digest {
            None => FoundWhy::NewTag,
            Some(last) if *last != digest => FoundWhy::MovedDigest,
            Some(_) => return Ok(StageOutcome::NothingNew),
        };
        self.report(tag, digest, why)
    }

    fn newer_tag(&self, state: &PollState) -> Result<StageOutcome, String> {
        let tags = self.client.tags(self.repository()).map_err(text)?;
        let newest = TagSelector::new(self.rule()?)
            .newer_than(state.last_tag.as_deref())
            .newest(&tags);
        let Some(tag) = newest else {
            return Ok(StageOutcome::NothingNew);
        };
        let digest = self.client.digest(self.repository(), &tag).map_err(text)?;
        self.report(&tag, digest, FoundWhy::NewTag)
    }

    /// Hands a find to the target, then remembers it; when the target fails, nothing is
    /// remembered and the next cycle finds it again.
    fn report(&self, tag: &str, digest: String, why: FoundWhy) -> Result<StageOutcome, String> {
        let reference = ImageReference::with_tag(self.name, tag).map_err(text)?;
        let found = FoundTag {
            project_id: self.stage.project_id,
            stage_id: self.stage.id,
            reference,
            digest: digest.clone(),
            why,
        };
        let key = format!("{} {}@{}", found.project_id, found.reference, found.digest);
        // Held while the target works, so two stages cannot both hand the same image over.
        let mut handed_over = self
            .handed_over
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let said = match handed_over.get(&key) {
            Some(said) => format!("handed over once for the project: {said}"),
            None => {
                let said = self.target.found(&found).map_err(|error| {
                    format!("found {found}, but it was not handed over: {error}")
                })?;
                handed_over.insert(key, said.clone());
                said
            }
        };
        drop(handed_over);
        self.save(Some(tag.to_string()), Some(digest))?;
        Ok(StageOutcome::Found { found, said })
    }

    /// The tag's digest; `None` when the registry does not have the tag.
    fn digest_if_present(&self, tag: &str) -> Result<Option<String>, String> {
        match self.client.digest(self.repository(), tag) {
            Ok(digest) => Ok(Some(digest)),
            Err(RegistryError::ManifestUnknown { .. }) => Ok(None),
            Err(error) => Err(error.to_string()),
        }
    }

    fn rule(&self) -> Result<TagRule, String> {
        let stage = self.stage;
        TagRule::new(
            stage.tag_pattern.as_deref(),
            stage.tag_regex.as_deref(),
            stage.tag_semver.as_deref(),
            stage.include_prerelease,
        )
        .map_err(|error| format!("unusable tag rule: {error}"))
    }

    fn save(&self, last_tag: Option<String>, last_digest: Option<String>) -> Result<(), String> {
        self.store
            .save_poll_state(&PollState {
                stage_id: self.stage.id,
                last_tag,
                last_digest,
                checked_at: Some(store::now_ms()),
            })
            .map_err(|error| error.to_string())
    }
}

/// The one tag a stage follows, when its rule is a glob without wildcards (`latest`, `main`).
pub(crate) fn plain_tag(stage: &Stage) -> Option<&str> {
    let pattern = stage.tag_pattern.as_deref()?;
    let wildcard = pattern
        .chars()
        .any(|c| matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\'));
    (stage.tag_regex.is_none() && stage.tag_semver.is_none() && !wildcard).then_some(pattern)
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(pattern: Option<&str>, regex: Option<&str>) -> Stage {
        Stage {
            id: 1,
            project_id: 1,
            name: "dev".into(),
            tag_pattern: pattern.map(str::to_string),
            tag_regex: regex.map(str::to_string),
            tag_semver: None,
            include_prerelease: false,
            auto_deploy: true,
            max_instances: 1,
            promote_from: None,
            subdomain: None,
            watch_digest: true,
            created_at: 0,
            poll: true,
            volumes: "[]".into(),
            keep_images: 3,
            expire_after_ms: None,
        }
    }

    #[test]
    fn only_globs_without_wildcards_follow_one_tag() {
        assert_eq!(plain_tag(&stage(Some("latest"), None)), Some("latest"));
        assert_eq!(
            plain_tag(&stage(Some("main-stable"), None)),
            Some("main-stable")
        );
        for glob in ["v*", "dev-?", "[ab]", "{a,b}", "a\\*"] {
            assert_eq!(plain_tag(&stage(Some(glob), None)), None, "{glob}");
        }
        assert_eq!(plain_tag(&stage(None, Some("latest"))), None);
    }
}
