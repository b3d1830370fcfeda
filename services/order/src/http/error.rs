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
    (404, "FALLOUT_NOT_FOUND"),
    (404, "CANCELLATION_NOT_FOUND"),
    (404, "TASK_NOT_IN_ORDER"),
    (404, "AMENDMENT_NOT_FOUND"),
    (409, "AMENDMENT_IN_PROGRESS"),
    (409, "GUARD_IN_USE"),
    (409, "REFERENCE_ALREADY_SET"),
    (409, "STATUS_CORRECTION_NOT_ALLOWED"),
    (409, "ASSET_DISCONNECTED"),
    (409, "ORDER_NOT_AMENDABLE"),
    (422, "AMENDMENT_INVALID"),
    (409, "ASSET_OPERATION_IN_PROGRESS"),
    (409, "RETRY_NOT_ALLOWED"),
    (409, "ORDER_ALREADY_COMPLETED"),
    (409, "ORDER_NOT_CANCELLABLE"),
    (409, "CANCELLATION_IN_PROGRESS"),
    (409, "ITEM_CANCELLATION_IN_PROGRESS"),
    (409, "NOTHING_TO_CANCEL"),
    (409, "TASK_NOT_FAILED"),
    (409, "TASK_CANCELLED"),
    (409, "ITEM_NOT_FAILED"),
    (409, "ITEM_MANDATORY"),
    (409, "ITEM_HAS_DEPENDENTS"),
    (409, "ORDER_HAS_EFFECTS"),
    (409, "TASK_IN_FLIGHT"),
    (409, "FAILURE_NOT_RETRYABLE"),
    (409, "DEPENDENCY_NOT_SUCCEEDED"),
    (409, "ILLEGAL_TRANSITION"),
    (422, "PRODUCT_INSTANCE_NOT_CHANGEABLE"),
    (422, "ITEM_NOT_IN_ORDER"),
    (422, "CORRECTION_EMPTY"),
    (422, "ACTION_NOT_APPLICABLE"),
];

/// The status of an order command's refusal: a state that does not allow it is a conflict
/// (409), a request naming what the order does not have is unprocessable (422).
fn order_refusal(error: &crate::domain::OrderError) -> Option<StatusCode> {
    let code = error.code();
    REFUSALS
        .iter()
        .find(|(_, c)| *c == code)
        .and_then(|(status, _)| StatusCode::from_u16(*status).ok())
}

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
            AppError::Order(e) => match order_refusal(&e) {
                Some(status) => ApiError::new(status, code, e.to_string()),
                None => {
                    ApiError::validation(vec![FieldError::new("/items", e.code(), e.to_string())])
                }
            },
            AppError::Fallout(e) => ApiError::conflict(code, e.to_string()),
            AppError::FalloutNotFound(id) => ApiError::not_found(code, format!("No fallout {id}")),
            AppError::CancellationNotFound(id) => {
                ApiError::not_found(code, format!("No cancellation {id} of this order"))
            }
            AppError::AmendmentInProgress(id) => ApiError::conflict(
                code,
                format!(
                    "Amendment {id} of this order is still in flight; amend again once it is done"
                ),
            ),
            AppError::GuardInUse(id) => ApiError::conflict(
                code,
                format!(
                    "An order in flight holds the operation guard of product instance {id}; repair or cancel that order first"
                ),
            ),
            AppError::ReferenceAlreadySet(detail) => ApiError::conflict(code, detail),
            AppError::Asset(e) => ApiError::conflict(code, e.to_string()),
            AppError::AmendmentNotFound(id) => {
                ApiError::not_found(code, format!("No amendment {id} of this order"))
            }
            AppError::ActionNotApplicable(reason) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, reason)
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
        "this command needs an Idempotency-Key header: it must be safe to retry",
    )
    .with_errors(vec![FieldError::new(
        "/headers/Idempotency-Key",
        "REQUIRED",
        "send a unique key per order, and the same key when retrying",
    )])
}
