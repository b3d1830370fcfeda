//! The one mapping from order errors to problem+json (RFC 9457).

use common_kernel::error::{ApiError, FieldError};
use http::StatusCode;

use crate::app::AppError;

/// Every refusal an operation of this API can answer beyond the platform's own, with its
/// status: the contract declares each one, and a test holds the two together.
pub const REFUSALS: &[(u16, &str)] = &[
    (400, "IDEMPOTENCY_KEY_REQUIRED"),
    (404, "ORDER_NOT_FOUND"),
    (404, "PRODUCT_INSTANCE_NOT_FOUND"),
    (409, "ASSET_OPERATION_IN_PROGRESS"),
    (422, "PRODUCT_INSTANCE_NOT_CHANGEABLE"),
];

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let code = error.code();
        match error {
            AppError::Forbidden(refused) => ApiError::from(refused),
            AppError::OrderNotFound(id) => ApiError::not_found(code, format!("No order {id}")),
            AppError::AssetNotFound(id) => {
                ApiError::not_found(code, format!("No product instance {id}"))
            }
            AppError::OperationInFlight(id) => ApiError::conflict(
                code,
                format!(
                    "Product instance {id} already has a MODIFY or DELETE in flight; wait for that order to finish"
                ),
            ),
            AppError::AssetNotChangeable { instance, reason } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                format!("Product instance {instance} cannot be changed by this order: {reason}"),
            ),
            AppError::Invalid(errors) => ApiError::validation(errors),
            AppError::Order(e) => {
                ApiError::validation(vec![FieldError::new("/items", e.code(), e.to_string())])
            }
            AppError::Database(e) => ApiError::from(e),
            AppError::Catalog(reason) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, reason)
            }
            other => ApiError::internal(other),
        }
    }
}

/// The refusal of a command sent without its mandatory Idempotency-Key.
pub fn idempotency_key_required() -> ApiError {
    ApiError::bad_request(
        "IDEMPOTENCY_KEY_REQUIRED",
        "POST /orders needs an Idempotency-Key header: capture must be safe to retry",
    )
    .with_errors(vec![FieldError::new(
        "/headers/Idempotency-Key",
        "REQUIRED",
        "send a unique key per order, and the same key when retrying",
    )])
}
