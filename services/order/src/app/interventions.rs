//! Commands people run on an order in flight: cancel it (or some items) after previewing what
//! that does, hold and release it, retry one failed task. Each runs on the order's lock in the
//! caller's transaction, writes events and evidence through `persist`, and asks for a new
//! process run when the order has to go on (ADR 0043).
//!
//! | Command | Source states | Effect | Idempotency |
//! |---|---|---|---|
//! | CancelProductOrder | before COMPLETED, not FAILED/CANCELLED/CANCELLATION_PENDING | the assessment applied (stop, await, compensate, manual); a resource PENDING → DONE | the Idempotency-Key replays; a second cancellation is refused |
//! | PreviewCancellation | same | nothing: the assessment only | read-only |
//! | HoldOrder | IN_PROGRESS | HELD: nothing new is dispatched | HELD answers done |
//! | ReleaseOrder | HELD | IN_PROGRESS, a new run | IN_PROGRESS answers done |
//! | RetryTask | a FAILED_RETRYABLE task | READY, its fallout RETRY_SCHEDULED, a new run | a retried task answers done |

use chrono::Utc;
use common_kernel::context::RequestContext;
use common_kernel::error::FieldError;
use domain_kernel::access::Action;
use serde_json::Value;
use sqlx::PgConnection;

use crate::app::error::AppError;
use crate::app::fulfilment::{Why, persist};
use crate::domain::{
    CancellationImpact, FulfilmentTaskId, Order, OrderId, OrderItemId, OrderStatus,
};
use crate::infra::cancellations::{self, Cancellation, CancellationId};
use crate::infra::{fallout, orders, plan_history};

/// What a cancellation asks.
#[derive(Debug, Clone)]
pub struct CancellationRequest {
    /// The items to cancel (None: the whole order).
    pub scope: Option<Vec<OrderItemId>>,
    /// Why (required).
    pub reason: String,
}

async fn locked(conn: &mut PgConnection, id: OrderId) -> Result<Order, AppError> {
    orders::load(conn, id, true)
        .await?
        .ok_or(AppError::OrderNotFound(id))
}

fn check_reason(reason: &str) -> Result<(), AppError> {
    if reason.trim().is_empty() || reason.len() > 2000 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "/reason",
            "REQUIRED",
            "why, in 1 to 2000 characters",
        )]));
    }
    Ok(())
}

/// PreviewCancellation · what cancelling `scope` would do, per item and task; changes nothing.
pub async fn preview_cancellation(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: OrderId,
    scope: Option<&[OrderItemId]>,
) -> Result<CancellationImpact, AppError> {
    ctx.authorize(Action::CancelOrder)?;
    let order = orders::load(conn, id, false)
        .await?
        .ok_or(AppError::OrderNotFound(id))?;
    Ok(order.assess_cancellation(scope)?)
}

/// CancelProductOrder · see the module table. Returns the stored resource.
pub async fn cancel(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: OrderId,
    request: &CancellationRequest,
) -> Result<Cancellation, AppError> {
    ctx.authorize(Action::CancelOrder)?;
    check_reason(&request.reason)?;
    let before = locked(&mut *conn, id).await?;
    let mut after = before.clone();
    let (impact, changes) = after.request_cancellation(request.scope.as_deref())?;
    let now = Utc::now();
    persist(
        &mut *conn,
        ctx,
        &before,
        &mut after,
        &changes,
        Why::new("oms.order.cancellation-requested", request.reason.clone()),
        now,
    )
    .await?;
    let scope_settled = impact.items.iter().all(|i| {
        after
            .item(i.order_item_id)
            .is_some_and(|item| item.status.is_withdrawn() || !item.status.is_being_cancelled())
    });
    let done = after.status == OrderStatus::Cancelled || (!impact.whole_order && scope_settled);
    let cancellation = Cancellation {
        id: CancellationId::generate(),
        order: id,
        scope: request.scope.clone().unwrap_or_default(),
        whole_order: impact.whole_order,
        reason: request.reason.clone(),
        requested_by: ctx.actor.actor_id.as_str().to_owned(),
        state: if done { "DONE" } else { "PENDING" }.to_owned(),
        impact: serde_json::to_value(&impact).map_err(|e| AppError::Corrupt(e.to_string()))?,
        created_at: now,
        completed_at: done.then_some(now),
    };
    cancellations::insert(&mut *conn, ctx.tenant_id.as_str(), &cancellation).await?;
    if !done && !after.plan_settled() {
        plan_history::request_run(&mut *conn, &mut after).await?;
    }
    Ok(cancellation)
}

/// One cancellation of the order.
pub async fn cancellation(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    order: OrderId,
    id: CancellationId,
) -> Result<Cancellation, AppError> {
    ctx.authorize(Action::ViewOrder)?;
    cancellations::load(conn, order, id)
        .await?
        .ok_or(AppError::CancellationNotFound(id.as_uuid()))
}

/// HoldOrder · see the module table.
pub async fn hold(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: OrderId,
    reason: &str,
) -> Result<Order, AppError> {
    ctx.authorize(Action::RepairFallout)?;
    check_reason(reason)?;
    let before = locked(&mut *conn, id).await?;
    let mut after = before.clone();
    let changes = after.hold()?;
    persist(
        &mut *conn,
        ctx,
        &before,
        &mut after,
        &changes,
        Why::new("oms.order.held", reason),
        Utc::now(),
    )
    .await?;
    Ok(after)
}

/// ReleaseOrder · see the module table.
pub async fn release(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: OrderId,
    reason: &str,
) -> Result<Order, AppError> {
    ctx.authorize(Action::RepairFallout)?;
    check_reason(reason)?;
    let before = locked(&mut *conn, id).await?;
    let mut after = before.clone();
    let changes = after.release()?;
    let changed = persist(
        &mut *conn,
        ctx,
        &before,
        &mut after,
        &changes,
        Why::new("oms.order.released", reason),
        Utc::now(),
    )
    .await?;
    if changed {
        plan_history::request_run(&mut *conn, &mut after).await?;
    }
    Ok(after)
}

/// RetryTask · see the module table. `evidence` goes into the fallout's audit trail.
pub async fn retry_task(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: OrderId,
    task: FulfilmentTaskId,
    reason: &str,
    evidence: &Value,
) -> Result<Order, AppError> {
    ctx.authorize(Action::RetryTask)?;
    check_reason(reason)?;
    let before = locked(&mut *conn, id).await?;
    let mut after = before.clone();
    let changes = after.retry_task(task)?;
    let now = Utc::now();
    let changed = persist(
        &mut *conn,
        ctx,
        &before,
        &mut after,
        &changes,
        Why::new("oms.order.task-retried", reason),
        now,
    )
    .await?;
    if !changed {
        return Ok(after);
    }
    for record in fallout::open_of_order(&mut *conn, id).await? {
        if record.task != Some(task) {
            continue;
        }
        let mut scheduled = record.clone();
        if scheduled.schedule_retry(now)? {
            fallout::save(&mut *conn, ctx, &record, &scheduled, None, None).await?;
            let mut entry = crate::app::aftermath::fallout_evidence(
                "oms.fallout.retried",
                &record,
                &scheduled,
                reason.to_owned(),
            );
            if let Some(Value::Object(view)) = &mut entry.after {
                view.insert("evidence".into(), evidence.clone());
            }
            common_kernel::audit::record(&mut *conn, ctx, entry).await?;
        }
    }
    plan_history::request_run(&mut *conn, &mut after).await?;
    Ok(after)
}
