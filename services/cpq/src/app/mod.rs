//! Application layer: one function per command or query. Commands take the transaction the
//! HTTP edge opened (through the idempotent command runner), lock the quote, apply the domain
//! transition and write state, history, outbox event and audit evidence in it.

pub mod error;
pub mod events;
pub mod expiry;
pub mod quotes;
pub mod views;

use common_kernel::audit::{self, AuditResource, Evidence, PolicyRef};
use common_kernel::context::RequestContext;
use common_kernel::outbox;
use serde_json::Value;
use sqlx::PgConnection;

use crate::infra::history::{self, Change};
use error::{CpqError, CpqResult};

/// Refuses the command when the client's `If-Match` names an older aggregate version.
pub fn check_expected_version(expected: Option<i64>, current: i64) -> CpqResult<()> {
    match expected {
        Some(expected) if expected != current => {
            Err(CpqError::VersionMismatch { expected, current })
        }
        _ => Ok(()),
    }
}

/// Everything one transition leaves behind.
#[derive(Debug)]
pub struct ChangeRecord<'a> {
    /// The history row.
    pub change: Change<'a>,
    /// Event type (`cpq.quote.<what>.v1`).
    pub event_type: &'static str,
    /// Event payload.
    pub payload: Value,
    /// State before, for the evidence.
    pub before: Option<Value>,
    /// State after, for the evidence.
    pub after: Option<Value>,
    /// Policy applied, for the evidence.
    pub policy: Option<PolicyRef>,
}

/// Writes the history row, the outbox event and the audit evidence of one transition in the
/// caller's transaction, so the three exist exactly when the change commits.
pub async fn record_change(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    record: ChangeRecord<'_>,
) -> CpqResult<()> {
    let ChangeRecord {
        change,
        event_type,
        payload,
        before,
        after,
        policy,
    } = record;
    history::append(conn, ctx, change).await?;
    let event = events::quote_event(
        event_type,
        change.quote_id,
        change.aggregate_version,
        payload,
    );
    outbox::append(conn, ctx, event).await?;
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: event_type.trim_end_matches(".v1"),
            resource: AuditResource {
                resource_type: events::AGGREGATE_TYPE,
                resource_id: change.quote_id.to_string(),
                resource_version: change.aggregate_version,
            },
            business_reason: change.reason.map(str::to_owned),
            before,
            after,
            policy,
        },
    )
    .await?;
    Ok(())
}
