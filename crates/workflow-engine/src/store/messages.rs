//! Published messages, their correlations and open message subscriptions.

use serde_json::{Map, Value as Json};
use sqlx::PgConnection;

/// A buffered message.
#[derive(Debug, Clone)]
pub struct MessageRow {
    /// Key.
    pub key: i64,
    /// Variables.
    pub variables: Map<String, Json>,
}

/// An open subscription.
#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    /// Key.
    pub key: i64,
    /// Process instance.
    pub process_instance_key: i64,
    /// Process id (a message correlates once per process id).
    pub bpmn_process_id: String,
    /// The waiting element instance.
    pub element_instance_key: i64,
    /// The event that fires.
    pub element_id: String,
}

/// Serialises publishers and subscribers of one (name, correlation key) for the transaction,
/// so a message and a subscription created concurrently always see each other.
pub async fn lock_correlation(
    conn: &mut PgConnection,
    name: &str,
    correlation_key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 7))")
        .bind(name)
        .bind(correlation_key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Whether a message with this id is still buffered (the dedupe window is its TTL).
pub async fn id_is_buffered(
    conn: &mut PgConnection,
    name: &str,
    correlation_key: &str,
    message_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM message WHERE name = $1 AND correlation_key = $2
           AND message_id = $3 AND expires_at > now())",
    )
    .bind(name)
    .bind(correlation_key)
    .bind(message_id)
    .fetch_one(conn)
    .await
}

/// Stores a message buffered for `ttl_ms` (0: never visible to later subscriptions).
pub async fn insert(
    conn: &mut PgConnection,
    name: &str,
    correlation_key: &str,
    message_id: Option<&str>,
    ttl_ms: i64,
    variables: &Map<String, Json>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO message (name, correlation_key, message_id, variables, expires_at)
         VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond') RETURNING message_key",
    )
    .bind(name)
    .bind(correlation_key)
    .bind(message_id)
    .bind(Json::Object(variables.clone()))
    .bind(ttl_ms.max(0))
    .fetch_one(conn)
    .await
}

/// Deletes a message (TTL 0 after its correlation attempt).
pub async fn delete(conn: &mut PgConnection, key: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM message WHERE message_key = $1")
        .bind(key)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Drops expired messages (their correlations go with them).
pub async fn delete_expired(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM message WHERE expires_at <= now()")
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

/// The oldest buffered message for a new subscription not yet correlated to this process id.
pub async fn first_buffered(
    conn: &mut PgConnection,
    name: &str,
    correlation_key: &str,
    bpmn_process_id: &str,
) -> Result<Option<MessageRow>, sqlx::Error> {
    let row: Option<(i64, Json)> = sqlx::query_as(
        "SELECT m.message_key, m.variables FROM message m
         WHERE m.name = $1 AND m.correlation_key = $2 AND m.expires_at > now()
           AND NOT EXISTS (SELECT 1 FROM message_correlation c
                           WHERE c.message_key = m.message_key AND c.bpmn_process_id = $3)
         ORDER BY m.message_key LIMIT 1",
    )
    .bind(name)
    .bind(correlation_key)
    .bind(bpmn_process_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(key, variables)| MessageRow {
        key,
        variables: match variables {
            Json::Object(map) => map,
            _ => Map::new(),
        },
    }))
}

/// Records that a message correlated to a process id; false when it already had.
pub async fn correlate(
    conn: &mut PgConnection,
    message_key: i64,
    bpmn_process_id: &str,
    process_instance_key: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO message_correlation (message_key, bpmn_process_id, process_instance_key)
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(message_key)
    .bind(bpmn_process_id)
    .bind(process_instance_key)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Opens a subscription; returns its key.
pub async fn subscribe(
    conn: &mut PgConnection,
    sub: &SubscriptionRow,
    name: &str,
    correlation_key: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO message_subscription (process_instance_key, bpmn_process_id,
           element_instance_key, element_id, message_name, correlation_key)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING message_subscription_key",
    )
    .bind(sub.process_instance_key)
    .bind(&sub.bpmn_process_id)
    .bind(sub.element_instance_key)
    .bind(&sub.element_id)
    .bind(name)
    .bind(correlation_key)
    .fetch_one(conn)
    .await
}

/// Open subscriptions matching a message, oldest first.
pub async fn matching(
    conn: &mut PgConnection,
    name: &str,
    correlation_key: &str,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    let rows: Vec<(i64, i64, String, i64, String)> = sqlx::query_as(
        "SELECT message_subscription_key, process_instance_key, bpmn_process_id,
           element_instance_key, element_id
         FROM message_subscription WHERE message_name = $1 AND correlation_key = $2
         ORDER BY message_subscription_key",
    )
    .bind(name)
    .bind(correlation_key)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(key, process_instance_key, bpmn_process_id, element_instance_key, element_id)| {
                SubscriptionRow {
                    key,
                    process_instance_key,
                    bpmn_process_id,
                    element_instance_key,
                    element_id,
                }
            },
        )
        .collect())
}

/// Whether a subscription is still open (checked under the instance lock).
pub async fn is_open(conn: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM message_subscription WHERE message_subscription_key = $1)",
    )
    .bind(key)
    .fetch_one(conn)
    .await
}

/// An open subscription as operators see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenSubscription {
    /// The waiting element instance.
    pub element_instance_key: i64,
    /// The event that fires.
    pub element_id: String,
    /// Message name.
    pub message_name: String,
    /// Correlation key.
    pub correlation_key: String,
}

/// The open subscriptions of an instance (operator view).
pub async fn subscriptions_for_instance(
    conn: &mut PgConnection,
    process_instance_key: i64,
) -> Result<Vec<OpenSubscription>, sqlx::Error> {
    sqlx::query_as(
        "SELECT element_instance_key, element_id, message_name, correlation_key
         FROM message_subscription WHERE process_instance_key = $1
         ORDER BY message_subscription_key",
    )
    .bind(process_instance_key)
    .fetch_all(conn)
    .await
}
