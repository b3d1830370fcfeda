//! The order aggregate: the header, its items and its fulfilment tasks, loaded and saved whole.
//! Every command checks the three lifecycles' tables, changes nothing when it refuses, and
//! returns one [`OrderChange`] per status it moved, for the application to persist, publish and
//! audit. The commands live in `capture` (capture and validation) and `fulfilment`
//! (decomposition, dispatch, task outcomes, completion, fallout).

mod capture;
mod fulfilment;
#[cfg(test)]
mod tests;

use domain_kernel::{Lifecycle, TenantId, TransitionError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    CustomerId, FulfilmentOperation, FulfilmentTaskId, ItemAction, ItemCommand, ItemStatus,
    OrderCommand, OrderId, OrderItemId, OrderStatus, ProductInstanceId, ProductOfferingId, QuoteId,
    TaskCommand, TaskStatus,
};

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
    /// The decomposed plan's [`super::Plan::hash`].
    pub plan_hash: Option<String>,
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

/// Why an order command was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// A lifecycle table refused the move: the rendered refusal and its code.
    #[error("{0}")]
    Transition(String, &'static str),
    /// No item.
    #[error("an order needs at least one item")]
    EmptyOrder,
    /// More than [`MAX_ITEMS`] items.
    #[error("an order holds at most {max} items, this one has {count}")]
    TooManyItems {
        /// Items given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An item id appears twice.
    #[error("item {item} appears twice")]
    DuplicateItem {
        /// The item.
        item: OrderItemId,
    },
    /// Quantity 0.
    #[error("item {item}: the quantity must be at least 1")]
    InvalidQuantity {
        /// The item.
        item: OrderItemId,
    },
    /// The parent is not an item of the order.
    #[error("item {item}: its parent {parent} is not in the order")]
    ParentNotInOrder {
        /// The item.
        item: OrderItemId,
        /// The parent named.
        parent: OrderItemId,
    },
    /// The item names itself as parent.
    #[error("item {item} cannot be its own parent")]
    ParentIsSelf {
        /// The item.
        item: OrderItemId,
    },
    /// Parents form a cycle.
    #[error("item {item}: its parents form a cycle")]
    ParentCycle {
        /// An item on the cycle.
        item: OrderItemId,
    },
    /// MODIFY, DELETE or NO_CHANGE without the product instance it is about.
    #[error("item {item}: a {action} item must name its product instance")]
    NeedsProductInstance {
        /// The item.
        item: OrderItemId,
        /// Its action.
        action: ItemAction,
    },
    /// ADD naming a product instance (an ADD creates one).
    #[error("item {item}: an ADD item creates its product instance and names none")]
    AddWithProductInstance {
        /// The item.
        item: OrderItemId,
    },
    /// A negative charge.
    #[error("item {item}: charges must not be negative")]
    NegativeCharge {
        /// The item.
        item: OrderItemId,
    },
    /// Not an ISO 4217 code.
    #[error("{0:?} is not an ISO 4217 currency code")]
    InvalidCurrency(String),
    /// The plan does not fit the order's items.
    #[error("the plan does not fit the order: {0}")]
    InvalidPlan(String),
    /// The order was decomposed to another plan.
    #[error("the order was decomposed to plan {current}; plan {proposed} is refused")]
    PlanChanged {
        /// The recorded plan hash.
        current: String,
        /// The new plan's hash.
        proposed: String,
    },
    /// The task is not one of the order's.
    #[error("task {task} is not in the order")]
    TaskNotInOrder {
        /// The task.
        task: FulfilmentTaskId,
    },
    /// The task's item is cancelled.
    #[error("task {task} belongs to a cancelled item and never succeeds")]
    TaskCancelled {
        /// The task.
        task: FulfilmentTaskId,
    },
    /// A dependency has not succeeded.
    #[error("task {task} cannot succeed before its dependency {dependency}")]
    DependencyNotSucceeded {
        /// The task.
        task: FulfilmentTaskId,
        /// The unsettled dependency.
        dependency: FulfilmentTaskId,
    },
    /// Completion refused.
    #[error("the order cannot complete: {0}")]
    NotCompletable(String),
    /// The command needs a decomposed order.
    #[error("the order has no fulfilment plan")]
    NotDecomposed,
    /// A repair cannot retry a non-retryable failure.
    #[error("item {item} failed for a reason that is not retryable")]
    FailureNotRetryable {
        /// The item.
        item: OrderItemId,
    },
}

impl OrderError {
    /// Stable code for problem responses and fallout.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transition(_, code) => code,
            Self::EmptyOrder => "EMPTY_ORDER",
            Self::TooManyItems { .. } => "TOO_MANY_ITEMS",
            Self::DuplicateItem { .. } => "DUPLICATE_ITEM",
            Self::InvalidQuantity { .. } => "INVALID_QUANTITY",
            Self::ParentNotInOrder { .. } => "PARENT_NOT_IN_ORDER",
            Self::ParentIsSelf { .. } => "PARENT_IS_SELF",
            Self::ParentCycle { .. } => "PARENT_CYCLE",
            Self::NeedsProductInstance { .. } => "ITEM_NEEDS_PRODUCT_INSTANCE",
            Self::AddWithProductInstance { .. } => "ITEM_ADD_WITH_PRODUCT_INSTANCE",
            Self::NegativeCharge { .. } => "NEGATIVE_CHARGE",
            Self::InvalidCurrency(_) => "INVALID_CURRENCY",
            Self::InvalidPlan(_) => "PLAN_INVALID",
            Self::PlanChanged { .. } => "PLAN_CHANGED",
            Self::TaskNotInOrder { .. } => "TASK_NOT_IN_ORDER",
            Self::TaskCancelled { .. } => "TASK_CANCELLED",
            Self::DependencyNotSucceeded { .. } => "DEPENDENCY_NOT_SUCCEEDED",
            Self::NotCompletable(_) => "ORDER_NOT_COMPLETABLE",
            Self::NotDecomposed => "ORDER_NOT_DECOMPOSED",
            Self::FailureNotRetryable { .. } => "FAILURE_NOT_RETRYABLE",
        }
    }
}

impl<S: Lifecycle> From<TransitionError<S>> for OrderError {
    fn from(error: TransitionError<S>) -> Self {
        Self::Transition(error.to_string(), error.code())
    }
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

    /// Whether nothing is left to dispatch or wait for (all tasks SUCCEEDED and all items
    /// terminal-success).
    pub fn plan_settled(&self) -> bool {
        self.plan_hash.is_some()
            && self.tasks.iter().all(|t| t.status == TaskStatus::Succeeded)
            && self.items.iter().all(|i| i.status.is_terminal_success())
    }

    fn dependencies_succeeded(&self, task: &FulfilmentTask) -> bool {
        task.depends_on.iter().all(|d| {
            self.task(*d)
                .is_some_and(|d| d.status == TaskStatus::Succeeded)
        })
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
