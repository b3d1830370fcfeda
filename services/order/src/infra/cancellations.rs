//! Storage of cancellation resources (TMF622 CancelProductOrder): what was asked, the
//! assessment the command applied, and where it stands (PENDING until the compensations and
//! manual undos are done, then DONE; FAILED when the order ended otherwise).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::app::error::AppError;
use crate::domain::{OrderId, OrderItemId};

domain_kernel::uuid_id!(
    /// One cancellation request.
    CancellationId
);

/// A stored cancellation.
#[derive(Debug, Clone)]
pub struct Cancellation {
    /// Id.
    pub id: CancellationId,
    /// The order.
    pub order: OrderId,
    /// The items named (empty: the whole order was asked).
    pub scope: Vec<OrderItemId>,
    /// Whether the whole order is cancelled.
    pub whole_order: bool,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// ASSESSING, PENDING, DONE or FAILED.
    pub state: String,
    /// The assessment applied.
    pub impact: Value,
    /// Asked at.
    pub created_at: DateTime<Utc>,
    /// Settled at.
    pub completed_at: Option<DateTime<Utc>>,
}

fn cancellation_of(row: &PgRow) -> Result<Cancellation, AppError> {
    Ok(Cancellation {
        id: CancellationId::from_uuid(row.try_get("cancellation_id")?),
        order: OrderId::from_uuid(row.try_get("order_id")?),
        scope: row
            .try_get::<Option<Vec<Uuid>>, _>("scope")?
            .unwrap_or_default()
            .into_iter()
            .map(OrderItemId::from_uuid)
            .collect(),
        whole_order: row.try_get("whole_order")?,
        reason: row.try_get("reason")?,
        requested_by: row.try_get("requested_by")?,
        state: row.try_get("state")?,
        impact: row.try_get("impact")?,
        created_at: row.try_get("created_at")?,
        completed_at: row.try_get("completed_at")?,
    })
}

/// Stores a cancellation in `state` (PENDING, or DONE when the command settled it at once).
pub async fn insert(
    conn: &mut PgConnection,
    tenant: &str,
    cancellation: &Cancellation,
) -> Result<(), sqlx::Error> {
    let scope: Option<Vec<Uuid>> = (!cancellation.scope.is_empty())
        .then(|| cancellation.scope.iter().map(|i| i.as_uuid()).collect());
    sqlx::query(
        "INSERT INTO order_cancellation (cancellation_id, tenant_id, order_id, scope, whole_order, reason, \
         requested_by, state, impact, created_at, completed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(cancellation.id.as_uuid())
    .bind(tenant)
    .bind(cancellation.order.as_uuid())
    .bind(scope)
    .bind(cancellation.whole_order)
    .bind(&cancellation.reason)
    .bind(&cancellation.requested_by)
    .bind(&cancellation.state)
    .bind(&cancellation.impact)
    .bind(cancellation.created_at)
    .bind(cancellation.completed_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The order's cancellations still PENDING, locked.
pub async fn pending_of_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<Cancellation>, AppError> {
    sqlx::query(
        "SELECT * FROM order_cancellation WHERE order_id = $1 AND state = 'PENDING' \
         ORDER BY created_at FOR UPDATE",
    )
    .bind(order.as_uuid())
    .fetch_all(conn)
    .await?
    .iter()
    .map(cancellation_of)
    .collect()
}

/// Settles a pending cancellation (DONE or FAILED).
pub async fn settle(
    conn: &mut PgConnection,
    id: CancellationId,
    state: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE order_cancellation SET state = $2, completed_at = $3 \
         WHERE cancellation_id = $1 AND state = 'PENDING'",
    )
    .bind(id.as_uuid())
    .bind(state)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// One cancellation of `order`.
pub async fn load(
    conn: &mut PgConnection,
    order: OrderId,
    id: CancellationId,
) -> Result<Option<Cancellation>, AppError> {
    sqlx::query("SELECT * FROM order_cancellation WHERE cancellation_id = $1 AND order_id = $2")
        .bind(id.as_uuid())
        .bind(order.as_uuid())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(cancellation_of)
        .transpose()
}

/// The order's cancellations, oldest first.
pub async fn of_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<Cancellation>, AppError> {
    sqlx::query("SELECT * FROM order_cancellation WHERE order_id = $1 ORDER BY created_at")
        .bind(order.as_uuid())
        .fetch_all(conn)
        .await?
        .iter()
        .map(cancellation_of)
        .collect()
}
