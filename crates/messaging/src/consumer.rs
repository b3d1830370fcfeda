//! The consumer runtime: applies other services' events exactly once in effect.
//!
//! Each message is handled in one database transaction that first inserts into the inbox
//! (a duplicate delivery finds its row and is acknowledged with no side effect), optionally checks
//! the aggregate version (an event older than what was applied is recorded as STALE and ignored,
//! never applied over newer state), then calls the handler — an application command — and
//! commits. The Kafka offset is committed only after the database commit. Retryable failures are
//! retried with back-off; after the last attempt, or on a permanent failure or an unreadable
//! message, the message goes to `consumer_dead_letter` and the partition keeps flowing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::kafka_log::TracingContext;

/// The runtime's consumer, logging through tracing.
pub(crate) type KafkaConsumer = StreamConsumer<TracingContext>;

/// How a consumer group reads.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Consumer group: one per (service, purpose), e.g. `ops.order-timeline`.
    pub group_id: String,
    /// Topics to read.
    pub topics: Vec<String>,
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Attempts for a retryable failure before the message is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay (doubles per attempt).
    pub base_backoff: Duration,
    /// Ignore events whose aggregate version is not newer than the last one applied for the same
    /// aggregate (use when the handler projects aggregate state).
    pub version_guard: bool,
    /// Longest the broker holds a fetch while it has nothing new (`fetch.wait.max.ms`). Kafka
    /// answers as soon as a message arrives, so this only bounds idle polling there; a broker
    /// that answers only when the wait is over (the local `tansu`) adds up to this much to every
    /// event's latency, so it is short: an approval reaches CPQ in tens of milliseconds, not half
    /// a second (librdkafka's default of 500 ms).
    pub fetch_wait: Duration,
}

impl ConsumerConfig {
    /// Defaults: 5 attempts from 100 ms, version guard on, fetches held at most 25 ms.
    pub fn new(
        group_id: impl Into<String>,
        topics: Vec<String>,
        brokers: impl Into<String>,
    ) -> Self {
        Self {
            group_id: group_id.into(),
            topics,
            brokers: brokers.into(),
            max_attempts: 5,
            base_backoff: Duration::from_millis(100),
            version_guard: true,
            fetch_wait: Duration::from_millis(25),
        }
    }
}

/// The envelope fields a handler reads to act in the event's context: its type, tenant, actor,
/// correlation and payload (architecture §6).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvelopeHead {
    /// Event type with version suffix.
    pub event_type: String,
    /// The tenant the event belongs to.
    pub tenant_id: String,
    /// Who caused it.
    pub actor_id: String,
    /// Correlation of the originating request.
    pub correlation_id: String,
    /// Business transaction.
    pub business_transaction_id: String,
    /// W3C traceparent, when the producer had one.
    #[serde(default)]
    pub traceparent: Option<String>,
    /// The payload.
    pub payload: Value,
}

/// A consumed event, as a handler sees it.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    /// Event id (the inbox key).
    pub event_id: Uuid,
    /// Event type with version suffix.
    pub event_type: String,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Aggregate version after the event.
    pub aggregate_version: i64,
    /// The whole envelope.
    pub envelope: Value,
    /// Where it was read.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

impl IncomingEvent {
    /// The envelope's head; an envelope without one breaks the contract (a permanent failure).
    pub fn head(&self) -> Result<EnvelopeHead, serde_json::Error> {
        serde_json::from_value(self.envelope.clone())
    }
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (a lock timeout, an unavailable dependency).
    #[error("retryable: {0}")]
    Retryable(String),
    /// Will never succeed (a contract violation): dead-letter at once.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The database cannot be reached: the message is held (no attempt spent, never
    /// dead-lettered for it) until it answers or the consumer stops.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        if crate::availability::is_unavailable(&error) {
            Self::Unavailable(error.to_string())
        } else {
            Self::Retryable(error.to_string())
        }
    }
}

/// An application command driven by events. Runs inside the inbox transaction; it must not
/// commit, and must not call out to other systems it cannot roll back.
pub trait EventHandler: Send + Sync + 'static {
    /// Applies one event.
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a IncomingEvent,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Applied once.
    Applied,
    /// Seen before (same event id): acknowledged without effect.
    Duplicate,
    /// Older than the state already applied: recorded and ignored.
    Stale,
    /// Given up on: in `consumer_dead_letter`.
    DeadLettered,
    /// Not taken: the consumer was asked to stop while the database was unavailable. Its offset
    /// is not committed, so it is read again after a restart.
    Abandoned,
}

/// A running consumer.
#[derive(Debug)]
pub struct ConsumerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    lag: Arc<Mutex<HashMap<(String, i32), i64>>>,
}

/// A cloneable reader of a running consumer's lag, for a view that reports it while the handle
/// stays with whoever stops the consumer.
#[derive(Debug, Clone)]
pub struct LagReader(Arc<Mutex<HashMap<(String, i32), i64>>>);

impl LagReader {
    /// Messages behind the high watermark, per (topic, partition), as last measured (every
    /// five seconds).
    pub fn lag(&self) -> HashMap<(String, i32), i64> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl ConsumerHandle {
    /// Messages behind the high watermark, per (topic, partition), as last measured.
    pub fn lag(&self) -> HashMap<(String, i32), i64> {
        self.lag.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// A reader of [`ConsumerHandle::lag`] that outlives a borrow of the handle.
    pub fn lag_reader(&self) -> LagReader {
        LagReader(Arc::clone(&self.lag))
    }

    /// Stops after the current message, commits, leaves the group and closes.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Subscribes and starts consuming.
pub fn spawn<H: EventHandler>(
    pool: PgPool,
    config: ConsumerConfig,
    handler: H,
) -> Result<ConsumerHandle, KafkaError> {
    let consumer = subscribe(&config)?;
    let (stop, stopped) = watch::channel(false);
    let lag = Arc::new(Mutex::new(HashMap::new()));
    let task = tokio::spawn(run(
        pool,
        consumer,
        config,
        handler,
        stopped,
        Arc::clone(&lag),
    ));
    Ok(ConsumerHandle { stop, task, lag })
}

/// A consumer of `config`'s group, subscribed, committing offsets only by hand.
pub(crate) fn subscribe(config: &ConsumerConfig) -> Result<KafkaConsumer, KafkaError> {
    let consumer: KafkaConsumer = crate::kafka_log::client_config(&config.brokers)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .set(
            "fetch.wait.max.ms",
            config.fetch_wait.as_millis().to_string(),
        )
        .create_with_context(TracingContext)?;
    let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    Ok(consumer)
}

/// A running consumer's handle from its parts (the batched runtime builds one too).
pub(crate) fn handle_of(
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    lag: Arc<Mutex<HashMap<(String, i32), i64>>>,
) -> ConsumerHandle {
    ConsumerHandle { stop, task, lag }
}

async fn run<H: EventHandler>(
    pool: PgPool,
    consumer: KafkaConsumer,
    config: ConsumerConfig,
    handler: H,
    mut stopped: watch::Receiver<bool>,
    lag: Arc<Mutex<HashMap<(String, i32), i64>>>,
) {
    let mut lag_tick = tokio::time::interval(Duration::from_secs(5));
    while !*stopped.borrow() {
        tokio::select! {
            _ = stopped.changed() => {}
            _ = lag_tick.tick() => measure_lag(&consumer, &config.group_id, &lag),
            received = consumer.recv() => match received {
                Ok(message) => {
                    let started = Instant::now();
                    let disposition = process(&pool, &config, &handler, &message, &stopped).await;
                    metrics::histogram!("consumer_handler_duration_seconds", "group" => config.group_id.clone())
                        .record(started.elapsed().as_secs_f64());
                    metrics::counter!("consumer_messages_total", "group" => config.group_id.clone(), "disposition" => format!("{disposition:?}"))
                        .increment(1);
                    if disposition == Disposition::Abandoned {
                        continue;
                    }
                    if let Err(error) = consumer.commit_message(&message, CommitMode::Async) {
                        tracing::warn!(%error, group = %config.group_id, "offset commit failed; the inbox absorbs the redelivery");
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, group = %config.group_id, "consumer error");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            },
        }
    }
    if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
        tracing::debug!(%error, "final offset commit had nothing to commit");
    }
    consumer.unsubscribe();
    drop(consumer);
    tracing::info!(group = %config.group_id, "consumer closed");
}

/// The (low, high) watermarks of `partitions`, asked at once, each on a thread of its own: one
/// query is a broker round trip that librdkafka may take up to half a second to answer, and asked
/// one after the other they would hold the caller for seconds.
pub fn fetch_watermarks_at_once<X, K>(
    consumer: &K,
    partitions: &[(String, i32)],
    timeout: Duration,
) -> Vec<Result<(i64, i64), KafkaError>>
where
    X: rdkafka::consumer::ConsumerContext,
    K: Consumer<X> + Sync,
{
    std::thread::scope(|scope| {
        let asked: Vec<_> = partitions
            .iter()
            .map(|(topic, partition)| {
                scope.spawn(move || consumer.fetch_watermarks(topic, *partition, timeout))
            })
            .collect();
        asked
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or(Err(KafkaError::MetadataFetch(
                    rdkafka::types::RDKafkaErrorCode::Fail,
                )))
            })
            .collect()
    })
}

pub(crate) fn measure_lag(
    consumer: &KafkaConsumer,
    group: &str,
    lag: &Mutex<HashMap<(String, i32), i64>>,
) {
    let Ok(positions) = consumer.position() else {
        return;
    };
    // A partition this process has not fetched from yet has no position: its committed offset
    // says where the group stands (counting from 0 would report the whole partition as lag).
    let committed = positions
        .elements()
        .iter()
        .any(|element| element.offset().to_raw().is_none_or(|raw| raw < 0))
        .then(|| consumer.committed(Duration::from_millis(1_000)).ok())
        .flatten();
    let partitions: Vec<((String, i32), i64)> = positions
        .elements()
        .iter()
        .filter_map(|element| {
            let known = element.offset().to_raw().filter(|raw| *raw >= 0);
            let position = known.or_else(|| {
                committed
                    .as_ref()?
                    .find_partition(element.topic(), element.partition())?
                    .offset()
                    .to_raw()
                    .filter(|raw| *raw >= 0)
            })?;
            Some(((element.topic().to_owned(), element.partition()), position))
        })
        .collect();
    let keys: Vec<(String, i32)> = partitions.iter().map(|(key, _)| key.clone()).collect();
    let answers = fetch_watermarks_at_once(consumer, &keys, Duration::from_millis(1_000));
    let mut measured = HashMap::new();
    for (((topic, partition), position), answer) in partitions.into_iter().zip(answers) {
        if let Ok((_, high)) = answer {
            let behind = (high - position.max(0)).max(0);
            metrics::gauge!("consumer_lag", "group" => group.to_owned(), "topic" => topic.clone(), "partition" => partition.to_string())
                .set(behind as f64);
            measured.insert((topic, partition), behind);
        }
    }
    if let Ok(mut shared) = lag.lock() {
        *shared = measured;
    }
}

/// Reads the envelope of a message; `Err` names why it is unreadable. Public for readers that
/// replay a topic outside a consumer group (the ops projections' rebuild).
pub fn parse(message: &BorrowedMessage<'_>) -> Result<IncomingEvent, String> {
    let payload = message.payload().ok_or("message has no payload")?;
    let envelope: Value =
        serde_json::from_slice(payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    let text = |field: &str| {
        envelope
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let event_id = text("eventId")
        .and_then(|id| Uuid::parse_str(&id).ok())
        .ok_or("envelope has no valid eventId")?;
    Ok(IncomingEvent {
        event_id,
        event_type: text("eventType").ok_or("envelope has no eventType")?,
        aggregate_type: text("aggregateType").unwrap_or_default(),
        aggregate_id: text("aggregateId").unwrap_or_default(),
        aggregate_version: envelope
            .get("aggregateVersion")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        envelope,
    })
}

/// Handles one message to a final disposition (never leaves it half-done): applied, duplicate,
/// stale or dead-lettered; or, when asked to stop while the database is away, abandoned
/// unacknowledged.
pub(crate) async fn process<H: EventHandler>(
    pool: &PgPool,
    config: &ConsumerConfig,
    handler: &H,
    message: &BorrowedMessage<'_>,
    stopped: &watch::Receiver<bool>,
) -> Disposition {
    let event = match parse(message) {
        Ok(event) => event,
        Err(reason) => {
            let raw = message
                .payload()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            let letter = DeadLetter {
                topic: message.topic(),
                partition: message.partition(),
                offset: message.offset(),
                message_id: None,
                payload: raw,
                reason: &reason,
                attempts: 1,
            };
            return dead_letter(pool, config, letter, stopped).await;
        }
    };
    let (mut attempt, mut waits) = (1, 0);
    loop {
        match apply_once(pool, config, handler, &event).await {
            Ok(disposition) => return disposition,
            Err(HandlerError::Unavailable(reason)) => {
                waits += 1;
                tracing::warn!(group = %config.group_id, event_id = %event.event_id, waits, %reason, "the database is unavailable; holding the message until it answers");
                if !crate::availability::pause(stopped, waits).await {
                    return Disposition::Abandoned;
                }
            }
            Err(HandlerError::Retryable(reason)) if attempt < config.max_attempts => {
                let delay = config
                    .base_backoff
                    .saturating_mul(2u32.saturating_pow(attempt - 1));
                tracing::warn!(group = %config.group_id, event_id = %event.event_id, attempt, %reason, "handler failed; retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(HandlerError::Retryable(reason) | HandlerError::Permanent(reason)) => {
                let raw = Some(event.envelope.to_string());
                let letter = DeadLetter {
                    topic: &event.topic,
                    partition: event.partition,
                    offset: event.offset,
                    message_id: Some(event.event_id),
                    payload: raw,
                    reason: &reason,
                    attempts: attempt,
                };
                return dead_letter(pool, config, letter, stopped).await;
            }
        }
    }
}

/// One transaction: inbox insert, version check, handler, commit.
async fn apply_once<H: EventHandler>(
    pool: &PgPool,
    config: &ConsumerConfig,
    handler: &H,
    event: &IncomingEvent,
) -> Result<Disposition, HandlerError> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO inbox_message (consumer_group, message_id, event_type, topic, kafka_partition, kafka_offset, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, 'APPLIED') ON CONFLICT (consumer_group, message_id) DO NOTHING",
    )
    .bind(&config.group_id)
    .bind(event.event_id)
    .bind(&event.event_type)
    .bind(&event.topic)
    .bind(event.partition)
    .bind(event.offset)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        tx.commit().await?;
        return Ok(Disposition::Duplicate);
    }
    if config.version_guard {
        let newer: Option<i64> = sqlx::query_scalar(
            "INSERT INTO inbox_aggregate_version AS v (consumer_group, aggregate_type, aggregate_id, aggregate_version) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (consumer_group, aggregate_type, aggregate_id) DO UPDATE SET aggregate_version = EXCLUDED.aggregate_version \
             WHERE v.aggregate_version < EXCLUDED.aggregate_version RETURNING aggregate_version",
        )
        .bind(&config.group_id)
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(event.aggregate_version)
        .fetch_optional(&mut *tx)
        .await?;
        if newer.is_none() {
            sqlx::query("UPDATE inbox_message SET outcome = 'STALE' WHERE consumer_group = $1 AND message_id = $2")
                .bind(&config.group_id)
                .bind(event.event_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(group = %config.group_id, event_id = %event.event_id, aggregate_version = event.aggregate_version, "stale event ignored");
            return Ok(Disposition::Stale);
        }
    }
    handler.handle(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Disposition::Applied)
}

/// Where a message given up on was read, and why.
#[derive(Debug)]
pub(crate) struct DeadLetter<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Its event id, when it had a readable one.
    pub message_id: Option<Uuid>,
    /// The message as received.
    pub payload: Option<String>,
    /// Why it was given up on.
    pub reason: &'a str,
    /// Attempts spent.
    pub attempts: u32,
}

/// Stores a dead letter (and marks its inbox row), holding on while the database is away: a
/// message is only ever acknowledged once it is applied or its dead letter is stored.
pub(crate) async fn dead_letter(
    pool: &PgPool,
    config: &ConsumerConfig,
    letter: DeadLetter<'_>,
    stopped: &watch::Receiver<bool>,
) -> Disposition {
    let mut waits = 0;
    loop {
        match store_dead_letter(pool, config, &letter).await {
            Ok(()) => break,
            Err(error) if crate::availability::is_unavailable(&error) => {
                waits += 1;
                tracing::warn!(%error, group = %config.group_id, topic = letter.topic, partition = letter.partition, offset = letter.offset, waits, "the database is unavailable; holding the dead letter until it answers");
                if !crate::availability::pause(stopped, waits).await {
                    return Disposition::Abandoned;
                }
            }
            Err(error) => {
                tracing::error!(%error, group = %config.group_id, topic = letter.topic, partition = letter.partition, offset = letter.offset, "could not store a dead letter");
                break;
            }
        }
    }
    metrics::counter!("consumer_dead_letters_total", "group" => config.group_id.clone())
        .increment(1);
    tracing::error!(group = %config.group_id, topic = letter.topic, partition = letter.partition, offset = letter.offset, reason = letter.reason, "message dead-lettered");
    Disposition::DeadLettered
}

async fn store_dead_letter(
    pool: &PgPool,
    config: &ConsumerConfig,
    letter: &DeadLetter<'_>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO consumer_dead_letter (consumer_group, topic, kafka_partition, kafka_offset, message_id, payload, reason, attempts) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (consumer_group, topic, kafka_partition, kafka_offset) DO NOTHING",
    )
    .bind(&config.group_id)
    .bind(letter.topic)
    .bind(letter.partition)
    .bind(letter.offset)
    .bind(letter.message_id)
    .bind(&letter.payload)
    .bind(letter.reason)
    .bind(i32::try_from(letter.attempts).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?;
    if let Some(id) = letter.message_id {
        sqlx::query(
            "INSERT INTO inbox_message (consumer_group, message_id, event_type, topic, kafka_partition, kafka_offset, outcome) \
             VALUES ($1, $2, '', $3, $4, $5, 'DEAD_LETTERED') ON CONFLICT (consumer_group, message_id) DO NOTHING",
        )
        .bind(&config.group_id)
        .bind(id)
        .bind(letter.topic)
        .bind(letter.partition)
        .bind(letter.offset)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
