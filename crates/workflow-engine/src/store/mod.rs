//! Explicit SQL over `workflow_schema`. Every function takes the caller's connection or
//! transaction, so the command handler in `app` owns the transaction.

pub mod completions;
pub mod definitions;
pub mod incidents;
pub mod instances;
pub mod jobs;
pub mod messages;
pub mod timers;
pub mod user_tasks;
pub mod variables;

/// Channel carrying the job type of every job that became activatable (payload), so waiting
/// long polls wake on commit.
pub const JOB_CHANNEL: &str = "workflow_job";
/// Channel carrying the key of every process instance that ended (completed or canceled).
pub const INSTANCE_CHANNEL: &str = "workflow_instance";
/// Channel carrying the key of every task-listener completion that was decided (completed,
/// denied or canceled), so the REST request waiting for it answers on commit.
pub const COMPLETION_CHANNEL: &str = "workflow_completion";
/// Channel notified when timers were created, so the scheduler re-reads the next due time.
pub const TIMER_CHANNEL: &str = "workflow_timer";

/// Queues a notification delivered when the transaction commits (dropped on rollback).
pub async fn notify(
    conn: &mut sqlx::PgConnection,
    channel: &str,
    payload: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(conn)
        .await
        .map(|_| ())
}
