//! Append-only quote history: one row per transition, naming command, actor (and the service it
//! acted through, `via`) and revision.

use common_kernel::context::RequestContext;
use sqlx::PgConnection;

use crate::app::ports::UnmovedNote;
use crate::domain::quote::QuoteEvent;

/// Appends the history row of `event` in the caller's transaction.
pub async fn append(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    event: &QuoteEvent,
) -> Result<(), sqlx::Error> {
    let details =
        serde_json::to_value(&event.detail).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let transition = &event.transition;
    sqlx::query(
        "INSERT INTO quote_history (quote_id, revision, tenant_id, command, from_status, to_status, aggregate_version, \
         actor_id, actor_type, via, channel, reason, details, correlation_id, command_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(transition.quote_id.as_uuid())
    .bind(transition.revision)
    .bind(ctx.tenant_id.as_str())
    .bind(event.command)
    .bind(transition.from_status.map(|s| s.as_str()))
    .bind(transition.to_status.as_str())
    .bind(event.aggregate_version)
    .bind(ctx.actor.actor_id.as_str())
    .bind(ctx.actor.actor_type.as_str())
    .bind(ctx.authority.via.as_deref())
    .bind(&ctx.channel)
    .bind(event.reason.as_deref())
    .bind(details)
    .bind(&ctx.correlation_id)
    .bind(ctx.command_id.as_uuid())
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends the history row of an approval event that moved nothing: the status stays, the
/// aggregate version is the current one, the reason names why.
pub async fn append_unmoved(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    note: &UnmovedNote<'_>,
) -> Result<(), sqlx::Error> {
    let status = note.standing.status.as_str();
    sqlx::query(
        "INSERT INTO quote_history (quote_id, revision, tenant_id, command, from_status, to_status, aggregate_version, \
         actor_id, actor_type, via, channel, reason, details, correlation_id, command_id) \
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(note.quote_id.as_uuid())
    .bind(note.standing.revision)
    .bind(ctx.tenant_id.as_str())
    .bind(note.command)
    .bind(status)
    .bind(note.standing.aggregate_version)
    .bind(ctx.actor.actor_id.as_str())
    .bind(ctx.actor.actor_type.as_str())
    .bind(ctx.authority.via.as_deref())
    .bind(&ctx.channel)
    .bind(&note.reason)
    .bind(&note.details)
    .bind(&ctx.correlation_id)
    .bind(ctx.command_id.as_uuid())
    .execute(conn)
    .await?;
    Ok(())
}
