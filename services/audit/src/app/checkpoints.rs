//! Publishing checkpoints: the root of a tenant's whole log, signed. Periodically for every log
//! that grew (the job) and on demand. A checkpoint of a size that already has one is that one:
//! publishing is idempotent, and two publishers racing agree.

use audit_proof::checkpoint::TreeHead;
use audit_proof::tree;
use chrono::{SubsecRound, Utc};
use sqlx::{PgConnection, PgPool};

use super::{AppError, Keyring};
use crate::infra::checkpoints::{self, StoredCheckpoint};
use crate::infra::log_store;

/// The root of the first `size` entries of a tenant's log, from the stored subtrees.
pub async fn root_at(
    conn: &mut PgConnection,
    tenant: &str,
    size: u64,
) -> Result<audit_proof::Hash, AppError> {
    let plan = tree::root_plan(size);
    let stored = log_store::fetch(conn, tenant, &tree::subtrees_of(&plan)).await?;
    Ok(tree::assemble(&plan, &stored)?
        .first()
        .copied()
        .unwrap_or_else(tree::empty_root))
}

/// The checkpoint of the log as it stands: the existing one when the log has not grown since,
/// else a new one (`true` when this call created it).
pub async fn publish(
    conn: &mut PgConnection,
    keys: &Keyring,
    tenant: &str,
) -> Result<(StoredCheckpoint, bool), AppError> {
    let size = log_store::size(conn, tenant).await?;
    if size == 0 {
        return Err(AppError::EmptyLog);
    }
    publish_at(conn, keys, tenant, size).await
}

/// The checkpoint at exactly `size` entries, signing one if none exists.
pub async fn publish_at(
    conn: &mut PgConnection,
    keys: &Keyring,
    tenant: &str,
    size: u64,
) -> Result<(StoredCheckpoint, bool), AppError> {
    if let Some(existing) = checkpoints::at_size(conn, tenant, size).await? {
        return Ok((existing, false));
    }
    let head = TreeHead {
        tenant_id: tenant.to_owned(),
        size,
        root: root_at(conn, tenant, size).await?,
        issued: Utc::now().trunc_subsecs(6),
    };
    let (note, signature) = keys.active().sign(&head);
    let checkpoint = StoredCheckpoint {
        tenant_id: head.tenant_id,
        tree_size: size,
        root_hash: head.root,
        issued_at: head.issued,
        key_id: keys.active().key_id().to_owned(),
        note,
        signature,
    };
    if checkpoints::insert(conn, &checkpoint).await? {
        metrics::counter!("audit_checkpoints_published_total").increment(1);
        tracing::info!(tenant, tree_size = size, root = %hex::encode(checkpoint.root_hash), "checkpoint published");
        return Ok((checkpoint, true));
    }
    let winner = checkpoints::at_size(conn, tenant, size)
        .await?
        .ok_or_else(|| AppError::Corrupt(format!("checkpoint {size} vanished")))?;
    Ok((winner, false))
}

/// The job: one checkpoint for every tenant whose log grew since its last one. Each tenant in
/// its own transaction on the jobs role; a failure is logged and retried on the next round.
pub async fn publish_grown(pool: &PgPool, keys: &Keyring) -> Result<usize, AppError> {
    let tenants = {
        let mut conn = pool.acquire().await?;
        log_store::tenants(&mut conn).await?
    };
    let mut published = 0;
    for tenant in tenants {
        let mut tx = pool.begin().await?;
        let size = log_store::size(&mut tx, &tenant).await?;
        let latest = checkpoints::latest(&mut tx, &tenant)
            .await?
            .map_or(0, |c| c.tree_size);
        if size > latest {
            let (_, created) = publish_at(&mut tx, keys, &tenant, size).await?;
            published += usize::from(created);
        }
        tx.commit().await?;
    }
    Ok(published)
}
