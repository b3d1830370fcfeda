//! Completions held by `completing` task listeners (ADR 0034): one row per completion request
//! of a task with listeners, PENDING while its listener jobs run, then COMPLETED, DENIED or
//! CANCELED. Every decision notifies [`super::COMPLETION_CHANNEL`] so the waiting request answers.

use serde_json::{Map, Value as Json};
use sqlx::PgConnection;

/// A completion request and where its listeners stand.
#[derive(Debug, Clone)]
pub struct CompletionRow {
    /// Key.
    pub key: i64,
    /// The task being completed.
    pub user_task_key: i64,
    /// The variables the task completes with.
    pub variables: Map<String, Json>,
    /// The request's action (`complete` by default).
    pub action: String,
    /// Position of the running listener.
    pub listener_index: i32,
    /// PENDING, COMPLETED, DENIED or CANCELED.
    pub outcome: String,
    /// Why a listener denied it, when it said.
    pub denied_reason: Option<String>,
}

type Tuple = (i64, i64, Json, String, i32, String, Option<String>);

const COLUMNS: &str =
    "completion_key, user_task_key, variables, action, listener_index, outcome, denied_reason";

fn from_tuple(t: Tuple) -> CompletionRow {
    CompletionRow {
        key: t.0,
        user_task_key: t.1,
        variables: match t.2 {
            Json::Object(map) => map,
            _ => Map::new(),
        },
        action: t.3,
        listener_index: t.4,
        outcome: t.5,
        denied_reason: t.6,
    }
}

/// Records a PENDING completion of a task; returns its key.
pub async fn insert(
    conn: &mut PgConnection,
    user_task_key: i64,
    process_instance_key: i64,
    variables: &Map<String, Json>,
    action: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO user_task_completion (user_task_key, process_instance_key, variables, action)
         VALUES ($1, $2, $3, $4) RETURNING completion_key",
    )
    .bind(user_task_key)
    .bind(process_instance_key)
    .bind(Json::Object(variables.clone()))
    .bind(action)
    .fetch_one(conn)
    .await
}

/// A completion by key, unlocked (the waiting request polls it).
pub async fn get(conn: &mut PgConnection, key: i64) -> Result<Option<CompletionRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM user_task_completion WHERE completion_key = $1");
    let row: Option<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(from_tuple))
}

/// A completion by key, locked (the caller holds its instance lock).
pub async fn lock(conn: &mut PgConnection, key: i64) -> Result<Option<CompletionRow>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM user_task_completion WHERE completion_key = $1 FOR UPDATE");
    let row: Option<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(from_tuple))
}

/// The PENDING completion of a task, locked.
pub async fn lock_pending_of(
    conn: &mut PgConnection,
    user_task_key: i64,
) -> Result<Option<CompletionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM user_task_completion
         WHERE user_task_key = $1 AND outcome = 'PENDING' FOR UPDATE"
    );
    let row: Option<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_task_key)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(from_tuple))
}

/// Moves a completion on to the listener at `index`.
pub async fn advance(conn: &mut PgConnection, key: i64, index: i32) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE user_task_completion SET listener_index = $2 WHERE completion_key = $1")
        .bind(key)
        .bind(index)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Decides a PENDING completion (COMPLETED or DENIED, with the reason) and tells the waiting
/// request on commit.
pub async fn decide(
    conn: &mut PgConnection,
    key: i64,
    outcome: &str,
    denied_reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE user_task_completion SET outcome = $2, denied_reason = $3, decided_at = now()
         WHERE completion_key = $1 AND outcome = 'PENDING'",
    )
    .bind(key)
    .bind(outcome)
    .bind(denied_reason)
    .execute(&mut *conn)
    .await?;
    super::notify(conn, super::COMPLETION_CHANNEL, &key.to_string()).await
}

/// Cancels the PENDING completions of these tasks (their element was terminated) and tells
/// the waiting requests on commit.
pub async fn cancel_pending(
    conn: &mut PgConnection,
    user_task_keys: &[i64],
) -> Result<(), sqlx::Error> {
    if user_task_keys.is_empty() {
        return Ok(());
    }
    let keys: Vec<i64> = sqlx::query_scalar(
        "UPDATE user_task_completion SET outcome = 'CANCELED', decided_at = now()
         WHERE user_task_key = ANY($1) AND outcome = 'PENDING' RETURNING completion_key",
    )
    .bind(user_task_keys)
    .fetch_all(&mut *conn)
    .await?;
    for key in keys {
        super::notify(conn, super::COMPLETION_CHANNEL, &key.to_string()).await?;
    }
    Ok(())
}

/// The variables of completions, for the listener jobs activated on their behalf.
pub async fn variables_of(
    conn: &mut PgConnection,
    keys: &[i64],
) -> Result<Vec<(i64, Json)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT completion_key, variables FROM user_task_completion WHERE completion_key = ANY($1)",
    )
    .bind(keys)
    .fetch_all(conn)
    .await
}
