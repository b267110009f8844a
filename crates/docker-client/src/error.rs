//! The crate's error type, and the translation of bollard's errors into it.

use bollard::errors::Error as BollardError;

/// Everything that can go wrong while talking to the Docker engine.
///
/// Each variant carries enough context (which host, image or container) for
/// its message to stand on its own in a deployment log.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// The host given to [`DockerClient::new`](crate::DockerClient::new) is not one we can talk to.
    #[error("invalid Docker host {host:?}: {message}")]
    InvalidHost { host: String, message: String },

    /// A name, image reference or other argument cannot be sent to the engine as given.
    #[error("invalid {what}: {message}")]
    InvalidInput { what: String, message: String },

    #[error("the Docker engine at {host} cannot be reached: {message}")]
    Unreachable { host: String, message: String },

    /// The engine answers, but speaks an API version range we cannot work with.
    #[error("unsupported Docker engine: {message}")]
    UnsupportedEngine { message: String },

    /// `what` names the missing object, e.g. "container dw-web" or "image acme/web:1".
    #[error("{what} does not exist")]
    NotFound { what: String },

    #[error("a container named {name} already exists")]
    NameConflict { name: String },

    #[error("pulling {image} failed: {message}")]
    PullFailed { image: String, message: String },

    /// The engine answered a request with an error we have no dedicated variant for.
    #[error("{context}: the Docker engine answered {status}: {message}")]
    Engine {
        context: String,
        status: u16,
        message: String,
    },

    #[error("{context}: the Docker engine did not answer within {seconds}s")]
    Timeout { context: String, seconds: u64 },

    /// The engine's answer could not be understood (malformed or unexpected data).
    #[error("{context}: unexpected answer from the Docker engine: {message}")]
    Protocol { context: String, message: String },
}

/// How an operation describes itself when it fails.
pub(crate) struct Failure<'a> {
    /// The engine address, for `Unreachable`.
    pub host: &'a str,
    /// What we were doing, e.g. "starting container dw-web".
    pub context: String,
    /// What a 404 means for this operation, e.g. "container dw-web"; `None` keeps 404 an `Engine` error.
    pub missing: Option<String>,
    /// The request timeout in force, for the `Timeout` message.
    pub timeout_secs: u64,
}

impl Failure<'_> {
    pub(crate) fn classify(self, err: BollardError) -> DockerError {
        match err {
            BollardError::DockerResponseServerError {
                status_code,
                message,
            } => match (status_code, self.missing) {
                (404, Some(what)) => DockerError::NotFound { what },
                (status, _) => DockerError::Engine {
                    context: self.context,
                    status,
                    message,
                },
            },
            BollardError::RequestTimeoutError => DockerError::Timeout {
                context: self.context,
                seconds: self.timeout_secs,
            },
            err if is_connection_error(&err) => DockerError::Unreachable {
                host: self.host.to_owned(),
                message: format!("{}: {}", self.context, describe(&err)),
            },
            err => DockerError::Protocol {
                context: self.context,
                message: describe(&err),
            },
        }
    }
}

/// True when the request never got an answer because the transport failed.
pub(crate) fn is_connection_error(err: &BollardError) -> bool {
    matches!(
        err,
        BollardError::HyperLegacyError { .. }
            | BollardError::IOError { .. }
            | BollardError::SocketNotFoundError(_)
    )
}

/// The error and all its sources on one line: hyper's top-level messages
/// ("client error (Connect)") say nothing without the underlying cause.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Rejects identifiers that would change the meaning of the request path:
/// bollard puts names into the URL as they are.
pub(crate) fn check_identifier(kind: &str, value: &str) -> Result<(), DockerError> {
    let bad = value.is_empty()
        || value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '%' | '\\'));
    if bad {
        return Err(DockerError::InvalidInput {
            what: format!("{kind} {value:?}"),
            message: "must be non-empty and contain no whitespace, '?', '#', '%' or '\\'".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(missing: Option<&str>) -> Failure<'static> {
        Failure {
            host: "unix:///var/run/docker.sock",
            context: "starting container dw-web".into(),
            missing: missing.map(str::to_owned),
            timeout_secs: 120,
        }
    }

    #[test]
    fn a_404_is_not_found_only_when_the_operation_says_what_is_missing() {
        let err = || BollardError::DockerResponseServerError {
            status_code: 404,
            message: "No such container: dw-web".into(),
        };
        let named = failure(Some("container dw-web")).classify(err());
        assert!(matches!(named, DockerError::NotFound { ref what } if what == "container dw-web"));
        let unnamed = failure(None).classify(err());
        assert!(matches!(unnamed, DockerError::Engine { status: 404, .. }));
    }

    #[test]
    fn engine_errors_keep_context_status_and_message() {
        let err = failure(None).classify(BollardError::DockerResponseServerError {
            status_code: 500,
            message: "driver failed programming external connectivity".into(),
        });
        assert_eq!(
            err.to_string(),
            "starting container dw-web: the Docker engine answered 500: driver failed programming external connectivity"
        );
    }

    #[test]
    fn transport_failures_are_unreachable() {
        let err = failure(None).classify(BollardError::SocketNotFoundError("/nowhere".into()));
        assert!(
            matches!(err, DockerError::Unreachable { ref host, .. } if host == "unix:///var/run/docker.sock")
        );
    }

    #[test]
    fn identifiers_that_would_alter_the_path_are_refused() {
        assert!(check_identifier("container", "dw-web_1.blue").is_ok());
        assert!(check_identifier("image", "127.0.0.1:5000/acme/web@sha256:abc").is_ok());
        for bad in ["", "a b", "x?all=1", "x#y", "x%2f"] {
            assert!(check_identifier("container", bad).is_err(), "{bad:?}");
        }
    }
}
