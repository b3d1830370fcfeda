//! The relay: delivery with key, headers and body; crash mid-batch; two relays; poison rows;
//! order per key.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::support::{brokers, database, drained, read_until, relay_config, topic, write_events};

#[tokio::test]
async fn relayed_events_carry_key_headers_and_the_envelope() {
    let db = database().await;
    let topic = topic("relay-shape", 3).await;
    let ids = write_events(&db.pool, &topic, 2, 6, 3).await;
    let relay =
        messaging::relay::spawn(db.pool.clone(), relay_config(Duration::from_secs(30))).unwrap();
    assert!(
        drained(&db.pool, Duration::from_secs(30)).await,
        "outbox drained"
    );
    let received = read_until(&topic, Duration::from_secs(30), |r| r.len() >= 6).await;
    relay.shutdown().await;

    assert_eq!(received.len(), 6);
    for message in &received {
        let body = &message.body;
        assert_eq!(
            message.key, body["partitionKey"],
            "message key is the partition key"
        );
        assert_eq!(message.headers["eventId"], body["eventId"]);
        assert_eq!(message.headers["eventType"], "test.thing.changed.v1");
        assert_eq!(message.headers["eventVersion"], "1");
        assert_eq!(message.headers["correlationId"], "corr-backbone");
        assert_eq!(message.headers["causationId"], body["causationId"]);
        assert_eq!(
            message.headers["traceparent"],
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
    }
    let got: HashSet<String> = received.iter().map(|r| r.event_id()).collect();
    assert_eq!(got, ids.into_iter().collect());
    let published: i64 = crate::support::published_count(&db.pool).await;
    assert_eq!(
        published, 6,
        "rows leave the queue after the acknowledgement"
    );
}

/// Per key, events arrive in commit order (aggregate versions strictly increase).
fn assert_ordered_per_key(received: &[crate::support::Received]) {
    let mut last: HashMap<String, i64> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    for message in received {
        let version = message.body["aggregateVersion"].as_i64().unwrap();
        let first_time = seen.insert(message.event_id());
        let previous = last.entry(message.key.clone()).or_insert(0);
        if first_time {
            assert!(
                version > *previous,
                "key {} went from v{previous} to v{version}",
                message.key
            );
            *previous = version;
        }
    }
}

#[tokio::test]
async fn two_relays_under_load_never_publish_a_row_twice() {
    let db = database().await;
    let topic = topic("two-relays", 3).await;
    let first =
        messaging::relay::spawn(db.pool.clone(), relay_config(Duration::from_secs(30))).unwrap();
    let second =
        messaging::relay::spawn(db.pool.clone(), relay_config(Duration::from_secs(30))).unwrap();
    let ids = write_events(&db.pool, &topic, 50, 3000, 25).await;
    assert!(
        drained(&db.pool, Duration::from_secs(60)).await,
        "outbox drained"
    );
    first.shutdown().await;
    second.shutdown().await;

    let received = read_until(&topic, Duration::from_secs(60), |r| r.len() >= 3000).await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for message in &received {
        *counts.entry(message.event_id()).or_default() += 1;
    }
    assert_eq!(counts.len(), 3000, "every event arrived");
    assert!(
        counts.values().all(|c| *c == 1),
        "no event id was published twice"
    );
    assert_eq!(
        counts.keys().cloned().collect::<HashSet<_>>(),
        ids.into_iter().collect()
    );
    assert_ordered_per_key(&received);
}

fn spawn_relay_process(database_url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_outbox-relay"))
        .env("DATABASE_URL", database_url)
        .env("RELAY_SCHEMA", catalog::SCHEMA)
        .env("KAFKA_BROKERS", brokers())
        .env("REDIS_URL", "disabled")
        .env("RELAY_LEASE_SECS", "3")
        .env("RELAY_BATCH_SIZE", "200")
        .env("RELAY_WORKERS", "2")
        .env("RELAY_POLL_MS", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn a_relay_killed_mid_batch_loses_nothing_and_duplicates_only_by_event_id() {
    let db = database().await;
    let topic = topic("relay-crash", 3).await;
    let ids = write_events(&db.pool, &topic, 20, 4000, 100).await;
    let url = db.settings.database.url.expose().to_owned();

    let mut relay = spawn_relay_process(&url);
    // Kill it hard once it has published some but not all rows.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let published: i64 = crate::support::published_count(&db.pool).await;
        if published > 0 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    relay.kill().unwrap();
    relay.wait().unwrap();
    let published_at_kill: i64 = crate::support::published_count(&db.pool).await;
    assert!(
        published_at_kill < 4000,
        "the relay was killed mid-way ({published_at_kill} published)"
    );

    let mut restarted = spawn_relay_process(&url);
    let all_published = drained(&db.pool, Duration::from_secs(90)).await;
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    assert!(
        all_published,
        "the restarted relay drained the outbox after the lease expired"
    );

    let received = read_until(&topic, Duration::from_secs(60), |r| {
        r.iter().map(|m| m.event_id()).collect::<HashSet<_>>().len() >= 4000
    })
    .await;
    let distinct: HashSet<String> = received.iter().map(|m| m.event_id()).collect();
    assert_eq!(
        distinct,
        ids.into_iter().collect::<HashSet<_>>(),
        "every event arrived"
    );
    // Redeliveries are the same events (same id and body), never new ones.
    let mut bodies: HashMap<String, serde_json::Value> = HashMap::new();
    for message in &received {
        let previous = bodies.insert(message.event_id(), message.body.clone());
        if let Some(previous) = previous {
            assert_eq!(
                previous, message.body,
                "a duplicate is byte-for-byte the same event"
            );
        }
    }
    assert_ordered_per_key(&received);
}

#[tokio::test]
async fn a_poison_row_is_dead_lettered_and_the_key_keeps_flowing() {
    let db = database().await;
    let topic = topic("relay-poison", 1).await;
    write_events(&db.pool, &topic, 1, 1, 1).await;
    // A row the broker must refuse: far larger than the producer's message.max.bytes.
    let ctx = crate::support::context("corr-poison");
    let leaked: &'static str = Box::leak(topic.clone().into_boxed_str());
    let mut tx = db.pool.begin().await.unwrap();
    common_kernel::outbox::append(
        &mut tx,
        &ctx,
        common_kernel::outbox::NewEvent {
            event_type: "test.thing.changed.v1",
            event_version: 1,
            topic: leaked,
            aggregate_type: "Thing",
            aggregate_id: "thing-0".into(),
            aggregate_version: 2,
            partition_key: "thing-0".into(),
            payload: json!({"blob": "x".repeat(3 * 1024 * 1024)}),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // And a row whose envelope cannot be read.
    sqlx::query(
        "WITH e AS (INSERT INTO outbox_event (event_id, topic, partition_key, event_type, event_version, aggregate_type, aggregate_id, \
         aggregate_version, tenant_id, envelope, occurred_at) \
         VALUES (gen_random_uuid(), $1, 'thing-0', 'test.thing.changed.v1', 1, 'Thing', 'thing-0', 3, 'acme', '{\"garbage\": true}', now()) \
         RETURNING outbox_seq, topic, partition_key) \
         INSERT INTO outbox_pending (outbox_seq, topic, partition_key) SELECT * FROM e",
    )
    .bind(&topic)
    .execute(&db.pool)
    .await
    .unwrap();
    // Events behind them on the same key must still flow.
    let mut tx = db.pool.begin().await.unwrap();
    for version in 4..=6 {
        common_kernel::outbox::append(
            &mut tx,
            &ctx,
            common_kernel::outbox::NewEvent {
                event_type: "test.thing.changed.v1",
                event_version: 1,
                topic: leaked,
                aggregate_type: "Thing",
                aggregate_id: "thing-0".into(),
                aggregate_version: version,
                partition_key: "thing-0".into(),
                payload: json!({"version": version}),
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let relay =
        messaging::relay::spawn(db.pool.clone(), relay_config(Duration::from_secs(30))).unwrap();
    assert!(drained(&db.pool, Duration::from_secs(30)).await);
    relay.shutdown().await;

    let dead: Vec<(String,)> =
        sqlx::query_as("SELECT reason FROM outbox_dead_letter ORDER BY outbox_seq")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(
        dead[1].0.contains("eventType") || dead[1].0.contains("eventId"),
        "{dead:?}"
    );
    let received = read_until(&topic, Duration::from_secs(30), |r| r.len() >= 4).await;
    let versions: Vec<i64> = received
        .iter()
        .map(|m| m.body["aggregateVersion"].as_i64().unwrap())
        .collect();
    assert_eq!(
        versions,
        [1, 4, 5, 6],
        "the rows behind the poison ones arrived, in order"
    );
}
