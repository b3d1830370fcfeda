//! Jobs: creation, activation with `FOR UPDATE SKIP LOCKED`, and state changes.

use serde_json::{Map, Value as Json};
use sqlx::PgConnection;

/// A job as workers and commands see it.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// Key.
    pub key: i64,
    /// Type.
    pub job_type: String,
    /// Process instance.
    pub process_instance_key: i64,
    /// Process id.
    pub bpmn_process_id: String,
    /// Definition version.
    pub process_definition_version: i32,
    /// Definition key.
    pub process_definition_key: i64,
    /// Element id.
    pub element_id: String,
    /// Element instance (the task).
    pub element_instance_key: i64,
    /// Task headers.
    pub custom_headers: Json,
    /// Worker that activated it.
    pub worker: Option<String>,
    /// Retries left.
    pub retries: i32,
    /// Activation deadline, epoch milliseconds (0 when not activated).
    pub deadline_ms: i64,
    /// ACTIVATABLE, ACTIVATED, FAILED or ERROR_THROWN.
    pub state: String,
    /// For a task listener's job, the completion it decides (`None` for a task's own job).
    pub completion_key: Option<i64>,
}

impl JobRow {
    /// Whether this is a task listener's job rather than a service task's.
    pub fn is_listener(&self) -> bool {
        self.completion_key.is_some()
    }
}

const COLUMNS: &str = "j.job_key, j.job_type, j.process_instance_key, j.bpmn_process_id,
    j.process_definition_version, j.process_definition_key, j.element_id, j.element_instance_key,
    j.custom_headers, j.worker, j.retries,
    COALESCE((extract(epoch FROM j.deadline) * 1000)::bigint, 0), j.state, j.completion_key";

type Tuple = (
    i64,
    String,
    i64,
    String,
    i32,
    i64,
    String,
    i64,
    Json,
    Option<String>,
    i32,
    i64,
    String,
    Option<i64>,
);

fn from_tuple(t: Tuple) -> JobRow {
    JobRow {
        key: t.0,
        job_type: t.1,
        process_instance_key: t.2,
        bpmn_process_id: t.3,
        process_definition_version: t.4,
        process_definition_key: t.5,
        element_id: t.6,
        element_instance_key: t.7,
        custom_headers: t.8,
        worker: t.9,
        retries: t.10,
        deadline_ms: t.11,
        state: t.12,
        completion_key: t.13,
    }
}

/// What a new job needs besides its spec.
#[derive(Debug, Clone, Copy)]
pub struct NewJob<'a> {
    /// Type.
    pub job_type: &'a str,
    /// Retries.
    pub retries: i32,
    /// Headers.
    pub headers: &'a Map<String, Json>,
    /// Process instance.
    pub process_instance_key: i64,
    /// Task element instance.
    pub element_instance_key: i64,
    /// Element id.
    pub element_id: &'a str,
    /// Process id.
    pub bpmn_process_id: &'a str,
    /// Definition key.
    pub process_definition_key: i64,
    /// Definition version.
    pub version: i32,
    /// For a task listener's job, the completion it decides.
    pub completion_key: Option<i64>,
}

/// Creates an ACTIVATABLE job.
pub async fn insert(conn: &mut PgConnection, job: NewJob<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO job (job_type, process_instance_key, element_instance_key, element_id,
           bpmn_process_id, process_definition_key, process_definition_version, state, retries,
           custom_headers, kind, completion_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'ACTIVATABLE', $8, $9,
           CASE WHEN $10::bigint IS NULL THEN 'BPMN_ELEMENT' ELSE 'TASK_LISTENER' END, $10)
         RETURNING job_key",
    )
    .bind(job.job_type)
    .bind(job.process_instance_key)
    .bind(job.element_instance_key)
    .bind(job.element_id)
    .bind(job.bpmn_process_id)
    .bind(job.process_definition_key)
    .bind(job.version)
    .bind(job.retries)
    .bind(Json::Object(job.headers.clone()))
    .bind(job.completion_key)
    .fetch_one(conn)
    .await
}

/// Activates up to `max` due jobs of a type for `worker` until `timeout_ms` from now. Rows
/// another transaction holds are skipped, so concurrent pollers never get the same job.
pub async fn activate(
    conn: &mut PgConnection,
    job_type: &str,
    worker: &str,
    timeout_ms: i64,
    max: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    let sql = format!(
        "WITH picked AS (
           SELECT job_key FROM job
           WHERE job_type = $1
             AND ((state = 'ACTIVATABLE' AND due_at <= now())
               OR (state = 'ACTIVATED' AND deadline <= now()))
           ORDER BY job_key LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE job j SET state = 'ACTIVATED', worker = $3,
           deadline = now() + $4 * interval '1 millisecond'
         FROM picked WHERE j.job_key = picked.job_key
         RETURNING {COLUMNS}"
    );
    let rows: Vec<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(job_type)
        .bind(max)
        .bind(worker)
        .bind(timeout_ms)
        .fetch_all(conn)
        .await?;
    let mut jobs: Vec<JobRow> = rows.into_iter().map(from_tuple).collect();
    jobs.sort_by_key(|j| j.key);
    Ok(jobs)
}

/// When the next job of this type becomes due (back-off end or activation timeout), if any.
pub async fn next_due_in_ms(
    conn: &mut PgConnection,
    job_type: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT GREATEST(0, (extract(epoch FROM (MIN(t) - now())) * 1000)::bigint) FROM (
           SELECT MIN(due_at) AS t FROM job WHERE job_type = $1 AND state = 'ACTIVATABLE'
           UNION ALL
           SELECT MIN(deadline) FROM job WHERE job_type = $1 AND state = 'ACTIVATED') d",
    )
    .bind(job_type)
    .fetch_one(conn)
    .await
}

/// The process instance a job belongs to (unlocked; the caller locks the instance first).
pub async fn instance_of(
    conn: &mut PgConnection,
    job_key: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT process_instance_key FROM job WHERE job_key = $1")
        .bind(job_key)
        .fetch_optional(conn)
        .await
}

/// A job, locked.
pub async fn lock(conn: &mut PgConnection, job_key: i64) -> Result<Option<JobRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM job j WHERE j.job_key = $1 FOR UPDATE");
    let row: Option<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(job_key)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(from_tuple))
}

/// Removes a finished job (completed, or its task left through an error boundary).
pub async fn delete(conn: &mut PgConnection, job_key: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM job WHERE job_key = $1")
        .bind(job_key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes the job of an element instance (its task was interrupted by a boundary event).
pub async fn delete_for_element(
    conn: &mut PgConnection,
    element_instance_key: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM job WHERE element_instance_key = $1")
        .bind(element_instance_key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes every job of an instance (cancellation).
pub async fn delete_for_instance(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM job WHERE process_instance_key = $1")
        .bind(process_instance_key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Makes a job activatable again after `back_off_ms`.
pub async fn retry_later(
    conn: &mut PgConnection,
    job_key: i64,
    retries: i32,
    back_off_ms: i64,
    error_message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE job SET state = 'ACTIVATABLE', retries = $2, worker = NULL, deadline = NULL,
           due_at = now() + $3 * interval '1 millisecond', error_message = $4
         WHERE job_key = $1",
    )
    .bind(job_key)
    .bind(retries)
    .bind(back_off_ms.max(0))
    .bind(error_message)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Parks a job in FAILED or ERROR_THROWN (an incident holds it).
pub async fn park(
    conn: &mut PgConnection,
    job_key: i64,
    state: &str,
    retries: i32,
    error_message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE job SET state = $2, retries = $3, worker = NULL, deadline = NULL, error_message = $4
         WHERE job_key = $1",
    )
    .bind(job_key)
    .bind(state)
    .bind(retries)
    .bind(error_message)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Sets a job's retries without changing its state.
pub async fn set_retries(
    conn: &mut PgConnection,
    job_key: i64,
    retries: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE job SET retries = $2 WHERE job_key = $1")
        .bind(job_key)
        .bind(retries)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Makes a parked job activatable now (incident resolved).
pub async fn reactivate(conn: &mut PgConnection, job_key: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE job SET state = 'ACTIVATABLE', due_at = now() WHERE job_key = $1")
        .bind(job_key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The jobs of an instance (operator view).
pub async fn for_instance(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM job j WHERE j.process_instance_key = $1 ORDER BY j.job_key");
    let rows: Vec<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(process_instance_key)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(from_tuple).collect())
}
