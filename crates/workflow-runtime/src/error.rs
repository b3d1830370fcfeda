//! Errors: what a handler reports about a job ([`JobError`]) and what the runtime itself can
//! fail with ([`RuntimeError`], [`VariablesError`]).

use std::time::Duration;

/// A boxed error kept as the source of a technical failure, so its chain reaches the logs and
/// the incident message instead of being flattened by the handler.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a handler did not produce an output. The variant decides what the engine is told.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Something outside the business rules failed (a dependency, a timeout): worth retrying.
    /// Mapped to `FailJob` with one retry less and an exponential back-off (or `retry_after`).
    #[error("{message}")]
    Technical {
        /// Text for the engine (shown in the incident once retries run out).
        message: String,
        /// Back-off the handler knows better than the formula (e.g. an HTTP `Retry-After`).
        retry_after: Option<Duration>,
        /// Retries left after this failure, when the handler keeps its own budget (an adapter's
        /// per-system retry budget, or a wait that must not use a retry up); `None` takes one.
        retries: Option<i32>,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// A business outcome the process models as a BPMN error (e.g. `CREDIT_LIMIT_EXCEEDED`).
    /// Mapped to `ThrowError`: an error boundary event with this code catches it.
    #[error("business error {code}: {message}")]
    Business {
        /// BPMN `errorCode` matched by the catching boundary event.
        code: String,
        /// Human-readable explanation.
        message: String,
        /// Variables set on the catching scope (a JSON object), if any.
        variables: Option<serde_json::Value>,
    },
}

impl JobError {
    /// A retryable technical failure with the formula's back-off.
    pub fn technical(message: impl Into<String>) -> Self {
        Self::Technical {
            message: message.into(),
            retry_after: None,
            retries: None,
            source: None,
        }
    }

    /// A retryable technical failure caused by `source` (kept, not stringified).
    pub fn technical_from(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Technical {
            message: message.into(),
            retry_after: None,
            retries: None,
            source: Some(source.into()),
        }
    }

    /// A BPMN error with `code`, without variables.
    pub fn business(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Business {
            code: code.into(),
            message: message.into(),
            variables: None,
        }
    }

    /// Sets the back-off of a technical failure (no effect on a business error).
    #[must_use]
    pub fn retry_after(mut self, delay: Duration) -> Self {
        if let Self::Technical { retry_after, .. } = &mut self {
            *retry_after = Some(delay);
        }
        self
    }

    /// Sets the retries a technical failure leaves (no effect on a business error): the
    /// handler's own budget instead of one retry less. `0` raises an incident; the job's
    /// current retries make the failure a wait that uses nothing up (a reconciliation that
    /// cannot be answered yet).
    #[must_use]
    pub fn with_retries(mut self, left: i32) -> Self {
        if let Self::Technical { retries, .. } = &mut self {
            *retries = Some(left.max(0));
        }
        self
    }

    /// Attaches variables to a business error (no effect on a technical failure).
    pub fn with_variables(mut self, value: &impl serde::Serialize) -> Result<Self, VariablesError> {
        let value = crate::correlation::object_of(value)?;
        if let Self::Business { variables, .. } = &mut self {
            *variables = Some(value);
        }
        Ok(self)
    }
}

/// Variables that cannot be sent: the protocol requires a JSON object.
#[derive(Debug, thiserror::Error)]
pub enum VariablesError {
    /// Serialisation itself failed.
    #[error("variables cannot be serialised")]
    Serialise(#[source] serde_json::Error),
    /// The value serialised to something else than an object.
    #[error("variables must serialise to a JSON object, got {0}")]
    NotAnObject(&'static str),
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The gateway address is not a valid URI.
    #[error("invalid gateway address {address}")]
    Address {
        /// The address given.
        address: String,
        /// Cause.
        #[source]
        source: tonic::transport::Error,
    },
    /// zeebe-rs could not build its client.
    #[error("zeebe client")]
    Client(#[source] zeebe_rs::ClientBuilderError),
    /// The worker configuration is unusable.
    #[error("invalid worker configuration: {0}")]
    Config(&'static str),
    /// One process registered two handlers for the same job type.
    #[error("job type {0} registered twice")]
    DuplicateJobType(String),
}
