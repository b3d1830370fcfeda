//! The approval evidence a quote shows: the latest request the approval service published for
//! the quote's current revision (ADR 0035), read from CPQ's own copy, never fetched live.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ports::StoredEvidence;
use crate::domain::approval::ApprovalStatus;

/// Where an approval request stands (the approval service's state machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalRequestStatusView {
    /// The policy required no approval.
    NotRequired,
    /// Waiting for approvers.
    Pending,
    /// Every level approved.
    Approved,
    /// An approver rejected.
    Rejected,
    /// Recalled by the submitter.
    Cancelled,
    /// Ran out of time.
    Expired,
    /// The quote's commercial terms changed.
    Superseded,
}

impl From<ApprovalStatus> for ApprovalRequestStatusView {
    fn from(status: ApprovalStatus) -> Self {
        match status {
            ApprovalStatus::NotRequired => Self::NotRequired,
            ApprovalStatus::Pending => Self::Pending,
            ApprovalStatus::Approved => Self::Approved,
            ApprovalStatus::Rejected => Self::Rejected,
            ApprovalStatus::Cancelled => Self::Cancelled,
            ApprovalStatus::Expired => Self::Expired,
            ApprovalStatus::Superseded => Self::Superseded,
        }
    }
}

/// One level of the approval chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalLevelView {
    /// The level (`MANAGER`, `DIRECTOR`, `FINANCE`).
    pub level: String,
    /// `OPEN`, `SATISFIED`, `SKIPPED` or `REJECTED`.
    pub state: String,
    /// Groups it is assigned to.
    pub groups: Vec<String>,
}

/// One approver's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalDecisionView {
    /// Who decided.
    pub actor: String,
    /// For whom, when the decision was delegated.
    pub on_behalf_of: Option<String>,
    /// The level decided.
    pub level: String,
    /// `APPROVE` or `REJECT`.
    pub decision: String,
    /// Why, when given.
    pub reason: Option<String>,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// The latest approval request the approval service published for the quote's current
/// revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequestView {
    /// The approval service's request id.
    pub request_id: Uuid,
    /// Its status.
    pub status: ApprovalRequestStatusView,
    /// The policy that required its levels.
    pub policy_id: String,
    /// The policy's version.
    pub policy_version: String,
    /// The price hash it covers (an approval of one price never approves another).
    pub price_hash: String,
    /// The chain, in order.
    pub levels: Vec<ApprovalLevelView>,
    /// Every decision so far, in order.
    pub decisions: Vec<ApprovalDecisionView>,
    /// When CPQ last heard of it.
    pub updated_at: DateTime<Utc>,
}

/// The view of stored evidence.
pub fn approval_request_view(stored: &StoredEvidence) -> ApprovalRequestView {
    let evidence = &stored.evidence;
    ApprovalRequestView {
        request_id: evidence.request.request_id.as_uuid(),
        status: evidence.status.into(),
        policy_id: evidence.request.policy_id.clone(),
        policy_version: evidence.request.policy_version.clone(),
        price_hash: evidence.price_hash.clone(),
        levels: evidence
            .levels
            .iter()
            .map(|l| ApprovalLevelView {
                level: l.level.clone(),
                state: l.state.clone(),
                groups: l.groups.clone(),
            })
            .collect(),
        decisions: evidence
            .decisions
            .iter()
            .map(|d| ApprovalDecisionView {
                actor: d.actor_id.clone(),
                on_behalf_of: d.on_behalf_of.clone(),
                level: d.level.clone(),
                decision: d.decision.clone(),
                reason: d.reason.clone(),
                decided_at: d.decided_at,
            })
            .collect(),
        updated_at: stored.updated_at,
    }
}
