//! Fulfilment over the whole local stack (issue 23's performance goal): the broker, the embedded
//! engine, the simulator at zero delay, catalog, CPQ, approval, integration and order in this
//! process. Orders of internet + router + static IP (10 tasks each) are captured directly.
//!
//! - **steady:** 10 orders/s for `BENCH_STEADY_SECONDS` (30): p50/p99 from capture to COMPLETED
//!   (database clock: `created_at` → `completed_at`);
//! - **burst:** `BENCH_BURST_ORDERS` (200) captured at once: fully fulfilled orders per second.
//!
//! The goal's anchor is a single Zeebe 8.8 partition on 2 CPUs: about 80 single-task instances/s,
//! about 8 such orders/s.
//!
//! Run: `cargo bench -p order --bench fulfilment` (needs `tansu`, PostgreSQL and Redis).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a bench fails loudly and reports on stdout"
)]

#[path = "../tests/e2e/actions.rs"]
#[allow(dead_code)]
mod actions;
#[path = "../tests/e2e/stack.rs"]
#[allow(dead_code)]
mod stack;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use actions::Catalog;
use stack::Stack;

fn order_body(catalog: Catalog, n: usize) -> Value {
    json!({"customerId": format!("BENCH-{n}"), "currency": "USD", "captureEvidence": {"bench": n},
           "items": [
               {"lineRef": "1", "action": "ADD", "offeringId": catalog.internet, "offeringVersion": 1,
                "characteristics": {"bandwidthMbps": 100}, "recurringCharge": "149.00"},
               {"lineRef": "2", "action": "ADD", "offeringId": catalog.router, "offeringVersion": 1,
                "characteristics": {"model": "SRX-300"}, "oneTimeCharge": "99.00"},
               {"lineRef": "3", "action": "ADD", "offeringId": catalog.static_ip, "offeringVersion": 1,
                "parentRef": "1", "characteristics": {"ipCount": 4}, "recurringCharge": "15.00"}]})
}

async fn capture(stack: &Stack, catalog: Catalog, n: usize) -> Uuid {
    let (status, body) = stack
        .direct_order("sales1", &format!("bench-{n}"), &order_body(catalog, n))
        .await;
    assert!(status.is_success(), "{status} {body}");
    actions::id(&body, "id")
}

/// Waits until every order is COMPLETED; panics on fallout or after `within`.
async fn all_completed(stack: &Stack, orders: &[Uuid], within: Duration) -> Instant {
    let until = Instant::now() + within;
    loop {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, count(*) FROM order_schema.customer_order WHERE order_id = ANY($1) GROUP BY status",
        )
        .bind(orders)
        .fetch_all(&stack.order_db)
        .await
        .unwrap();
        let done = rows
            .iter()
            .find(|(s, _)| s == "COMPLETED")
            .map_or(0, |(_, n)| *n);
        assert!(
            !rows.iter().any(|(s, _)| s == "FALLOUT" || s == "FAILED"),
            "orders fell out: {rows:?}"
        );
        if done as usize == orders.len() {
            return Instant::now();
        }
        assert!(
            Instant::now() < until,
            "only {done}/{} completed: {rows:?}",
            orders.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn latencies(stack: &Stack, orders: &[Uuid]) -> Vec<f64> {
    let mut ms: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM completed_at - created_at)::float8 * 1000 FROM order_schema.customer_order \
         WHERE order_id = ANY($1)",
    )
    .bind(orders)
    .fetch_all(&stack.order_db)
    .await
    .unwrap();
    ms.sort_by(f64::total_cmp);
    ms
}

/// Commits and rows inserted, updated and deleted on the whole server so far.
async fn database_work(stack: &Stack) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT sum(xact_commit)::bigint, sum(tup_inserted)::bigint, sum(tup_updated)::bigint, \
         sum(tup_deleted)::bigint FROM pg_stat_database",
    )
    .fetch_one(&stack.order_db)
    .await
    .unwrap()
}

/// Commits so far per database (each service and the engine has its own in this stack).
async fn commits_by_database(stack: &Stack) -> std::collections::BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT datname, xact_commit FROM pg_stat_database WHERE datname IS NOT NULL",
    )
    .fetch_all(&stack.order_db)
    .await
    .unwrap();
    rows.into_iter().collect()
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    let warm: Vec<Uuid> =
        futures::future::join_all((0..5).map(|n| capture(&stack, catalog, n))).await;
    all_completed(&stack, &warm, Duration::from_secs(120)).await;

    // Steady: 10 orders per second.
    let seconds = env_number("BENCH_STEADY_SECONDS", 30);
    let mut steady = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for n in 0..seconds * 10 {
        tick.tick().await;
        let (stack, n) = (&stack, 1000 + n);
        steady.push(capture(stack, catalog, n).await);
    }
    all_completed(&stack, &steady, Duration::from_secs(600)).await;
    let ms = latencies(&stack, &steady).await;
    println!(
        "steady 10 orders/s for {seconds}s: {} orders, capture→COMPLETED p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or_default()
    );

    // Burst: everything at once, fully fulfilled orders per second.
    let burst = env_number("BENCH_BURST_ORDERS", 200);
    let before = database_work(&stack).await;
    let before_by_database = commits_by_database(&stack).await;
    let started = Instant::now();
    let orders: Vec<Uuid> = {
        use futures::StreamExt;
        futures::stream::iter(0..burst)
            .map(|n| capture(&stack, catalog, 100_000 + n))
            .buffer_unordered(16)
            .collect()
            .await
    };
    let captured = started.elapsed();
    let finished = all_completed(&stack, &orders, Duration::from_secs(1800)).await;
    let total = finished - started;
    println!(
        "burst {burst} orders: captured in {:.1}s, all COMPLETED in {:.1}s: {:.1} orders/s ({:.0} tasks/s)",
        captured.as_secs_f64(),
        total.as_secs_f64(),
        burst as f64 / total.as_secs_f64(),
        burst as f64 * 10.0 / total.as_secs_f64()
    );
    let after = database_work(&stack).await;
    let after_by_database = commits_by_database(&stack).await;
    let mut shares: Vec<(i64, String)> = after_by_database
        .iter()
        .map(|(name, n)| {
            (
                n - before_by_database.get(name).copied().unwrap_or(0),
                name.clone(),
            )
        })
        .filter(|(n, _)| *n > 0)
        .collect();
    shares.sort_by(|a, b| b.cmp(a));
    for (commits, name) in shares.iter().take(8) {
        println!(
            "  commits per order in {name}: {:.0}",
            *commits as f64 / burst as f64
        );
    }
    let per_order = |a: i64, b: i64| (a - b) as f64 / burst as f64;
    println!(
        "database work per order (whole server): {:.0} commits, {:.0} rows inserted, {:.0} updated, {:.0} deleted",
        per_order(after.0, before.0),
        per_order(after.1, before.1),
        per_order(after.2, before.2),
        per_order(after.3, before.3)
    );
    let ms = latencies(&stack, &orders).await;
    println!(
        "burst capture→COMPLETED p50 {:.0} ms, p99 {:.0} ms",
        percentile(&ms, 0.5),
        percentile(&ms, 0.99)
    );
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM order_schema.fulfilment_task")
        .fetch_one(&stack.order_db)
        .await
        .unwrap();
    println!("tasks recorded: {jobs}");
    stack.stop().await;
}
