//! What a transition leaves besides its rows: the integration event in the outbox (when the
//! event has a contract) and the audit evidence (always), both in the command's transaction,
//! so they exist exactly when the change commits (ADR 0007).

use common_kernel::audit::{self, AuditResource, Evidence, PolicyRef};
use common_kernel::context::RequestContext;
use common_kernel::outbox::{self, NewEvent};
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::error::{AppError, AppResult};
use super::payloads::{AGGREGATE_TYPE, APPROVAL_TOPIC, ActorRef, ApprovalPayload, event_type};
use crate::domain::{ApprovalEvent, ApprovalRequest};

fn to_json<T: serde::Serialize>(value: &T) -> AppResult<Value> {
    serde_json::to_value(value).map_err(|e| AppError::Corrupt(e.to_string()))
}

/// The audit name of a transition (`approval.request.decided`, …).
fn audit_type(event: &ApprovalEvent) -> &'static str {
    match event.command {
        None => "approval.request.opened",
        Some(command) => match command {
            crate::domain::ApprovalCommand::RecordApproval => "approval.request.approval-recorded",
            crate::domain::ApprovalCommand::CompleteApproval => "approval.request.approved",
            crate::domain::ApprovalCommand::Reject => "approval.request.rejected",
            crate::domain::ApprovalCommand::Recall => "approval.request.recalled",
            crate::domain::ApprovalCommand::Expire => "approval.request.expired",
            crate::domain::ApprovalCommand::Supersede => "approval.request.superseded",
            crate::domain::ApprovalCommand::Escalate => "approval.request.escalated",
            crate::domain::ApprovalCommand::Reassign => "approval.request.reassigned",
        },
    }
}

/// Writes the outbox event (if any) and the audit evidence of `event`, which `request` (after
/// it) produced.
pub async fn publish(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    request: &ApprovalRequest,
    event: &ApprovalEvent,
) -> AppResult<()> {
    let request_id = event.request_id.to_string();
    let actor = ActorRef {
        actor_id: ctx.actor.actor_id.to_string(),
        actor_type: ctx.actor.actor_type.as_str().to_owned(),
        via: ctx.authority.via.clone(),
    };
    let payload = ApprovalPayload::new(request, event, actor);
    if let Some(event_type) = event_type(event) {
        outbox::append(
            conn,
            ctx,
            NewEvent {
                event_type,
                event_version: 1,
                topic: APPROVAL_TOPIC,
                aggregate_type: AGGREGATE_TYPE,
                aggregate_id: request_id.clone(),
                aggregate_version: event.version.get(),
                partition_key: request_id.clone(),
                payload: to_json(&payload)?,
            },
        )
        .await?;
    }
    let quote = json!({
        "quoteId": event.quote.quote_id,
        "revision": event.quote.revision,
        "priceHash": event.quote.price_hash,
    });
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: audit_type(event),
            resource: AuditResource {
                resource_type: AGGREGATE_TYPE,
                resource_id: request_id,
                resource_version: event.version.get(),
            },
            business_reason: event.detail.reason().map(ToString::to_string),
            before: event.from.map(
                |from| json!({"status": from, "version": event.version.get() - 1, "quote": quote}),
            ),
            after: Some(json!({
                "status": event.to,
                "version": event.version.get(),
                "quote": quote,
                "detail": to_json(&event.detail)?,
            })),
            policy: Some(PolicyRef {
                policy_id: request.snapshot().policy_id.clone(),
                policy_version: request.snapshot().policy_version.clone(),
            }),
        },
    )
    .await?;
    Ok(())
}
