//! Incidents: tokens stopped until an operator resolves them.

use sqlx::PgConnection;

/// A stored incident.
#[derive(Debug, Clone)]
pub struct IncidentRow {
    /// Key.
    pub key: i64,
    /// Process instance.
    pub process_instance_key: i64,
    /// Element instance held.
    pub element_instance_key: i64,
    /// The job, for job incidents.
    pub job_key: Option<i64>,
    /// Zeebe error type.
    pub error_type: String,
    /// Message.
    pub error_message: String,
}

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

/// The process instance an incident belongs to (unlocked).
pub async fn instance_of(conn: &mut PgConnection, key: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT process_instance_key FROM incident WHERE incident_key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// Removes an incident, returning it.
pub async fn take(conn: &mut PgConnection, key: i64) -> Result<Option<IncidentRow>, sqlx::Error> {
    let row: Option<(i64, i64, i64, Option<i64>, String, String)> = sqlx::query_as(
        "DELETE FROM incident WHERE incident_key = $1
         RETURNING incident_key, process_instance_key, element_instance_key, job_key, error_type, error_message",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(key, process_instance_key, element_instance_key, job_key, error_type, error_message)| {
            IncidentRow {
                key,
                process_instance_key,
                element_instance_key,
                job_key,
                error_type,
                error_message,
            }
        },
    ))
}

/// Open incidents of an instance (operators and tests).
pub async fn for_instance(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<Vec<IncidentRow>, sqlx::Error> {
    let rows: Vec<(i64, i64, i64, Option<i64>, String, String)> = sqlx::query_as(
        "SELECT incident_key, process_instance_key, element_instance_key, job_key, error_type, error_message
         FROM incident WHERE process_instance_key = $1 ORDER BY incident_key",
    )
    .bind(process_instance_key)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                key,
                process_instance_key,
                element_instance_key,
                job_key,
                error_type,
                error_message,
            )| IncidentRow {
                key,
                process_instance_key,
                element_instance_key,
                job_key,
                error_type,
                error_message,
            },
        )
        .collect())
}

/// Removes every incident of an instance (cancellation).
pub async fn delete_for_instance(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM incident WHERE process_instance_key = $1")
        .bind(process_instance_key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Removes the incidents of an element instance (the element was interrupted).
pub async fn delete_for_element(
    conn: &mut PgConnection,
    element_instance_key: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM incident WHERE element_instance_key = $1")
        .bind(element_instance_key)
        .execute(conn)
        .await
        .map(|_| ())
}
