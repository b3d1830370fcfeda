//! Errors of the CPQ application layer; mapped to problem+json once, in `http::error`.

use crate::app::ports::{CatalogError, StoreError};
use crate::domain::QuoteId;
use crate::domain::input::InputViolation;
use crate::domain::quote::QuoteError;
use crate::domain::quote::catalog_pins::PinRefusal;
use crate::domain::quote::editing::PriceBookRefusal;

/// Why a CPQ command or query failed.
#[derive(Debug, thiserror::Error)]
pub enum CpqError {
    /// The input broke one or more rules.
    #[error("invalid input")]
    Invalid(Vec<InputViolation>),
    /// The permission table refused the action (ADR 0030).
    #[error(transparent)]
    Forbidden(#[from] domain_kernel::access::Forbidden),
    /// The quote does not exist for this tenant.
    #[error("quote {0} not found")]
    QuoteNotFound(QuoteId),
    /// The quote refused the command.
    #[error(transparent)]
    Quote(#[from] QuoteError),
    /// Items name offerings that cannot be pinned.
    #[error("the items cannot be pinned to sellable offering versions")]
    Pins(PinRefusal),
    /// The requested price book cannot be pinned.
    #[error(transparent)]
    PriceBook(#[from] PriceBookRefusal),
    /// The catalog could not be reached or answered nonsense.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A database failure nothing more specific explains.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// An incoming event breaks its contract (the consumer dead-letters it).
    #[error("unreadable event: {0}")]
    UnreadableEvent(String),
    /// Stored data no longer reads back (a bug, never user input).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl From<StoreError> for CpqError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(e) => Self::Database(e),
            StoreError::Corrupt(what) => Self::Corrupt(what),
        }
    }
}

impl From<PinRefusal> for CpqError {
    fn from(refusal: PinRefusal) -> Self {
        Self::Pins(refusal)
    }
}

/// Result of CPQ operations.
pub type CpqResult<T> = Result<T, CpqError>;
