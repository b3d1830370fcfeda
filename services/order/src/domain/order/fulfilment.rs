//! Fulfilment: decomposition into tasks, dispatch, the tasks' outcomes, completion and fallout.
//!
//! Dispatch and outcomes are written for at-least-once delivery: a redelivered dispatch gets
//! the same batch, a duplicate outcome is an idempotent success, an outcome for a task that was
//! never dispatched is refused by the task table, and nothing is dispatched before every
//! dependency SUCCEEDED.

use std::collections::{HashMap, HashSet};

use super::super::{
    FulfilmentTaskId, ItemAction, ItemCommand, ItemStatus, OrderCommand, OrderStatus, Plan,
    TaskCommand, TaskStatus,
};
use super::{
    Changes, Failure, FulfilmentTask, Order, OrderChange, OrderError, TaskHandling, TaskPurpose,
};
use domain_kernel::Lifecycle;

impl Order {
    /// VALIDATED → DECOMPOSED with the plan's tasks (created READY when they depend on
    /// nothing, else WAITING_DEPENDENCY); items READY, or BLOCKED when one of their tasks
    /// depends on another item's task; NO_CHANGE items SKIPPED; `plan_hash` set.
    /// Idempotent: already decomposed with the same plan hash ⇒ `Ok(vec![])`; a different hash
    /// ⇒ `PLAN_CHANGED` (the plan never changes silently). A plan naming items or dependencies
    /// the order does not have, or out of topological order, is `PLAN_INVALID`.
    pub fn decompose(&mut self, plan: Plan) -> Result<Vec<OrderChange>, OrderError> {
        let proposed = plan.hash();
        if self.status != OrderStatus::Validated
            && let Some(current) = &self.plan_hash
        {
            if *current == proposed {
                return Ok(Vec::new());
            }
            return Err(OrderError::PlanChanged {
                current: current.clone(),
                proposed,
            });
        }
        self.check_plan(&plan)?;
        self.transact(|order, changes: &mut Changes| {
            order.move_order(OrderCommand::Decompose, changes)?;
            let item_of: HashMap<FulfilmentTaskId, _> =
                plan.tasks.iter().map(|t| (t.id, t.item)).collect();
            for planned in plan.tasks {
                let command = if planned.depends_on.is_empty() {
                    TaskCommand::MarkReady
                } else {
                    TaskCommand::AwaitDependencies
                };
                let status = TaskStatus::Created.apply(command)?;
                changes.push(OrderChange::Task {
                    task: planned.id,
                    item: planned.item,
                    from: None,
                    to: status,
                });
                order.tasks.push(FulfilmentTask {
                    id: planned.id,
                    item: planned.item,
                    task_type: planned.task_type,
                    operation: planned.operation,
                    depends_on: planned.depends_on,
                    reversible: planned.reversible,
                    compensation: planned.compensation,
                    point_of_no_return: planned.point_of_no_return,
                    sequence: planned.sequence,
                    purpose: TaskPurpose::Fulfil,
                    revision: 1,
                    handling: TaskHandling::Automatic,
                    status,
                    version: 1,
                    attempts: 0,
                    external_reference: None,
                    external_state: None,
                    failure: None,
                });
            }
            for index in 0..order.items.len() {
                let id = order.items[index].id;
                let command = if order.items[index].action == ItemAction::NoChange {
                    ItemCommand::Skip
                } else if order.tasks.iter().any(|t| {
                    t.item == id && t.depends_on.iter().any(|d| item_of.get(d) != Some(&id))
                }) {
                    ItemCommand::Block
                } else {
                    ItemCommand::MarkReady
                };
                order.move_item(index, command, changes)?;
            }
            order.plan_hash = Some(proposed);
            order.plan_revision = 1;
            Ok(())
        })
        .map(|((), changes)| changes)
    }

    /// VALIDATED → FALLOUT (decomposition failed), the failure recorded. Idempotent when
    /// already FALLOUT.
    pub fn fail_decomposition(&mut self, failure: Failure) -> Result<Vec<OrderChange>, OrderError> {
        if self.status == OrderStatus::Fallout {
            return Ok(Vec::new());
        }
        if self.status != OrderStatus::Validated {
            // Only a validated order is being decomposed; the table alone would also let an
            // order in progress through.
            return Err(refusal(self.status, OrderCommand::Decompose));
        }
        self.transact(|order, changes: &mut Changes| {
            order.move_order(OrderCommand::EnterFallout, changes)?;
            order.failure = Some(failure);
            Ok(())
        })
        .map(|((), changes)| changes)
    }

    /// DECOMPOSED → IN_PROGRESS, then dispatches: every READY task whose dependencies all
    /// SUCCEEDED → DISPATCHED (its item READY/BLOCKED → IN_PROGRESS; a BLOCKED item passes
    /// through READY, as its table says). Returns the ids of ALL tasks now DISPATCHED or
    /// IN_PROGRESS (re-returning ones dispatched earlier and not settled, so a redelivered job
    /// gets the same batch), in sequence order. On an order already IN_PROGRESS (or
    /// PARTIALLY_COMPLETED) it just dispatches. A cancellation moves first (see
    /// `cancellation`): in CANCELLATION_PENDING, and in FALLOUT while items are being
    /// cancelled, only compensations are dispatched. Never dispatches otherwise in FALLOUT, nor
    /// in HELD or terminal orders (empty, no change); an order not yet decomposed is refused.
    /// An item with no task at all completes here.
    pub fn dispatch_ready(
        &mut self,
    ) -> Result<(Vec<FulfilmentTaskId>, Vec<OrderChange>), OrderError> {
        match self.status {
            OrderStatus::Decomposed
            | OrderStatus::InProgress
            | OrderStatus::PartiallyCompleted
            | OrderStatus::CancellationPending => {}
            // An order in fallout still undoes what a cancellation withdrew: the fallout is
            // about another item.
            OrderStatus::Fallout if self.items.iter().any(|i| i.status.is_being_cancelled()) => {}
            // A held order starts nothing, but a cancellation still stops what will not run
            // and settles what is done.
            OrderStatus::Held => {
                return self
                    .transact(|order, changes: &mut Changes| order.progress_cancellation(changes))
                    .map(|((), changes)| (Vec::new(), changes));
            }
            OrderStatus::Draft | OrderStatus::Acknowledged | OrderStatus::Validated => {
                return Err(refusal(self.status, OrderCommand::StartFulfilment));
            }
            _ => return Ok((Vec::new(), Vec::new())),
        }
        self.transact(|order, changes: &mut Changes| {
            if order.status == OrderStatus::Decomposed {
                order.move_order(OrderCommand::StartFulfilment, changes)?;
            }
            order.progress_cancellation(changes)?;
            let cancelling = matches!(
                order.status,
                OrderStatus::CancellationPending | OrderStatus::Fallout
            );
            for index in 0..order.tasks.len() {
                let task = &order.tasks[index];
                if task.status != TaskStatus::Ready || !order.dependencies_succeeded(task) {
                    continue;
                }
                let Some(item) = order.item_index(task.item) else {
                    continue;
                };
                if matches!(task.purpose, TaskPurpose::Compensate { .. }) {
                    // An undo runs for a cancellation (COMPENSATING) or an amendment (the item
                    // is being redone); never for a withdrawn item.
                    if !order.items[item].status.is_withdrawn() {
                        order.move_task(index, TaskCommand::Dispatch, changes)?;
                        order.tasks[index].attempts += 1;
                    }
                    continue;
                }
                if cancelling {
                    continue;
                }
                match order.items[item].status {
                    ItemStatus::Blocked => {
                        order.move_item(item, ItemCommand::MarkReady, changes)?;
                        order.move_item(item, ItemCommand::Start, changes)?;
                    }
                    ItemStatus::Ready => order.move_item(item, ItemCommand::Start, changes)?,
                    ItemStatus::InProgress => {}
                    // A failed, cancelled or compensating item sends nothing more.
                    _ => continue,
                }
                order.move_task(index, TaskCommand::Dispatch, changes)?;
                order.tasks[index].attempts += 1;
            }
            for index in 0..order.items.len() {
                let id = order.items[index].id;
                let idle = matches!(
                    order.items[index].status,
                    ItemStatus::Ready | ItemStatus::Blocked
                );
                if idle && !order.tasks.iter().any(|t| t.item == id) {
                    if order.items[index].status == ItemStatus::Blocked {
                        order.move_item(index, ItemCommand::MarkReady, changes)?;
                    }
                    order.move_item(index, ItemCommand::Start, changes)?;
                    order.move_item(index, ItemCommand::Complete, changes)?;
                }
            }
            Ok(order
                .tasks
                .iter()
                .filter(|t| t.status.is_in_flight())
                .map(|t| t.id)
                .collect())
        })
    }

    /// A task's external effect is applied. DISPATCHED/IN_PROGRESS/TIMED_OUT/FAILED_RETRYABLE
    /// → SUCCEEDED with reference/state; dependents whose dependencies all SUCCEEDED go
    /// WAITING_DEPENDENCY → READY; an item whose tasks all SUCCEEDED goes → COMPLETED (returned
    /// in the changes; the app applies the installed base). An item FAILED only because of
    /// this task's retryable failure is retried (→ IN_PROGRESS) first. The order's status does
    /// not move: the caller completes it when [`Order::plan_settled`]. Idempotent: already
    /// SUCCEEDED ⇒ `Ok(vec![])`. A task of a CANCELLED item never succeeds (`TASK_CANCELLED`);
    /// a task never dispatched is refused by the table.
    pub fn record_task_success(
        &mut self,
        task: FulfilmentTaskId,
        external_reference: Option<String>,
        external_state: Option<String>,
    ) -> Result<Vec<OrderChange>, OrderError> {
        let index = self.task_index(task)?;
        if self.tasks[index].status == TaskStatus::Succeeded {
            return Ok(Vec::new());
        }
        let item_id = self.tasks[index].item;
        if self
            .item(item_id)
            .is_some_and(|i| i.status == ItemStatus::Cancelled)
        {
            return Err(OrderError::TaskCancelled { task });
        }
        if let Some(dependency) = self.tasks[index]
            .depends_on
            .iter()
            .find(|d| !self.satisfied(**d))
        {
            return Err(OrderError::DependencyNotSucceeded {
                task,
                dependency: *dependency,
            });
        }
        self.transact(|order, changes: &mut Changes| {
            order.move_task(index, TaskCommand::Succeed, changes)?;
            let succeeded = &mut order.tasks[index];
            succeeded.external_reference = external_reference;
            succeeded.external_state = external_state;
            succeeded.failure = None;
            order.after_success(index, changes)
        })
        .map(|((), changes)| changes)
    }

    /// What follows a task's success: dependents whose dependencies all succeeded go READY;
    /// a compensation's original → COMPENSATED; an item FAILED only because of a retryable
    /// failure resumes; an item whose tasks all succeeded → COMPLETED.
    pub(super) fn after_success(
        &mut self,
        index: usize,
        changes: &mut Changes,
    ) -> Result<(), OrderError> {
        let item_id = self.tasks[index].item;
        for dependent in 0..self.tasks.len() {
            // Any waiting task whose dependencies are now met (directly, or through a redo of
            // one of them).
            if self.tasks[dependent].status == TaskStatus::WaitingDependency
                && self.dependencies_succeeded(&self.tasks[dependent])
            {
                self.move_task(dependent, TaskCommand::MarkReady, changes)?;
            }
        }
        if let TaskPurpose::Compensate { of } = self.tasks[index].purpose {
            let original = self.task_index(of)?;
            if self.tasks[original].status == TaskStatus::Compensating {
                self.move_task(original, TaskCommand::FinishCompensation, changes)?;
            }
            return Ok(());
        }
        let Some(item) = self.item_index(item_id) else {
            return Ok(());
        };
        let item_tasks: Vec<&FulfilmentTask> =
            self.tasks.iter().filter(|t| t.item == item_id).collect();
        let retryable = self.items[item]
            .failure
            .as_ref()
            .is_some_and(|f| f.retryable);
        let failing = item_tasks.iter().any(|t| {
            matches!(
                t.status,
                TaskStatus::FailedRetryable | TaskStatus::FailedNonRetryable
            )
        });
        let all_done = item_tasks.iter().all(|t| {
            t.status == TaskStatus::Succeeded
                || (matches!(t.status, TaskStatus::Cancelled | TaskStatus::Compensated)
                    && self.replacement_of(t.id).is_some())
        });
        if self.items[item].status == ItemStatus::Failed && retryable && !failing {
            self.move_item(item, ItemCommand::Retry, changes)?;
            self.items[item].failure = None;
        }
        if self.items[item].status == ItemStatus::InProgress && all_done {
            self.move_item(item, ItemCommand::Complete, changes)?;
        }
        // A late success (an incident resolved in the engine, a reconciliation) may leave
        // nothing failed: the order goes on.
        self.resume_if_nothing_failed(changes)
    }

    /// A business refusal (non-retryable): task → FAILED_NON_RETRYABLE, item → FAILED, order →
    /// FALLOUT (from IN_PROGRESS or PARTIALLY_COMPLETED, or CANCELLATION_PENDING as its table
    /// allows; a HELD order stays held). The recorded failure is marked not retryable.
    /// Idempotent on the same task.
    pub fn record_task_rejection(
        &mut self,
        task: FulfilmentTaskId,
        failure: Failure,
    ) -> Result<Vec<OrderChange>, OrderError> {
        let failure = Failure {
            retryable: false,
            ..failure
        };
        self.record_task_failure(task, TaskCommand::FailNonRetryable, failure)
    }

    /// Retries spent (technical): task → FAILED_RETRYABLE (failure marked retryable), item →
    /// FAILED, order → FALLOUT. Idempotent.
    pub fn record_task_exhausted(
        &mut self,
        task: FulfilmentTaskId,
        failure: Failure,
    ) -> Result<Vec<OrderChange>, OrderError> {
        let failure = Failure {
            retryable: true,
            ..failure
        };
        self.record_task_failure(task, TaskCommand::FailRetryable, failure)
    }

    fn record_task_failure(
        &mut self,
        task: FulfilmentTaskId,
        command: TaskCommand,
        failure: Failure,
    ) -> Result<Vec<OrderChange>, OrderError> {
        let index = self.task_index(task)?;
        let already = match command {
            TaskCommand::FailRetryable => TaskStatus::FailedRetryable,
            _ => TaskStatus::FailedNonRetryable,
        };
        if self.tasks[index].status == already {
            return Ok(Vec::new());
        }
        self.transact(|order, changes: &mut Changes| {
            order.move_task(index, command, changes)?;
            order.tasks[index].failure = Some(failure.clone());
            let item_id = order.tasks[index].item;
            let cancelling = order
                .item(item_id)
                .is_some_and(|i| i.status.is_being_cancelled());
            if cancelling || matches!(order.tasks[index].purpose, TaskPurpose::Compensate { .. }) {
                // A cancellation owns the item: a failed step is stopped, a failed compensation
                // is the operators' (fallout), and the order stays where the cancellation is.
                return Ok(());
            }
            if let Some(item) = order.item_index(item_id) {
                match order.items[item].status {
                    ItemStatus::Ready | ItemStatus::Blocked | ItemStatus::InProgress => {
                        order.move_item(item, ItemCommand::Fail, changes)?;
                        order.items[item].failure = Some(failure.clone());
                    }
                    // Already failed: a refusal outweighs an exhaustion (it cannot be retried).
                    ItemStatus::Failed if !failure.retryable => {
                        order.items[item].failure = Some(failure.clone());
                        order.items[item].version += 1;
                    }
                    _ => {}
                }
            }
            if order.status.apply(OrderCommand::EnterFallout).is_ok()
                && order.status != OrderStatus::Validated
            {
                order.move_order(OrderCommand::EnterFallout, changes)?;
                order.failure = Some(failure);
            }
            Ok(())
        })
        .map(|((), changes)| changes)
    }

    /// The outcome is unknown (timeout): task → TIMED_OUT; nothing else moves (reconciliation
    /// decides). Idempotent.
    pub fn record_task_timed_out(
        &mut self,
        task: FulfilmentTaskId,
    ) -> Result<Vec<OrderChange>, OrderError> {
        let index = self.task_index(task)?;
        if self.tasks[index].status == TaskStatus::TimedOut {
            return Ok(Vec::new());
        }
        self.transact(|order, changes: &mut Changes| {
            order.move_task(index, TaskCommand::TimeOut, changes)
        })
        .map(|((), changes)| changes)
    }

    /// IN_PROGRESS/PARTIALLY_COMPLETED → COMPLETED when every mandatory item is
    /// terminal-success (COMPLETED or SKIPPED) or withdrawn by a partial cancellation, and no
    /// task is unsettled; CANCELLATION_PENDING → CANCELLED once the cancellation is settled;
    /// else `ORDER_NOT_COMPLETABLE`. Idempotent when already COMPLETED or CANCELLED.
    pub fn complete(&mut self) -> Result<Vec<OrderChange>, OrderError> {
        if matches!(self.status, OrderStatus::Completed | OrderStatus::Cancelled) {
            return Ok(Vec::new());
        }
        if self.status == OrderStatus::CancellationPending {
            if !self.cancellation_settled() {
                return Err(OrderError::NotCompletable(
                    "the cancellation is not settled".into(),
                ));
            }
            return self
                .transact(|order, changes: &mut Changes| {
                    order.move_order(OrderCommand::ConfirmCancellation, changes)
                })
                .map(|((), changes)| changes);
        }
        // The table first: completing a FALLOUT order is an illegal transition, not a check.
        self.status.apply(OrderCommand::Complete)?;
        if let Some(item) = self
            .items
            .iter()
            .find(|i| i.mandatory && !i.status.is_terminal_success() && !i.status.is_withdrawn())
        {
            return Err(OrderError::NotCompletable(format!(
                "mandatory item {} is {}",
                item.id, item.status
            )));
        }
        if let Some(task) = self.tasks.iter().find(|t| !t.status.is_settled()) {
            return Err(OrderError::NotCompletable(format!(
                "task {} ({}) is {}",
                task.id, task.task_type, task.status
            )));
        }
        self.transact(|order, changes: &mut Changes| {
            order.move_order(OrderCommand::Complete, changes)
        })
        .map(|((), changes)| changes)
    }

    /// Any fallout-able state (VALIDATED, IN_PROGRESS, PARTIALLY_COMPLETED,
    /// CANCELLATION_PENDING) → FALLOUT with a failure (workflow step failures). Idempotent when
    /// already FALLOUT.
    pub fn enter_fallout(&mut self, failure: Failure) -> Result<Vec<OrderChange>, OrderError> {
        if self.status == OrderStatus::Fallout {
            return Ok(Vec::new());
        }
        self.transact(|order, changes: &mut Changes| {
            order.move_order(OrderCommand::EnterFallout, changes)?;
            order.failure = Some(failure);
            Ok(())
        })
        .map(|((), changes)| changes)
    }

    /// FALLOUT → IN_PROGRESS after a repair: FAILED_RETRYABLE tasks → READY (dispatched again
    /// by the next [`Order::dispatch_ready`]), FAILED items → IN_PROGRESS, the failures cleared.
    /// Refused when a failure is not retryable (`FAILURE_NOT_RETRYABLE`: cancel or abandon
    /// instead) or when the fallout came before decomposition (`ORDER_NOT_DECOMPOSED`).
    /// TIMED_OUT tasks stay: only reconciliation settles them. Idempotent when IN_PROGRESS.
    pub fn resume_after_repair(&mut self) -> Result<Vec<OrderChange>, OrderError> {
        if self.status == OrderStatus::InProgress {
            return Ok(Vec::new());
        }
        self.status.apply(OrderCommand::ResumeAfterRepair)?;
        if self.plan_hash.is_none() {
            return Err(OrderError::NotDecomposed);
        }
        let refused: HashSet<_> = self
            .tasks
            .iter()
            .filter(|t| t.status == TaskStatus::FailedNonRetryable)
            .map(|t| t.item)
            .collect();
        if let Some(item) = self.items.iter().find(|i| {
            i.status == ItemStatus::Failed
                && (refused.contains(&i.id) || !i.failure.as_ref().is_some_and(|f| f.retryable))
        }) {
            return Err(OrderError::FailureNotRetryable { item: item.id });
        }
        self.transact(|order, changes: &mut Changes| {
            for index in 0..order.tasks.len() {
                if order.tasks[index].status == TaskStatus::FailedRetryable {
                    order.move_task(index, TaskCommand::Retry, changes)?;
                    order.tasks[index].failure = None;
                }
            }
            for index in 0..order.items.len() {
                if order.items[index].status == ItemStatus::Failed {
                    order.move_item(index, ItemCommand::Retry, changes)?;
                    order.items[index].failure = None;
                }
            }
            order.move_order(OrderCommand::ResumeAfterRepair, changes)?;
            order.failure = None;
            Ok(())
        })
        .map(|((), changes)| changes)
    }

    /// Checks a plan against the order before it is recorded.
    fn check_plan(&self, plan: &Plan) -> Result<(), OrderError> {
        let mut seen = HashSet::new();
        for (position, task) in plan.tasks.iter().enumerate() {
            let Some(item) = self.item(task.item) else {
                return Err(OrderError::InvalidPlan(format!(
                    "task {} is for item {}, which is not in the order",
                    task.id, task.item
                )));
            };
            if item.action == ItemAction::NoChange {
                return Err(OrderError::InvalidPlan(format!(
                    "task {} is for item {}, which is NO_CHANGE",
                    task.id, task.item
                )));
            }
            if usize::try_from(task.sequence).ok() != Some(position) {
                return Err(OrderError::InvalidPlan(format!(
                    "task {} has sequence {} at position {position}",
                    task.id, task.sequence
                )));
            }
            if let Some(dependency) = task.depends_on.iter().find(|d| !seen.contains(*d)) {
                return Err(OrderError::InvalidPlan(format!(
                    "task {} depends on {dependency}, which does not come before it",
                    task.id
                )));
            }
            if !seen.insert(task.id) {
                return Err(OrderError::InvalidPlan(format!(
                    "task {} appears twice",
                    task.id
                )));
            }
        }
        Ok(())
    }
}

/// The table's refusal of `command` in `status`, for commands whose guard is stricter than the
/// table.
fn refusal(status: OrderStatus, command: OrderCommand) -> OrderError {
    domain_kernel::TransitionError {
        from: status,
        command,
    }
    .into()
}
