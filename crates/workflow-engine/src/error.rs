//! The engine's one error type, mapped once to a gRPC status in `grpc::status`.

/// Why a command was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The addressed record does not exist (or no longer exists, like a completed job).
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed (bad JSON variables, bad BPMN).
    #[error("{0}")]
    InvalidArgument(String),
    /// A record with this identity exists already (duplicate message id within its TTL).
    #[error("{0}")]
    AlreadyExists(String),
    /// The record exists but is in a state that forbids the command.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A bounded wait (CreateProcessInstanceWithResult) ran out.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// A task listener denied the request (a user-task completion); nothing changed.
    #[error("{0}")]
    Denied(String),
    /// The wait for task listeners ran out: the request is still being decided, its outcome
    /// is unknown (never a failure).
    #[error("{0}")]
    Undecided(String),
    /// The engine is shutting down.
    #[error("the engine is shutting down")]
    Unavailable,
    /// PostgreSQL failed; the cause is logged, never sent to the client.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl EngineError {
    /// Variables documents must be JSON objects (or empty), as in Zeebe.
    pub(crate) fn bad_variables(source: &serde_json::Error) -> Self {
        Self::InvalidArgument(format!(
            "Expected to parse the variables as a JSON document, but failed: {source}"
        ))
    }
}
