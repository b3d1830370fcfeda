//! The relay's housekeeping: backlog gauges, the queue's vacuum and pruning of published events.
//!
//! It runs as a task of its own, never inside a cycle loop: a housekeeping statement can wait on
//! a lock (a vacuum for its truncation, a prune for a row someone holds) or take seconds over a
//! long log, and publishing must not wait with it (ADR 0020).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::RelayConfig;

/// How often the backlog gauges are refreshed and the queue's dead rows checked: counting the
/// queue costs a pass over the backlog, and Prometheus scrapes far less often than a relay
/// cycles.
const BACKLOG_REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// Reports the backlog and vacuums the queue every few seconds, and prunes every
/// `prune_interval`, until the relay stops. A stop abandons the job under way: each job is
/// safe to cut short and starts over next time. Only the vacuum itself runs on `vacuum` (the
/// owner's pool, in a service); the rest, its check included, on `pool`.
pub(super) async fn keep_house(
    pool: PgPool,
    vacuum: PgPool,
    config: Arc<RelayConfig>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut report = tokio::time::interval(BACKLOG_REPORT_INTERVAL);
    report.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut prune_due = tokio::time::interval_at(
        tokio::time::Instant::now() + config.prune_interval,
        config.prune_interval,
    );
    prune_due.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while !*stopped.borrow() {
        let job = async {
            tokio::select! {
                _ = report.tick() => {
                    report_backlog(&pool, &config.schema).await;
                    vacuum_queue_if_bloated(&pool, &vacuum).await;
                }
                _ = prune_due.tick() => prune(&pool, config.retention).await,
            }
        };
        tokio::select! {
            _ = stopped.changed() => {}
            () = job => {}
        }
    }
}

/// Publishes the backlog and the age of the oldest unpublished event as gauges.
async fn report_backlog(pool: &PgPool, schema: &str) {
    if let Ok((count, oldest)) = crate::backlog::outbox_backlog(pool).await {
        metrics::gauge!("outbox_backlog", "schema" => schema.to_owned()).set(count as f64);
        metrics::gauge!("outbox_oldest_unpublished_age_seconds", "schema" => schema.to_owned())
            .set(oldest.unwrap_or(0.0));
    }
}

/// Dead rows in the queue past which the relay vacuums it, if they also outnumber the live ones.
const QUEUE_VACUUM_DEAD_ROWS: i64 = 10_000;

/// Vacuums the queue when the relay's deletions have left more dead rows than live ones.
///
/// Every published row is a dead tuple until vacuumed, and every claim's scan in commit order
/// steps over them: with autovacuum off or behind (it was off on the machine this was measured
/// on), the claim query grew to 0.65 ms when the queue held nothing. Where autovacuum keeps up
/// this never fires. The counts are read on `pool`; the `VACUUM` runs on `vacuum`, whose role
/// must own the table: a role that may not vacuum it gets a warning from PostgreSQL and the
/// relay carries on. The queue is never truncated: that needs an exclusive lock, which every
/// command writing an event would wait behind, and waiting for it stalled a vacuum for up to
/// five seconds whenever a command was writing (ADR 0020).
async fn vacuum_queue_if_bloated(pool: &PgPool, vacuum: &PgPool) {
    let counts: Result<Option<(i64, i64)>, _> = sqlx::query_as(
        "SELECT n_dead_tup, n_live_tup FROM pg_stat_user_tables \
         WHERE relid = 'outbox_pending'::regclass",
    )
    .fetch_optional(pool)
    .await;
    let Ok(Some((dead, live))) = counts else {
        return;
    };
    if dead < QUEUE_VACUUM_DEAD_ROWS || dead < live {
        return;
    }
    match sqlx::query("VACUUM (SKIP_LOCKED, TRUNCATE false) outbox_pending")
        .execute(vacuum)
        .await
    {
        Ok(_) => tracing::debug!(dead, live, "outbox queue vacuumed"),
        Err(error) => tracing::warn!(%error, "outbox queue vacuum failed"),
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
