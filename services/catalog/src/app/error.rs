//! Errors of the catalog's application layer; mapped to problem+json once, in `http::error`.

use crate::domain::lifecycle::{OfferingStatus, PriceBookStatus, TransitionError};
use crate::domain::violation::Violation;

/// Why a catalog command or query failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The permission table refused the action (ADR 0030).
    #[error(transparent)]
    Forbidden(#[from] domain_kernel::access::Forbidden),
    /// The input broke one or more rules.
    #[error("invalid input")]
    Invalid(Vec<Violation>),
    /// The addressed resource does not exist for this tenant.
    #[error("{resource} {id} not found")]
    NotFound {
        /// Resource kind.
        resource: &'static str,
        /// What was looked up.
        id: String,
    },
    /// The code is already used by another resource of the tenant.
    #[error("{resource} code {code} is already used")]
    CodeTaken {
        /// Resource kind.
        resource: &'static str,
        /// The code.
        code: String,
    },
    /// The offering lifecycle does not allow the command.
    #[error(transparent)]
    OfferingTransition(#[from] TransitionError<OfferingStatus>),
    /// The price book lifecycle does not allow the command.
    #[error(transparent)]
    PriceBookTransition(#[from] TransitionError<PriceBookStatus>),
    /// A draft or review version is already open; only one may exist at a time.
    #[error("version {open_version} is still {status}; finish or publish it first")]
    WorkingVersionExists {
        /// The open version.
        open_version: i32,
        /// Its status.
        status: &'static str,
    },
    /// The version's content is frozen.
    #[error("version {version} is {status}; create a new version to change it")]
    VersionImmutable {
        /// The version.
        version: i32,
        /// Its status.
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
    /// A database failure nothing more specific explains.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// Result of catalog operations.
pub type CatalogResult<T> = Result<T, CatalogError>;

impl CatalogError {
    /// A single-field violation.
    pub fn invalid(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid(vec![Violation {
            field: field.into(),
            code,
            message: message.into(),
        }])
    }
}
