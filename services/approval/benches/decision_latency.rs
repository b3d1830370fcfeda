//! Decision latency over the real stack: from the approver's decision command (the portal's
//! `POST /approval-requests/{id}/decisions`) to the quote APPROVED in CPQ — the decision's
//! transaction, its outbox event, the relay, the broker, CPQ's inbox consumer and the quote's
//! transition. Catalog, CPQ, the embedded engine and the approval service run in this process on
//! their own databases with a private broker (the scenario tests' stack).
//!
//! The quotes are prepared first (each at 30 %, so each waits for a manager), then decided one
//! after another at a steady pace; each decision's start is taken on this machine's clock just
//! before the request, and its end is the CPQ history row of the APPROVED transition, written by
//! the same machine's PostgreSQL. Prints p50, p90, p99 and max over `DECISIONS` (default 500).
//!
//! `cargo bench -p approval --bench decision_latency` (`DECISIONS`, `PACE_MS` override).

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary: fails loudly, prints its figures"
)]

#[path = "../tests/scenarios/actions.rs"]
#[expect(dead_code, reason = "the bench uses a part of the scenarios' actions")]
mod actions;
#[path = "../tests/scenarios/stack.rs"]
#[expect(dead_code, reason = "the bench uses a part of the scenarios' stack")]
mod stack;

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde_json::json;
use uuid::Uuid;

use stack::{Stack, Timing};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let decisions = env_or("DECISIONS", 500) as usize;
    let pace = Duration::from_millis(env_or("PACE_MS", 20));
    let stack = Stack::start(Timing::RELAXED).await;
    stack.seed_directory().await;
    let fixture = stack.seed_catalog().await;

    // Prepare: every quote priced at 30 % and submitted, in batches of 16.
    let mut quotes: Vec<Uuid> = Vec::with_capacity(decisions);
    for batch in (0..decisions).collect::<Vec<_>>().chunks(16) {
        let made = join_all(batch.iter().map(|_| async {
            let quote = stack.priced_quote("sales1", fixture, "30").await;
            stack.submit("sales1", quote).await;
            quote
        }))
        .await;
        quotes.extend(made);
    }
    let mut pending = Vec::with_capacity(decisions);
    for quote in &quotes {
        let task = stack.inbox_task("manager1", *quote, "MANAGER").await;
        pending.push((*quote, task));
    }
    println!("prepared {decisions} quotes waiting for a manager");

    // Decide one after another at a steady pace.
    let mut started: Vec<(Uuid, DateTime<Utc>)> = Vec::with_capacity(decisions);
    for (quote, task) in &pending {
        let request = task["approvalRequestId"].as_str().unwrap();
        let at = Utc::now();
        let (status, body) = stack
            .decide(
                "manager1",
                request,
                json!({"level": "MANAGER", "decision": "APPROVE", "reason": "bench",
                       "priceHash": task["priceHash"]}),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
        started.push((*quote, at));
        tokio::time::sleep(pace).await;
    }
    let mut latencies_ms: Vec<f64> = Vec::with_capacity(decisions);
    for (quote, at) in &started {
        stack.quote_reaches(*quote, "APPROVED").await;
        let approved_at: DateTime<Utc> = sqlx::query_scalar(
            "SELECT occurred_at FROM quote_history WHERE quote_id = $1 AND to_status = 'APPROVED'",
        )
        .bind(quote)
        .fetch_one(&stack.cpq_db)
        .await
        .expect("the APPROVED transition in CPQ's history");
        latencies_ms.push((approved_at - *at).num_microseconds().unwrap() as f64 / 1000.0);
    }
    latencies_ms.sort_by(f64::total_cmp);
    println!(
        "decision → quote APPROVED over {} decisions: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal p99 ≤ 300 ms)",
        latencies_ms.len(),
        percentile(&latencies_ms, 50.0),
        percentile(&latencies_ms, 90.0),
        percentile(&latencies_ms, 99.0),
        latencies_ms.last().copied().unwrap_or_default(),
    );
    stack.stop().await;
}
