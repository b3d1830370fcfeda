//! The one mapping from catalog errors to problem+json.

use axum::http::StatusCode;
use common_kernel::db::violated_constraint;
use common_kernel::error::{ApiError, FieldError};

use crate::app::error::CatalogError;

/// Stable catalog error codes.
pub mod codes {
    /// A lifecycle command the current state does not allow.
    pub const ILLEGAL_TRANSITION: &str = "ILLEGAL_TRANSITION";
    /// The version's content is frozen.
    pub const VERSION_IMMUTABLE: &str = "VERSION_IMMUTABLE";
    /// A draft or review version is already open.
    pub const WORKING_VERSION_EXISTS: &str = "WORKING_VERSION_EXISTS";
    /// The code is taken.
    pub const CODE_ALREADY_EXISTS: &str = "CODE_ALREADY_EXISTS";
    /// A referenced resource does not exist for the tenant.
    pub const UNKNOWN_REFERENCE: &str = "UNKNOWN_REFERENCE";
}

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::Forbidden(refused) => ApiError::from(refused),
            CatalogError::Invalid(violations) => ApiError::validation(
                violations
                    .into_iter()
                    .map(|v| FieldError::new(v.field, v.code, v.message))
                    .collect(),
            ),
            CatalogError::NotFound { resource, id } => {
                let code = match resource {
                    "product offering" => "OFFERING_NOT_FOUND",
                    "product offering version" => "OFFERING_VERSION_NOT_FOUND",
                    "product specification" => "SPECIFICATION_NOT_FOUND",
                    "price book" => "PRICE_BOOK_NOT_FOUND",
                    "price book version" => "PRICE_BOOK_VERSION_NOT_FOUND",
                    _ => "NOT_FOUND",
                };
                ApiError::not_found(code, format!("No {resource} {id}"))
            }
            CatalogError::CodeTaken { resource, code } => ApiError::conflict(
                codes::CODE_ALREADY_EXISTS,
                format!("A {resource} with code {code} already exists"),
            )
            .with_errors(vec![FieldError::new(
                "/code",
                "DUPLICATE",
                "already used in this tenant",
            )]),
            CatalogError::OfferingTransition(e) => {
                ApiError::conflict(codes::ILLEGAL_TRANSITION, e.to_string())
            }
            CatalogError::PriceBookTransition(e) => {
                ApiError::conflict(codes::ILLEGAL_TRANSITION, e.to_string())
            }
            error @ CatalogError::WorkingVersionExists { .. } => {
                ApiError::conflict(codes::WORKING_VERSION_EXISTS, error.to_string())
            }
            error @ CatalogError::VersionImmutable { .. } => {
                ApiError::conflict(codes::VERSION_IMMUTABLE, error.to_string())
            }
            error @ CatalogError::VersionMismatch { .. } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                common_kernel::error::codes::VERSION_MISMATCH,
                format!("{error}; re-read the resource and retry"),
            ),
            CatalogError::Database(e) => database(e),
        }
    }
}

/// Maps guard and constraint violations the database caught (the last line of defence) to the
/// same codes the application uses.
fn database(error: sqlx::Error) -> ApiError {
    let foreign_key =
        matches!(&error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23503"));
    match violated_constraint(&error) {
        Some(name) if name.ends_with("_immutable") || name.ends_with("_append_only") => {
            ApiError::conflict(codes::VERSION_IMMUTABLE, "The resource's content is frozen")
                .with_source(error)
        }
        Some(name)
            if name.ends_with("_transition")
                || name.starts_with("offering_one_")
                || name.starts_with("price_book_one_") =>
        {
            ApiError::conflict(
                codes::ILLEGAL_TRANSITION,
                "The lifecycle does not allow this change",
            )
            .with_source(error)
        }
        Some(_) if foreign_key => ApiError::validation(vec![FieldError::new(
            "/",
            codes::UNKNOWN_REFERENCE,
            "a referenced resource does not exist",
        )])
        .with_source(error),
        _ => ApiError::from(error),
    }
}
