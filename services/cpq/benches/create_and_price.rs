//! Create-and-price throughput: the HTTP path (CPQ in-process on a random port, real catalog,
//! real PostgreSQL and Redis) against the same SQL the two commands write, run directly on the
//! same database in the same run. Prints both rates and their ratio.
//!
//! `cargo bench -p cpq --bench create_and_price` (QUOTES and WORKERS env vars override the size).

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary: fails loudly, prints its figures"
)]

#[path = "../tests/api/harness.rs"]
#[expect(dead_code, reason = "the bench uses a part of the test harness")]
mod harness;

use std::time::{Duration, Instant};

use chrono::Utc;
use common_kernel::context::{Actor, ActorType, RequestContext};
use common_kernel::ids::{ActorId, CommandId, TenantId};
use common_kernel::outbox::{self, NewEvent};
use cpq::infra::history::{self, Change};
use cpq::infra::quotes::{self as repo, ItemRow, NewSnapshot, QuoteRow};
use futures::future::join_all;
use harness::{TestApp, expect_status, id_of};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn http_path(app: &TestApp, quotes: usize, workers: usize) -> Duration {
    let started = Instant::now();
    let per_worker = quotes / workers;
    join_all((0..workers).map(|_| async move {
        for _ in 0..per_worker {
            let body = app.create_body(3600, json!([app.item("1", 2)]));
            let created =
                expect_status(app.post("/quotes", &body).await, StatusCode::CREATED).await;
            let id = id_of(&created, "id");
            app.command(id, "price").await;
        }
    }))
    .await;
    started.elapsed()
}

fn context() -> RequestContext {
    RequestContext {
        tenant_id: TenantId::parse("acme").unwrap(),
        actor: Actor {
            actor_id: ActorId::parse("bench").unwrap(),
            actor_type: ActorType::HumanAgent,
        },
        channel: "API".into(),
        correlation_id: Uuid::now_v7().to_string(),
        command_id: CommandId::generate(),
        causation_id: None,
        business_transaction_id: Uuid::now_v7().to_string(),
        traceparent: None,
        idempotency_key: None,
    }
}

fn event(id: Uuid, version: i64, event_type: &'static str, payload: Value) -> NewEvent {
    NewEvent {
        event_type,
        event_version: 1,
        topic: "cpq.quote.events.v1",
        aggregate_type: "Quote",
        aggregate_id: id.to_string(),
        aggregate_version: version,
        partition_key: id.to_string(),
        payload,
    }
}

/// The writes of CreateQuote and PriceQuote (root, item, snapshot, update, history, event and
/// audit per command), without HTTP, catalog calls or engines.
async fn direct_sql(
    pool: &PgPool,
    sample: &(Vec<ItemRow>, Value, Value),
    quotes: usize,
    workers: usize,
) -> Duration {
    let started = Instant::now();
    let per_worker = quotes / workers;
    join_all((0..workers).map(|_| async move {
        for _ in 0..per_worker {
            let ctx = context();
            let id = Uuid::now_v7();
            let now = Utc::now();
            let mut row = QuoteRow {
                quote_id: id,
                tenant_id: "acme".into(),
                customer_id: "CUST-1".into(),
                currency: "USD".into(),
                status: "CONFIGURED".into(),
                revision: 1,
                valid_until: now + chrono::Duration::hours(1),
                aggregate_version: 1,
                price_book_id: id,
                price_book_version: 1,
                pricing_state: "NOT_PRICED".into(),
                price_hash: None,
                approved_price_hash: None,
                approved_at: None,
                approved_by: None,
                policy_snapshot: None,
                accepted_at: None,
                accepted_by: None,
                acceptance_channel: None,
                acceptance_reference: None,
                created_at: now,
                created_by: "bench".into(),
                updated_at: now,
            };
            let mut tx = pool.begin().await.unwrap();
            repo::insert(&mut tx, &row).await.unwrap();
            repo::replace_items(&mut tx, id, 1, &sample.0)
                .await
                .unwrap();
            record(&mut tx, &ctx, &row, "CREATE", "cpq.quote.created.v1").await;
            tx.commit().await.unwrap();

            let mut tx = pool.begin().await.unwrap();
            let locked = repo::lock(&mut tx, "acme", id).await.unwrap().unwrap();
            repo::items(&mut tx, id, locked.revision).await.unwrap();
            repo::overrides(&mut tx, id, locked.revision).await.unwrap();
            let hash = format!("{:064x}", id.as_u128());
            repo::upsert_snapshot(
                &mut tx,
                id,
                1,
                &NewSnapshot {
                    price_hash: &hash,
                    trace_hash: &hash,
                    currency: "USD",
                    price_book_id: id,
                    price_book_version: 1,
                    one_time_total: rust_decimal::Decimal::from(100),
                    result: &sample.1,
                    trace: &sample.2,
                    priced_by: "bench",
                },
            )
            .await
            .unwrap();
            row.status = "PRICED".into();
            row.pricing_state = "PRICED".into();
            row.price_hash = Some(hash);
            row.aggregate_version = 2;
            repo::update(&mut tx, &row).await.unwrap();
            record(&mut tx, &ctx, &row, "PRICE", "cpq.quote.priced.v1").await;
            tx.commit().await.unwrap();
        }
    }))
    .await;
    started.elapsed()
}

async fn record(
    conn: &mut sqlx::PgConnection,
    ctx: &RequestContext,
    row: &QuoteRow,
    command: &str,
    event_type: &'static str,
) {
    let details = json!({"status": row.status});
    history::append(
        conn,
        ctx,
        Change {
            quote_id: row.quote_id,
            revision: row.revision,
            command,
            from_status: None,
            to_status: &row.status,
            aggregate_version: row.aggregate_version,
            reason: None,
            details: Some(&details),
        },
    )
    .await
    .unwrap();
    outbox::append(
        conn,
        ctx,
        event(
            row.quote_id,
            row.aggregate_version,
            event_type,
            details.clone(),
        ),
    )
    .await
    .unwrap();
    common_kernel::audit::record(
        conn,
        ctx,
        common_kernel::audit::Evidence {
            event_type: "cpq.quote.bench",
            resource: common_kernel::audit::AuditResource {
                resource_type: "Quote",
                resource_id: row.quote_id.to_string(),
                resource_version: row.aggregate_version,
            },
            business_reason: None,
            before: None,
            after: Some(details),
            policy: None,
        },
    )
    .await
    .unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let quotes = env_or("QUOTES", 400);
        let workers = env_or("WORKERS", 8).max(1);
        let app = TestApp::spawn().await;
        // Warm up: connections, caches, prepared statements.
        http_path(&app, workers * 2, workers).await;
        let http = http_path(&app, quotes, workers).await;

        // A real priced quote as the sample the direct path writes.
        let quote: Uuid = sqlx::query_scalar("SELECT quote_id FROM quote LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
        let items = repo::items(&mut app.db.acquire().await.unwrap(), quote, 1)
            .await
            .unwrap();
        let snapshot = repo::snapshot(&mut app.db.acquire().await.unwrap(), quote, 1)
            .await
            .unwrap()
            .unwrap();
        let sample = (items, snapshot.result, snapshot.trace);
        direct_sql(&app.db, &sample, workers * 2, workers).await;
        let direct = direct_sql(&app.db, &sample, quotes, workers).await;

        let rate = |d: Duration| quotes as f64 / d.as_secs_f64();
        println!("create+price, {quotes} quotes, {workers} concurrent clients");
        println!(
            "  HTTP (create + price, catalog via Redis): {:>8.1} quotes/s  ({:?})",
            rate(http),
            http
        );
        println!(
            "  same SQL writes, direct:                  {:>8.1} quotes/s  ({:?})",
            rate(direct),
            direct
        );
        println!(
            "  ratio HTTP / direct:                      {:>8.2}x",
            rate(http) / rate(direct)
        );
        app.stop().await;
    });
}
