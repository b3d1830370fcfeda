//! The fallout workbench's commands on the order: retry a retryable failure, redo a refused
//! task with corrected data, settle a task by hand (verified applied, or skipped), give up on
//! an item, abort the order, hold and release it, record a manual undo. Each goes through the
//! lifecycles; the one bypass (a failed task settled by hand) is its own command in the task
//! table, with its own handling recorded on the task.

use domain_kernel::Lifecycle;
use serde_json::{Map, Value};

use super::super::{
    FulfilmentTaskId, ItemCommand, ItemStatus, OrderCommand, OrderItemId, OrderStatus, TaskCommand,
    TaskStatus,
};
use super::{Changes, FulfilmentTask, Order, OrderChange, OrderError, TaskHandling, TaskPurpose};

/// How an operator settled a failed task by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManualResolution {
    /// The effect was verified applied downstream (force-complete; privileged).
    VerifiedApplied {
        /// The downstream's reference of the effect, as verified.
        external_reference: String,
    },
    /// The step is not needed (skip with evidence).
    Skipped,
}

/// Corrected data for a redo: characteristics merged into the item's (a null removes one).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskCorrection {
    /// Characteristics to set (or, when null, remove).
    pub characteristics: Map<String, Value>,
}

impl FulfilmentTask {
    /// The plan name without a redo's revision suffix (`ACTIVATE_SERVICE` for
    /// `ACTIVATE_SERVICE_R2`): what the task does.
    pub fn base_type(&self) -> &str {
        if matches!(self.purpose, TaskPurpose::Redo { .. })
            && let Some((base, revision)) = self.task_type.rsplit_once("_R")
            && !revision.is_empty()
            && revision.bytes().all(|b| b.is_ascii_digit())
        {
            return base;
        }
        &self.task_type
    }
}

impl Order {
    /// RetryTask · a FAILED_RETRYABLE task → READY (the next dispatch sends it again under the
    /// same idempotency key, so an effect is never applied twice); its item back IN_PROGRESS
    /// and the order back IN_PROGRESS once nothing else failed · a non-retryable failure is
    /// refused (`RETRY_NOT_ALLOWED`: retry with corrected data, skip or cancel instead) ·
    /// idempotent: a task already retried, running or succeeded answers done.
    pub fn retry_task(&mut self, task: FulfilmentTaskId) -> Result<Vec<OrderChange>, OrderError> {
        let index = self.task_index(task)?;
        match self.tasks[index].status {
            TaskStatus::FailedRetryable => {}
            TaskStatus::FailedNonRetryable => return Err(OrderError::RetryNotAllowed { task }),
            TaskStatus::Ready
            | TaskStatus::Dispatched
            | TaskStatus::InProgress
            | TaskStatus::Succeeded => return Ok(Vec::new()),
            _ => return Err(OrderError::TaskNotFailed { task }),
        }
        self.check_not_cancelled(task)?;
        self.transact(|order, changes: &mut Changes| {
            order.move_task(index, TaskCommand::Retry, changes)?;
            order.tasks[index].failure = None;
            order.reopen_item(order.tasks[index].item, changes)?;
            order.resume_if_nothing_failed(changes)
        })
        .map(|((), changes)| changes)
    }

    /// RetryTaskWithCorrectedData · a FAILED task (refused or spent) is replaced by a redo
    /// with the item's characteristics corrected: the failed task → CANCELLED (kept), a new
    /// task of the next plan revision READY under a new idempotency key, what depended on the
    /// old one now waits on the redo; item and order resume as for a retry · idempotent: the
    /// redo's id is derived from the task it replaces.
    pub fn retry_with_correction(
        &mut self,
        task: FulfilmentTaskId,
        correction: &TaskCorrection,
    ) -> Result<Vec<OrderChange>, OrderError> {
        let index = self.task_index(task)?;
        if self.replacement_of(task).is_some() {
            return Ok(Vec::new());
        }
        if !matches!(
            self.tasks[index].status,
            TaskStatus::FailedRetryable | TaskStatus::FailedNonRetryable
        ) || matches!(self.tasks[index].purpose, TaskPurpose::Compensate { .. })
        {
            return Err(OrderError::TaskNotFailed { task });
        }
        self.check_not_cancelled(task)?;
        if correction.characteristics.is_empty() {
            return Err(OrderError::EmptyCorrection);
        }
        self.transact(|order, changes: &mut Changes| {
            let old = order.tasks[index].clone();
            order.move_task(index, TaskCommand::Cancel, changes)?;
            if let Some(item) = order.item_index(old.item) {
                let characteristics = &mut order.items[item].characteristics;
                for (name, value) in &correction.characteristics {
                    if value.is_null() {
                        characteristics.remove(name);
                    } else {
                        characteristics.insert(name.clone(), value.clone());
                    }
                }
                order.items[item].version += 1;
            }
            order.plan_revision += 1;
            let depends_on = old.depends_on.clone();
            order.plan_redo(&old, depends_on, changes)?;
            order.reopen_item(old.item, changes)?;
            order.resume_if_nothing_failed(changes)
        })
        .map(|((), changes)| changes)
    }

    /// SettleTaskManually (MarkExternalTaskAsSucceededAfterVerification, or skip with
    /// evidence) · a FAILED or TIMED_OUT task → SUCCEEDED by the task table's narrow bypass,
    /// its handling recorded; then as any success: dependents ready, item and order resume, a
    /// compensation's original COMPENSATED · idempotent when already SUCCEEDED.
    pub fn settle_task_manually(
        &mut self,
        task: FulfilmentTaskId,
        resolution: &ManualResolution,
    ) -> Result<Vec<OrderChange>, OrderError> {
        let index = self.task_index(task)?;
        if self.tasks[index].status == TaskStatus::Succeeded {
            return Ok(Vec::new());
        }
        if !matches!(
            self.tasks[index].status,
            TaskStatus::FailedRetryable | TaskStatus::FailedNonRetryable | TaskStatus::TimedOut
        ) {
            return Err(OrderError::TaskNotFailed { task });
        }
        self.check_not_cancelled(task)?;
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
            order.move_task(index, TaskCommand::ResolveManually, changes)?;
            let settled = &mut order.tasks[index];
            settled.failure = None;
            match resolution {
                ManualResolution::VerifiedApplied { external_reference } => {
                    settled.handling = TaskHandling::VerifiedByOperator;
                    settled.external_reference = Some(external_reference.clone());
                    settled.external_state = Some("VERIFIED_BY_OPERATOR".into());
                }
                ManualResolution::Skipped => {
                    settled.handling = TaskHandling::SkippedByOperator;
                    settled.external_state = Some("SKIPPED_BY_OPERATOR".into());
                }
            }
            // The operator settled the failure: its item goes on whatever the failure was.
            order.reopen_item(order.tasks[index].item, changes)?;
            order.after_success(index, changes)?;
            order.resume_if_nothing_failed(changes)
        })
        .map(|((), changes)| changes)
    }

    /// RecordManualUndo (the close of a manual-handling fallout) · every effect of `item`
    /// marked for manual undo → COMPENSATING → COMPENSATED, handled by an operator; then the
    /// cancellation goes on (the item settles, the order may be CANCELLED) · refused while a
    /// task building on one of them is still running (`TASK_IN_FLIGHT`) · idempotent.
    pub fn record_manual_undo(
        &mut self,
        item: OrderItemId,
    ) -> Result<Vec<OrderChange>, OrderError> {
        if self.item(item).is_none() {
            return Err(OrderError::ItemNotInOrder { item });
        }
        let marked: Vec<usize> = (0..self.tasks.len())
            .filter(|i| {
                self.tasks[*i].item == item
                    && self.tasks[*i].handling == TaskHandling::ManualUndoRequired
            })
            .collect();
        if marked.is_empty() {
            return Ok(Vec::new());
        }
        // An effect is undone only once nothing that builds on it is still running.
        if let Some(running) = marked.iter().find_map(|i| {
            self.dependents_of(self.tasks[*i].id)
                .find(|t| !t.status.is_settled() && t.status != TaskStatus::Succeeded)
        }) {
            return Err(OrderError::TaskInFlight { task: running.id });
        }
        self.transact(|order, changes: &mut Changes| {
            for index in marked {
                order.move_task(index, TaskCommand::StartCompensation, changes)?;
                order.move_task(index, TaskCommand::FinishCompensation, changes)?;
                order.tasks[index].handling = TaskHandling::UndoneByOperator;
            }
            order.progress_cancellation(changes)
        })
        .map(|((), changes)| changes)
    }

    /// FailItem · gives up on a FAILED, optional item nothing else waits on: its unsettled
    /// tasks → CANCELLED, its failure final; the order resumes without it · refused for a
    /// mandatory item (`ITEM_MANDATORY`) or one other items wait on (`ITEM_HAS_DEPENDENTS`):
    /// cancel those instead · idempotent.
    pub fn fail_item(&mut self, item: OrderItemId) -> Result<Vec<OrderChange>, OrderError> {
        let Some(index) = self.item_index(item) else {
            return Err(OrderError::ItemNotInOrder { item });
        };
        if self.items[index].status != ItemStatus::Failed {
            return Err(OrderError::ItemNotFailed { item });
        }
        if self.item_given_up(index) {
            return Ok(Vec::new());
        }
        if self.items[index].mandatory {
            return Err(OrderError::ItemMandatory { item });
        }
        let waits = self.tasks.iter().any(|t| {
            t.item != item
                && t.depends_on
                    .iter()
                    .any(|d| self.task(*d).is_some_and(|d| d.item == item))
        }) || self.items.iter().any(|i| i.parent == Some(item));
        if waits {
            return Err(OrderError::ItemHasDependents { item });
        }
        self.transact(|order, changes: &mut Changes| {
            for task in 0..order.tasks.len() {
                if order.tasks[task].item == item
                    && order.tasks[task].status.apply(TaskCommand::Cancel).is_ok()
                {
                    order.move_task(task, TaskCommand::Cancel, changes)?;
                }
            }
            if let Some(failure) = &mut order.items[index].failure {
                failure.retryable = false;
            }
            order.items[index].version += 1;
            order.resume_if_nothing_failed(changes)
        })
        .map(|((), changes)| changes)
    }

    /// AbortOrder · FALLOUT → FAILED: the order is given up; unstarted and failed tasks →
    /// CANCELLED, open and failed items cancelled (their guards released, nothing activated) · refused while any effect stands downstream
    /// (`ORDER_HAS_EFFECTS`: cancel the order instead, which compensates what can be undone and
    /// hands the rest to manual handling) · idempotent when FAILED.
    pub fn abort(&mut self) -> Result<Vec<OrderChange>, OrderError> {
        if self.status == OrderStatus::Failed {
            return Ok(Vec::new());
        }
        self.status.apply(OrderCommand::Abandon)?;
        if let Some(task) = self.tasks.iter().find(|t| {
            matches!(t.status, TaskStatus::Succeeded | TaskStatus::Compensating)
                && t.handling.left_an_effect()
                && !matches!(t.purpose, TaskPurpose::Compensate { .. })
        }) {
            return Err(OrderError::OrderHasEffects { task: task.id });
        }
        if let Some(task) = self.tasks.iter().find(|t| {
            matches!(
                t.status,
                TaskStatus::Dispatched | TaskStatus::InProgress | TaskStatus::TimedOut
            )
        }) {
            return Err(OrderError::TaskInFlight { task: task.id });
        }
        self.transact(|order, changes: &mut Changes| {
            for task in 0..order.tasks.len() {
                if order.tasks[task].status.apply(TaskCommand::Cancel).is_ok() {
                    order.move_task(task, TaskCommand::Cancel, changes)?;
                }
            }
            for item in 0..order.items.len() {
                if matches!(
                    order.items[item].status,
                    ItemStatus::Pending
                        | ItemStatus::Validated
                        | ItemStatus::Ready
                        | ItemStatus::Blocked
                        | ItemStatus::InProgress
                        | ItemStatus::Failed
                ) {
                    order.move_item(item, ItemCommand::RequestCancel, changes)?;
                    order.move_item(item, ItemCommand::ConfirmCancel, changes)?;
                }
            }
            order.move_order(OrderCommand::Abandon, changes)
        })
        .map(|((), changes)| changes)
    }

    /// ResumeAfterFallout · a FALLOUT that named no task (a stalled plan, a workflow step) →
    /// IN_PROGRESS once nothing is failed · refused while an item is failed
    /// (`FAILURE_NOT_RETRYABLE`: repair its task first) or before decomposition · idempotent
    /// when IN_PROGRESS.
    pub fn resume_after_fallout(&mut self) -> Result<Vec<OrderChange>, OrderError> {
        if self.status == OrderStatus::InProgress {
            return Ok(Vec::new());
        }
        self.status.apply(OrderCommand::ResumeAfterRepair)?;
        if self.plan_hash.is_none() {
            return Err(OrderError::NotDecomposed);
        }
        if let Some(index) = (0..self.items.len())
            .find(|i| self.items[*i].status == ItemStatus::Failed && !self.item_given_up(*i))
        {
            return Err(OrderError::FailureNotRetryable {
                item: self.items[index].id,
            });
        }
        self.transact(|order, changes: &mut Changes| order.resume_if_nothing_failed(changes))
            .map(|((), changes)| changes)
    }

    /// HoldOrder · IN_PROGRESS → HELD: nothing new is dispatched (running calls finish and
    /// are recorded) · idempotent when HELD.
    pub fn hold(&mut self) -> Result<Vec<OrderChange>, OrderError> {
        if self.status == OrderStatus::Held {
            return Ok(Vec::new());
        }
        self.transact(|order, changes: &mut Changes| order.move_order(OrderCommand::Hold, changes))
            .map(|((), changes)| changes)
    }

    /// ReleaseOrder · HELD → IN_PROGRESS: dispatch goes on · idempotent when IN_PROGRESS.
    pub fn release(&mut self) -> Result<Vec<OrderChange>, OrderError> {
        if self.status == OrderStatus::InProgress {
            return Ok(Vec::new());
        }
        self.transact(|order, changes: &mut Changes| {
            order.move_order(OrderCommand::Release, changes)
        })
        .map(|((), changes)| changes)
    }

    /// A FAILED item that was given up: its failure is final and nothing of it is unsettled.
    pub fn item_given_up(&self, index: usize) -> bool {
        let item = &self.items[index];
        item.status == ItemStatus::Failed
            && item.failure.as_ref().is_some_and(|f| !f.retryable)
            && !item.mandatory
            && self
                .tasks
                .iter()
                .filter(|t| t.item == item.id)
                .all(|t| t.status.is_settled())
            && self
                .tasks
                .iter()
                .any(|t| t.item == item.id && t.status == TaskStatus::Cancelled)
    }

    fn check_not_cancelled(&self, task: FulfilmentTaskId) -> Result<(), OrderError> {
        let item = self.tasks[self.task_index(task)?].item;
        if self
            .item(item)
            .is_some_and(|i| i.status.is_being_cancelled() || i.status.is_withdrawn())
            && !matches!(
                self.task(task).map(|t| t.purpose),
                Some(TaskPurpose::Compensate { .. })
            )
        {
            return Err(OrderError::TaskCancelled { task });
        }
        Ok(())
    }

    /// The item → IN_PROGRESS again when it FAILED and none of its tasks is failed (a retry, a
    /// redo, a settlement by hand or an amendment took its failures away).
    pub(super) fn reopen_item(
        &mut self,
        item_id: OrderItemId,
        changes: &mut Changes,
    ) -> Result<(), OrderError> {
        let Some(item) = self.item_index(item_id) else {
            return Ok(());
        };
        let failing = self.tasks.iter().any(|t| {
            t.item == item_id
                && matches!(
                    t.status,
                    TaskStatus::FailedRetryable | TaskStatus::FailedNonRetryable
                )
        });
        if self.items[item].status == ItemStatus::Failed && !failing {
            self.move_item(item, ItemCommand::Retry, changes)?;
            self.items[item].failure = None;
        }
        Ok(())
    }

    /// FALLOUT → IN_PROGRESS once no item is failed (given-up optional items aside) and the
    /// plan exists.
    pub(super) fn resume_if_nothing_failed(
        &mut self,
        changes: &mut Changes,
    ) -> Result<(), OrderError> {
        if self.status != OrderStatus::Fallout || self.plan_hash.is_none() {
            return Ok(());
        }
        let failed = (0..self.items.len())
            .any(|i| self.items[i].status == ItemStatus::Failed && !self.item_given_up(i));
        if !failed {
            self.move_order(OrderCommand::ResumeAfterRepair, changes)?;
            self.failure = None;
        }
        Ok(())
    }
}
