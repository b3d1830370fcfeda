//! The batched consumer runtime: the same exactly-once-in-effect contract as
//! [`crate::consumer`], for handlers whose work per message is small next to a transaction's
//! cost (an append-only log, a projection). It takes what the broker has ready — up to
//! `max_batch` messages, waiting at most `linger` for more after the first — and applies them in
//! one database transaction: one multi-row inbox insert that filters out duplicates, then the
//! handler with the new events, then one commit; the Kafka offsets are committed only after it.
//!
//! A retryable failure retries the whole batch with back-off. If the batch still fails, each of
//! its messages goes through the one-message path of [`crate::consumer`] on its own, so one
//! poison message is dead-lettered alone and the rest are applied. The aggregate version guard
//! is not offered here: batching is for handlers that take every event.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use uuid::Uuid;

use crate::consumer::{
    ConsumerConfig, ConsumerHandle, DeadLetter, Disposition, EventHandler, HandlerError,
    IncomingEvent, KafkaConsumer, dead_letter, handle_of, measure_lag, parse, process, subscribe,
};

/// A command driven by batches of events. Runs inside the inbox transaction; it must not
/// commit, and must not call out to systems it cannot roll back. It gets only events this
/// group has not taken before, in the order they were read (per partition, the broker's).
pub trait BatchHandler: Send + Sync + 'static {
    /// Applies the events, all or none.
    fn handle_batch<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [IncomingEvent],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// How a batched consumer reads.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Group, topics, brokers, attempts and back-off (`version_guard` must be off).
    pub consumer: ConsumerConfig,
    /// The most messages in one transaction.
    pub max_batch: usize,
    /// How long to wait for more once a batch has its first message.
    pub linger: Duration,
}

impl BatchConfig {
    /// Batches of up to 500 messages, lingering 5 ms for more.
    pub fn new(mut consumer: ConsumerConfig) -> Self {
        consumer.version_guard = false;
        Self {
            consumer,
            max_batch: 500,
            linger: Duration::from_millis(5),
        }
    }
}

/// One message of a batch handled alone (the fallback path), through the single-message runtime.
struct Alone<H>(Arc<H>);

impl<H: BatchHandler> EventHandler for Alone<H> {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        self.0.handle_batch(conn, std::slice::from_ref(event)).await
    }
}

/// Subscribes and starts consuming in batches.
pub fn spawn_batched<H: BatchHandler>(
    pool: PgPool,
    config: BatchConfig,
    handler: H,
) -> Result<ConsumerHandle, KafkaError> {
    let consumer = subscribe(&config.consumer)?;
    let (stop, stopped) = watch::channel(false);
    let lag = Arc::new(Mutex::new(HashMap::new()));
    let handler = Arc::new(handler);
    let task = tokio::spawn(run(
        pool,
        consumer,
        config,
        handler,
        stopped,
        Arc::clone(&lag),
    ));
    Ok(handle_of(stop, task, lag))
}

async fn run<H: BatchHandler>(
    pool: PgPool,
    consumer: KafkaConsumer,
    config: BatchConfig,
    handler: Arc<H>,
    mut stopped: watch::Receiver<bool>,
    lag: Arc<Mutex<HashMap<(String, i32), i64>>>,
) {
    let group = config.consumer.group_id.clone();
    let mut lag_tick = tokio::time::interval(Duration::from_secs(5));
    while !*stopped.borrow() {
        let first = tokio::select! {
            _ = stopped.changed() => continue,
            _ = lag_tick.tick() => {
                measure_lag(&consumer, &group, &lag);
                continue;
            }
            received = consumer.recv() => received,
        };
        let first = match first {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, group = %group, "consumer error");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let mut batch = vec![first];
        let until = Instant::now() + config.linger;
        while batch.len() < config.max_batch {
            let left = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, consumer.recv()).await {
                Ok(Ok(message)) => batch.push(message),
                Ok(Err(error)) => {
                    tracing::warn!(%error, group = %group, "consumer error inside a batch");
                    break;
                }
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let dispositions = apply(&pool, &config, &handler, &batch, &stopped).await;
        tracing::debug!(group = %group, size = batch.len(), took_ms = started.elapsed().as_millis() as u64, "batch applied");
        metrics::histogram!("consumer_batch_duration_seconds", "group" => group.clone())
            .record(started.elapsed().as_secs_f64());
        metrics::histogram!("consumer_batch_size", "group" => group.clone())
            .record(batch.len() as f64);
        let abandoned = dispositions
            .iter()
            .any(|(disposition, count)| *disposition == Disposition::Abandoned && *count > 0);
        for (disposition, count) in dispositions {
            metrics::counter!("consumer_messages_total", "group" => group.clone(), "disposition" => format!("{disposition:?}"))
                .increment(count);
        }
        if abandoned {
            // Asked to stop while the database was away: nothing of this batch is acknowledged
            // (what was applied is in the inbox and absorbs the redelivery).
            break;
        }
        commit(&consumer, &group, &batch);
    }
    if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
        tracing::debug!(%error, "final offset commit had nothing to commit");
    }
    consumer.unsubscribe();
    drop(consumer);
    tracing::info!(group = %group, "batched consumer closed");
}

/// Commits the last message of each partition in the batch.
fn commit(consumer: &KafkaConsumer, group: &str, batch: &[BorrowedMessage<'_>]) {
    let mut last: HashMap<(&str, i32), &BorrowedMessage<'_>> = HashMap::new();
    for message in batch {
        last.insert((message.topic(), message.partition()), message);
    }
    for message in last.values() {
        if let Err(error) = consumer.commit_message(message, CommitMode::Async) {
            tracing::warn!(%error, group, "offset commit failed; the inbox absorbs the redelivery");
        }
    }
}

/// Applies one batch to final dispositions, counted.
async fn apply<H: BatchHandler>(
    pool: &PgPool,
    config: &BatchConfig,
    handler: &Arc<H>,
    batch: &[BorrowedMessage<'_>],
    stopped: &watch::Receiver<bool>,
) -> Vec<(Disposition, u64)> {
    let mut events = Vec::with_capacity(batch.len());
    let mut unreadable = 0;
    for message in batch {
        match parse(message) {
            Ok(event) => events.push(event),
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
                if dead_letter(pool, &config.consumer, letter, stopped).await
                    == Disposition::Abandoned
                {
                    return vec![(Disposition::Abandoned, 1)];
                }
                unreadable += 1;
            }
        }
    }
    let (mut attempt, mut waits) = (1, 0);
    let outcome = loop {
        match apply_once(pool, &config.consumer, handler.as_ref(), &events).await {
            Ok(applied) => break Ok(applied),
            Err(HandlerError::Unavailable(reason)) => {
                waits += 1;
                tracing::warn!(group = %config.consumer.group_id, size = events.len(), waits, %reason, "the database is unavailable; holding the batch until it answers");
                if !crate::availability::pause(stopped, waits).await {
                    return vec![(Disposition::Abandoned, events.len() as u64)];
                }
            }
            Err(HandlerError::Retryable(reason)) if attempt < config.consumer.max_attempts => {
                let delay = config
                    .consumer
                    .base_backoff
                    .saturating_mul(2u32.saturating_pow(attempt - 1));
                tracing::warn!(group = %config.consumer.group_id, size = events.len(), attempt, %reason, "batch failed; retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(error) => break Err(error),
        }
    };
    let mut counts = vec![(Disposition::DeadLettered, unreadable)];
    match outcome {
        Ok(applied) => {
            counts.push((Disposition::Applied, applied));
            counts.push((Disposition::Duplicate, events.len() as u64 - applied));
        }
        Err(error) => {
            tracing::warn!(group = %config.consumer.group_id, %error, size = events.len(), "batch failed; applying its messages one by one");
            let alone = Alone(Arc::clone(handler));
            let mut single = config.consumer.clone();
            single.version_guard = false;
            for (message, _) in batch.iter().zip(0..).filter(|(m, _)| parse(m).is_ok()) {
                let disposition = process(pool, &single, &alone, message, stopped).await;
                counts.push((disposition, 1));
                if disposition == Disposition::Abandoned {
                    break;
                }
            }
        }
    }
    counts
}

/// One transaction: the inbox rows of the batch (duplicates drop out), the handler, commit.
/// Returns how many events were new.
async fn apply_once<H: BatchHandler>(
    pool: &PgPool,
    config: &ConsumerConfig,
    handler: &H,
    events: &[IncomingEvent],
) -> Result<u64, HandlerError> {
    if events.is_empty() {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let topics: Vec<&str> = events.iter().map(|e| e.topic.as_str()).collect();
    let partitions: Vec<i32> = events.iter().map(|e| e.partition).collect();
    let offsets: Vec<i64> = events.iter().map(|e| e.offset).collect();
    let fresh: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO inbox_message (consumer_group, message_id, event_type, topic, kafka_partition, kafka_offset, outcome) \
         SELECT $1, id, t, tp, p, o, 'APPLIED' FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[], $6::bigint[]) AS m(id, t, tp, p, o) \
         ON CONFLICT (consumer_group, message_id) DO NOTHING RETURNING message_id",
    )
    .bind(&config.group_id)
    .bind(&ids)
    .bind(&types)
    .bind(&topics)
    .bind(&partitions)
    .bind(&offsets)
    .fetch_all(&mut *tx)
    .await?;
    // One event id twice in one batch: the insert took it once; the handler sees it once.
    let mut wanted: std::collections::HashSet<Uuid> = fresh.into_iter().collect();
    let new: Vec<IncomingEvent> = events
        .iter()
        .filter(|event| wanted.remove(&event.event_id))
        .cloned()
        .collect();
    if !new.is_empty() {
        handler.handle_batch(&mut tx, &new).await?;
    }
    tx.commit().await?;
    Ok(new.len() as u64)
}
