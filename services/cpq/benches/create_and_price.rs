//! Create-and-price throughput: the HTTP path (CPQ in-process on a random port, real catalog,
//! real PostgreSQL and Redis) against the same SQL the two commands write, run directly on the
//! same database in the same run. Each round runs both paths, in alternating order, each after a
//! settle pause (PostgreSQL's background work after one burst — autovacuum, WAL flushes — would
//! otherwise land on whichever path runs next); each round prints both rates and their ratio,
//! and the end prints the median ratio and the latency percentiles of one quote's create + price
//! on each path.
//!
//! `cargo bench -p cpq --bench create_and_price` (QUOTES, WORKERS and ROUNDS env vars override
//! the size; defaults 400, 8 and 5).

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary: fails loudly, prints its figures"
)]

#[path = "../tests/api/approval_support.rs"]
#[expect(
    dead_code,
    reason = "the harness approves quotes through it; the bench does not"
)]
mod approval_support;
#[path = "../tests/api/harness.rs"]
#[expect(dead_code, reason = "the bench uses a part of the test harness")]
mod harness;

use std::time::{Duration, Instant};

use chrono::Utc;
use common_kernel::context::{ActorType, RequestContext};
use common_kernel::ids::{ActorId, TenantId};
use common_kernel::money::Currency;
use cpq::app::ports::QuoteRepository;
use cpq::app::recording;
use cpq::domain::quote::events::{Created, EventDetail, Priced, QuoteEvent, Transition};
use cpq::domain::quote::{
    Commitment, PriceBookPin, PriceSnapshot, Quote, QuoteIdentity, QuoteItem, QuoteParts,
    QuotePrice, QuoteStatus,
};
use cpq::domain::{CustomerId, PriceBookId, QuoteId};
use cpq::infra::quote_reads::{self as reads, Locking};
use cpq::infra::quote_writes as writes;
use cpq::infra::{history, quotes::PgQuoteRepository};
use cpq_pricing::PricingState;
use futures::future::join_all;
use harness::{TestApp, expect_status, id_of};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// Pause before each measured phase, so neither path inherits the other's background work.
const SETTLE: Duration = Duration::from_secs(1);

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one path's round measured: its wall time and each quote's create + price latency.
struct Round {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

async fn http_path(app: &TestApp, quotes: usize, workers: usize) -> Round {
    let started = Instant::now();
    let per_worker = quotes / workers;
    let latencies = join_all((0..workers).map(|_| async move {
        let mut latencies = Vec::with_capacity(per_worker);
        for _ in 0..per_worker {
            let began = Instant::now();
            let body = app.create_body(3600, json!([app.item("1", 2)]));
            let created =
                expect_status(app.post("/quotes", &body).await, StatusCode::CREATED).await;
            let id = id_of(&created, "id");
            app.command(id, "price").await;
            latencies.push(began.elapsed());
        }
        latencies
    }))
    .await;
    Round {
        elapsed: started.elapsed(),
        latencies: latencies.concat(),
    }
}

fn context() -> RequestContext {
    RequestContext::system(
        TenantId::parse("acme").unwrap(),
        ActorId::parse("bench").unwrap(),
        ActorType::HumanAgent,
        "API",
        domain_kernel::access::Authority::default(),
    )
}

/// A quote as the sample's commands leave it: CONFIGURED and unpriced, or PRICED with the
/// sample's snapshot.
fn quote(id: QuoteId, items: &[QuoteItem], priced: Option<&PriceSnapshot>) -> Quote {
    let now = Utc::now();
    let (status, price, version) = match priced {
        None => (QuoteStatus::Configured, QuotePrice::NotPriced, 1),
        Some(snapshot) => (
            QuoteStatus::Priced,
            QuotePrice::Priced {
                state: PricingState::Priced,
                snapshot: PriceSnapshot {
                    price_hash: format!("{:064x}", id.as_uuid().as_u128()),
                    ..snapshot.clone()
                },
            },
            2,
        ),
    };
    Quote::restore(QuoteParts {
        identity: QuoteIdentity {
            id,
            tenant: TenantId::parse("acme").unwrap(),
            customer: CustomerId::parse("CUST-1").unwrap(),
            currency: Currency::parse("USD").unwrap(),
            price_book: PriceBookPin {
                id: PriceBookId::from_uuid(id.as_uuid()),
                version: 1,
            },
            created_at: now,
            created_by: ActorId::parse("bench").unwrap(),
        },
        valid_until: now + chrono::Duration::hours(1),
        updated_at: now,
        version,
        revision: 1,
        status,
        items: items.to_vec(),
        price,
        overrides: Vec::new(),
        commitment: Commitment::Open,
    })
    .unwrap()
}

/// The event the command writes for `quote` (the same shape, history row, outbox row and
/// audit evidence).
fn event_of(quote: &Quote, command: &'static str, detail: EventDetail) -> QuoteEvent {
    QuoteEvent {
        command,
        transition: Transition {
            quote_id: quote.id(),
            customer_id: "CUST-1".into(),
            revision: 1,
            from_status: None,
            to_status: quote.status(),
        },
        aggregate_version: quote.version(),
        reason: None,
        before: None,
        after: quote.summary(),
        detail,
    }
}

/// The writes of CreateQuote and PriceQuote (root, items, snapshot, update, history, event and
/// audit per command), with the service's own SQL, without HTTP, catalog calls or engines.
async fn direct_sql(
    pool: &PgPool,
    sample: &(Vec<QuoteItem>, PriceSnapshot),
    quotes: usize,
    workers: usize,
) -> Round {
    let started = Instant::now();
    let per_worker = quotes / workers;
    let latencies = join_all((0..workers).map(|_| async move {
        let mut latencies = Vec::with_capacity(per_worker);
        for _ in 0..per_worker {
            let began = Instant::now();
            let ctx = context();
            let id = QuoteId::generate();
            let created = quote(id, &sample.0, None);
            let mut tx = pool.begin().await.unwrap();
            writes::insert_root(&mut tx, &created).await.unwrap();
            writes::insert_items(&mut tx, id.as_uuid(), 1, created.items())
                .await
                .unwrap();
            let detail = EventDetail::Created(Created {
                currency: "USD".into(),
                valid_until: created.valid_until(),
                price_book_id: id.as_uuid(),
                price_book_version: 1,
                item_count: 1,
            });
            let event = event_of(&created, "CREATE", detail);
            history::append(&mut tx, &ctx, &event).await.unwrap();
            recording::publish(&mut tx, &ctx, &event).await.unwrap();
            tx.commit().await.unwrap();

            let mut tx = pool.begin().await.unwrap();
            let root = reads::root(&mut tx, "acme", id.as_uuid(), Locking::ForUpdate)
                .await
                .unwrap()
                .unwrap();
            reads::revision(&mut tx, root).await.unwrap();
            let mut priced = quote(id, &sample.0, Some(&sample.1));
            let snapshot = priced.pricing().snapshot().unwrap().clone();
            writes::upsert_snapshot(&mut tx, &priced, &snapshot)
                .await
                .unwrap();
            let at = writes::update_root(&mut tx, &priced).await.unwrap();
            priced.stamp_updated(at);
            let detail = EventDetail::Priced(Priced {
                price_hash: snapshot.price_hash.clone(),
                pricing_state: "PRICED",
                price_book_id: id.as_uuid(),
                price_book_version: 1,
                currency: "USD".into(),
                totals: snapshot.result["totals"].clone(),
            });
            let event = event_of(&priced, "PRICE", detail);
            history::append(&mut tx, &ctx, &event).await.unwrap();
            recording::publish(&mut tx, &ctx, &event).await.unwrap();
            tx.commit().await.unwrap();
            latencies.push(began.elapsed());
        }
        latencies
    }))
    .await;
    Round {
        elapsed: started.elapsed(),
        latencies: latencies.concat(),
    }
}

/// The `q`-quantile of `values` (sorted in place), nearest rank.
fn quantile(values: &mut [Duration], q: f64) -> Duration {
    values.sort_unstable();
    let rank = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let quotes = env_or("QUOTES", 400);
        let workers = env_or("WORKERS", 8).max(1);
        let rounds = env_or("ROUNDS", 5).max(1);
        let app = TestApp::spawn().await;
        // Warm up: connections, caches, prepared statements.
        http_path(&app, workers * 2, workers).await;

        // A real priced quote as the sample the direct path writes.
        let id: Uuid = sqlx::query_scalar("SELECT quote_id FROM quote LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        let stored = PgQuoteRepository
            .load(
                &mut app.db.acquire().await.unwrap(),
                &tenant,
                QuoteId::from_uuid(id),
            )
            .await
            .unwrap()
            .unwrap();
        let snapshot = stored.pricing().snapshot().unwrap().clone();
        let sample = (stored.items().to_vec(), snapshot);
        direct_sql(&app.db, &sample, workers * 2, workers).await;

        let rate = |d: Duration| quotes as f64 / d.as_secs_f64();
        println!("create+price, {quotes} quotes per round, {workers} concurrent clients, {rounds} rounds");
        let (mut ratios, mut http_latencies, mut direct_latencies) = (Vec::new(), Vec::new(), Vec::new());
        let settle = || tokio::time::sleep(SETTLE);
        for round in 1..=rounds {
            let (http, direct) = if round % 2 == 1 {
                settle().await;
                let http = http_path(&app, quotes, workers).await;
                settle().await;
                (http, direct_sql(&app.db, &sample, quotes, workers).await)
            } else {
                settle().await;
                let direct = direct_sql(&app.db, &sample, quotes, workers).await;
                settle().await;
                (http_path(&app, quotes, workers).await, direct)
            };
            let ratio = rate(http.elapsed) / rate(direct.elapsed);
            println!(
                "  round {round}: HTTP {:>7.1} quotes/s, direct SQL {:>7.1} quotes/s, ratio {ratio:.2}x",
                rate(http.elapsed),
                rate(direct.elapsed),
            );
            ratios.push(ratio);
            http_latencies.extend(http.latencies);
            direct_latencies.extend(direct.latencies);
        }
        ratios.sort_by(f64::total_cmp);
        println!("  median ratio HTTP / direct: {:.2}x (min {:.2}, max {:.2})", ratios[ratios.len() / 2], ratios[0], ratios[ratios.len() - 1]);
        for (name, latencies) in [("HTTP", &mut http_latencies), ("direct SQL", &mut direct_latencies)] {
            println!(
                "  {name} create+price latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                millis(quantile(latencies, 0.50)),
                millis(quantile(latencies, 0.99)),
                millis(quantile(latencies, 1.0)),
            );
        }
        app.stop().await;
    });
}
