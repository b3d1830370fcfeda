//! How far a schema's relay is behind: the queue's length and the age of its oldest event.

use sqlx::PgPool;

/// The outbox queue's length and the age in seconds of its oldest event (`None` when empty).
///
/// Read from the queue alone: its rows carry `occurred_at` (ADR 0018), so this costs one pass
/// over the backlog and never touches the log, which grows with the retention period. Only rows
/// queued before the queue carried messages look their time up in the log.
pub(crate) async fn outbox_backlog(pool: &PgPool) -> Result<(i64, Option<f64>), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), EXTRACT(EPOCH FROM now() - min(coalesce(p.occurred_at, \
                  (SELECT e.occurred_at FROM outbox_event e WHERE e.outbox_seq = p.outbox_seq))))::float8 \
         FROM outbox_pending p",
    )
    .fetch_one(pool)
    .await
}
