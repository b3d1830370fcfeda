//! The rebuild (ADR 0046): replay every topic the views read from its first retained offset into
//! the next generation, then swap it in. The replay reads outside any consumer group (assigned
//! partitions, nothing committed) up to the high watermarks taken at the start; the swap takes
//! the swap lock exclusively (live batches wait), reads up to the watermarks of that moment, makes
//! the new generation current and ends the run in one transaction. The live projector then goes
//! on in the new generation: what it already applied is in its inbox and in the new rows; what it
//! has not read yet it applies again, idempotently. The replaced generation's rows go last.

use std::collections::HashMap;
use std::time::Duration;

use messaging::consumer::{HandlerError, IncomingEvent, fetch_watermarks_at_once, parse};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};
use sqlx::PgPool;
use uuid::Uuid;

use super::projector::{SWAP_LOCK, TOPICS, apply_all};

/// The session lock a running rebuild holds: a RUNNING run whose lock nobody holds was left by
/// a process that stopped.
const RUN_LOCK: i64 = 0x6f70_735f_7275_6e00;
/// A run younger than this may not have taken its lock yet.
const ORPHAN_AFTER_SECONDS: f64 = 10.0;

/// Events applied per replay transaction.
const BATCH: usize = 500;
/// How long one broker call may take.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);
/// A replay that sees no message for this long while positions are short of their targets
/// has lost the broker.
const STALL: Duration = Duration::from_secs(30);

/// The tables of a generation, emptied before a run and after a swap.
const TABLES: &[&str] = &[
    "projected_event",
    "order_view",
    "order_progress",
    "quote_view",
    "approval_view",
    "fallout_view",
    "asset_view",
];

/// Why a rebuild failed (the run is marked FAILED with it; the live generation stays).
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// The broker failed.
    #[error("the broker: {0}")]
    Broker(#[from] KafkaError),
    /// The database failed.
    #[error("the database: {0}")]
    Database(#[from] sqlx::Error),
    /// An event could not be projected.
    #[error("an event: {0}")]
    Event(String),
    /// The replay stopped receiving before reaching its targets.
    #[error("the replay stalled at {0:?}")]
    Stalled(Vec<(String, i32, i64, i64)>),
}

impl From<HandlerError> for RebuildError {
    fn from(error: HandlerError) -> Self {
        Self::Event(error.to_string())
    }
}

type Targets = HashMap<(String, i32), i64>;

/// Marks FAILED every RUNNING run whose process stopped (nobody holds the run lock); called at
/// start-up and before a new run is recorded, so a crash never blocks rebuilds for good.
pub async fn fail_orphans(jobs_db: &PgPool) -> Result<u64, sqlx::Error> {
    let mut conn = jobs_db.acquire().await?;
    let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(RUN_LOCK)
        .fetch_one(&mut *conn)
        .await?;
    if !free {
        return Ok(0);
    }
    let failed = sqlx::query(
        "UPDATE projection_rebuild SET status = 'FAILED', finished_at = now(),          failure = 'the ops process running it stopped before the swap; the live views stayed'          WHERE status = 'RUNNING' AND started_at < now() - make_interval(secs => $1)",
    )
    .bind(ORPHAN_AFTER_SECONDS)
    .execute(&mut *conn)
    .await
    .map(|done| done.rows_affected());
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(RUN_LOCK)
        .execute(&mut *conn)
        .await?;
    let failed = failed?;
    if failed > 0 {
        tracing::warn!(
            failed,
            "rebuilds left RUNNING by a stopped process marked FAILED"
        );
    }
    Ok(failed)
}

/// Runs rebuild `rebuild_id` into `generation` to its end, recording the outcome on the run.
pub async fn run(jobs_db: PgPool, brokers: String, rebuild_id: Uuid, generation: i32) {
    // The run lock, held for the run's life on a connection of its own.
    let mut holder = match jobs_db.acquire().await {
        Ok(conn) => conn,
        Err(error) => {
            record_failure(&jobs_db, rebuild_id, &error.to_string()).await;
            return;
        }
    };
    if let Err(error) = sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(RUN_LOCK)
        .execute(&mut *holder)
        .await
    {
        record_failure(&jobs_db, rebuild_id, &error.to_string()).await;
        return;
    }
    let outcome = replay_and_swap(&jobs_db, &brokers, rebuild_id, generation).await;
    match outcome {
        Ok(replayed) => {
            tracing::info!(%rebuild_id, generation, replayed, "projections rebuilt and swapped in");
            metrics::counter!("ops_projection_rebuilds_total", "outcome" => "swapped").increment(1);
            if let Err(error) = drop_older(&jobs_db, generation).await {
                tracing::warn!(%error, generation, "the replaced generation's rows remain");
            }
        }
        Err(error) => {
            tracing::error!(%rebuild_id, generation, %error, "projection rebuild failed; the live views stay");
            metrics::counter!("ops_projection_rebuilds_total", "outcome" => "failed").increment(1);
            record_failure(&jobs_db, rebuild_id, &error.to_string()).await;
            let _ = clear(&jobs_db, generation).await;
        }
    }
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(RUN_LOCK)
        .execute(&mut *holder)
        .await;
    if unlocked.is_err() {
        // A connection that may still hold the lock must not go back to the pool.
        drop(holder.detach());
    }
}

async fn record_failure(jobs_db: &PgPool, rebuild_id: Uuid, failure: &str) {
    let recorded = sqlx::query(
        "UPDATE projection_rebuild SET status = 'FAILED', failure = $2, finished_at = now() \
         WHERE rebuild_id = $1 AND status = 'RUNNING'",
    )
    .bind(rebuild_id)
    .bind(failure)
    .execute(jobs_db)
    .await;
    if let Err(error) = recorded {
        tracing::error!(%rebuild_id, %error, "the failed rebuild could not be recorded");
    }
}

async fn replay_and_swap(
    jobs_db: &PgPool,
    brokers: &str,
    rebuild_id: Uuid,
    generation: i32,
) -> Result<u64, RebuildError> {
    let began = std::time::Instant::now();
    clear(jobs_db, generation).await?;
    let consumer = assigned_from_beginning(brokers, rebuild_id)?;
    let mut next: Targets = HashMap::new();
    let first = watermarks(&consumer, &mut next)?;
    tracing::info!(%rebuild_id, elapsed_ms = began.elapsed().as_millis() as u64, "rebuild: partitions assigned, targets taken");
    let mut replayed = replay_until(jobs_db, &consumer, generation, &mut next, &first).await?;
    tracing::info!(%rebuild_id, replayed, elapsed_ms = began.elapsed().as_millis() as u64, "rebuild: replayed to the first targets");
    let mut swap = jobs_db.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SWAP_LOCK)
        .execute(&mut *swap)
        .await?;
    let last = watermarks(&consumer, &mut next)?;
    replayed += replay_until(jobs_db, &consumer, generation, &mut next, &last).await?;
    sqlx::query("UPDATE projection_state SET generation = $1, swapped_at = now()")
        .bind(generation)
        .execute(&mut *swap)
        .await?;
    sqlx::query(
        "UPDATE projection_rebuild SET status = 'SWAPPED', events_replayed = $2, finished_at = now() \
         WHERE rebuild_id = $1",
    )
    .bind(rebuild_id)
    .bind(i64::try_from(replayed).unwrap_or(i64::MAX))
    .execute(&mut *swap)
    .await?;
    swap.commit().await?;
    Ok(replayed)
}

fn assigned_from_beginning(brokers: &str, rebuild_id: Uuid) -> Result<StreamConsumer, KafkaError> {
    let consumer: StreamConsumer = messaging::kafka_log::client_config(brokers)
        .set("group.id", format!("ops.projections.rebuild.{rebuild_id}"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for topic in TOPICS {
        let metadata = consumer.fetch_metadata(Some(topic), BROKER_TIMEOUT)?;
        for found in metadata.topics() {
            for partition in found.partitions() {
                assignment.add_partition_offset(found.name(), partition.id(), Offset::Beginning)?;
            }
        }
    }
    consumer.assign(&assignment)?;
    Ok(consumer)
}

/// Each assigned partition's high watermark; a partition not yet read starts at its low one.
/// The partitions are asked at once: a watermark query is a broker round trip that librdkafka
/// answers in up to half a second, and there are 27 partitions.
fn watermarks(consumer: &StreamConsumer, next: &mut Targets) -> Result<Targets, KafkaError> {
    let assignment = consumer.assignment()?;
    let partitions: Vec<(String, i32)> = assignment
        .elements()
        .iter()
        .map(|e| (e.topic().to_owned(), e.partition()))
        .collect();
    let answers = fetch_watermarks_at_once(consumer, &partitions, BROKER_TIMEOUT);
    let mut targets = HashMap::new();
    for ((topic, partition), answer) in partitions.into_iter().zip(answers) {
        let (low, high) = answer?;
        let key = (topic, partition);
        next.entry(key.clone()).or_insert(low);
        targets.insert(key, high);
    }
    Ok(targets)
}

fn short_of(next: &Targets, targets: &Targets) -> Vec<(String, i32, i64, i64)> {
    targets
        .iter()
        .filter_map(|((topic, partition), target)| {
            let at = next.get(&(topic.clone(), *partition)).copied().unwrap_or(0);
            (at < *target).then(|| (topic.clone(), *partition, at, *target))
        })
        .collect()
}

async fn replay_until(
    jobs_db: &PgPool,
    consumer: &StreamConsumer,
    generation: i32,
    next: &mut Targets,
    targets: &Targets,
) -> Result<u64, RebuildError> {
    let mut replayed = 0;
    let mut batch: Vec<IncomingEvent> = Vec::with_capacity(BATCH);
    while !short_of(next, targets).is_empty() {
        let received = tokio::time::timeout(STALL, consumer.recv()).await;
        let message = match received {
            Ok(Ok(message)) => message,
            Ok(Err(error)) => return Err(error.into()),
            Err(_) => return Err(RebuildError::Stalled(short_of(next, targets))),
        };
        let key = (message.topic().to_owned(), message.partition());
        next.insert(key, message.offset() + 1);
        match parse(&message) {
            Ok(event) => batch.push(event),
            Err(reason) => tracing::warn!(
                topic = message.topic(), partition = message.partition(), offset = message.offset(),
                %reason, "an unreadable message is not projected (the live consumer dead-letters it)"
            ),
        }
        if batch.len() >= BATCH || short_of(next, targets).is_empty() {
            replayed += apply(jobs_db, generation, &mut batch).await?;
        }
    }
    replayed += apply(jobs_db, generation, &mut batch).await?;
    Ok(replayed)
}

async fn apply(
    jobs_db: &PgPool,
    generation: i32,
    batch: &mut Vec<IncomingEvent>,
) -> Result<u64, RebuildError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let mut tx = jobs_db.begin().await?;
    apply_all(&mut tx, generation, batch).await?;
    tx.commit().await?;
    let applied = batch.len() as u64;
    batch.clear();
    Ok(applied)
}

/// Deletes generation `generation`'s rows (`older`: every generation before it).
async fn delete_rows(jobs_db: &PgPool, generation: i32, older: bool) -> Result<(), sqlx::Error> {
    let which = if older { "<" } else { "=" };
    for table in TABLES {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE generation {which} $1"
        )))
        .bind(generation)
        .execute(jobs_db)
        .await?;
    }
    Ok(())
}

async fn clear(jobs_db: &PgPool, generation: i32) -> Result<(), sqlx::Error> {
    delete_rows(jobs_db, generation, false).await
}

async fn drop_older(jobs_db: &PgPool, generation: i32) -> Result<(), sqlx::Error> {
    delete_rows(jobs_db, generation, true).await
}

/// Ends a run that cannot start: the service reads no broker.
pub async fn fail_without_broker(jobs_db: &PgPool, rebuild_id: Uuid) {
    let recorded = sqlx::query(
        "UPDATE projection_rebuild SET status = 'FAILED', finished_at = now(), \
         failure = 'no broker is configured (KAFKA_BROKERS): there is no event log to replay' \
         WHERE rebuild_id = $1 AND status = 'RUNNING'",
    )
    .bind(rebuild_id)
    .execute(jobs_db)
    .await;
    if let Err(error) = recorded {
        tracing::error!(%rebuild_id, %error, "the failed rebuild could not be recorded");
    }
}
