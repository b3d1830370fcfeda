//! Application layer: one function per command or query. Commands take the transaction the
//! HTTP edge opened (through the idempotent command runner) and write state, history, outbox
//! event and audit evidence in it; queries read through the cache where content is frozen.

pub mod error;
pub mod events;
pub mod offerings;
pub mod price_books;
pub mod specifications;
pub mod views;

use sqlx::PgConnection;

use crate::domain::violation::Violation;
use error::{CatalogError, CatalogResult};

/// Refuses the command when the client's `If-Match` names an older aggregate version.
pub fn check_expected_version(expected: Option<i64>, current: i64) -> CatalogResult<()> {
    match expected {
        Some(expected) if expected != current => {
            Err(CatalogError::VersionMismatch { expected, current })
        }
        _ => Ok(()),
    }
}

/// Turns collected violations into an error.
pub fn reject_if_any(violations: Vec<Violation>) -> CatalogResult<()> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(CatalogError::Invalid(violations))
    }
}

/// Lifecycle commands carry an optional target version and reason.
#[derive(Debug, Clone, Default)]
pub struct LifecycleInput {
    /// Version to act on; the latest when absent.
    pub version: Option<i32>,
    /// Reason recorded in history and audit.
    pub reason: Option<String>,
    /// `If-Match` aggregate version.
    pub expected_version: Option<i64>,
}

/// Holds a connection for queries.
pub type Conn = PgConnection;
