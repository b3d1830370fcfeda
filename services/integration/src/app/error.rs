//! The application layer's errors, mapped once to HTTP (`http::error`) and once to job
//! outcomes (`workers`).

use crate::domain::lifecycle::OperationTransitionError;
use crate::domain::operation::CorruptOperation;
use crate::domain::{CommandError, ExternalOperationId, IdentityError};

/// Why a command or query did not complete.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The database failed; worth retrying.
    #[error("the database failed")]
    Database(#[from] sqlx::Error),
    /// The request is not the operation's command; no retry fixes it.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A stored operation breaks its own rules (a bug or a hand edit).
    #[error(transparent)]
    Corrupt(#[from] CorruptOperation),
    /// The lifecycle refused a move the command relied on (a concurrent change).
    #[error(transparent)]
    Transition(#[from] OperationTransitionError),
    /// Another activation moved the operation meanwhile; this one stands down.
    #[error("external operation {0} was changed by another attempt meanwhile")]
    Concurrent(ExternalOperationId),
    /// An idempotency key that this service did not derive.
    #[error(transparent)]
    Key(#[from] IdentityError),
    /// The caller may not do this.
    #[error(transparent)]
    Forbidden(#[from] domain_kernel::access::Forbidden),
    /// No such operation in the caller's tenant.
    #[error("no external operation has key {0}")]
    NotFound(String),
    /// A stored value could not be encoded or decoded.
    #[error("a stored value could not be read: {0}")]
    Encoding(String),
}

impl AppError {
    /// Stable code, for logs, job messages and problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Database(_) => "DATABASE_UNAVAILABLE",
            Self::Command(_) => "INVALID_EXTERNAL_REQUEST",
            Self::Corrupt(_) | Self::Encoding(_) => "CORRUPT_EXTERNAL_OPERATION",
            Self::Transition(_) => "ILLEGAL_TRANSITION",
            Self::Concurrent(_) => "CONCURRENT_ATTEMPT",
            Self::Key(_) => "INVALID_IDEMPOTENCY_KEY",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "EXTERNAL_OPERATION_NOT_FOUND",
        }
    }
}
