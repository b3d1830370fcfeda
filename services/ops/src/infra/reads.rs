//! The projection store's reads: the views as readers see them, always of the current
//! generation (ADR 0046).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// The current generation's filter, for every read.
const CURRENT: &str = "(SELECT generation FROM projection_state)";

/// A timeline row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TimelineRow {
    /// Event id.
    pub event_id: Uuid,
    /// Event type.
    pub event_type: String,
    /// Kind of step.
    pub kind: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who.
    pub actor_id: String,
    /// Correlation.
    pub correlation_id: String,
    /// Status it left, if any.
    pub to_status: Option<String>,
    /// Summary.
    pub summary: Value,
}

/// Which aggregate's timeline.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// An order's.
    Order(&'a str),
    /// A quote's.
    Quote(&'a str),
}

/// A timeline in order of occurrence, at most `limit` rows after `after`.
pub async fn timeline(
    conn: &mut PgConnection,
    subject: Subject<'_>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<TimelineRow>, sqlx::Error> {
    let (column, id) = match subject {
        Subject::Order(id) => ("order_id", id),
        Subject::Quote(id) => ("quote_id", id),
    };
    let (at, event) = after.map_or((None, None), |(at, id)| (Some(at), Some(id)));
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT event_id, event_type, kind, occurred_at, actor_id, correlation_id, to_status, summary \
         FROM projected_event WHERE generation = {CURRENT} AND {column} = $1 \
         AND ($2::timestamptz IS NULL OR (occurred_at, event_id) > ($2, $3)) \
         ORDER BY occurred_at, event_id LIMIT $4"
    )))
    .bind(id)
    .bind(at)
    .bind(event)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// An order that made no progress for longer than its status allows.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StuckRow {
    /// Order id.
    pub order_id: String,
    /// Customer.
    pub customer_id: Option<String>,
    /// Quote it came from.
    pub quote_id: Option<String>,
    /// Status it sits in.
    pub status: String,
    /// Since when.
    pub status_since: DateTime<Utc>,
    /// Its last progress.
    pub last_progress_at: DateTime<Utc>,
}

/// Open orders of the caller's tenant whose last progress is older than their status's
/// threshold (`thresholds`: per status, `default_seconds` for the rest), oldest first.
pub async fn stuck(
    conn: &mut PgConnection,
    terminal: &[&str],
    thresholds: &[(String, f64)],
    default_seconds: f64,
    limit: i64,
) -> Result<Vec<StuckRow>, sqlx::Error> {
    let statuses: Vec<&str> = thresholds.iter().map(|(s, _)| s.as_str()).collect();
    let seconds: Vec<f64> = thresholds.iter().map(|(_, s)| *s).collect();
    sqlx::query_as(
        "SELECT v.order_id, v.customer_id, v.quote_id, v.status, v.status_since, \
                GREATEST(v.status_since, coalesce(p.last_progress_at, v.status_since)) AS last_progress_at \
           FROM order_view v LEFT JOIN order_progress p USING (generation, tenant_id, order_id) \
           LEFT JOIN unnest($2::text[], $3::float8[]) AS t(status, seconds) ON t.status = v.status \
          WHERE v.generation = (SELECT generation FROM projection_state) AND v.status <> ALL($1) \
            AND GREATEST(v.status_since, coalesce(p.last_progress_at, v.status_since)) \
                < now() - make_interval(secs => coalesce(t.seconds, $4)) \
          ORDER BY last_progress_at, v.order_id LIMIT $5",
    )
    .bind(terminal)
    .bind(&statuses)
    .bind(&seconds)
    .bind(default_seconds)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// When each topic's newest projected event happened (the caller's tenant).
pub async fn last_event_per_topic(
    conn: &mut PgConnection,
) -> Result<Vec<(String, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT topic, max(occurred_at) FROM projected_event WHERE generation = {CURRENT} GROUP BY topic"
    )))
    .fetch_all(conn)
    .await
}
