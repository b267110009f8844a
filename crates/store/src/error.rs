//! The store's error type.

/// What can go wrong reading or writing the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// A human description of what was looked for, such as "deploy 42".
        what: String,
    },
    /// A write would break a uniqueness or reference rule.
    #[error("{what} conflicts with existing data: {message}")]
    Conflict {
        /// What was being written.
        what: String,
        /// SQLite's explanation.
        message: String,
    },
    /// The row is not in the state the operation needs (a deploy decided twice, say).
    #[error("{what} has status {state}; it must be {expected}")]
    WrongState {
        /// The row, such as "deploy 42".
        what: String,
        /// Its state now.
        state: String,
        /// The state the operation needs.
        expected: String,
    },
    /// The database file could not be opened or migrated.
    #[error("cannot open the database at {path}: {message}")]
    Open {
        /// The database file.
        path: String,
        /// What failed.
        message: String,
    },
    /// A stored secret could not be processed (for example, it did not open with the old key
    /// during rotation).
    #[error("the secret in {place} cannot be processed: {message}")]
    Secret {
        /// Where the secret is stored.
        place: String,
        /// What went wrong.
        message: String,
    },
    /// No connection could be taken from the pool.
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    /// Any other database failure, with what was being done.
    #[error("database error while {context}: {source}")]
    Query {
        /// What the store was doing.
        context: &'static str,
        /// Diesel's error.
        #[source]
        source: diesel::result::Error,
    },
}

/// The store's result type.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Adds "what was being done" to diesel errors, turning the common ones into typed cases.
pub(crate) trait QueryContext<T> {
    fn context(self, context: &'static str) -> Result<T>;
    fn or_not_found(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> QueryContext<T> for std::result::Result<T, diesel::result::Error> {
    fn context(self, context: &'static str) -> Result<T> {
        self.map_err(|source| match source {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation
                | diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                ref info,
            ) => StoreError::Conflict {
                what: context.to_string(),
                message: info.message().to_string(),
            },
            source => StoreError::Query { context, source },
        })
    }

    fn or_not_found(self, what: impl FnOnce() -> String) -> Result<T> {
        match self {
            Err(diesel::result::Error::NotFound) => Err(StoreError::NotFound { what: what() }),
            other => other.context("reading"),
        }
    }
}

/// Transactions report their own begin/commit failures as bare diesel errors.
impl From<diesel::result::Error> for StoreError {
    fn from(source: diesel::result::Error) -> Self {
        StoreError::Query {
            context: "running a transaction",
            source,
        }
    }
}
