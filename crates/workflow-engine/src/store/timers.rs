//! Timers: a row per waiting timer event, created when the token enters, claimed by the
//! scheduler once due, deleted when it fires or its element instance is left.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A timer waiting on behalf of an element instance.
#[derive(Debug, Clone)]
pub struct TimerRow {
    /// Key.
    pub key: i64,
    /// Process instance.
    pub process_instance_key: i64,
    /// The waiting element instance (the catch event, or the task a boundary is attached to).
    pub element_instance_key: i64,
    /// The timer event that fires.
    pub element_id: String,
    /// When it is due.
    pub due_at: DateTime<Utc>,
}

type Tuple = (i64, i64, i64, String, DateTime<Utc>);

fn from_tuple(
    (key, process_instance_key, element_instance_key, element_id, due_at): Tuple,
) -> TimerRow {
    TimerRow {
        key,
        process_instance_key,
        element_instance_key,
        element_id,
        due_at,
    }
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

/// Up to `limit` due timers, oldest first, without locking them: the scheduler locks each
/// timer's instance first and claims the timer afterwards, in the order every command locks
/// (instance, then its rows), so firing a timer never deadlocks with a command.
pub async fn due(
    conn: &mut PgConnection,
    limit: i64,
    skip: &[i64],
) -> Result<Vec<TimerRow>, sqlx::Error> {
    let rows: Vec<Tuple> = sqlx::query_as(
        "SELECT timer_key, process_instance_key, element_instance_key, element_id, due_at
         FROM timer WHERE due_at <= now() AND timer_key <> ALL($2)
         ORDER BY due_at, timer_key LIMIT $1",
    )
    .bind(limit)
    .bind(skip)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(from_tuple).collect())
}

/// Claims a due timer under its (already locked) instance; `None` when another scheduler holds
/// it or it is gone (fired, or its element was left meanwhile).
pub async fn claim(conn: &mut PgConnection, key: i64) -> Result<Option<TimerRow>, sqlx::Error> {
    let row: Option<Tuple> = sqlx::query_as(
        "SELECT timer_key, process_instance_key, element_instance_key, element_id, due_at
         FROM timer WHERE timer_key = $1 AND due_at <= now() FOR UPDATE SKIP LOCKED",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(from_tuple))
}

/// Removes a fired timer.
pub async fn delete(conn: &mut PgConnection, key: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM timer WHERE timer_key = $1")
        .bind(key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Milliseconds until the next timer is due (0 if overdue), rounded up so the scheduler never
/// wakes a fraction of a millisecond early and finds nothing due.
pub async fn next_due_in_ms(conn: &mut PgConnection) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT GREATEST(0, ceil(extract(epoch FROM (MIN(due_at) - now())) * 1000))::bigint
         FROM timer",
    )
    .fetch_one(conn)
    .await
}

/// The open timers of an instance (operator view).
pub async fn for_instance(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<Vec<TimerRow>, sqlx::Error> {
    let rows: Vec<Tuple> = sqlx::query_as(
        "SELECT timer_key, process_instance_key, element_instance_key, element_id, due_at
         FROM timer WHERE process_instance_key = $1 ORDER BY due_at, timer_key",
    )
    .bind(process_instance_key)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(from_tuple).collect())
}
