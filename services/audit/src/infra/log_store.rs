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

/// Appends `entries` (all of one tenant, in order) to that tenant's log inside the caller's
/// transaction: one lock, one read of the log's frontier (the perfect subtrees of its current
/// size), the new leaves and every subtree they complete computed here, two multi-row inserts.
pub async fn append_all(
    conn: &mut PgConnection,
    tenant: &str,
    entries: &[AuditEntry],
) -> Result<Vec<Appended>, sqlx::Error> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('audit-log:' || $1, 0))")
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    let start = size(conn, tenant).await?;
    if start == 0 {
        sqlx::query("INSERT INTO tenant_log (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(tenant)
            .execute(&mut *conn)
            .await?;
    }
    // Every left sibling an append needs is either on the frontier or made by this batch.
    let mut known = fetch(conn, tenant, &tree::decompose(0, start)).await?;
    let mut appended = Vec::with_capacity(entries.len());
    let mut texts = Vec::with_capacity(entries.len());
    let mut nodes: Vec<(Subtree, Hash)> = Vec::new();
    for (offset, entry) in entries.iter().enumerate() {
        let position = start + offset as u64;
        let canonical = entry.canonical();
        let leaf_hash = tree::leaf_hash(canonical.as_bytes());
        let siblings = tree::append_needs(position)
            .iter()
            .map(|needed| {
                known.get(needed).copied().ok_or_else(|| {
                    sqlx::Error::Protocol(format!(
                        "tenant {tenant}'s log lacks subtree level {} index {}",
                        needed.level, needed.index
                    ))
                })
            })
            .collect::<Result<Vec<Hash>, sqlx::Error>>()?;
        known.insert(
            Subtree {
                level: 0,
                index: position,
            },
            leaf_hash,
        );
        for (subtree, hash) in tree::append(position, leaf_hash, &siblings) {
            known.insert(subtree, hash);
            nodes.push((subtree, hash));
        }
        texts.push(canonical);
        appended.push(Appended {
            leaf_index: position,
            leaf_hash,
        });
    }
    insert_entries(conn, tenant, entries, &texts, &appended).await?;
    if !nodes.is_empty() {
        let levels: Vec<i16> = nodes.iter().map(|(s, _)| i16::from(s.level)).collect();
        let indexes: Vec<i64> = nodes.iter().map(|(s, _)| s.index as i64).collect();
        let hashes: Vec<Vec<u8>> = nodes.iter().map(|(_, h)| h.to_vec()).collect();
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
    Ok(appended)
}

async fn insert_entries(
    conn: &mut PgConnection,
    tenant: &str,
    entries: &[AuditEntry],
    texts: &[String],
    appended: &[Appended],
) -> Result<(), sqlx::Error> {
    let column = |f: fn(&AuditEntry) -> &str| -> Vec<&str> { entries.iter().map(f).collect() };
    let positions: Vec<i64> = appended.iter().map(|a| a.leaf_index as i64).collect();
    let ids: Vec<uuid::Uuid> = entries.iter().map(|e| e.audit_event_id.0).collect();
    let times: Vec<chrono::DateTime<chrono::Utc>> = entries.iter().map(|e| e.occurred_at).collect();
    let hashes: Vec<Vec<u8>> = appended.iter().map(|a| a.leaf_hash.to_vec()).collect();
    sqlx::query(
        "INSERT INTO evidence_entry (tenant_id, leaf_index, audit_event_id, event_type, occurred_at, \
         actor_id, resource_type, resource_id, correlation_id, business_transaction_id, canonical, leaf_hash) \
         SELECT $1, i, id, t, at, actor, rt, rid, corr, bt, canonical, hash FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::timestamptz[], $6::text[], \
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bytea[]) \
         WITH ORDINALITY AS e(i, id, t, at, actor, rt, rid, corr, bt, canonical, hash, n) ORDER BY n",
    )
    .bind(tenant)
    .bind(&positions)
    .bind(&ids)
    .bind(column(|e| e.event_type.as_str()))
    .bind(&times)
    .bind(column(|e| e.actor.actor_id.as_str()))
    .bind(column(|e| e.resource.resource_type.as_str()))
    .bind(column(|e| e.resource.resource_id.as_str()))
    .bind(column(|e| e.correlation_id.as_str()))
    .bind(column(|e| e.business_transaction_id.as_str()))
    .bind(texts)
    .bind(&hashes)
    .execute(conn)
    .await?;
    Ok(())
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
