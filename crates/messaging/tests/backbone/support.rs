//! Test fixtures: a migrated database, outbox rows written the way services write them, unique
//! topics, and a reader that collects what reached the broker.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common_kernel::context::{ActorType, RequestContext};
use common_kernel::ids::{ActorId, TenantId};
use common_kernel::outbox::{self, NewEvent};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::TestDatabase;

/// A database with the catalog schema (which carries the platform outbox and inbox tables).
pub struct Db {
    /// The schema owner's pool: what tests write and inspect with (rows as a service's commands
    /// write them, rows made to fail, catalog checks).
    pub pool: PgPool,
    /// The jobs role's pool (`catalog_jobs`), as `service-host` opens it: where relays,
    /// consumers and `/ops/messaging` run, so every test of them proves its grants suffice.
    pub jobs: PgPool,
    pub settings: common_kernel::settings::Settings,
    _database: TestDatabase,
}

pub async fn database() -> Db {
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/catalog");
    let dirs = [platform, &migrations];
    let database = TestDatabase::from_template_of("catalog", &dirs, |url| async move {
        let settings = settings(&url);
        let pool = common_kernel::db::connect(&settings.database, catalog::SCHEMA)
            .await
            .unwrap();
        messaging::schema::migrate(&pool, catalog::SCHEMA, &catalog::MIGRATOR)
            .await
            .unwrap();
        pool.close().await;
    })
    .await;
    let settings = settings(&database.url);
    let pool = common_kernel::db::connect(&settings.database, catalog::SCHEMA)
        .await
        .unwrap();
    let mut jobs_settings = settings.jobs_database(catalog::SERVICE);
    // Tests run two relays with several workers on one pool.
    jobs_settings.max_connections = 16;
    let jobs = common_kernel::db::connect(&jobs_settings, catalog::SCHEMA)
        .await
        .unwrap();
    common_kernel::db::check_jobs_role(&jobs, catalog::SCHEMA)
        .await
        .unwrap();
    Db {
        pool,
        jobs,
        settings,
        _database: database,
    }
}

pub fn settings(url: &str) -> common_kernel::settings::Settings {
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url.to_owned()),
        ("REDIS_URL", "disabled".to_owned()),
        ("KAFKA_BROKERS", brokers()),
        ("APP__SERVER__PORT", "0".to_owned()),
        ("APP__DATABASE__MAX_CONNECTIONS", "16".to_owned()),
        ("OIDC_ISSUER", issuer().issuer_url()),
        ("OIDC_AUDIENCE", issuer().audience().to_owned()),
    ]);
    common_kernel::settings::Settings::from_lookup("backbone-test", 0, |k| vars.get(k).cloned())
        .unwrap()
}

/// The issuer of this test process's tokens.
pub fn issuer() -> std::sync::Arc<test_support::TestIssuer> {
    static ISSUER: std::sync::OnceLock<std::sync::Arc<test_support::TestIssuer>> =
        std::sync::OnceLock::new();
    std::sync::Arc::clone(
        ISSUER.get_or_init(|| std::sync::Arc::new(test_support::TestIssuer::start())),
    )
}

pub fn brokers() -> String {
    test_support::kafka_brokers()
}

/// A fresh topic for one test, so tests never read each other's messages.
pub async fn topic(name: &str, partitions: i32) -> String {
    let topic = format!("test.{name}.{}.v1", uuid::Uuid::now_v7().simple());
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .unwrap();
    let results = admin
        .create_topics(
            &[NewTopic::new(
                &topic,
                partitions,
                TopicReplication::Fixed(1),
            )],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    for result in results {
        result.unwrap();
    }
    topic
}

pub fn context(correlation: &str) -> RequestContext {
    RequestContext {
        correlation_id: correlation.into(),
        business_transaction_id: correlation.into(),
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        ..RequestContext::system(
            TenantId::parse("acme").unwrap(),
            ActorId::parse("relay-test").unwrap(),
            ActorType::InternalService,
            "TEST",
            common_kernel::access::Authority::default(),
        )
    }
}

/// A `test.thing.changed.v1` event of one thing, keyed by the thing's id.
pub fn thing_event(topic: &str, thing: &str, version: i64, payload: Value) -> NewEvent {
    NewEvent {
        event_type: "test.thing.changed.v1",
        event_version: 1,
        topic: Box::leak(topic.to_owned().into_boxed_str()),
        aggregate_type: "Thing",
        aggregate_id: thing.to_owned(),
        aggregate_version: version,
        partition_key: thing.to_owned(),
        payload,
    }
}

/// Writes `count` events for `keys` keys (round robin, versions increasing per key) into the
/// outbox in transactions of `per_tx`; returns their event ids in commit order.
pub async fn write_events(
    pool: &PgPool,
    topic: &str,
    keys: usize,
    count: usize,
    per_tx: usize,
) -> Vec<String> {
    let topic: &'static str = Box::leak(topic.to_owned().into_boxed_str());
    let ctx = context("corr-backbone");
    let mut ids = Vec::with_capacity(count);
    let mut versions = vec![0i64; keys];
    let mut written = 0;
    while written < count {
        let mut tx = pool.begin().await.unwrap();
        for _ in 0..per_tx.min(count - written) {
            let key = written % keys;
            versions[key] += 1;
            let id = outbox::append(
                &mut tx,
                &ctx,
                thing_event(
                    topic,
                    &format!("thing-{key}"),
                    versions[key],
                    json!({"n": written, "key": key, "version": versions[key]}),
                ),
            )
            .await
            .unwrap();
            ids.push(id.to_string());
            written += 1;
        }
        tx.commit().await.unwrap();
    }
    ids
}

/// A message as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub key: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

impl Received {
    pub fn event_id(&self) -> String {
        self.body["eventId"].as_str().unwrap_or_default().to_owned()
    }
}

/// Reads `topic` from the beginning with a fresh group until `done` says enough or `timeout`.
pub async fn read_until(
    topic: &str,
    timeout: Duration,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    read_from(&brokers(), topic, timeout, done).await
}

/// [`read_until`], and then on until the topic has been quiet for `quiet`: a reader that stops
/// at the count it expects misses whatever comes after it, such as a duplicate.
pub async fn read_until_quiet(
    topic: &str,
    timeout: Duration,
    quiet: Duration,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    read(&brokers(), topic, timeout, Some(quiet), done).await
}

/// [`read_until`] on a given broker.
pub async fn read_from(
    brokers: &str,
    topic: &str,
    timeout: Duration,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    read(brokers, topic, timeout, None, done).await
}

async fn read(
    brokers: &str,
    topic: &str,
    timeout: Duration,
    quiet: Option<Duration>,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{}", uuid::Uuid::now_v7()))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer
        .assign(&from_offset_zero(&consumer, topic))
        .unwrap();
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while Instant::now() < deadline {
        let finished = done(&out);
        let wait = match (finished, quiet) {
            (false, _) => Duration::from_millis(500),
            (true, Some(quiet)) => quiet,
            (true, None) => break,
        };
        let Ok(Ok(message)) = tokio::time::timeout(wait, consumer.recv()).await else {
            if finished {
                break;
            }
            continue;
        };
        let mut headers = HashMap::new();
        if let Some(h) = message.headers() {
            for header in h.iter() {
                headers.insert(
                    header.key.to_owned(),
                    header
                        .value
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .unwrap_or_default(),
                );
            }
        }
        out.push(Received {
            key: message
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .unwrap_or_default(),
            headers,
            body: message
                .payload()
                .and_then(|p| serde_json::from_slice(p).ok())
                .unwrap_or(Value::Null),
        });
    }
    out
}

/// Every partition of `topic` at offset 0. The reader asks for offset 0 instead of the broker's
/// earliest offset: tansu answers "earliest" with the batch written first in time, not the lowest
/// offset, so when producers race for a partition's first batches a reader that starts from
/// "earliest" skips the batches below it (ADR 0009). Offset 0 is the start of every test topic.
fn from_offset_zero(consumer: &StreamConsumer, topic: &str) -> TopicPartitionList {
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len());
    assert!(partitions > 0, "topic {topic} has partitions");
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment
            .add_partition_offset(topic, i32::try_from(partition).unwrap(), Offset::Offset(0))
            .unwrap();
    }
    assignment
}

/// Events the broker acknowledged: in the log, no longer pending, not dead-lettered.
pub async fn published_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM outbox_event e WHERE e.dead_lettered_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM outbox_pending p WHERE p.outbox_seq = e.outbox_seq)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits until the outbox has no live rows left.
pub async fn drained(pool: &PgPool, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_pending")
            .fetch_one(pool)
            .await
            .unwrap();
        if pending == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A relay config with short timings for tests.
pub fn relay_config(lease: Duration) -> messaging::relay::RelayConfig {
    let mut config = messaging::relay::RelayConfig::new(catalog::SCHEMA, brokers());
    config.lease = lease;
    config.poll_interval = Duration::from_millis(100);
    config.base_backoff = Duration::from_millis(100);
    config.max_backoff = Duration::from_secs(2);
    // Two cycle loops on few buckets each, so every test also exercises workers splitting keys.
    config.workers = 2;
    config.buckets_per_cycle = 8;
    config
}

/// Polls `sql` (one bigint) until it returns `expected`, for up to 30 s.
pub async fn wait_for(pool: &PgPool, sql: &str, expected: i64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let value: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(pool)
            .await
            .unwrap_or(-1);
        if value == expected {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
