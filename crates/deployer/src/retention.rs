//! Image retention: after a deploy succeeds, the project's images the deployer pulled and no
//! longer needs are removed from the engine. Each stage keeps the images of its `keep_images`
//! latest healthy deploys (its rollback targets); what live instances run and what unfinished
//! deploys are about to run stays too, and so does any image a container uses, whoever made it.
//!
//! An image goes by its references in the project's repository only: its digest references
//! (`repo@sha256:…`) and the project's tags still on it (each checked to name this image right
//! before it is removed). Tags of other repositories are never touched: an image that also
//! carries one stays on the engine under that name, and a container using it is not affected.
//! An image known only by the project's names is deleted with its last name, unless a container
//! (running or stopped, whoever made it) uses it. Retention never fails a deploy: what goes
//! wrong is written to the deploy's log and the server log.

use std::collections::BTreeSet;

use docker_client::{DockerClient, ImageRemoval, LocalImage};
use poller::{ImageName, ImageReference};
use store::{Deploy, ImageRetention};

use crate::deployer::Context;
use crate::journal::Journal;

/// Removes the images of `deploy`'s project that nothing keeps any more; `deploy` has just
/// succeeded (it counts among its stage's healthy deploys).
pub(crate) fn prune(ctx: &Context, journal: &Journal, deploy: &Deploy) {
    if let Err(problem) = try_prune(ctx, journal, deploy) {
        journal.line(format!("old images were not removed: {problem}"));
    }
}

fn try_prune(ctx: &Context, journal: &Journal, deploy: &Deploy) -> Result<(), String> {
    let project = ctx
        .store
        .project(deploy.project_id)
        .map_err(|error| error.to_string())?;
    let repository = ImageName::parse(&project.image)
        .map_err(|error| format!("the project's image {}: {error}", project.image))?;
    let retention = ctx
        .store
        .image_retention(project.id, deploy.id)
        .map_err(|error| error.to_string())?;
    let docker = &ctx.docker;
    let images = ctx
        .runtime
        .block_on(docker.list_images())
        .map_err(|error| error.to_string())?;
    let candidates: Vec<Candidate> = images
        .into_iter()
        .filter_map(|image| Candidate::of(image, &repository))
        .filter(|candidate| candidate.removable(&retention))
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    // Only now, and once: the engine knows which containers use which image.
    let containers = ctx
        .runtime
        .block_on(docker.list_containers(&[]))
        .map_err(|error| error.to_string())?;
    for candidate in candidates {
        let name = candidate.name();
        let user = containers
            .iter()
            .find(|container| container.image_id == candidate.image.id);
        if let Some(user) = user
            && candidate.only_named_here()
        {
            journal.line(format!(
                "kept image {name}: container {} uses it",
                user.name
            ));
            continue;
        }
        match remove(docker, ctx, &candidate) {
            Ok(Outcome::Deleted) => journal.line(format!("removed image {name}")),
            Ok(Outcome::NamedElsewhere) => journal.line(format!(
                "removed image {name} from {repository} (it stays under other names)"
            )),
            Ok(Outcome::InUse(why)) => journal.line(format!("kept image {name}: {why}")),
            Err(error) => {
                log::warn!("deploy {}: removing image {name}: {error}", deploy.id);
                journal.line(format!("removing image {name} failed: {error}"));
            }
        }
    }
    Ok(())
}

/// One local image of the project's repository that a deploy pulled.
struct Candidate {
    image: LocalImage,
    /// Its digest references in the repository, as the engine spells them.
    digest_references: Vec<String>,
    /// The digests alone.
    digests: BTreeSet<String>,
    /// Its tags in the repository, as the engine spells them, with the tag alone.
    tags: Vec<(String, String)>,
}

impl Candidate {
    /// `image` as a candidate, when it has a digest reference in `repository`.
    fn of(image: LocalImage, repository: &ImageName) -> Option<Candidate> {
        let mut digest_references = Vec::new();
        let mut digests = BTreeSet::new();
        for reference in &image.repo_digests {
            let Some((name, digest)) = reference.split_once('@') else {
                continue;
            };
            if ImageName::parse(name).is_ok_and(|name| name == *repository) {
                digest_references.push(reference.clone());
                digests.insert(digest.to_string());
            }
        }
        if digests.is_empty() {
            return None;
        }
        let tags = image
            .repo_tags
            .iter()
            .filter_map(|reference| {
                let parsed = ImageReference::parse(reference).ok()?;
                let tag = parsed.tag()?.to_string();
                (parsed.name() == repository).then(|| (reference.clone(), tag))
            })
            .collect();
        Some(Candidate {
            image,
            digest_references,
            digests,
            tags,
        })
    }

    /// Pulled by a deploy, and kept neither as a rollback target, nor for what runs or is
    /// about to run.
    fn removable(&self, retention: &ImageRetention) -> bool {
        let pulled = self
            .digests
            .iter()
            .any(|digest| retention.pulled.contains(digest));
        let kept = self
            .digests
            .iter()
            .any(|digest| retention.keep_digests.contains(digest));
        let busy = self
            .tags
            .iter()
            .any(|(_, tag)| retention.busy_tags.contains(tag));
        pulled && !kept && !busy
    }

    /// Whether the project's names are all it has: removing them deletes the image.
    fn only_named_here(&self) -> bool {
        self.image.repo_tags.len() == self.tags.len()
            && self.image.repo_digests.len() == self.digest_references.len()
    }

    /// How the deploy log names it: its first digest reference, with its tags.
    fn name(&self) -> String {
        let first = self.digest_references.first().cloned().unwrap_or_default();
        if self.tags.is_empty() {
            return first;
        }
        let tags: Vec<&str> = self.tags.iter().map(|(_, tag)| tag.as_str()).collect();
        format!("{first} (tag {})", tags.join(", "))
    }
}

/// What became of a candidate.
enum Outcome {
    /// The image is gone from the engine.
    Deleted,
    /// Its references in the repository are gone; other repositories' names keep the image.
    NamedElsewhere,
    /// The engine refused: a container uses it (one made after the check). Its words.
    InUse(String),
}

/// Removes the candidate's digest references, then its tags in the repository that still name
/// it (a tag may have moved to another image since the list was read: that one is left alone).
fn remove(
    docker: &DockerClient,
    ctx: &Context,
    candidate: &Candidate,
) -> Result<Outcome, docker_client::DockerError> {
    let mut deleted = false;
    for reference in &candidate.digest_references {
        match ctx.runtime.block_on(docker.remove_image(reference))? {
            ImageRemoval::Deleted => deleted = true,
            ImageRemoval::Untagged | ImageRemoval::NotFound => {}
            ImageRemoval::Refused(why) => return Ok(Outcome::InUse(why)),
        }
    }
    for (reference, _) in &candidate.tags {
        let still_this_image = match ctx.runtime.block_on(docker.inspect_image(reference)) {
            Ok(info) => info.id == candidate.image.id,
            Err(docker_client::DockerError::NotFound { .. }) => false,
            Err(error) => return Err(error),
        };
        if !still_this_image {
            continue;
        }
        match ctx.runtime.block_on(docker.remove_image(reference))? {
            ImageRemoval::Deleted => deleted = true,
            ImageRemoval::Untagged | ImageRemoval::NotFound => {}
            ImageRemoval::Refused(why) => return Ok(Outcome::InUse(why)),
        }
    }
    Ok(if deleted {
        Outcome::Deleted
    } else {
        Outcome::NamedElsewhere
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(tags: &[&str], digests: &[&str]) -> LocalImage {
        LocalImage {
            id: "sha256:1111".into(),
            repo_tags: tags.iter().map(|tag| tag.to_string()).collect(),
            repo_digests: digests.iter().map(|digest| digest.to_string()).collect(),
        }
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn only_references_in_the_projects_repository_count() {
        let repository = ImageName::parse("127.0.0.1:5000/acme/shop").unwrap();
        let candidate = Candidate::of(
            image(
                &["127.0.0.1:5000/acme/shop:v1", "acme/testbed:v1"],
                &[
                    "127.0.0.1:5000/acme/shop@sha256:aaaa",
                    "127.0.0.1:5000/acme/other@sha256:bbbb",
                ],
            ),
            &repository,
        )
        .unwrap();
        assert_eq!(
            candidate.digest_references,
            ["127.0.0.1:5000/acme/shop@sha256:aaaa"]
        );
        assert_eq!(candidate.digests, set(&["sha256:aaaa"]));
        assert_eq!(
            candidate.tags,
            [("127.0.0.1:5000/acme/shop:v1".to_string(), "v1".to_string())]
        );
        assert_eq!(
            candidate.name(),
            "127.0.0.1:5000/acme/shop@sha256:aaaa (tag v1)"
        );
        assert!(!candidate.only_named_here(), "acme/testbed:v1 names it too");
        let alone = Candidate::of(
            image(
                &["127.0.0.1:5000/acme/shop:v1"],
                &["127.0.0.1:5000/acme/shop@sha256:aaaa"],
            ),
            &repository,
        )
        .unwrap();
        assert!(alone.only_named_here());
        // Only tags there, or nothing of the repository: not something a deploy pulled.
        assert!(Candidate::of(image(&["127.0.0.1:5000/acme/shop:v1"], &[]), &repository).is_none());
        assert!(
            Candidate::of(
                image(&[], &["127.0.0.1:5000/acme/other@sha256:bbbb"]),
                &repository
            )
            .is_none()
        );
    }

    #[test]
    fn docker_hub_names_match_in_their_short_form() {
        let repository = ImageName::parse("docker.io/library/alpine").unwrap();
        let candidate = Candidate::of(
            image(&["alpine:3.20"], &["alpine@sha256:cccc"]),
            &repository,
        )
        .unwrap();
        assert_eq!(candidate.digests, set(&["sha256:cccc"]));
        assert_eq!(candidate.tags.len(), 1);
    }

    #[test]
    fn an_image_goes_only_when_pulled_by_a_deploy_and_nothing_keeps_it() {
        let repository = ImageName::parse("r.test/acme/shop").unwrap();
        let candidate = Candidate::of(
            image(&["r.test/acme/shop:v1"], &["r.test/acme/shop@sha256:aaaa"]),
            &repository,
        )
        .unwrap();
        let retention = |keep: &[&str], busy: &[&str], pulled: &[&str]| ImageRetention {
            keep_digests: set(keep),
            busy_tags: set(busy),
            pulled: set(pulled),
        };
        assert!(candidate.removable(&retention(&["sha256:bbbb"], &["v2"], &["sha256:aaaa"])));
        // Someone else pulled it.
        assert!(!candidate.removable(&retention(&[], &[], &["sha256:bbbb"])));
        // A rollback target, or what runs.
        assert!(!candidate.removable(&retention(&["sha256:aaaa"], &[], &["sha256:aaaa"])));
        // Its tag is about to be deployed.
        assert!(!candidate.removable(&retention(&[], &["v1"], &["sha256:aaaa"])));
    }
}
