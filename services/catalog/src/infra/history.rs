//! Append-only history rows: one per state change, naming the command, the actor and, when a
//! service called on the actor's behalf, that service (`via`).

use common_kernel::context::RequestContext;
use sqlx::PgConnection;
use uuid::Uuid;

/// One lifecycle change to record.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// Aggregate id.
    pub id: Uuid,
    /// Version affected.
    pub version: i32,
    /// Command name.
    pub command: &'a str,
    /// Status before (none for creation).
    pub from_status: Option<&'a str>,
    /// Status after.
    pub to_status: &'a str,
    /// Aggregate version after the change.
    pub aggregate_version: i64,
    /// Reason given.
    pub reason: Option<&'a str>,
}

/// Which history table.
#[derive(Debug, Clone, Copy)]
pub enum HistoryTable {
    /// `product_offering_history`.
    Offering,
    /// `price_book_history`.
    PriceBook,
}

/// Appends a history row.
pub async fn append(
    conn: &mut PgConnection,
    table: HistoryTable,
    ctx: &RequestContext,
    change: Change<'_>,
) -> Result<(), sqlx::Error> {
    let sql = match table {
        HistoryTable::Offering => {
            "INSERT INTO product_offering_history (product_offering_id, version, tenant_id, command, from_status, to_status, \
             aggregate_version, actor_id, actor_type, via, channel, reason, correlation_id, command_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        }
        HistoryTable::PriceBook => {
            "INSERT INTO price_book_history (price_book_id, version, tenant_id, command, from_status, to_status, \
             aggregate_version, actor_id, actor_type, via, channel, reason, correlation_id, command_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        }
    };
    sqlx::query(sql)
        .bind(change.id)
        .bind(change.version)
        .bind(ctx.tenant_id.as_str())
        .bind(change.command)
        .bind(change.from_status)
        .bind(change.to_status)
        .bind(change.aggregate_version)
        .bind(ctx.actor.actor_id.as_str())
        .bind(ctx.actor.actor_type.as_str())
        .bind(ctx.authority.via.as_deref())
        .bind(&ctx.channel)
        .bind(change.reason)
        .bind(&ctx.correlation_id)
        .bind(ctx.command_id.as_uuid())
        .execute(conn)
        .await?;
    Ok(())
}
