//! Cancellation by progress (state-machines.md, "Cancellation" and "Compensation").
//!
//! One pure assessment decides what a cancellation does to every task of its scope; the
//! preview answers it and the command applies it, so the two cannot disagree:
//! - a task not started is stopped (CANCELLED);
//! - a task in flight (or with an unknown outcome) is awaited: its answer decides;
//! - a succeeded, reversible task is compensated by its compensation operation, in reverse
//!   dependency order (a task's compensation waits until every task depending on it is
//!   undone or will never run);
//! - a succeeded irreversible task, and every effect of an item past its point of no return,
//!   goes to manual handling: the item waits in CANCEL_PENDING until an operator records the
//!   undo.
//!
//! A completed order is never cancelled (a DELETE order undoes it). The scope closes over what
//! depends on it: cancelling a parent cancels its add-ons, and an item whose task waits on a
//! cancelled item's task is cancelled too.

use std::collections::BTreeSet;

use domain_kernel::Lifecycle;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::super::{
    FulfilmentOperation, FulfilmentTaskId, ItemCommand, ItemStatus, OrderCommand, OrderItemId,
    OrderStatus, TaskCommand, TaskStatus,
};
use super::{Changes, FulfilmentTask, Order, OrderChange, OrderError, TaskHandling, TaskPurpose};

/// What a cancellation does to one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(
    tag = "action",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum TaskAction {
    /// Not started (or failed without effect): it never runs.
    Stop,
    /// Running, or its outcome is unknown: the answer is awaited, then a success is
    /// compensated (or handed to manual handling) like any other.
    AwaitInFlight,
    /// Its effect is undone by `operation`.
    Compensate {
        /// The undoing operation.
        operation: FulfilmentOperation,
    },
    /// Its effect cannot be undone by the platform: irreversible, or its item is past the
    /// point of no return.
    ManualHandling {
        /// Why.
        reason: ManualReason,
    },
    /// Nothing to do: already cancelled, undone, or it left no effect.
    Nothing,
}

/// Why an effect goes to manual handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ManualReason {
    /// The profile declares no compensation for it.
    Irreversible,
    /// A task of its item past the point of no return has succeeded.
    PastPointOfNoReturn,
    /// Its compensation already failed (its fallout is the operators').
    CompensationFailed,
}

/// The assessment of one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskImpact {
    /// The task.
    pub task_id: FulfilmentTaskId,
    /// Its item.
    pub order_item_id: OrderItemId,
    /// Its plan name.
    pub task_type: String,
    /// Its status when assessed.
    pub status: TaskStatus,
    /// What happens to it.
    #[serde(flatten)]
    pub action: TaskAction,
}

/// Where an item ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemOutcome {
    /// Nothing of it was applied: CANCELLED.
    Cancelled,
    /// Its effects are undone: COMPENSATED (after the awaited tasks answer).
    Compensated,
    /// An operator has to undo part of it; it waits in CANCEL_PENDING until then.
    ManualHandling,
    /// Already withdrawn or skipped: nothing changes.
    AlreadySettled,
}

/// The assessment of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemImpact {
    /// The item.
    pub order_item_id: OrderItemId,
    /// Its line.
    pub line: u32,
    /// Its status when assessed.
    pub status: ItemStatus,
    /// Whether the caller named it (false: it came in because it depends on a named one).
    pub requested: bool,
    /// Where it ends up.
    pub outcome: ItemOutcome,
}

/// What a cancellation does: per item and per task. The preview returns it; the command
/// applies exactly it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationImpact {
    /// Every item is in scope: the order itself is cancelled.
    pub whole_order: bool,
    /// The order's status when assessed.
    pub order_status: OrderStatus,
    /// The items in scope, by line.
    pub items: Vec<ItemImpact>,
    /// Their tasks, by plan position.
    pub tasks: Vec<TaskImpact>,
}

impl CancellationImpact {
    /// The action for `task`.
    pub fn action_of(&self, task: FulfilmentTaskId) -> Option<TaskAction> {
        self.tasks
            .iter()
            .find(|t| t.task_id == task)
            .map(|t| t.action)
    }
}

/// The compensation task id of `original`: derived, so a redelivered command plans the same
/// task and a preview can name it.
pub fn derived_task_id(original: FulfilmentTaskId, tag: &str) -> FulfilmentTaskId {
    let digest = Sha256::digest(format!("{original}|{tag}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // RFC 9562 version 8 (custom) with the RFC variant.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    FulfilmentTaskId::from_uuid(uuid::Uuid::from_bytes(bytes))
}

impl Order {
    /// Assesses a cancellation of `scope` (None: the whole order) without changing anything.
    /// Refused: a COMPLETED or CLOSED order (`ORDER_ALREADY_COMPLETED`: place a DELETE order),
    /// a CANCELLED or FAILED one (`ORDER_NOT_CANCELLABLE`), one whose cancellation is running
    /// (`CANCELLATION_IN_PROGRESS`), an item not in the order (`ITEM_NOT_IN_ORDER`), a scope with
    /// nothing left to cancel (`NOTHING_TO_CANCEL`).
    pub fn assess_cancellation(
        &self,
        scope: Option<&[OrderItemId]>,
    ) -> Result<CancellationImpact, OrderError> {
        match self.status {
            OrderStatus::Completed | OrderStatus::Closed => {
                return Err(OrderError::AlreadyCompleted);
            }
            OrderStatus::Cancelled | OrderStatus::Failed | OrderStatus::Draft => {
                return Err(OrderError::NotCancellable(self.status));
            }
            OrderStatus::CancellationPending => return Err(OrderError::CancellationInProgress),
            _ => {}
        }
        let requested: BTreeSet<OrderItemId> = match scope {
            None => self.items.iter().map(|i| i.id).collect(),
            Some(ids) => {
                for id in ids {
                    if self.item(*id).is_none() {
                        return Err(OrderError::ItemNotInOrder { item: *id });
                    }
                }
                ids.iter().copied().collect()
            }
        };
        if let Some(item) = self
            .items
            .iter()
            .find(|i| requested.contains(&i.id) && i.status.is_being_cancelled())
        {
            return Err(OrderError::ItemCancellationInProgress { item: item.id });
        }
        let scope = self.close_scope(&requested);
        let live: Vec<_> = self
            .items
            .iter()
            .filter(|i| scope.contains(&i.id) && !Self::item_settled_for_cancellation(i.status))
            .collect();
        if live.is_empty() {
            return Err(OrderError::NothingToCancel);
        }
        let whole_order = self
            .items
            .iter()
            .all(|i| scope.contains(&i.id) || Self::item_settled_for_cancellation(i.status));
        let mut tasks = Vec::new();
        let mut items = Vec::new();
        for item in self.items.iter().filter(|i| scope.contains(&i.id)) {
            let mut item_tasks: Vec<&FulfilmentTask> = self
                .tasks
                .iter()
                .filter(|t| {
                    t.item == item.id && !matches!(t.purpose, TaskPurpose::Compensate { .. })
                })
                .collect();
            item_tasks.sort_by_key(|t| t.sequence);
            let settled = Self::item_settled_for_cancellation(item.status);
            let past_ponr = self.item_past_point_of_no_return(item.id);
            let mut outcome = ItemOutcome::Cancelled;
            for task in item_tasks {
                let undo_failed = self
                    .compensation_of(task.id)
                    .is_some_and(|c| self.undo_blocked(c.id));
                let action = if settled {
                    TaskAction::Nothing
                } else if task.status == TaskStatus::Compensating && undo_failed {
                    TaskAction::ManualHandling {
                        reason: ManualReason::CompensationFailed,
                    }
                } else {
                    Self::task_action(task, past_ponr)
                };
                outcome = match (outcome, action) {
                    (_, TaskAction::ManualHandling { .. }) | (ItemOutcome::ManualHandling, _) => {
                        ItemOutcome::ManualHandling
                    }
                    (_, TaskAction::Compensate { .. }) => ItemOutcome::Compensated,
                    // Undone before (an amendment's undo): the item ends compensated.
                    (_, TaskAction::Nothing) if task.status == TaskStatus::Compensated => {
                        ItemOutcome::Compensated
                    }
                    (current, _) => current,
                };
                tasks.push(TaskImpact {
                    task_id: task.id,
                    order_item_id: item.id,
                    task_type: task.task_type.clone(),
                    status: task.status,
                    action,
                });
            }
            if settled {
                outcome = ItemOutcome::AlreadySettled;
            }
            items.push(ItemImpact {
                order_item_id: item.id,
                line: item.line,
                status: item.status,
                requested: requested.contains(&item.id),
                outcome,
            });
        }
        tasks.sort_by_key(|t| self.task(t.task_id).map(|t| t.sequence));
        Ok(CancellationImpact {
            whole_order,
            order_status: self.status,
            items,
            tasks,
        })
    }

    /// CancelProductOrder · any state before COMPLETED except FAILED/CANCELLED · the assessed
    /// scope's items → CANCEL_PENDING, their unstarted tasks → CANCELLED, compensations planned
    /// as soon as their turn comes, effects that cannot be undone marked for manual handling;
    /// the whole order → CANCELLATION_PENDING (and CANCELLED at once when nothing was
    /// applied). A partial cancellation of a FALLOUT order whose only failures are in scope
    /// resumes the rest. Returns the assessment it applied.
    pub fn request_cancellation(
        &mut self,
        scope: Option<&[OrderItemId]>,
    ) -> Result<(CancellationImpact, Vec<OrderChange>), OrderError> {
        let impact = self.assess_cancellation(scope)?;
        let (_, changes) = self.transact(|order, changes: &mut Changes| {
            if impact.whole_order {
                order.move_order(OrderCommand::RequestCancellation, changes)?;
            }
            for item in &impact.items {
                if item.outcome == ItemOutcome::AlreadySettled {
                    continue;
                }
                if let Some(index) = order.item_index(item.order_item_id) {
                    order.move_item(index, ItemCommand::RequestCancel, changes)?;
                }
            }
            for task in &impact.tasks {
                if task.action == TaskAction::Stop {
                    let index = order.task_index(task.task_id)?;
                    order.move_task(index, TaskCommand::Cancel, changes)?;
                }
            }
            order.progress_cancellation(changes)?;
            if !impact.whole_order && order.status == OrderStatus::Fallout {
                order.resume_if_nothing_failed(changes)?;
            }
            Ok(())
        })?;
        Ok((impact, changes))
    }

    /// Moves every cancellation forward: stops what can no longer run, plans the compensations
    /// whose turn has come, marks effects for manual handling, settles items whose work is
    /// done (CANCELLED, or COMPENSATED when something was undone) and, for a whole-order
    /// cancellation, confirms it once every item is settled. Idempotent.
    pub(super) fn progress_cancellation(
        &mut self,
        changes: &mut Changes,
    ) -> Result<(), OrderError> {
        let cancelling: Vec<OrderItemId> = self
            .items
            .iter()
            .filter(|i| i.status.is_being_cancelled())
            .map(|i| i.id)
            .collect();
        if cancelling.is_empty() {
            return self.confirm_cancellation_if_settled(changes);
        }
        let mut added = false;
        let mut order_of_work: Vec<usize> = (0..self.tasks.len())
            .filter(|i| cancelling.contains(&self.tasks[*i].item))
            .filter(|i| !matches!(self.tasks[*i].purpose, TaskPurpose::Compensate { .. }))
            .collect();
        // Dependents first: reverse plan order.
        order_of_work.sort_by_key(|i| std::cmp::Reverse(self.tasks[*i].sequence));
        for index in order_of_work {
            let task = &self.tasks[index];
            match task.status {
                TaskStatus::Created
                | TaskStatus::WaitingDependency
                | TaskStatus::Ready
                | TaskStatus::FailedRetryable
                | TaskStatus::FailedNonRetryable => {
                    self.move_task(index, TaskCommand::Cancel, changes)?;
                }
                TaskStatus::Succeeded
                    if task.handling.left_an_effect()
                        && task.handling != TaskHandling::ManualUndoRequired
                        && self.compensation_of(task.id).is_none() =>
                {
                    let past_ponr = self.item_past_point_of_no_return(task.item);
                    match Self::task_action(task, past_ponr) {
                        TaskAction::ManualHandling { .. } => {
                            self.tasks[index].handling = TaskHandling::ManualUndoRequired;
                            self.tasks[index].version += 1;
                        }
                        TaskAction::Compensate { operation }
                            if self.dependents_released(task.id) =>
                        {
                            if !added {
                                self.plan_revision += 1;
                                added = true;
                            }
                            self.plan_compensation(index, operation, changes)?;
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        for item in cancelling {
            self.settle_cancelled_item(item, changes)?;
        }
        self.confirm_cancellation_if_settled(changes)
    }

    /// Whether a whole-order cancellation may be confirmed: every item withdrawn or skipped.
    pub fn cancellation_settled(&self) -> bool {
        self.status == OrderStatus::CancellationPending
            && self
                .items
                .iter()
                .all(|i| Self::item_settled_for_cancellation(i.status))
            && self.tasks.iter().all(|t| t.status.is_settled())
    }

    /// Whether some effect waits for an operator's manual undo.
    pub fn awaits_manual_undo(&self) -> bool {
        self.tasks
            .iter()
            .any(|t| t.handling == TaskHandling::ManualUndoRequired)
    }

    fn confirm_cancellation_if_settled(&mut self, changes: &mut Changes) -> Result<(), OrderError> {
        if self.cancellation_settled() {
            self.move_order(OrderCommand::ConfirmCancellation, changes)?;
        }
        Ok(())
    }

    fn settle_cancelled_item(
        &mut self,
        item: OrderItemId,
        changes: &mut Changes,
    ) -> Result<(), OrderError> {
        let Some(index) = self.item_index(item) else {
            return Ok(());
        };
        let tasks: Vec<&FulfilmentTask> = self.tasks.iter().filter(|t| t.item == item).collect();
        let done = tasks.iter().all(|t| {
            t.handling != TaskHandling::ManualUndoRequired
                && (matches!(
                    t.status,
                    TaskStatus::Cancelled
                        | TaskStatus::Compensated
                        | TaskStatus::FailedNonRetryable
                ) || (t.status == TaskStatus::Succeeded
                    && (matches!(t.purpose, TaskPurpose::Compensate { .. })
                        || !t.handling.left_an_effect())))
        });
        if !done {
            return Ok(());
        }
        let undone = tasks.iter().any(|t| t.status == TaskStatus::Compensated);
        match (self.items[index].status, undone) {
            (ItemStatus::CancelPending, false) => {
                self.move_item(index, ItemCommand::ConfirmCancel, changes)?;
            }
            (ItemStatus::CancelPending, true) => {
                self.move_item(index, ItemCommand::StartCompensation, changes)?;
                self.move_item(index, ItemCommand::FinishCompensation, changes)?;
            }
            (ItemStatus::Compensating, _) => {
                self.move_item(index, ItemCommand::FinishCompensation, changes)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Plans the compensation of the succeeded task at `index`: a new task (READY, its
    /// dependencies, the compensations of its dependents, already succeeded), the original
    /// → COMPENSATING, its item → COMPENSATING.
    pub(super) fn plan_compensation(
        &mut self,
        index: usize,
        operation: FulfilmentOperation,
        changes: &mut Changes,
    ) -> Result<(), OrderError> {
        let original = self.tasks[index].clone();
        let depends_on: Vec<FulfilmentTaskId> = self
            .dependents_of(original.id)
            .filter_map(|t| self.compensation_of(t.id).map(|c| c.id))
            .collect();
        let id = derived_task_id(original.id, "compensate");
        let status = TaskStatus::Created.apply(TaskCommand::MarkReady)?;
        changes.push(OrderChange::Task {
            task: id,
            item: original.item,
            from: None,
            to: status,
        });
        let mut task_type = format!("UNDO_{}", original.task_type);
        task_type.truncate(64);
        self.tasks.push(FulfilmentTask {
            id,
            item: original.item,
            task_type,
            operation,
            depends_on,
            reversible: false,
            compensation: None,
            point_of_no_return: false,
            sequence: self.next_sequence(),
            purpose: TaskPurpose::Compensate { of: original.id },
            revision: self.plan_revision,
            handling: TaskHandling::Automatic,
            status,
            version: 1,
            attempts: 0,
            external_reference: None,
            external_state: None,
            failure: None,
        });
        self.move_task(index, TaskCommand::StartCompensation, changes)?;
        if let Some(item) = self.item_index(original.item)
            && self.items[item].status == ItemStatus::CancelPending
        {
            self.move_item(item, ItemCommand::StartCompensation, changes)?;
        }
        Ok(())
    }

    /// Whether every task depending on `task` is undone, stopped, failed or left to an
    /// operator: only then may `task`'s effect be undone.
    fn dependents_released(&self, task: FulfilmentTaskId) -> bool {
        self.dependents_of(task).all(|t| {
            matches!(
                t.status,
                TaskStatus::Cancelled
                    | TaskStatus::Compensated
                    | TaskStatus::FailedNonRetryable
                    | TaskStatus::FailedRetryable
            ) || t.handling == TaskHandling::ManualUndoRequired
                || (t.status == TaskStatus::Succeeded && !t.handling.left_an_effect())
        })
    }

    fn task_action(task: &FulfilmentTask, item_past_ponr: bool) -> TaskAction {
        match task.status {
            TaskStatus::Created
            | TaskStatus::WaitingDependency
            | TaskStatus::Ready
            | TaskStatus::FailedRetryable
            | TaskStatus::FailedNonRetryable => TaskAction::Stop,
            TaskStatus::Dispatched | TaskStatus::InProgress | TaskStatus::TimedOut => {
                TaskAction::AwaitInFlight
            }
            TaskStatus::Succeeded if !task.handling.left_an_effect() => TaskAction::Nothing,
            TaskStatus::Succeeded if item_past_ponr => TaskAction::ManualHandling {
                reason: ManualReason::PastPointOfNoReturn,
            },
            TaskStatus::Succeeded => match (task.reversible, task.compensation) {
                (true, Some(operation)) => TaskAction::Compensate { operation },
                _ => TaskAction::ManualHandling {
                    reason: ManualReason::Irreversible,
                },
            },
            // Already being undone (an amendment's undo): it finishes as part of this.
            TaskStatus::Compensating => match task.compensation {
                Some(operation) => TaskAction::Compensate { operation },
                None => TaskAction::Nothing,
            },
            TaskStatus::Cancelled | TaskStatus::Compensated => TaskAction::Nothing,
        }
    }

    /// Whether the compensation `undo`, or one it waits for, has failed: it will not run
    /// without an operator.
    fn undo_blocked(&self, undo: FulfilmentTaskId) -> bool {
        let mut pending = vec![undo];
        let mut seen = BTreeSet::new();
        while let Some(id) = pending.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Some(task) = self.task(id) else { continue };
            if matches!(
                task.status,
                TaskStatus::FailedRetryable | TaskStatus::FailedNonRetryable
            ) {
                return true;
            }
            if !task.status.is_settled() {
                pending.extend(task.depends_on.iter().copied());
            }
        }
        false
    }

    /// Whether a task of `item` marked as the point of no return has applied its effect.
    pub fn item_past_point_of_no_return(&self, item: OrderItemId) -> bool {
        self.tasks.iter().any(|t| {
            t.item == item
                && t.point_of_no_return
                && t.status == TaskStatus::Succeeded
                && t.handling.left_an_effect()
        })
    }

    fn item_settled_for_cancellation(status: ItemStatus) -> bool {
        matches!(
            status,
            ItemStatus::Cancelled | ItemStatus::Compensated | ItemStatus::Skipped
        )
    }

    /// The requested items plus everything that depends on them: add-ons of a cancelled
    /// parent, items whose tasks wait on a cancelled item's task.
    fn close_scope(&self, requested: &BTreeSet<OrderItemId>) -> BTreeSet<OrderItemId> {
        let mut scope = requested.clone();
        loop {
            let before = scope.len();
            for item in &self.items {
                if scope.contains(&item.id) {
                    continue;
                }
                let child = item.parent.is_some_and(|p| scope.contains(&p));
                let waits = self.tasks.iter().any(|t| {
                    t.item == item.id
                        && t.depends_on
                            .iter()
                            .any(|d| self.task(*d).is_some_and(|d| scope.contains(&d.item)))
                });
                if child || waits {
                    scope.insert(item.id);
                }
            }
            if scope.len() == before {
                return scope;
            }
        }
    }
}
