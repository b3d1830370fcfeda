//! Engine bench through zeebe-rs over gRPC (prints figures; `harness = false`):
//! * single-service-task instances per second (create instance + activate + complete) with
//!   concurrent clients;
//! * job activation latency p50/p99: from CreateProcessInstance to the job reaching a worker
//!   that is already long-polling.
//!
//! Target: `ZEEBE_ADDRESS` when set, else the embedded engine on a fresh database.
#![expect(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "bench output and setup"
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Target, activate_one, bpmn};

const CLIENTS: usize = 8;
const THROUGHPUT_RUN: Duration = Duration::from_secs(10);
const LATENCY_SAMPLES: usize = 200;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let target = Target::start().await;
    target.deploy("one-task.bpmn", &bpmn("one-task.bpmn")).await;

    // Warm-up.
    for _ in 0..20 {
        one_instance(&target.client).await;
    }

    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let client = target.client.clone();
        let done = Arc::clone(&done);
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < THROUGHPUT_RUN {
                one_instance(&client).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let count = done.load(Ordering::Relaxed);
    println!(
        "throughput: {count} single-service-task instances in {elapsed:.1} s with {CLIENTS} clients = {:.0} instances/s (target >= 80)",
        count as f64 / elapsed
    );

    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let client = target.client.clone();
        let poll = tokio::spawn(async move {
            let job = activate_one(&client, "one-task-work", Duration::from_secs(10)).await;
            (job, Instant::now())
        });
        tokio::time::sleep(Duration::from_millis(30)).await; // let the poll park
        let created = Instant::now();
        target.create("one-task", json!({})).await;
        let (job, received) = poll.await.unwrap();
        let job = job.expect("job delivered");
        samples.push(received - created);
        support::complete(&target.client, &job, json!({})).await;
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "activation latency (create -> long-polling worker), {} samples: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p50 <= 20 ms)",
        samples.len(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        pct(1.0).as_secs_f64() * 1000.0,
    );
}

async fn one_instance(client: &zeebe_rs::Client) {
    client
        .create_process_instance()
        .with_bpmn_process_id("one-task".to_owned())
        .with_variables(json!({"n": 1}))
        .unwrap()
        .send()
        .await
        .expect("create");
    let job = activate_one(client, "one-task-work", Duration::from_secs(10))
        .await
        .expect("job");
    support::complete(client, &job, json!({"ok": true})).await;
}
