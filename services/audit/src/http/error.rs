//! The one mapping from audit errors to problem+json (RFC 9457).

use common_kernel::error::ApiError;

use crate::app::AppError;

/// Every refusal an operation of this API can answer beyond the platform's own, with its
/// status: the contract declares each one, and a test holds the two together.
pub const REFUSALS: &[(u16, &str)] = &[
    (404, "AUDIT_EVENT_NOT_FOUND"),
    (404, "AUDIT_LOG_EMPTY"),
    (404, "NO_CHECKPOINT"),
    (404, "NO_EVIDENCE"),
    (422, "TREE_SIZE_OUT_OF_RANGE"),
    (422, "BUNDLE_TOO_LARGE"),
];

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let code = error.code();
        let detail = error.to_string();
        match error {
            AppError::Forbidden(refused) => ApiError::from(refused),
            AppError::Database(e) => ApiError::from(e),
            AppError::EntryNotFound(_)
            | AppError::EmptyLog
            | AppError::NoCheckpoint
            | AppError::NoEvidence(..) => ApiError::not_found(code, detail),
            AppError::TreeSize(_) | AppError::BundleTooLarge(..) => {
                ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, code, detail)
            }
            corrupt @ AppError::Corrupt(_) => ApiError::internal(corrupt),
        }
    }
}
