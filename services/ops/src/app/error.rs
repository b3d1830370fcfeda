//! The application layer's errors, mapped once to HTTP (`http::error`).

/// Why a query did not complete.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The database failed; worth retrying.
    #[error("the database failed")]
    Database(#[from] sqlx::Error),
    /// The caller may not do this.
    #[error(transparent)]
    Forbidden(#[from] domain_kernel::access::Forbidden),
}
