//! Audit evidence: who decided what, on which input, and why — written through the same outbox
//! as the business event, in the same transaction, so evidence exists exactly when the decision
//! does. The audit service (a later issue) consumes it from `audit.evidence.events.v1`.

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

use crate::context::{Actor, RequestContext};
use crate::ids::EventId;
use crate::outbox::{self, NewEvent};

/// Topic of audit evidence.
pub const AUDIT_TOPIC: &str = "audit.evidence.events.v1";
/// Event type of audit evidence submitted by owning services.
pub const AUDIT_EVENT_TYPE: &str = "audit.evidence-submitted.v1";

/// The resource a decision touched.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditResource {
    /// Resource type, e.g. `ProductOffering`.
    pub resource_type: &'static str,
    /// Resource id.
    pub resource_id: String,
    /// Resource version after the decision.
    pub resource_version: i64,
}

/// The policy that governed a decision, when one did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRef {
    /// Policy id.
    pub policy_id: String,
    /// Policy version.
    pub policy_version: String,
}

/// What a command records as evidence.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// What happened, e.g. `catalog.product-offering.published`.
    pub event_type: &'static str,
    /// The resource.
    pub resource: AuditResource,
    /// The business reason given by the actor, if any.
    pub business_reason: Option<String>,
    /// State before (None for creation).
    pub before: Option<Value>,
    /// State after.
    pub after: Option<Value>,
    /// Governing policy.
    pub policy: Option<PolicyRef>,
}

/// The audit event shape of architecture §9.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Unique id of the evidence.
    pub audit_event_id: EventId,
    /// What happened.
    pub event_type: String,
    /// When.
    pub occurred_at: chrono::DateTime<Utc>,
    /// Tenant.
    pub tenant_id: String,
    /// Who.
    pub actor: Actor,
    /// The client (the token's `azp`) the actor used, e.g. `cpq-portal`; absent when the token
    /// names none. Tells apart two applications acting as the same person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The service that made the call on the actor's behalf (its client id, e.g.
    /// `cpq-service`), absent when the actor called directly (ADR 0030): the actor decided, the
    /// service carried the decision, and the evidence must name both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Through which channel.
    pub channel: String,
    /// On what.
    pub resource: AuditResource,
    /// Why.
    pub business_reason: Option<String>,
    /// Before.
    pub before: Option<Value>,
    /// After.
    pub after: Option<Value>,
    /// Governing policy.
    pub policy: Option<PolicyRef>,
    /// Request correlation id.
    pub correlation_id: String,
    /// The command that caused it.
    pub causation_id: String,
    /// Business transaction.
    pub business_transaction_id: String,
}

/// Writes evidence into the outbox inside the caller's transaction.
pub async fn record(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    evidence: Evidence,
) -> Result<EventId, sqlx::Error> {
    let now = Utc::now();
    let audit_event_id = EventId::generate();
    let audit = AuditEvent {
        audit_event_id,
        event_type: evidence.event_type.to_owned(),
        occurred_at: now,
        tenant_id: ctx.tenant_id.as_str().to_owned(),
        actor: ctx.actor.clone(),
        client: Some(ctx.authority.client.clone()).filter(|client| !client.is_empty()),
        via: ctx.authority.via.clone(),
        channel: ctx.channel.clone(),
        resource: evidence.resource.clone(),
        business_reason: evidence.business_reason,
        before: evidence.before,
        after: evidence.after,
        policy: evidence.policy,
        correlation_id: ctx.correlation_id.clone(),
        causation_id: ctx.command_id.to_string(),
        business_transaction_id: ctx.business_transaction_id.clone(),
    };
    let payload = serde_json::to_value(&audit).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let event = NewEvent {
        event_type: AUDIT_EVENT_TYPE,
        event_version: 1,
        topic: AUDIT_TOPIC,
        aggregate_type: evidence.resource.resource_type,
        aggregate_id: evidence.resource.resource_id.clone(),
        aggregate_version: evidence.resource.resource_version,
        partition_key: ctx.business_transaction_id.clone(),
        payload,
    };
    let mut envelope = outbox::envelope(ctx, event, now);
    envelope.event_id = audit_event_id;
    outbox::insert(conn, AUDIT_TOPIC, &envelope).await?;
    Ok(audit_event_id)
}
