//! The order service's events (`oms.order.events.v1`, `oms.fulfillment-task.events.v1`, keyed by
//! order id) and its audit evidence. Payloads are the serde structs below; their JSON Schemas
//! are `contracts/schemas/events/oms.*.json`.

use chrono::{DateTime, Utc};
use common_kernel::audit::{AuditResource, Evidence};
use common_kernel::outbox::NewEvent;
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::{
    Failure, Fallout, FalloutStatus, FulfilmentTask, ItemStatus, Order, OrderChange, OrderItemId,
    OrderOrigin, OrderStatus, TaskStatus,
};

/// The topic of order events.
pub const ORDER_TOPIC: &str = "oms.order.events.v1";
/// The topic of fulfilment task events.
pub const TASK_TOPIC: &str = "oms.fulfillment-task.events.v1";
/// The aggregate type on order events and evidence.
pub const ORDER_AGGREGATE: &str = "Order";
/// The aggregate type of product instance evidence.
pub const ASSET_AGGREGATE: &str = "ProductInstance";

/// An item as events show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPayload {
    /// The item.
    pub order_item_id: String,
    /// ADD, MODIFY, DELETE or NO_CHANGE.
    pub action: &'static str,
    /// The offering.
    pub offering_id: String,
    /// Its version.
    pub offering_version: u32,
    /// How many.
    pub quantity: u32,
    /// The parent item (add-ons).
    pub parent_item_id: Option<String>,
    /// The product instance a MODIFY or DELETE changes.
    pub product_instance_id: Option<String>,
    /// Its status.
    pub status: ItemStatus,
}

/// Why an order, item or task failed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailurePayload {
    /// Stable code.
    pub code: String,
    /// Explanation.
    pub reason: String,
    /// Whether a retry can still succeed.
    pub retryable: bool,
}

impl From<&Failure> for FailurePayload {
    fn from(failure: &Failure) -> Self {
        Self {
            code: failure.code.clone(),
            reason: failure.reason.clone(),
            retryable: failure.retryable,
        }
    }
}

/// Every `oms.order.*` payload: the order's transition and where it stands.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTransitionPayload {
    /// The order.
    pub order_id: String,
    /// Its customer.
    pub customer_id: String,
    /// QUOTE or DIRECT.
    pub origin: &'static str,
    /// The quote it was captured from.
    pub quote_id: Option<String>,
    /// The quote revision.
    pub quote_revision: Option<u32>,
    /// The snapshot's hash.
    pub snapshot_hash: Option<String>,
    /// Status before (none on capture).
    pub from_status: Option<OrderStatus>,
    /// Status after.
    pub to_status: OrderStatus,
    /// The plan's hash, once decomposed.
    pub plan_hash: Option<String>,
    /// Tasks in the plan.
    pub task_count: usize,
    /// Why it failed or fell out.
    pub failure: Option<FailurePayload>,
    /// The items (on capture and completion; empty otherwise).
    pub items: Vec<ItemPayload>,
}

/// Every `oms.fulfillment-task.*` payload.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskTransitionPayload {
    /// The order.
    pub order_id: String,
    /// The item.
    pub order_item_id: String,
    /// The task.
    pub task_id: String,
    /// Its type in the plan (RESERVE_INVENTORY, …).
    pub task_type: String,
    /// The integration operation it asks for.
    pub operation: &'static str,
    /// Status before.
    pub from_status: Option<TaskStatus>,
    /// Status after.
    pub to_status: TaskStatus,
    /// The downstream's reference of the effect.
    pub external_reference: Option<String>,
    /// Why it failed.
    pub failure: Option<FailurePayload>,
    /// FULFIL, COMPENSATE or REDO.
    pub purpose: &'static str,
    /// The task a compensation undoes or a redo replaces.
    pub refers_to: Option<String>,
}

fn order_event_type(from: Option<OrderStatus>, to: OrderStatus) -> &'static str {
    match (from, to) {
        (None, _) => "oms.order.created.v1",
        (_, OrderStatus::Validated) => "oms.order.validated.v1",
        (_, OrderStatus::Decomposed) => "oms.order.decomposed.v1",
        (_, OrderStatus::InProgress) => "oms.order.fulfillment-started.v1",
        (_, OrderStatus::Completed) => "oms.order.completed.v1",
        (_, OrderStatus::Fallout) => "oms.order.entered-fallout.v1",
        (_, OrderStatus::Failed) => "oms.order.failed.v1",
        (_, OrderStatus::Cancelled) => "oms.order.cancelled.v1",
        _ => "oms.order.status-changed.v1",
    }
}

fn task_event_type(to: TaskStatus) -> &'static str {
    match to {
        TaskStatus::Dispatched => "oms.fulfillment-task.dispatched.v1",
        TaskStatus::Succeeded => "oms.fulfillment-task.succeeded.v1",
        TaskStatus::FailedRetryable | TaskStatus::FailedNonRetryable => {
            "oms.fulfillment-task.failed.v1"
        }
        TaskStatus::Compensated => "oms.fulfillment-task.compensated.v1",
        _ => "oms.fulfillment-task.status-changed.v1",
    }
}

fn items_of(order: &Order) -> Vec<ItemPayload> {
    order
        .items
        .iter()
        .map(|i| ItemPayload {
            order_item_id: i.id.to_string(),
            action: i.action.as_str(),
            offering_id: i.offering_id.to_string(),
            offering_version: i.offering_version,
            quantity: i.quantity,
            parent_item_id: i.parent.map(|p| p.to_string()),
            product_instance_id: i.product_instance.map(|p| p.to_string()),
            status: i.status,
        })
        .collect()
}

/// The order transition payload of `order` from `from`.
pub fn order_payload(order: &Order, from: Option<OrderStatus>) -> OrderTransitionPayload {
    let (origin, quote_id, quote_revision, snapshot_hash) = match &order.origin {
        OrderOrigin::Quote {
            quote_id,
            revision,
            snapshot_hash,
        } => (
            "QUOTE",
            Some(quote_id.to_string()),
            Some(*revision),
            Some(snapshot_hash.clone()),
        ),
        OrderOrigin::Direct => ("DIRECT", None, None, None),
    };
    let with_items = from.is_none() || order.status == OrderStatus::Completed;
    OrderTransitionPayload {
        order_id: order.id.to_string(),
        customer_id: order.customer.as_str().to_owned(),
        origin,
        quote_id,
        quote_revision,
        snapshot_hash,
        from_status: from,
        to_status: order.status,
        plan_hash: order.plan_hash.clone(),
        task_count: order.tasks.len(),
        failure: order.failure.as_ref().map(FailurePayload::from),
        items: if with_items {
            items_of(order)
        } else {
            Vec::new()
        },
    }
}

fn task_payload(
    order: &Order,
    task: &FulfilmentTask,
    from: Option<TaskStatus>,
) -> TaskTransitionPayload {
    TaskTransitionPayload {
        order_id: order.id.to_string(),
        order_item_id: task.item.to_string(),
        task_id: task.id.to_string(),
        task_type: task.task_type.clone(),
        operation: task.operation.as_str(),
        from_status: from,
        to_status: task.status,
        external_reference: task.external_reference.clone(),
        failure: task.failure.as_ref().map(FailurePayload::from),
        purpose: task.purpose.kind(),
        refers_to: task.purpose.refers_to().map(|t| t.to_string()),
    }
}

/// The events of `changes` (order transitions and the task transitions worth publishing:
/// dispatched, succeeded, failed), in the order they happened.
pub fn events_of(
    order: &Order,
    changes: &[OrderChange],
) -> Result<Vec<NewEvent>, serde_json::Error> {
    let mut events = Vec::new();
    for change in changes {
        match change {
            OrderChange::Order { from, to } => {
                let mut payload = order_payload(order, *from);
                payload.to_status = *to;
                events.push(NewEvent {
                    event_type: order_event_type(*from, *to),
                    event_version: 1,
                    topic: ORDER_TOPIC,
                    aggregate_type: ORDER_AGGREGATE,
                    aggregate_id: order.id.to_string(),
                    aggregate_version: order.version,
                    partition_key: order.id.to_string(),
                    payload: serde_json::to_value(payload)?,
                });
            }
            OrderChange::Task { task, from, to, .. } => {
                if !matches!(
                    to,
                    TaskStatus::Dispatched
                        | TaskStatus::Succeeded
                        | TaskStatus::FailedRetryable
                        | TaskStatus::FailedNonRetryable
                        | TaskStatus::Compensated
                ) {
                    continue;
                }
                let Some(current) = order.task(*task) else {
                    continue;
                };
                let mut payload = task_payload(order, current, *from);
                payload.to_status = *to;
                events.push(NewEvent {
                    event_type: task_event_type(*to),
                    event_version: 1,
                    topic: TASK_TOPIC,
                    aggregate_type: "FulfillmentTask",
                    aggregate_id: task.to_string(),
                    aggregate_version: current.version,
                    partition_key: order.id.to_string(),
                    payload: serde_json::to_value(payload)?,
                });
            }
            OrderChange::Item { .. } => {}
        }
    }
    Ok(events)
}

/// The aggregate type of fallout events.
pub const FALLOUT_AGGREGATE: &str = "Fallout";

/// `oms.fallout.status-changed.v1`: a fallout record as it stands after a change (raised,
/// reopened, assigned, retried, resolved, closed), so a projection keeps the newest by version
/// without replaying the workbench's rules.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FalloutPayload {
    /// The record.
    pub fallout_id: String,
    /// The order.
    pub order_id: String,
    /// The item, when one failed.
    pub order_item_id: Option<String>,
    /// The task, when one failed.
    pub task_id: Option<String>,
    /// Where it comes from (INVENTORY, PROVISIONING, …).
    pub category: &'static str,
    /// How bad.
    pub severity: &'static str,
    /// The owning team.
    pub owner_team: String,
    /// The operator who has it.
    pub assignee: Option<String>,
    /// Status before the change (`None` when raised).
    pub from_status: Option<&'static str>,
    /// Status after.
    pub status: &'static str,
    /// Stable code of the failure.
    pub failure_code: String,
    /// Explanation.
    pub message: String,
    /// Whether a retry as is may succeed.
    pub retryable: bool,
    /// Raised at.
    pub opened_at: DateTime<Utc>,
    /// Resolved at.
    pub resolved_at: Option<DateTime<Utc>>,
    /// How it was resolved.
    pub resolution_type: Option<&'static str>,
}

/// The event of `fallout` as it now stands, from `from` (`None`: just raised).
pub fn fallout_event(
    fallout: &Fallout,
    from: Option<FalloutStatus>,
) -> Result<NewEvent, serde_json::Error> {
    let payload = FalloutPayload {
        fallout_id: fallout.id.to_string(),
        order_id: fallout.order.to_string(),
        order_item_id: fallout.item.map(|i| i.to_string()),
        task_id: fallout.task.map(|t| t.to_string()),
        category: fallout.category.as_str(),
        severity: fallout.severity.as_str(),
        owner_team: fallout.owner_team.clone(),
        assignee: fallout.assignee.clone(),
        from_status: from.map(FalloutStatus::as_str),
        status: fallout.status.as_str(),
        failure_code: fallout.failure_code.clone(),
        message: fallout.message.clone(),
        retryable: fallout.retryable,
        opened_at: fallout.created_at,
        resolved_at: fallout.resolved_at,
        resolution_type: fallout.resolution_type.map(|r| r.as_str()),
    };
    Ok(NewEvent {
        event_type: "oms.fallout.status-changed.v1",
        event_version: 1,
        topic: ORDER_TOPIC,
        aggregate_type: FALLOUT_AGGREGATE,
        aggregate_id: fallout.id.to_string(),
        aggregate_version: fallout.version,
        partition_key: fallout.order.to_string(),
        payload: serde_json::to_value(payload)?,
    })
}

/// A short view of the order for evidence's before and after.
pub fn audit_view(order: &Order) -> Value {
    json!({
        "status": order.status.as_str(),
        "planHash": order.plan_hash,
        "failure": order.failure.as_ref().map(FailurePayload::from),
        "items": order.items.iter().map(|i| json!({
            "orderItemId": i.id.to_string(), "status": i.status.as_str(),
        })).collect::<Vec<_>>(),
        "tasks": order.tasks.iter().map(|t| json!({
            "taskId": t.id.to_string(), "taskType": t.task_type, "status": t.status.as_str(),
            "externalReference": t.external_reference,
        })).collect::<Vec<_>>(),
    })
}

/// Evidence of a command on `after` (from `before`, none on capture).
pub fn evidence(
    event_type: &'static str,
    before: Option<&Order>,
    after: &Order,
    reason: String,
) -> Evidence {
    Evidence {
        event_type,
        resource: AuditResource {
            resource_type: ORDER_AGGREGATE,
            resource_id: after.id.to_string(),
            resource_version: after.version,
        },
        business_reason: Some(reason),
        before: before.map(audit_view),
        after: Some(audit_view(after)),
        policy: None,
    }
}

/// Items whose change in `changes` was to COMPLETED (the installed base follows them).
pub fn completed_items(changes: &[OrderChange]) -> Vec<OrderItemId> {
    changes
        .iter()
        .filter_map(|c| match c {
            OrderChange::Item { item, to, .. } if *to == ItemStatus::Completed => Some(*item),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! Every order and task event the service publishes satisfies its contract
    //! (`contracts/schemas/events/oms.*`): an order driven by the domain from capture to
    //! completion, one refused into fallout and one refused at capture give the envelopes the
    //! outbox writes, each validated against its schema.

    use std::collections::BTreeSet;

    use chrono::Utc;
    use common_kernel::context::RequestContext;
    use common_kernel::outbox;
    use domain_kernel::access::{Authority, Role};
    use domain_kernel::{ActorId, ActorType, TenantId};
    use serde_json::Map;

    use super::*;
    use crate::domain::demo;
    use crate::domain::{
        CustomerId, FulfilmentProfile, FulfilmentTaskId, ItemAction, NewOrder, NewOrderItem,
        OrderId, PlanItem, ProductOfferingId, decompose,
    };

    fn ctx() -> RequestContext {
        RequestContext::system(
            TenantId::parse("acme").unwrap(),
            ActorId::parse("order-workflow").unwrap(),
            ActorType::WorkflowWorker,
            "workflow",
            Authority {
                roles: vec![Role::WorkflowWorker],
                client: "order".into(),
                ..Authority::default()
            },
        )
    }

    fn captured() -> Order {
        let internet = OrderItemId::generate();
        let item = |id, parent| NewOrderItem {
            id,
            action: ItemAction::Add,
            offering_id: ProductOfferingId::generate(),
            offering_version: 1,
            quantity: 1,
            characteristics: Map::new(),
            parent,
            product_instance: None,
            mandatory: true,
            recurring_charge: Some(rust_decimal::Decimal::new(14900, 2)),
            one_time_charge: None,
        };
        let (order, _) = Order::capture(NewOrder {
            id: OrderId::generate(),
            tenant: TenantId::parse("acme").unwrap(),
            customer: CustomerId::parse("C-1").unwrap(),
            origin: OrderOrigin::Direct,
            currency: "USD".into(),
            items: vec![
                item(internet, None),
                item(OrderItemId::generate(), Some(internet)),
            ],
        })
        .unwrap();
        order
    }

    fn decomposed(order: &mut Order) -> Vec<OrderChange> {
        let profiles: Vec<FulfilmentProfile> = vec![demo::internet(), demo::static_ip()];
        let items: Vec<PlanItem<'_>> = order
            .items
            .iter()
            .zip(&profiles)
            .map(|(i, p)| PlanItem {
                item: i.id,
                action: i.action,
                parent: i.parent,
                profile: Some(p),
            })
            .collect();
        let plan = decompose(&items, &mut FulfilmentTaskId::generate).unwrap();
        let mut changes = order.validate().unwrap();
        changes.extend(order.decompose(plan).unwrap());
        changes
    }

    fn check(order: &Order, changes: &[OrderChange], seen: &mut BTreeSet<&'static str>) {
        for event in events_of(order, changes).unwrap() {
            seen.insert(event.event_type);
            let envelope =
                serde_json::to_value(outbox::envelope(&ctx(), event, Utc::now())).unwrap();
            if let Err(error) = event_contracts::validate(&envelope) {
                panic!(
                    "{} breaks its contract: {error}\n{envelope:#}",
                    envelope["eventType"]
                );
            }
        }
    }

    #[test]
    fn every_published_event_satisfies_its_contract() {
        let mut seen = BTreeSet::new();
        let mut order = captured();
        let created = vec![OrderChange::Order {
            from: None,
            to: order.status,
        }];
        check(&order, &created, &mut seen);
        let changes = decomposed(&mut order);
        check(&order, &changes, &mut seen);
        loop {
            let (ready, changes) = order.dispatch_ready().unwrap();
            check(&order, &changes, &mut seen);
            if ready.is_empty() {
                break;
            }
            for task in ready {
                let changes = order
                    .record_task_success(task, Some(format!("REF-{task}")), Some("ACTIVE".into()))
                    .unwrap();
                check(&order, &changes, &mut seen);
            }
        }
        let changes = order.complete().unwrap();
        check(&order, &changes, &mut seen);

        let mut refused = captured();
        decomposed(&mut refused);
        let (ready, changes) = refused.dispatch_ready().unwrap();
        check(&refused, &changes, &mut seen);
        let failure = Failure {
            code: "INSUFFICIENT_STOCK".into(),
            reason: "none left".into(),
            retryable: false,
        };
        let changes = refused
            .record_task_rejection(ready[0], failure.clone())
            .unwrap();
        check(&refused, &changes, &mut seen);

        let mut invalid = captured();
        let changes = invalid.fail_validation(failure).unwrap();
        check(&invalid, &changes, &mut seen);

        // Cancelled during fulfilment: the applied effects are compensated, then CANCELLED.
        let mut cancelled = captured();
        decomposed(&mut cancelled);
        let (ready, changes) = cancelled.dispatch_ready().unwrap();
        check(&cancelled, &changes, &mut seen);
        for task in ready {
            let changes = cancelled
                .record_task_success(task, Some(format!("REF-{task}")), None)
                .unwrap();
            check(&cancelled, &changes, &mut seen);
        }
        let (_, changes) = cancelled.request_cancellation(None).unwrap();
        check(&cancelled, &changes, &mut seen);
        for _ in 0..8 {
            let (ready, changes) = cancelled.dispatch_ready().unwrap();
            check(&cancelled, &changes, &mut seen);
            for task in ready {
                let changes = cancelled
                    .record_task_success(task, Some(format!("UNDO-{task}")), None)
                    .unwrap();
                check(&cancelled, &changes, &mut seen);
            }
        }
        assert_eq!(cancelled.status, OrderStatus::Cancelled);

        // Amended in flight: the internet redone with another bandwidth.
        let mut amended = captured();
        decomposed(&mut amended);
        let (ready, changes) = amended.dispatch_ready().unwrap();
        check(&amended, &changes, &mut seen);
        for task in ready {
            amended
                .record_task_success(task, Some(format!("REF-{task}")), None)
                .unwrap();
        }
        let internet = amended.items[0].id;
        let wanted = [crate::domain::ItemAmendment {
            item: internet,
            characteristics: serde_json::Map::from_iter([("bandwidthMbps".to_owned(), 500.into())]),
        }];
        let (impact, changes) = amended.request_amendment(&wanted).unwrap();
        check(&amended, &changes, &mut seen);
        let record = crate::infra::amendments::Amendment {
            id: crate::infra::amendments::AmendmentId::generate(),
            order: amended.id,
            version: 1,
            state: "PENDING".into(),
            desired: serde_json::json!([]),
            impact: serde_json::json!({}),
            reason: "bandwidth".into(),
            requested_by: "ops1".into(),
            created_at: Utc::now(),
            completed_at: None,
        };
        let event = crate::app::amendments::amended_event(&amended, &record, &impact).unwrap();
        seen.insert(event.event_type);
        let envelope = serde_json::to_value(outbox::envelope(&ctx(), event, Utc::now())).unwrap();
        if let Err(error) = event_contracts::validate(&envelope) {
            panic!("oms.order.amended.v1 breaks its contract: {error}\n{envelope:#}");
        }

        // A fallout record raised, then resolved: both snapshots satisfy their contract.
        let mut raised = crate::domain::Fallout {
            id: crate::domain::FalloutId::generate(),
            order: amended.id,
            item: None,
            task: Some(FulfilmentTaskId::generate()),
            severity: crate::domain::Severity::High,
            category: crate::domain::FalloutCategory::RetriesExhausted,
            status: FalloutStatus::Open,
            failure_code: "PROVISIONING_TIMEOUT".into(),
            message: "the activation timed out".into(),
            retryable: true,
            owner_team: "order-repair".into(),
            assignee: None,
            created_at: Utc::now(),
            last_attempt_at: None,
            resolved_at: None,
            resolution_type: None,
            resolution_note: None,
            version: 1,
        };
        let opened = fallout_event(&raised, None).unwrap();
        raised.status = FalloutStatus::Resolved;
        raised.resolved_at = Some(Utc::now());
        raised.resolution_type = Some(crate::domain::ResolutionType::Retried);
        raised.version = 2;
        let resolved = fallout_event(&raised, Some(FalloutStatus::Open)).unwrap();
        for event in [opened, resolved] {
            seen.insert(event.event_type);
            let envelope =
                serde_json::to_value(outbox::envelope(&ctx(), event, Utc::now())).unwrap();
            if let Err(error) = event_contracts::validate(&envelope) {
                panic!("oms.fallout.status-changed.v1 breaks its contract: {error}\n{envelope:#}");
            }
        }

        for expected in [
            "oms.fallout.status-changed.v1",
            "oms.order.created.v1",
            "oms.order.validated.v1",
            "oms.order.decomposed.v1",
            "oms.order.fulfillment-started.v1",
            "oms.order.completed.v1",
            "oms.order.entered-fallout.v1",
            "oms.order.failed.v1",
            "oms.order.cancelled.v1",
            "oms.order.amended.v1",
            "oms.fulfillment-task.compensated.v1",
            "oms.fulfillment-task.dispatched.v1",
            "oms.fulfillment-task.succeeded.v1",
            "oms.fulfillment-task.failed.v1",
        ] {
            assert!(
                seen.contains(expected),
                "{expected} never published: {seen:?}"
            );
        }
    }
}
