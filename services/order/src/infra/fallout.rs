//! The minimal fallout record: what failed, where, how badly and who owns it (issue 24 builds
//! the workbench). One open record per order, failure code and task: a redelivered failure
//! records nothing new.

use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::domain::{FalloutId, FulfilmentTaskId, OrderId, OrderItemId};

/// Where a fallout comes from (the `category` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FalloutCategory {
    /// The captured order could not be taken (a snapshot that does not verify).
    Capture,
    /// Validation refused the order.
    Validation,
    /// The plan could not be made.
    Decomposition,
    /// A downstream refused a task (non-retryable).
    ExternalRejection,
    /// A task's retry budget is spent.
    RetriesExhausted,
    /// The process hit a step it could not run.
    Workflow,
}

impl FalloutCategory {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Capture => "CAPTURE",
            Self::Validation => "VALIDATION",
            Self::Decomposition => "DECOMPOSITION",
            Self::ExternalRejection => "EXTERNAL_REJECTION",
            Self::RetriesExhausted => "RETRIES_EXHAUSTED",
            Self::Workflow => "WORKFLOW",
        }
    }

    /// The team that owns this kind of fallout by default.
    pub fn owner_team(self) -> &'static str {
        match self {
            Self::Capture | Self::Validation => "order-desk",
            Self::Decomposition => "catalog-operations",
            Self::ExternalRejection | Self::RetriesExhausted | Self::Workflow => {
                "fulfilment-operations"
            }
        }
    }
}

/// A fallout to record.
#[derive(Debug, Clone)]
pub struct NewFallout {
    /// The order.
    pub order: OrderId,
    /// The item, when one failed.
    pub item: Option<OrderItemId>,
    /// The task, when one failed.
    pub task: Option<FulfilmentTaskId>,
    /// Where it comes from.
    pub category: FalloutCategory,
    /// Stable code.
    pub failure_code: String,
    /// Explanation.
    pub message: String,
    /// Whether a retry can still succeed.
    pub retryable: bool,
}

/// Records a fallout unless the same one is open; returns the open record's id.
pub async fn record(
    conn: &mut PgConnection,
    tenant: &str,
    fallout: &NewFallout,
) -> Result<FalloutId, sqlx::Error> {
    let id = FalloutId::generate();
    let severity = if fallout.retryable { "MEDIUM" } else { "HIGH" };
    let inserted = sqlx::query(
        "INSERT INTO order_fallout (fallout_id, tenant_id, order_id, order_item_id, task_id, severity, category, \
         failure_code, message, retryable, owner_team, last_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now()) ON CONFLICT DO NOTHING",
    )
    .bind(id.as_uuid())
    .bind(tenant)
    .bind(fallout.order.as_uuid())
    .bind(fallout.item.map(|i| i.as_uuid()))
    .bind(fallout.task.map(|t| t.as_uuid()))
    .bind(severity)
    .bind(fallout.category.as_str())
    .bind(&fallout.failure_code)
    .bind(&fallout.message)
    .bind(fallout.retryable)
    .bind(fallout.category.owner_team())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(id);
    }
    let existing: Uuid = sqlx::query(
        "SELECT fallout_id FROM order_fallout WHERE order_id = $1 AND failure_code = $2 \
         AND task_id IS NOT DISTINCT FROM $3 AND status NOT IN ('RESOLVED', 'CLOSED')",
    )
    .bind(fallout.order.as_uuid())
    .bind(&fallout.failure_code)
    .bind(fallout.task.map(|t| t.as_uuid()))
    .fetch_one(conn)
    .await?
    .try_get(0)?;
    Ok(FalloutId::from_uuid(existing))
}

/// A fallout as the order view shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FalloutView {
    /// The record.
    pub fallout_id: Uuid,
    /// The item.
    pub order_item_id: Option<Uuid>,
    /// The task.
    pub task_id: Option<Uuid>,
    /// LOW … CRITICAL.
    pub severity: String,
    /// Where it comes from.
    pub category: String,
    /// OPEN …
    pub status: String,
    /// Stable code.
    pub failure_code: String,
    /// Explanation.
    pub message: String,
    /// Whether a retry can succeed.
    pub retryable: bool,
    /// Owner.
    pub owner_team: String,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An order's fallout records, oldest first.
pub async fn of_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<FalloutView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT fallout_id, order_item_id, task_id, severity, category, status, failure_code, message, \
         retryable, owner_team, created_at FROM order_fallout WHERE order_id = $1 ORDER BY created_at",
    )
    .bind(order.as_uuid())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FalloutView {
                fallout_id: r.try_get("fallout_id")?,
                order_item_id: r.try_get("order_item_id")?,
                task_id: r.try_get("task_id")?,
                severity: r.try_get("severity")?,
                category: r.try_get("category")?,
                status: r.try_get("status")?,
                failure_code: r.try_get("failure_code")?,
                message: r.try_get("message")?,
                retryable: r.try_get("retryable")?,
                owner_team: r.try_get("owner_team")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
