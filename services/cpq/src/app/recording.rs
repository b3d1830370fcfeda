//! Publishes what a quote transition leaves behind besides its rows: the integration event in
//! the outbox and the audit evidence, both in the command's transaction, so they exist exactly
//! when the change commits.

use common_kernel::audit::{self, AuditResource, Evidence, PolicyRef};
use common_kernel::context::RequestContext;
use common_kernel::outbox::{self, NewEvent};
use sqlx::PgConnection;

use super::error::{CpqError, CpqResult};
use crate::domain::approval::POLICY_VERSION;
use crate::domain::quote::EventDetail;
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
            event_version: 1,
            topic: QUOTE_TOPIC,
            aggregate_type: AGGREGATE_TYPE,
            aggregate_id: quote_id.clone(),
            aggregate_version: event.aggregate_version,
            partition_key: quote_id.clone(),
            payload: to_json(&event.payload())?,
        },
    )
    .await?;
    let policy = matches!(event.detail, EventDetail::Submitted(_)).then(|| PolicyRef {
        policy_id: "cpq-approval-policy".to_owned(),
        policy_version: POLICY_VERSION.to_owned(),
    });
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: event.event_type().trim_end_matches(".v1"),
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

fn to_json<T: serde::Serialize>(value: &T) -> CpqResult<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| CpqError::Corrupt(e.to_string()))
}
