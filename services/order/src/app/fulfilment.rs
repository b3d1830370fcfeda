//! The fulfilment commands the `order-fulfillment` process's `order.*` jobs run (workflow/README.md):
//! validate, decompose, advance (record the finished batch, dispatch what is ready), complete,
//! record fallout. Each runs in one transaction on the order's row lock, with no network call
//! inside it (the catalog is read before), writes its events and evidence, and is idempotent:
//! a redelivered job finds the work done and answers the same.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use common_kernel::db::begin_for_tenant;
use common_kernel::{audit, outbox};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::{PgConnection, PgPool};

use crate::app::aftermath;
use crate::app::error::AppError;
use crate::app::events;
use crate::app::installed_base;
use crate::app::ports::ProfileSource;
use crate::app::requests;
use crate::domain::FalloutCategory;
use crate::domain::{
    Failure, FulfilmentOperation, FulfilmentTaskId, Order, OrderChange, OrderId, OrderItemId,
    OrderStatus, PlanItem, Subscription, decompose,
};
use crate::infra::fallout::{self, NewFallout};
use crate::infra::{installed_base as assets, orders, plan_history};

/// The failure code prefix of a mirrored engine incident (`INCIDENT_ADVANCE`).
pub const INCIDENT_PREFIX: &str = "INCIDENT_";

/// Job retries an external-call job starts with (its own budget governs after that).
pub const EXTERNAL_JOB_RETRIES: u32 = 5;

/// A step's answer: done, or refused for a business reason (the process's fallout path).
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome<T> {
    /// Done (or found done).
    Done(T),
    /// The order cannot go on; it is in FALLOUT or FAILED with this failure.
    Refused(Failure),
}

/// One finished external call of the last batch, as the process collected it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    /// The task.
    pub task_id: FulfilmentTaskId,
    /// The integration worker's output (`externalCall`).
    #[serde(default)]
    pub call: Option<ExternalCall>,
}

/// The integration worker's `externalCall` output.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalCall {
    /// SUCCEEDED on a completed job.
    pub outcome: String,
    /// The downstream's reference.
    #[serde(default)]
    pub external_reference: Option<String>,
    /// The state in the core's words.
    #[serde(default)]
    pub external_state: Option<String>,
}

/// A task to run now, as the process's multi-instance runs it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadyTask {
    /// The task (the integration's `taskId`).
    pub task_id: String,
    /// Its item.
    pub order_item_id: String,
    /// Its plan name.
    pub task_type: String,
    /// `integration.<system>.<operation>`.
    pub job_type: String,
    /// Job retries to start with.
    pub retries: u32,
    /// The command in the core's words.
    pub request: Value,
}

/// What `advance` answers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Advance {
    /// Tasks to run now (dispatched and not yet settled).
    pub ready_tasks: Vec<ReadyTask>,
    /// Every task succeeded and every mandatory item is done: the order can complete.
    pub plan_settled: bool,
    /// The order cannot go on (FALLOUT, FAILED, held or cancelled): the process stops.
    pub halted: bool,
}

/// A fallout the process reports (a caught BPMN error).
#[derive(Debug, Clone)]
pub struct FalloutReport {
    /// The step (VALIDATE, DECOMPOSE, EXECUTE_TASKS).
    pub step: String,
    /// The error code (`PROVISIONING_REJECTED`, …).
    pub code: String,
    /// The reason.
    pub reason: String,
    /// The task whose call was refused, when one was.
    pub task: Option<FulfilmentTaskId>,
}

/// The fulfilment commands over the service's pool and the catalog.
#[derive(Debug, Clone)]
pub struct Fulfilment {
    /// Request handling's pool (the app role; every transaction scoped to the job's tenant).
    pub db: PgPool,
    /// The catalog's fulfilment profiles.
    pub catalog: Arc<dyn ProfileSource>,
}

/// What evidence a command leaves: its audit event type and the business reason.
#[derive(Debug, Clone)]
pub struct Why {
    /// The audit event type (`oms.order.validated`, …).
    pub event: &'static str,
    /// The reason, in words.
    pub reason: String,
}

impl Why {
    /// Evidence of `event` for `reason`.
    pub fn new(event: &'static str, reason: impl Into<String>) -> Self {
        Self {
            event,
            reason: reason.into(),
        }
    }
}

/// Writes what a command changed: rows, events, evidence. Nothing when nothing changed.
pub async fn persist(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    before: &Order,
    after: &mut Order,
    changes: &[OrderChange],
    why: Why,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    if !orders::save(&mut *conn, before, after, changes, now).await? {
        return Ok(false);
    }
    plan_history::record(&mut *conn, ctx, before, after, &why.reason).await?;
    aftermath::follow_up(&mut *conn, ctx, before, after, changes, now).await?;
    for event in events::events_of(after, changes).map_err(|e| AppError::Corrupt(e.to_string()))? {
        outbox::append(&mut *conn, ctx, event).await?;
    }
    audit::record(
        &mut *conn,
        ctx,
        events::evidence(why.event, Some(before), after, why.reason),
    )
    .await?;
    Ok(true)
}

async fn locked(conn: &mut PgConnection, id: OrderId) -> Result<Order, AppError> {
    orders::load(conn, id, true)
        .await?
        .ok_or(AppError::OrderNotFound(id))
}

fn refused_by(order: &Order) -> Option<Failure> {
    if order.status == OrderStatus::Cancelled {
        return Some(Failure {
            code: "ORDER_CANCELLED".into(),
            reason: "the order was cancelled".into(),
            retryable: false,
        });
    }
    matches!(order.status, OrderStatus::Failed | OrderStatus::Fallout).then(|| {
        order.failure.clone().unwrap_or(Failure {
            code: "ORDER_IN_FALLOUT".into(),
            reason: format!("the order is {}", order.status.as_str()),
            retryable: false,
        })
    })
}

impl Fulfilment {
    /// ValidateOrder · ACKNOWLEDGED → VALIDATED (items VALIDATED) · refused when the order
    /// was refused at capture · idempotent past VALIDATED.
    pub async fn validate(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<StepOutcome<()>, AppError> {
        let mut tx = begin_for_tenant(&self.db, &ctx.tenant_id).await?;
        let before = locked(&mut tx, id).await?;
        // A later run of a decomposed order in fallout passes through (it runs the undoing of
        // a cancellation, or a repair resumed it meanwhile).
        let decomposed_fallout =
            before.status == OrderStatus::Fallout && before.plan_hash.is_some();
        if let Some(failure) = refused_by(&before).filter(|_| !decomposed_fallout) {
            return Ok(StepOutcome::Refused(failure));
        }
        if decomposed_fallout {
            return Ok(StepOutcome::Done(()));
        }
        let mut after = before.clone();
        let changes = after.validate()?;
        persist(
            &mut tx,
            ctx,
            &before,
            &mut after,
            &changes,
            Why::new("oms.order.validated", "validation passed"),
            Utc::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(StepOutcome::Done(()))
    }

    /// DecomposeOrder · VALIDATED → DECOMPOSED with the plan from the catalog's fulfilment
    /// profiles (read before the transaction); instances and subscriptions prepared · a plan
    /// that cannot be made: VALIDATED → FALLOUT with its code · idempotent: the same plan hash
    /// answers done, another is refused (`PLAN_CHANGED`).
    pub async fn decompose(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<StepOutcome<String>, AppError> {
        let snapshot = {
            let mut tx = begin_for_tenant(&self.db, &ctx.tenant_id).await?;
            let order = orders::load(&mut tx, id, false)
                .await?
                .ok_or(AppError::OrderNotFound(id))?;
            tx.commit().await?;
            order
        };
        if let Some(hash) = snapshot.plan_hash.clone() {
            return Ok(StepOutcome::Done(hash));
        }
        let mut facts = HashMap::new();
        for item in &snapshot.items {
            if let Some(found) = self
                .catalog
                .offering(ctx, item.offering_id, item.offering_version)
                .await?
            {
                facts.insert(item.id, found);
            }
        }
        let mut tx = begin_for_tenant(&self.db, &ctx.tenant_id).await?;
        let before = locked(&mut tx, id).await?;
        if let Some(hash) = before.plan_hash.clone() {
            return Ok(StepOutcome::Done(hash));
        }
        if let Some(failure) = refused_by(&before) {
            return Ok(StepOutcome::Refused(failure));
        }
        let plan_items: Vec<PlanItem<'_>> = before
            .items
            .iter()
            .map(|item| PlanItem {
                item: item.id,
                action: item.action,
                parent: item.parent,
                profile: facts.get(&item.id).and_then(|f| f.profile.as_ref()),
            })
            .collect();
        let mut after = before.clone();
        let now = Utc::now();
        match decompose(&plan_items, &mut FulfilmentTaskId::generate) {
            Ok(plan) => {
                let changes = after.decompose(plan)?;
                let starts: HashMap<OrderItemId, bool> = facts
                    .iter()
                    .map(|(item, f)| {
                        (
                            *item,
                            f.profile.as_ref().is_some_and(|p| p.starts_subscription),
                        )
                    })
                    .collect();
                installed_base::prepare(&mut tx, &after, &starts, now).await?;
                let reason = format!("decomposed into {} tasks", after.tasks.len());
                persist(
                    &mut tx,
                    ctx,
                    &before,
                    &mut after,
                    &changes,
                    Why::new("oms.order.decomposed", reason),
                    now,
                )
                .await?;
                tx.commit().await?;
                Ok(StepOutcome::Done(
                    after.plan_hash.clone().unwrap_or_default(),
                ))
            }
            Err(error) => {
                let failure = Failure {
                    code: error.code().to_owned(),
                    reason: error.to_string(),
                    retryable: false,
                };
                let changes = after.fail_decomposition(failure.clone())?;
                persist(
                    &mut tx,
                    ctx,
                    &before,
                    &mut after,
                    &changes,
                    Why::new("oms.order.decomposition-failed", failure.reason.clone()),
                    now,
                )
                .await?;
                fallout::record(
                    &mut tx,
                    ctx,
                    &NewFallout {
                        order: id,
                        item: None,
                        task: None,
                        category: FalloutCategory::Decomposition,
                        failure_code: failure.code.clone(),
                        message: failure.reason.clone(),
                        retryable: false,
                    },
                )
                .await?;
                tx.commit().await?;
                Ok(StepOutcome::Refused(failure))
            }
        }
    }

    /// AdvanceFulfilment · DECOMPOSED → IN_PROGRESS on the first call · records the last
    /// batch's successes (idempotent per task; the integration events may have recorded them
    /// first), applies the completed items to the installed base, dispatches every task whose
    /// dependencies all SUCCEEDED and answers the dispatched, unsettled tasks with their
    /// requests (a redelivered job gets the same batch) · halted when the order fell out.
    pub async fn advance(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        results: &[TaskResult],
    ) -> Result<Advance, AppError> {
        let mut tx = begin_for_tenant(&self.db, &ctx.tenant_id).await?;
        let before = locked(&mut tx, id).await?;
        let mut after = before.clone();
        let mut changes = Vec::new();
        for result in results {
            let Some(call) = &result.call else { continue };
            if call.outcome != "SUCCEEDED" || after.task(result.task_id).is_none() {
                continue;
            }
            changes.extend(after.record_task_success(
                result.task_id,
                call.external_reference.clone(),
                call.external_state.clone(),
            )?);
        }
        let (dispatched, more) = after.dispatch_ready()?;
        changes.extend(more);
        let now = Utc::now();
        installed_base::complete_items(&mut tx, &after, &events::completed_items(&changes), now)
            .await?;
        // Nothing to run, nothing settled, nobody asked to wait: a plan that cannot finish.
        let stalled = dispatched.is_empty()
            && !after.plan_settled()
            && after.status == OrderStatus::InProgress
            && !after.awaits_manual_undo();
        if stalled {
            let failure = Failure {
                code: "PLAN_STALLED".into(),
                reason: "no task can run and the plan is not finished".into(),
                retryable: true,
            };
            changes.extend(after.enter_fallout(failure.clone())?);
            fallout::record(
                &mut tx,
                ctx,
                &NewFallout {
                    order: id,
                    item: None,
                    task: None,
                    category: FalloutCategory::Workflow,
                    failure_code: failure.code,
                    message: failure.reason,
                    retryable: true,
                },
            )
            .await?;
        }
        let reason = format!(
            "{} tasks recorded, {} running",
            results.len(),
            dispatched.len()
        );
        persist(
            &mut tx,
            ctx,
            &before,
            &mut after,
            &changes,
            Why::new("oms.order.fulfilment-advanced", reason),
            now,
        )
        .await?;
        // What each item's requests need, read once per item (a batch holds several tasks of
        // one item): the references its effects left, and the subscription a charge names.
        let mut per_item: HashMap<OrderItemId, (Map<String, Value>, Option<Subscription>)> =
            HashMap::new();
        let mut ready = Vec::with_capacity(dispatched.len());
        for task_id in &dispatched {
            let Some(task) = after.task(*task_id) else {
                continue;
            };
            let Some(item) = after.item(task.item) else {
                continue;
            };
            if let Entry::Vacant(slot) = per_item.entry(item.id) {
                let instance = match item.product_instance {
                    Some(instance) if item.action != crate::domain::ItemAction::Add => {
                        assets::load(&mut tx, instance, false)
                            .await?
                            .map(|(_, refs)| refs)
                    }
                    _ => None,
                };
                let refs = requests::references_of(&after, item, instance.as_ref());
                let bills = after
                    .tasks
                    .iter()
                    .any(|t| t.item == item.id && t.operation == FulfilmentOperation::BillingStart);
                let subscription = if bills {
                    installed_base::subscription_of_item(&mut tx, &after, item.id).await?
                } else {
                    None
                };
                slot.insert((refs, subscription));
            }
            let (refs, subscription) = &per_item[&item.id];
            ready.push(ReadyTask {
                task_id: task.id.to_string(),
                order_item_id: item.id.to_string(),
                task_type: task.task_type.clone(),
                job_type: task.operation.job_type(),
                retries: EXTERNAL_JOB_RETRIES,
                request: requests::request_for(&after, item, task, refs, subscription.as_ref()),
            });
        }
        tx.commit().await?;
        let running = matches!(
            after.status,
            OrderStatus::InProgress
                | OrderStatus::PartiallyCompleted
                | OrderStatus::Completed
                | OrderStatus::CancellationPending
        );
        let settled = after.plan_settled();
        // An order in fallout runs on only to undo what a cancellation withdrew.
        let running = running || (after.status == OrderStatus::Fallout && !ready.is_empty());
        // A cancellation or a partial one waiting for an operator (an undo by hand, a failed
        // compensation) ends this run; the operator's action starts the next.
        let halted = !running || (ready.is_empty() && !settled);
        Ok(Advance {
            plan_settled: !halted && settled,
            halted,
            ready_tasks: if halted { Vec::new() } else { ready },
        })
    }

    /// CompleteOrder · IN_PROGRESS → COMPLETED when every mandatory item succeeded; the order's
    /// subscriptions become ACTIVE; or CANCELLATION_PENDING → CANCELLED once the cancellation is
    /// settled · idempotent when COMPLETED or CANCELLED.
    pub async fn complete(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<StepOutcome<()>, AppError> {
        let mut tx = begin_for_tenant(&self.db, &ctx.tenant_id).await?;
        let before = locked(&mut tx, id).await?;
        if let Some(failure) = refused_by(&before) {
            return Ok(StepOutcome::Refused(failure));
        }
        let mut after = before.clone();
        let changes = after.complete()?;
        let now = Utc::now();
        if !changes.is_empty() && after.status == OrderStatus::Completed {
            installed_base::activate_subscriptions(&mut tx, &after, now).await?;
        }
        persist(
            &mut tx,
            ctx,
            &before,
            &mut after,
            &changes,
            Why::new("oms.order.completed", "every item is fulfilled"),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(StepOutcome::Done(()))
    }

    /// MirrorIncident · a step's job is about to become an engine incident: one open WORKFLOW
    /// fallout `INCIDENT_<STEP>` per order and step (retryable: a retry starts a new run that
    /// supersedes the stuck instance). The order's status does not move.
    pub async fn mirror_incident(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        job_type: &str,
        message: &str,
    ) -> Result<(), AppError> {
        let mut tx = begin_for_tenant(&self.db, &ctx.tenant_id).await?;
        if orders::load(&mut tx, id, true).await?.is_none() {
            return Ok(());
        }
        let step = job_type
            .trim_start_matches("order.")
            .replace(['.', '-'], "_")
            .to_ascii_uppercase();
        fallout::record(
            &mut tx,
            ctx,
            &NewFallout {
                order: id,
                item: None,
                task: None,
                category: FalloutCategory::Workflow,
                failure_code: format!("{INCIDENT_PREFIX}{step}"),
                message: format!("{job_type} has no retries left (an engine incident): {message}"),
                retryable: true,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// RecordFallout · a caught BPMN error: a refused task moves task FAILED_NON_RETRYABLE,
    /// item FAILED, order FALLOUT; another step's error moves the order to FALLOUT (or FAILED
    /// from ACKNOWLEDGED) · one open fallout record per code and task · idempotent.
    pub async fn record_fallout(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        report: &FalloutReport,
    ) -> Result<(), AppError> {
        let mut tx = begin_for_tenant(&self.db, &ctx.tenant_id).await?;
        let before = locked(&mut tx, id).await?;
        let mut after = before.clone();
        let failure = Failure {
            code: report.code.clone(),
            reason: report.reason.clone(),
            retryable: false,
        };
        let task = report.task.filter(|t| before.task(*t).is_some());
        // A cancelled order, or one whose cancellation owns it, records no fallout of its own.
        let cancelled = before.status == OrderStatus::Cancelled
            || (task.is_none() && before.status == OrderStatus::CancellationPending);
        let changes = match (task, before.status) {
            _ if cancelled => Vec::new(),
            (Some(task), _) => after.record_task_rejection(task, failure.clone())?,
            (None, OrderStatus::Acknowledged) => after.fail_validation(failure.clone())?,
            (None, OrderStatus::Fallout | OrderStatus::Failed) => Vec::new(),
            (None, _) => after.enter_fallout(failure.clone())?,
        };
        let compensation = task.is_some_and(|t| aftermath::is_compensation(&after, t));
        let stopped = !compensation
            && task
                .and_then(|t| after.task(t))
                .and_then(|t| after.item(t.item))
                .is_some_and(|i| i.status.is_being_cancelled() || i.status.is_withdrawn());
        let category = match (task.is_some(), report.step.as_str()) {
            (true, _) if compensation => FalloutCategory::Compensation,
            (true, _) => FalloutCategory::ExternalRejection,
            (false, "VALIDATE") => FalloutCategory::Validation,
            (false, "DECOMPOSE") => FalloutCategory::Decomposition,
            _ => FalloutCategory::Workflow,
        };
        let now = Utc::now();
        persist(
            &mut tx,
            ctx,
            &before,
            &mut after,
            &changes,
            Why::new("oms.order.entered-fallout", failure.reason.clone()),
            now,
        )
        .await?;
        if !stopped && !cancelled {
            fallout::record(
                &mut tx,
                ctx,
                &NewFallout {
                    order: id,
                    item: task.and_then(|t| after.task(t)).map(|t| t.item),
                    task,
                    category,
                    failure_code: failure.code,
                    message: failure.reason,
                    retryable: false,
                },
            )
            .await?;
        }
        // The error ended this run; an order that can still go on (a cancellation whose
        // stopped step was refused, a partial cancellation) gets the next one.
        if matches!(
            after.status,
            OrderStatus::InProgress
                | OrderStatus::PartiallyCompleted
                | OrderStatus::CancellationPending
        ) && !after.plan_settled()
            && !after.awaits_manual_undo()
            && !compensation
        {
            plan_history::request_run(&mut tx, &mut after).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
