//! The one mapping from engine errors to gRPC status codes (Zeebe's codes for the same cases).

use tonic::Status;

use crate::error::EngineError;

impl From<EngineError> for Status {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::NotFound(m) => Status::not_found(m),
            EngineError::InvalidArgument(m) => Status::invalid_argument(m),
            EngineError::AlreadyExists(m) => Status::already_exists(m),
            EngineError::FailedPrecondition(m) => Status::failed_precondition(m),
            EngineError::DeadlineExceeded(m) | EngineError::Undecided(m) => {
                Status::deadline_exceeded(m)
            }
            EngineError::Denied(m) => Status::failed_precondition(m),
            EngineError::Unavailable => Status::unavailable("the engine is shutting down"),
            EngineError::Database(source) => {
                tracing::error!(error = %source, "workflow engine database error");
                Status::unavailable("the workflow engine could not reach its database; retry")
            }
        }
    }
}
