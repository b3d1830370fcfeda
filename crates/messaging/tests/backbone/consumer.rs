//! The consumer runtime: duplicates, stale events, poison messages, retries, shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use messaging::consumer::{self, ConsumerConfig, EventHandler, HandlerError, IncomingEvent};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use crate::support::{brokers, database, topic, wait_for};

/// Projects "things": the latest version and how many times an event was applied.
#[derive(Clone)]
struct Projection {
    failures_before_success: Arc<AtomicU32>,
}

impl EventHandler for Projection {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        if event.envelope["payload"]["permanent"] == true {
            return Err(HandlerError::Permanent(
                "the payload is not acceptable".into(),
            ));
        }
        if self
            .failures_before_success
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(HandlerError::Retryable("simulated lock timeout".into()));
        }
        sqlx::query(
                "INSERT INTO test_projection (aggregate_id, version, applied) VALUES ($1, $2, 1) \
                 ON CONFLICT (aggregate_id) DO UPDATE SET version = EXCLUDED.version, applied = test_projection.applied + 1",
            )
            .bind(&event.aggregate_id)
            .bind(event.aggregate_version)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// The handler's table, granted to the jobs role (consumers run on its pool) as a service's
/// migration would grant what its handler writes.
async fn projection_table(pool: &PgPool) {
    sqlx::raw_sql(
        "CREATE TABLE test_projection (aggregate_id text PRIMARY KEY, version bigint NOT NULL, applied int NOT NULL); \
         GRANT SELECT, INSERT, UPDATE ON test_projection TO catalog_jobs",
    )
    .execute(pool)
    .await
    .unwrap();
}

fn envelope(event_id: &str, aggregate: &str, version: i64, payload: Value) -> Value {
    json!({
        "eventId": event_id, "eventType": "test.thing.changed.v1", "eventVersion": 1,
        "occurredAt": "2026-11-21T00:00:00Z", "tenantId": "acme", "aggregateType": "Thing",
        "aggregateId": aggregate, "aggregateVersion": version, "correlationId": "c", "causationId": "c",
        "businessTransactionId": "c", "actorId": "a", "partitionKey": aggregate, "payload": payload
    })
}

async fn produce(topic: &str, key: &str, body: &[u8]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to(topic).key(key).payload(body),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
}

/// Events of `thing-1` at these versions, in order.
async fn produce_versions(topic: &str, versions: std::ops::RangeInclusive<i64>) {
    for version in versions {
        let event = envelope(
            &uuid::Uuid::now_v7().to_string(),
            "thing-1",
            version,
            json!({}),
        );
        produce(topic, "thing-1", event.to_string().as_bytes()).await;
    }
}

fn config(topic: &str) -> ConsumerConfig {
    let mut config = ConsumerConfig::new(
        format!("test-{}", uuid::Uuid::now_v7()),
        vec![topic.to_owned()],
        brokers(),
    );
    config.base_backoff = Duration::from_millis(20);
    config
}

fn projection(failures: u32) -> Projection {
    Projection {
        failures_before_success: Arc::new(AtomicU32::new(failures)),
    }
}

#[tokio::test]
async fn the_same_event_delivered_twice_has_one_effect() {
    let db = database().await;
    projection_table(&db.pool).await;
    let topic = topic("consumer-dup", 1).await;
    let id = uuid::Uuid::now_v7().to_string();
    let body = envelope(&id, "thing-1", 1, json!({})).to_string();
    produce(&topic, "thing-1", body.as_bytes()).await;
    produce(&topic, "thing-1", body.as_bytes()).await;
    produce(
        &topic,
        "thing-1",
        envelope(&uuid::Uuid::now_v7().to_string(), "thing-1", 2, json!({}))
            .to_string()
            .as_bytes(),
    )
    .await;

    let handle = consumer::spawn(db.jobs.clone(), config(&topic), projection(0)).unwrap();
    assert!(wait_for(&db.pool, "SELECT count(*) FROM inbox_message", 2).await);
    assert!(wait_for(&db.pool, "SELECT max(version) FROM test_projection", 2).await);
    handle.shutdown().await;
    let applied: i32 = sqlx::query_scalar("SELECT applied FROM test_projection")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        applied, 2,
        "two distinct events applied once each; the duplicate had no effect"
    );
}

#[tokio::test]
async fn an_older_event_after_a_newer_one_does_not_regress_state() {
    let db = database().await;
    projection_table(&db.pool).await;
    let topic = topic("consumer-stale", 1).await;
    let newer = uuid::Uuid::now_v7().to_string();
    let older = uuid::Uuid::now_v7().to_string();
    produce(
        &topic,
        "thing-1",
        envelope(&newer, "thing-1", 5, json!({}))
            .to_string()
            .as_bytes(),
    )
    .await;
    produce(
        &topic,
        "thing-1",
        envelope(&older, "thing-1", 3, json!({}))
            .to_string()
            .as_bytes(),
    )
    .await;

    let handle = consumer::spawn(db.jobs.clone(), config(&topic), projection(0)).unwrap();
    assert!(wait_for(&db.pool, "SELECT count(*) FROM inbox_message", 2).await);
    handle.shutdown().await;
    let version: i64 = sqlx::query_scalar("SELECT version FROM test_projection")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(version, 5, "state stays at the newer version");
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM inbox_message WHERE message_id = $1::uuid")
            .bind(&older)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(outcome, "STALE");
}

#[tokio::test]
async fn poison_and_failing_messages_are_dead_lettered_and_the_partition_keeps_flowing() {
    let db = database().await;
    projection_table(&db.pool).await;
    let topic = topic("consumer-poison", 1).await;
    produce(&topic, "thing-1", b"{ not json").await;
    produce(
        &topic,
        "thing-1",
        envelope(
            &uuid::Uuid::now_v7().to_string(),
            "thing-1",
            1,
            json!({"permanent": true}),
        )
        .to_string()
        .as_bytes(),
    )
    .await;
    produce(
        &topic,
        "thing-1",
        envelope(&uuid::Uuid::now_v7().to_string(), "thing-1", 2, json!({}))
            .to_string()
            .as_bytes(),
    )
    .await;

    let handle = consumer::spawn(db.jobs.clone(), config(&topic), projection(0)).unwrap();
    assert!(
        wait_for(
            &db.pool,
            "SELECT coalesce(max(version), 0) FROM test_projection",
            2
        )
        .await,
        "the good message behind them was applied"
    );
    handle.shutdown().await;
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT reason FROM consumer_dead_letter ORDER BY kafka_offset")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("not JSON"), "{reasons:?}");
    assert!(reasons[1].contains("not acceptable"), "{reasons:?}");
}

#[tokio::test]
async fn retryable_failures_are_retried_then_dead_lettered_when_they_persist() {
    let db = database().await;
    projection_table(&db.pool).await;
    let topic = topic("consumer-retry", 1).await;
    produce(
        &topic,
        "thing-1",
        envelope(&uuid::Uuid::now_v7().to_string(), "thing-1", 1, json!({}))
            .to_string()
            .as_bytes(),
    )
    .await;

    // Fails twice, then succeeds within the five attempts: applied once, no dead letter.
    let handle = consumer::spawn(db.jobs.clone(), config(&topic), projection(2)).unwrap();
    assert!(wait_for(&db.pool, "SELECT count(*) FROM test_projection", 1).await);
    handle.shutdown().await;
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM consumer_dead_letter")
            .fetch_one(&db.pool)
            .await
            .unwrap(),
        0
    );

    // Fails more often than the attempts allow: dead-lettered with the attempt count.
    let topic = crate::support::topic("consumer-retry-exhausted", 1).await;
    produce(
        &topic,
        "thing-2",
        envelope(&uuid::Uuid::now_v7().to_string(), "thing-2", 1, json!({}))
            .to_string()
            .as_bytes(),
    )
    .await;
    let handle = consumer::spawn(db.jobs.clone(), config(&topic), projection(100)).unwrap();
    assert!(wait_for(&db.pool, "SELECT count(*) FROM consumer_dead_letter", 1).await);
    handle.shutdown().await;
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM consumer_dead_letter")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 5);
}

#[tokio::test]
async fn a_closed_consumer_leaves_its_group_and_a_successor_resumes_after_the_committed_offset() {
    let db = database().await;
    projection_table(&db.pool).await;
    let topic = topic("consumer-handover", 1).await;
    let config = config(&topic);
    produce_versions(&topic, 1..=3).await;
    let first = consumer::spawn(db.jobs.clone(), config.clone(), projection(0)).unwrap();
    assert!(
        wait_for(
            &db.pool,
            "SELECT coalesce(max(version), 0) FROM test_projection",
            3
        )
        .await
    );
    first.shutdown().await;

    produce_versions(&topic, 4..=5).await;
    let started = Instant::now();
    let second = consumer::spawn(db.jobs.clone(), config, projection(0)).unwrap();
    assert!(
        wait_for(
            &db.pool,
            "SELECT coalesce(max(version), 0) FROM test_projection",
            5
        )
        .await
    );
    second.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "the successor did not wait out a session timeout: {:?}",
        started.elapsed()
    );
    let applied: i32 = sqlx::query_scalar("SELECT applied FROM test_projection")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        applied, 5,
        "each event applied exactly once across the hand-over"
    );
    let duplicates: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox_message")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(duplicates, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successor_with_nothing_new_to_read_reports_no_lag() {
    let db = database().await;
    projection_table(&db.pool).await;
    let topic = topic("consumer-lag", 1).await;
    let config = config(&topic);
    produce_versions(&topic, 1..=4).await;
    let first = consumer::spawn(db.jobs.clone(), config.clone(), projection(0)).unwrap();
    assert!(
        wait_for(
            &db.pool,
            "SELECT coalesce(max(version), 0) FROM test_projection",
            4
        )
        .await
    );
    first.shutdown().await;
    // The successor fetches nothing (all is committed), so it has no position on the partition:
    // its lag comes from the committed offset, 0, not from counting the partition from 0.
    let second = consumer::spawn(db.jobs.clone(), config, projection(0)).unwrap();
    let started = Instant::now();
    let lag = loop {
        let lag = second.lag();
        if let Some(behind) = lag.get(&(topic.clone(), 0)) {
            break *behind;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no lag measured: {lag:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    second.shutdown().await;
    assert_eq!(lag, 0, "a caught-up successor is not 4 messages behind");
}
