//! The one mapping from CPQ errors to problem+json.

use axum::http::StatusCode;
use common_kernel::db::violated_constraint;
use common_kernel::error::{ApiError, FieldError};

use crate::app::error::CpqError;
use crate::app::ports::CatalogError;
use crate::domain::input::InputViolation;
use crate::domain::quote::QuoteError;
use crate::domain::quote::catalog_pins::PinRefusal;
use crate::domain::quote::editing::PriceBookRefusal;
use cpq_pricing::PriceLadderRejection;

/// Stable CPQ error codes.
pub mod codes {
    /// A command the quote's lifecycle does not allow.
    pub const ILLEGAL_TRANSITION: &str = "ILLEGAL_TRANSITION";
    /// No such quote for the tenant.
    pub const QUOTE_NOT_FOUND: &str = "QUOTE_NOT_FOUND";
    /// No such item in the current revision.
    pub const ITEM_NOT_FOUND: &str = "ITEM_NOT_FOUND";
    /// The command needs a priced quote.
    pub const QUOTE_NOT_PRICED: &str = "QUOTE_NOT_PRICED";
    /// The catalog cannot be reached; retry.
    pub const CATALOG_UNAVAILABLE: &str = "CATALOG_UNAVAILABLE";
    /// The catalog answered something CPQ cannot use.
    pub const CATALOG_ERROR: &str = "CATALOG_ERROR";
    /// An offering does not exist for the tenant.
    pub const UNKNOWN_OFFERING: &str = "UNKNOWN_OFFERING";
    /// An offering version cannot be sold new.
    pub const OFFERING_NOT_SELLABLE: &str = "OFFERING_NOT_SELLABLE";
    /// The pinned offering version is no longer the published one.
    pub const OFFERING_VERSION_STALE: &str = "OFFERING_VERSION_STALE";
    /// The price book does not exist for the tenant.
    pub const UNKNOWN_PRICE_BOOK: &str = "UNKNOWN_PRICE_BOOK";
    /// The price book version is not the one in force.
    pub const PRICE_BOOK_NOT_PUBLISHED: &str = "PRICE_BOOK_NOT_PUBLISHED";
    /// Quote and price book currencies differ.
    pub const CURRENCY_MISMATCH: &str = "CURRENCY_MISMATCH";
    /// The price book's volume tiers make buying more cost less in total, or more per unit.
    pub const PRICE_LADDER_REJECTED: &str = "PRICE_LADDER_REJECTED";
    /// The pricing state does not allow the change.
    pub const PRICING_TRANSITION_NOT_ALLOWED: &str = "PRICING_TRANSITION_NOT_ALLOWED";
}

fn fields(violations: Vec<InputViolation>) -> Vec<FieldError> {
    violations
        .into_iter()
        .map(|v| FieldError::new(v.field, v.code, v.message))
        .collect()
}

fn unprocessable(code: &'static str, detail: String, violations: Vec<InputViolation>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail).with_errors(fields(violations))
}

impl From<CpqError> for ApiError {
    fn from(error: CpqError) -> Self {
        match error {
            CpqError::Invalid(violations) => ApiError::validation(fields(violations)),
            CpqError::Forbidden(refused) => ApiError::from(refused),
            CpqError::QuoteNotFound(id) => ApiError::not_found(codes::QUOTE_NOT_FOUND, format!("No quote {id}")),
            CpqError::Quote(error) => quote(error),
            CpqError::Pins(PinRefusal::UnknownOffering(v)) => unprocessable(
                codes::UNKNOWN_OFFERING,
                "An item names an offering (or version) the catalog does not have".into(),
                v,
            ),
            CpqError::Pins(PinRefusal::NotSellable(v)) => unprocessable(
                codes::OFFERING_NOT_SELLABLE,
                "An item names an offering that cannot be sold new (not published, retired or archived)".into(),
                v,
            ),
            CpqError::Pins(PinRefusal::Stale(v)) => ApiError::conflict(
                codes::OFFERING_VERSION_STALE,
                "An item pins an offering version that is no longer the published one; re-read the catalog",
            )
            .with_errors(fields(v)),
            CpqError::PriceBook(PriceBookRefusal::Unknown(what)) => unprocessable(
                codes::UNKNOWN_PRICE_BOOK,
                format!("No price book {what} for this tenant"),
                vec![InputViolation::new("/priceBookId", codes::UNKNOWN_PRICE_BOOK, "unknown price book")],
            ),
            CpqError::PriceBook(problem @ PriceBookRefusal::NotPublished { .. }) => unprocessable(
                codes::PRICE_BOOK_NOT_PUBLISHED,
                problem.to_string(),
                vec![InputViolation::new("/priceBookVersion", codes::PRICE_BOOK_NOT_PUBLISHED, problem.to_string())],
            ),
            CpqError::PriceBook(problem @ PriceBookRefusal::CurrencyMismatch { .. }) => unprocessable(
                codes::CURRENCY_MISMATCH,
                problem.to_string(),
                vec![InputViolation::new("/currency", codes::CURRENCY_MISMATCH, problem.to_string())],
            ),
            CpqError::Catalog(CatalogError::Unavailable(source)) => {
                ApiError::unavailable(codes::CATALOG_UNAVAILABLE, CatalogError::Unavailable(source))
            }
            CpqError::Catalog(error @ CatalogError::Unexpected(_)) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                codes::CATALOG_ERROR,
                "The catalog answered unexpectedly; retry later",
            )
            .with_retryable(true)
            .with_source(error),
            CpqError::Database(e) => database(e),
            error @ (CpqError::Corrupt(_) | CpqError::UnreadableEvent(_)) => ApiError::internal(error),
        }
    }
}

/// The quote's own refusals.
fn quote(error: QuoteError) -> ApiError {
    match error {
        QuoteError::Invalid(violations) => ApiError::validation(fields(violations)),
        QuoteError::ItemNotFound(item) => ApiError::not_found(
            codes::ITEM_NOT_FOUND,
            format!("No item {item} in the quote's current revision"),
        ),
        QuoteError::Transition(e) => ApiError::conflict(codes::ILLEGAL_TRANSITION, e.to_string()),
        QuoteError::Guard(refused) => {
            let errors = refused
                .reasons
                .iter()
                .map(|r| FieldError::new("/", r.code(), r.to_string()))
                .collect();
            ApiError::conflict(refused.code(), refused.to_string()).with_errors(errors)
        }
        QuoteError::PricingTransition(e) => {
            ApiError::conflict(codes::PRICING_TRANSITION_NOT_ALLOWED, e.to_string())
        }
        error @ QuoteError::NotPriced { .. } => {
            ApiError::conflict(codes::QUOTE_NOT_PRICED, error.to_string())
        }
        error @ QuoteError::VersionMismatch { .. } => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            common_kernel::error::codes::VERSION_MISMATCH,
            format!("{error}; re-read the quote and retry"),
        ),
        QuoteError::PriceLadder(rejection) => price_ladder(&rejection),
        QuoteError::Pricing(errors) => {
            let code = errors
                .errors()
                .first()
                .map_or("PRICING_FAILED", |e| e.code());
            let list = errors
                .errors()
                .iter()
                .map(|e| {
                    let field = e
                        .line_id()
                        .map_or_else(|| "/".to_owned(), |l| format!("item:{l}"));
                    FieldError::new(field, e.code(), e.to_string())
                })
                .collect();
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, errors.to_string())
                .with_errors(list)
        }
        error @ (QuoteError::Inconsistent(_) | QuoteError::PolicyInput(_)) => {
            ApiError::internal(error)
        }
    }
}

/// One field error per offending tier boundary, so the catalog team sees every fix to make.
fn price_ladder(rejection: &PriceLadderRejection) -> ApiError {
    let errors = rejection
        .findings
        .iter()
        .map(|f| {
            let field = format!(
                "priceBook:{}/offering:{}/{}/tier:{}",
                rejection.price_book_id, f.offering_id, f.charge, f.tier
            );
            let totals = match (f.total_at_boundary, f.total_after_boundary) {
                (Some(at), Some(after)) => format!(
                    "; {} units cost {at} in total but {} units {after}",
                    f.boundary,
                    f.boundary.saturating_add(1)
                ),
                _ => String::new(),
            };
            let message = format!(
                "{} tier {} of the {} charge ends at quantity {}: unit price {} then {}{totals}",
                f.mode.as_str(),
                f.tier,
                f.charge,
                f.boundary,
                f.lower_unit_price,
                f.upper_unit_price,
            );
            FieldError::new(field, f.reason.code(), message)
        })
        .collect();
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::PRICE_LADDER_REJECTED,
        format!("{rejection}; fix the price book's volume tiers in the catalog before pricing against it"),
    )
    .with_errors(errors)
}

/// Maps guard and constraint violations the database caught (the last line of defence) to the
/// codes the application uses.
fn database(error: sqlx::Error) -> ApiError {
    match violated_constraint(&error) {
        Some(name)
            if name.ends_with("_transition")
                || name.ends_with("_immutable")
                || name.ends_with("_frozen")
                || name.ends_with("_append_only") =>
        {
            ApiError::conflict(
                codes::ILLEGAL_TRANSITION,
                "The quote's lifecycle does not allow this change",
            )
            .with_source(error)
        }
        _ => ApiError::from(error),
    }
}
