//! The plan's history and the process runs an order asks for. A plan only grows: each new
//! revision (decomposition, a compensation, a redo) is one row with its reason and author, and
//! every corrected characteristic keeps the values it replaced. A command that needs the
//! process to go on (a repair, a release, a cancellation of a halted order) asks for a new run
//! in its own transaction; the starter (`process_start`) starts it after commit.

use common_kernel::context::RequestContext;
use serde_json::Value;
use sqlx::PgConnection;

use super::events_consumer::CAPTURED_CHANNEL;
use crate::domain::Order;

/// Records what `after` added to the plan's history since `before`: one row per new
/// revision, one correction row per item whose characteristics changed.
pub async fn record(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    before: &Order,
    after: &Order,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let reason = if reason.is_empty() {
        "unstated"
    } else {
        reason
    };
    for revision in before.plan_revision + 1..=after.plan_revision {
        sqlx::query(
            "INSERT INTO order_plan_revision (tenant_id, order_id, revision, reason, created_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(after.tenant.as_str())
        .bind(after.id.as_uuid())
        .bind(i32::try_from(revision).unwrap_or(i32::MAX))
        .bind(reason)
        .bind(ctx.actor.actor_id.as_str())
        .execute(&mut *conn)
        .await?;
    }
    for item in &after.items {
        let Some(old) = before.item(item.id) else {
            continue;
        };
        if old.characteristics == item.characteristics {
            continue;
        }
        sqlx::query(
            "INSERT INTO order_item_correction (tenant_id, order_item_id, revision, characteristics, \
             replaced, corrected_by, reason) \
             SELECT tenant_id, order_item_id, characteristics_revision, $2, $3, $4, $5 \
             FROM order_item WHERE order_item_id = $1",
        )
        .bind(item.id.as_uuid())
        .bind(Value::Object(item.characteristics.clone()))
        .bind(Value::Object(old.characteristics.clone()))
        .bind(ctx.actor.actor_id.as_str())
        .bind(reason)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Asks for a new fulfilment run of `order` (it supersedes the current one); the starter is
/// woken at commit. Returns the run asked for.
pub async fn request_run(conn: &mut PgConnection, order: &mut Order) -> Result<i32, sqlx::Error> {
    let run: i32 = sqlx::query_scalar(
        "UPDATE customer_order SET fulfilment_run = fulfilment_run + 1, \
         aggregate_version = aggregate_version + 1 WHERE order_id = $1 RETURNING fulfilment_run",
    )
    .bind(order.id.as_uuid())
    .fetch_one(&mut *conn)
    .await?;
    order.version += 1;
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CAPTURED_CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(run)
}

/// One plan revision as the plan view shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanRevision {
    /// 1: decomposition; then one per change.
    pub revision: i32,
    /// Why it was made.
    pub reason: String,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The order's plan revisions, oldest first.
pub async fn revisions(
    conn: &mut PgConnection,
    order: crate::domain::OrderId,
) -> Result<Vec<PlanRevision>, sqlx::Error> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT revision, reason, created_by, created_at FROM order_plan_revision \
         WHERE order_id = $1 ORDER BY revision",
    )
    .bind(order.as_uuid())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PlanRevision {
                revision: r.try_get("revision")?,
                reason: r.try_get("reason")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
