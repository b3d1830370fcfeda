//! Cancellation and amendment over the real stack (issue 24's acceptance): a cancellation
//! during fulfilment undoes in reverse order and never calls billing; an item past its point of
//! no return waits for an undo by hand; an amendment of bandwidth redoes only that item.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::actions::{id, tasks};
use super::exceptions::{router_order, task_of};
use super::stack::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancellation_during_fulfilment_undoes_in_reverse_and_never_calls_billing() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    // Activation answers slowly: the order is held while it runs, so billing never starts.
    stack
        .sim
        .add_fault(
            json!({"system": "provisioning", "operation": "activate", "mode": "DELAY",
                          "delayMs": 2000, "times": 1}),
        )
        .await;
    let order = stack
        .place(
            "sales1",
            "cancel-1",
            &router_order(catalog, "CUST-CANCEL", "SRX-300"),
        )
        .await;
    stack
        .wait_task(order, "ACTIVATE_SERVICE", "DISPATCHED")
        .await;
    let held = stack
        .ok(
            "ops1",
            Method::POST,
            format!("{}/orders/{order}/hold", stack.order_base),
            Some(&json!({"reason": "the customer called to stop"})),
        )
        .await;
    assert_eq!(held["status"], "HELD", "{held}");
    stack
        .wait_task(order, "ACTIVATE_SERVICE", "SUCCEEDED")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let view = stack.order(order).await.unwrap();
    assert_eq!(
        task_of(&view, "START_BILLING")["status"],
        "READY",
        "held: {view}"
    );

    let preview = stack
        .ok(
            "ops1",
            Method::POST,
            format!("{}/orders/{order}/cancellations/preview", stack.order_base),
            Some(&json!({})),
        )
        .await;
    let action = |task_type: &str| {
        let task = id(task_of(&view, task_type), "taskId").to_string();
        preview["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["taskId"] == task.as_str())
            .cloned()
            .unwrap()
    };
    assert_eq!(action("START_BILLING")["action"], "STOP");
    assert_eq!(action("ACTIVATE_SERVICE")["action"], "COMPENSATE");
    assert_eq!(
        action("ACTIVATE_SERVICE")["operation"],
        "PROVISIONING_DEACTIVATE"
    );
    assert_eq!(
        action("RESERVE_INVENTORY")["operation"],
        "INVENTORY_RELEASE"
    );

    let (status, cancellation) = stack
        .call(
            "ops1",
            Method::POST,
            format!("{}/orders/{order}/cancellations", stack.order_base),
            Some(&json!({"reason": "the customer withdrew"})),
            Some("cancel-order-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cancellation}");
    assert_eq!(cancellation["state"], "PENDING");
    assert_eq!(
        cancellation["impact"]["tasks"], preview["tasks"],
        "the command applied the preview"
    );
    let cancelled = stack.wait_order(order, &["CANCELLED"]).await;
    assert_eq!(
        cancelled["items"][0]["status"], "COMPENSATED",
        "{cancelled}"
    );
    // Each compensation once, deactivation before the release; billing never called.
    let effects = stack.effects(order).await;
    let billing = id(task_of(&cancelled, "START_BILLING"), "taskId");
    assert!(
        !effects.contains_key(&billing),
        "billing was called: {effects:?}"
    );
    let undo_activate = id(task_of(&cancelled, "UNDO_ACTIVATE_SERVICE"), "taskId");
    let undo_reserve = id(task_of(&cancelled, "UNDO_RESERVE_INVENTORY"), "taskId");
    assert_eq!(effects[&undo_activate], 1, "{effects:?}");
    assert_eq!(effects[&undo_reserve], 1, "{effects:?}");
    assert!(effects.values().all(|n| *n == 1), "{effects:?}");
    let windows = stack.call_windows(order).await;
    assert!(
        windows[&undo_activate].1.unwrap() <= windows[&undo_reserve].0,
        "released before the deactivation finished: {windows:?}"
    );
    let cancellation_id = id(&cancellation, "cancellationId");
    let settled = stack
        .ok(
            "ops1",
            Method::GET,
            format!(
                "{}/orders/{order}/cancellations/{cancellation_id}",
                stack.order_base
            ),
            None,
        )
        .await;
    assert_eq!(settled["state"], "DONE", "{settled}");
    // The cancelled item never activated anything.
    let assets = stack.assets("CUST-CANCEL").await;
    assert!(
        assets.iter().all(|a| a["status"] == "CANCELLED"),
        "{assets:?}"
    );
    // A cancelled order is not cancelled twice.
    let (status, refused) = stack
        .call(
            "ops1",
            Method::POST,
            format!("{}/orders/{order}/cancellations", stack.order_base),
            Some(&json!({"reason": "again"})),
            Some("cancel-order-2"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_item_past_its_point_of_no_return_waits_for_an_undo_by_hand() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    // Billing refuses the internet's charge (149); the router's goes through, past its point of
    // no return.
    stack
        .sim
        .add_fault(
            json!({"system": "billing", "operation": "start", "mode": "REJECT",
                          "code": "CREDIT_CHECK_FAILED", "message": "credit limit reached",
                          "bodyContains": "149"}),
        )
        .await;
    let order_body = json!({"customerId": "CUST-PONR", "currency": "USD", "captureEvidence": {"signedForm": "SF-25"},
        "items": [
            {"lineRef": "1", "action": "ADD", "offeringId": catalog.internet, "offeringVersion": 1,
             "characteristics": {"bandwidthMbps": 100}, "recurringCharge": "149.00"},
            {"lineRef": "2", "action": "ADD", "offeringId": catalog.router, "offeringVersion": 1,
             "characteristics": {"model": "SRX-300"}, "recurringCharge": "39.00"}]});
    let order = stack.place("sales1", "ponr-1", &order_body).await;
    let fell = stack.wait_order(order, &["FALLOUT", "COMPLETED"]).await;
    assert_eq!(fell["status"], "FALLOUT", "{fell}");
    let (status, cancellation) = stack
        .call(
            "ops1",
            Method::POST,
            format!("{}/orders/{order}/cancellations", stack.order_base),
            Some(&json!({"reason": "the customer withdrew after the credit check"})),
            Some("cancel-ponr-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cancellation}");
    assert_eq!(cancellation["state"], "PENDING", "{cancellation}");
    // The internet is undone; the router, billed, waits for an operator; so does the order.
    let until = tokio::time::Instant::now() + Duration::from_secs(60);
    let pending = loop {
        let view = stack.order(order).await.unwrap();
        let fallouts = stack.fallouts_of(order).await;
        if view["items"][0]["status"] == "COMPENSATED"
            && fallouts.iter().any(|f| f["category"] == "CANCELLATION")
        {
            break view;
        }
        assert!(tokio::time::Instant::now() < until, "{view} {fallouts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(pending["status"], "CANCELLATION_PENDING", "{pending}");
    assert_eq!(pending["items"][1]["status"], "CANCEL_PENDING", "{pending}");
    let router_item = pending["items"][1]["orderItemId"].clone();
    let router_billing = tasks(&pending)
        .into_iter()
        .find(|t| t["orderItemId"] == router_item && t["taskType"] == "START_BILLING")
        .unwrap();
    assert_eq!(
        router_billing["handling"], "MANUAL_UNDO_REQUIRED",
        "{pending}"
    );
    let fallouts = stack.fallouts_of(order).await;
    let manual = fallouts
        .iter()
        .find(|f| f["category"] == "CANCELLATION")
        .unwrap();
    assert_eq!(manual["status"], "MANUAL_ACTION_REQUIRED");
    assert_eq!(manual["failureCode"], "PAST_POINT_OF_NO_RETURN");
    assert_eq!(manual["severity"], "CRITICAL");
    // The internet's refused charge is no longer anyone's problem: its item was cancelled.
    assert!(
        fallouts
            .iter()
            .filter(|f| f["category"] == "EXTERNAL_REJECTION")
            .all(|f| f["status"] == "RESOLVED" && f["resolutionType"] == "CANCELLED"),
        "{fallouts:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        stack.order(order).await.unwrap()["status"],
        "CANCELLATION_PENDING",
        "it stays pending until the undo by hand"
    );
    let (status, closed) = stack
        .act(
            id(manual, "falloutId"),
            &json!({"action": "CLOSE", "reason": "billing reversed and router collected by hand",
                    "evidence": {"billingCredit": "CR-77", "pickup": "RMA-12"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["fallout"]["status"], "CLOSED");
    assert_eq!(closed["fallout"]["resolutionType"], "MANUAL_UNDO");
    let cancelled = stack.wait_order(order, &["CANCELLED"]).await;
    assert_eq!(
        cancelled["items"][1]["status"], "COMPENSATED",
        "{cancelled}"
    );
    let effects = stack.effects(order).await;
    assert!(effects.values().all(|n| *n <= 1), "{effects:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_amendment_of_bandwidth_redoes_only_that_item() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    // The router's activation answers slowly, so the internet waits for billing meanwhile.
    stack
        .sim
        .add_fault(
            json!({"system": "provisioning", "operation": "activate", "mode": "DELAY",
                          "delayMs": 2500, "bodyContains": "SRX-300", "times": 1}),
        )
        .await;
    let order_body = json!({"customerId": "CUST-AMEND", "currency": "USD", "captureEvidence": {"signedForm": "SF-26"},
        "items": [
            {"lineRef": "1", "action": "ADD", "offeringId": catalog.internet, "offeringVersion": 1,
             "characteristics": {"bandwidthMbps": 100}, "recurringCharge": "149.00"},
            {"lineRef": "2", "action": "ADD", "offeringId": catalog.router, "offeringVersion": 1,
             "characteristics": {"model": "SRX-300"}, "recurringCharge": "39.00"}]});
    let order = stack.place("sales1", "amend-1", &order_body).await;
    stack.wait_task(order, "CONFIGURE_CPE", "SUCCEEDED").await;
    stack
        .wait_task(order, "ACTIVATE_SERVICE", "SUCCEEDED")
        .await;
    let view = stack.order(order).await.unwrap();
    let internet = view["items"][0]["orderItemId"].clone();
    let router = view["items"][1]["orderItemId"].clone();
    let router_tasks: Vec<Value> = tasks(&view)
        .into_iter()
        .filter(|t| t["orderItemId"] == router)
        .collect();
    let amendment = json!({"items": [{"orderItemId": internet, "characteristics": {"bandwidthMbps": 500}},
                                     {"orderItemId": router, "characteristics": {"model": "SRX-300"}}],
                           "reason": "the customer upgraded to 500 Mbps before activation finished"});
    let preview = stack
        .ok(
            "ops1",
            Method::POST,
            format!("{}/orders/{order}/amendments/preview", stack.order_base),
            Some(&json!({"items": amendment["items"]})),
        )
        .await;
    assert_eq!(preview["items"][0]["outcome"], "REDONE", "{preview}");
    assert_eq!(preview["items"][1]["outcome"], "UNCHANGED", "{preview}");
    // An amendment that changes nothing is stored DONE, and is evidence all the same.
    let (status, unchanged) = stack
        .call(
            "ops1",
            Method::POST,
            format!("{}/orders/{order}/amendments", stack.order_base),
            Some(
                &json!({"items": [{"orderItemId": router, "characteristics": {"model": "SRX-300"}}],
                         "reason": "confirming the router model"}),
            ),
            Some("amend-order-0"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{unchanged}");
    assert_eq!(unchanged["state"], "DONE", "{unchanged}");
    let recorded = stack.evidence_of("oms.order.amendment-recorded").await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["businessReason"], "confirming the router model");
    assert_eq!(recorded[0]["actor"]["actorId"], "ops1");
    let (status, amended) = stack
        .call(
            "ops1",
            Method::POST,
            format!("{}/orders/{order}/amendments", stack.order_base),
            Some(&amendment),
            Some("amend-order-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{amended}");
    assert_eq!(amended["version"], 2);
    assert_eq!(
        amended["impact"]["tasks"], preview["tasks"],
        "the command applied the preview"
    );
    let done = stack.wait_order(order, &["COMPLETED", "FALLOUT"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["items"][0]["characteristics"]["bandwidthMbps"], 500);
    // The router was untouched: its tasks are the first plan's, each applied once.
    let effects = stack.effects(order).await;
    for task in &router_tasks {
        let now = task_of(&done, task["taskType"].as_str().unwrap()).clone();
        assert_eq!(now["revision"], 1);
        assert_eq!(effects[&id(task, "taskId")], 1, "{effects:?}");
    }
    assert!(
        tasks(&done)
            .iter()
            .filter(|t| t["orderItemId"] == router)
            .all(|t| t["revision"] == 1)
    );
    // The internet was undone and redone: every effect once, the plan keeps both revisions.
    assert!(effects.values().all(|n| *n == 1), "{effects:?}");
    assert!(
        tasks(&done)
            .iter()
            .any(|t| t["orderItemId"] == internet && t["purpose"] == "COMPENSATE")
    );
    let plan = stack
        .ok(
            "ops1",
            Method::GET,
            format!("{}/orders/{order}/plan", stack.order_base),
            None,
        )
        .await;
    assert_eq!(plan["planRevision"], 2, "{plan}");
    let amendment_id = id(&amended, "amendmentId");
    let settled = stack
        .ok(
            "ops1",
            Method::GET,
            format!(
                "{}/orders/{order}/amendments/{amendment_id}",
                stack.order_base
            ),
            None,
        )
        .await;
    assert_eq!(settled["state"], "DONE", "{settled}");
    // Asked again once the order is complete: refused whole, nothing stored.
    let (status, refused) = stack
        .call(
            "ops1",
            Method::POST,
            format!("{}/orders/{order}/amendments", stack.order_base),
            Some(&json!({"items": [{"orderItemId": internet, "characteristics": {"bandwidthMbps": 1000}}],
                         "reason": "one more upgrade"})),
            Some("amend-order-2"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "ORDER_ALREADY_COMPLETED");
    stack.stop().await;
}
