//! The projector: one batched consumer (`ops.projections`) over the topics the views read, each
//! batch projected in its inbox transaction on the jobs role's pool. Duplicates are filtered by
//! the inbox; the store's writes are idempotent and order-independent besides.

use chrono::{DateTime, Utc};
use messaging::batch_consumer::BatchHandler;
use messaging::consumer::{HandlerError, IncomingEvent};
use serde_json::Value;
use sqlx::PgConnection;

use super::store::{self, Projected};
use crate::domain::classify;

/// The projector's consumer group.
pub const CONSUMER_GROUP: &str = "ops.projections";

/// The topics the views read.
pub const TOPICS: &[&str] = &[
    "cpq.quote.events.v1",
    "cpq.approval.events.v1",
    "oms.order.events.v1",
    "oms.fulfillment-task.events.v1",
    "integration.inventory.events.v1",
    "integration.provisioning.events.v1",
    "integration.billing.events.v1",
    "integration.engagement.events.v1",
    "audit.evidence.events.v1",
];

/// Projects batches of events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Projector;

fn permanent(what: String) -> HandlerError {
    HandlerError::Permanent(what)
}

impl BatchHandler for Projector {
    async fn handle_batch(
        &self,
        conn: &mut PgConnection,
        events: &[IncomingEvent],
    ) -> Result<(), HandlerError> {
        for event in events {
            let envelope = &event.envelope;
            let text = |field: &str| {
                envelope
                    .get(field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            };
            let occurred_at = DateTime::parse_from_rfc3339(text("occurredAt"))
                .map(|at| at.with_timezone(&Utc))
                .map_err(|e| {
                    permanent(format!("event {} has no occurredAt: {e}", event.event_id))
                })?;
            if text("tenantId").is_empty() {
                return Err(permanent(format!(
                    "event {} names no tenant",
                    event.event_id
                )));
            }
            let projected = Projected {
                event_id: event.event_id,
                tenant_id: text("tenantId"),
                topic: &event.topic,
                event_type: &event.event_type,
                aggregate_type: &event.aggregate_type,
                aggregate_id: &event.aggregate_id,
                aggregate_version: event.aggregate_version,
                occurred_at,
                correlation_id: text("correlationId"),
                actor_id: text("actorId"),
                fact: classify(envelope),
            };
            store::project(&mut *conn, &projected).await?;
        }
        metrics::counter!("ops_events_projected_total").increment(events.len() as u64);
        Ok(())
    }
}
