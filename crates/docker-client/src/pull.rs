//! Pulling images: the request, registry credentials, and reading the engine's progress stream.

use std::collections::HashMap;
use std::time::Duration;

use bollard::auth::DockerCredentials;
use bollard::errors::Error as BollardError;
use bollard::models::CreateImageInfo;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

use crate::client::{DockerClient, REQUEST_TIMEOUT};
use crate::error::{DockerError, check_identifier, describe, is_connection_error};

/// A pull that shows no sign of life for this long is stuck (a registry that
/// stopped sending); large layers still report progress well within it.
const PULL_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    pub username: String,
    pub password: String,
    /// The registry address, e.g. "registry.example.com" or "127.0.0.1:5000".
    pub server: String,
}

// Hand-written so the password never reaches a log line.
impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("server", &self.server)
            .finish()
    }
}

/// One meaningful change during a pull, e.g. "a1b2c3d4e5f6: Downloading"
/// or "Status: Downloaded newer image for acme/web:1.4.2".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullProgress {
    pub message: String,
}

impl DockerClient {
    /// Pulls `image`, a full reference ("127.0.0.1:5000/acme/app:v1",
    /// "acme/app@sha256:…"; no tag means "latest", never every tag).
    ///
    /// `on_progress` is called once per change of a layer's status, not for
    /// every chunk of bytes. An error reported inside the stream, a stream
    /// that breaks off or ends without the engine's final "Status:" line,
    /// and a missing image all give [`DockerError::PullFailed`].
    pub async fn pull(
        &self,
        image: &str,
        auth: Option<&RegistryAuth>,
        on_progress: &mut (dyn FnMut(PullProgress) + Send),
    ) -> Result<(), DockerError> {
        check_identifier("image reference", image)?;
        let (repository, tag) = split_reference(image)?;
        let docker = self.docker().await?;
        let failed = |message: String| DockerError::PullFailed {
            image: image.to_owned(),
            message,
        };

        let options = CreateImageOptionsBuilder::new()
            .from_image(repository)
            .tag(tag)
            .build();
        let credentials = auth.map(|auth| DockerCredentials {
            username: Some(auth.username.clone()),
            password: Some(auth.password.clone()),
            serveraddress: Some(auth.server.clone()),
            ..Default::default()
        });
        log::info!("pulling {image}");
        let mut stream = docker.create_image(Some(options), None, credentials);

        let mut tracker = PullTracker::default();
        loop {
            let item = match tokio::time::timeout(PULL_IDLE_TIMEOUT, stream.next()).await {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(_) => {
                    return Err(failed(format!(
                        "the engine reported no progress for {}s",
                        PULL_IDLE_TIMEOUT.as_secs()
                    )));
                }
            };
            // A transport failure before the engine said anything is the
            // engine being gone, not the image being bad.
            if let Err(err) = &item
                && !tracker.has_started()
                && is_connection_error(err)
            {
                return Err(self.unreachable_error(format!("pulling {image}: {}", describe(err))));
            }
            match tracker.observe(item) {
                Ok(Some(progress)) => {
                    log::debug!("pull {image}: {}", progress.message);
                    on_progress(progress);
                }
                Ok(None) => {}
                Err(message) => {
                    log::warn!("pulling {image} failed: {message}");
                    return Err(failed(message));
                }
            }
        }
        tracker.finish().map_err(failed)?;
        log::info!("pulled {image}");
        Ok(())
    }
}

/// Splits a reference into the `fromImage` and `tag` query parameters.
///
/// The tag must always be sent: an empty one makes the engine pull every
/// tag of the repository.
fn split_reference(image: &str) -> Result<(&str, &str), DockerError> {
    let invalid = |message: &str| DockerError::InvalidInput {
        what: format!("image reference {image:?}"),
        message: message.to_owned(),
    };
    let (repository, tag) = match image.split_once('@') {
        // The engine lets the digest override any tag, so the tag is dropped.
        Some((named, digest)) => {
            if !digest.contains(':') {
                return Err(invalid("a digest looks like sha256:<hex>"));
            }
            (strip_tag(named).0, digest)
        }
        None => match strip_tag(image) {
            (repository, Some(tag)) => (repository, tag),
            (repository, None) => (repository, "latest"),
        },
    };
    if repository.is_empty() || tag.is_empty() {
        return Err(invalid("expected repository[:tag] or repository@digest"));
    }
    Ok((repository, tag))
}

/// "host:5000/acme/web:1.4" → ("host:5000/acme/web", Some("1.4")); a colon
/// before the last '/' belongs to the registry port, not a tag.
fn strip_tag(named: &str) -> (&str, Option<&str>) {
    let last_segment = named.rfind('/').map_or(0, |slash| slash + 1);
    match named[last_segment..].rfind(':') {
        Some(colon) => {
            let at = last_segment + colon;
            (&named[..at], Some(&named[at + 1..]))
        }
        None => (named, None),
    }
}

/// Reads a pull's progress stream: turns it into progress messages, spots
/// the failures the engine reports inside a successful (200) answer, and
/// knows whether the engine said the pull was complete.
#[derive(Debug, Default)]
pub(crate) struct PullTracker {
    /// Last status seen per layer id ("" for lines without one), so repeated
    /// "Downloading" lines with new byte counts are reported only once.
    last_status: HashMap<String, String>,
    started: bool,
    completed: bool,
}

impl PullTracker {
    pub(crate) fn has_started(&self) -> bool {
        self.started
    }

    /// Takes one stream item; `Err` carries the failure message to report.
    pub(crate) fn observe(
        &mut self,
        item: Result<CreateImageInfo, BollardError>,
    ) -> Result<Option<PullProgress>, String> {
        let info = match item {
            Ok(info) => info,
            // bollard turns `errorDetail` lines into this error.
            Err(BollardError::DockerStreamError { error }) => return Err(error),
            // The engine refused before streaming, e.g. 404 "manifest unknown".
            Err(BollardError::DockerResponseServerError {
                status_code,
                message,
            }) => {
                return Err(if message.is_empty() {
                    format!("the engine answered {status_code}")
                } else {
                    message
                });
            }
            Err(BollardError::RequestTimeoutError) => {
                return Err(format!(
                    "the engine did not answer within {}s",
                    REQUEST_TIMEOUT.as_secs()
                ));
            }
            Err(err) if self.started => {
                return Err(format!("the pull stream broke off: {}", describe(&err)));
            }
            Err(err) => return Err(describe(&err)),
        };
        self.started = true;

        if let Some(detail) = info.error_detail {
            return Err(detail
                .message
                .unwrap_or_else(|| "the engine reported an error without a message".into()));
        }
        let Some(status) = info.status else {
            return Ok(None);
        };
        if status.starts_with("Status: ") {
            self.completed = true;
        }
        let id = info.id.unwrap_or_default();
        if self.last_status.get(&id) == Some(&status) {
            return Ok(None);
        }
        let message = if id.is_empty() {
            status.clone()
        } else {
            format!("{id}: {status}")
        };
        self.last_status.insert(id, status);
        Ok(Some(PullProgress { message }))
    }

    /// Called when the stream has ended without an error.
    pub(crate) fn finish(&self) -> Result<(), String> {
        if self.completed {
            Ok(())
        } else {
            Err("the engine ended the pull without reporting it complete".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ErrorDetail, ProgressDetail};

    fn status(status: &str, id: Option<&str>) -> Result<CreateImageInfo, BollardError> {
        Ok(CreateImageInfo {
            status: Some(status.into()),
            id: id.map(str::to_owned),
            ..Default::default()
        })
    }

    fn downloading(current: i64) -> Result<CreateImageInfo, BollardError> {
        Ok(CreateImageInfo {
            status: Some("Downloading".into()),
            id: Some("a1b2c3d4e5f6".into()),
            progress_detail: Some(ProgressDetail {
                current: Some(current),
                total: Some(4_194_304),
            }),
            ..Default::default()
        })
    }

    fn messages(
        tracker: &mut PullTracker,
        items: Vec<Result<CreateImageInfo, BollardError>>,
    ) -> Vec<String> {
        items
            .into_iter()
            .filter_map(|item| tracker.observe(item).expect("no failure expected"))
            .map(|progress| progress.message)
            .collect()
    }

    #[test]
    fn an_error_line_after_progress_fails_the_pull_with_the_engines_message() {
        // bollard reads {"errorDetail":{"message":…},"error":…} into a DockerStreamError.
        let mut tracker = PullTracker::default();
        let shown = messages(
            &mut tracker,
            vec![
                status("Pulling from acme/web", Some("1.4.2")),
                downloading(1_048_576),
            ],
        );
        assert_eq!(
            shown,
            ["1.4.2: Pulling from acme/web", "a1b2c3d4e5f6: Downloading"]
        );
        let outcome = tracker.observe(Err(BollardError::DockerStreamError {
            error: "unauthorized: authentication required".into(),
        }));
        assert_eq!(
            outcome,
            Err("unauthorized: authentication required".to_owned())
        );
    }

    #[test]
    fn an_error_detail_that_reaches_us_as_an_item_is_a_failure_too() {
        let mut tracker = PullTracker::default();
        let outcome = tracker.observe(Ok(CreateImageInfo {
            error_detail: Some(ErrorDetail {
                code: None,
                message: Some("unauthorized: authentication required".into()),
            }),
            ..Default::default()
        }));
        assert_eq!(
            outcome,
            Err("unauthorized: authentication required".to_owned())
        );
    }

    #[test]
    fn byte_counts_alone_are_not_progress() {
        let mut tracker = PullTracker::default();
        let shown = messages(
            &mut tracker,
            vec![
                status("Pulling fs layer", Some("a1b2c3d4e5f6")),
                downloading(1_048_576),
                downloading(2_097_152),
                downloading(4_194_304),
                status("Download complete", Some("a1b2c3d4e5f6")),
                status("Digest: sha256:0123", None),
                status("Status: Downloaded newer image for acme/web:1.4.2", None),
            ],
        );
        assert_eq!(
            shown,
            [
                "a1b2c3d4e5f6: Pulling fs layer",
                "a1b2c3d4e5f6: Downloading",
                "a1b2c3d4e5f6: Download complete",
                "Digest: sha256:0123",
                "Status: Downloaded newer image for acme/web:1.4.2",
            ]
        );
        assert_eq!(tracker.finish(), Ok(()));
    }

    #[test]
    fn a_stream_that_ends_before_the_final_status_is_a_failure() {
        let mut tracker = PullTracker::default();
        messages(
            &mut tracker,
            vec![
                status("Pulling from acme/web", Some("1.4.2")),
                downloading(1),
            ],
        );
        assert!(tracker.finish().is_err());
    }

    #[test]
    fn a_refusal_before_streaming_carries_the_engines_message() {
        let mut tracker = PullTracker::default();
        let outcome = tracker.observe(Err(BollardError::DockerResponseServerError {
            status_code: 404,
            message: "manifest for acme/web:9 not found: manifest unknown: manifest unknown".into(),
        }));
        assert_eq!(
            outcome,
            Err("manifest for acme/web:9 not found: manifest unknown: manifest unknown".to_owned())
        );
    }

    #[test]
    fn references_split_into_repository_and_tag() {
        let split = |image| split_reference(image).unwrap();
        assert_eq!(
            split("127.0.0.1:5000/acme/app:v1"),
            ("127.0.0.1:5000/acme/app", "v1")
        );
        assert_eq!(
            split("127.0.0.1:5000/acme/app"),
            ("127.0.0.1:5000/acme/app", "latest")
        );
        assert_eq!(split("busybox"), ("busybox", "latest"));
        assert_eq!(split("acme/app@sha256:abcd"), ("acme/app", "sha256:abcd"));
        assert_eq!(
            split("host:5000/acme/app:v1@sha256:abcd"),
            ("host:5000/acme/app", "sha256:abcd")
        );
        assert!(split_reference("acme/app:").is_err());
        assert!(split_reference(":v1").is_err());
        assert!(split_reference("acme/app@abcd").is_err());
    }

    #[test]
    fn registry_auth_debug_hides_the_password() {
        let auth = RegistryAuth {
            username: "deploy".into(),
            password: "hunter2".into(),
            server: "127.0.0.1:5000".into(),
        };
        let shown = format!("{auth:?}");
        assert!(
            shown.contains("deploy") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
