//! A database outage holds messages instead of dead-lettering them: neither consumer runtime
//! spends attempts on an unreachable PostgreSQL, and nothing is acknowledged until it is applied.

use std::time::Duration;

use messaging::batch_consumer::{BatchConfig, BatchHandler, spawn_batched};
use messaging::consumer::{self, ConsumerConfig, EventHandler, HandlerError, IncomingEvent};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use test_support::TcpProxy;

use crate::support::{Db, brokers, database, topic, wait_for};

/// Records every event it applies.
#[derive(Clone, Copy)]
struct Recorder;

async fn record(conn: &mut PgConnection, event: &IncomingEvent) -> Result<(), HandlerError> {
    sqlx::query("INSERT INTO test_outage (event_id) VALUES ($1)")
        .bind(event.event_id)
        .execute(conn)
        .await?;
    Ok(())
}

impl EventHandler for Recorder {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        record(conn, event).await
    }
}

impl BatchHandler for Recorder {
    async fn handle_batch(
        &self,
        conn: &mut PgConnection,
        events: &[IncomingEvent],
    ) -> Result<(), HandlerError> {
        for event in events {
            record(&mut *conn, event).await?;
        }
        Ok(())
    }
}

/// The jobs role's pool, reaching PostgreSQL through a proxy the test can cut.
async fn proxied_jobs_pool(db: &Db) -> (TcpProxy, PgPool) {
    sqlx::raw_sql(
        "CREATE TABLE test_outage (event_id uuid PRIMARY KEY); GRANT SELECT, INSERT ON test_outage TO catalog_jobs",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let mut settings = db.settings.jobs_database(catalog::SERVICE);
    let url = settings.url.expose().to_owned();
    let proxy = TcpProxy::start("127.0.0.1:5432");
    let proxied = url.replacen("127.0.0.1:5432", &proxy.address(), 1);
    assert_ne!(proxied, url, "the test database is on 127.0.0.1:5432");
    settings.url = common_kernel::settings::Secret::new(proxied);
    settings.acquire_timeout = Duration::from_millis(500);
    settings.max_connections = 4;
    let pool = common_kernel::db::connect(&settings, catalog::SCHEMA)
        .await
        .unwrap();
    (proxy, pool)
}

async fn produce(topic: &str, count: usize) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .unwrap();
    for _ in 0..count {
        let id = uuid::Uuid::now_v7().to_string();
        let body = json!({
            "eventId": id, "eventType": "test.thing.changed.v1", "eventVersion": 1,
            "occurredAt": "2026-11-21T00:00:00Z", "tenantId": "acme", "aggregateType": "Thing",
            "aggregateId": id, "aggregateVersion": 1, "correlationId": "c", "causationId": "c",
            "businessTransactionId": "c", "actorId": "a", "partitionKey": "thing", "payload": {}
        })
        .to_string();
        producer
            .send(
                FutureRecord::to(topic).key("thing").payload(&body),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
}

fn config(topic: &str) -> ConsumerConfig {
    let mut config = ConsumerConfig::new(
        format!("test-{}", uuid::Uuid::now_v7()),
        vec![topic.to_owned()],
        brokers(),
    );
    config.base_backoff = Duration::from_millis(20);
    config.max_attempts = 2;
    config.version_guard = false;
    config
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_outage_holds_the_message_and_loses_nothing() {
    let db = database().await;
    let (proxy, pool) = proxied_jobs_pool(&db).await;
    let topic = topic("outage-single", 1).await;
    proxy.block();
    produce(&topic, 3).await;
    let handle = consumer::spawn(pool, config(&topic), Recorder).unwrap();
    // Far longer than two attempts with 20 ms back-off.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM consumer_dead_letter").await,
        0
    );
    assert_eq!(count(&db.pool, "SELECT count(*) FROM test_outage").await, 0);
    proxy.unblock();
    assert!(wait_for(&db.pool, "SELECT count(*) FROM test_outage", 3).await);
    handle.shutdown().await;
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM consumer_dead_letter").await,
        0
    );
}

#[tokio::test]
async fn an_outage_holds_the_batch_and_loses_nothing() {
    let db = database().await;
    let (proxy, pool) = proxied_jobs_pool(&db).await;
    let topic = topic("outage-batch", 1).await;
    proxy.block();
    produce(&topic, 20).await;
    let handle = spawn_batched(pool, BatchConfig::new(config(&topic)), Recorder).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM consumer_dead_letter").await,
        0
    );
    proxy.unblock();
    assert!(wait_for(&db.pool, "SELECT count(*) FROM test_outage", 20).await);
    handle.shutdown().await;
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM consumer_dead_letter").await,
        0
    );
}

#[tokio::test]
async fn a_stop_during_an_outage_acknowledges_nothing() {
    let db = database().await;
    let (proxy, pool) = proxied_jobs_pool(&db).await;
    let topic = topic("outage-stop", 1).await;
    let config = config(&topic);
    proxy.block();
    produce(&topic, 5).await;
    let handle = spawn_batched(pool.clone(), BatchConfig::new(config.clone()), Recorder).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    tokio::time::timeout(Duration::from_secs(10), handle.shutdown())
        .await
        .expect("a stop ends the wait for the database");
    proxy.unblock();
    // The same group starts again and finds every message still unacknowledged.
    let again = spawn_batched(pool, BatchConfig::new(config), Recorder).unwrap();
    assert!(wait_for(&db.pool, "SELECT count(*) FROM test_outage", 5).await);
    again.shutdown().await;
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM consumer_dead_letter").await,
        0
    );
}
