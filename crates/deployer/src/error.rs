//! The deployer's error type: what can stop a request before a deploy even starts.

/// Why the deployer could not take a request.
#[derive(Debug, thiserror::Error)]
pub enum DeployerError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The runtime that talks to Docker could not be started.
    #[error("cannot start the deployer's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Docker refused an action on an instance.
    #[error("{action} failed: {message}")]
    Docker {
        /// What was being done, such as "removing container dw-shop-dev-v1-0a1b2c3d".
        action: String,
        /// Docker's reason.
        message: String,
    },
    /// A gate refused the request (promotion of a tag the source stage does not run, say).
    #[error("{0}")]
    Refused(String),
    /// The request itself is malformed (a tag that is not a tag).
    #[error("{0}")]
    BadInput(String),
    /// The registry does not have the tag asked for.
    #[error("{0}")]
    TagNotFound(String),
    /// The registry could not be asked.
    #[error("the registry cannot be reached: {0}")]
    Registry(String),
    /// The proxy refused to take a route away.
    #[error(transparent)]
    Route(#[from] crate::routing::RouteError),
}

/// The deployer's result type.
pub type Result<T> = std::result::Result<T, DeployerError>;

/// Why one deploy failed, in words for the person reading the deploy log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure(pub String);

impl Failure {
    pub(crate) fn new(reason: impl Into<String>) -> Failure {
        Failure(reason.into())
    }
}

impl From<store::StoreError> for Failure {
    fn from(error: store::StoreError) -> Failure {
        Failure(format!("database error: {error}"))
    }
}
