//! The relay: delivery with key, headers and body; crash mid-batch; two relays; poison rows;
//! order per key.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    brokers, database, drained, read_until, read_until_quiet, relay_config, topic, wait_for,
    write_events,
};

#[tokio::test]
async fn relayed_events_carry_key_headers_and_the_envelope() {
    let db = database().await;
    let topic = topic("relay-shape", 3).await;
    let ids = write_events(&db.pool, &topic, 2, 6, 3).await;
    let relay =
        messaging::relay::spawn(db.jobs.clone(), relay_config(Duration::from_secs(30))).unwrap();
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

#[tokio::test]
async fn headers_are_sent_as_the_command_carried_them_absent_and_multibyte_values_included() {
    let db = database().await;
    let topic = topic("relay-header-values", 1).await;
    let mut ctx = crate::support::context("corr-ünïcödé-✓");
    ctx.traceparent = None;
    let mut tx = db.pool.begin().await.unwrap();
    let id = common_kernel::outbox::append(
        &mut tx,
        &ctx,
        crate::support::thing_event(&topic, "thing-1", 1, json!({})),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let relay =
        messaging::relay::spawn(db.jobs.clone(), relay_config(Duration::from_secs(30))).unwrap();
    assert!(
        drained(&db.pool, Duration::from_secs(30)).await,
        "outbox drained"
    );
    let received = read_until(&topic, Duration::from_secs(30), |r| !r.is_empty()).await;
    relay.shutdown().await;

    let [message] = received.as_slice() else {
        panic!("one message, got {}", received.len());
    };
    let mut names: Vec<&str> = message.headers.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "causationId",
            "correlationId",
            "eventId",
            "eventType",
            "eventVersion"
        ],
        "no traceparent header when the command had none"
    );
    assert_eq!(message.headers["eventId"], id.to_string());
    assert_eq!(message.headers["correlationId"], "corr-ünïcödé-✓");
    assert_eq!(message.headers["causationId"], ctx.command_id.to_string());
    assert_eq!(message.body["correlationId"], "corr-ünïcödé-✓");
}

#[tokio::test]
async fn a_key_backing_off_from_an_earlier_claim_holds_back_its_later_rows_only() {
    let db = database().await;
    let topic = topic("relay-backing-off", 1).await;
    // Events 0..6 over keys thing-0 and thing-1; thing-0's first event failed before and backs off.
    let ids = write_events(&db.pool, &topic, 2, 6, 6).await;
    sqlx::query(
        "UPDATE outbox_pending SET attempts = 1, last_error = 'timed out', \
                next_attempt_at = now() + interval '1 hour' \
         WHERE outbox_seq = (SELECT min(outbox_seq) FROM outbox_pending)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let relay =
        messaging::relay::spawn(db.jobs.clone(), relay_config(Duration::from_secs(30))).unwrap();
    assert!(
        wait_for(&db.pool, "SELECT count(*) FROM outbox_pending", 3).await,
        "thing-1's three events left the queue, thing-0's three stayed"
    );
    let early = read_until(&topic, Duration::from_secs(30), |r| r.len() >= 3).await;
    let keys: HashSet<&str> = early.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, HashSet::from(["thing-1"]), "only thing-1 went out");
    // The back-off ends: thing-0's events follow, the failed one first.
    sqlx::query("UPDATE outbox_pending SET next_attempt_at = now() WHERE attempts > 0")
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(
        drained(&db.pool, Duration::from_secs(30)).await,
        "outbox drained"
    );
    let received = read_until(&topic, Duration::from_secs(30), |r| r.len() >= 6).await;
    relay.shutdown().await;
    let got: HashSet<String> = received.iter().map(|m| m.event_id()).collect();
    assert_eq!(got, ids.into_iter().collect());
    assert_ordered_per_key(&received);
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

/// Keys the two-relays test spreads its events over (event `n` has key `n % KEYS`).
const KEYS: usize = 50;

#[tokio::test]
async fn two_relays_under_load_never_publish_a_row_twice() {
    // The relays' warnings (a retried send, a replaced producer, a dead letter) go to the
    // captured output, which the runner shows if this test fails.
    let _telemetry = common_kernel::telemetry::init(
        "two-relays-test",
        common_kernel::settings::LogFormat::Pretty,
    );
    let db = database().await;
    let topic = topic("two-relays", 3).await;
    let first =
        messaging::relay::spawn(db.jobs.clone(), relay_config(Duration::from_secs(30))).unwrap();
    let second =
        messaging::relay::spawn(db.jobs.clone(), relay_config(Duration::from_secs(30))).unwrap();
    let ids = write_events(&db.pool, &topic, KEYS, 3000, 25).await;
    assert!(
        drained(&db.pool, Duration::from_secs(60)).await,
        "outbox drained"
    );
    first.shutdown().await;
    second.shutdown().await;

    // Read until every distinct event is in and the topic has gone quiet, so that a duplicate
    // shows as a duplicate (a reader stopping at 3 000 messages would report it as the last
    // distinct event missing).
    let received = read_until_quiet(
        &topic,
        Duration::from_secs(60),
        Duration::from_secs(2),
        |r| r.len() >= 3000 && r.iter().map(|m| m.event_id()).collect::<HashSet<_>>().len() >= 3000,
    )
    .await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for message in &received {
        *counts.entry(message.event_id()).or_default() += 1;
    }
    // On failure, say where a missing event went: dead-lettered (with the reason) or
    // acknowledged by the broker and still not delivered.
    let dead_letters: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT event_id, reason FROM outbox_dead_letter")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    // A missing event with its position in the write order and its key, and the events
    // received more than once: a lost event next to a duplicate suggests a row deleted for
    // another's acknowledgement; a lost one alone, the broker or a path not yet known.
    let missing: Vec<(usize, &String)> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !counts.contains_key(*id))
        .collect();
    let twice: Vec<(&String, &usize)> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert_eq!(
        counts.len(),
        3000,
        "every event arrived; missing (written, id): {missing:?}, keys {:?}, received {} \
         messages, more than once {twice:?}, dead letters {dead_letters:?}",
        missing
            .iter()
            .map(|(written, _)| written % KEYS)
            .collect::<Vec<_>>(),
        received.len(),
    );
    assert!(
        twice.is_empty(),
        "no event id was published twice; published more than once: {twice:?}"
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
    let mut tx = db.pool.begin().await.unwrap();
    common_kernel::outbox::append(
        &mut tx,
        &ctx,
        crate::support::thing_event(
            &topic,
            "thing-0",
            2,
            json!({"blob": "x".repeat(3 * 1024 * 1024)}),
        ),
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
            crate::support::thing_event(&topic, "thing-0", version, json!({"version": version})),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let relay =
        messaging::relay::spawn(db.jobs.clone(), relay_config(Duration::from_secs(30))).unwrap();
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

/// An event queued the way writers did before queue rows carried their message (ADR 0018), or
/// as an older service version still does during a rolling deploy.
async fn queue_without_message(pool: &sqlx::PgPool, topic: &str, version: i64) -> Value {
    let ctx = crate::support::context("corr-legacy");
    let envelope = common_kernel::outbox::envelope(
        &ctx,
        crate::support::thing_event(topic, "thing-legacy", version, json!({"version": version})),
        chrono::Utc::now(),
    );
    let body = serde_json::to_value(&envelope).unwrap();
    sqlx::query(
        "WITH e AS (INSERT INTO outbox_event (event_id, topic, partition_key, event_type, event_version, aggregate_type, \
         aggregate_id, aggregate_version, tenant_id, envelope, occurred_at) \
         VALUES ($1, $2, 'thing-legacy', 'test.thing.changed.v1', 1, 'Thing', 'thing-legacy', $3, 'acme', $4, now()) \
         RETURNING outbox_seq, topic, partition_key) \
         INSERT INTO outbox_pending (outbox_seq, topic, partition_key) SELECT * FROM e",
    )
    .bind(envelope.event_id.as_uuid())
    .bind(topic)
    .bind(version)
    .bind(&body)
    .execute(pool)
    .await
    .unwrap();
    body
}

#[tokio::test]
async fn rows_queued_without_their_message_are_published_from_the_log_in_order() {
    let db = database().await;
    let topic = topic("relay-legacy", 1).await;
    let first = queue_without_message(&db.pool, &topic, 1).await;
    // A row written by today's writer between two older ones: one key, commit order kept.
    let ctx = crate::support::context("corr-legacy");
    let mut tx = db.pool.begin().await.unwrap();
    common_kernel::outbox::append(
        &mut tx,
        &ctx,
        crate::support::thing_event(&topic, "thing-legacy", 2, json!({"version": 2})),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let third = queue_without_message(&db.pool, &topic, 3).await;

    let relay =
        messaging::relay::spawn(db.jobs.clone(), relay_config(Duration::from_secs(30))).unwrap();
    assert!(drained(&db.pool, Duration::from_secs(30)).await);
    let received = read_until(&topic, Duration::from_secs(30), |r| r.len() >= 3).await;
    relay.shutdown().await;

    let versions: Vec<i64> = received
        .iter()
        .map(|m| m.body["aggregateVersion"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    for (message, logged) in [(&received[0], &first), (&received[2], &third)] {
        assert_eq!(&message.body, logged, "the log's envelope is the body");
        assert_eq!(message.headers["eventId"], logged["eventId"]);
        assert_eq!(message.headers["eventType"], "test.thing.changed.v1");
        assert_eq!(message.headers["eventVersion"], "1");
        assert_eq!(message.headers["correlationId"], "corr-legacy");
        assert_eq!(message.headers["causationId"], logged["causationId"]);
        assert_eq!(message.headers["traceparent"], logged["traceparent"]);
    }
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_dead_letter")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(dead, 0);
}

#[tokio::test]
async fn the_backlog_ages_a_row_queued_without_its_message_by_the_log() {
    let db = database().await;
    let topic = topic("relay-backlog", 1).await;
    let legacy = queue_without_message(&db.pool, &topic, 1).await;
    sqlx::query(
        "UPDATE outbox_event SET occurred_at = now() - interval '1 hour' WHERE event_id = $1",
    )
    .bind(uuid::Uuid::parse_str(legacy["eventId"].as_str().unwrap()).unwrap())
    .execute(&db.pool)
    .await
    .unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    common_kernel::outbox::append(
        &mut tx,
        &crate::support::context("corr-backlog"),
        crate::support::thing_event(&topic, "thing-new", 1, json!({})),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let outbox = ops_status(&db.jobs).await;
    assert_eq!(outbox["backlog"], 2);
    let age = outbox["oldestUnpublishedAgeSeconds"].as_f64().unwrap();
    assert!(
        (3600.0..3700.0).contains(&age),
        "the legacy row's age comes from the log: {age}"
    );

    let relay =
        messaging::relay::spawn(db.jobs.clone(), relay_config(Duration::from_secs(30))).unwrap();
    assert!(drained(&db.pool, Duration::from_secs(30)).await);
    relay.shutdown().await;
    let outbox = ops_status(&db.jobs).await;
    assert_eq!(outbox["backlog"], 0);
    assert_eq!(outbox["oldestUnpublishedAgeSeconds"], Value::Null);
    assert_eq!(outbox["published"], 2);
}

#[tokio::test]
async fn the_relay_vacuums_a_queue_its_deletions_left_full_of_dead_rows() {
    let db = database().await;
    // The relay must not rely on autovacuum keeping up with a queue's churn.
    sqlx::query("ALTER TABLE outbox_pending SET (autovacuum_enabled = false)")
        .execute(&db.pool)
        .await
        .unwrap();
    let topic = topic("relay-vacuum", 4).await;
    write_events(&db.pool, &topic, 50, 12_000, 2_000).await;
    // Only the queue's owner may vacuum it: the relay works as the jobs role and vacuums
    // through the owner's pool, as `service-host` runs it.
    let relay = messaging::relay::spawn_with_vacuum_pool(
        db.jobs.clone(),
        db.pool.clone(),
        relay_config(Duration::from_secs(30)),
    )
    .unwrap();
    assert!(drained(&db.pool, Duration::from_secs(60)).await);
    // Statistics reach the view within a second or so; the relay looks every 5 s.
    let vacuumed = wait_for(
        &db.pool,
        "SELECT count(*) FROM pg_stat_user_tables \
         WHERE relid = 'outbox_pending'::regclass AND last_vacuum IS NOT NULL",
        1,
    )
    .await;
    relay.shutdown().await;
    assert!(vacuumed, "12 000 dead rows and no vacuum");
    let dead: i64 = sqlx::query_scalar(
        "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'outbox_pending'::regclass",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(dead < 10_000, "{dead} dead rows left after the vacuum");
    // Never truncated: truncating takes a lock every command writing an event would wait for.
    let size: i64 = sqlx::query_scalar("SELECT pg_relation_size('outbox_pending')")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(size > 0, "the vacuum truncated the queue");
}

#[tokio::test]
async fn pruning_stuck_on_a_lock_never_stalls_publishing_and_removes_only_expired_published_rows() {
    let db = database().await;
    let topic = topic("relay-prune", 2).await;
    let ids: Vec<uuid::Uuid> = write_events(&db.pool, &topic, 2, 4, 4)
        .await
        .iter()
        .map(|id| uuid::Uuid::parse_str(id).unwrap())
        .collect();
    let (published, pending, dead_lettered) = (&ids[..2], ids[2], ids[3]);
    // Two events published two hours ago, one dead-lettered as long ago, one still pending.
    sqlx::query(
        "UPDATE outbox_event SET created_at = now() - interval '2 hours', \
                dead_lettered_at = CASE WHEN event_id = $2 THEN now() END \
         WHERE event_id = ANY($1) OR event_id = $2",
    )
    .bind(published)
    .bind(dead_lettered)
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM outbox_pending WHERE event_id = ANY($1) OR event_id = $2")
        .bind(published)
        .bind(dead_lettered)
        .execute(&db.pool)
        .await
        .unwrap();
    // Someone holds a row the prune wants to delete.
    let mut holder = db.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM outbox_event WHERE event_id = $1 FOR UPDATE")
        .bind(published[0])
        .execute(&mut *holder)
        .await
        .unwrap();

    let mut config = relay_config(Duration::from_secs(30));
    // One loop: a housekeeping job inside it would stop all publishing.
    config.workers = 1;
    config.retention = Duration::from_secs(3600);
    config.prune_interval = Duration::from_millis(200);
    let relay = messaging::relay::spawn(db.jobs.clone(), config).unwrap();
    let prune_waits = wait_for(
        &db.pool,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM outbox_event%'",
        1,
    )
    .await;
    assert!(prune_waits, "the prune never reached the held row");
    let fresh = write_events(&db.pool, &topic, 2, 3, 3).await;
    assert!(
        drained(&db.pool, Duration::from_secs(30)).await,
        "a prune waiting on a lock stalled publishing"
    );
    let received = read_until(&topic, Duration::from_secs(30), |r| r.len() >= 4).await;
    let received: HashSet<String> = received.iter().map(|r| r.event_id()).collect();
    assert!(received.contains(&pending.to_string()));
    assert!(fresh.iter().all(|id| received.contains(id)));

    holder.commit().await.unwrap();
    let pruned = wait_for(
        &db.pool,
        "SELECT count(*) FROM outbox_event WHERE created_at < now() - interval '1 hour' \
         AND dead_lettered_at IS NULL",
        0,
    )
    .await;
    relay.shutdown().await;
    assert!(
        pruned,
        "expired published events were not pruned once the lock went"
    );
    let left: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT event_id FROM outbox_event ORDER BY outbox_seq")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let mut expected = vec![pending, dead_lettered];
    expected.extend(fresh.iter().map(|id| uuid::Uuid::parse_str(id).unwrap()));
    assert_eq!(
        left, expected,
        "dead-lettered and unexpired events are kept"
    );
}

/// The outbox part of `GET /ops/messaging`, served over a real socket to an operator (the
/// authentication layer of a service is stood in for by the caller it would leave).
async fn ops_status(pool: &sqlx::PgPool) -> Value {
    use common_kernel::access::{Authority, Role};
    use common_kernel::auth::{Authenticated, BearerToken, Caller};
    let operator = Authenticated {
        caller: Caller {
            tenant: common_kernel::ids::TenantId::parse("acme").unwrap(),
            actor: common_kernel::context::Actor {
                actor_id: common_kernel::ids::ActorId::parse("ops1").unwrap(),
                actor_type: common_kernel::context::ActorType::AdminOperator,
            },
            authority: Authority {
                roles: vec![Role::Operator],
                ..Authority::default()
            },
        },
        user_token: BearerToken::new("not-checked-here"),
    };
    let router = messaging::ops::router(messaging::ops::MessagingOps {
        pool: pool.clone(),
        consumers: std::sync::Arc::new(Vec::new()),
    })
    .layer(axum::Extension(operator));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let status: Value = reqwest::get(format!("http://{address}/ops/messaging"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.abort();
    status["outbox"].clone()
}

#[tokio::test]
async fn the_database_refuses_a_queued_message_whose_headers_are_not_its_envelopes() {
    let db = database().await;
    let ctx = crate::support::context("corr-check");
    let mut tx = db.pool.begin().await.unwrap();
    common_kernel::outbox::append(
        &mut tx,
        &ctx,
        crate::support::thing_event("test.check.v1", "thing-0", 1, json!({})),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // Each change would make the relay send headers that contradict the body.
    for (what, change) in [
        (
            "another event id",
            "UPDATE outbox_pending SET event_id = gen_random_uuid()",
        ),
        (
            "another event type",
            "UPDATE outbox_pending SET event_type = 'test.other.v1'",
        ),
        (
            "another version",
            "UPDATE outbox_pending SET event_version = 2",
        ),
        (
            "an envelope without the id",
            "UPDATE outbox_pending SET envelope = (envelope::jsonb - 'eventId')::json",
        ),
        (
            "an envelope that is not an object",
            "UPDATE outbox_pending SET envelope = '[1]'::json",
        ),
        (
            "no occurrence time",
            "UPDATE outbox_pending SET occurred_at = NULL",
        ),
    ] {
        let error = sqlx::query(change).execute(&db.pool).await.expect_err(what);
        let code = error
            .as_database_error()
            .and_then(|e| e.code().map(|c| c.into_owned()));
        assert_eq!(code.as_deref(), Some("23514"), "{what}: {error}");
    }
}
