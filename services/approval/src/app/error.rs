//! Errors of the approval application layer; the HTTP edge (a later part) maps them to
//! problem+json once, by `code`.

use domain_kernel::ActorId;

use crate::app::ports::{GuardViolation, StoreError, TaskEngineError};
use crate::domain::{ApprovalError, ApprovalRequestId, QuoteId, ValueError};

/// Why an approval command or query failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The permission table refused the action (ADR 0030).
    #[error(transparent)]
    Forbidden(#[from] domain_kernel::access::Forbidden),
    /// An input value was malformed.
    #[error(transparent)]
    Invalid(#[from] ValueError),
    /// The request does not exist for this tenant (another tenant's answers the same).
    #[error("approval request {0} not found")]
    NotFound(ApprovalRequestId),
    /// The quote has no request to act on.
    #[error("quote {0} has no approval request")]
    QuoteNotFound(QuoteId),
    /// The approver directory has no entry for the actor (in this tenant).
    #[error("no approver {0} in the directory")]
    ApproverNotFound(ActorId),
    /// The workflow engine's user-task API did not do what was asked.
    #[error("the workflow engine's user tasks: {0}")]
    TaskEngine(#[source] TaskEngineError),
    /// The aggregate refused the command; nothing changed.
    #[error(transparent)]
    Refused(#[from] ApprovalError),
    /// A schema guard refused the write (the same rule the domain checks, caught last).
    #[error("refused by the schema: {}", .0.code())]
    Guard(GuardViolation),
    /// Another command changed the request meanwhile; retry.
    #[error("the approval request changed concurrently")]
    Conflict(ApprovalRequestId),
    /// The database failed.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Stored data no longer reads back (a bug, never user input).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(e) => Self::Database(e),
            StoreError::VersionConflict(id) => Self::Conflict(id),
            StoreError::Guard(guard) => Self::Guard(guard),
            StoreError::Corrupt(what) => Self::Corrupt(what),
        }
    }
}

impl From<TaskEngineError> for AppError {
    fn from(error: TaskEngineError) -> Self {
        Self::TaskEngine(error)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

impl AppError {
    /// Stable code for problem responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Forbidden(_) => "FORBIDDEN_ACTION",
            Self::Invalid(_) => "VALIDATION_FAILED",
            Self::NotFound(_) | Self::QuoteNotFound(_) => "APPROVAL_REQUEST_NOT_FOUND",
            Self::ApproverNotFound(_) => "APPROVER_NOT_FOUND",
            Self::TaskEngine(TaskEngineError::Unknown(_)) => "TASK_ENGINE_UNAVAILABLE",
            Self::TaskEngine(_) => "TASK_ENGINE_ERROR",
            Self::Refused(e) => e.code(),
            Self::Guard(g) => g.code(),
            Self::Conflict(_) => "APPROVAL_REQUEST_CONFLICT",
            Self::Database(_) | Self::Corrupt(_) => "INTERNAL",
        }
    }
}

/// Result of approval operations.
pub type AppResult<T> = Result<T, AppError>;
