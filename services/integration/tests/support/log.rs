//! Reads both test binaries share: what the call log and the outbox hold for one key.

use integration::domain::IdempotencyKey;
use sqlx::PgPool;

/// The call log of `key`, oldest first: (kind, class or finding, failure code).
pub async fn calls(pool: &PgPool, key: &IdempotencyKey) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT kind, coalesce(classification, reconciliation), failure_code FROM external_call \
          WHERE idempotency_key = $1 ORDER BY started_at, recorded_at",
    )
    .bind(key.as_str())
    .fetch_all(pool)
    .await
    .expect("call log")
}

/// Event types the operation of `key` wrote to the outbox, in order.
pub async fn events(pool: &PgPool, key: &IdempotencyKey) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT event_type FROM outbox_event WHERE envelope -> 'payload' ->> 'idempotencyKey' = $1 \
          ORDER BY outbox_seq",
    )
    .bind(key.as_str())
    .fetch_all(pool)
    .await
    .expect("outbox")
}
