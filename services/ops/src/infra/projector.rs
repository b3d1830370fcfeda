//! The projector: one batched consumer (`ops.projections`) over the topics the views read, each
//! batch projected in its inbox transaction on the jobs role's pool, into the current generation.
//! Duplicates are filtered by the inbox; the store's writes are idempotent and order-independent
//! besides. A batch holds the swap lock shared, so a rebuild's swap (which takes it exclusively)
//! waits for batches in flight and holds new ones until the new generation is current.

use chrono::{DateTime, Utc};
use messaging::batch_consumer::BatchHandler;
use messaging::consumer::{HandlerError, IncomingEvent};
use serde_json::Value;
use sqlx::PgConnection;

use super::store::{self, Projected};
use crate::domain::{classify, view_update};

/// The projector's consumer group.
pub const CONSUMER_GROUP: &str = "ops.projections";

/// The advisory lock between live batches (shared) and a rebuild's swap (exclusive).
pub const SWAP_LOCK: i64 = 0x6f70_735f_7377_6170;

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

/// Reads one consumed event as a projection input; an event without time or tenant breaks
/// the envelope contract.
pub fn projected(event: &IncomingEvent) -> Result<Projected<'_>, HandlerError> {
    let envelope = &event.envelope;
    let text = |field: &str| {
        envelope
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let occurred_at = DateTime::parse_from_rfc3339(text("occurredAt"))
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| permanent(format!("event {} has no occurredAt: {e}", event.event_id)))?;
    if text("tenantId").is_empty() {
        return Err(permanent(format!(
            "event {} names no tenant",
            event.event_id
        )));
    }
    Ok(Projected {
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
        update: view_update(&event.event_type, &envelope["payload"]),
    })
}

/// Projects `events` into `generation` in the caller's transaction; returns when each happened.
pub async fn apply_all(
    conn: &mut PgConnection,
    generation: i32,
    events: &[IncomingEvent],
) -> Result<Vec<DateTime<Utc>>, HandlerError> {
    let mut occurred = Vec::with_capacity(events.len());
    for event in events {
        let input = projected(event)?;
        store::project(&mut *conn, generation, &input).await?;
        occurred.push(input.occurred_at);
    }
    Ok(occurred)
}

impl BatchHandler for Projector {
    async fn handle_batch(
        &self,
        conn: &mut PgConnection,
        events: &[IncomingEvent],
    ) -> Result<(), HandlerError> {
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
            .bind(SWAP_LOCK)
            .execute(&mut *conn)
            .await?;
        let generation = store::current_generation(&mut *conn).await?;
        let occurred = apply_all(conn, generation, events).await?;
        let now = Utc::now();
        for (event, at) in events.iter().zip(occurred) {
            let lag = (now - at).num_milliseconds().max(0) as f64 / 1000.0;
            metrics::histogram!("ops_projection_lag_seconds", "topic" => event.topic.clone())
                .record(lag);
        }
        metrics::counter!("ops_events_projected_total").increment(events.len() as u64);
        Ok(())
    }
}
