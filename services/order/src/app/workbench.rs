//! The fallout workbench: one command per action on a fallout record, each through the fallout
//! table and the order aggregate's own command, in one transaction on the order's lock (order
//! first, then the record, everywhere), with the operator's reason and evidence in the audit
//! trail, idempotent (a repeated action finds its work done and answers `changed: false`).
//!
//! | Action | Order command | Fallout | Then |
//! |---|---|---|---|
//! | ASSIGN | — | → ASSIGNED | — |
//! | AWAIT_EXTERNAL | — | → WAITING_EXTERNAL (a ticket with the downstream) | — |
//! | RETRY (RetryFailedBillingTrigger on a billing task) | `retry_task` | → RETRY_SCHEDULED (`RETRY_NOT_ALLOWED` when not retryable) | new run; RESOLVED when the task succeeds |
//! | RETRY of a call stuck in flight (RECONCILIATION) | none: the task stays | → RETRY_SCHEDULED | new run asks again under the same key; RESOLVED when the task succeeds |
//! | RETRY of an order-level fallout (an engine incident, a stalled plan) | the order resumes if it fell out | → RESOLVED (RETRIED) | a new run supersedes the stuck one |
//! | RETRY_WITH_CORRECTION | `retry_with_correction` (a redo, new key) | → RETRY_SCHEDULED | new run; RESOLVED when the redo succeeds |
//! | SKIP | `settle_task_manually(Skipped)` | → RESOLVED (SKIPPED) | new run |
//! | FORCE_COMPLETE (MarkExternalTaskAsSucceededAfterVerification; `ForceCompleteTask` privilege) | `settle_task_manually(VerifiedApplied)` | → RESOLVED (FORCE_COMPLETED) | new run |
//! | FAIL_ITEM | `fail_item` | → RESOLVED (ITEM_FAILED) | new run |
//! | ABORT_ORDER | `abort` | this and every open record → RESOLVED (ORDER_ABORTED) | — |
//! | CLOSE (CloseFalloutWithManualResolution) | an undo by hand: `record_manual_undo`; else none (closing never completes an order) | → RESOLVED (MANUAL_UNDO or MANUAL) → CLOSED | new run after an undo |

use chrono::{DateTime, Utc};
use common_kernel::audit;
use common_kernel::context::RequestContext;
use common_kernel::error::FieldError;
use domain_kernel::access::Action;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;

use crate::app::aftermath::fallout_evidence;
use crate::app::error::AppError;
use crate::app::fulfilment::{Why, persist};
use crate::domain::{
    Fallout, FalloutCategory, FalloutError, FalloutId, FalloutStatus, ManualResolution, Order,
    OrderChange, OrderStatus, ResolutionType, TaskCorrection, TaskStatus,
};
use crate::infra::{fallout, orders, plan_history};

/// A workbench action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkbenchAction {
    /// Give the record to an operator.
    Assign,
    /// Retry a retryable failure as is.
    Retry,
    /// Redo the failed task with corrected item data.
    RetryWithCorrection,
    /// Settle the task as not needed.
    Skip,
    /// Settle the task as applied, verified downstream (privileged).
    ForceComplete,
    /// Give up on the item.
    FailItem,
    /// Give up on the order.
    AbortOrder,
    /// Close with a manual resolution.
    Close,
    /// Wait for a downstream's answer (a ticket with the downstream).
    AwaitExternal,
}

impl WorkbenchAction {
    /// The wire name, for evidence and results.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assign => "ASSIGN",
            Self::Retry => "RETRY",
            Self::RetryWithCorrection => "RETRY_WITH_CORRECTION",
            Self::Skip => "SKIP",
            Self::ForceComplete => "FORCE_COMPLETE",
            Self::FailItem => "FAIL_ITEM",
            Self::AbortOrder => "ABORT_ORDER",
            Self::Close => "CLOSE",
            Self::AwaitExternal => "AWAIT_EXTERNAL",
        }
    }
}

/// What an action carries.
#[derive(Debug, Clone)]
pub struct ActionInput {
    /// The action.
    pub action: WorkbenchAction,
    /// Why, in words.
    pub reason: String,
    /// What it rests on.
    pub evidence: Map<String, Value>,
    /// ASSIGN: the operator.
    pub assignee: Option<String>,
    /// ASSIGN: another owning team.
    pub owner_team: Option<String>,
    /// RETRY_WITH_CORRECTION: the corrected characteristics.
    pub corrected: Option<Map<String, Value>>,
    /// FORCE_COMPLETE: the verified reference.
    pub external_reference: Option<String>,
}

/// What an action did.
#[derive(Debug, Clone)]
pub struct ActionOutcome {
    /// The record after it.
    pub fallout: Fallout,
    /// The order's status after it.
    pub order_status: OrderStatus,
    /// False when the work was found done.
    pub changed: bool,
}

/// The field errors of an input that lacks what its action needs.
pub fn check_input(input: &ActionInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.reason.trim().is_empty() || input.reason.len() > 2000 {
        errors.push(FieldError::new(
            "/reason",
            "REQUIRED",
            "why, in 1 to 2000 characters",
        ));
    }
    if input.evidence.is_empty() {
        errors.push(FieldError::new(
            "/evidence",
            "REQUIRED",
            "what the action rests on: a ticket, a downstream check",
        ));
    }
    match input.action {
        WorkbenchAction::Assign
            if input
                .assignee
                .as_deref()
                .is_none_or(|a| a.trim().is_empty()) =>
        {
            errors.push(FieldError::new("/assignee", "REQUIRED", "who takes it"));
        }
        WorkbenchAction::RetryWithCorrection
            if input.corrected.as_ref().is_none_or(Map::is_empty) =>
        {
            errors.push(FieldError::new(
                "/correctedCharacteristics",
                "REQUIRED",
                "the characteristics to correct",
            ));
        }
        WorkbenchAction::ForceComplete
            if input
                .external_reference
                .as_deref()
                .is_none_or(|r| r.trim().is_empty()) =>
        {
            errors.push(FieldError::new(
                "/externalReference",
                "REQUIRED",
                "the downstream's reference of the effect, as verified",
            ));
        }
        _ => {}
    }
    errors
}

/// Runs one action on one record, in the caller's transaction.
pub async fn act(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: FalloutId,
    input: &ActionInput,
) -> Result<ActionOutcome, AppError> {
    ctx.authorize(Action::RepairFallout)?;
    if input.action == WorkbenchAction::ForceComplete {
        ctx.authorize(Action::ForceCompleteTask)?;
    }
    let errors = check_input(input);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let order_id = fallout::load(&mut *conn, id, false)
        .await?
        .ok_or(AppError::FalloutNotFound(id))?
        .order;
    let before_order = orders::load(&mut *conn, order_id, true)
        .await?
        .ok_or(AppError::OrderNotFound(order_id))?;
    let before = fallout::load(&mut *conn, id, true)
        .await?
        .ok_or(AppError::FalloutNotFound(id))?;
    let now = Utc::now();
    let mut order = before_order.clone();
    let mut record = before.clone();
    let (changes, run) = apply(&mut order, &mut record, input, now)?;
    let reason = format!("{}: {}", input.action.as_str(), input.reason);
    let evidence = Value::Object(input.evidence.clone());
    // The record first: the order's follow-ups then find it settled and leave it alone.
    let settled = !record.status.is_open();
    let changed_record = fallout::save(
        &mut *conn,
        ctx,
        &before,
        &record,
        settled.then_some(ctx.actor.actor_id.as_str()),
        settled.then_some(&evidence),
    )
    .await?;
    let changed_order = persist(
        &mut *conn,
        ctx,
        &before_order,
        &mut order,
        &changes,
        Why::new("oms.order.repaired", reason.clone()),
        now,
    )
    .await?;
    if input.action == WorkbenchAction::AbortOrder && changed_order {
        resolve_the_rest(&mut *conn, ctx, &order, id, &reason, &evidence, now).await?;
    }
    if changed_record || changed_order {
        let mut entry = fallout_evidence(
            event_type(input.action),
            &before,
            &record,
            input.reason.clone(),
        );
        if let Some(Value::Object(after)) = &mut entry.after {
            after.insert("action".into(), json!(input.action.as_str()));
            after.insert("evidence".into(), evidence.clone());
        }
        audit::record(&mut *conn, ctx, entry).await?;
    }
    // A retry asks for a new run even when the order itself did not move (it is stuck on an
    // incident or a call in flight, not in fallout).
    let retried = input.action == WorkbenchAction::Retry && changed_record;
    if run && (changed_order || retried) && order_may_go_on(&order) {
        plan_history::request_run(&mut *conn, &mut order).await?;
    }
    Ok(ActionOutcome {
        fallout: record,
        order_status: order.status,
        changed: changed_record || changed_order,
    })
}

fn order_may_go_on(order: &Order) -> bool {
    matches!(
        order.status,
        OrderStatus::Acknowledged
            | OrderStatus::Validated
            | OrderStatus::Decomposed
            | OrderStatus::InProgress
            | OrderStatus::PartiallyCompleted
            | OrderStatus::CancellationPending
    )
}

fn event_type(action: WorkbenchAction) -> &'static str {
    match action {
        WorkbenchAction::Assign => "oms.fallout.assigned",
        WorkbenchAction::Retry => "oms.fallout.retried",
        WorkbenchAction::RetryWithCorrection => "oms.fallout.retried-with-correction",
        WorkbenchAction::Skip => "oms.fallout.skipped",
        WorkbenchAction::ForceComplete => "oms.fallout.force-completed",
        WorkbenchAction::FailItem => "oms.fallout.item-failed",
        WorkbenchAction::AbortOrder => "oms.fallout.order-aborted",
        WorkbenchAction::Close => "oms.fallout.closed",
        WorkbenchAction::AwaitExternal => "oms.fallout.awaiting-external",
    }
}

/// The domain side of an action: the order's command and the record's; whether the process
/// must go on (a new run).
fn apply(
    order: &mut Order,
    record: &mut Fallout,
    input: &ActionInput,
    now: DateTime<Utc>,
) -> Result<(Vec<OrderChange>, bool), AppError> {
    let task = || {
        record.task.ok_or_else(|| {
            AppError::ActionNotApplicable(format!(
                "{} needs a fallout that names a task; this one names none",
                input.action.as_str()
            ))
        })
    };
    let note = input.reason.clone();
    if !record.status.is_open() && input.action != WorkbenchAction::Close {
        // Repaired already (by this action before, or otherwise): nothing left to do.
        return Ok((Vec::new(), false));
    }
    Ok(match input.action {
        WorkbenchAction::Assign => {
            let assignee = input.assignee.as_deref().unwrap_or_default();
            record.assign(assignee, input.owner_team.as_deref())?;
            (Vec::new(), false)
        }
        WorkbenchAction::AwaitExternal => {
            record.await_external(now)?;
            (Vec::new(), false)
        }
        WorkbenchAction::Retry => {
            if record.status == FalloutStatus::RetryScheduled {
                return Ok((Vec::new(), false));
            }
            if !record.retryable {
                return Err(FalloutError::NotRetryable(record.id).into());
            }
            let Some(task) = record.task else {
                // An order-level failure (an engine incident, a stalled plan): the order resumes
                // if it fell out, and a new run supersedes the stuck one (its instance
                // cancelled, an incident with it). Resolved now; a new failure raises a new
                // record.
                let changes = if order.status == OrderStatus::Fallout {
                    order.resume_after_fallout()?
                } else {
                    Vec::new()
                };
                record.schedule_retry(now)?;
                record.resolve(ResolutionType::Retried, &note, now)?;
                return Ok((changes, true));
            };
            let in_flight = order.task(task).is_some_and(|t| {
                matches!(
                    t.status,
                    TaskStatus::Dispatched | TaskStatus::InProgress | TaskStatus::TimedOut
                )
            });
            // A call stuck in flight (RECONCILIATION): the task stays; a new run asks again
            // under the same key, which reconciles before sending anything.
            let changes = if in_flight {
                Vec::new()
            } else {
                order.retry_task(task)?
            };
            record.schedule_retry(now)?;
            (changes, true)
        }
        WorkbenchAction::RetryWithCorrection => {
            let task = task()?;
            let correction = TaskCorrection {
                characteristics: input.corrected.clone().unwrap_or_default(),
            };
            let changes = order.retry_with_correction(task, &correction)?;
            record.schedule_redo(now)?;
            (changes, true)
        }
        WorkbenchAction::Skip | WorkbenchAction::ForceComplete => {
            let task = task()?;
            let (resolution, kind) = if input.action == WorkbenchAction::Skip {
                (ManualResolution::Skipped, ResolutionType::Skipped)
            } else {
                (
                    ManualResolution::VerifiedApplied {
                        external_reference: input.external_reference.clone().unwrap_or_default(),
                    },
                    ResolutionType::ForceCompleted,
                )
            };
            let changes = order.settle_task_manually(task, &resolution)?;
            record.resolve(kind, &note, now)?;
            (changes, true)
        }
        WorkbenchAction::FailItem => {
            let item = record.item.ok_or_else(|| {
                AppError::ActionNotApplicable("FAIL_ITEM needs a fallout that names an item".into())
            })?;
            let changes = order.fail_item(item)?;
            record.resolve(ResolutionType::ItemFailed, &note, now)?;
            (changes, true)
        }
        WorkbenchAction::AbortOrder => {
            let changes = order.abort()?;
            record.resolve(ResolutionType::OrderAborted, &note, now)?;
            (changes, false)
        }
        WorkbenchAction::Close => {
            let changes = match (record.category, record.item) {
                (FalloutCategory::Cancellation, Some(item)) if record.status.is_open() => {
                    let changes = order.record_manual_undo(item)?;
                    record.resolve(ResolutionType::ManualUndo, &note, now)?;
                    changes
                }
                _ => {
                    record.resolve(ResolutionType::Manual, &note, now)?;
                    Vec::new()
                }
            };
            record.close()?;
            (changes, true)
        }
    })
}

/// An aborted order's other open records are resolved with it.
async fn resolve_the_rest(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    order: &Order,
    except: FalloutId,
    reason: &str,
    evidence: &Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for before in fallout::open_of_order(&mut *conn, order.id).await? {
        if before.id == except {
            continue;
        }
        let mut after = before.clone();
        if after.resolve(ResolutionType::OrderAborted, reason, now)? {
            fallout::save(
                &mut *conn,
                ctx,
                &before,
                &after,
                Some(ctx.actor.actor_id.as_str()),
                Some(evidence),
            )
            .await?;
            audit::record(
                &mut *conn,
                ctx,
                fallout_evidence("oms.fallout.resolved", &before, &after, reason.to_owned()),
            )
            .await?;
        }
    }
    Ok(())
}
