//! In-flight amendment: new characteristics for some items of a running order, without
//! cancelling and recreating it. Each named item is diffed against what it carries:
//! - unchanged items keep running untouched;
//! - a changed item whose work can still be undone is redone: what did not start is replaced by
//!   a redo with the new values, what succeeded is compensated first and then redone;
//! - a changed item that cannot be redone is refused for that item alone, and the answer says
//!   why: past its point of no return, an irreversible effect, a call in flight, completed,
//!   being cancelled, or other items already building on it.
//!
//! As with cancellation, one pure assessment is both the preview and what the command applies.

use std::collections::BTreeSet;

use domain_kernel::Lifecycle;
use serde::Serialize;
use serde_json::{Map, Value};

use super::super::{
    FulfilmentOperation, FulfilmentTaskId, ItemStatus, OrderItemId, OrderStatus, TaskCommand,
    TaskStatus,
};
use super::cancellation::derived_task_id;
use super::{Changes, FulfilmentTask, Order, OrderChange, OrderError, TaskHandling, TaskPurpose};

/// The characteristics one item should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAmendment {
    /// The item.
    pub item: OrderItemId,
    /// Its characteristics, whole (not a patch).
    pub characteristics: Map<String, Value>,
}

/// Why an item's change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AmendRefusal {
    /// A point-of-no-return task of the item succeeded.
    PastPointOfNoReturn,
    /// A succeeded effect of the item has no compensation.
    IrreversibleEffect,
    /// A call of the item is running: amend after it answered.
    TaskInFlight,
    /// The item completed: a MODIFY order changes what it installed.
    ItemCompleted,
    /// The item is cancelled or being cancelled, or skipped.
    ItemNotAmendable,
    /// Another item's started work builds on this one.
    ItemHasDependents,
}

/// What an amendment does to one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(
    tag = "action",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum AmendTaskAction {
    /// Untouched.
    Keep,
    /// Not started (or failed): replaced by a redo with the new values.
    Redo,
    /// Succeeded: undone by `operation`, then redone with the new values.
    CompensateThenRedo {
        /// The undoing operation.
        operation: FulfilmentOperation,
    },
    /// Its item's change is refused.
    Refused,
}

/// Where an item ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(
    tag = "outcome",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum AmendItemOutcome {
    /// Same characteristics: keeps running.
    Unchanged,
    /// Redone with the new characteristics.
    Redone,
    /// The change is refused for this item.
    Refused {
        /// Why.
        reason: AmendRefusal,
    },
}

/// The assessment of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AmendItemImpact {
    /// The item.
    pub order_item_id: OrderItemId,
    /// Its line.
    pub line: u32,
    /// Where it ends up.
    #[serde(flatten)]
    pub outcome: AmendItemOutcome,
}

/// The assessment of one task of a named item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AmendTaskImpact {
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
    pub action: AmendTaskAction,
}

/// What an amendment does, per item and task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AmendmentImpact {
    /// The order's status when assessed.
    pub order_status: OrderStatus,
    /// The named items, in the order named.
    pub items: Vec<AmendItemImpact>,
    /// The tasks of the named items, by plan position.
    pub tasks: Vec<AmendTaskImpact>,
}

impl AmendmentImpact {
    /// Whether some item is redone.
    pub fn redoes_anything(&self) -> bool {
        self.items
            .iter()
            .any(|i| i.outcome == AmendItemOutcome::Redone)
    }
}

impl Order {
    /// The item's tasks that stand for its work now: not compensations, not replaced by a
    /// redo, by plan position.
    fn live_tasks(&self, item: OrderItemId) -> Vec<&FulfilmentTask> {
        let mut tasks: Vec<&FulfilmentTask> = self
            .tasks
            .iter()
            .filter(|t| {
                t.item == item
                    && !matches!(t.purpose, TaskPurpose::Compensate { .. })
                    && self.replacement_of(t.id).is_none()
            })
            .collect();
        tasks.sort_by_key(|t| t.sequence);
        tasks
    }

    /// Assesses an amendment without changing anything. Refused: a completed order
    /// (`ORDER_ALREADY_COMPLETED`), one cancelled, failed or being cancelled
    /// (`ORDER_NOT_AMENDABLE`), an item not in the order (`ITEM_NOT_IN_ORDER`), an item named
    /// twice or no item (`AMENDMENT_INVALID`).
    pub fn assess_amendment(
        &self,
        desired: &[ItemAmendment],
    ) -> Result<AmendmentImpact, OrderError> {
        match self.status {
            OrderStatus::Completed | OrderStatus::Closed => {
                return Err(OrderError::AlreadyCompleted);
            }
            OrderStatus::Cancelled
            | OrderStatus::CancellationPending
            | OrderStatus::Failed
            | OrderStatus::Draft => return Err(OrderError::NotAmendable(self.status)),
            _ => {}
        }
        if desired.is_empty() {
            return Err(OrderError::InvalidAmendment(
                "name at least one item".into(),
            ));
        }
        let mut named = BTreeSet::new();
        for wanted in desired {
            if self.item(wanted.item).is_none() {
                return Err(OrderError::ItemNotInOrder { item: wanted.item });
            }
            if !named.insert(wanted.item) {
                return Err(OrderError::InvalidAmendment(format!(
                    "item {} is named twice",
                    wanted.item
                )));
            }
        }
        let mut items = Vec::new();
        let mut tasks = Vec::new();
        for wanted in desired {
            let Some(item) = self.item(wanted.item) else {
                continue;
            };
            let live = self.live_tasks(item.id);
            let outcome = if item.characteristics == wanted.characteristics {
                AmendItemOutcome::Unchanged
            } else {
                match self.amend_refusal(item.id, item.status, &live) {
                    Some(reason) => AmendItemOutcome::Refused { reason },
                    None => AmendItemOutcome::Redone,
                }
            };
            for task in live {
                let action = match outcome {
                    AmendItemOutcome::Unchanged => AmendTaskAction::Keep,
                    AmendItemOutcome::Refused { .. } => AmendTaskAction::Refused,
                    AmendItemOutcome::Redone => match (task.status, task.compensation) {
                        (TaskStatus::Succeeded, Some(operation))
                            if task.handling.left_an_effect() =>
                        {
                            AmendTaskAction::CompensateThenRedo { operation }
                        }
                        _ => AmendTaskAction::Redo,
                    },
                };
                tasks.push(AmendTaskImpact {
                    task_id: task.id,
                    order_item_id: item.id,
                    task_type: task.task_type.clone(),
                    status: task.status,
                    action,
                });
            }
            items.push(AmendItemImpact {
                order_item_id: item.id,
                line: item.line,
                outcome,
            });
        }
        tasks.sort_by_key(|t| self.task(t.task_id).map(|t| t.sequence));
        Ok(AmendmentImpact {
            order_status: self.status,
            items,
            tasks,
        })
    }

    fn amend_refusal(
        &self,
        item: OrderItemId,
        status: ItemStatus,
        live: &[&FulfilmentTask],
    ) -> Option<AmendRefusal> {
        if status == ItemStatus::Completed {
            return Some(AmendRefusal::ItemCompleted);
        }
        if status.is_being_cancelled() || status.is_withdrawn() || status == ItemStatus::Skipped {
            return Some(AmendRefusal::ItemNotAmendable);
        }
        if self.item_past_point_of_no_return(item) {
            return Some(AmendRefusal::PastPointOfNoReturn);
        }
        if live.iter().any(|t| {
            matches!(
                t.status,
                TaskStatus::Dispatched | TaskStatus::InProgress | TaskStatus::TimedOut
            )
        }) {
            return Some(AmendRefusal::TaskInFlight);
        }
        if live.iter().any(|t| {
            t.status == TaskStatus::Succeeded
                && t.handling.left_an_effect()
                && t.compensation.is_none()
        }) || self
            .tasks
            .iter()
            .any(|t| t.item == item && matches!(t.status, TaskStatus::Compensating))
        {
            return Some(AmendRefusal::IrreversibleEffect);
        }
        let started_elsewhere = live.iter().any(|task| {
            self.dependents_of(task.id).any(|d| {
                d.item != item
                    && !matches!(
                        d.status,
                        TaskStatus::Created
                            | TaskStatus::WaitingDependency
                            | TaskStatus::Ready
                            | TaskStatus::Cancelled
                    )
            })
        });
        started_elsewhere.then_some(AmendRefusal::ItemHasDependents)
    }

    /// AmendOrder · applies [`Order::assess_amendment`]: each redone item gets its new
    /// characteristics (a correction), its succeeded effects are compensated in reverse order,
    /// and every live task is replaced by a redo of the next plan revision that waits for its
    /// own compensation; refused and unchanged items are untouched. Returns the assessment.
    pub fn request_amendment(
        &mut self,
        desired: &[ItemAmendment],
    ) -> Result<(AmendmentImpact, Vec<OrderChange>), OrderError> {
        let impact = self.assess_amendment(desired)?;
        if !impact.redoes_anything() {
            return Ok((impact, Vec::new()));
        }
        let (_, changes) = self.transact(|order, changes: &mut Changes| {
            order.plan_revision += 1;
            for wanted in desired {
                let redone = impact.items.iter().any(|i| {
                    i.order_item_id == wanted.item && i.outcome == AmendItemOutcome::Redone
                });
                if !redone {
                    continue;
                }
                if let Some(index) = order.item_index(wanted.item) {
                    order.items[index].characteristics = wanted.characteristics.clone();
                    order.items[index].version += 1;
                }
                // Dependents first: their compensations exist when a dependency's is planned.
                let mut live: Vec<(FulfilmentTaskId, u32)> = order
                    .live_tasks(wanted.item)
                    .iter()
                    .map(|t| (t.id, t.sequence))
                    .collect();
                live.sort_by_key(|(_, sequence)| std::cmp::Reverse(*sequence));
                let mut undo = Vec::new();
                for (task, _) in &live {
                    let index = order.task_index(*task)?;
                    match impact
                        .tasks
                        .iter()
                        .find(|t| t.task_id == *task)
                        .map(|t| t.action)
                    {
                        Some(AmendTaskAction::CompensateThenRedo { operation }) => {
                            order.plan_compensation(index, operation, changes)?;
                            undo.push(*task);
                        }
                        Some(AmendTaskAction::Redo)
                            if order.tasks[index].status.apply(TaskCommand::Cancel).is_ok() =>
                        {
                            order.move_task(index, TaskCommand::Cancel, changes)?;
                        }
                        _ => {}
                    }
                }
                // Redos in plan order, each after its own undo.
                for (task, _) in live.iter().rev() {
                    let index = order.task_index(*task)?;
                    let old = order.tasks[index].clone();
                    let mut depends_on = old.depends_on.clone();
                    if undo.contains(task)
                        && let Some(compensation) = order.compensation_of(old.id)
                    {
                        depends_on.push(compensation.id);
                    }
                    order.plan_redo(&old, depends_on, changes)?;
                }
                order.reopen_item(wanted.item, changes)?;
            }
            order.resume_if_nothing_failed(changes)
        })?;
        Ok((impact, changes))
    }

    /// Adds the redo of `old` (new id derived from it, `<base>_R<revision>`), READY when its
    /// dependencies are met, else waiting.
    pub(super) fn plan_redo(
        &mut self,
        old: &FulfilmentTask,
        depends_on: Vec<FulfilmentTaskId>,
        changes: &mut Changes,
    ) -> Result<FulfilmentTaskId, OrderError> {
        let id = derived_task_id(old.id, "redo");
        let command = if depends_on.iter().all(|d| self.satisfied(*d)) {
            TaskCommand::MarkReady
        } else {
            TaskCommand::AwaitDependencies
        };
        let status = TaskStatus::Created.apply(command)?;
        changes.push(OrderChange::Task {
            task: id,
            item: old.item,
            from: None,
            to: status,
        });
        let mut task_type = format!("{}_R{}", old.base_type(), self.plan_revision);
        task_type.truncate(64);
        self.tasks.push(FulfilmentTask {
            id,
            task_type,
            depends_on,
            sequence: self.next_sequence(),
            purpose: TaskPurpose::Redo { replaces: old.id },
            revision: self.plan_revision,
            handling: TaskHandling::Automatic,
            status,
            version: 1,
            attempts: 0,
            external_reference: None,
            external_state: None,
            failure: None,
            ..old.clone()
        });
        Ok(id)
    }
}
