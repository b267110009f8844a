//! What a local image declares about itself: identity, digests, ports, health check, labels.

use std::collections::BTreeMap;
use std::time::Duration;

use bollard::models::{HealthConfig, ImageInspect};

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

impl DockerClient {
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
