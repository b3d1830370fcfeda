//! Starts the `order-fulfillment` runs orders ask for: run 1 when an order is ACKNOWLEDGED,
//! another whenever a repair, a release or a cancellation asks the order to go on
//! (`customer_order.fulfilment_run` goes up in that command's transaction, ADR 0043). A new run
//! supersedes the previous one: its instance is cancelled first (an instance that already
//! ended counts as cancelled), which also clears an incident it was stuck on. Runs on the jobs
//! role's pool (orders of every tenant), wakes on the notification commands send at commit and
//! otherwise polls. It never holds a row lock across a call to the engine: it reads, calls,
//! then inserts the link (`order_process`, one per order and run), so a second replica that
//! started the same run finds the link taken and cancels its own.

use std::time::Duration;

use serde::Serialize;
use sqlx::{PgPool, Row};
use workflow_runtime::{Correlation, Gateway, instance_variables};

use super::events_consumer::CAPTURED_CHANNEL;

/// The process every acknowledged order runs.
pub const PROCESS_ID: &str = "order-fulfillment";
/// Orders handled per pass.
const BATCH: i64 = 100;

/// Why one pass failed (the loop logs it and tries again).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The engine refused or could not be reached.
    #[error("the workflow engine failed: {0}")]
    Engine(#[from] zeebe_rs::ClientError),
    /// Variables did not serialise.
    #[error(transparent)]
    Variables(#[from] workflow_runtime::VariablesError),
}

/// The variables an instance starts with (workflow/README.md, order-fulfillment).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StartVariables {
    tenant_id: String,
    order_id: String,
    customer_id: String,
}

/// Starts the runs orders ask for and have not got; returns how many it started.
pub async fn start_once(db: &PgPool, gateway: &Gateway) -> Result<usize, StartError> {
    let waiting = sqlx::query(
        "SELECT o.tenant_id, o.order_id::text AS order_id, o.customer_id, o.correlation_id, \
                o.business_transaction_id, o.fulfilment_run, last.run AS last_run, \
                last.process_instance_key AS last_key \
         FROM customer_order o \
         LEFT JOIN LATERAL (SELECT p.run, p.process_instance_key FROM order_process p \
             WHERE p.tenant_id = o.tenant_id AND p.order_id = o.order_id ORDER BY p.run DESC LIMIT 1) last ON true \
         WHERE (o.status = 'ACKNOWLEDGED' OR o.fulfilment_run > 1) \
           AND o.fulfilment_run > coalesce(last.run, 0) \
         ORDER BY o.updated_at LIMIT $1",
    )
    .bind(BATCH)
    .fetch_all(db)
    .await?;
    let mut started = 0;
    for row in waiting {
        let order: String = row.try_get("order_id")?;
        let tenant: String = row.try_get("tenant_id")?;
        let run: i32 = row.try_get("fulfilment_run")?;
        if let Some(previous) = row.try_get::<Option<i64>, _>("last_key")? {
            gateway.cancel_instance(previous).await?;
        }
        let business = StartVariables {
            tenant_id: tenant.clone(),
            order_id: order.clone(),
            customer_id: row.try_get("customer_id")?,
        };
        let correlation = Correlation {
            correlation_id: Some(row.try_get("correlation_id")?),
            business_transaction_id: Some(row.try_get("business_transaction_id")?),
            ..Correlation::default()
        };
        let variables = instance_variables(&correlation, &business)?;
        let created = gateway
            .client()
            .create_process_instance()
            .with_bpmn_process_id(PROCESS_ID.to_owned())
            .with_variables(variables)?
            .send()
            .await?;
        let key = created.process_instance_key();
        let linked = sqlx::query(
            "INSERT INTO order_process (tenant_id, order_id, process_instance_key, run) \
             VALUES ($1, $2::uuid, $3, $4) ON CONFLICT (tenant_id, order_id, run) DO NOTHING",
        )
        .bind(&tenant)
        .bind(&order)
        .bind(key)
        .bind(run)
        .execute(db)
        .await?
        .rows_affected();
        if linked == 1 {
            tracing::info!(order = %order, run, process_instance_key = key, "fulfilment process started");
            started += 1;
        } else {
            gateway.cancel_instance(key).await?;
        }
    }
    Ok(started)
}

/// The starter loop: a pass on every capture notification, and at least every `every`.
pub async fn run(db: PgPool, gateway: Gateway, every: Duration) {
    let pass_db = db.clone();
    service_host::on_notification_or_every(db, CAPTURED_CHANNEL, every, || {
        let (db, gateway) = (pass_db.clone(), gateway.clone());
        async move {
            match start_once(&db, &gateway).await {
                Ok(0) => {}
                Ok(started) => tracing::debug!(started, "fulfilment processes started"),
                Err(error) => {
                    tracing::warn!(%error, "starting fulfilment processes failed; retrying")
                }
            }
        }
    })
    .await;
}
