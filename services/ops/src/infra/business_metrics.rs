//! The business metrics, computed from the current generation's views of one tenant: what the
//! console charts and what `/metrics` exports (the exporter asks per tenant on the jobs pool,
//! the console on the request pool under the caller's tenant).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// One hour of activity.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HourRow {
    /// Start of the hour.
    pub hour: DateTime<Utc>,
    /// Quotes created in it.
    pub quotes_created: i64,
    /// Quotes accepted in it.
    pub quotes_accepted: i64,
    /// Orders created in it.
    pub orders_created: i64,
}

/// The counts and durations behind every business metric.
#[derive(Debug, Clone, PartialEq, Default, sqlx::FromRow)]
pub struct MetricRows {
    /// Quotes created.
    pub quotes_created: i64,
    /// Quotes accepted.
    pub quotes_accepted: i64,
    /// Quotes converted into orders.
    pub quotes_converted: i64,
    /// Quotes created in the last hour.
    pub quotes_created_last_hour: i64,
    /// Quotes accepted in the last hour.
    pub quotes_accepted_last_hour: i64,
    /// Quotes with at least one manual price override.
    pub quotes_overridden: i64,
    /// Manual price overrides.
    pub price_overrides: i64,
    /// Approval requests pending.
    pub approvals_pending: i64,
    /// Age of the oldest pending request, seconds.
    pub approval_oldest_pending_seconds: Option<f64>,
    /// Approval requests decided.
    pub approvals_decided: i64,
    /// Median time to a decision, seconds.
    pub approval_decision_p50_seconds: Option<f64>,
    /// 95th percentile time to a decision, seconds.
    pub approval_decision_p95_seconds: Option<f64>,
    /// Orders created.
    pub orders_created: i64,
    /// Orders created in the last hour.
    pub orders_created_last_hour: i64,
    /// Orders completed.
    pub orders_completed: i64,
    /// Orders cancelled.
    pub orders_cancelled: i64,
    /// Median capture-to-completion time, seconds.
    pub fulfilment_p50_seconds: Option<f64>,
    /// 95th percentile capture-to-completion time, seconds.
    pub fulfilment_p95_seconds: Option<f64>,
    /// Fallout records not yet resolved or closed.
    pub fallout_open: i64,
    /// Fallout records ever raised.
    pub fallout_total: i64,
    /// Fulfilment tasks dispatched again after their first dispatch.
    pub task_retries: i64,
}

/// The tenants with anything projected (for the exporter).
pub async fn tenants(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT tenant_id FROM projected_event \
          WHERE generation = (SELECT generation FROM projection_state) ORDER BY 1",
    )
    .fetch_all(conn)
    .await
}

/// The metrics of `tenant`.
pub async fn compute(conn: &mut PgConnection, tenant: &str) -> Result<MetricRows, sqlx::Error> {
    sqlx::query_as(
        "WITH g AS (SELECT generation FROM projection_state), \
         q AS (SELECT q.* FROM quote_view q, g WHERE q.generation = g.generation AND q.tenant_id = $1), \
         a AS (SELECT a.* FROM approval_view a, g WHERE a.generation = g.generation AND a.tenant_id = $1), \
         o AS (SELECT o.* FROM order_view o, g WHERE o.generation = g.generation AND o.tenant_id = $1), \
         f AS (SELECT f.* FROM fallout_view f, g WHERE f.generation = g.generation AND f.tenant_id = $1), \
         ov AS (SELECT p.quote_id FROM projected_event p, g WHERE p.generation = g.generation \
                AND p.tenant_id = $1 AND p.event_type = 'cpq.quote.price-overridden.v1'), \
         d AS (SELECT p.aggregate_id, count(*) AS dispatches FROM projected_event p, g \
                WHERE p.generation = g.generation AND p.tenant_id = $1 \
                  AND p.event_type = 'oms.fulfillment-task.dispatched.v1' GROUP BY p.aggregate_id) \
         SELECT \
           (SELECT count(*) FROM q WHERE created_at IS NOT NULL) AS quotes_created, \
           (SELECT count(*) FROM q WHERE accepted_at IS NOT NULL) AS quotes_accepted, \
           (SELECT count(*) FROM q WHERE converted_at IS NOT NULL) AS quotes_converted, \
           (SELECT count(*) FROM q WHERE created_at > now() - interval '1 hour') AS quotes_created_last_hour, \
           (SELECT count(*) FROM q WHERE accepted_at > now() - interval '1 hour') AS quotes_accepted_last_hour, \
           (SELECT count(DISTINCT quote_id) FROM ov) AS quotes_overridden, \
           (SELECT count(*) FROM ov) AS price_overrides, \
           (SELECT count(*) FROM a WHERE status = 'PENDING') AS approvals_pending, \
           (SELECT extract(epoch FROM now() - min(requested_at))::float8 FROM a WHERE status = 'PENDING') \
               AS approval_oldest_pending_seconds, \
           (SELECT count(*) FROM a WHERE decided_at IS NOT NULL) AS approvals_decided, \
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at)) \
              FROM a WHERE decided_at IS NOT NULL AND requested_at IS NOT NULL)::float8 AS approval_decision_p50_seconds, \
           (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at)) \
              FROM a WHERE decided_at IS NOT NULL AND requested_at IS NOT NULL)::float8 AS approval_decision_p95_seconds, \
           (SELECT count(*) FROM o WHERE created_at IS NOT NULL) AS orders_created, \
           (SELECT count(*) FROM o WHERE created_at > now() - interval '1 hour') AS orders_created_last_hour, \
           (SELECT count(*) FROM o WHERE completed_at IS NOT NULL) AS orders_completed, \
           (SELECT count(*) FROM o WHERE cancelled_at IS NOT NULL) AS orders_cancelled, \
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at)) \
              FROM o WHERE completed_at IS NOT NULL AND created_at IS NOT NULL)::float8 AS fulfilment_p50_seconds, \
           (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at)) \
              FROM o WHERE completed_at IS NOT NULL AND created_at IS NOT NULL)::float8 AS fulfilment_p95_seconds, \
           (SELECT count(*) FROM f WHERE status NOT IN ('RESOLVED', 'CLOSED')) AS fallout_open, \
           (SELECT count(*) FROM f) AS fallout_total, \
           (SELECT coalesce(sum(dispatches - 1), 0)::int8 FROM d) AS task_retries",
    )
    .bind(tenant)
    .fetch_one(conn)
    .await
}

/// The last 24 hours of `tenant`, oldest first, one row per hour (empty hours included).
pub async fn hourly(conn: &mut PgConnection, tenant: &str) -> Result<Vec<HourRow>, sqlx::Error> {
    sqlx::query_as(
        "WITH g AS (SELECT generation FROM projection_state), \
         hours AS (SELECT generate_series(date_trunc('hour', now()) - interval '23 hours', \
                                          date_trunc('hour', now()), interval '1 hour') AS hour) \
         SELECT h.hour, \
           (SELECT count(*) FROM quote_view q, g WHERE q.generation = g.generation AND q.tenant_id = $1 \
              AND date_trunc('hour', q.created_at) = h.hour) AS quotes_created, \
           (SELECT count(*) FROM quote_view q, g WHERE q.generation = g.generation AND q.tenant_id = $1 \
              AND date_trunc('hour', q.accepted_at) = h.hour) AS quotes_accepted, \
           (SELECT count(*) FROM order_view o, g WHERE o.generation = g.generation AND o.tenant_id = $1 \
              AND date_trunc('hour', o.created_at) = h.hour) AS orders_created \
         FROM hours h ORDER BY h.hour",
    )
    .bind(tenant)
    .fetch_all(conn)
    .await
}
