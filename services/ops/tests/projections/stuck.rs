//! An order that sits in IN_PROGRESS past its threshold appears as stuck within one polling
//! interval, and leaves the list when it progresses or completes.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;

use crate::harness::{OpsStack, operator, order_moved, task_moved};

async fn stuck_ids(stack: &OpsStack, tenant: &str) -> Vec<String> {
    let list = stack.get("/stuck-orders", &operator(tenant)).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["orderId"].as_str().map(str::to_owned))
        .collect::<Vec<_>>()
}

async fn until(stack: &OpsStack, tenant: &str, wanted: &[&str]) -> Vec<String> {
    let started = Instant::now();
    loop {
        let ids = stuck_ids(stack, tenant).await;
        if ids == wanted {
            return ids;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "stuck orders {ids:?}, wanted {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_held_in_progress_is_stuck_until_it_moves() {
    let stack = OpsStack::start(&[
        ("APP__OPS__STUCK_AFTER__IN_PROGRESS", "2"),
        ("APP__OPS__STUCK_AFTER_SECONDS", "3600"),
    ])
    .await;
    let t = "stuck";
    let now = Utc::now();
    stack
        .publish(&[
            order_moved(t, "o-slow", 1, "DRAFT", "ACKNOWLEDGED", now),
            order_moved(t, "o-slow", 2, "ACKNOWLEDGED", "IN_PROGRESS", now),
            order_moved(t, "o-fresh", 1, "DRAFT", "ACKNOWLEDGED", now),
        ])
        .await;
    stack
        .wait_count(
            "SELECT count(*) FROM order_view WHERE tenant_id = 'stuck'",
            2,
        )
        .await;
    assert!(
        stuck_ids(&stack, t).await.is_empty(),
        "nothing is stuck at once"
    );
    until(&stack, t, &["o-slow"]).await;
    let list = stack.get("/stuck-orders", &operator(t)).await;
    let row: &Value = &list["items"][0];
    assert_eq!(row["status"], "IN_PROGRESS");
    assert_eq!(row["thresholdSeconds"], 2);
    // The business metric counts exactly what the list shows.
    let metrics = stack.get("/business-metrics", &operator(t)).await;
    assert_eq!(metrics["orders"]["stuck"], 1, "{metrics:#}");

    // Progress (a task moved) takes it off the list; it comes back when progress stops again.
    stack
        .publish(&[task_moved(t, "o-slow", "t-1", "DISPATCHED", Utc::now())])
        .await;
    until(&stack, t, &[]).await;
    until(&stack, t, &["o-slow"]).await;
    // Completed: never stuck again.
    stack
        .publish(&[order_moved(
            t,
            "o-slow",
            3,
            "IN_PROGRESS",
            "COMPLETED",
            Utc::now(),
        )])
        .await;
    until(&stack, t, &[]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(stuck_ids(&stack, t).await.is_empty());
    let metrics = stack.get("/business-metrics", &operator(t)).await;
    assert_eq!(metrics["orders"]["stuck"], 0);
    stack.stop().await;
}
