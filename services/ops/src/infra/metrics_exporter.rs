//! Exports the business metrics as Prometheus series (`ops_business_*{tenant}`), recomputed from
//! the views every interval on the jobs role's pool, so `/metrics` answers without a query and
//! dashboards outside the console chart the same figures.

use std::time::Duration;

use sqlx::PgPool;

use super::business_metrics::{self, MetricRows};

fn export(tenant: &str, m: &MetricRows) {
    let gauges: [(&'static str, f64); 21] = [
        ("ops_business_quotes_created", m.quotes_created as f64),
        ("ops_business_quotes_accepted", m.quotes_accepted as f64),
        ("ops_business_quotes_converted", m.quotes_converted as f64),
        (
            "ops_business_quotes_created_last_hour",
            m.quotes_created_last_hour as f64,
        ),
        (
            "ops_business_quotes_accepted_last_hour",
            m.quotes_accepted_last_hour as f64,
        ),
        ("ops_business_quotes_overridden", m.quotes_overridden as f64),
        ("ops_business_price_overrides", m.price_overrides as f64),
        ("ops_business_approvals_pending", m.approvals_pending as f64),
        (
            "ops_business_approval_oldest_pending_seconds",
            m.approval_oldest_pending_seconds.unwrap_or(0.0),
        ),
        ("ops_business_approvals_decided", m.approvals_decided as f64),
        (
            "ops_business_approval_decision_p95_seconds",
            m.approval_decision_p95_seconds.unwrap_or(0.0),
        ),
        ("ops_business_orders_created", m.orders_created as f64),
        (
            "ops_business_orders_created_last_hour",
            m.orders_created_last_hour as f64,
        ),
        ("ops_business_orders_completed", m.orders_completed as f64),
        ("ops_business_orders_cancelled", m.orders_cancelled as f64),
        (
            "ops_business_fulfilment_p50_seconds",
            m.fulfilment_p50_seconds.unwrap_or(0.0),
        ),
        (
            "ops_business_fulfilment_p95_seconds",
            m.fulfilment_p95_seconds.unwrap_or(0.0),
        ),
        ("ops_business_fallout_open", m.fallout_open as f64),
        ("ops_business_fallout_total", m.fallout_total as f64),
        ("ops_business_task_retries", m.task_retries as f64),
        (
            "ops_business_conversion_rate",
            ratio(m.quotes_converted, m.quotes_created),
        ),
    ];
    for (name, value) in gauges {
        metrics::gauge!(name, "tenant" => tenant.to_owned()).set(value);
    }
    metrics::gauge!("ops_business_override_frequency", "tenant" => tenant.to_owned())
        .set(ratio(m.quotes_overridden, m.quotes_created));
    metrics::gauge!("ops_business_cancellation_rate", "tenant" => tenant.to_owned())
        .set(ratio(m.orders_cancelled, m.orders_created));
}

fn ratio(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

/// One pass over every tenant.
pub async fn export_once(jobs_db: &PgPool) -> Result<usize, sqlx::Error> {
    let mut conn = jobs_db.acquire().await?;
    let tenants = business_metrics::tenants(&mut conn).await?;
    for tenant in &tenants {
        let rows = business_metrics::compute(&mut conn, tenant).await?;
        export(tenant, &rows);
    }
    Ok(tenants.len())
}

/// Exports every `every` until the task is dropped.
pub async fn run(jobs_db: PgPool, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = export_once(&jobs_db).await {
            tracing::warn!(%error, "business metrics not exported this round");
        }
    }
}
