//! The stuck-call watchdog: an external call in flight for longer than the integration's
//! reconciliation deadline (with margin) is one nobody can decide without a person: its outcome
//! stayed unknown, or its job became an incident (an invalid request, a crash). Each such task
//! is raised once as RECONCILIATION fallout (`OUTCOME_UNKNOWN`, retryable): verify with the
//! downstream, then RETRY it (a new run asks again under the same key, which reconciles before
//! sending anything). It resolves itself when the task succeeds. Runs on the jobs role's pool,
//! across tenants; it only reads the plan and raises records.

use std::time::Duration;

use common_kernel::context::RequestContext;
use domain_kernel::access::Authority;
use domain_kernel::{ActorId, ActorType, TenantId};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::fallout::{self, NewFallout};
use crate::app::error::{AppError, corrupt};
use crate::domain::{FalloutCategory, FulfilmentTaskId, OrderId, OrderItemId};

/// The actor the watchdog raises fallout as.
pub const WATCHDOG_ACTOR: &str = "order-stuck-call-watchdog";

/// Tasks looked at per pass.
const BATCH: i64 = 200;

/// Raises the fallout of every call in flight for longer than `after`; returns how many.
pub async fn sweep_once(db: &PgPool, after: Duration) -> Result<usize, AppError> {
    let rows = sqlx::query(
        "SELECT t.tenant_id, t.order_id, t.order_item_id, t.task_id, t.task_type, t.operation, t.status \
         FROM fulfilment_task t \
         WHERE t.status IN ('DISPATCHED', 'IN_PROGRESS', 'TIMED_OUT') \
           AND t.dispatched_at < now() - make_interval(secs => $1) \
           AND NOT EXISTS (SELECT 1 FROM order_fallout f WHERE f.tenant_id = t.tenant_id \
               AND f.task_id = t.task_id AND f.status NOT IN ('RESOLVED', 'CLOSED')) \
         ORDER BY t.dispatched_at LIMIT $2",
    )
    .bind(after.as_secs_f64())
    .bind(BATCH)
    .fetch_all(db)
    .await?;
    let mut raised = 0;
    for row in rows {
        let tenant: String = row.try_get("tenant_id")?;
        let task_type: String = row.try_get("task_type")?;
        let operation: String = row.try_get("operation")?;
        let status: String = row.try_get("status")?;
        let ctx = RequestContext::system(
            TenantId::parse(&tenant).map_err(corrupt)?,
            ActorId::parse(WATCHDOG_ACTOR).map_err(corrupt)?,
            ActorType::BatchProcess,
            "SYSTEM",
            Authority::default(),
        );
        let mut tx = db.begin().await?;
        fallout::record(
            &mut tx,
            &ctx,
            &NewFallout {
                order: OrderId::from_uuid(row.try_get::<Uuid, _>("order_id")?),
                item: Some(OrderItemId::from_uuid(
                    row.try_get::<Uuid, _>("order_item_id")?,
                )),
                task: Some(FulfilmentTaskId::from_uuid(
                    row.try_get::<Uuid, _>("task_id")?,
                )),
                category: FalloutCategory::Reconciliation,
                failure_code: "OUTCOME_UNKNOWN".into(),
                message: format!(
                    "{task_type} ({operation}) has been {status} for more than {}s: its outcome is \
                     unknown or its call is an incident; verify with the downstream \
                     (GET /external-calls?taskId=…), then retry",
                    after.as_secs()
                ),
                retryable: true,
            },
        )
        .await?;
        tx.commit().await?;
        raised += 1;
    }
    Ok(raised)
}

/// The watchdog loop: one pass every `every`.
pub async fn run(db: PgPool, after: Duration, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match sweep_once(&db, after).await {
            Ok(0) => {}
            Ok(raised) => tracing::warn!(
                raised,
                "external calls stuck past the deadline raised as fallout"
            ),
            Err(error) => tracing::warn!(%error, "the stuck-call watchdog failed; retrying"),
        }
    }
}
