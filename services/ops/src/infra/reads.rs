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

/// The stuck orders' rows and predicate: open orders of the current generation whose last
/// progress is older than their status's threshold (`$1` terminal statuses, `$2`/`$3` the named
/// thresholds in seconds, `$4` the default). The list and its count share it so they always agree.
macro_rules! stuck_orders_from {
    () => {
        "FROM order_view v LEFT JOIN order_progress p USING (generation, tenant_id, order_id) \
           LEFT JOIN unnest($2::text[], $3::float8[]) AS t(status, seconds) ON t.status = v.status \
          WHERE v.generation = (SELECT generation FROM projection_state) AND v.status <> ALL($1) \
            AND GREATEST(v.status_since, coalesce(p.last_progress_at, v.status_since)) \
                < now() - make_interval(secs => coalesce(t.seconds, $4))"
    };
}

/// Where an order counts as stuck: its status's threshold (`thresholds`: per status,
/// `default_seconds` for the rest), never in a `terminal` status.
#[derive(Debug, Clone, Copy)]
pub struct StuckPredicate<'a> {
    /// Statuses an order never leaves.
    pub terminal: &'a [&'a str],
    /// Per-status thresholds in seconds.
    pub thresholds: &'a [(String, f64)],
    /// The threshold of every other status, in seconds.
    pub default_seconds: f64,
}

impl<'a> StuckPredicate<'a> {
    /// The named thresholds as the two arrays the query unnests.
    fn threshold_columns(&self) -> (Vec<&'a str>, Vec<f64>) {
        self.thresholds
            .iter()
            .map(|(status, seconds)| (status.as_str(), *seconds))
            .unzip()
    }
}

/// Open orders of the caller's tenant stuck under `predicate`, oldest progress first.
pub async fn stuck(
    conn: &mut PgConnection,
    predicate: StuckPredicate<'_>,
    limit: i64,
) -> Result<Vec<StuckRow>, sqlx::Error> {
    let (statuses, seconds) = predicate.threshold_columns();
    sqlx::query_as(concat!(
        "SELECT v.order_id, v.customer_id, v.quote_id, v.status, v.status_since, \
                GREATEST(v.status_since, coalesce(p.last_progress_at, v.status_since)) AS last_progress_at ",
        stuck_orders_from!(),
        " ORDER BY last_progress_at, v.order_id LIMIT $5"
    ))
    .bind(predicate.terminal)
    .bind(&statuses)
    .bind(&seconds)
    .bind(predicate.default_seconds)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// How many orders of the caller's tenant are stuck under `predicate` (all of them: the
/// business metric counts what the list pages through).
pub async fn stuck_count(
    conn: &mut PgConnection,
    predicate: StuckPredicate<'_>,
) -> Result<i64, sqlx::Error> {
    let (statuses, seconds) = predicate.threshold_columns();
    sqlx::query_scalar(concat!("SELECT count(*) ", stuck_orders_from!()))
        .bind(predicate.terminal)
        .bind(&statuses)
        .bind(&seconds)
        .bind(predicate.default_seconds)
        .fetch_one(conn)
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
