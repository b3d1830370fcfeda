//! Publishes what a quote transition leaves behind besides its rows: the integration event in
//! the outbox and the audit evidence, both in the command's transaction, so they exist exactly
//! when the change commits.

use common_kernel::audit::{self, AuditResource, Evidence, PolicyRef};
use common_kernel::context::RequestContext;
use common_kernel::outbox::{self, NewEvent};
use sqlx::PgConnection;

use super::error::{CpqError, CpqResult};
use super::ports::UnmovedNote;
use crate::domain::quote::QuoteEvent;
use crate::domain::quote::events::{AGGREGATE_TYPE, QUOTE_TOPIC};

/// Writes the outbox event and the audit evidence of `event`.
pub async fn publish(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    event: &QuoteEvent,
) -> CpqResult<()> {
    let quote_id = event.transition.quote_id.to_string();
    outbox::append(
        conn,
        ctx,
        NewEvent {
            event_type: event.event_type(),
            event_version: event.event_version(),
            topic: QUOTE_TOPIC,
            aggregate_type: AGGREGATE_TYPE,
            aggregate_id: quote_id.clone(),
            aggregate_version: event.aggregate_version,
            partition_key: quote_id.clone(),
            payload: to_json(&event.payload())?,
        },
    )
    .await?;
    // An approval transition names the approval service's policy that decided it.
    let policy = event.detail.approval().map(|recorded| PolicyRef {
        policy_id: recorded.policy_id.clone(),
        policy_version: recorded.policy_version.clone(),
    });
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: event.fact_name(),
            resource: AuditResource {
                resource_type: AGGREGATE_TYPE,
                resource_id: quote_id,
                resource_version: event.aggregate_version,
            },
            business_reason: event.reason.clone(),
            before: event.before.as_ref().map(to_json).transpose()?,
            after: Some(to_json(&event.after)?),
            policy,
        },
    )
    .await?;
    Ok(())
}

/// Writes the audit evidence of an approval event that moved nothing: the quote as it stands
/// (before = after), why, and the approval service's policy when the event named one.
pub async fn publish_unmoved(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    note: &UnmovedNote<'_>,
    policy: Option<PolicyRef>,
) -> CpqResult<()> {
    let standing = to_json(note.standing)?;
    let mut after = standing.clone();
    if let Some(fields) = after.as_object_mut() {
        fields.insert("approvalEvent".to_owned(), note.details.clone());
    }
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: if note.command == UNMOVED_EVIDENCE {
                "cpq.quote.approval-evidence-recorded"
            } else {
                "cpq.quote.approval-event-ignored"
            },
            resource: AuditResource {
                resource_type: AGGREGATE_TYPE,
                resource_id: note.quote_id.to_string(),
                resource_version: note.standing.aggregate_version,
            },
            business_reason: Some(note.reason.clone()),
            before: Some(standing),
            after: Some(after),
            policy,
        },
    )
    .await?;
    Ok(())
}

/// History command of an escalation or supersession: evidence, never a transition.
pub const UNMOVED_EVIDENCE: &str = "APPROVAL_EVIDENCE_RECORDED";
/// History command of an approval event ignored for its revision, price or the quote's status.
pub const UNMOVED_IGNORED: &str = "APPROVAL_EVENT_IGNORED";

fn to_json<T: serde::Serialize>(value: &T) -> CpqResult<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| CpqError::Corrupt(e.to_string()))
}
