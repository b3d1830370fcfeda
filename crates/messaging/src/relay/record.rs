//! Recording what the broker answered, chunk by chunk, on a connection of its own.
//!
//! The recorder runs beside the claim's reader: while it awaits one chunk's acknowledgements and
//! records them, the reader reads and sends the next chunks. Each chunk's outcome commits in its
//! own short transaction, always before the claim's transaction ends, so the next holder of a
//! bucket sees every recorded outcome. Within a key, the first transient failure backs off and
//! the key's later rows in this claim stay pending untouched, even those already sent, so order
//! per key holds; poison rows are dead-lettered and hold nothing back.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::{PgConnection, Postgres, Transaction};
use tokio::sync::mpsc;

use super::RelayConfig;
use super::claim::Claimed;
use super::publish::{BlockedKeys, Outcome, SentChunk};
use super::row_id::RowId;

/// What the recorder tells the claim when it is done.
#[derive(Debug, Default)]
pub(super) struct Recorded {
    /// Rows that left the queue (acknowledged or dead-lettered).
    pub settled: usize,
    /// Whether a failure showed the producer must be replaced.
    pub producer_broken: bool,
}

/// Records every chunk it receives until the channel closes. `shared_blocked` tells the reader
/// which keys to stop sending; `published` counts acknowledged rows once their deletion commits.
pub(super) async fn record_chunks(
    connection: &mut PgConnection,
    config: &RelayConfig,
    mut chunks: mpsc::Receiver<SentChunk>,
    shared_blocked: &Mutex<BlockedKeys>,
    published: &AtomicU64,
) -> Result<Recorded, sqlx::Error> {
    let mut blocked = BlockedKeys::default();
    let mut recorded = Recorded::default();
    while let Some(chunk) = chunks.recv().await {
        let received_at = Instant::now();
        let (rows, outcomes, producer_broken) = chunk.outcomes().await;
        let answered_at = Instant::now();
        recorded.producer_broken |= producer_broken;
        let plan = plan(config, &rows, outcomes, &mut blocked);
        if !plan.failed_seqs.is_empty()
            && let Ok(mut shared) = shared_blocked.lock()
        {
            shared.extend_from(&blocked);
        }
        let mut transaction = begin_recording(connection).await?;
        apply(&mut transaction, &rows, &plan).await?;
        transaction.commit().await?;
        tracing::trace!(
            ack_wait_ms = (answered_at - received_at).as_secs_f64() * 1e3,
            record_ms = answered_at.elapsed().as_secs_f64() * 1e3,
            rows = rows.len(),
            "relay chunk recorded"
        );
        published.fetch_add(plan.published.len() as u64, Ordering::Relaxed);
        recorded.settled += plan.published.len() + plan.poison.len();
    }
    Ok(recorded)
}

/// Begins the transaction that records one chunk, configured in the same round trip: on a busy
/// machine every round trip waits for the scheduler, and the recorder's pace bounds the claim's.
///
/// An outcome lost in a crash before the WAL flush only means the row is sent again with the
/// same event id, so the commit need not wait for the flush. Sequential scans are off because the
/// planner prices a TID scan at one random page read per address: for a chunk of 2 000 addresses
/// it scanned the whole queue instead unless the table had grown past ~7 000 pages (some
/// 60 000 queued events), so in the normal, small queue every chunk's delete read every live and
/// dead row: 2–8 ms per 2 000 rows where deleting by address takes about 1 ms (ADR 0023). Every
/// statement of the recorder finds its rows by address or primary key.
async fn begin_recording(
    connection: &mut PgConnection,
) -> Result<Transaction<'_, Postgres>, sqlx::Error> {
    sqlx::Connection::begin_with(
        connection,
        "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL enable_seqscan = off",
    )
    .await
}

/// The writes one chunk's outcomes call for.
#[derive(Debug, Default)]
struct Plan {
    /// Indexes into the chunk's rows.
    published: Vec<usize>,
    failed_seqs: Vec<i64>,
    failed_delays: Vec<f64>,
    failed_reasons: Vec<String>,
    /// Indexes into the chunk's rows, with the reason.
    poison: Vec<(usize, String)>,
}

/// Decides each row's fate; rows of keys in `blocked` (a failure earlier in the claim) stay
/// pending untouched, whatever the broker said about them.
fn plan(
    config: &RelayConfig,
    rows: &[Claimed],
    outcomes: Vec<Outcome>,
    blocked: &mut BlockedKeys,
) -> Plan {
    let mut plan = Plan::default();
    let mut chunk_blocked: HashSet<(&str, &[u8])> = HashSet::new();
    for (index, (row, outcome)) in rows.iter().zip(outcomes).enumerate() {
        let key = row.key();
        if chunk_blocked.contains(&key) || (!blocked.is_empty() && blocked.contains(key.0, key.1)) {
            continue;
        }
        match outcome {
            Outcome::Published => plan.published.push(index),
            Outcome::Held => {}
            Outcome::Poison(reason) => plan.poison.push((index, reason)),
            Outcome::Failed(reason) => {
                chunk_blocked.insert(key);
                plan.failed_seqs.push(row.outbox_seq);
                plan.failed_delays
                    .push(backoff(config, row.attempts + 1).as_secs_f64());
                plan.failed_reasons.push(reason);
            }
        }
    }
    for (topic, key) in chunk_blocked {
        blocked.insert(topic, key);
    }
    plan
}

/// The delay before the `attempts`-th retry: doubling from the base, capped.
pub(super) fn backoff(config: &RelayConfig, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    config
        .base_backoff
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(config.max_backoff)
}

async fn apply(
    transaction: &mut Transaction<'_, Postgres>,
    rows: &[Claimed],
    plan: &Plan,
) -> Result<(), sqlx::Error> {
    if !plan.published.is_empty() {
        // By address, not by key: a TID scan skips a primary-key lookup per row (ADR 0018).
        let row_ids: Vec<RowId> = plan
            .published
            .iter()
            .filter_map(|&index| rows.get(index).map(|row| row.row_id))
            .collect();
        sqlx::query("DELETE FROM outbox_pending WHERE ctid = ANY($1)")
            .bind(&row_ids)
            .execute(&mut **transaction)
            .await?;
        metrics::counter!("outbox_published_total").increment(plan.published.len() as u64);
    }
    if !plan.failed_seqs.is_empty() {
        sqlx::query(
            "UPDATE outbox_pending p SET attempts = p.attempts + 1, \
                    next_attempt_at = now() + make_interval(secs => f.delay), last_error = f.reason \
             FROM unnest($1::bigint[], $2::float8[], $3::text[]) AS f(seq, delay, reason) \
             WHERE p.outbox_seq = f.seq",
        )
        .bind(&plan.failed_seqs)
        .bind(&plan.failed_delays)
        .bind(&plan.failed_reasons)
        .execute(&mut **transaction)
        .await?;
        metrics::counter!("outbox_relay_errors_total", "kind" => "publish")
            .increment(plan.failed_seqs.len() as u64);
        tracing::warn!(failed = plan.failed_seqs.len(), first_error = %plan.failed_reasons[0], "outbox rows will be retried with back-off");
    }
    for (index, reason) in &plan.poison {
        if let Some(row) = rows.get(*index) {
            dead_letter(transaction, row, reason).await?;
        }
    }
    Ok(())
}

/// Moves a poison row out of the queue, keeping it in the log with the reason. The dead letter
/// takes the event's id, topic and key from the log, which has them even when the queue row's
/// headers could not be read.
async fn dead_letter(
    transaction: &mut Transaction<'_, Postgres>,
    row: &Claimed,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox_dead_letter (outbox_seq, event_id, topic, partition_key, reason, attempts) \
         SELECT outbox_seq, event_id, topic, partition_key, $2, $3 FROM outbox_event WHERE outbox_seq = $1 \
         ON CONFLICT (outbox_seq) DO NOTHING",
    )
    .bind(row.outbox_seq)
    .bind(reason)
    .bind(row.attempts + 1)
    .execute(&mut **transaction)
    .await?;
    sqlx::query("DELETE FROM outbox_pending WHERE outbox_seq = $1")
        .bind(row.outbox_seq)
        .execute(&mut **transaction)
        .await?;
    sqlx::query("UPDATE outbox_event SET dead_lettered_at = now() WHERE outbox_seq = $1")
        .bind(row.outbox_seq)
        .execute(&mut **transaction)
        .await?;
    metrics::counter!("outbox_dead_letters_total").increment(1);
    tracing::error!(outbox_seq = row.outbox_seq, topic = row.topic(), %reason, "outbox row dead-lettered");
    Ok(())
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

    fn row(seq: i64, key: &str) -> Claimed {
        Claimed::for_test(seq, key, true)
    }

    fn seqs(rows: &[Claimed], indexes: &[usize]) -> Vec<i64> {
        indexes
            .iter()
            .map(|&index| rows[index].outbox_seq)
            .collect()
    }

    #[test]
    fn a_failure_holds_back_its_key_for_the_rest_of_the_claim_and_nothing_else() {
        let config = RelayConfig::new("s", "b");
        let mut blocked = BlockedKeys::default();
        let first = [row(1, "a"), row(2, "b"), row(3, "a"), row(4, "c")];
        let plan_one = plan(
            &config,
            &first,
            vec![
                Outcome::Failed("timed out".into()),
                Outcome::Published,
                Outcome::Published,
                Outcome::Poison("too large".into()),
            ],
            &mut blocked,
        );
        assert_eq!(plan_one.failed_seqs, [1]);
        assert_eq!(
            seqs(&first, &plan_one.published),
            [2],
            "row 3 of key a waits behind row 1"
        );
        assert_eq!(plan_one.poison.len(), 1);
        // A later chunk of the same claim: key a stays held even though the broker took it.
        let second = [row(5, "a"), row(6, "b")];
        let plan_two = plan(
            &config,
            &second,
            vec![Outcome::Published, Outcome::Published],
            &mut blocked,
        );
        assert_eq!(seqs(&second, &plan_two.published), [6]);
        assert!(plan_two.failed_seqs.is_empty());
    }
}

/// The recorder's statements against a real queue.
#[cfg(test)]
mod database_tests {
    use std::path::Path;
    use std::str::FromStr;

    use common_kernel::context::{ActorType, RequestContext};
    use common_kernel::ids::{ActorId, TenantId};
    use common_kernel::outbox::{self, NewEvent};
    use sqlx::PgPool;
    use sqlx::postgres::PgConnectOptions;
    use test_support::TestDatabase;

    use super::*;
    use crate::relay::claim;

    /// A pool on a fresh database with the catalog schema, which carries the outbox tables.
    async fn catalog_database() -> (TestDatabase, PgPool) {
        fn connect_options(url: &str) -> PgConnectOptions {
            PgConnectOptions::from_str(url)
                .unwrap()
                .options([("search_path", catalog::SCHEMA)])
        }
        let platform = Path::new(crate::schema::MIGRATIONS_DIR);
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/catalog");
        let dirs = [platform, &migrations];
        let database = TestDatabase::from_template_of("catalog", &dirs, |url| async move {
            let pool = PgPool::connect_with(connect_options(&url)).await.unwrap();
            crate::schema::migrate(&pool, catalog::SCHEMA, &catalog::MIGRATOR)
                .await
                .unwrap();
            pool.close().await;
        })
        .await;
        let pool = PgPool::connect_with(connect_options(&database.url))
            .await
            .unwrap();
        (database, pool)
    }

    async fn queue_events(pool: &PgPool, count: usize) {
        let ctx = RequestContext {
            correlation_id: "record-test".into(),
            business_transaction_id: "record-test".into(),
            ..RequestContext::system(
                TenantId::parse("acme").unwrap(),
                ActorId::parse("record-test").unwrap(),
                ActorType::InternalService,
                "TEST",
                common_kernel::access::Authority::default(),
            )
        };
        let mut transaction = pool.begin().await.unwrap();
        for n in 0..count {
            let key = format!("thing-{}", n % 50);
            let event = NewEvent {
                event_type: "test.thing.changed.v1",
                event_version: 1,
                topic: "test.record.v1",
                aggregate_type: "Thing",
                aggregate_id: key.clone(),
                aggregate_version: i64::try_from(n + 1).unwrap(),
                partition_key: key,
                payload: serde_json::json!({"n": n, "padding": "x".repeat(600)}),
            };
            outbox::append(&mut transaction, &ctx, event).await.unwrap();
        }
        transaction.commit().await.unwrap();
    }

    /// A queue small enough that a sequential scan looks cheaper to the planner than 2 000
    /// address lookups, which is every queue that keeps up.
    #[tokio::test]
    async fn recording_a_chunk_deletes_its_rows_by_address_without_scanning_the_queue() {
        let (_database, pool) = catalog_database().await;
        queue_events(&pool, 3_000).await;
        sqlx::query("ANALYZE outbox_pending")
            .execute(&pool)
            .await
            .unwrap();
        let config = RelayConfig::new(catalog::SCHEMA, "unused:9092");
        let mut claim = claim::open(&pool, &config)
            .await
            .unwrap()
            .expect("rows to claim");
        let rows = claim.read_after(0, 2_000).await.unwrap();
        assert_eq!(rows.len(), 2_000);
        let chunk = Plan {
            published: (0..rows.len()).collect(),
            ..Plan::default()
        };

        let mut connection = pool.acquire().await.unwrap();
        let mut transaction = begin_recording(&mut connection).await.unwrap();
        apply(&mut transaction, &rows, &chunk).await.unwrap();
        let sequential_scans: i64 =
            sqlx::query_scalar("SELECT pg_stat_get_xact_numscans('outbox_pending'::regclass)")
                .fetch_one(&mut *transaction)
                .await
                .unwrap();
        transaction.commit().await.unwrap();
        claim.transaction.commit().await.unwrap();

        assert_eq!(sequential_scans, 0, "the delete scanned the whole queue");
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_pending")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(left, 1_000, "exactly the chunk's rows left the queue");
    }
}
