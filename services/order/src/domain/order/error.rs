//! Why an order command was refused: one variant per rule, each with a stable code.

use domain_kernel::{Lifecycle, TransitionError};

use super::super::{FulfilmentTaskId, ItemAction, OrderItemId, OrderStatus};

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
    /// A completed order is never cancelled.
    #[error("the order is completed: place a DELETE order to undo what it installed")]
    AlreadyCompleted,
    /// Cancelled or failed: nothing to cancel.
    #[error("a {0} order cannot be cancelled")]
    NotCancellable(OrderStatus),
    /// A cancellation of the order is already running.
    #[error("the order's cancellation is already in progress")]
    CancellationInProgress,
    /// The item is not the order's.
    #[error("item {item} is not in the order")]
    ItemNotInOrder {
        /// The item.
        item: OrderItemId,
    },
    /// The item is already being cancelled.
    #[error("item {item} is already being cancelled")]
    ItemCancellationInProgress {
        /// The item.
        item: OrderItemId,
    },
    /// Everything in scope is already withdrawn or skipped.
    #[error("nothing in scope is left to cancel")]
    NothingToCancel,
    /// A non-retryable failure is never retried as is.
    #[error(
        "task {task} was refused for a business reason and is never retried as is: retry it with corrected data, skip it, or cancel"
    )]
    RetryNotAllowed {
        /// The task.
        task: FulfilmentTaskId,
    },
    /// The repair needs a failed (or unanswered) task.
    #[error("task {task} has not failed")]
    TaskNotFailed {
        /// The task.
        task: FulfilmentTaskId,
    },
    /// A correction without data.
    #[error("a correction names at least one characteristic")]
    EmptyCorrection,
    /// The item has not failed.
    #[error("item {item} has not failed")]
    ItemNotFailed {
        /// The item.
        item: OrderItemId,
    },
    /// A mandatory item cannot be given up.
    #[error(
        "item {item} is mandatory: the order cannot complete without it; cancel or abort instead"
    )]
    ItemMandatory {
        /// The item.
        item: OrderItemId,
    },
    /// Other items wait on the item.
    #[error("other items wait on item {item}: cancel them with it instead")]
    ItemHasDependents {
        /// The item.
        item: OrderItemId,
    },
    /// An effect stands downstream.
    #[error(
        "task {task} applied an effect that can be undone: cancel the order instead, which compensates it"
    )]
    OrderHasEffects {
        /// The task.
        task: FulfilmentTaskId,
    },
    /// A call is still running.
    #[error("task {task} is still running: wait for its answer")]
    TaskInFlight {
        /// The task.
        task: FulfilmentTaskId,
    },
    /// Cancelled, failed or being cancelled: nothing to amend.
    #[error("a {0} order cannot be amended")]
    NotAmendable(OrderStatus),
    /// The amendment names no item, or one twice.
    #[error("the amendment is invalid: {0}")]
    InvalidAmendment(String),
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
            Self::AlreadyCompleted => "ORDER_ALREADY_COMPLETED",
            Self::NotCancellable(_) => "ORDER_NOT_CANCELLABLE",
            Self::CancellationInProgress => "CANCELLATION_IN_PROGRESS",
            Self::ItemNotInOrder { .. } => "ITEM_NOT_IN_ORDER",
            Self::ItemCancellationInProgress { .. } => "ITEM_CANCELLATION_IN_PROGRESS",
            Self::NothingToCancel => "NOTHING_TO_CANCEL",
            Self::RetryNotAllowed { .. } => "RETRY_NOT_ALLOWED",
            Self::TaskNotFailed { .. } => "TASK_NOT_FAILED",
            Self::EmptyCorrection => "CORRECTION_EMPTY",
            Self::ItemNotFailed { .. } => "ITEM_NOT_FAILED",
            Self::ItemMandatory { .. } => "ITEM_MANDATORY",
            Self::ItemHasDependents { .. } => "ITEM_HAS_DEPENDENTS",
            Self::OrderHasEffects { .. } => "ORDER_HAS_EFFECTS",
            Self::TaskInFlight { .. } => "TASK_IN_FLIGHT",
            Self::NotAmendable(_) => "ORDER_NOT_AMENDABLE",
            Self::InvalidAmendment(_) => "AMENDMENT_INVALID",
        }
    }
}

impl<S: Lifecycle> From<TransitionError<S>> for OrderError {
    fn from(error: TransitionError<S>) -> Self {
        Self::Transition(error.to_string(), error.code())
    }
}
