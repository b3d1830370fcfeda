//! Errors of the CPQ application layer; mapped to problem+json once, in `http::error`.

use cpq_configuration::quote_state::{GuardRefused, QuoteTransitionError};
use cpq_pricing::{PriceLadderRejection, PricingErrors};

use crate::infra::catalog_client::CatalogError;

/// One invalid input, addressed by a JSON pointer into the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Where (`/items/3/quantity`).
    pub field: String,
    /// Stable reason.
    pub code: String,
    /// Explanation.
    pub message: String,
}

impl FieldViolation {
    /// A violation from its parts.
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

/// Why a CPQ command or query failed.
#[derive(Debug, thiserror::Error)]
pub enum CpqError {
    /// The input broke one or more rules.
    #[error("invalid input")]
    Invalid(Vec<FieldViolation>),
    /// The quote does not exist for this tenant.
    #[error("quote {0} not found")]
    QuoteNotFound(uuid::Uuid),
    /// The item does not exist in the quote's current revision.
    #[error("item {0} not found in the current revision")]
    ItemNotFound(String),
    /// The quote lifecycle does not allow the command.
    #[error(transparent)]
    Transition(#[from] QuoteTransitionError),
    /// A guard of the command does not hold (expired, price not frozen, hash mismatch…).
    #[error(transparent)]
    Guard(#[from] GuardRefused),
    /// The pricing state machine does not allow the change.
    #[error(transparent)]
    PricingTransition(#[from] cpq_pricing::TransitionError),
    /// The command needs a priced quote.
    #[error("the quote is {status}; price it first")]
    NotPriced {
        /// Current status.
        status: &'static str,
    },
    /// `If-Match` named an older aggregate version.
    #[error("expected version {expected}, current is {current}")]
    VersionMismatch {
        /// What the client sent.
        expected: i64,
        /// What is stored.
        current: i64,
    },
    /// Offerings named by the request do not exist for the tenant.
    #[error("unknown offering")]
    UnknownOffering(Vec<FieldViolation>),
    /// Offerings named by the request cannot be sold new (retired, archived, never published).
    #[error("offering not sellable")]
    OfferingNotSellable(Vec<FieldViolation>),
    /// The request pins an offering version that is no longer the published one.
    #[error("offering version stale")]
    OfferingVersionStale(Vec<FieldViolation>),
    /// The price book does not exist, or the requested version is not in force.
    #[error("{0}")]
    PriceBook(PriceBookProblem),
    /// Quote and price book currencies differ.
    #[error("the quote is in {quote} but the price book is in {price_book}")]
    CurrencyMismatch {
        /// Quote currency.
        quote: String,
        /// Price book currency.
        price_book: String,
    },
    /// The price book's volume tiers punish buying more; pricing against it is refused.
    #[error(transparent)]
    PriceLadder(#[from] PriceLadderRejection),
    /// The pricing engine refused the request.
    #[error(transparent)]
    Pricing(#[from] PricingErrors),
    /// The catalog could not be reached or answered nonsense.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A database failure nothing more specific explains.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A stored document no longer reads back (a bug, never user input).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// What is wrong with the requested price book.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceBookProblem {
    /// No such price book (or version) for the tenant.
    #[error("no price book {0} for this tenant")]
    Unknown(String),
    /// The version is not the one in force.
    #[error("price book version {version} is {status}; quote against the published version")]
    NotPublished {
        /// Requested version.
        version: i32,
        /// Its status.
        status: String,
    },
}

/// Result of CPQ operations.
pub type CpqResult<T> = Result<T, CpqError>;

impl CpqError {
    /// A single-field violation.
    pub fn invalid(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid(vec![FieldViolation::new(field, code, message)])
    }

    /// A stored JSON document that does not deserialise.
    pub fn corrupt(error: serde_json::Error) -> Self {
        Self::Corrupt(error.to_string())
    }
}
