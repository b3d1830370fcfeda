//! The fallout workbench's wire shapes: a record, the queue's page and summary, the actions'
//! requests and answers, the bulk request and its per-record results.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Fallout;
use crate::infra::fallout::FalloutGroup;

/// A fallout record.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FalloutRecordView {
    /// The record.
    pub fallout_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// The item.
    pub order_item_id: Option<Uuid>,
    /// The task.
    pub task_id: Option<Uuid>,
    /// LOW, MEDIUM, HIGH or CRITICAL.
    pub severity: String,
    /// CAPTURE, VALIDATION, DECOMPOSITION, EXTERNAL_REJECTION, RETRIES_EXHAUSTED, COMPENSATION,
    /// CANCELLATION, RECONCILIATION or WORKFLOW.
    pub category: String,
    /// OPEN, ASSIGNED, RETRY_SCHEDULED, WAITING_EXTERNAL, MANUAL_ACTION_REQUIRED, RESOLVED or
    /// CLOSED.
    pub status: String,
    /// Stable code of the failure.
    pub failure_code: String,
    /// Explanation.
    pub message: String,
    /// Whether a retry as is can succeed.
    pub retryable: bool,
    /// Owning team.
    pub owner_team: String,
    /// The operator who has it.
    pub assignee: Option<String>,
    /// Raised at.
    pub created_at: DateTime<Utc>,
    /// The last retry or failure.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Resolved at.
    pub resolved_at: Option<DateTime<Utc>>,
    /// How it was resolved.
    pub resolution_type: Option<String>,
    /// The resolver's note.
    pub resolution_note: Option<String>,
    /// Bumped on every change.
    pub version: i64,
}

impl From<&Fallout> for FalloutRecordView {
    fn from(f: &Fallout) -> Self {
        Self {
            fallout_id: f.id.as_uuid(),
            order_id: f.order.as_uuid(),
            order_item_id: f.item.map(|i| i.as_uuid()),
            task_id: f.task.map(|t| t.as_uuid()),
            severity: f.severity.as_str().to_owned(),
            category: f.category.as_str().to_owned(),
            status: f.status.as_str().to_owned(),
            failure_code: f.failure_code.clone(),
            message: f.message.clone(),
            retryable: f.retryable,
            owner_team: f.owner_team.clone(),
            assignee: f.assignee.clone(),
            created_at: f.created_at,
            last_attempt_at: f.last_attempt_at,
            resolved_at: f.resolved_at,
            resolution_type: f.resolution_type.map(|r| r.as_str().to_owned()),
            resolution_note: f.resolution_note.clone(),
            version: f.version,
        }
    }
}

/// A page of the queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FalloutPage {
    /// Oldest first.
    pub items: Vec<FalloutRecordView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

/// The queue's grouped counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FalloutSummary {
    /// One group per status, category, team and severity.
    pub groups: Vec<FalloutGroup>,
    /// Records counted.
    pub total: i64,
}

/// What every workbench action carries: why, and what it rests on.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionRequest {
    /// The action: ASSIGN, AWAIT_EXTERNAL, RETRY, RETRY_WITH_CORRECTION, SKIP, FORCE_COMPLETE,
    /// FAIL_ITEM, ABORT_ORDER, CLOSE (the seed's repair commands map onto these: RetryFailedBillingTrigger
    /// is RETRY on a billing task, MarkExternalTaskAsSucceededAfterVerification is
    /// FORCE_COMPLETE, CloseFalloutWithManualResolution is CLOSE).
    pub action: ActionKind,
    /// Why, in words (required).
    pub reason: String,
    /// What the action rests on: a ticket, a downstream check, a screenshot reference
    /// (required, at least one entry).
    #[schema(value_type = Object)]
    pub evidence: Map<String, Value>,
    /// ASSIGN: the operator.
    #[serde(default)]
    pub assignee: Option<String>,
    /// ASSIGN: another owning team.
    #[serde(default)]
    pub owner_team: Option<String>,
    /// RETRY_WITH_CORRECTION: characteristics to set on the item (null removes one).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub corrected_characteristics: Option<Map<String, Value>>,
    /// FORCE_COMPLETE: the downstream's reference of the effect, as verified.
    #[serde(default)]
    pub external_reference: Option<String>,
}

/// A workbench action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionKind {
    /// Give it to an operator.
    Assign,
    /// Retry a retryable failure as is.
    Retry,
    /// Redo the failed task with corrected item data.
    RetryWithCorrection,
    /// Settle the task as not needed.
    Skip,
    /// Settle the task as applied, verified downstream (privileged).
    ForceComplete,
    /// Give up on the item.
    FailItem,
    /// Give up on the order.
    AbortOrder,
    /// Close with a manual resolution (an undo by hand, or resolved outside the platform).
    Close,
    /// Wait for a downstream's answer (a ticket with the downstream).
    AwaitExternal,
}

/// An action's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    /// The record after the action.
    pub fallout: FalloutRecordView,
    /// The order's status after the action.
    pub order_status: String,
    /// False when the action found its work done (a repeat).
    pub changed: bool,
}

/// A bulk action: one action over a filter or a list of records.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkActionRequest {
    /// The action and what it rests on (ASSIGN, RETRY, SKIP, FAIL_ITEM, ABORT_ORDER, CLOSE).
    #[serde(flatten)]
    pub action: ActionRequest,
    /// These records (or use `filter`).
    #[serde(default)]
    pub fallout_ids: Option<Vec<Uuid>>,
    /// The records matching this (or use `falloutIds`).
    #[serde(default)]
    pub filter: Option<BulkFilter>,
}

/// Which records a bulk action takes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkFilter {
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Owning team.
    #[serde(default)]
    pub owner_team: Option<String>,
    /// One order's.
    #[serde(default)]
    pub order_id: Option<Uuid>,
    /// Raised before.
    #[serde(default)]
    pub older_than: Option<DateTime<Utc>>,
}

/// One record's result in a bulk action.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkItemResult {
    /// The record.
    pub fallout_id: Uuid,
    /// APPLIED, UNCHANGED (already done) or REFUSED.
    pub outcome: String,
    /// The refusal's stable code.
    pub code: Option<String>,
    /// The refusal's words.
    pub detail: Option<String>,
}

/// A bulk action's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkActionResult {
    /// One result per record, in the order taken.
    pub results: Vec<BulkItemResult>,
    /// Records the action applied to.
    pub applied: usize,
    /// Records already in the asked state.
    pub unchanged: usize,
    /// Records refused.
    pub refused: usize,
}
