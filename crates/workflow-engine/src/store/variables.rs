//! Variables per scope (process instance key or element instance key).

use serde_json::{Map, Value as Json};
use sqlx::PgConnection;

/// All variables of one scope.
pub async fn scope(
    conn: &mut PgConnection,
    scope_key: i64,
) -> Result<Map<String, Json>, sqlx::Error> {
    let rows: Vec<(String, Json)> =
        sqlx::query_as("SELECT name, value FROM variable WHERE scope_key = $1")
            .bind(scope_key)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Variables of several scopes at once: `(scope_key, name, value)`.
pub async fn scopes(
    conn: &mut PgConnection,
    scope_keys: &[i64],
) -> Result<Vec<(i64, String, Json)>, sqlx::Error> {
    sqlx::query_as("SELECT scope_key, name, value FROM variable WHERE scope_key = ANY($1)")
        .bind(scope_keys)
        .fetch_all(conn)
        .await
}

/// Writes (creates or overwrites) variables in one scope, in one statement.
pub async fn put(
    conn: &mut PgConnection,
    process_instance_key: i64,
    scope_key: i64,
    values: &Map<String, Json>,
) -> Result<(), sqlx::Error> {
    if values.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO variable (scope_key, name, process_instance_key, value)
         SELECT $1, key, $2, value FROM jsonb_each($3)
         ON CONFLICT (scope_key, name) DO UPDATE SET value = excluded.value",
    )
    .bind(scope_key)
    .bind(process_instance_key)
    .bind(Json::Object(values.clone()))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Every variable of an instance, all scopes: `(scope_key, name, value)` (operator view).
pub async fn for_instance(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<Vec<(i64, String, Json)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT scope_key, name, value FROM variable WHERE process_instance_key = $1
         ORDER BY scope_key = process_instance_key DESC, scope_key, name",
    )
    .bind(process_instance_key)
    .fetch_all(conn)
    .await
}
