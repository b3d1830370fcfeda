//! Reads of stored entries: the dispute queries (keyset pages in decision order), one entry,
//! one resource's entries, and the verifier's pages in log order. Every read runs in a
//! transaction the caller scoped to a tenant.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEntry {
    /// Whose log.
    pub tenant_id: String,
    /// Position.
    pub leaf_index: i64,
    /// Id.
    pub audit_event_id: Uuid,
    /// What happened.
    pub event_type: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who.
    pub actor_id: String,
    /// Resource type (normalised).
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Correlation.
    pub correlation_id: String,
    /// Business transaction.
    pub business_transaction_id: String,
    /// The canonical text the leaf hash covers.
    pub canonical: String,
    /// The leaf hash.
    pub leaf_hash: Vec<u8>,
    /// When a redaction replaced its content, if one did.
    pub redacted_at: Option<DateTime<Utc>>,
    /// When it was appended.
    pub ingested_at: DateTime<Utc>,
}

const COLUMNS: &str = "tenant_id, leaf_index, audit_event_id, event_type, occurred_at, actor_id, \
    resource_type, resource_id, correlation_id, business_transaction_id, canonical, leaf_hash, \
    redacted_at, ingested_at";

/// The dispute filters: any combination, within a time range, after a keyset position.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    /// Resource type (normalised).
    pub resource_type: Option<String>,
    /// Resource id.
    pub resource_id: Option<String>,
    /// Actor.
    pub actor_id: Option<String>,
    /// Business transaction.
    pub business_transaction_id: Option<String>,
    /// Correlation.
    pub correlation_id: Option<String>,
    /// Decided at or after.
    pub from: Option<DateTime<Utc>>,
    /// Decided before.
    pub to: Option<DateTime<Utc>>,
    /// After this `(occurredAt, leafIndex)`.
    pub after: Option<(DateTime<Utc>, i64)>,
    /// Page size.
    pub limit: i64,
}

/// A page of entries in decision order (`occurredAt`, then log position).
pub async fn list(
    conn: &mut PgConnection,
    filter: &EntryFilter,
) -> Result<Vec<StoredEntry>, sqlx::Error> {
    let mut query: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {COLUMNS} FROM evidence_entry WHERE true"));
    let equal = [
        ("resource_type", &filter.resource_type),
        ("resource_id", &filter.resource_id),
        ("actor_id", &filter.actor_id),
        ("business_transaction_id", &filter.business_transaction_id),
        ("correlation_id", &filter.correlation_id),
    ];
    for (column, value) in equal {
        if let Some(value) = value {
            query
                .push(format!(" AND {column} = "))
                .push_bind(value.clone());
        }
    }
    if let Some(from) = filter.from {
        query.push(" AND occurred_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        query.push(" AND occurred_at < ").push_bind(to);
    }
    if let Some((at, index)) = filter.after {
        query
            .push(" AND (occurred_at, leaf_index) > (")
            .push_bind(at)
            .push(", ")
            .push_bind(index)
            .push(")");
    }
    query
        .push(" ORDER BY occurred_at, leaf_index LIMIT ")
        .push_bind(filter.limit);
    query.build_query_as().fetch_all(conn).await
}

/// One entry by id.
pub async fn by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<StoredEntry>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM evidence_entry WHERE audit_event_id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Entries in log order from position `from` (inclusive) before `to`, at most `limit`.
pub async fn in_log_order(
    conn: &mut PgConnection,
    tenant: &str,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<StoredEntry>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM evidence_entry WHERE tenant_id = $1 AND leaf_index >= $2 \
         AND leaf_index < $3 ORDER BY leaf_index LIMIT $4"
    )))
    .bind(tenant)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(conn)
    .await
}
