//! What a local image declares about itself: identity, digests, ports, health check, labels.

use std::collections::BTreeMap;
use std::time::Duration;

use bollard::models::{HealthConfig, ImageDeleteResponseItem, ImageInspect, ImageSummary};
use bollard::query_parameters::{ListImagesOptionsBuilder, RemoveImageOptionsBuilder};

use crate::client::DockerClient;
use crate::error::{DockerError, check_identifier};

/// A local image as the engine describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The image id, "sha256:…".
    pub id: String,
    /// "repository@sha256:…" for each registry the image was pulled from or pushed to.
    pub repo_digests: Vec<String>,
    /// TCP ports from the image's EXPOSE lines, sorted.
    pub exposed_ports: Vec<u16>,
    /// The image's HEALTHCHECK, if it has one that is not disabled.
    pub healthcheck: Option<Healthcheck>,
    pub labels: BTreeMap<String, String>,
}

/// A HEALTHCHECK; `None` fields mean the engine's default applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    /// E.g. ["CMD-SHELL", "wget -q -O- http://localhost:8080/healthz"].
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub retries: Option<u32>,
}

/// A local image as the image list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    /// The image id, "sha256:…".
    pub id: String,
    /// "repository:tag" for each tag on the image.
    pub repo_tags: Vec<String>,
    /// "repository@sha256:…" for each registry manifest the image is known by.
    pub repo_digests: Vec<String>,
}

/// What removing one reference to an image did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRemoval {
    /// The reference was the image's last: the image is gone.
    Deleted,
    /// The reference is gone; the image stays for its other tags or digests.
    Untagged,
    /// No image has that reference.
    NotFound,
    /// The engine refused (409): a container uses the image, or the reference is an id that
    /// several names share. The engine's words.
    Refused(String),
}

impl DockerClient {
    /// Every top-level local image with its tags and digests.
    pub async fn list_images(&self) -> Result<Vec<LocalImage>, DockerError> {
        let docker = self.docker().await?;
        let options = ListImagesOptionsBuilder::new().build();
        let images = docker
            .list_images(Some(options))
            .await
            .map_err(|err| self.failure("listing images".into(), None).classify(err))?;
        Ok(images.into_iter().map(local_image).collect())
    }

    /// Removes one reference to an image: a tag ("acme/web:1.4") or, better, a digest reference
    /// ("acme/web@sha256:…"), which names one image whatever its tags do. The image itself goes
    /// when that was its last reference. Never forced, so the engine keeps an image a container
    /// uses ([`ImageRemoval::Refused`]), and unused parent layers are pruned as `docker rmi` does.
    pub async fn remove_image(&self, reference: &str) -> Result<ImageRemoval, DockerError> {
        check_identifier("image reference", reference)?;
        let docker = self.docker().await?;
        let options = RemoveImageOptionsBuilder::new()
            .force(false)
            .noprune(false)
            .build();
        match docker.remove_image(reference, Some(options), None).await {
            Ok(items) => {
                let removal = removal(&items);
                log::info!("removed image reference {reference}: {removal:?}");
                Ok(removal)
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(ImageRemoval::NotFound),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409,
                message,
            }) => Ok(ImageRemoval::Refused(message)),
            Err(err) => Err(self
                .failure(format!("removing image {reference}"), None)
                .classify(err)),
        }
    }

    /// Describes a local image, by reference ("acme/web:1.4") or id.
    pub async fn inspect_image(&self, image: &str) -> Result<ImageInfo, DockerError> {
        check_identifier("image reference", image)?;
        let docker = self.docker().await?;
        let inspect = docker.inspect_image(image).await.map_err(|err| {
            self.failure(
                format!("inspecting image {image}"),
                Some(format!("image {image}")),
            )
            .classify(err)
        })?;
        Ok(image_info(inspect))
    }
}

fn local_image(summary: ImageSummary) -> LocalImage {
    // Older engines list an image without names as "<none>:<none>" and "<none>@<none>".
    let named = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .filter(|name| !name.starts_with("<none>"))
            .collect()
    };
    LocalImage {
        id: summary.id,
        repo_tags: named(summary.repo_tags),
        repo_digests: named(summary.repo_digests),
    }
}

/// The engine lists what it untagged and what it deleted; a deleted image id means the image is gone.
fn removal(items: &[ImageDeleteResponseItem]) -> ImageRemoval {
    if items.iter().any(|item| item.deleted.is_some()) {
        ImageRemoval::Deleted
    } else {
        ImageRemoval::Untagged
    }
}

fn image_info(inspect: ImageInspect) -> ImageInfo {
    let config = inspect.config.unwrap_or_default();
    ImageInfo {
        id: inspect.id.unwrap_or_default(),
        repo_digests: inspect.repo_digests.unwrap_or_default(),
        exposed_ports: tcp_ports(config.exposed_ports.as_deref().unwrap_or_default()),
        healthcheck: config.healthcheck.and_then(healthcheck),
        labels: config.labels.unwrap_or_default().into_iter().collect(),
    }
}

/// "8080/tcp" and a bare "8080" count; udp and sctp ports do not.
fn tcp_ports(exposed: &[String]) -> Vec<u16> {
    let mut ports: Vec<u16> = exposed
        .iter()
        .filter_map(|spec| match spec.split_once('/') {
            Some((port, "tcp")) => port.parse().ok(),
            Some(_) => None,
            None => spec.parse().ok(),
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// An empty test inherits nothing useful and ["NONE"] disables the check: both mean no health check.
pub(crate) fn healthcheck(config: HealthConfig) -> Option<Healthcheck> {
    let test = config.test.unwrap_or_default();
    if test.first().is_none_or(|kind| kind == "NONE") {
        return None;
    }
    Some(Healthcheck {
        test,
        interval: nanos(config.interval),
        timeout: nanos(config.timeout),
        start_period: nanos(config.start_period),
        retries: config
            .retries
            .filter(|&retries| retries > 0)
            .and_then(|retries| u32::try_from(retries).ok()),
    })
}

/// The engine counts durations in nanoseconds, with 0 meaning "default".
fn nanos(value: Option<i64>) -> Option<Duration> {
    value
        .filter(|&nanos| nanos > 0)
        .map(|nanos| Duration::from_nanos(nanos.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removal_that_deletes_an_image_id_deleted_the_image() {
        let untagged = ImageDeleteResponseItem {
            untagged: Some("r.test/acme/web@sha256:aaaa".into()),
            deleted: None,
        };
        let deleted = ImageDeleteResponseItem {
            untagged: None,
            deleted: Some("sha256:bbbb".into()),
        };
        assert_eq!(
            removal(std::slice::from_ref(&untagged)),
            ImageRemoval::Untagged
        );
        assert_eq!(removal(&[untagged, deleted]), ImageRemoval::Deleted);
    }

    #[test]
    fn nameless_entries_of_the_image_list_are_dropped() {
        let image = local_image(ImageSummary {
            id: "sha256:cccc".into(),
            repo_tags: vec!["<none>:<none>".into(), "r.test/acme/web:v1".into()],
            repo_digests: vec!["<none>@<none>".into()],
            ..Default::default()
        });
        assert_eq!(
            image,
            LocalImage {
                id: "sha256:cccc".into(),
                repo_tags: vec!["r.test/acme/web:v1".into()],
                repo_digests: Vec::new(),
            }
        );
    }

    #[test]
    fn only_tcp_ports_are_kept_sorted_and_unique() {
        let exposed = ["9090/tcp", "53/udp", "8080/tcp", "8080", "x/tcp"].map(String::from);
        assert_eq!(tcp_ports(&exposed), [8080, 9090]);
    }

    #[test]
    fn a_disabled_or_empty_healthcheck_is_none() {
        let none = HealthConfig {
            test: Some(vec!["NONE".into()]),
            ..Default::default()
        };
        assert_eq!(healthcheck(none), None);
        assert_eq!(healthcheck(HealthConfig::default()), None);
    }

    #[test]
    fn healthcheck_durations_come_from_nanoseconds() {
        let check = healthcheck(HealthConfig {
            test: Some(vec!["CMD-SHELL".into(), "true".into()]),
            interval: Some(5_000_000_000),
            timeout: Some(0),
            start_period: Some(1_500_000_000),
            retries: Some(3),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(check.interval, Some(Duration::from_secs(5)));
        assert_eq!(check.timeout, None);
        assert_eq!(check.start_period, Some(Duration::from_millis(1500)));
        assert_eq!(check.retries, Some(3));
    }
}
