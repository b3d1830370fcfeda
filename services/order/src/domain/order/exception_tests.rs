//! The exceptions of the acceptance list, on the demo order (internet with a static IP add-on,
//! and a router): cancellation during fulfilment compensates in reverse order and never calls
//! what did not start; an item past its point of no return goes to manual handling while the
//! rest is undone; a refusal is not retried as is but redone with corrected data; hold stops
//! new starts.

use super::tests::{Demo, failure};
use super::*;

fn succeed(demo: &mut Demo, item: OrderItemId, task_type: &str) {
    let task = demo.task(item, task_type);
    demo.order
        .record_task_success(task, Some(format!("REF-{task_type}")), None)
        .unwrap();
}

/// Dispatches and answers every call in flight with success until nothing moves.
fn run_to_rest(order: &mut Order) {
    for _ in 0..32 {
        let (batch, _) = order.dispatch_ready().unwrap();
        if batch.is_empty() {
            return;
        }
        for task in batch {
            order
                .record_task_success(task, Some("REF".into()), None)
                .unwrap();
        }
    }
}

#[test]
fn cancelling_during_fulfilment_undoes_in_reverse_order_and_never_starts_billing() {
    let mut demo = Demo::decomposed();
    let router = demo.router;
    demo.order.dispatch_ready().unwrap();
    succeed(&mut demo, router, "RESERVE_INVENTORY");
    demo.order.dispatch_ready().unwrap();
    succeed(&mut demo, router, "ACTIVATE_SERVICE");
    let billing = demo.task(router, "START_BILLING");
    assert_eq!(demo.order.task(billing).unwrap().status, TaskStatus::Ready);

    let preview = demo.order.assess_cancellation(Some(&[router])).unwrap();
    let action = |t: &str| preview.action_of(demo.task(router, t)).unwrap();
    assert_eq!(action("START_BILLING"), TaskAction::Stop);
    assert_eq!(
        action("ACTIVATE_SERVICE"),
        TaskAction::Compensate {
            operation: FulfilmentOperation::ProvisioningDeactivate
        }
    );
    assert_eq!(
        action("RESERVE_INVENTORY"),
        TaskAction::Compensate {
            operation: FulfilmentOperation::InventoryRelease
        }
    );

    let (applied, _) = demo.order.request_cancellation(Some(&[router])).unwrap();
    assert_eq!(applied, preview);
    assert_eq!(
        demo.order.task(billing).unwrap().status,
        TaskStatus::Cancelled
    );
    // Deactivation first: the release waits until nothing builds on the reservation.
    let activate = demo.task(router, "ACTIVATE_SERVICE");
    let reserve = demo.task(router, "RESERVE_INVENTORY");
    let deactivate = demo.order.compensation_of(activate).unwrap().id;
    assert!(demo.order.compensation_of(reserve).is_none());
    let (batch, _) = demo.order.dispatch_ready().unwrap();
    assert!(batch.contains(&deactivate));
    demo.order
        .record_task_success(deactivate, Some("DEACT-1".into()), None)
        .unwrap();
    demo.order.dispatch_ready().unwrap();
    let release = demo.order.compensation_of(reserve).unwrap().id;
    assert_eq!(
        demo.order.task(release).unwrap().operation,
        FulfilmentOperation::InventoryRelease
    );
    assert_eq!(
        demo.order.task(release).unwrap().status,
        TaskStatus::Dispatched
    );
    demo.order
        .record_task_success(release, Some("REL-1".into()), None)
        .unwrap();
    demo.order.dispatch_ready().unwrap();
    assert_eq!(
        demo.order.item(router).unwrap().status,
        ItemStatus::Compensated
    );
    assert_eq!(
        demo.order.task(reserve).unwrap().status,
        TaskStatus::Compensated
    );
    assert_eq!(
        demo.order.plan_revision, 3,
        "each compensation is a revision"
    );
    // The rest of the order goes on and completes without the router.
    assert_eq!(demo.order.status, OrderStatus::InProgress);
    run_to_rest(&mut demo.order);
    demo.order.complete().unwrap();
    assert_eq!(demo.order.status, OrderStatus::Completed);
}

#[test]
fn an_item_past_its_point_of_no_return_waits_for_an_undo_by_hand() {
    let mut demo = Demo::decomposed();
    run_to_rest(&mut demo.order);
    // Everything is applied; the order is not completed yet.
    assert!(demo.order.plan_settled());
    let internet = demo.internet;
    let preview = demo.order.assess_cancellation(None).unwrap();
    assert!(preview.whole_order);
    let outcome = |item| {
        preview
            .items
            .iter()
            .find(|i| i.order_item_id == item)
            .unwrap()
            .outcome
    };
    // Billing is every item's point of no return: all of them go to manual handling.
    assert_eq!(outcome(internet), ItemOutcome::ManualHandling);
    demo.order.request_cancellation(None).unwrap();
    assert_eq!(demo.order.status, OrderStatus::CancellationPending);
    assert!(demo.order.awaits_manual_undo());
    run_to_rest(&mut demo.order);
    assert_eq!(demo.order.status, OrderStatus::CancellationPending);
    for item in [demo.ip, demo.router, demo.internet] {
        demo.order.record_manual_undo(item).unwrap();
    }
    assert_eq!(demo.order.status, OrderStatus::Cancelled);
    assert!(
        demo.order
            .items
            .iter()
            .all(|i| i.status == ItemStatus::Compensated)
    );
}

#[test]
fn a_completed_order_is_never_cancelled() {
    let mut demo = Demo::decomposed();
    run_to_rest(&mut demo.order);
    demo.order.complete().unwrap();
    assert_eq!(
        demo.order.assess_cancellation(None).unwrap_err().code(),
        "ORDER_ALREADY_COMPLETED"
    );
}

#[test]
fn a_refusal_is_not_retried_as_is_but_redone_with_corrected_data() {
    let mut demo = Demo::decomposed();
    let router = demo.router;
    demo.order.dispatch_ready().unwrap();
    succeed(&mut demo, router, "RESERVE_INVENTORY");
    demo.order.dispatch_ready().unwrap();
    let activate = demo.task(router, "ACTIVATE_SERVICE");
    demo.order
        .record_task_rejection(activate, failure("PROVISIONING_REJECTED"))
        .unwrap();
    assert_eq!(demo.order.status, OrderStatus::Fallout);
    let before = demo.order.clone();
    assert_eq!(
        demo.order.retry_task(activate).unwrap_err().code(),
        "RETRY_NOT_ALLOWED"
    );
    assert_eq!(demo.order, before, "a refused retry changes nothing");

    let correction = TaskCorrection {
        characteristics: serde_json::Map::from_iter([("bandwidth".to_owned(), 500.into())]),
    };
    demo.order
        .retry_with_correction(activate, &correction)
        .unwrap();
    assert_eq!(demo.order.status, OrderStatus::InProgress);
    let redo = demo.order.replacement_of(activate).unwrap();
    assert_eq!(
        demo.order.task(redo).unwrap().task_type,
        "ACTIVATE_SERVICE_R2"
    );
    assert_eq!(
        demo.order.task(activate).unwrap().status,
        TaskStatus::Cancelled
    );
    assert_eq!(
        demo.order.item(router).unwrap().characteristics["bandwidth"],
        500
    );
    // A repeat finds the redo made.
    assert!(
        demo.order
            .retry_with_correction(activate, &correction)
            .unwrap()
            .is_empty()
    );
    run_to_rest(&mut demo.order);
    let billing = demo.task(router, "START_BILLING");
    assert_eq!(
        demo.order.task(billing).unwrap().status,
        TaskStatus::Succeeded
    );
    demo.order.complete().unwrap();
    assert_eq!(demo.order.status, OrderStatus::Completed);
}

#[test]
fn a_held_order_starts_nothing_until_it_is_resumed() {
    let mut demo = Demo::decomposed();
    demo.order.dispatch_ready().unwrap();
    let router = demo.router;
    succeed(&mut demo, router, "RESERVE_INVENTORY");
    demo.order.hold().unwrap();
    assert!(demo.order.hold().unwrap().is_empty(), "idempotent");
    let (batch, changes) = demo.order.dispatch_ready().unwrap();
    assert!(batch.is_empty() && changes.is_empty());
    demo.order.release().unwrap();
    let (batch, _) = demo.order.dispatch_ready().unwrap();
    assert!(batch.contains(&demo.task(demo.router, "ACTIVATE_SERVICE")));
}

#[test]
fn a_retryable_failure_is_retried_under_the_same_task_and_a_skip_settles_it() {
    let mut demo = Demo::decomposed();
    demo.order.dispatch_ready().unwrap();
    let reserve = demo.task(demo.router, "RESERVE_INVENTORY");
    demo.order
        .record_task_exhausted(reserve, failure("INVENTORY_UNAVAILABLE"))
        .unwrap();
    assert_eq!(demo.order.status, OrderStatus::Fallout);
    demo.order.retry_task(reserve).unwrap();
    assert!(
        demo.order.retry_task(reserve).unwrap().is_empty(),
        "idempotent"
    );
    assert_eq!(demo.order.status, OrderStatus::InProgress);
    let (batch, _) = demo.order.dispatch_ready().unwrap();
    assert!(
        batch.contains(&reserve),
        "the same task, so the same key downstream"
    );

    let notify = demo.task(demo.internet, "RESERVE_INVENTORY");
    demo.order
        .record_task_rejection(notify, failure("OUT_OF_STOCK"))
        .unwrap();
    demo.order
        .settle_task_manually(notify, &ManualResolution::Skipped)
        .unwrap();
    let settled = demo.order.task(notify).unwrap();
    assert_eq!(settled.status, TaskStatus::Succeeded);
    assert_eq!(settled.handling, TaskHandling::SkippedByOperator);
    assert_eq!(demo.order.status, OrderStatus::InProgress);
}

#[test]
fn an_amendment_redoes_only_the_changed_item_and_the_rest_completes_once() {
    let mut demo = Demo::decomposed();
    let (internet, router) = (demo.internet, demo.router);
    demo.order.dispatch_ready().unwrap();
    succeed(&mut demo, internet, "RESERVE_INVENTORY");
    succeed(&mut demo, router, "RESERVE_INVENTORY");
    let wanted = [
        ItemAmendment {
            item: internet,
            characteristics: serde_json::Map::from_iter([("bandwidthMbps".to_owned(), 500.into())]),
        },
        ItemAmendment {
            item: router,
            characteristics: demo.order.item(router).unwrap().characteristics.clone(),
        },
    ];
    let preview = demo.order.assess_amendment(&wanted).unwrap();
    assert_eq!(preview.items[0].outcome, AmendItemOutcome::Redone);
    assert_eq!(preview.items[1].outcome, AmendItemOutcome::Unchanged);
    let reserve = demo.task(internet, "RESERVE_INVENTORY");
    assert_eq!(
        preview
            .tasks
            .iter()
            .find(|t| t.task_id == reserve)
            .unwrap()
            .action,
        AmendTaskAction::CompensateThenRedo {
            operation: FulfilmentOperation::InventoryRelease
        }
    );
    let (applied, _) = demo.order.request_amendment(&wanted).unwrap();
    assert_eq!(applied, preview);
    assert_eq!(
        demo.order.item(internet).unwrap().characteristics["bandwidthMbps"],
        500
    );
    // The old reservation is released before the new one is made.
    let release = demo.order.compensation_of(reserve).unwrap().id;
    let redo = demo.order.replacement_of(reserve).unwrap();
    assert!(demo.order.task(redo).unwrap().depends_on.contains(&release));
    run_to_rest(&mut demo.order);
    demo.order.complete().unwrap();
    assert_eq!(demo.order.status, OrderStatus::Completed);
    // The router's tasks ran once, untouched; the internet's were redone.
    let router_tasks: Vec<_> = demo
        .order
        .tasks
        .iter()
        .filter(|t| t.item == router)
        .collect();
    assert!(
        router_tasks
            .iter()
            .all(|t| t.status == TaskStatus::Succeeded && t.revision == 1)
    );
    assert_eq!(
        demo.order.task(reserve).unwrap().status,
        TaskStatus::Compensated
    );
    assert!(
        demo.order
            .tasks
            .iter()
            .filter(|t| t.item == internet && t.revision > 1)
            .all(|t| t.status == TaskStatus::Succeeded)
    );
}

#[test]
fn an_amendment_of_a_completed_item_is_refused_for_that_item_and_changes_nothing() {
    let mut demo = Demo::decomposed();
    run_to_rest(&mut demo.order);
    let router = demo.router;
    let wanted = [ItemAmendment {
        item: router,
        characteristics: serde_json::Map::from_iter([("model".to_owned(), "SRX-550".into())]),
    }];
    let before = demo.order.clone();
    let (impact, changes) = demo.order.request_amendment(&wanted).unwrap();
    assert!(changes.is_empty());
    assert_eq!(demo.order, before);
    assert_eq!(
        impact.items[0].outcome,
        AmendItemOutcome::Refused {
            reason: AmendRefusal::ItemCompleted
        }
    );
}

#[test]
fn an_optional_item_that_failed_is_given_up_and_the_order_completes_without_it() {
    let mut demo = Demo::decomposed();
    let (internet, router) = (demo.internet, demo.router);
    let router_index = demo
        .order
        .items
        .iter()
        .position(|i| i.id == router)
        .unwrap();
    demo.order.items[router_index].mandatory = false;
    demo.order.dispatch_ready().unwrap();
    let reserve = demo.task(router, "RESERVE_INVENTORY");
    demo.order
        .record_task_rejection(reserve, failure("OUT_OF_STOCK"))
        .unwrap();
    assert_eq!(demo.order.status, OrderStatus::Fallout);
    // A mandatory item is never given up.
    assert_eq!(
        demo.order.clone().fail_item(internet).unwrap_err().code(),
        "ITEM_NOT_FAILED"
    );
    demo.order.fail_item(router).unwrap();
    assert!(
        demo.order.fail_item(router).unwrap().is_empty(),
        "idempotent"
    );
    assert_eq!(demo.order.status, OrderStatus::InProgress);
    run_to_rest(&mut demo.order);
    demo.order.complete().unwrap();
    assert_eq!(demo.order.status, OrderStatus::Completed);
    assert_eq!(demo.order.item(router).unwrap().status, ItemStatus::Failed);
    assert!(
        demo.order
            .tasks
            .iter()
            .filter(|t| t.item == router)
            .all(|t| t.status.is_settled()),
        "nothing of the given-up item runs"
    );

    let mut mandatory = Demo::decomposed();
    mandatory.order.dispatch_ready().unwrap();
    let reserve = mandatory.task(mandatory.router, "RESERVE_INVENTORY");
    mandatory
        .order
        .record_task_rejection(reserve, failure("OUT_OF_STOCK"))
        .unwrap();
    assert_eq!(
        mandatory
            .order
            .fail_item(mandatory.router)
            .unwrap_err()
            .code(),
        "ITEM_MANDATORY"
    );
}
