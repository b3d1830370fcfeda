//! Deployments and process definitions.

use sqlx::PgConnection;

/// A stored process definition's identity.
#[derive(Debug, Clone)]
pub struct DefinitionRow {
    /// Key.
    pub key: i64,
    /// Process id.
    pub bpmn_process_id: String,
    /// Version per process id.
    pub version: i32,
    /// Name of the deployed resource.
    pub resource_name: String,
}

/// Creates a deployment record and returns its key.
pub async fn insert_deployment(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO deployment DEFAULT VALUES RETURNING deployment_key")
        .fetch_one(conn)
        .await
}

/// Serialises deployments of one process id so versions are gap-free and checksums unique.
pub async fn lock_process_id(
    conn: &mut PgConnection,
    bpmn_process_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('workflow_deploy:' || $1))")
        .bind(bpmn_process_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The version already deployed with exactly this content, if any.
pub async fn find_by_checksum(
    conn: &mut PgConnection,
    bpmn_process_id: &str,
    checksum: &[u8],
) -> Result<Option<DefinitionRow>, sqlx::Error> {
    let row: Option<(i64, String, i32, String)> = sqlx::query_as(
        "SELECT process_definition_key, bpmn_process_id, version, resource_name
         FROM process_definition WHERE bpmn_process_id = $1 AND checksum = $2",
    )
    .bind(bpmn_process_id)
    .bind(checksum)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(into_row))
}

/// Stores a new version (previous maximum + 1).
pub async fn insert_definition(
    conn: &mut PgConnection,
    deployment_key: i64,
    bpmn_process_id: &str,
    resource_name: &str,
    checksum: &[u8],
    xml: &str,
) -> Result<DefinitionRow, sqlx::Error> {
    let row: (i64, String, i32, String) = sqlx::query_as(
        "INSERT INTO process_definition
           (deployment_key, bpmn_process_id, version, resource_name, checksum, bpmn_xml)
         SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5
         FROM process_definition WHERE bpmn_process_id = $2
         RETURNING process_definition_key, bpmn_process_id, version, resource_name",
    )
    .bind(deployment_key)
    .bind(bpmn_process_id)
    .bind(resource_name)
    .bind(checksum)
    .bind(xml)
    .fetch_one(conn)
    .await?;
    Ok(into_row(row))
}

/// Looks a definition up by key, or by process id and version (latest when `version` < 1).
pub async fn find(
    conn: &mut PgConnection,
    key: Option<i64>,
    bpmn_process_id: &str,
    version: i32,
) -> Result<Option<DefinitionRow>, sqlx::Error> {
    let row: Option<(i64, String, i32, String)> = sqlx::query_as(
        "SELECT process_definition_key, bpmn_process_id, version, resource_name
         FROM process_definition
         WHERE CASE WHEN $1::bigint IS NOT NULL THEN process_definition_key = $1
                    ELSE bpmn_process_id = $2 AND ($3 < 1 OR version = $3) END
         ORDER BY version DESC LIMIT 1",
    )
    .bind(key)
    .bind(bpmn_process_id)
    .bind(version)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(into_row))
}

/// The BPMN text of a definition, to rebuild the model after a restart.
pub async fn xml(
    conn: &mut PgConnection,
    key: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT bpmn_process_id, bpmn_xml FROM process_definition WHERE process_definition_key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

fn into_row(
    (key, bpmn_process_id, version, resource_name): (i64, String, i32, String),
) -> DefinitionRow {
    DefinitionRow {
        key,
        bpmn_process_id,
        version,
        resource_name,
    }
}
