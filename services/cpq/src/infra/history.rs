//! Append-only quote history: one row per transition, naming command, actor and revision.

use common_kernel::context::RequestContext;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// One transition to record.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// Quote.
    pub quote_id: Uuid,
    /// Revision the change belongs to (the new one for a revise).
    pub revision: i32,
    /// Command name (the domain's `QuoteCommand::as_str`, or a service command).
    pub command: &'a str,
    /// Status before (none for creation).
    pub from_status: Option<&'a str>,
    /// Status after.
    pub to_status: &'a str,
    /// Aggregate version after the change.
    pub aggregate_version: i64,
    /// Reason given.
    pub reason: Option<&'a str>,
    /// Command-specific facts (hashes, policy outcome, order id).
    pub details: Option<&'a Value>,
}

/// Appends a history row in the caller's transaction.
pub async fn append(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    change: Change<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO quote_history (quote_id, revision, tenant_id, command, from_status, to_status, aggregate_version, \
         actor_id, actor_type, channel, reason, details, correlation_id, command_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(change.quote_id)
    .bind(change.revision)
    .bind(ctx.tenant_id.as_str())
    .bind(change.command)
    .bind(change.from_status)
    .bind(change.to_status)
    .bind(change.aggregate_version)
    .bind(ctx.actor.actor_id.as_str())
    .bind(ctx.actor.actor_type.as_str())
    .bind(&ctx.channel)
    .bind(change.reason)
    .bind(change.details)
    .bind(&ctx.correlation_id)
    .bind(ctx.command_id.as_uuid())
    .execute(conn)
    .await?;
    Ok(())
}
