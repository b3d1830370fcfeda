//! Application layer: one function per command or query. Commands take the transaction the
//! HTTP edge opened (through the idempotent command runner) and write state, history, outbox
//! event and audit evidence in it; queries read through the cache where content is frozen.

pub mod error;
pub mod events;
pub mod mapping;
pub mod offerings;
pub mod price_books;
pub mod specifications;
pub mod views;

use common_kernel::audit::{self, AuditResource, Evidence};
use common_kernel::context::RequestContext;
use common_kernel::outbox::{self, NewEvent};
use serde_json::Value;
use sqlx::PgConnection;

use crate::infra::history::{self, Change, HistoryTable};

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

/// Everything one state change leaves behind.
#[derive(Debug)]
pub struct ChangeRecord<'a> {
    /// Which history table.
    pub table: HistoryTable,
    /// The history row.
    pub change: Change<'a>,
    /// The business event (its aggregate type names the audited resource).
    pub event: NewEvent,
    /// Why, as the actor or the system states it.
    pub business_reason: Option<String>,
    /// State before, for the evidence.
    pub before: Option<Value>,
    /// State after, for the evidence.
    pub after: Option<Value>,
}

/// Writes the history row, the outbox event and the audit evidence of one change in the
/// caller's transaction, so the three exist exactly when the change commits.
pub async fn record_change(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    record: ChangeRecord<'_>,
) -> CatalogResult<()> {
    let ChangeRecord {
        table,
        change,
        event,
        business_reason,
        before,
        after,
    } = record;
    history::append(conn, table, ctx, change).await?;
    let resource_type = event.aggregate_type;
    let audited = event.event_type.trim_end_matches(".v1");
    outbox::append(conn, ctx, event).await?;
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: audited,
            resource: AuditResource {
                resource_type,
                resource_id: change.id.to_string(),
                resource_version: change.aggregate_version,
            },
            business_reason,
            before,
            after,
            policy: None,
        },
    )
    .await?;
    Ok(())
}
