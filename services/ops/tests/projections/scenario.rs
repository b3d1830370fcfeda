//! A small business day as the services publish it: quotes (one overridden, one accepted and
//! converted), approval requests (one decided by manager1, one waiting, one expired), two
//! orders (one completed with an installed product after a task retry, one cancelled), fallout
//! raised and resolved, another raised and open, an external call with a downstream reference.

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{Value, json};

use crate::harness::{envelope, order_moved};

/// The customer of the day.
pub const CUSTOMER: &str = "CUST-9";
/// The provisioning system's reference of the completed order's activation.
pub const REFERENCE: &str = "PRV-77";

fn quote(
    tenant: &str,
    quote: &str,
    version: i64,
    kind: &str,
    to: &str,
    at: DateTime<Utc>,
) -> (&'static str, Value) {
    (
        "cpq.quote.events.v1",
        envelope(
            tenant,
            &format!("cpq.quote.{kind}.v1"),
            ("Quote", quote, version),
            quote,
            at,
            "sales1",
            json!({"quoteId": quote, "customerId": CUSTOMER, "revision": 1, "toStatus": to}),
        ),
    )
}

fn approval(
    tenant: &str,
    request: &str,
    quote: &str,
    version: i64,
    kind: &str,
    status: &str,
    at: DateTime<Utc>,
) -> (&'static str, Value) {
    (
        "cpq.approval.events.v1",
        envelope(
            tenant,
            &format!("approval.{kind}.v1"),
            ("ApprovalRequest", request, version),
            request,
            at,
            "manager1",
            json!({"requestId": request, "quoteId": quote, "status": status,
                   "decisions": [{"actorId": "manager1", "decision": "APPROVE"}]}),
        ),
    )
}

fn fallout(
    tenant: &str,
    id: &str,
    order: &str,
    version: i64,
    status: &str,
    opened: DateTime<Utc>,
    at: DateTime<Utc>,
) -> (&'static str, Value) {
    (
        "oms.order.events.v1",
        envelope(
            tenant,
            "oms.fallout.status-changed.v1",
            ("Fallout", id, version),
            order,
            at,
            "order-service",
            json!({"falloutId": id, "orderId": order, "taskId": "t-2", "category": "RETRIES_EXHAUSTED",
                   "severity": "HIGH", "ownerTeam": "order-repair", "status": status,
                   "failureCode": "PROVISIONING_TIMEOUT", "message": "the activation timed out",
                   "retryable": true, "openedAt": opened.to_rfc3339(),
                   "resolvedAt": (status == "RESOLVED").then(|| at.to_rfc3339())}),
        ),
    )
}

fn task(
    tenant: &str,
    order: &str,
    task: &str,
    version: i64,
    to: &str,
    at: DateTime<Utc>,
) -> (&'static str, Value) {
    let kind = match to {
        "DISPATCHED" => "dispatched",
        "SUCCEEDED" => "succeeded",
        _ => "failed",
    };
    (
        "oms.fulfillment-task.events.v1",
        envelope(
            tenant,
            &format!("oms.fulfillment-task.{kind}.v1"),
            ("FulfillmentTask", task, version),
            order,
            at,
            "order-service",
            json!({"orderId": order, "orderItemId": "i-1", "taskId": task, "taskType": "ACTIVATE_SERVICE",
                   "operation": "PROVISIONING_ACTIVATE", "toStatus": to,
                   "externalReference": (to == "SUCCEEDED").then_some(REFERENCE)}),
        ),
    )
}

/// The day's events for `tenant`, each aggregate's in order.
pub fn business_day(tenant: &str) -> Vec<(&'static str, Value)> {
    let t0 = Utc::now() - Span::minutes(30);
    let at = |s: i64| t0 + Span::seconds(s);
    let mut completed = order_moved(tenant, "o-1", 3, "IN_PROGRESS", "COMPLETED", at(300));
    completed.1["eventType"] = json!("oms.order.completed.v1");
    completed.1["payload"]["customerId"] = json!(CUSTOMER);
    completed.1["payload"]["items"] = json!([
        {"orderItemId": "i-1", "action": "ADD", "offeringId": "off-1", "offeringVersion": 1,
         "quantity": 1, "productInstanceId": "pi-1", "status": "COMPLETED"}]);
    let customer = |mut event: (&'static str, Value)| {
        event.1["payload"]["customerId"] = json!(CUSTOMER);
        event
    };
    let mut created = customer(order_moved(
        tenant,
        "o-1",
        1,
        "DRAFT",
        "ACKNOWLEDGED",
        at(100),
    ));
    created.1["eventType"] = json!("oms.order.created.v1");
    let mut other = customer(order_moved(
        tenant,
        "o-2",
        1,
        "DRAFT",
        "ACKNOWLEDGED",
        at(110),
    ));
    other.1["eventType"] = json!("oms.order.created.v1");
    let mut cancelled = customer(order_moved(
        tenant,
        "o-2",
        2,
        "ACKNOWLEDGED",
        "CANCELLED",
        at(400),
    ));
    cancelled.1["eventType"] = json!("oms.order.cancelled.v1");
    vec![
        quote(tenant, "q-1", 1, "created", "DRAFT", at(0)),
        quote(tenant, "q-2", 1, "created", "DRAFT", at(1)),
        quote(tenant, "q-3", 1, "created", "DRAFT", at(2)),
        quote(tenant, "q-1", 2, "price-overridden", "PRICED", at(10)),
        quote(tenant, "q-1", 3, "price-overridden", "PRICED", at(11)),
        approval(tenant, "r-1", "q-1", 1, "requested", "PENDING", at(20)),
        approval(tenant, "r-2", "q-2", 1, "requested", "PENDING", at(21)),
        approval(tenant, "r-3", "q-3", 1, "requested", "PENDING", at(22)),
        approval(tenant, "r-3", "q-3", 2, "expired", "EXPIRED", at(60)),
        approval(tenant, "r-1", "q-1", 2, "approved", "APPROVED", at(80)),
        quote(tenant, "q-1", 4, "accepted", "ACCEPTED", at(90)),
        quote(tenant, "q-1", 5, "converted", "CONVERTED", at(95)),
        created,
        other,
        customer(order_moved(
            tenant,
            "o-1",
            2,
            "ACKNOWLEDGED",
            "IN_PROGRESS",
            at(120),
        )),
        task(tenant, "o-1", "t-2", 1, "DISPATCHED", at(130)),
        task(tenant, "o-1", "t-2", 2, "FAILED_RETRYABLE", at(140)),
        fallout(tenant, "f-1", "o-1", 1, "OPEN", at(141), at(141)),
        fallout(tenant, "f-2", "o-1", 1, "OPEN", at(142), at(142)),
        task(tenant, "o-1", "t-2", 3, "DISPATCHED", at(200)),
        task(tenant, "o-1", "t-2", 4, "SUCCEEDED", at(250)),
        fallout(tenant, "f-1", "o-1", 2, "RESOLVED", at(141), at(251)),
        completed,
        cancelled,
    ]
}
