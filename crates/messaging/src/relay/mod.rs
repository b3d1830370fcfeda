//! The outbox relay: publishes committed outbox rows to Kafka, at least once, in order per key.
//!
//! A relay works in claims (ADR 0012, ADR 0018). A claim is one transaction that locks the key
//! buckets of the oldest pending rows (`FOR UPDATE SKIP LOCKED`) and so holds those keys alone
//! until it ends. Inside it the relay streams the buckets' pending rows through a pipeline: the
//! reader reads a chunk in commit order and hands it to the idempotent producer on a blocking
//! thread while it reads the next one, and the recorder, on a second connection, awaits each
//! chunk's acknowledgements and records them in a short transaction of its own: a row leaves the
//! queue only after the broker acknowledged it; a transient failure backs off exponentially and
//! holds back the later rows of the same key only; a poison row (unreadable, or rejected by the
//! broker) is dead-lettered and never blocks the rows behind it. The claim commits only after
//! everything it sent is recorded. Relays are woken by `LISTEN/NOTIFY` and poll as a fallback.
//! Several relays on one schema never hold the same bucket, so in the normal path no row is
//! published twice; after a crash a row may be sent again with the same event id, which consumers'
//! inboxes absorb.

mod acks;
mod claim;
mod headers;
mod housekeeping;
mod publish;
mod record;
mod row_id;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::error::KafkaError;
use rdkafka::producer::Producer;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::producer::MESSAGE_TIMEOUT;
use acks::{RelayProducer, relay_producer};
use publish::BlockedKeys;
use record::Recorded;

/// Relay tuning; the defaults suit a service-embedded relay.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Schema whose `outbox_event` table is relayed (also names the NOTIFY channel).
    pub schema: String,
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Rows read and handed to the producer per step of a claim (a chunk); also how many of
    /// the oldest pending rows decide which buckets a claim takes.
    pub batch_size: i64,
    /// Most rows one claim streams before it commits and lets other relays at its buckets.
    pub max_claim_rows: usize,
    /// Longest a claim keeps reading, for the same reason.
    pub max_claim_duration: Duration,
    /// Chunks sent but not yet recorded, per claim: how far the reader may run ahead of the
    /// acknowledgements.
    pub chunks_in_flight: usize,
    /// How long a claim may sit idle before PostgreSQL ends it (a hung relay); longer than the
    /// producer's message timeout, so waiting for acknowledgements never ends a claim.
    pub lease: Duration,
    /// Poll interval when no notification arrives.
    pub poll_interval: Duration,
    /// First retry delay after a failure (doubles per attempt).
    pub base_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// How long published rows are kept before pruning.
    pub retention: Duration,
    /// How often published rows past the retention are pruned.
    pub prune_interval: Duration,
    /// Claims running at once, each with its own producer and connections, on disjoint key
    /// buckets.
    pub workers: usize,
    /// Most key buckets one claim takes, so that concurrent claims find work when events
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
            max_claim_rows: 50_000,
            max_claim_duration: Duration::from_secs(1),
            chunks_in_flight: 3,
            lease: MESSAGE_TIMEOUT + Duration::from_secs(10),
            poll_interval: Duration::from_millis(500),
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            retention: Duration::from_secs(72 * 3600),
            prune_interval: Duration::from_secs(600),
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
    published: Arc<AtomicU64>,
}

impl RelayHandle {
    /// Rows this relay has published and removed from the queue since it started: progress an
    /// embedding process can watch without querying the queue.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Stops after the current cycles, flushes the producers and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts a relay on the service's pool: `workers` cycle loops, one listener that wakes them
/// when a transaction that wrote events commits, and one housekeeping task beside them, all on
/// `pool`. For a pool whose role may not vacuum the queue, see [`spawn_with_vacuum_pool`].
pub fn spawn(pool: PgPool, config: RelayConfig) -> Result<RelayHandle, RelayError> {
    spawn_with_vacuum_pool(pool.clone(), pool, config)
}

/// [`spawn`] on the jobs role's `pool`, with the queue's vacuum on `vacuum`, the schema owner's.
///
/// `VACUUM` needs the table's owner (PostgreSQL 15 has no grantable MAINTAIN privilege), and
/// the jobs role owns nothing, so that one statement runs on the owner's pool; everything else
/// the relay does is granted to the jobs role (ADR 0030). The vacuum cannot move into a
/// `SECURITY DEFINER` function either: it may not run inside one.
pub fn spawn_with_vacuum_pool(
    pool: PgPool,
    vacuum: PgPool,
    config: RelayConfig,
) -> Result<RelayHandle, RelayError> {
    let workers = config.workers.max(1);
    let mut producers = Vec::with_capacity(workers);
    for _ in 0..workers {
        producers.push(Arc::new(relay_producer(&config.brokers)?));
    }
    let (stop, stopped) = watch::channel(false);
    let (wake, woken) = watch::channel(0_u64);
    let config = Arc::new(config);
    let published = Arc::new(AtomicU64::new(0));
    let mut tasks = vec![
        tokio::spawn(listen_for_commits(
            pool.clone(),
            format!("{}_outbox", config.schema),
            config.poll_interval,
            wake,
            stopped.clone(),
        )),
        tokio::spawn(housekeeping::keep_house(
            pool.clone(),
            vacuum,
            config.clone(),
            stopped.clone(),
        )),
    ];
    for (index, producer) in producers.into_iter().enumerate() {
        tasks.push(tokio::spawn(work(
            Worker {
                index,
                pool: pool.clone(),
                config: config.clone(),
                published: published.clone(),
            },
            producer,
            woken.clone(),
            stopped.clone(),
        )));
    }
    tracing::info!(schema = %config.schema, brokers = %config.brokers, workers, "outbox relay started");
    Ok(RelayHandle {
        stop,
        tasks,
        published,
    })
}

/// What one claim loop needs.
struct Worker {
    index: usize,
    pool: PgPool,
    config: Arc<RelayConfig>,
    published: Arc<AtomicU64>,
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
    mut producer: Arc<RelayProducer>,
    mut woken: watch::Receiver<u64>,
    mut stopped: watch::Receiver<bool>,
) {
    let Worker {
        index,
        pool,
        config,
        published,
    } = worker;
    while !*stopped.borrow() {
        woken.borrow_and_update();
        let (worked, producer_broken) = match drain_claim(&pool, &producer, &config, &published)
            .await
        {
            Ok(recorded) => (recorded.settled > 0, recorded.producer_broken),
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
            match relay_producer(&config.brokers) {
                Ok(fresh) => producer = Arc::new(fresh),
                Err(error) => {
                    tracing::error!(%error, "cannot replace the producer; retrying next cycle")
                }
            }
        }
        if worked {
            continue;
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

/// One claim: locks buckets, streams their pending rows through the producer chunk by chunk
/// while the recorder records the acknowledgements on a second connection, and commits once
/// every sent chunk is recorded (so the next holder of a bucket sees every outcome).
///
/// The recorder runs as a task of its own. Joined into the reader's task it could only move
/// while the reader waited: each of its round trips sat unanswered behind the reader's
/// synchronous hand-over of a chunk to the producer, a chunk's record took 5–16 ms instead of
/// under 2, and the reader stalled on the full channel behind it (ADR 0024).
async fn drain_claim(
    pool: &PgPool,
    producer: &Arc<RelayProducer>,
    config: &Arc<RelayConfig>,
    published: &Arc<AtomicU64>,
) -> Result<Recorded, sqlx::Error> {
    let started = Instant::now();
    let Some(mut claim) = claim::open(pool, config).await? else {
        return Ok(Recorded::default());
    };
    let mut recorder_connection = pool.acquire().await?;
    let (chunks, received) = mpsc::channel(config.chunks_in_flight.max(1));
    let blocked = Arc::new(Mutex::new(BlockedKeys::default()));
    let recorder = tokio::spawn({
        let (config, blocked, published) = (config.clone(), blocked.clone(), published.clone());
        async move {
            record::record_chunks(
                &mut recorder_connection,
                &config,
                received,
                &blocked,
                &published,
            )
            .await
        }
    });
    let read = stream_claim(&mut claim, producer, config, &chunks, &blocked, started).await;
    // The recorder ends once the channel closes and it has recorded every chunk sent.
    drop(chunks);
    let recorded = match recorder.await {
        Ok(recorded) => recorded?,
        Err(join_error) if join_error.is_panic() => {
            std::panic::resume_unwind(join_error.into_panic())
        }
        Err(_) => return Err(sqlx::Error::WorkerCrashed),
    };
    let read = read?;
    let buckets = claim.buckets.len();
    claim.transaction.commit().await?;
    tracing::debug!(
        rows = read,
        settled = recorded.settled,
        buckets,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "relay claim"
    );
    Ok(recorded)
}

/// Reads the claim's rows chunk by chunk, in commit order, and hands each chunk to the producer
/// and then to the recorder; returns how many rows it read.
///
/// A chunk is handed to the producer on a blocking thread while this task reads the next one.
/// Handed over from this task, the synchronous enqueue (2–8 ms per 2 000 rows) left the next
/// read's result unread in the socket: PostgreSQL stalled once the socket buffer was full, and
/// most of the read waited until the enqueue was over (ADR 0025). Chunks are still handed over
/// one after another, in commit order.
async fn stream_claim(
    claim: &mut claim::Claim,
    producer: &Arc<RelayProducer>,
    config: &RelayConfig,
    chunks: &mpsc::Sender<publish::SentChunk>,
    blocked: &Mutex<BlockedKeys>,
    started: Instant,
) -> Result<usize, sqlx::Error> {
    let mut read = 0_usize;
    let mut rows = claim.read_after(0, config.batch_size).await?;
    loop {
        let Some(last) = rows.last() else {
            return Ok(read);
        };
        let after_seq = last.outbox_seq;
        read += rows.len();
        let last_chunk = i64::try_from(rows.len()).unwrap_or(i64::MAX) < config.batch_size
            || read >= config.max_claim_rows
            || started.elapsed() >= config.max_claim_duration;
        let held = match blocked.lock() {
            Ok(keys) if !keys.is_empty() => keys.clone(),
            _ => BlockedKeys::default(),
        };
        if last_chunk {
            // A closed channel means the recorder stopped on an error it reports itself.
            let _ = chunks.send(publish::send(producer, rows, &held)).await;
            return Ok(read);
        }
        let hand_over = tokio::task::spawn_blocking({
            let (producer, chunks) = (producer.clone(), chunks.clone());
            move || hand_over(&producer, rows, &held, &chunks)
        });
        let (next, handed_over) =
            tokio::join!(claim.read_after(after_seq, config.batch_size), hand_over);
        let read_at = Instant::now();
        let handed_over = match handed_over {
            Ok(handed_over) => handed_over,
            Err(join_error) if join_error.is_panic() => {
                std::panic::resume_unwind(join_error.into_panic())
            }
            Err(_) => return Err(sqlx::Error::WorkerCrashed),
        };
        // Where a chunk's time goes, for finding the pipeline's bottleneck (ADR 0024, 0025).
        tracing::trace!(
            enqueue_ms = (handed_over.enqueued_at - handed_over.started_at).as_secs_f64() * 1e3,
            channel_wait_ms =
                (handed_over.handed_over_at - handed_over.enqueued_at).as_secs_f64() * 1e3,
            read_wait_ms = read_at
                .saturating_duration_since(handed_over.handed_over_at)
                .as_secs_f64()
                * 1e3,
            "relay chunk handed over"
        );
        if !handed_over.accepted {
            return Ok(read);
        }
        rows = next?;
    }
}

/// When one chunk's hand-over began and ended, and whether the recorder took it.
struct HandedOver {
    started_at: Instant,
    enqueued_at: Instant,
    handed_over_at: Instant,
    /// `false` when the recorder had stopped (on an error it reports itself).
    accepted: bool,
}

/// Enqueues a chunk and passes it to the recorder, waiting for room in the channel; runs on a
/// blocking thread.
fn hand_over(
    producer: &RelayProducer,
    rows: Vec<claim::Claimed>,
    held: &BlockedKeys,
    chunks: &mpsc::Sender<publish::SentChunk>,
) -> HandedOver {
    let started_at = Instant::now();
    let sent = publish::send(producer, rows, held);
    let enqueued_at = Instant::now();
    let accepted = chunks.blocking_send(sent).is_ok();
    HandedOver {
        started_at,
        enqueued_at,
        handed_over_at: Instant::now(),
        accepted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_outlives_the_message_timeout() {
        assert!(RelayConfig::new("s", "b").lease > MESSAGE_TIMEOUT);
    }
}
