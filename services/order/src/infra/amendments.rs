//! Storage of amendments: versioned per order (1, 2, …), one PENDING at a time (the database
//! keeps it so), PENDING until the redone items are done, then DONE; REFUSED when every change
//! was refused.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::app::error::AppError;
use crate::domain::OrderId;

domain_kernel::uuid_id!(
    /// One amendment of an order.
    AmendmentId
);

/// A stored amendment.
#[derive(Debug, Clone)]
pub struct Amendment {
    /// Id.
    pub id: AmendmentId,
    /// The order.
    pub order: OrderId,
    /// Its number within the order, from 1.
    pub version: i32,
    /// PENDING, DONE or REFUSED.
    pub state: String,
    /// The items as asked.
    pub desired: Value,
    /// The assessment applied.
    pub impact: Value,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// Asked at.
    pub created_at: DateTime<Utc>,
    /// Done at.
    pub completed_at: Option<DateTime<Utc>>,
}

fn amendment_of(row: &PgRow) -> Result<Amendment, AppError> {
    Ok(Amendment {
        id: AmendmentId::from_uuid(row.try_get("amendment_id")?),
        order: OrderId::from_uuid(row.try_get("order_id")?),
        version: row.try_get("version")?,
        state: row.try_get("state")?,
        desired: row.try_get("desired")?,
        impact: row.try_get("impact")?,
        reason: row.try_get("reason")?,
        requested_by: row.try_get("requested_by")?,
        created_at: row.try_get("created_at")?,
        completed_at: row.try_get("completed_at")?,
    })
}

/// The next version number of the order's amendments.
pub async fn next_version(conn: &mut PgConnection, order: OrderId) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT coalesce(max(version), 0) + 1 FROM order_amendment WHERE order_id = $1",
    )
    .bind(order.as_uuid())
    .fetch_one(conn)
    .await
}

/// Stores an amendment.
pub async fn insert(
    conn: &mut PgConnection,
    tenant: &str,
    amendment: &Amendment,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_amendment (amendment_id, tenant_id, order_id, version, state, desired, impact, \
         reason, requested_by, created_at, completed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(amendment.id.as_uuid())
    .bind(tenant)
    .bind(amendment.order.as_uuid())
    .bind(amendment.version)
    .bind(&amendment.state)
    .bind(&amendment.desired)
    .bind(&amendment.impact)
    .bind(&amendment.reason)
    .bind(&amendment.requested_by)
    .bind(amendment.created_at)
    .bind(amendment.completed_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The order's amendment in flight, locked.
pub async fn pending_of_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Option<Amendment>, AppError> {
    sqlx::query(
        "SELECT * FROM order_amendment WHERE order_id = $1 AND state = 'PENDING' FOR UPDATE",
    )
    .bind(order.as_uuid())
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(amendment_of)
    .transpose()
}

/// Marks a pending amendment DONE.
pub async fn finish(
    conn: &mut PgConnection,
    id: AmendmentId,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE order_amendment SET state = 'DONE', completed_at = $2 \
         WHERE amendment_id = $1 AND state = 'PENDING'",
    )
    .bind(id.as_uuid())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// One amendment of `order`.
pub async fn load(
    conn: &mut PgConnection,
    order: OrderId,
    id: AmendmentId,
) -> Result<Option<Amendment>, AppError> {
    sqlx::query("SELECT * FROM order_amendment WHERE amendment_id = $1 AND order_id = $2")
        .bind(id.as_uuid())
        .bind(order.as_uuid())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(amendment_of)
        .transpose()
}
