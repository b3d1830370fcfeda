//! The application layer's errors, mapped once to HTTP (`http::error`), once to job outcomes
//! (`workers`) and once to consumer outcomes (`infra::quote_events`).

use crate::domain::{AssetError, FalloutError, FalloutId, OrderError, OrderId, ProductInstanceId};

/// Why a command or query did not complete.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The database failed; worth retrying.
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
    /// The order aggregate refused the command.
    #[error(transparent)]
    Order(#[from] OrderError),
    /// A product instance refused the change.
    #[error(transparent)]
    Asset(#[from] AssetError),
    /// The fallout record refused the action.
    #[error(transparent)]
    Fallout(#[from] FalloutError),
    /// No such fallout in the caller's tenant.
    #[error("no fallout {0}")]
    FalloutNotFound(FalloutId),
    /// No such cancellation of the order.
    #[error("no cancellation {0} of this order")]
    CancellationNotFound(uuid::Uuid),
    /// Another amendment of the order is in flight.
    #[error("amendment {0} of this order is still in flight")]
    AmendmentInProgress(uuid::Uuid),
    /// No such amendment of the order.
    #[error("no amendment {0} of this order")]
    AmendmentNotFound(uuid::Uuid),
    /// A running order still holds the instance's operation guard.
    #[error("an order in flight holds the operation guard of product instance {0}")]
    GuardInUse(ProductInstanceId),
    /// The instance already holds another value of the reference.
    #[error("{0}")]
    ReferenceAlreadySet(String),
    /// The action does not fit the fallout (it names no task, or another kind of task).
    #[error("{0}")]
    ActionNotApplicable(String),
    /// The caller may not do this.
    #[error(transparent)]
    Forbidden(#[from] domain_kernel::access::Forbidden),
    /// No such order in the caller's tenant.
    #[error("no order {0}")]
    OrderNotFound(OrderId),
    /// No such product instance in the caller's tenant.
    #[error("no product instance {0}")]
    AssetNotFound(ProductInstanceId),
    /// A MODIFY or DELETE names a product instance that is not the customer's ACTIVE one.
    #[error("product instance {instance} cannot be changed by this order: {reason}")]
    AssetNotChangeable {
        /// The instance named.
        instance: ProductInstanceId,
        /// Why.
        reason: String,
    },
    /// Another order holds the product instance's operation guard.
    #[error("product instance {0} already has an operation in flight")]
    OperationInFlight(ProductInstanceId),
    /// The request is not an order this service can take (field errors).
    #[error("the order request is invalid")]
    Invalid(Vec<common_kernel::error::FieldError>),
    /// The catalog could not be read (down, or a version that does not exist); retryable.
    #[error("the catalog could not be read: {0}")]
    Catalog(String),
    /// A stored value could not be encoded or decoded (a bug or a hand edit).
    #[error("a stored value could not be read: {0}")]
    Corrupt(String),
}

impl AppError {
    /// Stable code, for logs, job messages and problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Database(_) => "DATABASE_UNAVAILABLE",
            Self::Order(e) => e.code(),
            Self::Asset(e) => e.code(),
            Self::Fallout(e) => e.code(),
            Self::FalloutNotFound(_) => "FALLOUT_NOT_FOUND",
            Self::CancellationNotFound(_) => "CANCELLATION_NOT_FOUND",
            Self::ActionNotApplicable(_) => "ACTION_NOT_APPLICABLE",
            Self::AmendmentInProgress(_) => "AMENDMENT_IN_PROGRESS",
            Self::GuardInUse(_) => "GUARD_IN_USE",
            Self::ReferenceAlreadySet(_) => "REFERENCE_ALREADY_SET",
            Self::AmendmentNotFound(_) => "AMENDMENT_NOT_FOUND",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::OrderNotFound(_) => "ORDER_NOT_FOUND",
            Self::AssetNotFound(_) => "PRODUCT_INSTANCE_NOT_FOUND",
            Self::AssetNotChangeable { .. } => "PRODUCT_INSTANCE_NOT_CHANGEABLE",
            Self::OperationInFlight(_) => "ASSET_OPERATION_IN_PROGRESS",
            Self::Invalid(_) => "VALIDATION_FAILED",
            Self::Catalog(_) => "CATALOG_UNAVAILABLE",
            Self::Corrupt(_) => "CORRUPT_ORDER",
        }
    }

    /// Whether trying again later may succeed (the database or the catalog blinked).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Database(_) | Self::Catalog(_))
    }
}

/// A value read back from storage that breaks its own rules.
pub fn corrupt(what: impl std::fmt::Display) -> AppError {
    AppError::Corrupt(what.to_string())
}
