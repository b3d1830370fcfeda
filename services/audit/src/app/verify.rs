//! `/audit/verify`: recomputes a tenant's log over a range from what is stored and names the
//! first entry that no longer matches. Three layers of evidence are checked:
//! 1. each entry's content against its stored leaf hash (`CONTENT_ALTERED`), and its query
//!    columns against its content (`FIELDS_ALTERED`: a dispute query would misattribute it);
//! 2. every perfect subtree recomputed from the contents against the stored one
//!    (`SUBTREE_ALTERED`: content and leaf hash rewritten together);
//! 3. when the range starts at the log's beginning, every signed checkpoint inside it: its
//!    signature and its root against the recomputed root (`CHECKPOINT_MISMATCH`).
//!
//! Redacted entries (the documented redaction procedure) count with their kept leaf hash and
//! are listed, not flagged.

use audit_proof::Hash;
use audit_proof::tree::{self, Subtree};
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{AppError, Keyring};
use crate::infra::checkpoints::{self, StoredCheckpoint};
use crate::infra::log_store;
use crate::infra::reads::{self, StoredEntry};

/// Entries read per round trip.
const PAGE: i64 = 2_000;

/// What is wrong with the stored log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The content no longer hashes to the stored leaf hash.
    ContentAltered,
    /// The query columns no longer agree with the content.
    FieldsAltered,
    /// A stored subtree differs from the one recomputed from the contents.
    SubtreeAltered,
    /// A checkpoint's root differs from the recomputed root, or its signature fails.
    CheckpointMismatch,
}

impl Problem {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContentAltered => "CONTENT_ALTERED",
            Self::FieldsAltered => "FIELDS_ALTERED",
            Self::SubtreeAltered => "SUBTREE_ALTERED",
            Self::CheckpointMismatch => "CHECKPOINT_MISMATCH",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The entry (for a subtree or checkpoint: the first leaf it covers).
    pub leaf_index: u64,
    /// The entry's id, when the finding is about one entry.
    pub audit_event_id: Option<Uuid>,
    /// What is wrong.
    pub problem: Problem,
    /// In words.
    pub detail: String,
}

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// First position checked.
    pub from: u64,
    /// One past the last position checked.
    pub to: u64,
    /// Entries checked.
    pub checked: u64,
    /// Checkpoints whose root and signature were checked.
    pub checkpoints_checked: u64,
    /// The first entry whose stored content no longer matches; else the first subtree or
    /// checkpoint finding.
    pub first_mismatch: Option<Finding>,
    /// How many findings in all.
    pub findings: u64,
    /// Redacted positions in the range.
    pub redacted: Vec<u64>,
}

struct Walk<'k> {
    keys: &'k Keyring,
    stack: Vec<(Subtree, Hash)>,
    completed: Vec<(Subtree, Hash)>,
    entry_finding: Option<Finding>,
    other_finding: Option<Finding>,
    findings: u64,
    checkpoints_checked: u64,
}

impl Walk<'_> {
    fn record(&mut self, finding: Finding) {
        self.findings += 1;
        let slot = match finding.problem {
            Problem::ContentAltered | Problem::FieldsAltered => &mut self.entry_finding,
            Problem::SubtreeAltered | Problem::CheckpointMismatch => &mut self.other_finding,
        };
        if slot
            .as_ref()
            .is_none_or(|known| finding.leaf_index < known.leaf_index)
        {
            *slot = Some(finding);
        }
    }

    fn push(&mut self, index: u64, hash: Hash) {
        self.stack.push((Subtree { level: 0, index }, hash));
        while let [.., (left, left_hash), (right, right_hash)] = self.stack.as_slice() {
            let mergeable = left.level == right.level
                && left.index.is_multiple_of(2)
                && right.index == left.index + 1;
            if !mergeable {
                break;
            }
            let parent = Subtree {
                level: left.level + 1,
                index: left.index / 2,
            };
            let node = tree::node_hash(left_hash, right_hash);
            self.stack.truncate(self.stack.len() - 2);
            self.stack.push((parent, node));
            self.completed.push((parent, node));
        }
    }

    fn check_checkpoint(&mut self, checkpoint: &StoredCheckpoint) {
        self.checkpoints_checked += 1;
        let hashes: Vec<Hash> = self.stack.iter().map(|(_, hash)| *hash).collect();
        let root = tree::fold(&hashes).unwrap_or_else(tree::empty_root);
        // The signature must hold over a note that states exactly the stored size and root
        // (`SignedCheckpoint::verify` checks both): a rewritten root column with the old note
        // and signature is caught here.
        let signed = self
            .keys
            .public_key(&checkpoint.key_id)
            .is_some_and(|key| checkpoint.document().verify(&key).is_ok());
        let problem = if root != checkpoint.root_hash {
            Some(format!(
                "the signed root of size {} is {}, the stored contents give {}",
                checkpoint.tree_size,
                hex::encode(checkpoint.root_hash),
                hex::encode(root)
            ))
        } else if !signed {
            Some(format!(
                "the checkpoint of size {} does not verify under key {}",
                checkpoint.tree_size, checkpoint.key_id
            ))
        } else {
            None
        };
        if let Some(detail) = problem {
            self.record(Finding {
                leaf_index: 0,
                audit_event_id: None,
                problem: Problem::CheckpointMismatch,
                detail,
            });
        }
    }
}

/// Checks positions `[from, to)` of the caller's tenant's log (default: all of it).
pub async fn verify(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    keys: &Keyring,
    from: Option<u64>,
    to: Option<u64>,
) -> Result<VerifyReport, AppError> {
    ctx.authorize(Action::ViewAudit)?;
    let tenant = ctx.tenant_id.as_str().to_owned();
    let size = log_store::size(conn, &tenant).await?;
    let from = from.unwrap_or(0);
    let to = to.unwrap_or(size).min(size);
    if from > to {
        return Err(AppError::TreeSize(format!(
            "fromLeaf {from} is past toLeaf {to} (the log has {size} entries)"
        )));
    }
    let mut pending_checkpoints = if from == 0 {
        checkpoints::up_to(conn, &tenant, to).await?
    } else {
        Vec::new()
    }
    .into_iter()
    .peekable();
    let mut walk = Walk {
        keys,
        stack: Vec::new(),
        completed: Vec::new(),
        entry_finding: None,
        other_finding: None,
        findings: 0,
        checkpoints_checked: 0,
    };
    let mut redacted = Vec::new();
    let mut position = from;
    while position < to {
        let page = reads::in_log_order(conn, &tenant, position as i64, to as i64, PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        position = last.leaf_index as u64 + 1;
        for entry in &page {
            let index = entry.leaf_index as u64;
            let hash = if entry.redacted_at.is_some() {
                redacted.push(index);
                crate::infra::hash_of(&entry.leaf_hash)?
            } else {
                let recomputed = tree::leaf_hash(entry.canonical.as_bytes());
                if let Some(finding) = check_entry(entry, &recomputed) {
                    walk.record(finding);
                }
                recomputed
            };
            walk.push(index, hash);
            while let Some(checkpoint) = pending_checkpoints.next_if(|c| c.tree_size <= index + 1) {
                if checkpoint.tree_size == index + 1 {
                    walk.check_checkpoint(&checkpoint);
                }
            }
        }
        let completed = std::mem::take(&mut walk.completed);
        let wanted: Vec<Subtree> = completed.iter().map(|(subtree, _)| *subtree).collect();
        let stored = log_store::nodes(conn, &tenant, &wanted).await?;
        for (subtree, recomputed) in completed {
            if stored.get(&subtree) != Some(&recomputed) {
                walk.record(Finding {
                    leaf_index: subtree.first_leaf(),
                    audit_event_id: None,
                    problem: Problem::SubtreeAltered,
                    detail: format!(
                        "the stored subtree over entries {}..{} is {} or missing; the contents give {}",
                        subtree.first_leaf(),
                        subtree.end_leaf() - 1,
                        stored.get(&subtree).map_or("absent".into(), hex::encode),
                        hex::encode(recomputed)
                    ),
                });
            }
        }
    }
    Ok(VerifyReport {
        from,
        to,
        checked: position.saturating_sub(from),
        checkpoints_checked: walk.checkpoints_checked,
        first_mismatch: walk.entry_finding.or(walk.other_finding),
        findings: walk.findings,
        redacted,
    })
}

/// The content and column checks of one unredacted entry.
fn check_entry(entry: &StoredEntry, recomputed: &Hash) -> Option<Finding> {
    let finding = |problem, detail: String| {
        Some(Finding {
            leaf_index: entry.leaf_index as u64,
            audit_event_id: Some(entry.audit_event_id),
            problem,
            detail,
        })
    };
    if entry.leaf_hash.as_slice() != recomputed.as_slice() {
        return finding(
            Problem::ContentAltered,
            format!(
                "its content hashes to {}, the stored leaf hash is {}",
                hex::encode(recomputed),
                hex::encode(&entry.leaf_hash)
            ),
        );
    }
    let Ok(document) = serde_json::from_str::<Value>(&entry.canonical) else {
        return finding(Problem::ContentAltered, "its content is not JSON".into());
    };
    let text = |pointer: &str| document.pointer(pointer).and_then(Value::as_str);
    let occurred = text("/occurredAt")
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&Utc));
    let audit_event_id = entry.audit_event_id.to_string();
    let columns = [
        (
            "auditEventId",
            text("/auditEventId") == Some(audit_event_id.as_str()),
        ),
        (
            "tenantId",
            text("/tenantId") == Some(entry.tenant_id.as_str()),
        ),
        (
            "eventType",
            text("/eventType") == Some(entry.event_type.as_str()),
        ),
        ("occurredAt", occurred == Some(entry.occurred_at)),
        (
            "actor.actorId",
            text("/actor/actorId") == Some(entry.actor_id.as_str()),
        ),
        (
            "resource.resourceType",
            text("/resource/resourceType") == Some(entry.resource_type.as_str()),
        ),
        (
            "resource.resourceId",
            text("/resource/resourceId") == Some(entry.resource_id.as_str()),
        ),
        (
            "correlationId",
            text("/correlationId") == Some(entry.correlation_id.as_str()),
        ),
        (
            "businessTransactionId",
            text("/businessTransactionId") == Some(entry.business_transaction_id.as_str()),
        ),
    ];
    let altered: Vec<&str> = columns
        .iter()
        .filter(|(_, agrees)| !agrees)
        .map(|(name, _)| *name)
        .collect();
    if altered.is_empty() {
        None
    } else {
        finding(
            Problem::FieldsAltered,
            format!(
                "its stored query columns disagree with its content: {}",
                altered.join(", ")
            ),
        )
    }
}
