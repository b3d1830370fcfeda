//! Storage of fallout records: one open record per task (or, for an order-level failure, per
//! failure code): a redelivered failure, or the same failure reported by the process and by the
//! integration's event, records nothing new; a failure that recurs after a scheduled retry
//! reopens the record. Loaded and saved whole by the workbench, listed and counted for the
//! queue.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, QueryBuilder, Row};
use uuid::Uuid;

use common_kernel::context::RequestContext;
use common_kernel::outbox;

use crate::app::error::{AppError, corrupt};
use crate::app::events::fallout_event;
use crate::domain::{
    Fallout, FalloutCategory, FalloutId, FalloutStatus, FulfilmentTaskId, OrderId, OrderItemId,
    ResolutionType, Severity,
};

/// A fallout to raise.
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

/// Raises a fallout unless one is open for the same task (or the same order-level failure); a
/// record waiting on a scheduled retry is reopened (the retry failed again). Returns the open
/// record's id.
pub async fn record(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    fallout: &NewFallout,
) -> Result<FalloutId, AppError> {
    let tenant = ctx.tenant_id.as_str();
    let id = FalloutId::generate();
    let inserted = sqlx::query(
        "INSERT INTO order_fallout (fallout_id, tenant_id, order_id, order_item_id, task_id, severity, category, \
         status, failure_code, message, retryable, owner_team, last_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now()) ON CONFLICT DO NOTHING",
    )
    .bind(id.as_uuid())
    .bind(tenant)
    .bind(fallout.order.as_uuid())
    .bind(fallout.item.map(|i| i.as_uuid()))
    .bind(fallout.task.map(|t| t.as_uuid()))
    .bind(fallout.category.severity(fallout.retryable).as_str())
    .bind(fallout.category.as_str())
    .bind(fallout.category.initial_status().as_str())
    .bind(&fallout.failure_code)
    .bind(&fallout.message)
    .bind(fallout.retryable)
    .bind(fallout.category.owner_team())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        publish(&mut *conn, ctx, id, None).await?;
        return Ok(id);
    }
    let existing: Uuid = sqlx::query(
        "UPDATE order_fallout SET status = CASE WHEN status = 'RETRY_SCHEDULED' THEN 'OPEN' ELSE status END, \
         last_attempt_at = CASE WHEN status = 'RETRY_SCHEDULED' THEN now() ELSE last_attempt_at END, \
         aggregate_version = aggregate_version + 1 \
         WHERE order_id = $1 AND status NOT IN ('RESOLVED', 'CLOSED') \
           AND (($3::uuid IS NOT NULL AND task_id = $3) \
                OR ($3::uuid IS NULL AND task_id IS NULL AND failure_code = $2)) \
         RETURNING fallout_id",
    )
    .bind(fallout.order.as_uuid())
    .bind(&fallout.failure_code)
    .bind(fallout.task.map(|t| t.as_uuid()))
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    let existing = FalloutId::from_uuid(existing);
    publish(conn, ctx, existing, Some(FalloutStatus::RetryScheduled)).await?;
    Ok(existing)
}

/// Publishes the record as it now stands (`oms.fallout.status-changed.v1`) in the caller's
/// transaction: the operators' fallout queue is projected from these.
async fn publish(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: FalloutId,
    from: Option<FalloutStatus>,
) -> Result<(), AppError> {
    let current = load(&mut *conn, id, false)
        .await?
        .ok_or_else(|| corrupt(format!("fallout {id} vanished in its transaction")))?;
    let from = from.filter(|status| *status != current.status);
    let event = fallout_event(&current, from).map_err(corrupt)?;
    outbox::append(conn, ctx, event).await?;
    Ok(())
}

fn fallout_of(row: &PgRow) -> Result<Fallout, AppError> {
    let severity: String = row.try_get("severity")?;
    let category: String = row.try_get("category")?;
    let status: String = row.try_get("status")?;
    let resolution: Option<String> = row.try_get("resolution_type")?;
    Ok(Fallout {
        id: FalloutId::from_uuid(row.try_get("fallout_id")?),
        order: OrderId::from_uuid(row.try_get("order_id")?),
        item: row
            .try_get::<Option<Uuid>, _>("order_item_id")?
            .map(OrderItemId::from_uuid),
        task: row
            .try_get::<Option<Uuid>, _>("task_id")?
            .map(FulfilmentTaskId::from_uuid),
        severity: match severity.as_str() {
            "LOW" => Severity::Low,
            "MEDIUM" => Severity::Medium,
            "HIGH" => Severity::High,
            "CRITICAL" => Severity::Critical,
            other => return Err(corrupt(format!("fallout severity {other}"))),
        },
        category: FalloutCategory::parse(&category)
            .ok_or_else(|| corrupt(format!("fallout category {category}")))?,
        status: FalloutStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("fallout status {status}")))?,
        failure_code: row.try_get("failure_code")?,
        message: row.try_get("message")?,
        retryable: row.try_get("retryable")?,
        owner_team: row.try_get("owner_team")?,
        assignee: row.try_get("assignee")?,
        created_at: row.try_get("created_at")?,
        last_attempt_at: row.try_get("last_attempt_at")?,
        resolved_at: row.try_get("resolved_at")?,
        resolution_type: resolution
            .map(|r| ResolutionType::parse(&r).ok_or_else(|| corrupt(format!("resolution {r}"))))
            .transpose()?,
        resolution_note: row.try_get("resolution_note")?,
        version: row.try_get("aggregate_version")?,
    })
}

/// One record; `lock` takes it `FOR UPDATE`.
pub async fn load(
    conn: &mut PgConnection,
    id: FalloutId,
    lock: bool,
) -> Result<Option<Fallout>, AppError> {
    let sql = if lock {
        "SELECT * FROM order_fallout WHERE fallout_id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM order_fallout WHERE fallout_id = $1"
    };
    sqlx::query(sql)
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(fallout_of)
        .transpose()
}

/// The order's records still open, oldest first, locked.
pub async fn open_of_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<Fallout>, AppError> {
    sqlx::query(
        "SELECT * FROM order_fallout WHERE order_id = $1 AND status NOT IN ('RESOLVED', 'CLOSED') \
         ORDER BY created_at FOR UPDATE",
    )
    .bind(order.as_uuid())
    .fetch_all(conn)
    .await?
    .iter()
    .map(fallout_of)
    .collect()
}

/// Writes a changed record (the version must still be the loaded one); `resolved_by` and
/// `evidence` go with a resolution. Returns whether it was written.
pub async fn save(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    before: &Fallout,
    after: &Fallout,
    resolved_by: Option<&str>,
    evidence: Option<&Value>,
) -> Result<bool, AppError> {
    if before == after {
        return Ok(false);
    }
    let mut expected = before.version;
    if before.status.is_open() && after.status == FalloutStatus::Closed {
        // Resolved, then closed: the database checks every move.
        let mut resolved = after.clone();
        resolved.status = FalloutStatus::Resolved;
        write(&mut *conn, &resolved, expected, resolved_by, evidence).await?;
        expected += 1;
    }
    write(&mut *conn, after, expected, resolved_by, evidence).await?;
    publish(conn, ctx, after.id, Some(before.status)).await?;
    Ok(true)
}

async fn write(
    conn: &mut PgConnection,
    after: &Fallout,
    expected: i64,
    resolved_by: Option<&str>,
    evidence: Option<&Value>,
) -> Result<(), AppError> {
    let updated = sqlx::query(
        "UPDATE order_fallout SET status = $2, assignee = $3, owner_team = $4, last_attempt_at = $5, \
         resolved_at = $6, resolution_type = $7, resolution_note = $8, \
         resolved_by = coalesce(resolved_by, $9), resolution_evidence = coalesce(resolution_evidence, $10), \
         aggregate_version = aggregate_version + 1 \
         WHERE fallout_id = $1 AND aggregate_version = $11",
    )
    .bind(after.id.as_uuid())
    .bind(after.status.as_str())
    .bind(after.assignee.as_deref())
    .bind(&after.owner_team)
    .bind(after.last_attempt_at)
    .bind(after.resolved_at)
    .bind(after.resolution_type.map(|r| r.as_str()))
    .bind(after.resolution_note.as_deref())
    .bind(resolved_by)
    .bind(evidence)
    .bind(expected)
    .execute(conn)
    .await?
    .rows_affected();
    if updated != 1 {
        return Err(corrupt(format!(
            "fallout {} changed under its lock",
            after.id
        )));
    }
    Ok(())
}

/// The queue's filter.
#[derive(Debug, Clone, Default)]
pub struct FalloutFilter {
    /// Only this status.
    pub status: Option<FalloutStatus>,
    /// Only this category.
    pub category: Option<FalloutCategory>,
    /// Only this team's.
    pub owner_team: Option<String>,
    /// Only this order's.
    pub order: Option<OrderId>,
    /// Only records raised before this instant.
    pub older_than: Option<DateTime<Utc>>,
    /// Only these records.
    pub ids: Option<Vec<FalloutId>>,
}

fn push_filter(query: &mut QueryBuilder<sqlx::Postgres>, filter: &FalloutFilter) {
    query.push(" WHERE true");
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(category) = filter.category {
        query.push(" AND category = ").push_bind(category.as_str());
    }
    if let Some(team) = &filter.owner_team {
        query.push(" AND owner_team = ").push_bind(team.clone());
    }
    if let Some(order) = filter.order {
        query.push(" AND order_id = ").push_bind(order.as_uuid());
    }
    if let Some(before) = filter.older_than {
        query.push(" AND created_at < ").push_bind(before);
    }
    if let Some(ids) = &filter.ids {
        query
            .push(" AND fallout_id = ANY(")
            .push_bind(ids.iter().map(|i| i.as_uuid()).collect::<Vec<_>>())
            .push(")");
    }
}

/// The records matching `filter`, oldest first, after `after` (keyset), at most `limit`.
pub async fn list(
    conn: &mut PgConnection,
    filter: &FalloutFilter,
    after: Option<(DateTime<Utc>, FalloutId)>,
    limit: i64,
) -> Result<Vec<Fallout>, AppError> {
    let mut query = QueryBuilder::new("SELECT * FROM order_fallout");
    push_filter(&mut query, filter);
    if let Some((at, id)) = after {
        query
            .push(" AND (created_at, fallout_id) > (")
            .push_bind(at)
            .push(", ")
            .push_bind(id.as_uuid())
            .push(")");
    }
    query
        .push(" ORDER BY created_at, fallout_id LIMIT ")
        .push_bind(limit);
    query
        .build()
        .fetch_all(conn)
        .await?
        .iter()
        .map(fallout_of)
        .collect()
}

/// One group of the queue's summary.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FalloutGroup {
    /// Status.
    pub status: String,
    /// Category.
    pub category: String,
    /// Owning team.
    pub owner_team: String,
    /// Severity.
    pub severity: String,
    /// Records in the group.
    pub count: i64,
    /// The oldest record's age.
    pub oldest_created_at: DateTime<Utc>,
}

/// Counts of the records matching `filter`, grouped by status, category, team and severity.
pub async fn summary(
    conn: &mut PgConnection,
    filter: &FalloutFilter,
) -> Result<Vec<FalloutGroup>, AppError> {
    let mut query = QueryBuilder::new(
        "SELECT status, category, owner_team, severity, count(*) AS n, min(created_at) AS oldest \
         FROM order_fallout",
    );
    push_filter(&mut query, filter);
    query.push(" GROUP BY status, category, owner_team, severity ORDER BY status, category, owner_team, severity");
    let rows = query.build().fetch_all(conn).await?;
    rows.iter()
        .map(|r| {
            Ok(FalloutGroup {
                status: r.try_get("status")?,
                category: r.try_get("category")?,
                owner_team: r.try_get("owner_team")?,
                severity: r.try_get("severity")?,
                count: r.try_get("n")?,
                oldest_created_at: r.try_get("oldest")?,
            })
        })
        .collect()
}

/// An order's fallout records, oldest first.
pub async fn of_order(conn: &mut PgConnection, order: OrderId) -> Result<Vec<Fallout>, AppError> {
    sqlx::query("SELECT * FROM order_fallout WHERE order_id = $1 ORDER BY created_at")
        .bind(order.as_uuid())
        .fetch_all(conn)
        .await?
        .iter()
        .map(fallout_of)
        .collect()
}
