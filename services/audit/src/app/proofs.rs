//! Inclusion and consistency proofs from the stored subtrees, against a tree size the caller
//! names or, by default, the newest checkpoint (published first when the entry is newer).

use audit_proof::Hash;
use audit_proof::tree::{self, PlanError};
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;
use uuid::Uuid;

use super::checkpoints::{publish, root_at};
use super::{AppError, Keyring};
use crate::infra::checkpoints::{self, StoredCheckpoint};
use crate::infra::log_store;
use crate::infra::reads::{self, StoredEntry};

/// An entry's inclusion proof.
#[derive(Debug, Clone)]
pub struct InclusionAnswer {
    /// The entry.
    pub entry: StoredEntry,
    /// The tree size it is proved in.
    pub tree_size: u64,
    /// That tree's root.
    pub root: Hash,
    /// The audit path, bottom up.
    pub path: Vec<Hash>,
    /// The signed checkpoint of that size, when one exists.
    pub checkpoint: Option<StoredCheckpoint>,
}

fn tree_size_error(error: PlanError) -> AppError {
    AppError::TreeSize(error.to_string())
}

/// The audit path of entry `id` in the tree of `tree_size` entries (default: the newest
/// checkpoint that covers it, published now if none does).
pub async fn inclusion(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    keys: &Keyring,
    id: Uuid,
    tree_size: Option<u64>,
) -> Result<InclusionAnswer, AppError> {
    ctx.authorize(Action::ViewAudit)?;
    let entry = reads::by_id(conn, id)
        .await?
        .ok_or(AppError::EntryNotFound(id))?;
    let tenant = entry.tenant_id.clone();
    let leaf = entry.leaf_index as u64;
    let size = log_store::size(conn, &tenant).await?;
    let (tree_size, checkpoint) = match tree_size {
        Some(requested) if requested > size => {
            return Err(AppError::TreeSize(format!(
                "the log has {size} entries, fewer than treeSize {requested}"
            )));
        }
        Some(requested) => (
            requested,
            checkpoints::at_size(conn, &tenant, requested).await?,
        ),
        None => {
            let covering = match checkpoints::latest(conn, &tenant).await? {
                Some(latest) if latest.tree_size > leaf => latest,
                _ => publish(conn, keys, &tenant).await?.0,
            };
            (covering.tree_size, Some(covering))
        }
    };
    let plan = tree::inclusion_plan(tree_size, leaf).map_err(tree_size_error)?;
    let stored = log_store::fetch(conn, &tenant, &tree::subtrees_of(&plan)).await?;
    let path = tree::assemble(&plan, &stored)?;
    let root = match &checkpoint {
        Some(signed) => signed.root_hash,
        None => root_at(conn, &tenant, tree_size).await?,
    };
    Ok(InclusionAnswer {
        entry,
        tree_size,
        root,
        path,
        checkpoint,
    })
}

/// A consistency proof between two tree sizes.
#[derive(Debug, Clone)]
pub struct ConsistencyAnswer {
    /// Older size.
    pub from: u64,
    /// Newer size.
    pub to: u64,
    /// Older root.
    pub from_root: Hash,
    /// Newer root.
    pub to_root: Hash,
    /// The proof.
    pub path: Vec<Hash>,
    /// Signed checkpoints at either size, when published.
    pub from_checkpoint: Option<StoredCheckpoint>,
    /// See `from_checkpoint`.
    pub to_checkpoint: Option<StoredCheckpoint>,
}

/// The proof that the log of `from` entries is a prefix of the log of `to` entries (default:
/// the newest checkpoint's size).
pub async fn consistency(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    from: u64,
    to: Option<u64>,
) -> Result<ConsistencyAnswer, AppError> {
    ctx.authorize(Action::ViewAudit)?;
    let tenant = ctx.tenant_id.as_str().to_owned();
    let size = log_store::size(conn, &tenant).await?;
    let to = match to {
        Some(to) => to,
        None => {
            checkpoints::latest(conn, &tenant)
                .await?
                .ok_or(AppError::NoCheckpoint)?
                .tree_size
        }
    };
    if to > size {
        return Err(AppError::TreeSize(format!(
            "the log has {size} entries, fewer than to={to}"
        )));
    }
    let plan = tree::consistency_plan(from, to).map_err(tree_size_error)?;
    let stored = log_store::fetch(conn, &tenant, &tree::subtrees_of(&plan)).await?;
    Ok(ConsistencyAnswer {
        from,
        to,
        from_root: root_at(conn, &tenant, from).await?,
        to_root: root_at(conn, &tenant, to).await?,
        path: tree::assemble(&plan, &stored)?,
        from_checkpoint: checkpoints::at_size(conn, &tenant, from).await?,
        to_checkpoint: checkpoints::at_size(conn, &tenant, to).await?,
    })
}
