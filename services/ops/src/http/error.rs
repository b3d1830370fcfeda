//! The one mapping from ops errors to problem+json (RFC 9457).

use common_kernel::error::ApiError;

use crate::app::AppError;

/// Every refusal an operation of this API can answer beyond the platform's own: none yet (the
/// views answer empty rather than 404: an order the projections have not seen has no events).
pub const REFUSALS: &[(u16, &str)] = &[];

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Forbidden(refused) => ApiError::from(refused),
            AppError::Database(e) => ApiError::from(e),
        }
    }
}
