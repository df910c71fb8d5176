//! Store errors: constraint violations by name, everything else as a database error.

/// What went wrong talking to Postgres.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint (by name) was violated.
    #[error("unique constraint {0} violated")]
    Conflict(String),
    /// A foreign key (by name) points at a row that does not exist (any more).
    #[error("foreign key {0} violated")]
    MissingParent(String),
    /// A secret value could not be sealed or opened.
    #[error("secret encryption: {0}")]
    Crypto(#[from] crate::crypto::CryptoError),
    /// The stored value of the secret named could not be opened (its key is not in the
    /// keyring, or it fails authentication): no attempt that needs it can be made.
    #[error("secret {name} is unreadable: {source}")]
    SecretUnreadable {
        /// The secret's name.
        name: String,
        /// Why it cannot be opened.
        source: crate::crypto::CryptoError,
    },
    /// Any other database failure.
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error() {
            let constraint = db.constraint().unwrap_or_default().to_owned();
            match db.code().as_deref() {
                Some("23505") => return StoreError::Conflict(constraint),
                Some("23503") => return StoreError::MissingParent(constraint),
                _ => {}
            }
        }
        StoreError::Database(err)
    }
}

impl StoreError {
    /// Whether the database could not be reached (no connection within the pool's acquire
    /// timeout, a connection that broke, a server shutting down or starting up): the request
    /// may succeed later, so callers answer "unavailable", not "internal error".
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(err) => is_unavailable(err),
            _ => false,
        }
    }
}

/// Whether `err` means the database is (for now) out of reach rather than a failing statement.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now;
            // 53300: too many connections.
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;
