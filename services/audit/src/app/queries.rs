//! The dispute queries: entries by resource, actor, business transaction or correlation within
//! a time range; one entry; a resource's timeline with what each decision changed; the
//! quarantine; the newest checkpoint.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::AppError;
use crate::domain::diff::{Change, diff};
use crate::infra::checkpoints::{self, StoredCheckpoint};
use crate::infra::quarantine::{self, Quarantined};
use crate::infra::reads::{self, EntryFilter, StoredEntry};

/// A page of entries.
pub async fn entries(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    filter: &EntryFilter,
) -> Result<Vec<StoredEntry>, AppError> {
    ctx.authorize(Action::ViewAudit)?;
    Ok(reads::list(conn, filter).await?)
}

/// One entry.
pub async fn entry(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
) -> Result<StoredEntry, AppError> {
    ctx.authorize(Action::ViewAudit)?;
    reads::by_id(conn, id)
        .await?
        .ok_or(AppError::EntryNotFound(id))
}

/// One step of a timeline: the entry, its content, and what it changed.
#[derive(Debug, Clone)]
pub struct TimelineStep {
    /// The entry.
    pub entry: StoredEntry,
    /// Its content (`None` when redacted).
    pub document: Option<Value>,
    /// `before` → `after`, leaf by leaf.
    pub changes: Vec<Change>,
}

/// A page of a resource's decisions in order, with their diffs.
pub async fn timeline(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    filter: &EntryFilter,
) -> Result<Vec<TimelineStep>, AppError> {
    ctx.authorize(Action::ViewAudit)?;
    let entries = reads::list(conn, filter).await?;
    entries
        .into_iter()
        .map(|entry| {
            if entry.redacted_at.is_some() {
                return Ok(TimelineStep {
                    entry,
                    document: None,
                    changes: Vec::new(),
                });
            }
            let document: Value = serde_json::from_str(&entry.canonical).map_err(|e| {
                AppError::Corrupt(format!("entry {} is not JSON: {e}", entry.leaf_index))
            })?;
            let state = |field: &str| document.get(field).filter(|v| !v.is_null());
            let changes = diff(state("before"), state("after"));
            Ok(TimelineStep {
                entry,
                document: Some(document),
                changes,
            })
        })
        .collect()
}

/// The caller's tenant's quarantined evidence and how much there is.
pub async fn quarantined(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    limit: i64,
) -> Result<(Vec<Quarantined>, i64), AppError> {
    ctx.authorize(Action::ViewAudit)?;
    Ok(quarantine::list(conn, limit).await?)
}

/// The newest checkpoint of the caller's tenant's log.
pub async fn latest_checkpoint(
    conn: &mut PgConnection,
    ctx: &RequestContext,
) -> Result<StoredCheckpoint, AppError> {
    ctx.authorize(Action::ViewAudit)?;
    checkpoints::latest(conn, ctx.tenant_id.as_str())
        .await?
        .ok_or(AppError::NoCheckpoint)
}
