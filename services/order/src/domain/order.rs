//! The order aggregate: the header, its items and its fulfilment tasks, loaded and saved whole.
//! Every command checks the three lifecycles' tables, changes nothing when it refuses, and
//! returns one [`OrderChange`] per status it moved, for the application to persist, publish and
//! audit. The commands live in `capture` (capture and validation) and `fulfilment`
//! (decomposition, dispatch, task outcomes, completion, fallout).

mod amendment;
mod cancellation;
mod capture;
mod error;
#[cfg(test)]
mod exception_tests;
mod fulfilment;
mod handling;
mod repair;
#[cfg(test)]
mod tests;

use domain_kernel::{Lifecycle, TenantId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    CustomerId, FulfilmentOperation, FulfilmentTaskId, ItemAction, ItemCommand, ItemStatus,
    OrderCommand, OrderId, OrderItemId, OrderStatus, ProductInstanceId, ProductOfferingId, QuoteId,
    TaskCommand, TaskStatus,
};

pub use amendment::{
    AmendItemImpact, AmendItemOutcome, AmendRefusal, AmendTaskAction, AmendTaskImpact,
    AmendmentImpact, ItemAmendment,
};
pub use cancellation::{
    CancellationImpact, ItemImpact, ItemOutcome, ManualReason, TaskAction, TaskImpact,
};
pub use error::OrderError;
pub use handling::{TaskHandling, TaskPurpose};
pub use repair::{ManualResolution, TaskCorrection};

/// The most items one order may carry.
pub const MAX_ITEMS: usize = 100;

/// The order aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Id.
    pub id: OrderId,
    /// Tenant.
    pub tenant: TenantId,
    /// Customer; never changes (from a quote: the quote's customer).
    pub customer: CustomerId,
    /// Where it came from.
    pub origin: OrderOrigin,
    /// Status.
    pub status: OrderStatus,
    /// Bumped by one by every command that changes anything (the aggregate's optimistic lock).
    pub version: i64,
    /// ISO 4217 code of every charge on the order.
    pub currency: String,
    /// Items, by line.
    pub items: Vec<OrderItem>,
    /// Fulfilment tasks, by sequence (empty before decomposition).
    pub tasks: Vec<FulfilmentTask>,
    /// The decomposed plan's [`super::Plan::hash`] (revision 1; it never changes).
    pub plan_hash: Option<String>,
    /// The plan's revision: 0 before decomposition, 1 after it, +1 whenever tasks are added
    /// (compensations, redos).
    pub plan_revision: u32,
    /// Why the order is in FALLOUT or FAILED (the latest failure).
    pub failure: Option<Failure>,
}

/// Where an order came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum OrderOrigin {
    /// Converted from an accepted quote revision; the snapshot hash pins what was accepted.
    Quote {
        /// The quote.
        quote_id: QuoteId,
        /// The accepted revision.
        revision: u32,
        /// Hash of the accepted snapshot.
        snapshot_hash: String,
    },
    /// Entered directly (no quote).
    Direct,
}

/// One order item.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    /// Id.
    pub id: OrderItemId,
    /// Line number, from 1, in capture order.
    pub line: u32,
    /// What it does.
    pub action: ItemAction,
    /// The offering.
    pub offering_id: ProductOfferingId,
    /// The offering version (its profile decides the plan).
    pub offering_version: u32,
    /// Quantity, at least 1.
    pub quantity: u32,
    /// Configured characteristics, as captured.
    pub characteristics: serde_json::Map<String, serde_json::Value>,
    /// The item it is an add-on of.
    pub parent: Option<OrderItemId>,
    /// The product instance it changes (MODIFY, DELETE, NO_CHANGE).
    pub product_instance: Option<ProductInstanceId>,
    /// Status.
    pub status: ItemStatus,
    /// Bumped by one on every change of the item.
    pub version: i64,
    /// The order completes only when every mandatory item is terminal-success.
    pub mandatory: bool,
    /// Recurring charge, in the order's currency.
    pub recurring_charge: Option<Decimal>,
    /// One-time charge, in the order's currency.
    pub one_time_charge: Option<Decimal>,
    /// Why it FAILED.
    pub failure: Option<Failure>,
}

/// One fulfilment task: one external operation for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilmentTask {
    /// Id (the integration service keys the side effect by it).
    pub id: FulfilmentTaskId,
    /// The item it fulfils.
    pub item: OrderItemId,
    /// Its type within the item's action.
    pub task_type: String,
    /// The external operation.
    pub operation: FulfilmentOperation,
    /// Tasks that must succeed before it is dispatched.
    pub depends_on: Vec<FulfilmentTaskId>,
    /// Whether a successful effect can be undone.
    pub reversible: bool,
    /// The undoing operation.
    pub compensation: Option<FulfilmentOperation>,
    /// No compensation once it succeeded.
    pub point_of_no_return: bool,
    /// Its position in the plan.
    pub sequence: u32,
    /// Why it is in the plan.
    pub purpose: TaskPurpose,
    /// The plan revision that added it.
    pub revision: u32,
    /// Whether a person has to act on it, and what they did.
    pub handling: TaskHandling,
    /// Status.
    pub status: TaskStatus,
    /// Bumped by one on every change of the task.
    pub version: i64,
    /// How many times it was dispatched.
    pub attempts: u32,
    /// The downstream's reference of the applied effect.
    pub external_reference: Option<String>,
    /// The downstream's state of the applied effect.
    pub external_state: Option<String>,
    /// Why it failed.
    pub failure: Option<Failure>,
}

/// A failure as the order keeps it: a stable code, words for the operator, and whether trying
/// again may help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// Stable code (`INSUFFICIENT_STOCK`, `FULFILMENT_PROFILE_MISSING`).
    pub code: String,
    /// Explanation.
    pub reason: String,
    /// Whether a retry may succeed.
    pub retryable: bool,
}

/// What capture needs.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    /// Id (the application derives it from the idempotency key or generates it).
    pub id: OrderId,
    /// Tenant.
    pub tenant: TenantId,
    /// Customer.
    pub customer: CustomerId,
    /// Origin.
    pub origin: OrderOrigin,
    /// ISO 4217 currency.
    pub currency: String,
    /// Items, in line order.
    pub items: Vec<NewOrderItem>,
}

/// One item to capture.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrderItem {
    /// Id.
    pub id: OrderItemId,
    /// Action.
    pub action: ItemAction,
    /// Offering.
    pub offering_id: ProductOfferingId,
    /// Offering version.
    pub offering_version: u32,
    /// Quantity, at least 1.
    pub quantity: u32,
    /// Characteristics.
    pub characteristics: serde_json::Map<String, serde_json::Value>,
    /// Parent item (an add-on's).
    pub parent: Option<OrderItemId>,
    /// The product instance changed (MODIFY, DELETE, NO_CHANGE).
    pub product_instance: Option<ProductInstanceId>,
    /// Mandatory for completion.
    pub mandatory: bool,
    /// Recurring charge.
    pub recurring_charge: Option<Decimal>,
    /// One-time charge.
    pub one_time_charge: Option<Decimal>,
}

/// What a command did, for the app to persist, publish and audit (one per transition).
/// `from: None` means the order, item or task was created in `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderChange {
    /// The order's status moved.
    Order {
        /// Before (None: created).
        from: Option<OrderStatus>,
        /// After.
        to: OrderStatus,
    },
    /// An item's status moved.
    Item {
        /// The item.
        item: OrderItemId,
        /// Before (None: created).
        from: Option<ItemStatus>,
        /// After.
        to: ItemStatus,
    },
    /// A task's status moved.
    Task {
        /// The task.
        task: FulfilmentTaskId,
        /// Its item.
        item: OrderItemId,
        /// Before (None: created).
        from: Option<TaskStatus>,
        /// After.
        to: TaskStatus,
    },
}

/// Changes a command collected so far.
type Changes = Vec<OrderChange>;

impl Order {
    /// The task, if it is the order's.
    pub fn task(&self, id: FulfilmentTaskId) -> Option<&FulfilmentTask> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// The item, if it is the order's.
    pub fn item(&self, id: OrderItemId) -> Option<&OrderItem> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Tasks whose dependencies have all SUCCEEDED and that are not settled: for views.
    pub fn runnable_tasks(&self) -> Vec<&FulfilmentTask> {
        self.tasks
            .iter()
            .filter(|t| !t.status.is_settled() && self.dependencies_succeeded(t))
            .collect()
    }

    /// Whether nothing is left to dispatch or wait for: every task settled and no effect
    /// waiting for a manual undo; every item terminal-success, withdrawn by a cancellation or
    /// given up (an optional item whose failure is final). A whole-order cancellation is
    /// settled when [`Order::cancellation_settled`].
    pub fn plan_settled(&self) -> bool {
        if self.status == OrderStatus::CancellationPending {
            return self.cancellation_settled();
        }
        self.plan_hash.is_some()
            && self.tasks.iter().all(|t| {
                t.status.is_settled()
                    && t.status != TaskStatus::FailedNonRetryable
                    && t.handling != TaskHandling::ManualUndoRequired
            })
            && (0..self.items.len()).all(|i| {
                let status = self.items[i].status;
                status.is_terminal_success() || status.is_withdrawn() || self.item_given_up(i)
            })
    }

    fn dependencies_succeeded(&self, task: &FulfilmentTask) -> bool {
        task.depends_on.iter().all(|d| self.satisfied(*d))
    }

    /// Whether a dependency on `id` is met: it SUCCEEDED, or the redo that replaced it did.
    pub fn satisfied(&self, id: FulfilmentTaskId) -> bool {
        let mut current = id;
        // A chain of redos is at most as long as the plan.
        for _ in 0..=self.tasks.len() {
            let Some(task) = self.task(current) else {
                return false;
            };
            if task.status == TaskStatus::Succeeded {
                return true;
            }
            match self.replacement_of(current) {
                Some(next) => current = next,
                None => return false,
            }
        }
        false
    }

    /// The ids `id` stands for in other tasks' dependencies: itself and every task it
    /// (transitively) replaced as a redo.
    pub fn stands_for(&self, id: FulfilmentTaskId) -> Vec<FulfilmentTaskId> {
        let mut chain = vec![id];
        let mut current = id;
        for _ in 0..self.tasks.len() {
            match self.task(current).map(|t| t.purpose) {
                Some(TaskPurpose::Redo { replaces }) => {
                    chain.push(replaces);
                    current = replaces;
                }
                _ => break,
            }
        }
        chain
    }

    /// The tasks that depend on `id` (or on what it replaced).
    pub fn dependents_of(&self, id: FulfilmentTaskId) -> impl Iterator<Item = &FulfilmentTask> {
        let chain = self.stands_for(id);
        self.tasks
            .iter()
            .filter(move |t| t.depends_on.iter().any(|d| chain.contains(d)))
    }

    /// The redo task that replaced `id`, if any.
    pub fn replacement_of(&self, id: FulfilmentTaskId) -> Option<FulfilmentTaskId> {
        self.tasks
            .iter()
            .find(|t| t.purpose == TaskPurpose::Redo { replaces: id })
            .map(|t| t.id)
    }

    /// The compensation task of `id`, if one was planned.
    pub fn compensation_of(&self, id: FulfilmentTaskId) -> Option<&FulfilmentTask> {
        self.tasks
            .iter()
            .find(|t| t.purpose == TaskPurpose::Compensate { of: id })
    }

    /// The next free position in the plan.
    fn next_sequence(&self) -> u32 {
        self.tasks.iter().map(|t| t.sequence + 1).max().unwrap_or(0)
    }

    fn task_index(&self, id: FulfilmentTaskId) -> Result<usize, OrderError> {
        self.tasks
            .iter()
            .position(|t| t.id == id)
            .ok_or(OrderError::TaskNotInOrder { task: id })
    }

    fn item_index(&self, id: OrderItemId) -> Option<usize> {
        self.items.iter().position(|i| i.id == id)
    }

    /// Runs a command on a copy and keeps it only if the command succeeds, so a refusal changes
    /// nothing; bumps the order's version once when anything changed.
    fn transact<R>(
        &mut self,
        command: impl FnOnce(&mut Order, &mut Changes) -> Result<R, OrderError>,
    ) -> Result<(R, Changes), OrderError> {
        let mut next = self.clone();
        let mut changes = Vec::new();
        let result = command(&mut next, &mut changes)?;
        if !changes.is_empty() || next != *self {
            next.version += 1;
            *self = next;
        }
        Ok((result, changes))
    }

    fn move_order(
        &mut self,
        command: OrderCommand,
        changes: &mut Changes,
    ) -> Result<(), OrderError> {
        let from = self.status;
        let to = from.apply(command)?;
        self.status = to;
        changes.push(OrderChange::Order {
            from: Some(from),
            to,
        });
        Ok(())
    }

    fn move_item(
        &mut self,
        index: usize,
        command: ItemCommand,
        changes: &mut Changes,
    ) -> Result<(), OrderError> {
        let item = &mut self.items[index];
        let from = item.status;
        let to = from.apply(command)?;
        item.status = to;
        item.version += 1;
        changes.push(OrderChange::Item {
            item: item.id,
            from: Some(from),
            to,
        });
        Ok(())
    }

    fn move_task(
        &mut self,
        index: usize,
        command: TaskCommand,
        changes: &mut Changes,
    ) -> Result<(), OrderError> {
        let task = &mut self.tasks[index];
        let from = task.status;
        let to = from.apply(command)?;
        task.status = to;
        task.version += 1;
        changes.push(OrderChange::Task {
            task: task.id,
            item: task.item,
            from: Some(from),
            to,
        });
        Ok(())
    }
}
