//! The operators' work queues as projected: fallout by category, team and age, and approvals
//! waiting for a decision. Always the current generation (ADR 0046).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Fallout statuses that no longer need anyone.
pub const SETTLED_FALLOUT: &[&str] = &["RESOLVED", "CLOSED"];

/// A fallout record in the queue.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FalloutRow {
    /// The record.
    pub fallout_id: String,
    /// The order.
    pub order_id: String,
    /// Its task, if any.
    pub task_id: Option<String>,
    /// Where it comes from.
    pub category: String,
    /// How bad.
    pub severity: String,
    /// The owning team.
    pub owner_team: String,
    /// Its status.
    pub status: String,
    /// Stable failure code.
    pub failure_code: String,
    /// Explanation.
    pub message: String,
    /// Whether a retry may succeed.
    pub retryable: bool,
    /// Raised at.
    pub opened_at: DateTime<Utc>,
    /// Seconds since it was raised (database clock).
    pub age_seconds: f64,
}

/// A group of the queue.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FalloutGroupRow {
    /// Category.
    pub category: String,
    /// Team.
    pub owner_team: String,
    /// Records in the group.
    pub count: i64,
    /// Age of its oldest record, in seconds.
    pub oldest_age_seconds: f64,
}

/// The queue's filter; `status` absent means every unsettled record.
#[derive(Debug, Clone, Default)]
pub struct FalloutFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Only this team's.
    pub owner_team: Option<String>,
}

/// The queue, oldest first, and its groups by category and team.
pub async fn fallout_queue(
    conn: &mut PgConnection,
    filter: &FalloutFilter,
    limit: i64,
) -> Result<(Vec<FalloutRow>, Vec<FalloutGroupRow>), sqlx::Error> {
    const MATCHING: &str = "FROM fallout_view WHERE generation = (SELECT generation FROM projection_state) \
         AND (($1::text IS NULL AND status <> ALL($2)) OR status = $1) \
         AND ($3::text IS NULL OR category = $3) AND ($4::text IS NULL OR owner_team = $4)";
    let items = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT fallout_id, order_id, task_id, category, severity, owner_team, status, failure_code, \
                message, retryable, opened_at, \
                extract(epoch FROM now() - opened_at)::float8 AS age_seconds \
         {MATCHING} ORDER BY opened_at, fallout_id LIMIT $5"
    )))
    .bind(&filter.status)
    .bind(SETTLED_FALLOUT)
    .bind(&filter.category)
    .bind(&filter.owner_team)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let groups = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT category, owner_team, count(*) AS count, \
                extract(epoch FROM now() - min(opened_at))::float8 AS oldest_age_seconds \
         {MATCHING} GROUP BY category, owner_team ORDER BY count(*) DESC, category, owner_team"
    )))
    .bind(&filter.status)
    .bind(SETTLED_FALLOUT)
    .bind(&filter.category)
    .bind(&filter.owner_team)
    .fetch_all(conn)
    .await?;
    Ok((items, groups))
}

/// An approval request waiting for a decision.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PendingApprovalRow {
    /// The request.
    pub request_id: String,
    /// Its quote.
    pub quote_id: Option<String>,
    /// Its status.
    pub status: String,
    /// Asked at (the first event seen when the opening one is not).
    pub requested_at: DateTime<Utc>,
    /// Seconds waiting (database clock).
    pub age_seconds: f64,
}

/// Requests still PENDING, longest waiting first.
pub async fn pending_approvals(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<PendingApprovalRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.request_id, a.quote_id, a.status, \
                coalesce(a.requested_at, e.first_at) AS requested_at, \
                extract(epoch FROM now() - coalesce(a.requested_at, e.first_at))::float8 AS age_seconds \
           FROM approval_view a \
           CROSS JOIN LATERAL (SELECT min(occurred_at) AS first_at FROM projected_event p \
                WHERE p.generation = a.generation AND p.aggregate_id = a.request_id) e \
          WHERE a.generation = (SELECT generation FROM projection_state) AND a.status = 'PENDING' \
          ORDER BY 4, a.request_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}
