//! Incidents: tokens stopped until an operator resolves them. Resolved incidents stay as
//! history (`RESOLVED`, with the instant) for the operator views.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// A stored incident.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentRow {
    /// Key.
    pub incident_key: i64,
    /// Process instance.
    pub process_instance_key: i64,
    /// Process id of the instance.
    pub bpmn_process_id: String,
    /// Element instance held.
    pub element_instance_key: i64,
    /// Element id.
    pub element_id: String,
    /// The job, for job incidents.
    pub job_key: Option<i64>,
    /// Zeebe error type.
    pub error_type: String,
    /// Message.
    pub error_message: String,
    /// ACTIVE or RESOLVED.
    pub state: String,
    /// Raised at.
    pub created_at: DateTime<Utc>,
    /// Resolved at.
    pub resolved_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "i.incident_key, i.process_instance_key, p.bpmn_process_id,
    i.element_instance_key, i.element_id, i.job_key, i.error_type, i.error_message, i.state,
    i.created_at, i.resolved_at";
const FROM: &str =
    "FROM incident i JOIN process_instance p ON p.process_instance_key = i.process_instance_key";

/// What a new incident records.
#[derive(Debug, Clone, Copy)]
pub struct NewIncident<'a> {
    /// Process instance.
    pub process_instance_key: i64,
    /// Element instance held.
    pub element_instance_key: i64,
    /// Element id.
    pub element_id: &'a str,
    /// The job, for job incidents.
    pub job_key: Option<i64>,
    /// Zeebe error type.
    pub error_type: &'a str,
    /// Message.
    pub error_message: &'a str,
}

/// Raises an incident.
pub async fn insert(
    conn: &mut PgConnection,
    incident: NewIncident<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO incident (process_instance_key, element_instance_key, element_id, job_key,
           error_type, error_message)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING incident_key",
    )
    .bind(incident.process_instance_key)
    .bind(incident.element_instance_key)
    .bind(incident.element_id)
    .bind(incident.job_key)
    .bind(incident.error_type)
    .bind(incident.error_message)
    .fetch_one(conn)
    .await
}

/// The process instance of an active incident (unlocked; the caller locks the instance).
pub async fn instance_of(conn: &mut PgConnection, key: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT process_instance_key FROM incident WHERE incident_key = $1 AND state = 'ACTIVE'",
    )
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Resolves an active incident, returning it (`None` when unknown or already resolved).
pub async fn take(conn: &mut PgConnection, key: i64) -> Result<Option<IncidentRow>, sqlx::Error> {
    let sql = format!(
        "WITH resolved AS (
           UPDATE incident SET state = 'RESOLVED', resolved_at = now()
           WHERE incident_key = $1 AND state = 'ACTIVE' RETURNING *)
         SELECT {COLUMNS} FROM resolved i
         JOIN process_instance p ON p.process_instance_key = i.process_instance_key"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// Active incidents of an instance.
pub async fn for_instance(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<Vec<IncidentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE i.process_instance_key = $1 AND i.state = 'ACTIVE'
         ORDER BY i.incident_key"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(process_instance_key)
        .fetch_all(conn)
        .await
}

/// Resolves every active incident of an instance (cancellation).
pub async fn resolve_for_instance(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE incident SET state = 'RESOLVED', resolved_at = now()
         WHERE process_instance_key = $1 AND state = 'ACTIVE'",
    )
    .bind(process_instance_key)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Resolves the active incidents of an element instance (the element was interrupted).
pub async fn resolve_for_element(
    conn: &mut PgConnection,
    element_instance_key: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE incident SET state = 'RESOLVED', resolved_at = now()
         WHERE element_instance_key = $1 AND state = 'ACTIVE'",
    )
    .bind(element_instance_key)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What the operator incident list filters on.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// ACTIVE or RESOLVED.
    pub state: Option<String>,
    /// Process instance.
    pub process_instance_key: Option<i64>,
    /// Process id.
    pub bpmn_process_id: Option<String>,
    /// Zeebe error type.
    pub error_type: Option<String>,
}

fn push_filter(query: &mut QueryBuilder<Postgres>, filter: &IncidentFilter) {
    query.push(" WHERE TRUE");
    if let Some(v) = &filter.state {
        query.push(" AND i.state = ").push_bind(v.clone());
    }
    if let Some(v) = filter.process_instance_key {
        query.push(" AND i.process_instance_key = ").push_bind(v);
    }
    if let Some(v) = &filter.bpmn_process_id {
        query.push(" AND p.bpmn_process_id = ").push_bind(v.clone());
    }
    if let Some(v) = &filter.error_type {
        query.push(" AND i.error_type = ").push_bind(v.clone());
    }
}

/// A page of incidents, oldest first, and the number of matches.
pub async fn list(
    conn: &mut PgConnection,
    filter: &IncidentFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<IncidentRow>, i64), sqlx::Error> {
    let mut count = QueryBuilder::<Postgres>::new(format!("SELECT count(*) {FROM}"));
    push_filter(&mut count, filter);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} {FROM}"));
    push_filter(&mut query, filter);
    query
        .push(" ORDER BY i.created_at, i.incident_key LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = query.build_query_as().fetch_all(conn).await?;
    Ok((rows, total))
}
