//! The one mapping from engine errors to RFC 9457 problem+json, with stable codes named like
//! Camunda 8's REST API titles so clients branch the same way against either engine.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use common_kernel::error::ApiError;
use common_kernel::http::extract::OptionalJson;
use serde::de::DeserializeOwned;

use crate::error::EngineError;

/// Stable error codes of the engine's REST API.
pub mod codes {
    /// No such user task, process instance or incident (404).
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// The record is in a state that forbids the command, e.g. completing a completed task (409).
    pub const INVALID_STATE: &str = "INVALID_STATE";
    /// The request is malformed: bad JSON, wrong types, unknown fields, bad values (400).
    pub const INVALID_ARGUMENT: &str = "INVALID_ARGUMENT";
    /// A record with this identity exists already (409).
    pub const ALREADY_EXISTS: &str = "ALREADY_EXISTS";
    /// The engine is stopping or timed out; retry (503).
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    /// A `completing` task listener denied the completion; the task is open again (409).
    pub const COMPLETION_DENIED: &str = "COMPLETION_DENIED";
    /// The task's listeners did not decide within the wait; the task stays COMPLETING and the
    /// outcome is unknown: read the task later rather than completing it again (504).
    pub const COMPLETION_PENDING: &str = "COMPLETION_PENDING";
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::NotFound(m) => ApiError::not_found(codes::NOT_FOUND, m),
            EngineError::InvalidArgument(m) => ApiError::bad_request(codes::INVALID_ARGUMENT, m),
            EngineError::AlreadyExists(m) => ApiError::conflict(codes::ALREADY_EXISTS, m),
            EngineError::FailedPrecondition(m) => ApiError::conflict(codes::INVALID_STATE, m),
            EngineError::Denied(m) => ApiError::conflict(codes::COMPLETION_DENIED, m),
            EngineError::Undecided(m) => {
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, codes::COMPLETION_PENDING, m)
                    .with_retryable(false)
            }
            EngineError::DeadlineExceeded(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::UNAVAILABLE, m)
            }
            EngineError::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::UNAVAILABLE,
                "the engine is shutting down",
            ),
            EngineError::Database(source) => ApiError::from(source),
        }
    }
}

/// An optional JSON body (empty means `T::default()`). Every way a body can be wrong — not
/// JSON, wrong types, unknown or missing fields — is a 400, as in Camunda's REST API; the
/// platform's extractor does the parsing and names the offending field.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match OptionalJson::<T>::from_request(request, state).await {
            Ok(json) => Ok(Self(json.body.unwrap_or_default())),
            Err(error) if error.status() == StatusCode::UNPROCESSABLE_ENTITY => {
                let problem = error.to_problem();
                Err(
                    ApiError::bad_request(codes::INVALID_ARGUMENT, problem.detail)
                        .with_errors(problem.errors),
                )
            }
            Err(error) => Err(error),
        }
    }
}

/// A 400 for a value the body's types allowed but the API does not.
pub fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request(codes::INVALID_ARGUMENT, detail)
}
