//! The one mapping from integration errors to problem+json (RFC 9457).

use common_kernel::error::{ApiError, FieldError};

use crate::app::AppError;

/// Every refusal an operation of this API can answer beyond the platform's own, with its
/// status: the contract declares each one, and a test holds the two together.
pub const REFUSALS: &[(u16, &str)] = &[(404, "EXTERNAL_OPERATION_NOT_FOUND")];

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let code = error.code();
        match error {
            AppError::Forbidden(refused) => ApiError::from(refused),
            AppError::NotFound(key) => {
                ApiError::not_found(code, format!("No external operation has key {key}"))
            }
            AppError::Key(e) => ApiError::validation(vec![FieldError::new(
                "/idempotencyKey",
                "INVALID",
                e.to_string(),
            )]),
            AppError::Database(e) => ApiError::from(e),
            other => ApiError::internal(other),
        }
    }
}
