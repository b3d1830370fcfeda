//! Fulfilment that goes wrong: a non-retryable refusal from provisioning fails the item and
//! puts the order in FALLOUT with nothing after it in the plan run; the order service killed
//! with SIGKILL mid-fulfilment and restarted completes the order with no task or effect twice.

use std::time::Duration;

use serde_json::{Value, json};

use super::actions::{Catalog, id, tasks};
use super::stack::{Stack, free_port};

fn internet_order(catalog: Catalog, customer: &str) -> Value {
    json!({"customerId": customer, "currency": "USD", "captureEvidence": {"signedForm": "SF-2"},
           "items": [
               {"lineRef": "1", "action": "ADD", "offeringId": catalog.internet, "offeringVersion": 1,
                "characteristics": {"bandwidthMbps": 100}, "recurringCharge": "149.00"},
               {"lineRef": "2", "action": "ADD", "offeringId": catalog.router, "offeringVersion": 1,
                "characteristics": {"model": "SRX-300"}, "oneTimeCharge": "99.00"},
               {"lineRef": "3", "action": "ADD", "offeringId": catalog.static_ip, "offeringVersion": 1,
                "parentRef": "1", "characteristics": {"ipCount": 4}, "recurringCharge": "15.00"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_provisioning_refusal_fails_the_item_and_nothing_after_it_runs() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    stack
        .sim
        .add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "REJECT",
                          "code": "NO_PORT_AVAILABLE", "message": "no free port on the access node"}))
        .await;
    let (status, body) = stack
        .direct_order(
            "sales1",
            "refused-1",
            &internet_order(catalog, "CUST-REFUSED"),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let order = id(&body, "id");
    let done = stack
        .wait_order(order, &["FALLOUT", "COMPLETED", "FAILED"])
        .await;
    assert_eq!(done["status"], "FALLOUT", "{done}");
    let plan = tasks(&done);
    let refused: Vec<&Value> = plan
        .iter()
        .filter(|t| t["status"] == "FAILED_NON_RETRYABLE")
        .collect();
    assert!(!refused.is_empty(), "{done}");
    assert!(
        refused
            .iter()
            .all(|t| t["operation"] == "PROVISIONING_ACTIVATE")
    );
    let failed_items: Vec<&Value> = done["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "FAILED")
        .collect();
    assert!(!failed_items.is_empty(), "{done}");
    assert!(
        done["fallouts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["category"] == "EXTERNAL_REJECTION"),
        "{done}"
    );
    // Nothing that depends on a refused activation ran: no billing was ever asked.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let windows = stack.call_windows(order).await;
    for task in &plan {
        if task["operation"] == "BILLING_START" {
            assert!(
                !windows.contains_key(&id(task, "taskId")),
                "billing ran after a refusal: {task}"
            );
            assert_ne!(task["status"], "SUCCEEDED");
        }
    }
    assert!(
        stack
            .assets("CUST-REFUSED")
            .await
            .iter()
            .all(|a| a["status"] != "ACTIVE")
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_order_service_killed_mid_fulfilment_completes_the_order_once_restarted() {
    let mut stack = Stack::start(false).await;
    let catalog = stack.seed_catalog().await;
    let port = free_port();
    let first = stack.spawn_order_process(port);
    // Billing answers slowly, so the kill lands while tasks are in flight.
    stack
        .sim
        .add_fault(
            json!({"system": "billing", "operation": "start", "mode": "DELAY", "delayMs": 1500}),
        )
        .await;
    let (status, body) = stack
        .direct_order("sales1", "crash-1", &internet_order(catalog, "CUST-CRASH"))
        .await;
    assert!(status.is_success(), "{body}");
    let order = id(&body, "id");
    let until = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = stack.order(order).await.expect("order");
        if tasks(&view).iter().any(|t| t["status"] == "SUCCEEDED") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "no task succeeded: {view}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill();
    stack.sim.clear_faults().await;
    let _second = stack.spawn_order_process(port);
    let done = stack
        .wait_order(order, &["COMPLETED", "FALLOUT", "FAILED"])
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let effects = stack.effects(order).await;
    assert_eq!(
        effects.len(),
        tasks(&done).len(),
        "one external operation per task"
    );
    assert!(
        effects.values().all(|count| *count == 1),
        "no effect twice: {effects:?}"
    );
    let succeeded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM order_schema.fulfilment_task WHERE order_id = $1 AND status = 'SUCCEEDED'",
    )
    .bind(order)
    .fetch_one(&stack.order_db)
    .await
    .unwrap();
    assert_eq!(succeeded as usize, tasks(&done).len());
    let active = stack.assets("CUST-CRASH").await;
    assert_eq!(active.len(), 3);
    assert!(active.iter().all(|a| a["status"] == "ACTIVE"));
    stack.stop().await;
}
