//! Adapter throughput over the real stack with zero injected delay: the downstream simulator as
//! a process, the operations and the call log in PostgreSQL. Two figures in one run:
//!
//! - **bare**: the same HTTP requests (same endpoint, body shape and headers, a fresh key each)
//!   sent with the same client settings and nothing else;
//! - **adapter**: `ExecuteExternalOperation` for a fresh operation each: the key, the two
//!   transactions around the call, the call log, the outcome event and the audit evidence.
//!
//! The ratio adapter/bare is the share of bare throughput the adapter keeps (goal ≥ 0.7).
//! Rounds alternate bare and adapter so drift on the machine hits both.
//!
//! `cargo bench -p integration --bench adapter_throughput` (env `CALLS`, `CONCURRENCY`, `ROUNDS`).

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a bench reports on stdout"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common_kernel::context::{ActorType, RequestContext};
use common_kernel::settings::{DatabaseSettings, Secret, app_database_url};
use domain_kernel::access::{Authority, Role};
use domain_kernel::{ActorId, TenantId};
use downstream_sim::harness::SimProcess;
use futures::stream::{self, StreamExt};
use integration::app::{ExecuteRequest, Executor};
use integration::domain::key::{FulfilmentTaskId, OrderId, OrderItemId};
use integration::domain::{
    BusinessIdentity, ExternalCommand, ExternalSystem, IdempotencyKey, Operation, RetryBudget, Step,
};
use integration::infra::HttpDownstream;
use integration::infra::adapters::SystemEndpoint;
use integration::infra::adapters::mapping::request_of;
use serde_json::json;
use test_support::TestDatabase;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn request() -> ExecuteRequest {
    let operation = Operation::ProvisioningActivate;
    ExecuteRequest {
        identity: BusinessIdentity {
            tenant: TenantId::parse("bench").expect("tenant"),
            order_id: OrderId::generate(),
            order_item_id: Some(OrderItemId::generate()),
            task_id: FulfilmentTaskId::generate(),
            operation,
        },
        command: ExternalCommand::from_request(
            operation,
            &json!({"serviceSpecification": "FIBER-1G", "customerAccount": "C-100",
                    "characteristics": {"bandwidth": "1G"}}),
        )
        .expect("command"),
        job_key: None,
    }
}

fn worker() -> RequestContext {
    RequestContext::system(
        TenantId::parse("bench").expect("tenant"),
        ActorId::parse("integration-worker").expect("actor"),
        ActorType::WorkflowWorker,
        "workflow",
        Authority {
            roles: vec![Role::WorkflowWorker],
            client: "integration".into(),
            ..Authority::default()
        },
    )
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn figures(elapsed: Duration, mut latencies: Vec<Duration>) -> Figures {
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies[index]
    };
    Figures {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
    }
}

async fn bare(client: &reqwest::Client, base: &str, calls: usize, concurrency: usize) -> Figures {
    let started = Instant::now();
    let latencies: Vec<Duration> = stream::iter(0..calls)
        .map(|_| async {
            let request = request();
            let key = IdempotencyKey::derive(&request.identity);
            let external = request_of(&request.command, &request.identity);
            let at = Instant::now();
            let response = client
                .request(external.method, format!("{base}{}", external.path))
                .header("Idempotency-Key", key.as_str())
                .header("Content-Type", "application/json")
                .header("X-Correlation-Id", "bench")
                .timeout(Duration::from_secs(5))
                .body(external.body.to_string())
                .send()
                .await
                .expect("bare call");
            assert!(response.status().is_success());
            response.text().await.expect("body");
            at.elapsed()
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    figures(started.elapsed(), latencies)
}

async fn adapter(executor: &Executor, calls: usize, concurrency: usize) -> Figures {
    let ctx = worker();
    let started = Instant::now();
    let latencies: Vec<Duration> = stream::iter(0..calls)
        .map(|_| async {
            let request = request();
            let at = Instant::now();
            let step = executor
                .execute(&ctx, &request)
                .await
                .expect("adapter call");
            assert!(matches!(step, Step::Done(_)), "{step:?}");
            at.elapsed()
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    figures(started.elapsed(), latencies)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let calls = env_number("CALLS", 3000);
    let concurrency = env_number("CONCURRENCY", 32);
    let rounds = env_number("ROUNDS", 3);
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/integration");
    let settings = |url: String| DatabaseSettings {
        url: Secret::new(url),
        max_connections: u32::try_from(concurrency).unwrap_or(32),
        acquire_timeout: Duration::from_secs(30),
    };
    let database = TestDatabase::from_template_of("integration", &[platform, &migrations], |url| {
        let settings = settings(url);
        async move {
            let pool = common_kernel::db::connect(&settings, integration::SCHEMA)
                .await
                .expect("pool");
            messaging::schema::migrate(&pool, integration::SCHEMA, &integration::MIGRATOR)
                .await
                .expect("migrate");
            pool.close().await;
        }
    })
    .await;
    let app = common_kernel::db::connect(
        &settings(app_database_url(&database.url, "integration_app")),
        integration::SCHEMA,
    )
    .await
    .expect("app pool");
    let sim = SimProcess::start_default().await;
    let systems: BTreeMap<ExternalSystem, SystemEndpoint> = ExternalSystem::ALL
        .into_iter()
        .map(|system| {
            (
                system,
                SystemEndpoint {
                    base_url: sim.system_url(system.slug()),
                    timeout: Duration::from_secs(5),
                    budget: RetryBudget::default(),
                    token: None,
                },
            )
        })
        .collect();
    let executor = Executor::new(app, Arc::new(HttpDownstream::new(systems).expect("client")));
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let base = sim.system_url("provisioning");

    // Warm both paths (connections, plans) before measuring.
    bare(&client, &base, 200, concurrency).await;
    adapter(&executor, 200, concurrency).await;

    println!(
        "adapter throughput: {calls} calls per round, concurrency {concurrency}, {rounds} rounds"
    );
    println!(
        "round | bare calls/s | bare p50 ms | adapter calls/s | adapter p50 ms | adapter p99 ms | ratio"
    );
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        let b = bare(&client, &base, calls, concurrency).await;
        let a = adapter(&executor, calls, concurrency).await;
        let ratio = a.per_second / b.per_second;
        ratios.push(ratio);
        println!(
            "{round} | {:.0} | {:.2} | {:.0} | {:.2} | {:.2} | {ratio:.2}",
            b.per_second,
            b.p50.as_secs_f64() * 1000.0,
            a.per_second,
            a.p50.as_secs_f64() * 1000.0,
            a.p99.as_secs_f64() * 1000.0,
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median ratio adapter/bare: {:.2} (goal >= 0.70)",
        ratios[ratios.len() / 2]
    );
}
