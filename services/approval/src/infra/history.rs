//! Append-only request history: one row per transition naming the command, actor, the service
//! it acted through (`via`), reason, before/after and the event's own fields, so an audit can
//! replay who moved the request and why without the outbox.

use common_kernel::context::RequestContext;
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::app::ports::StoreError;
use crate::domain::{ApprovalEvent, Reason};

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Appends the history row of `event` in the caller's transaction.
pub(super) async fn append(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    event: &ApprovalEvent,
) -> Result<(), StoreError> {
    let command = event.command.map_or("OPEN", |c| c.as_str());
    let before = event
        .from
        .map(|from| json!({"status": from, "version": event.version.get() - 1}));
    let after = json!({"status": event.to, "version": event.version.get()});
    sqlx::query(
        "INSERT INTO approval_history (tenant_id, approval_request_id, command, from_status, to_status, \
         aggregate_version, actor_id, actor_type, via, reason, before, after, details, correlation_id, \
         command_id, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(ctx.tenant_id.as_str())
    .bind(event.request_id.as_uuid())
    .bind(command)
    .bind(event.from.map(|s| s.as_str()))
    .bind(event.to.as_str())
    .bind(event.version.get())
    .bind(ctx.actor.actor_id.as_str())
    .bind(ctx.actor.actor_type.as_str())
    .bind(ctx.authority.via.as_deref())
    .bind(event.detail.reason().map(Reason::as_str))
    .bind(before)
    .bind(after)
    .bind(to_json(&event.detail)?)
    .bind(&ctx.correlation_id)
    .bind(ctx.command_id.as_uuid())
    .bind(event.at)
    .execute(conn)
    .await
    .map_err(super::guards::map)?;
    Ok(())
}
