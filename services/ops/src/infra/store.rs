//! The projection store. Every write is idempotent and order-independent: one timeline row per
//! event id; an order's status moves only to a newer aggregate version; progress only forward in
//! time. So duplicates, replays and events of different topics arriving in any order give the
//! same rows.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Fact, FactKind};

/// One event to project, with what the envelope says around the fact.
#[derive(Debug, Clone)]
pub struct Projected<'a> {
    /// Event id.
    pub event_id: Uuid,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Topic it was read from.
    pub topic: &'a str,
    /// Event type with version.
    pub event_type: &'a str,
    /// Aggregate type.
    pub aggregate_type: &'a str,
    /// Aggregate id.
    pub aggregate_id: &'a str,
    /// Aggregate version.
    pub aggregate_version: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Request correlation.
    pub correlation_id: &'a str,
    /// Who caused it.
    pub actor_id: &'a str,
    /// What it means.
    pub fact: Fact,
}

/// Writes one event's rows inside the projector's transaction.
pub async fn project(conn: &mut PgConnection, event: &Projected<'_>) -> Result<(), sqlx::Error> {
    let fact = &event.fact;
    let inserted = sqlx::query(
        "INSERT INTO projected_event (event_id, tenant_id, topic, event_type, kind, aggregate_type, \
         aggregate_id, aggregate_version, occurred_at, correlation_id, actor_id, order_id, quote_id, \
         customer_id, to_status, summary) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.event_id)
    .bind(event.tenant_id)
    .bind(event.topic)
    .bind(event.event_type)
    .bind(fact.kind.as_str())
    .bind(event.aggregate_type)
    .bind(event.aggregate_id)
    .bind(event.aggregate_version)
    .bind(event.occurred_at)
    .bind(event.correlation_id)
    .bind(event.actor_id)
    .bind(&fact.order_id)
    .bind(&fact.quote_id)
    .bind(&fact.customer_id)
    .bind(&fact.to_status)
    .bind(&fact.summary)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(());
    }
    let Some(order_id) = fact.order_id.as_deref() else {
        return Ok(());
    };
    if fact.kind == FactKind::OrderState
        && let Some(status) = fact.to_status.as_deref()
    {
        sqlx::query(
            "INSERT INTO order_view AS v (tenant_id, order_id, customer_id, quote_id, status, status_version, \
             status_since, first_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (tenant_id, order_id) DO UPDATE SET \
               status = CASE WHEN EXCLUDED.status_version > v.status_version THEN EXCLUDED.status ELSE v.status END, \
               status_since = CASE WHEN EXCLUDED.status_version > v.status_version THEN EXCLUDED.status_since ELSE v.status_since END, \
               status_version = GREATEST(v.status_version, EXCLUDED.status_version), \
               first_seen_at = LEAST(v.first_seen_at, EXCLUDED.first_seen_at), \
               customer_id = coalesce(v.customer_id, EXCLUDED.customer_id), \
               quote_id = coalesce(v.quote_id, EXCLUDED.quote_id)",
        )
        .bind(event.tenant_id)
        .bind(order_id)
        .bind(&fact.customer_id)
        .bind(&fact.quote_id)
        .bind(status)
        .bind(event.aggregate_version)
        .bind(event.occurred_at)
        .execute(&mut *conn)
        .await?;
    }
    if matches!(
        fact.kind,
        FactKind::OrderState | FactKind::Task | FactKind::ExternalCall
    ) {
        sqlx::query(
            "INSERT INTO order_progress AS p (tenant_id, order_id, last_progress_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, order_id) DO UPDATE SET \
               last_progress_at = GREATEST(p.last_progress_at, EXCLUDED.last_progress_at)",
        )
        .bind(event.tenant_id)
        .bind(order_id)
        .bind(event.occurred_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

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
         FROM projected_event WHERE {column} = $1 \
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
           FROM order_view v LEFT JOIN order_progress p USING (tenant_id, order_id) \
           LEFT JOIN unnest($2::text[], $3::float8[]) AS t(status, seconds) ON t.status = v.status \
          WHERE v.status <> ALL($1) \
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
