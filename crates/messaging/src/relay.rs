//! The outbox relay: publishes committed outbox rows to Kafka, at least once, in order per key.
//!
//! One cycle is one transaction, which is also the claim's lease (ADR 0012): lock the key
//! buckets of the oldest pending rows (`FOR UPDATE SKIP LOCKED`), read those buckets' pending
//! rows in commit order, enqueue every message on the idempotent producer, await the
//! acknowledgements, and record the outcome per row before committing: a row leaves the queue
//! only after the broker acknowledged it; a transient failure backs off exponentially and holds
//! back the later rows of the same key only; a poison row (unreadable, or rejected by the
//! broker) is dead-lettered and never blocks the rows behind it. Relays are woken by
//! `LISTEN/NOTIFY` and poll as a fallback. Several relays on one schema never hold the same
//! bucket, so in the normal path no row is published twice; after a crash a row may be sent
//! again with the same event id, which consumers' inboxes absorb.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::producer::{MESSAGE_TIMEOUT, idempotent_producer};

/// Relay tuning; the defaults suit a service-embedded relay.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Schema whose `outbox_event` table is relayed (also names the NOTIFY channel).
    pub schema: String,
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Rows claimed per cycle.
    pub batch_size: i64,
    /// How long a claim is exclusive; longer than the producer's message timeout.
    pub lease: Duration,
    /// Poll interval when no notification arrives.
    pub poll_interval: Duration,
    /// First retry delay after a failure (doubles per attempt).
    pub base_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// How long published rows are kept before pruning.
    pub retention: Duration,
    /// Cycles running at once, each with its own producer and transaction, on disjoint key
    /// buckets: one cycle's database work overlaps another's wait for acknowledgements.
    pub workers: usize,
    /// Most key buckets one cycle claims, so that concurrent cycles find work when events
    /// spread over few keys.
    pub buckets_per_cycle: i64,
}

impl RelayConfig {
    /// Defaults for `schema` and `brokers`.
    pub fn new(schema: impl Into<String>, brokers: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            brokers: brokers.into(),
            batch_size: 2000,
            lease: MESSAGE_TIMEOUT + Duration::from_secs(10),
            poll_interval: Duration::from_millis(500),
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            retention: Duration::from_secs(72 * 3600),
            workers: 1,
            buckets_per_cycle: 256,
        }
    }
}

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The producer could not be created.
    #[error("cannot create the Kafka producer")]
    Producer(#[from] KafkaError),
    /// The database failed.
    #[error("database error in the relay")]
    Database(#[from] sqlx::Error),
}

/// A running relay.
#[derive(Debug)]
pub struct RelayHandle {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RelayHandle {
    /// Stops after the current cycles, flushes the producers and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// A claimed outbox row.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Claimed {
    outbox_seq: i64,
    event_id: uuid::Uuid,
    topic: String,
    partition_key: String,
    /// The envelope exactly as stored, sent as the message body without re-encoding.
    envelope: String,
    envelope_event_id: Option<String>,
    envelope_event_type: Option<String>,
    envelope_event_version: Option<String>,
    correlation_id: Option<String>,
    causation_id: Option<String>,
    traceparent: Option<String>,
    attempts: i32,
    occurred_at: DateTime<Utc>,
}

/// What happened to one row.
#[derive(Debug)]
enum Outcome {
    Published,
    Failed(String),
    Poison(String),
}

/// Starts a relay on the service's pool: `workers` cycle loops and one listener that wakes
/// them when a transaction that wrote events commits.
pub fn spawn(pool: PgPool, config: RelayConfig) -> Result<RelayHandle, RelayError> {
    let workers = config.workers.max(1);
    let mut producers = Vec::with_capacity(workers);
    for _ in 0..workers {
        producers.push(idempotent_producer(&config.brokers)?);
    }
    let (stop, stopped) = watch::channel(false);
    let (wake, woken) = watch::channel(0_u64);
    let config = std::sync::Arc::new(config);
    let mut tasks = vec![tokio::spawn(listen_for_commits(
        pool.clone(),
        format!("{}_outbox", config.schema),
        config.poll_interval,
        wake,
        stopped.clone(),
    ))];
    for (index, producer) in producers.into_iter().enumerate() {
        tasks.push(tokio::spawn(work(
            Worker {
                index,
                pool: pool.clone(),
                config: config.clone(),
            },
            producer,
            woken.clone(),
            stopped.clone(),
        )));
    }
    tracing::info!(schema = %config.schema, brokers = %config.brokers, workers, "outbox relay started");
    Ok(RelayHandle { stop, tasks })
}

/// What one cycle loop needs.
struct Worker {
    index: usize,
    pool: PgPool,
    config: std::sync::Arc<RelayConfig>,
}

/// Counts commit notifications into `wake` (every worker watches it); without a listener it
/// ticks every poll interval instead, and reconnects.
async fn listen_for_commits(
    pool: PgPool,
    channel: String,
    poll: Duration,
    wake: watch::Sender<u64>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut listener = listen(&pool, &channel).await;
    while !*stopped.borrow() {
        tokio::select! {
            _ = stopped.changed() => {}
            () = wait_for_notification(&mut listener, &pool, &channel, poll) => {
                wake.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }
}

async fn work(
    worker: Worker,
    mut producer: FutureProducer,
    mut woken: watch::Receiver<u64>,
    mut stopped: watch::Receiver<bool>,
) {
    let Worker {
        index,
        pool,
        config,
    } = worker;
    let mut last_prune = Instant::now();
    while !*stopped.borrow() {
        woken.borrow_and_update();
        let (worked, producer_broken) = match cycle(&pool, &producer, &config).await {
            Ok((count, broken)) => (count > 0, broken),
            Err(error) => {
                metrics::counter!("outbox_relay_errors_total", "kind" => "database").increment(1);
                tracing::warn!(%error, "outbox relay cycle failed; retrying");
                (false, false)
            }
        };
        // An idempotent producer whose epoch could not be bumped after timeouts (e.g. fenced) is
        // unusable for good; a new one gets a new producer id and the failed rows go out again.
        let fatal = producer.client().fatal_error();
        if producer_broken || fatal.is_some() {
            metrics::counter!("outbox_relay_errors_total", "kind" => "producer_fatal").increment(1);
            tracing::warn!(
                ?fatal,
                "producer lost its identity (fenced or fatal); replacing it"
            );
            match idempotent_producer(&config.brokers) {
                Ok(fresh) => producer = fresh,
                Err(error) => {
                    tracing::error!(%error, "cannot replace the producer; retrying next cycle")
                }
            }
        }
        // Housekeeping is the first worker's job.
        if index == 0 && last_prune.elapsed() > Duration::from_secs(600) {
            prune(&pool, config.retention).await;
            last_prune = Instant::now();
        }
        if worked {
            continue;
        }
        if index == 0 {
            report_backlog(&pool, &config.schema).await;
        }
        tokio::select! {
            _ = stopped.changed() => {}
            _ = woken.changed() => {}
            () = tokio::time::sleep(config.poll_interval) => {}
        }
    }
    if let Err(error) = producer.flush(Duration::from_secs(5)) {
        tracing::warn!(%error, "producer flush at shutdown failed");
    }
    if index == 0 {
        tracing::info!(schema = %config.schema, "outbox relay stopped");
    }
}

async fn listen(pool: &PgPool, channel: &str) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.ok()?;
    listener.listen(channel).await.ok()?;
    Some(listener)
}

/// Resolves on a notification or after `poll`, whichever comes first; reconnects a lost
/// listener on the next call.
async fn wait_for_notification(
    listener: &mut Option<PgListener>,
    pool: &PgPool,
    channel: &str,
    poll: Duration,
) {
    match listener {
        Some(active) => match tokio::time::timeout(poll, active.try_recv()).await {
            Ok(Ok(Some(_))) | Err(_) => {}
            Ok(Ok(None) | Err(_)) => *listener = None,
        },
        None => {
            tokio::time::sleep(poll).await;
            *listener = listen(pool, channel).await;
        }
    }
}

/// One claim → publish → record cycle in one transaction; returns how many rows it handled and
/// whether the producer must be replaced.
async fn cycle(
    pool: &PgPool,
    producer: &FutureProducer,
    config: &RelayConfig,
) -> Result<(usize, bool), sqlx::Error> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    lease_transaction(&mut tx, config.lease).await?;
    let buckets = claim_buckets(&mut tx, config).await?;
    if buckets.is_empty() {
        return Ok((0, false));
    }
    let rows = claimed_rows(&mut tx, &buckets, config.batch_size).await?;
    if rows.is_empty() {
        return Ok((0, false));
    }
    let claimed = started.elapsed();
    let (outcomes, producer_broken) = publish(producer, &rows).await;
    let published = started.elapsed();
    record(&mut tx, config, &rows, outcomes).await?;
    tx.commit().await?;
    tracing::debug!(
        rows = rows.len(),
        buckets = buckets.len(),
        claim_ms = claimed.as_millis() as u64,
        publish_ms = (published - claimed).as_millis() as u64,
        record_ms = (started.elapsed() - published).as_millis() as u64,
        "relay cycle"
    );
    Ok((rows.len(), producer_broken))
}

/// The claim is this transaction, and the transaction is the lease: PostgreSQL ends a session
/// that sits idle inside it for longer than the lease (a hung relay), and a crashed relay's
/// locks go with its connection, so its rows are free again at once. The lease outlives the
/// producer's message timeout, so a publish still in flight never loses its claim.
///
/// The queue is always read in commit order through its primary key, and only a batch's worth
/// of it; statistics lag behind bursts, and a planner that believed them sorted the whole queue
/// and joined every envelope per cycle, so sequential scans and sorts are off for this
/// transaction. Those settings inflate plan costs past `jit_above_cost`, and JIT-compiling the
/// claim then took about 100 ms of every cycle for a query that runs in 1 ms, so JIT is off too:
/// the relay's queries are small and repeated, never worth compiling.
///
/// The relay's bookkeeping also need not wait for the WAL flush: if PostgreSQL crashed before
/// flushing, the rows would be pending again and be sent again with the same event id — the
/// at-least-once contract already covers that — while every cycle saves a flush.
async fn lease_transaction(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    lease: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('synchronous_commit', 'off', true), \
                set_config('idle_in_transaction_session_timeout', $1, true), \
                set_config('enable_seqscan', 'off', true), \
                set_config('enable_sort', 'off', true), \
                set_config('jit', 'off', true)",
    )
    .bind(format!("{}ms", lease.as_millis()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Claims the key buckets of the oldest pending rows that no other relay or worker holds
/// (`FOR UPDATE SKIP LOCKED` on `outbox_key_bucket`), oldest first, at most
/// `buckets_per_cycle`. Until this transaction ends, every pending row of those
/// buckets is this relay's alone: no other relay publishes them, and no key is split between
/// relays, so order per key holds.
async fn claim_buckets(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    config: &RelayConfig,
) -> Result<Vec<i16>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT b.bucket FROM outbox_key_bucket b JOIN ( \
           SELECT key_bucket, min(outbox_seq) AS oldest FROM ( \
             SELECT key_bucket, outbox_seq FROM outbox_pending WHERE next_attempt_at <= now() \
             ORDER BY outbox_seq LIMIT $1) candidate \
           GROUP BY key_bucket) c ON c.key_bucket = b.bucket \
         ORDER BY c.oldest LIMIT $2 FOR UPDATE OF b SKIP LOCKED",
    )
    .bind(config.batch_size)
    .bind(config.buckets_per_cycle)
    .fetch_all(&mut **tx)
    .await
}

/// The oldest pending rows of the claimed buckets, in commit order, without the keys that are
/// backing off after a failure (their later rows wait behind the failed one). Read after the
/// buckets were locked, so it sees everything the previous holder of a bucket committed.
async fn claimed_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    buckets: &[i16],
    batch_size: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "WITH next AS ( \
           SELECT outbox_seq, topic, partition_key, attempts FROM outbox_pending \
           WHERE key_bucket = ANY($1) AND next_attempt_at <= now() \
             AND (topic, partition_key) NOT IN ( \
               SELECT topic, partition_key FROM outbox_pending WHERE attempts > 0 AND next_attempt_at > now()) \
           ORDER BY outbox_seq LIMIT $2) \
         SELECT p.outbox_seq, e.event_id, p.topic, p.partition_key, e.envelope::text AS envelope, \
                e.envelope->>'eventId' AS envelope_event_id, e.envelope->>'eventType' AS envelope_event_type, \
                e.envelope->>'eventVersion' AS envelope_event_version, e.envelope->>'correlationId' AS correlation_id, \
                e.envelope->>'causationId' AS causation_id, e.envelope->>'traceparent' AS traceparent, \
                p.attempts, e.occurred_at \
         FROM next p JOIN outbox_event e ON e.outbox_seq = p.outbox_seq \
         ORDER BY p.outbox_seq",
    )
    .bind(buckets)
    .bind(batch_size)
    .fetch_all(&mut **tx)
    .await
}

/// The Kafka headers of an envelope; `Err` when the envelope is unreadable (poison).
fn headers(row: &Claimed) -> Result<OwnedHeaders, String> {
    let event_id = row
        .envelope_event_id
        .as_deref()
        .ok_or("envelope has no eventId")?;
    let event_type = row
        .envelope_event_type
        .as_deref()
        .ok_or("envelope has no eventType")?;
    let event_version = row
        .envelope_event_version
        .as_deref()
        .ok_or("envelope has no eventVersion")?;
    let mut headers = OwnedHeaders::new()
        .insert(Header {
            key: "eventId",
            value: Some(event_id),
        })
        .insert(Header {
            key: "eventType",
            value: Some(event_type),
        })
        .insert(Header {
            key: "eventVersion",
            value: Some(event_version),
        });
    for (key, value) in [
        ("correlationId", &row.correlation_id),
        ("causationId", &row.causation_id),
        ("traceparent", &row.traceparent),
    ] {
        if let Some(value) = value.as_deref() {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
    }
    Ok(headers)
}

/// Whether the broker refused this message for what it is (not for the broker's state).
fn is_poison(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::InvalidTopic
                | RDKafkaErrorCode::MessageBatchTooLarge
                | RDKafkaErrorCode::BadMessage
        )
    )
}

/// Enqueues every row in commit order (the idempotent producer keeps that order per partition),
/// then awaits the acknowledgements.
async fn publish(producer: &FutureProducer, rows: &[Claimed]) -> (Vec<Outcome>, bool) {
    let mut deliveries = Vec::with_capacity(rows.len());
    for row in rows {
        let delivery = match headers(row) {
            Err(reason) => Err(Outcome::Poison(reason)),
            Ok(headers) => {
                let record = FutureRecord::to(&row.topic)
                    .key(row.partition_key.as_bytes())
                    .payload(row.envelope.as_bytes())
                    .headers(headers);
                producer.send_result(record).map_err(|(error, _)| {
                    if is_poison(&error) {
                        Outcome::Poison(error.to_string())
                    } else {
                        Outcome::Failed(error.to_string())
                    }
                })
            }
        };
        deliveries.push(delivery);
    }
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut producer_broken = false;
    for (row, delivery) in rows.iter().zip(deliveries) {
        let outcome = match delivery {
            Err(outcome) => outcome,
            Ok(future) => match future.await {
                Ok(Ok(_)) => {
                    let latency = (Utc::now() - row.occurred_at).to_std().unwrap_or_default();
                    metrics::histogram!("outbox_publish_latency_seconds")
                        .record(latency.as_secs_f64());
                    Outcome::Published
                }
                Ok(Err((error, _))) if is_poison(&error) => Outcome::Poison(error.to_string()),
                Ok(Err((error, _))) => {
                    producer_broken |= breaks_producer(&error);
                    Outcome::Failed(error.to_string())
                }
                Err(_) => Outcome::Failed("producer dropped the delivery".to_owned()),
            },
        };
        outcomes.push(outcome);
    }
    (outcomes, producer_broken)
}

/// Whether the producer must be replaced: its identity is gone (its epoch could not be bumped
/// after timeouts), or its sends time out — after a broker restart an old producer only ever
/// times out while a new one works at once. Replacing a producer while the broker is down costs
/// nothing.
fn breaks_producer(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::MessageTimedOut
                | RDKafkaErrorCode::InvalidProducerEpoch
                | RDKafkaErrorCode::UnknownProducerId
                | RDKafkaErrorCode::OutOfOrderSequenceNumber
                | RDKafkaErrorCode::Fatal
        )
    )
}

fn backoff(config: &RelayConfig, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    config
        .base_backoff
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(config.max_backoff)
}

/// Records outcomes in the claiming transaction: acknowledged rows leave the queue; within a
/// key, the first transient failure backs off and the later rows of that key stay untouched, so
/// order per key holds; poison rows are dead-lettered and do not hold anything back.
async fn record(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    config: &RelayConfig,
    rows: &[Claimed],
    outcomes: Vec<Outcome>,
) -> Result<(), sqlx::Error> {
    let mut published = Vec::new();
    let mut failed_seqs = Vec::new();
    let mut failed_delays = Vec::new();
    let mut failed_reasons = Vec::new();
    let mut poison: Vec<(&Claimed, String)> = Vec::new();
    let mut blocked_keys: HashSet<(&str, &str)> = HashSet::new();
    for (row, outcome) in rows.iter().zip(outcomes) {
        let key = (row.topic.as_str(), row.partition_key.as_str());
        if blocked_keys.contains(&key) {
            continue;
        }
        match outcome {
            Outcome::Published => published.push(row.outbox_seq),
            Outcome::Poison(reason) => poison.push((row, reason)),
            Outcome::Failed(reason) => {
                blocked_keys.insert(key);
                failed_seqs.push(row.outbox_seq);
                failed_delays.push(backoff(config, row.attempts + 1).as_secs_f64());
                failed_reasons.push(reason);
            }
        }
    }
    if !published.is_empty() {
        sqlx::query("DELETE FROM outbox_pending WHERE outbox_seq = ANY($1)")
            .bind(&published)
            .execute(&mut **tx)
            .await?;
        metrics::counter!("outbox_published_total").increment(published.len() as u64);
    }
    if !failed_seqs.is_empty() {
        sqlx::query(
            "UPDATE outbox_pending p SET attempts = p.attempts + 1, \
                    next_attempt_at = now() + make_interval(secs => f.delay), last_error = f.reason \
             FROM unnest($1::bigint[], $2::float8[], $3::text[]) AS f(seq, delay, reason) \
             WHERE p.outbox_seq = f.seq",
        )
        .bind(&failed_seqs)
        .bind(&failed_delays)
        .bind(&failed_reasons)
        .execute(&mut **tx)
        .await?;
        metrics::counter!("outbox_relay_errors_total", "kind" => "publish")
            .increment(failed_seqs.len() as u64);
        tracing::warn!(failed = failed_seqs.len(), first_error = %failed_reasons[0], "outbox rows will be retried with back-off");
    }
    for (row, reason) in &poison {
        dead_letter(tx, row, reason).await?;
    }
    Ok(())
}

/// Moves a poison row out of the queue, keeping it in the log with the reason.
async fn dead_letter(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    row: &Claimed,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox_dead_letter (outbox_seq, event_id, topic, partition_key, reason, attempts) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (outbox_seq) DO NOTHING",
    )
    .bind(row.outbox_seq)
    .bind(row.event_id)
    .bind(&row.topic)
    .bind(&row.partition_key)
    .bind(reason)
    .bind(row.attempts + 1)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM outbox_pending WHERE outbox_seq = $1")
        .bind(row.outbox_seq)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE outbox_event SET dead_lettered_at = now() WHERE outbox_seq = $1")
        .bind(row.outbox_seq)
        .execute(&mut **tx)
        .await?;
    metrics::counter!("outbox_dead_letters_total").increment(1);
    tracing::error!(outbox_seq = row.outbox_seq, topic = %row.topic, %reason, "outbox row dead-lettered");
    Ok(())
}

async fn report_backlog(pool: &PgPool, schema: &str) {
    let backlog: Result<(i64, Option<f64>), _> = sqlx::query_as(
        "SELECT count(*), EXTRACT(EPOCH FROM now() - min(e.occurred_at))::float8 \
         FROM outbox_pending p JOIN outbox_event e ON e.outbox_seq = p.outbox_seq",
    )
    .fetch_one(pool)
    .await;
    if let Ok((count, oldest)) = backlog {
        metrics::gauge!("outbox_backlog", "schema" => schema.to_owned()).set(count as f64);
        metrics::gauge!("outbox_oldest_unpublished_age_seconds", "schema" => schema.to_owned())
            .set(oldest.unwrap_or(0.0));
    }
}

/// Rows pruned per statement, so pruning never holds long locks or builds a huge transaction.
const PRUNE_CHUNK: i64 = 5_000;

/// Deletes published events older than the retention, walking the log in commit order in
/// chunks; pending and dead-lettered rows stay. Stops at the first chunk that reaches rows
/// younger than the retention.
async fn prune(pool: &PgPool, retention: Duration) {
    let mut after = 0_i64;
    let mut total = 0_u64;
    loop {
        let chunk: Result<(Option<i64>, Option<bool>, i64), _> = sqlx::query_as(
            "WITH chunk AS ( \
               SELECT outbox_seq, created_at < now() - make_interval(secs => $2) AS expired \
               FROM outbox_event WHERE outbox_seq > $1 ORDER BY outbox_seq LIMIT $3), \
             gone AS ( \
               DELETE FROM outbox_event e USING chunk c \
               WHERE e.outbox_seq = c.outbox_seq AND c.expired AND e.dead_lettered_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM outbox_pending p WHERE p.outbox_seq = e.outbox_seq) \
               RETURNING 1) \
             SELECT max(outbox_seq), bool_and(expired), (SELECT count(*) FROM gone) FROM chunk",
        )
        .bind(after)
        .bind(retention.as_secs_f64())
        .bind(PRUNE_CHUNK)
        .fetch_one(pool)
        .await;
        match chunk {
            Ok((Some(last), Some(all_expired), deleted)) => {
                total += u64::try_from(deleted).unwrap_or(0);
                if !all_expired {
                    break;
                }
                after = last;
            }
            Ok(_) => break,
            Err(error) => {
                tracing::warn!(%error, "outbox pruning failed");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(rows = total, "published outbox rows pruned");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = RelayConfig::new("s", "b");
        assert_eq!(backoff(&config, 1), Duration::from_millis(200));
        assert_eq!(backoff(&config, 2), Duration::from_millis(400));
        assert_eq!(backoff(&config, 4), Duration::from_millis(1600));
        assert_eq!(backoff(&config, 40), Duration::from_secs(30));
    }

    #[test]
    fn unreadable_envelopes_are_poison() {
        let row = |event_type: Option<&str>| Claimed {
            outbox_seq: 1,
            event_id: uuid::Uuid::nil(),
            topic: "t".into(),
            partition_key: "k".into(),
            envelope: "{}".into(),
            envelope_event_id: Some("x".into()),
            envelope_event_type: event_type.map(Into::into),
            envelope_event_version: Some("1".into()),
            correlation_id: Some("c".into()),
            causation_id: None,
            traceparent: None,
            attempts: 1,
            occurred_at: Utc::now(),
        };
        assert!(headers(&row(None)).is_err());
        assert!(headers(&row(Some("t.v1"))).is_ok());
    }

    #[test]
    fn lease_outlives_the_message_timeout() {
        assert!(RelayConfig::new("s", "b").lease > MESSAGE_TIMEOUT);
    }
}
