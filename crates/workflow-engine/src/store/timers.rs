//! Due timers: created when a timer event is entered, claimed by the scheduler when due.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A claimed, due timer.
#[derive(Debug, Clone)]
pub struct TimerRow {
    /// Key.
    pub key: i64,
    /// Process instance.
    pub process_instance_key: i64,
    /// The waiting element instance.
    pub element_instance_key: i64,
    /// The timer event that fires.
    pub element_id: String,
}

/// Creates a timer.
pub async fn insert(
    conn: &mut PgConnection,
    process_instance_key: i64,
    element_instance_key: i64,
    element_id: &str,
    due_at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO timer (process_instance_key, element_instance_key, element_id, due_at)
         VALUES ($1, $2, $3, $4) RETURNING timer_key",
    )
    .bind(process_instance_key)
    .bind(element_instance_key)
    .bind(element_id)
    .bind(due_at)
    .fetch_one(conn)
    .await
}

/// Claims the oldest due timer no other transaction holds.
pub async fn claim_due(conn: &mut PgConnection) -> Result<Option<TimerRow>, sqlx::Error> {
    let row: Option<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT timer_key, process_instance_key, element_instance_key, element_id FROM timer
         WHERE due_at <= now() ORDER BY due_at, timer_key LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(key, process_instance_key, element_instance_key, element_id)| TimerRow {
            key,
            process_instance_key,
            element_instance_key,
            element_id,
        },
    ))
}

/// Removes a fired timer.
pub async fn delete(conn: &mut PgConnection, key: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM timer WHERE timer_key = $1")
        .bind(key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Milliseconds until the next timer is due (0 if overdue), if any.
pub async fn next_due_in_ms(conn: &mut PgConnection) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT GREATEST(0, (extract(epoch FROM (MIN(due_at) - now())) * 1000)::bigint) FROM timer",
    )
    .fetch_one(conn)
    .await
}
