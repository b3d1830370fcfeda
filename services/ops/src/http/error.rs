//! The one mapping from ops errors to problem+json (RFC 9457).

use common_kernel::error::ApiError;

use crate::app::AppError;

/// Every refusal an operation of this API can answer beyond the platform's own, with its
/// status: the contract declares each one, and a test holds the two together. The views answer
/// empty rather than 404: an order the projections have not seen has no events.
pub const REFUSALS: &[(u16, &str)] = &[(409, "REBUILD_RUNNING"), (404, "REBUILD_NOT_FOUND")];

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let detail = error.to_string();
        match error {
            AppError::Forbidden(refused) => ApiError::from(refused),
            AppError::Database(e) => ApiError::from(e),
            AppError::RebuildRunning(_) => ApiError::conflict("REBUILD_RUNNING", detail),
            AppError::RebuildNotFound(_) => ApiError::not_found("REBUILD_NOT_FOUND", detail),
        }
    }
}
