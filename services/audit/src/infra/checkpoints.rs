//! Stored checkpoints (signed tree heads).

use audit_proof::Hash;
use audit_proof::bundle::SignedCheckpoint;
use audit_proof::checkpoint::{note_time, to_base64};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::hash_of;

/// A checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Whose log.
    pub tenant_id: String,
    /// Entries it covers.
    pub tree_size: u64,
    /// The root.
    pub root_hash: Hash,
    /// When signed.
    pub issued_at: DateTime<Utc>,
    /// The key that signed it.
    pub key_id: String,
    /// The signed note.
    pub note: String,
    /// The signature over the note.
    pub signature: Vec<u8>,
}

impl StoredCheckpoint {
    /// The document the API serves and bundles carry.
    pub fn document(&self) -> SignedCheckpoint {
        SignedCheckpoint {
            tenant_id: self.tenant_id.clone(),
            tree_size: self.tree_size,
            root_hash: hex::encode(self.root_hash),
            issued_at: note_time(self.issued_at),
            key_id: self.key_id.clone(),
            note: self.note.clone(),
            signature: to_base64(&self.signature),
        }
    }
}

type Row = (String, i64, Vec<u8>, DateTime<Utc>, String, String, Vec<u8>);

const COLUMNS: &str = "tenant_id, tree_size, root_hash, issued_at, key_id, note, signature";

fn read(row: Row) -> Result<StoredCheckpoint, sqlx::Error> {
    let (tenant_id, tree_size, root, issued_at, key_id, note, signature) = row;
    Ok(StoredCheckpoint {
        tenant_id,
        tree_size: tree_size as u64,
        root_hash: hash_of(&root)?,
        issued_at,
        key_id,
        note,
        signature,
    })
}

/// The tenant's newest checkpoint.
pub async fn latest(
    conn: &mut PgConnection,
    tenant: &str,
) -> Result<Option<StoredCheckpoint>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM checkpoint WHERE tenant_id = $1 ORDER BY tree_size DESC LIMIT 1"
    )))
    .bind(tenant)
    .fetch_optional(conn)
    .await?;
    row.map(read).transpose()
}

/// The checkpoint at exactly `size`, if one was published.
pub async fn at_size(
    conn: &mut PgConnection,
    tenant: &str,
    size: u64,
) -> Result<Option<StoredCheckpoint>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM checkpoint WHERE tenant_id = $1 AND tree_size = $2"
    )))
    .bind(tenant)
    .bind(size as i64)
    .fetch_optional(conn)
    .await?;
    row.map(read).transpose()
}

/// Every checkpoint of sizes up to `max_size`, smallest first (the verifier's list).
pub async fn up_to(
    conn: &mut PgConnection,
    tenant: &str,
    max_size: u64,
) -> Result<Vec<StoredCheckpoint>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM checkpoint WHERE tenant_id = $1 AND tree_size <= $2 ORDER BY tree_size"
    )))
    .bind(tenant)
    .bind(max_size as i64)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(read).collect()
}

/// Stores a checkpoint; `false` when one of that size already exists (a concurrent publisher
/// won, and its checkpoint stands).
pub async fn insert(
    conn: &mut PgConnection,
    checkpoint: &StoredCheckpoint,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO checkpoint (tenant_id, tree_size, root_hash, issued_at, key_id, note, signature) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, tree_size) DO NOTHING",
    )
    .bind(&checkpoint.tenant_id)
    .bind(checkpoint.tree_size as i64)
    .bind(&checkpoint.root_hash[..])
    .bind(checkpoint.issued_at)
    .bind(&checkpoint.key_id)
    .bind(&checkpoint.note)
    .bind(&checkpoint.signature)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
