//! The API's request and response shapes (the contract's schemas), and their mapping from the
//! domain. Nothing here decides anything.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

pub use super::fallout_dto::FalloutRecordView;
use crate::app::views::OrderDetail;
use crate::domain::{FulfilmentTask, Order, OrderItem, OrderOrigin, ProductInstance, Subscription};
use crate::infra::installed_base::{HistoryRow, References};

/// An item of a direct order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderItemRequest {
    /// The client's reference of the line, unique in the request (parents name it).
    #[schema(min_length = 1, max_length = 64, example = "1")]
    pub line_ref: String,
    /// ADD (a new product), MODIFY or DELETE (an ACTIVE product instance of the customer),
    /// NO_CHANGE (kept for context).
    #[schema(example = "ADD")]
    pub action: ItemActionDto,
    /// The offering.
    pub offering_id: Uuid,
    /// Its version.
    #[schema(minimum = 1)]
    pub offering_version: u32,
    /// How many (default 1).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: u32,
    /// Characteristics (for MODIFY: the new values).
    #[serde(default)]
    pub characteristics: BTreeMap<String, Value>,
    /// The parent line of an add-on.
    #[serde(default)]
    pub parent_ref: Option<String>,
    /// The product instance a MODIFY, DELETE or NO_CHANGE concerns (an ADD add-on: its parent).
    #[serde(default)]
    pub product_instance_id: Option<Uuid>,
    /// Recurring monthly charge to bill, as a decimal string.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, example = "49.90")]
    pub recurring_charge: Option<Decimal>,
    /// One-time charge to bill, as a decimal string.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, example = "99.00")]
    pub one_time_charge: Option<Decimal>,
    /// Whether the order completes only with this item (default true). An optional item that
    /// fails can be given up (the workbench's FAIL_ITEM) and the order completes without it.
    #[serde(default = "yes")]
    pub mandatory: bool,
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

/// An item's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemActionDto {
    /// A new product.
    Add,
    /// Change an ACTIVE product instance.
    Modify,
    /// Disconnect an ACTIVE product instance.
    Delete,
    /// Kept for context.
    NoChange,
}

/// A direct order (`POST /orders`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOrderRequest {
    /// The customer.
    #[schema(min_length = 1, max_length = 128, example = "C-1001")]
    pub customer_id: String,
    /// ISO 4217 currency of the charges.
    #[schema(example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// The items (1 to 100).
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<OrderItemRequest>,
    /// Capture evidence: what the order rests on (a signed form, a channel reference).
    pub capture_evidence: BTreeMap<String, Value>,
}

/// A failure as views show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailureView {
    /// Stable code.
    pub code: String,
    /// Explanation.
    pub reason: String,
    /// Whether a retry can still succeed.
    pub retryable: bool,
}

/// A fulfilment task.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    /// The task.
    pub task_id: Uuid,
    /// Its item.
    pub order_item_id: Uuid,
    /// Its plan name (RESERVE_INVENTORY, ACTIVATE_SERVICE, …).
    pub task_type: String,
    /// The integration operation it asks for.
    pub operation: String,
    /// Its position in the plan's topological order.
    pub sequence: u32,
    /// Tasks that must succeed first.
    pub depends_on: Vec<Uuid>,
    /// Whether a compensation exists.
    pub reversible: bool,
    /// The compensating operation.
    pub compensation: Option<String>,
    /// Whether it marks the point of no return.
    pub point_of_no_return: bool,
    /// CREATED … SUCCEEDED, FAILED_*, …
    pub status: String,
    /// The downstream's reference of the effect.
    pub external_reference: Option<String>,
    /// Why it failed.
    pub failure: Option<FailureView>,
    /// FULFIL (a step of the plan), COMPENSATE (undoes `refersTo`'s effect) or REDO (makes
    /// `refersTo`'s effect again with corrected data).
    pub purpose: String,
    /// The task it compensates or replaces.
    pub refers_to: Option<Uuid>,
    /// The plan revision that added it.
    pub revision: u32,
    /// AUTOMATIC, MANUAL_UNDO_REQUIRED, VERIFIED_BY_OPERATOR, SKIPPED_BY_OPERATOR or
    /// UNDONE_BY_OPERATOR.
    pub handling: String,
}

/// An order item.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemView {
    /// The item.
    pub order_item_id: Uuid,
    /// Line number.
    pub line: u32,
    /// ADD, MODIFY, DELETE, NO_CHANGE.
    pub action: String,
    /// The offering.
    pub offering_id: Uuid,
    /// Its version.
    pub offering_version: u32,
    /// How many.
    pub quantity: u32,
    /// Characteristics.
    pub characteristics: Value,
    /// The parent item (add-ons).
    pub parent_item_id: Option<Uuid>,
    /// The product instance it changes.
    pub product_instance_id: Option<Uuid>,
    /// PENDING … COMPLETED, FAILED, …
    pub status: String,
    /// Why it failed.
    pub failure: Option<FailureView>,
    /// Whether the order completes only with it.
    pub mandatory: bool,
}

/// The quote an order was captured from.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteReference {
    /// The quote.
    pub quote_id: Uuid,
    /// The accepted revision.
    pub revision: u32,
    /// SHA-256 of the frozen snapshot, verified on capture.
    pub snapshot_hash: String,
}

/// An order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    /// The order.
    pub id: Uuid,
    /// Its customer.
    pub customer_id: String,
    /// QUOTE or DIRECT.
    pub origin: String,
    /// The quote reference (quote orders).
    pub quote: Option<QuoteReference>,
    /// ACKNOWLEDGED … COMPLETED, FALLOUT, FAILED, …
    pub status: String,
    /// The aggregate version.
    pub version: i64,
    /// Currency of the charges.
    pub currency: String,
    /// The plan's hash, once decomposed.
    pub plan_hash: Option<String>,
    /// Why it failed or fell out.
    pub failure: Option<FailureView>,
    /// The items.
    pub items: Vec<ItemView>,
    /// The fulfilment tasks (the plan), in plan order.
    pub tasks: Vec<TaskView>,
    /// Fallout records.
    pub fallouts: Vec<FalloutRecordView>,
    /// Captured at.
    pub created_at: Option<DateTime<Utc>>,
    /// Completed at.
    pub completed_at: Option<DateTime<Utc>>,
    /// The fulfilment process instance.
    pub process_instance_key: Option<i64>,
}

/// A page of orders.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPage {
    /// Newest first.
    pub orders: Vec<OrderView>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<Uuid>,
}

/// The stored plan: its hash and tasks.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanView {
    /// The order.
    pub order_id: Uuid,
    /// The plan's hash (absent before decomposition).
    pub plan_hash: Option<String>,
    /// The tasks in topological order, with their dependencies (the DAG's edges); later
    /// revisions' compensations and redos after them.
    pub tasks: Vec<TaskView>,
    /// The current revision (0 before decomposition).
    pub plan_revision: u32,
    /// Every revision: why and by whom (the tasks carry the revision that added them).
    pub revisions: Vec<crate::infra::plan_history::PlanRevision>,
}

fn failure(f: Option<&crate::domain::Failure>) -> Option<FailureView> {
    f.map(|f| FailureView {
        code: f.code.clone(),
        reason: f.reason.clone(),
        retryable: f.retryable,
    })
}

/// A task as the API shows it.
pub fn task_view(t: &FulfilmentTask) -> TaskView {
    TaskView {
        task_id: t.id.as_uuid(),
        order_item_id: t.item.as_uuid(),
        task_type: t.task_type.clone(),
        operation: t.operation.as_str().to_owned(),
        sequence: t.sequence,
        depends_on: t.depends_on.iter().map(|d| d.as_uuid()).collect(),
        reversible: t.reversible,
        compensation: t.compensation.map(|c| c.as_str().to_owned()),
        point_of_no_return: t.point_of_no_return,
        status: t.status.as_str().to_owned(),
        external_reference: t.external_reference.clone(),
        failure: failure(t.failure.as_ref()),
        purpose: t.purpose.kind().to_owned(),
        refers_to: t.purpose.refers_to().map(|r| r.as_uuid()),
        revision: t.revision,
        handling: t.handling.as_str().to_owned(),
    }
}

fn item_view(i: &OrderItem) -> ItemView {
    ItemView {
        order_item_id: i.id.as_uuid(),
        line: i.line,
        action: i.action.as_str().to_owned(),
        offering_id: i.offering_id.as_uuid(),
        offering_version: i.offering_version,
        quantity: i.quantity,
        characteristics: Value::Object(i.characteristics.clone()),
        parent_item_id: i.parent.map(|p| p.as_uuid()),
        product_instance_id: i.product_instance.map(|p| p.as_uuid()),
        status: i.status.as_str().to_owned(),
        failure: failure(i.failure.as_ref()),
        mandatory: i.mandatory,
    }
}

/// An order as the API shows it (the detail's extras when there are some).
pub fn order_view(order: &Order, detail: Option<&OrderDetail>) -> OrderView {
    let quote = match &order.origin {
        OrderOrigin::Quote {
            quote_id,
            revision,
            snapshot_hash,
        } => Some(QuoteReference {
            quote_id: quote_id.as_uuid(),
            revision: *revision,
            snapshot_hash: snapshot_hash.clone(),
        }),
        OrderOrigin::Direct => None,
    };
    OrderView {
        id: order.id.as_uuid(),
        customer_id: order.customer.as_str().to_owned(),
        origin: if quote.is_some() { "QUOTE" } else { "DIRECT" }.to_owned(),
        quote,
        status: order.status.as_str().to_owned(),
        version: order.version,
        currency: order.currency.clone(),
        plan_hash: order.plan_hash.clone(),
        failure: failure(order.failure.as_ref()),
        items: order.items.iter().map(item_view).collect(),
        tasks: order.tasks.iter().map(task_view).collect(),
        fallouts: detail
            .map(|d| d.fallouts.iter().map(FalloutRecordView::from).collect())
            .unwrap_or_default(),
        created_at: detail.map(|d| d.created_at),
        completed_at: detail.and_then(|d| d.completed_at),
        process_instance_key: detail.and_then(|d| d.process_instance_key),
    }
}

/// A product instance (TMF637 Product).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetView {
    /// The instance.
    pub id: Uuid,
    /// Its customer.
    pub customer_id: String,
    /// The offering.
    pub offering_id: Uuid,
    /// The offering version it runs.
    pub offering_version: u32,
    /// PENDING_ACTIVATION, ACTIVE, PENDING_MODIFICATION, …, DISCONNECTED.
    pub status: String,
    /// Bumped on every change (with a history row).
    pub version: i64,
    /// Characteristics.
    pub characteristics: Value,
    /// The parent instance (add-ons).
    pub parent_id: Option<Uuid>,
    /// The subscription it belongs to.
    pub subscription_id: Option<Uuid>,
    /// The downstream references of its effects (reservation, service, charge).
    pub external_references: Value,
    /// When it became ACTIVE.
    pub activation_date: Option<DateTime<Utc>>,
    /// When it was disconnected.
    pub termination_date: Option<DateTime<Utc>>,
    /// The order that created it.
    pub origin_order_id: Uuid,
    /// The order that changed it last.
    pub last_order_id: Uuid,
    /// Its history, oldest first (single reads only).
    pub history: Vec<AssetHistoryView>,
}

/// One version of a product instance.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetHistoryView {
    /// The version.
    pub version: i64,
    /// Its status.
    pub status: String,
    /// ADD, MODIFY, DELETE or STATUS.
    pub change: String,
    /// Characteristics at that version.
    pub characteristics: Value,
    /// The order.
    pub order_id: Uuid,
    /// The item.
    pub order_item_id: Uuid,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// An asset as the API shows it.
pub fn asset_view(i: &ProductInstance, refs: &References, history: &[HistoryRow]) -> AssetView {
    AssetView {
        id: i.id.as_uuid(),
        customer_id: i.customer.as_str().to_owned(),
        offering_id: i.offering_id.as_uuid(),
        offering_version: i.offering_version,
        status: i.status.as_str().to_owned(),
        version: i.version,
        characteristics: Value::Object(i.characteristics.clone()),
        parent_id: i.parent.map(|p| p.as_uuid()),
        subscription_id: i.subscription.map(|s| s.as_uuid()),
        external_references: Value::Object(refs.clone()),
        activation_date: i.activation_date,
        termination_date: i.termination_date,
        origin_order_id: i.origin_order.as_uuid(),
        last_order_id: i.last_order.as_uuid(),
        history: history
            .iter()
            .map(|h| AssetHistoryView {
                version: h.version,
                status: h.status.clone(),
                change: h.change.clone(),
                characteristics: h.characteristics.clone(),
                order_id: h.order_id,
                order_item_id: h.order_item_id,
                changed_at: h.changed_at,
            })
            .collect(),
    }
}

/// A customer's product instances.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetList {
    /// Oldest first.
    pub assets: Vec<AssetView>,
}

/// A subscription.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    /// The subscription.
    pub id: Uuid,
    /// Its customer.
    pub customer_id: String,
    /// PENDING_ACTIVATION, ACTIVE, SUSPENDED, TERMINATED, CANCELLED.
    pub status: String,
    /// Its version (billing triggers name it).
    pub version: i64,
    /// When it started.
    pub start_date: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_date: Option<DateTime<Utc>>,
    /// The order that started it.
    pub order_id: Uuid,
}

/// A subscription as the API shows it.
pub fn subscription_view(s: &Subscription) -> SubscriptionView {
    SubscriptionView {
        id: s.id.as_uuid(),
        customer_id: s.customer.as_str().to_owned(),
        status: s.status.as_str().to_owned(),
        version: s.version,
        start_date: s.start_date,
        end_date: s.end_date,
        order_id: s.order.as_uuid(),
    }
}

/// A customer's subscriptions.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionList {
    /// Oldest first.
    pub subscriptions: Vec<SubscriptionView>,
}
