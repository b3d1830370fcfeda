//! Quarantined evidence: kept whole with the reasons it could not be an entry.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// One quarantined message.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    /// Its own id.
    pub quarantine_id: Uuid,
    /// The envelope's event id, when it had a readable one.
    pub event_id: Option<Uuid>,
    /// The tenant it named, when it named one.
    pub tenant_id: Option<String>,
    /// Where it was read.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// `[{"pointer": …, "message": …}]`.
    pub reasons: Value,
    /// The envelope as received.
    pub envelope: String,
    /// When it was quarantined.
    pub quarantined_at: DateTime<Utc>,
}

/// Keeps a message; a redelivery of the same event id is kept once.
pub async fn insert(conn: &mut PgConnection, item: &Quarantined) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO quarantined_evidence (quarantine_id, event_id, tenant_id, topic, kafka_partition, \
         kafka_offset, reasons, envelope, quarantined_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(item.quarantine_id)
    .bind(item.event_id)
    .bind(&item.tenant_id)
    .bind(&item.topic)
    .bind(item.partition)
    .bind(item.offset)
    .bind(&item.reasons)
    .bind(&item.envelope)
    .bind(item.quarantined_at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

type Row = (
    Uuid,
    Option<Uuid>,
    Option<String>,
    String,
    i32,
    i64,
    Value,
    String,
    DateTime<Utc>,
);

/// The caller's tenant's quarantined evidence, newest first, with the total count.
pub async fn list(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<(Vec<Quarantined>, i64), sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT quarantine_id, event_id, tenant_id, topic, kafka_partition, kafka_offset, reasons, \
         envelope, quarantined_at FROM quarantined_evidence ORDER BY quarantined_at DESC, quarantine_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM quarantined_evidence")
        .fetch_one(conn)
        .await?;
    let items = rows
        .into_iter()
        .map(
            |(
                quarantine_id,
                event_id,
                tenant_id,
                topic,
                partition,
                offset,
                reasons,
                envelope,
                quarantined_at,
            )| {
                Quarantined {
                    quarantine_id,
                    event_id,
                    tenant_id,
                    topic,
                    partition,
                    offset,
                    reasons,
                    envelope,
                    quarantined_at,
                }
            },
        )
        .collect();
    Ok((items, total))
}
