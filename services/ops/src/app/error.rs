//! The application layer's errors, mapped once to HTTP (`http::error`).

/// Why a query or command did not complete.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The database failed; worth retrying.
    #[error("the database failed")]
    Database(#[from] sqlx::Error),
    /// The caller may not do this.
    #[error(transparent)]
    Forbidden(#[from] domain_kernel::access::Forbidden),
    /// A rebuild is already running (its id; nil when another request won the race).
    #[error("rebuild {0} is still running")]
    RebuildRunning(uuid::Uuid),
    /// No such rebuild in the caller's tenant.
    #[error("no rebuild {0}")]
    RebuildNotFound(uuid::Uuid),
}
