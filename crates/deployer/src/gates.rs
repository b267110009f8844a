//! The gates a request passes before it becomes a deploy: a stage with `promote_from` takes only
//! what runs healthy in its source stage (and then exactly that digest), and a stage that deploys
//! only approved tags does not ask again about a tag someone rejected.

use poller::ImageReference;
use store::{InstanceStatus, Project, Stage, Store};

/// What the gates make of a request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Gate {
    /// Go ahead with this image reference and digest; `source` is the deploy a promotion
    /// repeats (the one whose instance runs the image in the source stage).
    Open {
        image: String,
        digest: Option<String>,
        source: Option<i64>,
    },
    /// Refused, and why.
    Closed(String),
}

/// A request for `reference` (with its `digest` when known) to `stage`; `asked_by_person` skips
/// the rejection memory (a person asking now overrides an earlier "no").
pub(crate) fn check(
    store: &Store,
    project: &Project,
    stage: &Stage,
    reference: &ImageReference,
    digest: Option<&str>,
    asked_by_person: bool,
) -> store::Result<Gate> {
    let tag = reference.tag().unwrap_or("latest");
    if let Some(source) = stage.promote_from.as_deref() {
        return promotion(store, project, stage, source, reference, digest);
    }
    if !stage.auto_deploy
        && !asked_by_person
        && let Some(rejected) = store.last_rejected(stage.id, tag)?
    {
        // Without a digest (a webhook) the tag is all we can compare: it stays rejected until
        // the poller sees it move.
        let same = match (digest, rejected.digest.as_deref()) {
            (Some(new), Some(old)) => new == old,
            _ => true,
        };
        if same {
            return Ok(Gate::Closed(format!(
                "{tag} was rejected for stage {} (deploy {}); it is not offered again until it \
                 points at another image",
                stage.name, rejected.id
            )));
        }
    }
    Ok(Gate::Open {
        image: reference.to_string(),
        digest: digest.map(str::to_string),
        source: None,
    })
}

/// Only a tag that runs healthy in the source stage, and exactly the digest it runs there.
fn promotion(
    store: &Store,
    project: &Project,
    stage: &Stage,
    source: &str,
    reference: &ImageReference,
    digest: Option<&str>,
) -> store::Result<Gate> {
    let tag = reference.tag().unwrap_or("latest");
    let Some(source_stage) = store
        .stages_of(project.id)?
        .into_iter()
        .find(|candidate| candidate.name == source)
    else {
        return Ok(Gate::Closed(format!(
            "stage {} promotes from {source}, which project {} does not have",
            stage.name, project.name
        )));
    };
    let running = store
        .live_instances_of_stage(source_stage.id)?
        .into_iter()
        .filter(|instance| instance.status == InstanceStatus::Running && instance.tag == tag)
        .find(|instance| digest.is_none() || instance.digest.as_deref() == digest);
    let Some(instance) = running else {
        return Ok(Gate::Closed(format!(
            "{tag} does not run healthy in stage {source}, which stage {} promotes from; \
             deploy it there first",
            stage.name
        )));
    };
    let Some(digest) = instance.digest else {
        return Ok(Gate::Closed(format!(
            "{tag} runs in stage {source}, but its digest is unknown, so the same image cannot \
             be promoted"
        )));
    };
    Ok(Gate::Open {
        image: format!("{}:{tag}@{digest}", reference.name()),
        digest: Some(digest),
        source: Some(instance.deploy_id),
    })
}
