//! The batched consumer runtime: many events per transaction, each applied once however often
//! it is delivered; a message that fails the batch is dead-lettered alone and the rest applied.

use std::time::Duration;

use messaging::batch_consumer::{BatchConfig, BatchHandler, spawn_batched};
use messaging::consumer::{ConsumerConfig, HandlerError, IncomingEvent};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use crate::support::{brokers, database, topic, wait_for};

/// Records each event it applies with the transaction that applied it.
struct Ledger;

impl BatchHandler for Ledger {
    async fn handle_batch(
        &self,
        conn: &mut PgConnection,
        events: &[IncomingEvent],
    ) -> Result<(), HandlerError> {
        if events
            .iter()
            .any(|e| e.envelope["payload"]["permanent"] == true)
        {
            return Err(HandlerError::Permanent("not acceptable".into()));
        }
        for event in events {
            sqlx::query("INSERT INTO test_ledger (event_id, tx) VALUES ($1, txid_current())")
                .bind(event.event_id)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

async fn ledger_table(pool: &PgPool) {
    sqlx::raw_sql(
        "CREATE TABLE test_ledger (event_id uuid PRIMARY KEY, tx bigint NOT NULL); \
         GRANT SELECT, INSERT ON test_ledger TO catalog_jobs",
    )
    .execute(pool)
    .await
    .unwrap();
}

fn envelope(id: &str, payload: Value) -> Value {
    json!({
        "eventId": id, "eventType": "test.thing.changed.v1", "eventVersion": 1,
        "occurredAt": "2026-11-21T00:00:00Z", "tenantId": "acme", "aggregateType": "Thing",
        "aggregateId": "thing", "aggregateVersion": 1, "correlationId": "c", "causationId": "c",
        "businessTransactionId": "c", "actorId": "a", "partitionKey": "thing", "payload": payload
    })
}

async fn produce_all(topic: &str, bodies: &[String]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .unwrap();
    for body in bodies {
        producer
            .send(
                FutureRecord::to(topic).key("thing").payload(body),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
}

fn config(topic: &str) -> BatchConfig {
    let mut consumer = ConsumerConfig::new(
        format!("test-{}", uuid::Uuid::now_v7()),
        vec![topic.to_owned()],
        brokers(),
    );
    consumer.base_backoff = Duration::from_millis(20);
    consumer.max_attempts = 2;
    BatchConfig::new(consumer)
}

#[tokio::test]
async fn events_are_applied_once_each_many_per_transaction() {
    let db = database().await;
    ledger_table(&db.pool).await;
    let topic = topic("batch-dup", 1).await;
    let bodies: Vec<String> = (0..300)
        .map(|_| envelope(&uuid::Uuid::now_v7().to_string(), json!({})).to_string())
        .collect();
    produce_all(&topic, &bodies).await;
    produce_all(&topic, &bodies[..100]).await;
    let handle = spawn_batched(db.jobs.clone(), config(&topic), Ledger).unwrap();
    assert!(wait_for(&db.pool, "SELECT count(*) FROM inbox_message", 300).await);
    handle.shutdown().await;
    let (applied, transactions): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT tx) FROM test_ledger")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(applied, 300, "each event once, redeliveries included");
    assert!(
        transactions < 100,
        "300 events in {transactions} transactions: batches"
    );
}

#[tokio::test]
async fn a_failing_message_is_dead_lettered_alone() {
    let db = database().await;
    ledger_table(&db.pool).await;
    let topic = topic("batch-poison", 1).await;
    let mut bodies: Vec<String> = (0..20)
        .map(|_| envelope(&uuid::Uuid::now_v7().to_string(), json!({})).to_string())
        .collect();
    bodies.insert(
        7,
        envelope(
            &uuid::Uuid::now_v7().to_string(),
            json!({"permanent": true}),
        )
        .to_string(),
    );
    bodies.insert(3, "{ not json".to_owned());
    produce_all(&topic, &bodies).await;
    let handle = spawn_batched(db.jobs.clone(), config(&topic), Ledger).unwrap();
    assert!(wait_for(&db.pool, "SELECT count(*) FROM test_ledger", 20).await);
    assert!(wait_for(&db.pool, "SELECT count(*) FROM consumer_dead_letter", 2).await);
    handle.shutdown().await;
}
