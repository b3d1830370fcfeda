//! RFC 9457 problem details: the one error shape every API answers with.
//!
//! Each layer has its own `thiserror` enum; the HTTP edge converts it once into an [`ApiError`],
//! which renders `application/problem+json` with a stable `code`, the request's correlation id, a
//! retryability hint and field errors. Server-side failures are logged with their cause and
//! answered with a generic detail, so no stack trace or SQL ever leaves the process.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::correlation;

/// Media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field, addressed by a JSON-pointer-like path (`/items/0/quantity`) or a
/// header/query name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// Where the problem is: `/path/in/body`, `header:X-Channel` or `query:limit`.
    pub field: String,
    /// Stable machine-readable reason, e.g. `REQUIRED`, `OUT_OF_RANGE`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// A field error from its parts.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The body of every error response (RFC 9457 plus the platform's extension members).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProblemDetails {
    /// URI reference naming the problem type; stable per `code`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    pub detail: String,
    /// Stable error code clients can branch on.
    pub code: String,
    /// Correlation id of the request, to quote to support.
    pub correlation_id: String,
    /// Whether repeating the same request later may succeed.
    pub retryable: bool,
    /// Field-level problems, when the input was at fault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    title: Cow<'static, str>,
    detail: String,
    retryable: bool,
    errors: Vec<FieldError>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ApiError {
    /// An error with a status, stable code and detail.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        Self {
            status,
            code: code.into(),
            title: Cow::Borrowed(title),
            detail: detail.into(),
            retryable: status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
            errors: Vec::new(),
            source: None,
        }
    }

    /// 422 with field errors: the request was well-formed but its content is invalid.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [only] => format!("{}: {}", only.field, only.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::VALIDATION_FAILED,
            detail,
        )
        .with_errors(errors)
    }

    /// 400 for a malformed request (syntax, headers, query string).
    pub fn bad_request(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 404 for an unknown resource.
    pub fn not_found(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    /// 409 for a request that conflicts with the resource's state.
    pub fn conflict(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 500 that logs `source` and tells the client nothing internal.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL_ERROR,
            GENERIC_DETAIL,
        )
        .with_source(source)
    }

    /// 503 for a dependency that is down or overloaded; safe to retry.
    pub fn unavailable(
        code: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code,
            "A dependency is temporarily unavailable; retry later",
        )
        .with_source(source)
    }

    /// Adds field errors.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// Overrides the retryability hint.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Keeps the underlying cause for the log (never for the client).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Whether the client may retry the same request.
    pub fn retryable(&self) -> bool {
        self.retryable
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Renders the problem body with the current request's correlation id.
    pub fn to_problem(&self) -> ProblemDetails {
        ProblemDetails {
            problem_type: problem_type_uri(&self.code),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            correlation_id: correlation::current().unwrap_or_default(),
            retryable: self.retryable,
            errors: self.errors.clone(),
        }
    }
}

const GENERIC_DETAIL: &str = "An unexpected error occurred; quote the correlation id to support";

/// The `type` URI of a problem code: a URN, so it is stable and never needs hosting.
pub fn problem_type_uri(code: &str) -> String {
    format!(
        "urn:cpq-oms:problem:{}",
        code.to_ascii_lowercase().replace('_', "-")
    )
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            match &self.source {
                Some(source) => {
                    tracing::error!(code = %self.code, error = %source, cause = ?source, "request failed")
                }
                None => tracing::error!(code = %self.code, detail = %self.detail, "request failed"),
            }
        } else {
            tracing::info!(code = %self.code, status = self.status.as_u16(), "request refused");
        }
        problem_response(self.status, &self.to_problem())
    }
}

/// Serialises a problem body with the right media type.
pub fn problem_response(status: StatusCode, problem: &ProblemDetails) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl From<sqlx::Error> for ApiError {
    /// Maps database failures that no service-specific mapping claimed: pool exhaustion and
    /// connection loss are retryable 503s, serialisation conflicts are retryable 409s, and the
    /// rest are 500s whose detail never reaches the client.
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::unavailable(codes::DATABASE_UNAVAILABLE, error)
            }
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("40001" | "40P01")) =>
            {
                Self::conflict(
                    codes::CONCURRENT_MODIFICATION,
                    "The resource was modified concurrently; retry the request",
                )
                .with_retryable(true)
                .with_source(error)
            }
            _ => Self::internal(error),
        }
    }
}

/// Stable error codes shared by every service. Services add their own next to their errors.
pub mod codes {
    /// Body content failed validation (422).
    pub const VALIDATION_FAILED: &str = "VALIDATION_FAILED";
    /// Body is not syntactically valid JSON (400).
    pub const MALFORMED_JSON: &str = "MALFORMED_JSON";
    /// Body has a media type other than JSON (415).
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// Body exceeds the configured limit (413).
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// A header has an invalid value (400).
    pub const INVALID_HEADER: &str = "INVALID_HEADER";
    /// A path parameter is invalid (400).
    pub const INVALID_PATH_PARAMETER: &str = "INVALID_PATH_PARAMETER";
    /// The query string is invalid (400).
    pub const INVALID_QUERY: &str = "INVALID_QUERY";
    /// No route matches the path (404).
    pub const ROUTE_NOT_FOUND: &str = "ROUTE_NOT_FOUND";
    /// The route exists but not for this method (405).
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// Same idempotency key, different request (422).
    pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";
    /// Same idempotency key still being processed (409).
    pub const IDEMPOTENCY_IN_PROGRESS: &str = "IDEMPOTENCY_IN_PROGRESS";
    /// `If-Match` names a version that is no longer current (412).
    pub const VERSION_MISMATCH: &str = "VERSION_MISMATCH";
    /// Concurrent modification detected by the database (409, retryable).
    pub const CONCURRENT_MODIFICATION: &str = "CONCURRENT_MODIFICATION";
    /// The database cannot be reached (503, retryable).
    pub const DATABASE_UNAVAILABLE: &str = "DATABASE_UNAVAILABLE";
    /// The request took longer than the server allows (503, retryable).
    pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";
    /// Anything unexpected (500).
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
}
