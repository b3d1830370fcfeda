//! RecordApprovalOutcome: CPQ follows the approval service (ADR 0035). One `approval.*.v1`
//! event, in the caller's transaction (the consumer's inbox transaction in production):
//! remember what it says about its request, then move the quote if the event is about its
//! current revision and price and the quote waits for it, else record why nothing moved. Every
//! effect — quote rows, history, the quote's own event and the audit evidence — commits with the
//! inbox row or not at all, so a redelivery finds the inbox row and changes nothing.
//!
//! The context is the event's: its tenant, its actor (the approver, or the approval service
//! itself), `via` the approval service, and its correlation and business transaction, so the
//! evidence reads as the approver's decision carried by the approval service.

use chrono::{DateTime, Utc};
use common_kernel::audit::PolicyRef;
use common_kernel::context::RequestContext;
use domain_kernel::access::Authority;
use domain_kernel::{Actor, ActorId, ActorType, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::commit_change;
use super::error::{CpqError, CpqResult};
use super::ports::{EventRef, Ports, UnmovedNote};
use super::recording::{self, UNMOVED_EVIDENCE, UNMOVED_IGNORED};
use crate::domain::QuoteId;
use crate::domain::approval::{
    ApprovalOutcome, ApprovalRequestId, ApprovalRequestRef, ApprovalStatus, DecisionEvidence,
    IgnoredReason, LevelEvidence, OutcomeKind, RequestEvidence, Standing, screen,
};
use crate::domain::quote::{ApprovalApplication, QuoteStatus, QuoteSummary};

/// The topic the approval service publishes on (architecture §6).
pub const APPROVAL_TOPIC: &str = "cpq.approval.events.v1";
/// CPQ's consumer group on it.
pub const CONSUMER_GROUP: &str = "cpq.approval-outcomes";
/// The service that carries approval decisions to CPQ (`via` in history and audit).
pub const APPROVAL_SERVICE: &str = "approval";
/// The channel approval outcomes arrive through.
pub const CHANNEL: &str = "APPROVAL_EVENT";

/// What one approval event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalEffect {
    /// The quote moved.
    Moved {
        /// Status before.
        from: QuoteStatus,
        /// Status after.
        to: QuoteStatus,
    },
    /// Nothing moved; recorded in history and audit with this reason code.
    Unmoved(&'static str),
    /// An event type CPQ does not follow (a newer approval event): acknowledged, no effect.
    NotFollowed,
}

/// The envelope fields the handler reads (ADR 0007).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    event_id: Uuid,
    event_type: String,
    tenant_id: String,
    aggregate_version: i64,
    correlation_id: String,
    business_transaction_id: String,
    payload: Value,
}

/// Who caused an approval event.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActorWire {
    actor_id: String,
    actor_type: String,
}

/// The payload every approval event carries (`approval.v1.schema.json#/$defs/payload`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    request_id: Uuid,
    quote_id: Uuid,
    revision: i32,
    price_hash: String,
    status: ApprovalStatus,
    policy_id: String,
    policy_version: String,
    levels: Vec<LevelEvidence>,
    decisions: Vec<DecisionEvidence>,
    reason: Option<String>,
    #[serde(default)]
    escalation: Option<Value>,
    actor: ActorWire,
    occurred_at: DateTime<Utc>,
}

fn unreadable(what: impl std::fmt::Display) -> CpqError {
    CpqError::UnreadableEvent(what.to_string())
}

/// The outcome and the request evidence an event's payload states.
fn read(
    kind: OutcomeKind,
    envelope: &Envelope,
    payload: Payload,
) -> CpqResult<(ApprovalOutcome, RequestEvidence)> {
    let actor = Actor {
        actor_id: ActorId::parse(&payload.actor.actor_id).map_err(unreadable)?,
        actor_type: ActorType::parse(&payload.actor.actor_type)
            .ok_or_else(|| unreadable(format!("actor type {}", payload.actor.actor_type)))?,
    };
    let request = ApprovalRequestRef {
        request_id: ApprovalRequestId::from_uuid(payload.request_id),
        policy_id: payload.policy_id,
        policy_version: payload.policy_version,
    };
    let quote_id = QuoteId::from_uuid(payload.quote_id);
    let evidence = RequestEvidence {
        request: request.clone(),
        quote_id,
        revision: payload.revision,
        price_hash: payload.price_hash.clone(),
        status: payload.status,
        levels: payload.levels,
        decisions: payload.decisions,
        request_version: envelope.aggregate_version,
        occurred_at: payload.occurred_at,
    };
    let outcome = ApprovalOutcome {
        kind,
        request,
        quote_id,
        revision: payload.revision,
        price_hash: payload.price_hash,
        status: payload.status,
        actor,
        reason: payload.reason,
        occurred_at: payload.occurred_at,
    };
    Ok((outcome, evidence))
}

/// The context the event's effects are recorded under.
fn context(tenant: TenantId, envelope: &Envelope, actor: &Actor) -> RequestContext {
    let authority = Authority {
        via: Some(APPROVAL_SERVICE.to_owned()),
        ..Authority::default()
    };
    RequestContext {
        correlation_id: envelope.correlation_id.clone(),
        business_transaction_id: envelope.business_transaction_id.clone(),
        causation_id: Some(envelope.event_id.to_string()),
        ..RequestContext::system(
            tenant,
            actor.actor_id.clone(),
            actor.actor_type,
            CHANNEL,
            authority,
        )
    }
}

/// Applies one approval event `envelope` in the caller's transaction; the caller commits. An
/// unreadable event or one about a quote the tenant does not have is refused (the consumer
/// dead-letters it); a database failure is worth retrying.
#[tracing::instrument(skip_all, fields(event_type, quote), err(level = "info"))]
pub async fn apply(
    conn: &mut PgConnection,
    ports: &Ports,
    envelope: &Value,
) -> CpqResult<ApprovalEffect> {
    let envelope = Envelope::deserialize(envelope).map_err(unreadable)?;
    tracing::Span::current().record("event_type", envelope.event_type.as_str());
    let Some(kind) = OutcomeKind::of_event_type(&envelope.event_type) else {
        tracing::debug!(event_type = %envelope.event_type, "approval event CPQ does not follow");
        return Ok(ApprovalEffect::NotFollowed);
    };
    let payload = Payload::deserialize(&envelope.payload).map_err(unreadable)?;
    let escalation = payload.escalation.clone();
    let tenant = TenantId::parse(&envelope.tenant_id).map_err(unreadable)?;
    let (outcome, evidence) = read(kind, &envelope, payload)?;
    tracing::Span::current().record("quote", tracing::field::display(outcome.quote_id));
    let summary = ports
        .quotes
        .lock_summary(conn, &tenant, outcome.quote_id)
        .await?
        .ok_or(CpqError::QuoteNotFound(outcome.quote_id))?;
    let event = EventRef {
        event_id: envelope.event_id,
        event_type: &envelope.event_type,
    };
    ports
        .approvals
        .record(conn, &tenant, &evidence, event)
        .await?;
    let ctx = context(tenant, &envelope, &outcome.actor);
    let standing = Standing {
        status: summary.status,
        revision: summary.revision,
        price_hash: summary.price_hash.as_deref(),
    };
    let reason = match screen(&outcome, standing) {
        Err(reason) => reason,
        Ok(_) => {
            let mut quote = super::lock_quote(conn, ports, &ctx, outcome.quote_id).await?;
            match quote.record_approval(&outcome)? {
                ApprovalApplication::Applied(change) => {
                    commit_change(conn, ports, &ctx, &mut quote, &change).await?;
                    return Ok(ApprovalEffect::Moved {
                        from: summary.status,
                        to: quote.status(),
                    });
                }
                ApprovalApplication::Ignored(reason) => reason,
            }
        }
    };
    unmoved(
        conn, ports, &ctx, &summary, &envelope, &outcome, escalation, &reason,
    )
    .await?;
    Ok(ApprovalEffect::Unmoved(reason.code()))
}

/// Records an event that moved nothing: a history row and audit evidence naming why.
#[expect(
    clippy::too_many_arguments,
    reason = "the event, the quote and the reason, each needed"
)]
async fn unmoved(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    summary: &QuoteSummary,
    envelope: &Envelope,
    outcome: &ApprovalOutcome,
    escalation: Option<Value>,
    reason: &IgnoredReason,
) -> CpqResult<()> {
    tracing::info!(
        quote = %outcome.quote_id,
        event_type = %envelope.event_type,
        reason = reason.code(),
        "approval event moved nothing"
    );
    let note = UnmovedNote {
        quote_id: outcome.quote_id,
        standing: summary,
        command: if *reason == IgnoredReason::EvidenceOnly {
            UNMOVED_EVIDENCE
        } else {
            UNMOVED_IGNORED
        },
        reason: format!("{}: {reason}", reason.code()),
        details: json!({
            "eventType": envelope.event_type,
            "eventId": envelope.event_id,
            "approvalRequestId": outcome.request.request_id,
            "approvalStatus": outcome.status,
            "revision": outcome.revision,
            "priceHash": outcome.price_hash,
            "policyId": outcome.request.policy_id,
            "policyVersion": outcome.request.policy_version,
            "occurredAt": outcome.occurred_at,
            "reasonCode": reason.code(),
            "escalation": escalation,
        }),
    };
    ports.quotes.record_unmoved(conn, ctx, &note).await?;
    let policy = PolicyRef {
        policy_id: outcome.request.policy_id.clone(),
        policy_version: outcome.request.policy_version.clone(),
    };
    recording::publish_unmoved(conn, ctx, &note, Some(policy)).await
}
