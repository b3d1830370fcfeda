//! AmendOrder: new characteristics for items of an order in flight, previewed first.
//!
//! | | |
//! |---|---|
//! | Aggregate | order (+ the amendment resource) |
//! | Allowed source states | decomposed, in progress, held or in fallout; not completed, cancelled, failed or being cancelled |
//! | Required input | the items with their whole new characteristics, a reason |
//! | Current-state checks | no other amendment in flight (`AMENDMENT_IN_PROGRESS`); per item: see `domain::order::amendment` |
//! | Transition | redone items' succeeded effects → COMPENSATING (undo tasks), live tasks → CANCELLED or replaced by redos of the next plan revision; refused and unchanged items untouched |
//! | Data mutation | characteristics corrected with history, tasks added, the amendment stored (PENDING, DONE or REFUSED) |
//! | History/audit | `oms.order.amended` evidence (reason, before/after), a plan revision row; when nothing is redone, `oms.order.amendment-refused` or `oms.order.amendment-recorded` evidence of the request and its answer |
//! | Outbox event | `oms.order.amended.v1` with every item's outcome |
//! | Idempotency | the Idempotency-Key replays; the same characteristics again are UNCHANGED |
//! | Failure behaviour | a refusal changes nothing; a refused item is named in the answer |

use chrono::Utc;
use common_kernel::audit::{self, AuditResource, Evidence};
use common_kernel::context::RequestContext;
use common_kernel::error::FieldError;
use common_kernel::outbox::{self, NewEvent};
use domain_kernel::access::Action;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::app::error::AppError;
use crate::app::events::{ORDER_AGGREGATE, ORDER_TOPIC};
use crate::app::fulfilment::{Why, persist};
use crate::domain::{
    AmendItemOutcome, AmendmentImpact, ItemAmendment, ItemStatus, Order, OrderId, OrderStatus,
};
use crate::infra::amendments::{self, Amendment, AmendmentId};
use crate::infra::{orders, plan_history};

/// The `oms.order.amended.v1` payload.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AmendedPayload {
    /// The order.
    pub order_id: String,
    /// Its customer.
    pub customer_id: String,
    /// The amendment.
    pub amendment_id: String,
    /// Its number within the order.
    pub amendment_version: i32,
    /// The plan revision the redos belong to.
    pub plan_revision: u32,
    /// Every named item's outcome.
    pub items: Vec<Value>,
}

/// The event of an applied amendment.
pub fn amended_event(
    order: &Order,
    amendment: &Amendment,
    impact: &AmendmentImpact,
) -> Result<NewEvent, serde_json::Error> {
    let payload = AmendedPayload {
        order_id: order.id.to_string(),
        customer_id: order.customer.as_str().to_owned(),
        amendment_id: amendment.id.to_string(),
        amendment_version: amendment.version,
        plan_revision: order.plan_revision,
        items: impact
            .items
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?,
    };
    Ok(NewEvent {
        event_type: "oms.order.amended.v1",
        event_version: 1,
        topic: ORDER_TOPIC,
        aggregate_type: ORDER_AGGREGATE,
        aggregate_id: order.id.to_string(),
        aggregate_version: order.version,
        partition_key: order.id.to_string(),
        payload: serde_json::to_value(payload)?,
    })
}

/// PreviewAmendment · what the amendment would do, per item and task; changes nothing.
pub async fn preview(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: OrderId,
    desired: &[ItemAmendment],
) -> Result<AmendmentImpact, AppError> {
    ctx.authorize(Action::AmendOrder)?;
    let order = orders::load(conn, id, false)
        .await?
        .ok_or(AppError::OrderNotFound(id))?;
    Ok(order.assess_amendment(desired)?)
}

/// AmendOrder · see the module table.
pub async fn amend(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: OrderId,
    desired: &[ItemAmendment],
    reason: &str,
) -> Result<Amendment, AppError> {
    ctx.authorize(Action::AmendOrder)?;
    if reason.trim().is_empty() || reason.len() > 2000 {
        return Err(AppError::Invalid(vec![FieldError::new(
            "/reason",
            "REQUIRED",
            "why, in 1 to 2000 characters",
        )]));
    }
    let before = orders::load(&mut *conn, id, true)
        .await?
        .ok_or(AppError::OrderNotFound(id))?;
    if let Some(pending) = amendments::pending_of_order(&mut *conn, id).await? {
        return Err(AppError::AmendmentInProgress(pending.id.as_uuid()));
    }
    let mut after = before.clone();
    let (impact, changes) = after.request_amendment(desired)?;
    let now = Utc::now();
    persist(
        &mut *conn,
        ctx,
        &before,
        &mut after,
        &changes,
        Why::new("oms.order.amended", reason),
        now,
    )
    .await?;
    let refused_all = !impact.redoes_anything()
        && impact
            .items
            .iter()
            .any(|i| matches!(i.outcome, AmendItemOutcome::Refused { .. }));
    let state = match (impact.redoes_anything(), refused_all) {
        (true, _) => "PENDING",
        (false, true) => "REFUSED",
        (false, false) => "DONE",
    };
    let amendment = Amendment {
        id: AmendmentId::generate(),
        order: id,
        version: amendments::next_version(&mut *conn, id).await?,
        state: state.to_owned(),
        desired: json!(
            desired
                .iter()
                .map(|d| json!({"orderItemId": d.item.to_string(), "characteristics": d.characteristics}))
                .collect::<Vec<_>>()
        ),
        impact: serde_json::to_value(&impact).map_err(|e| AppError::Corrupt(e.to_string()))?,
        reason: reason.to_owned(),
        requested_by: ctx.actor.actor_id.as_str().to_owned(),
        created_at: now,
        completed_at: (state != "PENDING").then_some(now),
    };
    amendments::insert(&mut *conn, ctx.tenant_id.as_str(), &amendment).await?;
    if !impact.redoes_anything() {
        // Nothing changes in the order, but the request and its answer are a decision on
        // record (who asked for what, why, and what was refused): evidence all the same.
        audit::record(
            &mut *conn,
            ctx,
            Evidence {
                event_type: if state == "REFUSED" {
                    "oms.order.amendment-refused"
                } else {
                    "oms.order.amendment-recorded"
                },
                resource: AuditResource {
                    resource_type: ORDER_AGGREGATE,
                    resource_id: id.to_string(),
                    resource_version: after.version,
                },
                business_reason: Some(reason.to_owned()),
                before: None,
                after: Some(json!({
                    "amendmentId": amendment.id.to_string(),
                    "amendmentVersion": amendment.version,
                    "state": state,
                    "impact": amendment.impact,
                })),
                policy: None,
            },
        )
        .await?;
    }
    if impact.redoes_anything() {
        let event = amended_event(&after, &amendment, &impact)
            .map_err(|e| AppError::Corrupt(e.to_string()))?;
        outbox::append(&mut *conn, ctx, event).await?;
        if matches!(
            after.status,
            OrderStatus::InProgress | OrderStatus::PartiallyCompleted | OrderStatus::Decomposed
        ) {
            plan_history::request_run(&mut *conn, &mut after).await?;
        }
    }
    Ok(amendment)
}

/// One amendment of the order.
pub async fn amendment(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    order: OrderId,
    id: AmendmentId,
) -> Result<Amendment, AppError> {
    ctx.authorize(Action::ViewOrder)?;
    amendments::load(conn, order, id)
        .await?
        .ok_or(AppError::AmendmentNotFound(id.as_uuid()))
}

/// Finishes the order's amendment in flight once its redone items are done (or the order
/// ended): called after every command.
pub async fn settle(
    conn: &mut PgConnection,
    order: &Order,
    now: chrono::DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(pending) = amendments::pending_of_order(&mut *conn, order.id).await? else {
        return Ok(());
    };
    let ended = matches!(
        order.status,
        OrderStatus::Completed | OrderStatus::Cancelled | OrderStatus::Failed | OrderStatus::Closed
    );
    let redone_done = pending.impact["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["outcome"] == "REDONE")
        .filter_map(|i| i["orderItemId"].as_str())
        .all(|item| {
            order.items.iter().any(|i| {
                i.id.to_string() == item
                    && (i.status == ItemStatus::Completed || i.status.is_withdrawn())
            })
        });
    if ended || redone_done {
        amendments::finish(conn, pending.id, now).await?;
    }
    Ok(())
}
