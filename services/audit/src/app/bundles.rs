//! Evidence bundles: one resource's entries, each with its inclusion proof against one signed
//! checkpoint that covers them all (published now when the newest does not), and the key that
//! signed it. The document proves itself offline (`audit-verify`).

use audit_proof::bundle::{BUNDLE_FORMAT, BundleEntry, EvidenceBundle};
use audit_proof::checkpoint::note_time;
use audit_proof::tree;
use chrono::Utc;
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use serde_json::Value;
use sqlx::PgConnection;

use super::checkpoints::publish;
use super::{AppError, Keyring};
use crate::domain::ResourceType;
use crate::infra::checkpoints;
use crate::infra::log_store;
use crate::infra::reads::{self, EntryFilter};

/// The most entries one bundle carries.
pub const MAX_BUNDLE_ENTRIES: usize = 5_000;

/// The bundle of a resource.
pub async fn bundle(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    keys: &Keyring,
    resource_type: &ResourceType,
    resource_id: &str,
) -> Result<EvidenceBundle, AppError> {
    ctx.authorize(Action::ViewAudit)?;
    let tenant = ctx.tenant_id.as_str().to_owned();
    let entries = reads::list(
        conn,
        &EntryFilter {
            resource_type: Some(resource_type.as_str().to_owned()),
            resource_id: Some(resource_id.to_owned()),
            limit: MAX_BUNDLE_ENTRIES as i64 + 1,
            ..EntryFilter::default()
        },
    )
    .await?;
    if entries.is_empty() {
        return Err(AppError::NoEvidence(
            resource_type.to_string(),
            resource_id.to_owned(),
        ));
    }
    if entries.len() > MAX_BUNDLE_ENTRIES {
        return Err(AppError::BundleTooLarge(
            resource_type.to_string(),
            resource_id.to_owned(),
            entries.len(),
            MAX_BUNDLE_ENTRIES,
        ));
    }
    let newest = entries
        .iter()
        .map(|e| e.leaf_index as u64)
        .max()
        .unwrap_or(0);
    let checkpoint = match checkpoints::latest(conn, &tenant).await? {
        Some(latest) if latest.tree_size > newest => latest,
        _ => publish(conn, keys, &tenant).await?.0,
    };
    let size = checkpoint.tree_size;
    let plans = entries
        .iter()
        .map(|entry| tree::inclusion_plan(size, entry.leaf_index as u64))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::Corrupt(e.to_string()))?;
    let wanted: Vec<_> = plans.iter().flat_map(tree::subtrees_of).collect();
    let stored = log_store::fetch(conn, &tenant, &wanted).await?;
    let mut proved = Vec::with_capacity(entries.len());
    let mut redacted = Vec::new();
    for (entry, plan) in entries.iter().zip(&plans) {
        if entry.redacted_at.is_some() {
            redacted.push(entry.leaf_index as u64);
            continue;
        }
        let document: Value = serde_json::from_str(&entry.canonical).map_err(|e| {
            AppError::Corrupt(format!("entry {} is not JSON: {e}", entry.leaf_index))
        })?;
        proved.push(BundleEntry {
            leaf_index: entry.leaf_index as u64,
            leaf_hash: hex::encode(&entry.leaf_hash),
            entry: document,
            inclusion_proof: tree::assemble(plan, &stored)?
                .iter()
                .map(hex::encode)
                .collect(),
        });
    }
    let signing_key = keys.document(&checkpoint.key_id).ok_or_else(|| {
        AppError::Corrupt(format!(
            "checkpoint {} was signed by key {}, which is neither active nor retired",
            size, checkpoint.key_id
        ))
    })?;
    Ok(EvidenceBundle {
        format: BUNDLE_FORMAT.to_owned(),
        tenant_id: tenant,
        resource_type: resource_type.to_string(),
        resource_id: resource_id.to_owned(),
        exported_at: note_time(Utc::now()),
        checkpoint: checkpoint.document(),
        signing_key,
        entries: proved,
        redacted,
    })
}
