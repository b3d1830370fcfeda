//! An accepted quote of internet + router + static IP (an add-on) becomes an order that runs
//! ACKNOWLEDGED → … → COMPLETED: its tasks ran in dependency order (by the integration's call
//! log), each effect exactly once at the simulator, and the customer owns three ACTIVE assets
//! and one subscription.

use std::collections::HashMap;

use uuid::Uuid;

use super::actions::{id, tasks};
use super::stack::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_accepted_quote_is_fulfilled_in_dependency_order_into_active_assets() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    let (quote, order) = stack.quote_to_order(catalog, "CUST-Q2C").await;

    let done = stack
        .wait_order(order, &["COMPLETED", "FALLOUT", "FAILED"])
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["quote"]["quoteId"], quote.to_string());
    assert_eq!(
        done["quote"]["snapshotHash"].as_str().map(str::len),
        Some(64)
    );
    let plan = tasks(&done);
    assert_eq!(
        plan.len(),
        10,
        "internet 4 + router 3 + static IP 3 tasks: {done}"
    );
    assert!(plan.iter().all(|t| t["status"] == "SUCCEEDED"), "{done}");
    let items = done["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["status"] == "COMPLETED"), "{done}");

    // Dependency order, from the integration's call log: no task's first attempt started
    // before each of its dependencies' successful attempt had finished.
    let windows = stack.call_windows(order).await;
    assert_eq!(windows.len(), 10, "one external operation per task");
    for task in &plan {
        let (started, _) = windows[&id(task, "taskId")];
        for dependency in task["dependsOn"].as_array().unwrap() {
            let dependency: Uuid = dependency.as_str().unwrap().parse().unwrap();
            let (_, finished) = windows[&dependency];
            let finished = finished.expect("the dependency succeeded");
            assert!(
                started >= finished,
                "{} started {}µs before its dependency finished",
                task["taskType"],
                finished - started
            );
        }
    }
    // The add-on activates after its parent.
    let by_item: HashMap<String, &serde_json::Value> = items
        .iter()
        .map(|i| (i["orderItemId"].as_str().unwrap().to_owned(), i))
        .collect();
    let activation_of = |parent: bool| {
        plan.iter()
            .find(|t| {
                t["taskType"] == "ACTIVATE_SERVICE"
                    && by_item[t["orderItemId"].as_str().unwrap()]["parentItemId"].is_null()
                        != parent
            })
            .map(|t| windows[&id(t, "taskId")])
            .unwrap()
    };
    let ((_, internet_done), (static_ip_started, _)) = (activation_of(false), activation_of(true));
    assert!(static_ip_started >= internet_done.unwrap());

    // One effect per task at the simulator.
    let effects = stack.effects(order).await;
    assert_eq!(effects.len(), 10);
    assert!(effects.values().all(|count| *count == 1), "{effects:?}");

    let assets = stack.assets("CUST-Q2C").await;
    assert_eq!(assets.len(), 3, "{assets:?}");
    for asset in &assets {
        assert_eq!(asset["status"], "ACTIVE", "{asset}");
        assert!(asset["activationDate"].is_string(), "{asset}");
        assert_eq!(asset["originOrderId"], order.to_string());
    }
    let with_parent = assets.iter().filter(|a| a["parentId"].is_string()).count();
    assert_eq!(with_parent, 1, "the static IP hangs off the internet asset");
    let subscriptions = stack.subscriptions("CUST-Q2C").await;
    assert_eq!(subscriptions.len(), 1, "{subscriptions:?}");
    assert_eq!(subscriptions[0]["status"], "ACTIVE");
    assert!(subscriptions[0]["startDate"].is_string());

    // The order events and the plan are what the API shows.
    let plan_view = stack
        .ok(
            "ops1",
            reqwest::Method::GET,
            format!("{}/orders/{order}/plan", stack.order_base),
            None,
        )
        .await;
    assert_eq!(plan_view["planHash"], done["planHash"]);
    assert_eq!(plan_view["tasks"].as_array().unwrap().len(), 10);
    let listed = stack
        .ok(
            "ops1",
            reqwest::Method::GET,
            format!("{}/orders?quoteId={quote}", stack.order_base),
            None,
        )
        .await;
    assert_eq!(listed["orders"].as_array().unwrap().len(), 1);
    stack.stop().await;
}
