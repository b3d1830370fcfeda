//! The log store: appending an entry at its tenant's next position with the perfect subtrees it
//! completes, and fetching stored subtrees for the proof math. Appends of one tenant are
//! serialised by a transaction-scoped advisory lock, so committed entries always form a prefix
//! of the log (a reader never sees position n+1 without n) and no network call happens under it.

use std::collections::HashMap;

use audit_proof::Hash;
use audit_proof::tree::{self, Subtree};
use sqlx::PgConnection;

use super::hash_of;
use crate::domain::AuditEntry;

/// Where an entry landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its position.
    pub leaf_index: u64,
    /// Its leaf hash.
    pub leaf_hash: Hash,
}

/// Appends `entry` to its tenant's log inside the caller's transaction.
pub async fn append(conn: &mut PgConnection, entry: &AuditEntry) -> Result<Appended, sqlx::Error> {
    let tenant = entry.tenant_id.as_str();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('audit-log:' || $1, 0))")
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    let last: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT leaf_index, leaf_hash FROM evidence_entry WHERE tenant_id = $1 \
         ORDER BY leaf_index DESC LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(&mut *conn)
    .await?;
    let size = last.as_ref().map_or(0, |(index, _)| *index as u64 + 1);
    if size == 0 {
        sqlx::query("INSERT INTO tenant_log (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(tenant)
            .execute(&mut *conn)
            .await?;
    }
    let needs = tree::append_needs(size);
    let mut stored = HashMap::new();
    if let Some((index, hash)) = &last {
        stored.insert(
            Subtree {
                level: 0,
                index: *index as u64,
            },
            hash_of(hash)?,
        );
    }
    let deeper: Vec<Subtree> = needs.iter().copied().filter(|s| s.level > 0).collect();
    stored.extend(nodes(conn, tenant, &deeper).await?);
    let siblings = needs
        .iter()
        .map(|needed| {
            stored.get(needed).copied().ok_or_else(|| {
                sqlx::Error::Protocol(format!(
                    "tenant {tenant}'s log lacks subtree level {} index {}",
                    needed.level, needed.index
                ))
            })
        })
        .collect::<Result<Vec<Hash>, sqlx::Error>>()?;
    let canonical = entry.canonical();
    let leaf_hash = tree::leaf_hash(canonical.as_bytes());
    sqlx::query(
        "INSERT INTO evidence_entry (tenant_id, leaf_index, audit_event_id, event_type, occurred_at, \
         actor_id, resource_type, resource_id, correlation_id, business_transaction_id, canonical, leaf_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(tenant)
    .bind(size as i64)
    .bind(entry.audit_event_id.0)
    .bind(&entry.event_type)
    .bind(entry.occurred_at)
    .bind(&entry.actor.actor_id)
    .bind(entry.resource.resource_type.as_str())
    .bind(&entry.resource.resource_id)
    .bind(&entry.correlation_id)
    .bind(&entry.business_transaction_id)
    .bind(&canonical)
    .bind(&leaf_hash[..])
    .execute(&mut *conn)
    .await?;
    let completed = tree::append(size, leaf_hash, &siblings);
    if !completed.is_empty() {
        let levels: Vec<i16> = completed.iter().map(|(s, _)| i16::from(s.level)).collect();
        let indexes: Vec<i64> = completed.iter().map(|(s, _)| s.index as i64).collect();
        let hashes: Vec<Vec<u8>> = completed.iter().map(|(_, h)| h.to_vec()).collect();
        sqlx::query(
            "INSERT INTO merkle_node (tenant_id, level, node_index, hash) \
             SELECT $1, l, i, h FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) AS n(l, i, h)",
        )
        .bind(tenant)
        .bind(&levels)
        .bind(&indexes)
        .bind(&hashes)
        .execute(&mut *conn)
        .await?;
    }
    Ok(Appended {
        leaf_index: size,
        leaf_hash,
    })
}

/// The number of entries in a tenant's log (committed ones).
pub async fn size(conn: &mut PgConnection, tenant: &str) -> Result<u64, sqlx::Error> {
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT leaf_index FROM evidence_entry WHERE tenant_id = $1 ORDER BY leaf_index DESC LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(last.map_or(0, |index| index as u64 + 1))
}

/// The stored hashes of `subtrees` (leaves from the entries, the rest from the nodes).
pub async fn fetch(
    conn: &mut PgConnection,
    tenant: &str,
    subtrees: &[Subtree],
) -> Result<HashMap<Subtree, Hash>, sqlx::Error> {
    let leaves: Vec<i64> = subtrees
        .iter()
        .filter(|s| s.level == 0)
        .map(|s| s.index as i64)
        .collect();
    let mut found = HashMap::with_capacity(subtrees.len());
    if !leaves.is_empty() {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT leaf_index, leaf_hash FROM evidence_entry WHERE tenant_id = $1 AND leaf_index = ANY($2)",
        )
        .bind(tenant)
        .bind(&leaves)
        .fetch_all(&mut *conn)
        .await?;
        for (index, hash) in rows {
            found.insert(
                Subtree {
                    level: 0,
                    index: index as u64,
                },
                hash_of(&hash)?,
            );
        }
    }
    let deeper: Vec<Subtree> = subtrees.iter().copied().filter(|s| s.level > 0).collect();
    found.extend(nodes(conn, tenant, &deeper).await?);
    Ok(found)
}

/// The stored perfect subtrees of level ≥ 1 among `subtrees` (a missing one is absent).
pub async fn nodes(
    conn: &mut PgConnection,
    tenant: &str,
    subtrees: &[Subtree],
) -> Result<HashMap<Subtree, Hash>, sqlx::Error> {
    if subtrees.is_empty() {
        return Ok(HashMap::new());
    }
    let levels: Vec<i16> = subtrees.iter().map(|s| i16::from(s.level)).collect();
    let indexes: Vec<i64> = subtrees.iter().map(|s| s.index as i64).collect();
    let rows: Vec<(i16, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT n.level, n.node_index, n.hash FROM merkle_node n \
         JOIN unnest($2::smallint[], $3::bigint[]) AS want(l, i) ON n.level = want.l AND n.node_index = want.i \
         WHERE n.tenant_id = $1",
    )
    .bind(tenant)
    .bind(&levels)
    .bind(&indexes)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(level, index, hash)| {
            Ok((
                Subtree {
                    level: level as u8,
                    index: index as u64,
                },
                hash_of(&hash)?,
            ))
        })
        .collect()
}

/// Every tenant with a log (the checkpoint job's list).
pub async fn tenants(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT tenant_id FROM tenant_log ORDER BY tenant_id")
        .fetch_all(conn)
        .await
}
