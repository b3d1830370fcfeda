//! Projection throughput and lag of the ops service (issue 26's performance goal).
//!
//! - **throughput:** `BENCH_ORDERS` (400) synthetic order lives of 50 events each (order states,
//!   ten tasks with their external calls, audit evidence; 20,000 events) wait on the private
//!   broker; the ops service starts and projects them (inbox, classification, timeline row,
//!   order view, progress). Rate = events ÷ (first projected → last projected), by the
//!   database's clock.
//! - **raw insert:** the same timeline rows inserted into a plain table with only a primary key,
//!   one transaction per row (what storing each event in its own transaction costs without any
//!   projection), and 500 rows per statement (the ceiling of batching).
//! - **lag:** with the service running, order lives published at the order bench's steady rate
//!   (10 orders/s, about 500 events/s) for `BENCH_LAG_SECONDS` (30); lag = projected − occurred
//!   (publish time), p50/p99 by the database's clock.
//!
//! Run: `cargo bench -p ops --bench projection` (needs `tansu`, PostgreSQL and Redis).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a bench fails loudly and reports on stdout"
)]

#[path = "../tests/projections/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use harness::{OpsStack, envelope, order_moved, task_moved};
use serde_json::{Value, json};

/// One order's life: 50 events over its topics, each aggregate's in order, from `t0`.
fn order_life(tenant: &str, order: &str, t0: DateTime<Utc>) -> Vec<(&'static str, Value)> {
    let at = |ms: i64| t0 + chrono::Duration::milliseconds(ms);
    let evidence = |n: i64, what: &str| {
        (
            "audit.evidence.events.v1",
            envelope(
                tenant,
                "audit.evidence-submitted.v1",
                ("Order", order, n),
                &format!("bt-{order}"),
                at(n),
                "order-workflow",
                json!({"eventType": what, "actor": {"actorId": "order-workflow"},
                       "resource": {"resourceType": "Order", "resourceId": order, "resourceVersion": n},
                       "businessReason": "bench"}),
            ),
        )
    };
    let mut events = vec![
        order_moved(tenant, order, 1, "DRAFT", "ACKNOWLEDGED", at(0)),
        evidence(1, "oms.order.captured"),
        order_moved(tenant, order, 2, "ACKNOWLEDGED", "VALIDATED", at(1)),
        evidence(2, "oms.order.validated"),
        order_moved(tenant, order, 3, "VALIDATED", "IN_PROGRESS", at(2)),
        evidence(3, "oms.order.decomposed"),
    ];
    for task in 0..10 {
        let id = format!("{order}-t{task}");
        events.push(task_moved(tenant, order, &id, "DISPATCHED", at(10 + task)));
        events.push((
            "integration.provisioning.events.v1",
            envelope(
                tenant,
                "integration.provisioning.activation-succeeded.v1",
                ("ExternalOperation", &format!("{id}-x"), 1),
                order,
                at(11 + task),
                "integration-worker",
                json!({"orderId": order, "system": "PROVISIONING", "operation": "PROVISIONING_ACTIVATE",
                       "outcome": "SUCCEEDED", "status": "SUCCEEDED", "attempts": 1,
                       "result": {"externalReference": format!("PRV-{id}")}}),
            ),
        ));
        events.push(task_moved(tenant, order, &id, "SUCCEEDED", at(12 + task)));
        if task % 3 == 0 {
            events.push(evidence(4 + task, "oms.order.fulfilment-advanced"));
        }
    }
    events.push(order_moved(
        tenant,
        order,
        4,
        "IN_PROGRESS",
        "COMPLETED",
        at(40),
    ));
    events.push(evidence(20, "oms.order.completed"));
    while events.len() < 50 {
        let n = events.len() as i64;
        events.push(evidence(100 + n, "oms.order.fulfilment-advanced"));
    }
    events
}

const RAW_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_raw_projected (LIKE projected_event)";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let orders: usize = std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let lag_seconds: u64 = std::env::var("BENCH_LAG_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let t0 = Utc::now() - chrono::Duration::hours(1);
    let backlog: Vec<(&str, Value)> = (0..orders)
        .flat_map(|n| order_life("bench", &format!("o-{n}"), t0))
        .collect();
    let total = backlog.len() as i64;
    println!("throughput: {total} events waiting on the broker; starting ops");
    let stack = OpsStack::start_with_backlog(&[], &backlog).await;
    let started = Instant::now();
    stack
        .wait_count("SELECT count(*) FROM projected_event", total)
        .await;
    let wall = started.elapsed();
    let (first, last): (DateTime<Utc>, DateTime<Utc>) =
        sqlx::query_as("SELECT min(projected_at), max(projected_at) FROM projected_event")
            .fetch_one(&stack.owner)
            .await
            .unwrap();
    let projecting = (last - first).num_microseconds().unwrap() as f64 / 1e6;
    let projected_rate = total as f64 / projecting;
    println!(
        "  projected {total} events in {projecting:.2} s (first → last projected; {:.2} s from start): {projected_rate:.0} events/s",
        wall.as_secs_f64()
    );

    // The raw baseline: the same timeline rows, one transaction each, then 500 per statement.
    sqlx::query(RAW_TABLE).execute(&stack.owner).await.unwrap();
    sqlx::query("ALTER TABLE bench_raw_projected ADD PRIMARY KEY (generation, event_id)")
        .execute(&stack.owner)
        .await
        .unwrap();
    let rows: Vec<Value> = sqlx::query_scalar("SELECT to_jsonb(p) FROM projected_event p")
        .fetch_all(&stack.owner)
        .await
        .unwrap();
    let insert_one = "INSERT INTO bench_raw_projected SELECT * FROM jsonb_populate_record(NULL::bench_raw_projected, $1)";
    let raw_started = Instant::now();
    let mut conn = stack.owner.acquire().await.unwrap();
    for row in &rows {
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        sqlx::query(insert_one)
            .bind(row)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let raw = raw_started.elapsed().as_secs_f64();
    let raw_rate = rows.len() as f64 / raw;
    sqlx::query("TRUNCATE bench_raw_projected")
        .execute(&mut *conn)
        .await
        .unwrap();
    let batched_started = Instant::now();
    for chunk in rows.chunks(500) {
        sqlx::query(
            "INSERT INTO bench_raw_projected SELECT * FROM jsonb_populate_recordset(NULL::bench_raw_projected, $1)",
        )
        .bind(Value::Array(chunk.to_vec()))
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    let batched_rate = rows.len() as f64 / batched_started.elapsed().as_secs_f64();
    drop(conn);
    println!(
        "  raw insert of the same rows, one transaction per row: {raw_rate:.0} rows/s → projection = {:.2}× (goal ≥ 0.5×)",
        projected_rate / raw_rate
    );
    println!(
        "  raw insert, 500 rows per statement: {batched_rate:.0} rows/s → projection = {:.2}×",
        projected_rate / batched_rate
    );

    // Lag at the order bench's steady rate: 10 orders/s, each order's 50 events at once.
    println!("lag: 10 orders/s (≈500 events/s) for {lag_seconds} s");
    let lag_started = Utc::now();
    let mut published = 0_i64;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for n in 0..(lag_seconds * 10) {
        tick.tick().await;
        let life = order_life("lag", &format!("l-{n}"), Utc::now());
        published += life.len() as i64;
        stack.publish(&life).await;
    }
    stack
        .wait_count(
            "SELECT count(*) FROM projected_event WHERE tenant_id = 'lag'",
            published,
        )
        .await;
    let (p50, p99, max): (f64, f64, f64) = sqlx::query_as(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM projected_at - occurred_at)), \
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM projected_at - occurred_at)), \
                max(extract(epoch FROM projected_at - occurred_at))::float8 \
           FROM projected_event WHERE tenant_id = 'lag' AND occurred_at >= $1",
    )
    .bind(lag_started)
    .fetch_one(&stack.owner)
    .await
    .unwrap();
    println!(
        "  {published} events: lag p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (occurred → projected)",
        p50 * 1e3,
        p99 * 1e3,
        max * 1e3
    );
    stack.stop().await;
}
