//! The command each dispatched task asks of the integration service, in the core's words
//! (the integration's `ExternalCommand` shapes, workflow/README.md). Built when the task is
//! dispatched, from the order, its item, the references its earlier effects left (this order's
//! succeeded tasks, the product instance's) and the subscription a charge belongs to.

use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::domain::{
    FulfilmentOperation, FulfilmentTask, Order, OrderItem, Subscription, TaskPurpose,
};

/// Which reference an operation's result is kept under.
pub fn reference_kind(task: &FulfilmentTask) -> Option<&'static str> {
    match task.operation {
        FulfilmentOperation::InventoryReserve => Some("reservation"),
        FulfilmentOperation::ProvisioningActivate if task.base_type() == "ACTIVATE_SERVICE" => {
            Some("service")
        }
        FulfilmentOperation::ProvisioningActivate => Some("cpe"),
        FulfilmentOperation::BillingStart => Some("charge"),
        _ => None,
    }
}

/// The references an item's effects have left so far: the instance's, overlaid by this
/// order's tasks of the item whose effect stands (succeeded, or being undone: a compensation
/// names the effect it undoes), latest wins.
pub fn references_of(
    order: &Order,
    item: &OrderItem,
    instance: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let mut refs = instance.cloned().unwrap_or_default();
    let mut tasks: Vec<&FulfilmentTask> =
        order.tasks.iter().filter(|t| t.item == item.id).collect();
    tasks.sort_by_key(|t| t.sequence);
    for task in tasks {
        if let (Some(kind), Some(reference)) = (reference_kind(task), &task.external_reference)
            && matches!(
                task.status,
                crate::domain::TaskStatus::Succeeded | crate::domain::TaskStatus::Compensating
            )
        {
            refs.insert(kind.to_owned(), Value::String(reference.clone()));
        }
    }
    refs
}

fn reference(refs: &Map<String, Value>, kind: &str) -> Value {
    refs.get(kind)
        .cloned()
        .unwrap_or(Value::String(String::new()))
}

/// What the item bills: the recurring amount monthly, else the one-time amount, else nothing
/// (zero, once).
fn charge(item: &OrderItem) -> (Decimal, &'static str) {
    match (item.recurring_charge, item.one_time_charge) {
        (Some(recurring), _) => (recurring, "MONTHLY"),
        (None, Some(once)) => (once, "ONE_TIME"),
        (None, None) => (Decimal::ZERO, "ONE_TIME"),
    }
}

/// The request of `task` (a task of `item` in `order`).
pub fn request_for(
    order: &Order,
    item: &OrderItem,
    task: &FulfilmentTask,
    refs: &Map<String, Value>,
    subscription: Option<&Subscription>,
) -> Value {
    let customer = order.customer.as_str();
    // A compensation names exactly the effect it undoes (an item may have two activations).
    let undone = match task.purpose {
        TaskPurpose::Compensate { of } => order
            .task(of)
            .and_then(|t| t.external_reference.clone())
            .map(Value::String),
        _ => None,
    };
    let reference = |refs: &Map<String, Value>, kind: &str| {
        undone.clone().unwrap_or_else(|| reference(refs, kind))
    };
    let why = format!(
        "order {} line {} ({})",
        order.id,
        item.line,
        item.action.as_str()
    );
    match task.operation {
        FulfilmentOperation::InventoryReserve => json!({
            "sku": item.offering_id.to_string(),
            "quantity": item.quantity,
        }),
        FulfilmentOperation::InventoryRelease => json!({
            "reservationReference": reference(refs, "reservation"),
            "reason": why,
        }),
        FulfilmentOperation::ProvisioningActivate => json!({
            "serviceSpecification": format!("{}:{}", item.offering_id, task.task_type),
            "customerAccount": customer,
            "characteristics": Value::Object(item.characteristics.clone()),
        }),
        FulfilmentOperation::ProvisioningModify => json!({
            "serviceReference": reference(refs, "service"),
            "characteristics": Value::Object(item.characteristics.clone()),
        }),
        FulfilmentOperation::ProvisioningDeactivate => json!({
            "serviceReference": reference(refs, "service"),
            "reason": why,
        }),
        FulfilmentOperation::BillingStart => {
            let (amount, recurrence) = charge(item);
            let mut request = json!({
                "billingAccount": customer,
                "amount": amount.normalize().to_string(),
                "currency": order.currency,
                "recurrence": recurrence,
                "description": why,
            });
            if let Some(subscription) = subscription {
                request["subscriptionId"] = json!(subscription.id.to_string());
                request["subscriptionVersion"] = json!(subscription.version);
            }
            request
        }
        FulfilmentOperation::BillingReverse => json!({
            "chargeReference": reference(refs, "charge"),
            "reason": why,
        }),
        FulfilmentOperation::CrmUpdateOrderStatus => json!({
            "customerAccount": customer,
            "orderStatus": order.status.as_str(),
            "note": why,
        }),
        FulfilmentOperation::ContractRegister => json!({
            "customerAccount": customer,
            "documentReference": format!("order-{}", order.id),
            "signedAt": Utc::now().to_rfc3339(),
            "signatory": customer,
        }),
        FulfilmentOperation::NotificationSend => json!({
            "recipient": customer,
            "channel": "EMAIL",
            "template": "order-progress",
            "parameters": {"orderId": order.id.to_string(), "line": item.line},
        }),
    }
}
