//! Process instances, element instances (waiting tokens) and parallel-join arrivals.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// A process instance's identity and definition.
#[derive(Debug, Clone)]
pub struct InstanceRow {
    /// Key.
    pub key: i64,
    /// Definition key.
    pub definition_key: i64,
    /// Process id.
    pub bpmn_process_id: String,
    /// Definition version.
    pub version: i32,
    /// ACTIVE, COMPLETED or CANCELED.
    pub state: String,
}

/// An element instance (a token waiting in an element).
#[derive(Debug, Clone)]
pub struct ElementRow {
    /// Key.
    pub key: i64,
    /// Process instance.
    pub process_instance_key: i64,
    /// BPMN element id.
    pub element_id: String,
    /// ACTIVE, COMPLETED or TERMINATED.
    pub state: String,
    /// ACTIVATE or COMPLETE: what incident resolution re-runs.
    pub resume: String,
    /// Variables kept for a completion re-run.
    pub completion_variables: Option<Json>,
    /// The multi-instance body of an inner instance (`None` for every other row).
    pub flow_scope_key: Option<i64>,
    /// The 1-based loop counter of an inner instance.
    pub loop_counter: Option<i32>,
}

/// Creates an ACTIVE instance.
pub async fn insert(
    conn: &mut PgConnection,
    definition_key: i64,
    bpmn_process_id: &str,
    version: i32,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO process_instance (process_definition_key, bpmn_process_id, version, state)
         VALUES ($1, $2, $3, 'ACTIVE') RETURNING process_instance_key",
    )
    .bind(definition_key)
    .bind(bpmn_process_id)
    .bind(version)
    .fetch_one(conn)
    .await
}

/// Locks an instance for the command: commands on one instance run one after another, which is
/// what makes parallel joins and completion checks race-free (Zeebe serialises per partition).
pub async fn lock(conn: &mut PgConnection, key: i64) -> Result<Option<InstanceRow>, sqlx::Error> {
    let row: Option<(i64, i64, String, i32, String)> = sqlx::query_as(
        "SELECT process_instance_key, process_definition_key, bpmn_process_id, version, state
         FROM process_instance WHERE process_instance_key = $1 FOR UPDATE",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(key, definition_key, bpmn_process_id, version, state)| InstanceRow {
            key,
            definition_key,
            bpmn_process_id,
            version,
            state,
        },
    ))
}

/// The state of an instance, unlocked.
pub async fn state(conn: &mut PgConnection, key: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT state FROM process_instance WHERE process_instance_key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// Ends an instance (COMPLETED or CANCELED).
pub async fn end(conn: &mut PgConnection, key: i64, state: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE process_instance SET state = $2, ended_at = now() WHERE process_instance_key = $1",
    )
    .bind(key)
    .bind(state)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Whether any token remains: a waiting element or a join arrival.
pub async fn has_tokens(conn: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM element_instance WHERE process_instance_key = $1 AND state = 'ACTIVE')
             OR EXISTS (SELECT 1 FROM join_arrival WHERE process_instance_key = $1)",
    )
    .bind(key)
    .fetch_one(conn)
    .await
}

/// Creates an ACTIVE element instance.
pub async fn insert_element(
    conn: &mut PgConnection,
    process_instance_key: i64,
    element_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO element_instance (process_instance_key, element_id, state)
         VALUES ($1, $2, 'ACTIVE') RETURNING element_instance_key",
    )
    .bind(process_instance_key)
    .bind(element_id)
    .fetch_one(conn)
    .await
}

/// An element instance by key.
pub async fn element(conn: &mut PgConnection, key: i64) -> Result<Option<ElementRow>, sqlx::Error> {
    type Tuple = (
        i64,
        i64,
        String,
        String,
        String,
        Option<Json>,
        Option<i64>,
        Option<i32>,
    );
    let row: Option<Tuple> = sqlx::query_as(
        "SELECT element_instance_key, process_instance_key, element_id, state, resume,
           completion_variables, flow_scope_key, loop_counter
         FROM element_instance WHERE element_instance_key = $1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|t| ElementRow {
        key: t.0,
        process_instance_key: t.1,
        element_id: t.2,
        state: t.3,
        resume: t.4,
        completion_variables: t.5,
        flow_scope_key: t.6,
        loop_counter: t.7,
    }))
}

/// Creates an ACTIVE inner instance of a multi-instance body.
pub async fn insert_inner(
    conn: &mut PgConnection,
    process_instance_key: i64,
    element_id: &str,
    body_key: i64,
    loop_counter: i32,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO element_instance (process_instance_key, element_id, state, flow_scope_key,
           loop_counter)
         VALUES ($1, $2, 'ACTIVE', $3, $4) RETURNING element_instance_key",
    )
    .bind(process_instance_key)
    .bind(element_id)
    .bind(body_key)
    .bind(loop_counter)
    .fetch_one(conn)
    .await
}

/// `(inner instance, body)` for those of `keys` that are inner instances of a multi-instance
/// body (job activation shows them the body's variables too).
pub async fn flow_scopes(
    conn: &mut PgConnection,
    keys: &[i64],
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT element_instance_key, flow_scope_key FROM element_instance
         WHERE element_instance_key = ANY($1) AND flow_scope_key IS NOT NULL",
    )
    .bind(keys)
    .fetch_all(conn)
    .await
}

/// The ACTIVE inner instances of a multi-instance body, by loop counter.
pub async fn active_inner(conn: &mut PgConnection, body_key: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT element_instance_key FROM element_instance
         WHERE flow_scope_key = $1 AND state = 'ACTIVE' ORDER BY loop_counter",
    )
    .bind(body_key)
    .fetch_all(conn)
    .await
}

/// Marks an element instance COMPLETED or TERMINATED and drops its local variables and what
/// its events waited for (timers, message subscriptions); a terminated user task is CANCELED.
pub async fn leave_element(
    conn: &mut PgConnection,
    key: i64,
    state: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE element_instance SET state = $2 WHERE element_instance_key = $1")
        .bind(key)
        .bind(state)
        .execute(&mut *conn)
        .await?;
    close_waits(conn, "element_instance_key", key).await?;
    if state == "TERMINATED" {
        super::user_tasks::cancel_open(conn, Some(key), None).await?;
    }
    sqlx::query("DELETE FROM variable WHERE scope_key = $1")
        .bind(key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Records what an incident on this element re-runs when resolved.
pub async fn set_resume(
    conn: &mut PgConnection,
    key: i64,
    resume: &str,
    completion_variables: Option<&Json>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE element_instance SET resume = $2, completion_variables = $3 WHERE element_instance_key = $1",
    )
    .bind(key)
    .bind(resume)
    .bind(completion_variables)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Terminates every waiting element of an instance (cancellation).
pub async fn terminate_all(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE element_instance SET state = 'TERMINATED'
         WHERE process_instance_key = $1 AND state = 'ACTIVE'",
    )
    .bind(process_instance_key)
    .execute(&mut *conn)
    .await?;
    close_waits(conn, "process_instance_key", process_instance_key).await?;
    super::user_tasks::cancel_open(conn, None, Some(process_instance_key)).await?;
    sqlx::query("DELETE FROM join_arrival WHERE process_instance_key = $1")
        .bind(process_instance_key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Records a token arriving at a parallel join through `flow_id`; returns the distinct flows
/// that have arrived so far.
pub async fn arrive_at_join(
    conn: &mut PgConnection,
    process_instance_key: i64,
    element_id: &str,
    flow_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "INSERT INTO join_arrival (process_instance_key, element_id, flow_id) VALUES ($1, $2, $3)",
    )
    .bind(process_instance_key)
    .bind(element_id)
    .bind(flow_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar(
        "SELECT DISTINCT flow_id FROM join_arrival WHERE process_instance_key = $1 AND element_id = $2",
    )
    .bind(process_instance_key)
    .bind(element_id)
    .fetch_all(conn)
    .await
}

/// Consumes one arrival per incoming flow when the join fires.
pub async fn consume_join(
    conn: &mut PgConnection,
    process_instance_key: i64,
    element_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM join_arrival WHERE join_arrival_id IN (
           SELECT MIN(join_arrival_id) FROM join_arrival
           WHERE process_instance_key = $1 AND element_id = $2 GROUP BY flow_id)",
    )
    .bind(process_instance_key)
    .bind(element_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Deletes the timers and message subscriptions of an element instance or a whole instance.
async fn close_waits(conn: &mut PgConnection, column: &str, key: i64) -> Result<(), sqlx::Error> {
    for table in ["timer", "message_subscription"] {
        let sql = format!("DELETE FROM {table} WHERE {column} = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A process instance as operators list it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InstanceSummaryRow {
    /// Key.
    pub process_instance_key: i64,
    /// Definition key.
    pub process_definition_key: i64,
    /// Process id.
    pub bpmn_process_id: String,
    /// Definition version.
    pub version: i32,
    /// ACTIVE, COMPLETED or CANCELED.
    pub state: String,
    /// Started at.
    pub created_at: DateTime<Utc>,
    /// Completed or canceled at.
    pub ended_at: Option<DateTime<Utc>>,
    /// Incidents holding it now.
    pub active_incidents: i64,
}

const SUMMARY: &str = "SELECT p.process_instance_key, p.process_definition_key, p.bpmn_process_id,
    p.version, p.state, p.created_at, p.ended_at,
    (SELECT count(*) FROM incident i
     WHERE i.process_instance_key = p.process_instance_key AND i.state = 'ACTIVE') AS active_incidents
    FROM process_instance p";

fn push_list_filter(
    query: &mut QueryBuilder<Postgres>,
    state: Option<&str>,
    bpmn_process_id: Option<&str>,
) {
    query.push(" WHERE TRUE");
    if let Some(v) = state {
        query.push(" AND p.state = ").push_bind(v.to_owned());
    }
    if let Some(v) = bpmn_process_id {
        query
            .push(" AND p.bpmn_process_id = ")
            .push_bind(v.to_owned());
    }
}

/// A page of instances, newest first, and the number of matches.
pub async fn list(
    conn: &mut PgConnection,
    state: Option<&str>,
    bpmn_process_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<InstanceSummaryRow>, i64), sqlx::Error> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM process_instance p");
    push_list_filter(&mut count, state, bpmn_process_id);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let mut query = QueryBuilder::<Postgres>::new(SUMMARY);
    push_list_filter(&mut query, state, bpmn_process_id);
    query
        .push(" ORDER BY p.process_instance_key DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = query.build_query_as().fetch_all(conn).await?;
    Ok((rows, total))
}

/// One instance as operators see it.
pub async fn summary(
    conn: &mut PgConnection,
    key: i64,
) -> Result<Option<InstanceSummaryRow>, sqlx::Error> {
    let sql = format!("{SUMMARY} WHERE p.process_instance_key = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// The tokens waiting in an instance: `(element_instance_key, element_id, since, loop
/// counter)`; inner instances of a multi-instance body carry their loop counter.
pub async fn active_elements(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<Vec<(i64, String, DateTime<Utc>, Option<i32>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT element_instance_key, element_id, created_at, loop_counter FROM element_instance
         WHERE process_instance_key = $1 AND state = 'ACTIVE' ORDER BY element_instance_key",
    )
    .bind(process_instance_key)
    .fetch_all(conn)
    .await
}
