//! The runtime against a real engine (embedded, or `ZEEBE_ADDRESS`): activation, typed results,
//! retries with back-off, incidents, BPMN errors, several job types in one process, graceful
//! shutdown and start-up deployment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use support::{Target, bpmn_dir};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use workflow_runtime::{
    JobContext, JobError, Registry, RetryPolicy, WorkerConfig, deploy_directory, handler,
};

const WAIT: Duration = Duration::from_secs(15);

/// Short long polls and a fast retry policy keep the scenarios quick without changing what
/// they prove.
fn config(job_type: &str) -> WorkerConfig {
    WorkerConfig {
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            initial_retries: 3,
            base: Duration::from_millis(200),
            max: Duration::from_secs(5),
        },
        ..WorkerConfig::new(job_type)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceInput {
    qty: u32,
    unit_price: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PriceOutput {
    total: u32,
    priced_by: String,
}

async fn price(ctx: JobContext, input: PriceInput) -> Result<PriceOutput, JobError> {
    Ok(PriceOutput {
        total: input.qty * input.unit_price,
        priced_by: ctx.element_id,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_output_lands_in_the_process_variables() {
    let target = Target::start().await;
    target.deploy("price.bpmn").await;
    let worker = target
        .gateway
        .start_worker(config("rt-price"), handler(price))
        .expect("worker starts");

    let (_, variables) = target
        .run("rt-price", json!({"qty": 3, "unitPrice": 7}), WAIT)
        .await;
    assert_eq!(variables["total"], 21);
    assert_eq!(variables["pricedBy"], "Task");
    assert_eq!(variables["qty"], 3, "input variables stay");

    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.stats.activated, 1);
    assert_eq!(report.stats.completed, 1);
    assert_eq!(report.stats.command_errors, 0);
}

/// zeebe-rs's own worker would take up to 15 s per job here (one tick per poll); the runtime
/// long-polls and re-polls at once, so twenty sequential instances take well under a second
/// each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_re_polls_at_once_so_sequential_instances_do_not_wait_for_a_tick() {
    let target = Target::start().await;
    target.deploy("price.bpmn").await;
    let worker = target
        .gateway
        .start_worker(config("rt-price"), handler(price))
        .expect("worker starts");

    let started = Instant::now();
    for qty in 1..=20u32 {
        let (_, variables) = target
            .run("rt-price", json!({"qty": qty, "unitPrice": 2}), WAIT)
            .await;
        assert_eq!(variables["total"], qty * 2);
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(10),
        "20 sequential instances took {elapsed:?}"
    );
    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.stats.completed, 20);
}

/// The worker asks only for as many jobs as it has free slots: with 2 slots, never more than
/// 2 handlers run at once, and all 6 jobs are still done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded_by_the_handler_slots() {
    let target = Target::start().await;
    target.deploy("slow.bpmn").await;
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (Arc::clone(&running), Arc::clone(&peak));
    let slow = handler(move |_ctx: JobContext, _: serde_json::Value| {
        let (running, peak) = (Arc::clone(&r), Arc::clone(&p));
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, JobError>(())
        }
    });
    let worker = target
        .gateway
        .start_worker(
            WorkerConfig {
                max_concurrent_jobs: 2,
                ..config("rt-slow")
            },
            slow,
        )
        .expect("worker starts");

    let runs = (0..6).map(|i| target.run("rt-slow", json!({ "i": i }), WAIT));
    let started = Instant::now();
    futures::future::join_all(runs).await;
    assert_eq!(
        peak.load(Ordering::SeqCst),
        2,
        "both slots used, never more"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(850),
        "6 jobs of 300 ms on 2 slots need 3 rounds, took {:?}",
        started.elapsed()
    );
    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.stats.completed, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technical_failure_is_retried_with_growing_back_off_then_succeeds() {
    let target = Target::start().await;
    target.deploy("flaky.bpmn").await;
    let attempts: Arc<Mutex<Vec<(Instant, i32)>>> = Arc::default();
    let seen = Arc::clone(&attempts);
    let flaky = handler(move |ctx: JobContext, _: serde_json::Value| {
        let seen = Arc::clone(&seen);
        async move {
            let attempt = {
                let mut seen = seen.lock().unwrap();
                seen.push((Instant::now(), ctx.retries));
                seen.len()
            };
            if attempt < 3 {
                Err(JobError::technical("ledger unavailable"))
            } else {
                Ok(json!({"attempts": attempt}))
            }
        }
    });
    let worker = target
        .gateway
        .start_worker(config("rt-flaky"), flaky)
        .expect("worker starts");

    let (_, variables) = target.run("rt-flaky", json!({}), WAIT).await;
    assert_eq!(variables["attempts"], 3);
    let attempts = attempts.lock().unwrap().clone();
    let retries: Vec<i32> = attempts.iter().map(|(_, r)| *r).collect();
    assert_eq!(retries, vec![3, 2, 1], "each failure took one retry");
    let first_gap = attempts[1].0 - attempts[0].0;
    let second_gap = attempts[2].0 - attempts[1].0;
    // Back-off 200 ms, then 400 ms (small tolerance for clock granularity).
    assert!(first_gap >= Duration::from_millis(180), "{first_gap:?}");
    assert!(second_gap >= Duration::from_millis(380), "{second_gap:?}");
    assert!(
        second_gap < Duration::from_secs(5),
        "retried when due, not at a poll tick: {second_gap:?}"
    );
    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!((report.stats.failed, report.stats.completed), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_raise_an_incident_and_the_job_is_not_offered_again() {
    let target = Target::start().await;
    target.deploy("broken.bpmn").await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let broken = handler(move |_ctx: JobContext, _: serde_json::Value| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            let cause = std::io::Error::other("connection refused");
            Err::<(), _>(JobError::technical_from("ledger call failed", cause))
        }
    });
    let worker = target
        .gateway
        .start_worker(config("rt-broken"), broken)
        .expect("worker starts");

    let key = target.create("rt-broken", json!({})).await;
    if target.is_embedded() {
        let incidents = target.wait_for_incident(key, WAIT).await;
        assert_eq!(incidents.len(), 1);
        assert_eq!(incidents[0].0, "JOB_NO_RETRIES");
        assert_eq!(
            incidents[0].1, "ledger call failed: connection refused",
            "the whole cause chain reaches the incident"
        );
        assert_eq!(target.instance_state(key).await.as_deref(), Some("ACTIVE"));
    } else {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    // The task has 2 retries: two attempts, then nothing more even after a while.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.stats.failed, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_that_do_not_fit_the_input_raise_an_incident_without_retrying() {
    let target = Target::start().await;
    target.deploy("price.bpmn").await;
    let worker = target
        .gateway
        .start_worker(config("rt-price"), handler(price))
        .expect("worker starts");

    let key = target
        .create("rt-price", json!({"qty": "three", "unitPrice": 7}))
        .await;
    if target.is_embedded() {
        let incidents = target.wait_for_incident(key, WAIT).await;
        assert_eq!(incidents[0].0, "JOB_NO_RETRIES");
        assert!(incidents[0].1.contains("`qty`"), "{}", incidents[0].1);
    } else {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        report.stats.activated, 1,
        "no retries for a deterministic error"
    );
    assert_eq!(report.stats.failed, 1);
}

#[derive(Debug, Deserialize)]
struct ChargeInput {
    card: String,
    amount: u32,
}

#[derive(Debug, Serialize)]
struct ChargeOutput {
    charged: u32,
}

async fn charge(_ctx: JobContext, input: ChargeInput) -> Result<ChargeOutput, JobError> {
    if input.card == "blocked" {
        return Err(JobError::business("CARD_DECLINED", "card is blocked")
            .with_variables(&json!({"declineReason": "blocked card"}))
            .map_err(|e| JobError::technical_from("variables", e))?);
    }
    Ok(ChargeOutput {
        charged: input.amount,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotifyInput {
    decline_reason: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_registry_serves_several_job_types_and_business_errors_take_the_boundary_path() {
    let target = Target::start().await;
    target.deploy("charge.bpmn").await;
    let group = Registry::new()
        .register(config("rt-charge"), handler(charge))
        .register(
            config("rt-notify"),
            handler(|_ctx: JobContext, input: NotifyInput| async move {
                Ok::<_, JobError>(
                    json!({"notified": format!("declined: {}", input.decline_reason)}),
                )
            }),
        )
        .register(
            config("rt-review"),
            handler(|_ctx: JobContext, _: serde_json::Value| async {
                Ok::<_, JobError>(json!({"reviewed": true}))
            }),
        )
        .start(&target.gateway)
        .expect("workers start");

    let (_, declined) = target
        .run("rt-charge", json!({"card": "blocked", "amount": 50}), WAIT)
        .await;
    assert_eq!(declined["notified"], "declined: blocked card");
    assert_eq!(declined.get("charged"), None, "charge did not complete");

    let (_, large) = target
        .run("rt-charge", json!({"card": "ok", "amount": 5000}), WAIT)
        .await;
    assert_eq!(large["charged"], 5000);
    assert_eq!(
        large["reviewed"], true,
        "gateway routed the large charge to review"
    );

    let (_, small) = target
        .run("rt-charge", json!({"card": "ok", "amount": 10}), WAIT)
        .await;
    assert_eq!(small["charged"], 10);
    assert_eq!(small.get("reviewed"), None);
    assert_eq!(small.get("notified"), None);

    let stats = group.stats();
    let reports = group.shutdown(Duration::from_secs(5)).await;
    let by_type: Vec<(&str, u64, u64)> = reports
        .iter()
        .map(|r| (r.job_type.as_str(), r.stats.completed, r.stats.errored))
        .collect();
    assert_eq!(
        by_type,
        vec![
            ("rt-charge", 2, 1),
            ("rt-notify", 1, 0),
            ("rt-review", 1, 0)
        ]
    );
    assert_eq!(stats.len(), 3);
    assert!(reports.iter().all(|r| r.is_clean()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_the_in_flight_handler_then_stops_polling() {
    let target = Target::start().await;
    target.deploy("slow.bpmn").await;
    let (started_tx, mut started_rx) = mpsc::unbounded_channel::<i64>();
    let finished_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let (done, counted) = (Arc::clone(&finished_at), Arc::clone(&calls));
    let slow = handler(move |ctx: JobContext, _: serde_json::Value| {
        counted.fetch_add(1, Ordering::SeqCst);
        let (started, done) = (started_tx.clone(), Arc::clone(&done));
        async move {
            let _ = started.send(ctx.job_key);
            tokio::time::sleep(Duration::from_millis(1500)).await;
            *done.lock().unwrap() = Some(Instant::now());
            Ok::<_, JobError>(json!({"slowDone": true}))
        }
    });
    let worker = target
        .gateway
        .start_worker(config("rt-slow"), slow)
        .expect("worker starts");

    let first = {
        let gateway = target.gateway.clone();
        tokio::spawn(async move {
            gateway
                .client()
                .create_process_instance()
                .with_bpmn_process_id("rt-slow".to_owned())
                .with_variables(json!({}))
                .expect("variables")
                .with_result(None)
                .send_with_serialized_result()
                .await
                .map(|r| r.variables().to_owned())
        })
    };
    tokio::time::timeout(WAIT, started_rx.recv())
        .await
        .expect("handler started")
        .expect("job key");

    let report = worker.shutdown(Duration::from_secs(10)).await;
    let returned_at = Instant::now();
    let finished = finished_at.lock().unwrap().expect("handler finished");
    assert!(
        returned_at >= finished,
        "shutdown returned before the handler ended"
    );
    assert_eq!(report.in_flight_at_stop, 1);
    assert_eq!(report.finished, 1);
    assert!(report.is_clean());
    assert_eq!(
        report.stats.completed, 1,
        "its CompleteJob went out before shutdown returned"
    );
    let variables = tokio::time::timeout(WAIT, first)
        .await
        .expect("instance completes")
        .expect("task")
        .expect("result");
    assert!(variables.contains("slowDone"), "{variables}");

    // Stopped: a new job is not taken by the old worker …
    let second = target.create("rt-slow", json!({})).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    if let Some(state) = target.instance_state(second).await {
        assert_eq!(state, "ACTIVE");
    }
    // … and was not swallowed by a cancelled poll: a new worker gets it at once.
    let (tx, mut rx) = mpsc::unbounded_channel::<i64>();
    let next = target
        .gateway
        .start_worker(
            config("rt-slow"),
            handler(move |ctx: JobContext, _: serde_json::Value| {
                let _ = tx.send(ctx.process_instance_key);
                async { Ok::<_, JobError>(()) }
            }),
        )
        .expect("worker starts");
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("job offered to the new worker");
    assert_eq!(got, Some(second));
    next.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_past_the_deadline_is_abandoned_and_its_job_returns_after_the_timeout() {
    let target = Target::start().await;
    target.deploy("slow.bpmn").await;
    let (started_tx, mut started_rx) = mpsc::unbounded_channel::<i64>();
    let release = Arc::new(Notify::new());
    let never = Arc::clone(&release);
    let stuck = handler(move |ctx: JobContext, _: serde_json::Value| {
        let (started, never) = (started_tx.clone(), Arc::clone(&never));
        async move {
            let _ = started.send(ctx.job_key);
            never.notified().await;
            Ok::<_, JobError>(())
        }
    });
    let job_timeout = Duration::from_secs(2);
    let worker = target
        .gateway
        .start_worker(
            WorkerConfig {
                job_timeout,
                ..config("rt-slow")
            },
            stuck,
        )
        .expect("worker starts");
    let key = target.create("rt-slow", json!({})).await;
    let job_key = tokio::time::timeout(WAIT, started_rx.recv())
        .await
        .expect("handler started")
        .expect("job key");

    let asked = Instant::now();
    let report = worker.shutdown(Duration::from_millis(300)).await;
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "the deadline bounds shutdown: {:?}",
        asked.elapsed()
    );
    assert_eq!(report.abandoned, vec![job_key]);
    assert_eq!((report.in_flight_at_stop, report.finished), (1, 0));
    assert!(!report.is_clean());
    assert_eq!(report.stats.completed, 0);
    release.notify_waiters();

    // At-least-once: after the activation timeout another worker gets the same job.
    let (tx, mut rx) = mpsc::unbounded_channel::<(i64, i64)>();
    let next = target
        .gateway
        .start_worker(
            config("rt-slow"),
            handler(move |ctx: JobContext, _: serde_json::Value| {
                let _ = tx.send((ctx.job_key, ctx.process_instance_key));
                async { Ok::<_, JobError>(()) }
            }),
        )
        .expect("worker starts");
    let again = tokio::time::timeout(job_timeout + WAIT, rx.recv())
        .await
        .expect("job offered again after its timeout");
    assert_eq!(again, Some((job_key, key)));
    let report = next.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.stats.completed, 1);
    if let Some(state) = target.instance_state(key).await {
        assert_eq!(state, "COMPLETED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploying_a_directory_twice_keeps_versions_and_keys() {
    let target = Target::start().await;
    let first = deploy_directory(target.client(), bpmn_dir())
        .await
        .expect("deploys");
    let ids: Vec<&str> = first.iter().map(|p| p.bpmn_process_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "rt-broken",
            "rt-charge",
            "rt-flaky",
            "rt-price",
            "rt-slow",
            "rt-traced"
        ]
    );
    assert!(first.iter().any(|p| p.resource_name == "charge.bpmn"));
    let again = deploy_directory(target.client(), bpmn_dir())
        .await
        .expect("deploys again");
    assert_eq!(first, again, "same versions and definition keys");

    let empty = std::env::temp_dir().join(format!("wf-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let refused = deploy_directory(target.client(), &empty).await;
    assert!(matches!(
        refused,
        Err(workflow_runtime::DeployError::NoResources(_))
    ));
    std::fs::remove_dir_all(&empty).expect("cleanup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_back_off_while_the_engine_is_gone_and_shutdown_stays_prompt() {
    let mut target = Target::start().await;
    let worker = target
        .gateway
        .start_worker(
            WorkerConfig {
                poll_backoff_min: Duration::from_millis(100),
                poll_backoff_max: Duration::from_secs(2),
                ..config("rt-price")
            },
            handler(price),
        )
        .expect("worker starts");
    if !target.stop_engine().await {
        return; // needs the embedded engine to take it away
    }
    // Failures at 0, +0.1, +0.3, +0.7, +1.5 s …: a handful in 2 s, not a hot loop.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let errors = worker.stats().poll_errors;
    assert!((2..=7).contains(&errors), "{errors} poll errors in 2 s");

    let asked = Instant::now();
    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "{:?}",
        asked.elapsed()
    );
    assert!(report.is_clean());
    assert_eq!(report.stats.activated, 0);
}
