//! The transactional outbox writer: events are rows inserted in the caller's transaction, so a
//! fact is published if and only if the state change that produced it committed. The relay
//! (`messaging::relay`) publishes them to Kafka later.
//!
//! Every service schema has the same `outbox_event` log and `outbox_pending` queue (ADR 0012):
//! each event is one row of each, written by one statement. The queue row carries the message as
//! the relay sends it (ADR 0018), so the relay never reads the log in the normal path.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

use crate::context::RequestContext;
use crate::ids::EventId;

/// An event a command wants published.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Full event type including its version suffix, e.g. `catalog.product-offering.published.v1`.
    pub event_type: &'static str,
    /// Contract version of the payload.
    pub event_version: i32,
    /// Kafka topic.
    pub topic: &'static str,
    /// Aggregate type, e.g. `ProductOffering`.
    pub aggregate_type: &'static str,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Aggregate version after the change.
    pub aggregate_version: i64,
    /// Kafka message key; ordering is promised per key only.
    pub partition_key: String,
    /// Event body.
    pub payload: Value,
}

/// The envelope every event travels in (architecture §6).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEnvelope {
    /// Unique event id; consumers dedupe by it.
    pub event_id: EventId,
    /// Event type with version suffix.
    pub event_type: String,
    /// Contract version.
    pub event_version: i32,
    /// When the fact happened (the command's commit time, to the microsecond).
    pub occurred_at: DateTime<Utc>,
    /// Owning tenant.
    pub tenant_id: String,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Aggregate version after the change, for consumers' staleness checks.
    pub aggregate_version: i64,
    /// Request correlation id.
    pub correlation_id: String,
    /// The command that caused this event.
    pub causation_id: String,
    /// The business transaction.
    pub business_transaction_id: String,
    /// Who acted.
    pub actor_id: String,
    /// Kafka key.
    pub partition_key: String,
    /// W3C trace context of the request, for the relay to forward as a header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// Event body.
    pub payload: Value,
}

/// Builds the envelope of an event caused by the command in `ctx`.
pub fn envelope(
    ctx: &RequestContext,
    event: NewEvent,
    occurred_at: DateTime<Utc>,
) -> EventEnvelope {
    EventEnvelope {
        event_id: EventId::generate(),
        event_type: event.event_type.to_owned(),
        event_version: event.event_version,
        occurred_at,
        tenant_id: ctx.tenant_id.as_str().to_owned(),
        aggregate_type: event.aggregate_type.to_owned(),
        aggregate_id: event.aggregate_id,
        aggregate_version: event.aggregate_version,
        correlation_id: ctx.correlation_id.clone(),
        causation_id: ctx.command_id.to_string(),
        business_transaction_id: ctx.business_transaction_id.clone(),
        actor_id: ctx.actor.actor_id.as_str().to_owned(),
        partition_key: event.partition_key,
        traceparent: ctx.traceparent.clone(),
        payload: event.payload,
    }
}

/// Inserts an event into the outbox inside the caller's transaction.
pub async fn append(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    event: NewEvent,
) -> Result<EventId, sqlx::Error> {
    let topic = event.topic;
    let envelope = envelope(ctx, event, Utc::now());
    insert(conn, topic, &envelope).await?;
    Ok(envelope.event_id)
}

/// Inserts a prepared envelope (used by the audit writer).
///
/// The envelope is serialised once: the log keeps it as `jsonb`, and the pending queue row keeps
/// the same text with the headers as columns, the message exactly as the relay sends it
/// (ADR 0018).
pub(crate) async fn insert(
    conn: &mut PgConnection,
    topic: &str,
    envelope: &EventEnvelope,
) -> Result<(), sqlx::Error> {
    let body = serde_json::to_string(envelope).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "WITH event AS (INSERT INTO outbox_event (event_id, topic, partition_key, event_type, event_version, \
         aggregate_type, aggregate_id, aggregate_version, tenant_id, envelope, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11) RETURNING outbox_seq) \
         INSERT INTO outbox_pending (outbox_seq, topic, partition_key, event_id, event_type, event_version, \
         occurred_at, correlation_id, causation_id, traceparent, envelope) \
         SELECT outbox_seq, $2, $3, $1, $4, $5, $11, $12, $13, $14, $10::json FROM event",
    )
    .bind(envelope.event_id.as_uuid())
    .bind(topic)
    .bind(&envelope.partition_key)
    .bind(&envelope.event_type)
    .bind(envelope.event_version)
    .bind(&envelope.aggregate_type)
    .bind(&envelope.aggregate_id)
    .bind(envelope.aggregate_version)
    .bind(&envelope.tenant_id)
    .bind(body)
    .bind(envelope.occurred_at)
    .bind(&envelope.correlation_id)
    .bind(&envelope.causation_id)
    .bind(&envelope.traceparent)
    .execute(conn)
    .await?;
    Ok(())
}
