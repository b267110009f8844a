//! Which stages of which project a pushed image reference is for.

use poller::{ImageReference, TagRule};
use store::{DeployStatus, Project, Stage, Store};

/// What became of a pushed image.
#[derive(Debug, Clone, PartialEq)]
pub enum PushOutcome {
    /// One deploy per accepting stage: queued where the stage deploys automatically, waiting for
    /// approval where it does not.
    Recorded(Vec<RecordedDeploy>),
    /// Nothing was queued, and why.
    Ignored {
        /// Why, in words.
        reason: String,
    },
}

/// A deploy that a push recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedDeploy {
    /// The deploy's id.
    pub deploy_id: i64,
    /// The project's name.
    pub project: String,
    /// The stage's name.
    pub stage: String,
    /// The tag.
    pub tag: String,
    /// `Queued`, or `WaitingApproval` for a stage with `auto_deploy` off.
    pub status: DeployStatus,
}

/// The project and stages a reference selects, or why there are none.
pub(crate) enum Selection {
    Stages {
        project: Box<Project>,
        stages: Vec<Stage>,
    },
    None {
        reason: String,
    },
}

/// Whether a stage's tag rule accepts `tag`.
pub(crate) fn stage_accepts(stage: &Stage, tag: &str) -> bool {
    let rule = TagRule::new(
        stage.tag_pattern.as_deref(),
        stage.tag_regex.as_deref(),
        stage.tag_semver.as_deref(),
        stage.include_prerelease,
    );
    match rule {
        // The same reading as the poller and the tag list: `v1` satisfies `>=1` there too.
        Ok(rule) => rule.accepts_lenient(tag),
        Err(error) => {
            // Configuration is validated before it is stored, so this means a damaged row.
            log::error!("stage {}: unusable tag rule: {error}", stage.name);
            false
        }
    }
}

/// The stages of the project watching `reference` that accept its tag. A tag found by the
/// registry poller goes only to stages that asked to be polled (`polled_only`); a webhook reaches
/// every accepting stage.
pub(crate) fn select(
    store: &Store,
    reference: &ImageReference,
    polled_only: bool,
) -> store::Result<Selection> {
    let Some(tag) = reference.tag() else {
        return Ok(Selection::None {
            reason: format!("{reference} has no tag, so no stage can be chosen for it"),
        });
    };
    let name = reference.name().to_string();
    let Some(project) = store.project_by_image(&name)? else {
        return Ok(Selection::None {
            reason: format!("no project watches the image {name}"),
        });
    };
    let accepting: Vec<Stage> = store
        .stages_of(project.id)?
        .into_iter()
        .filter(|stage| stage_accepts(stage, tag))
        .filter(|stage| stage.poll || !polled_only)
        .collect();
    if !accepting.is_empty() {
        return Ok(Selection::Stages {
            project: Box::new(project),
            stages: accepting,
        });
    }
    let reason = if polled_only {
        format!(
            "no polled stage of project {} accepts the tag {tag}",
            project.name
        )
    } else {
        format!("no stage of project {} accepts the tag {tag}", project.name)
    };
    Ok(Selection::None { reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(pattern: &str) -> Stage {
        Stage {
            id: 1,
            project_id: 1,
            name: "dev".into(),
            tag_pattern: Some(pattern.into()),
            tag_regex: None,
            tag_semver: None,
            include_prerelease: false,
            auto_deploy: true,
            max_instances: 1,
            promote_from: None,
            subdomain: None,
            watch_digest: false,
            created_at: 0,
            poll: false,
            volumes: "[]".into(),
            keep_images: 3,
            expire_after_ms: None,
        }
    }

    #[test]
    fn a_version_constraint_reads_partial_versions_as_the_poller_does() {
        let semver = Stage {
            tag_pattern: None,
            tag_semver: Some(">=1".into()),
            ..stage("*")
        };
        assert!(stage_accepts(&semver, "v1"));
        assert!(stage_accepts(&semver, "2.1"));
        assert!(!stage_accepts(&semver, "v0.9"));
        assert!(!stage_accepts(&semver, "latest"));
    }

    #[test]
    fn glob_rules_accept_matching_tags_only() {
        assert!(stage_accepts(&stage("dev-*"), "dev-42"));
        assert!(!stage_accepts(&stage("dev-*"), "1.0.0"));
        assert!(stage_accepts(&stage("*"), "anything"));
        assert!(stage_accepts(&stage("v[0-9]*"), "v2"));
        assert!(!stage_accepts(&stage("v[0-9]*"), "vx"));
    }

    #[test]
    fn semver_rules_are_matched_too() {
        let mut rel = stage("*");
        rel.tag_pattern = None;
        rel.tag_semver = Some(">=1.0.0".into());
        assert!(stage_accepts(&rel, "v1.2.0"));
        assert!(!stage_accepts(&rel, "dev-3"));
    }
}
