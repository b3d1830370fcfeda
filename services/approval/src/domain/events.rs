//! What approval commands emit: one typed event per transition, with what its history row,
//! audit evidence and integration event (`approval.requested/approved/rejected/escalated/
//! recalled/expired/superseded.v1`) need.

use chrono::{DateTime, Utc};
use domain_kernel::ActorId;
use domain_kernel::version::Version;
use serde::Serialize;

use super::decision::Decision;
use super::escalation::EscalationFact;
use super::lifecycle::{ApprovalCommand, ApprovalStatus};
use super::{ApprovalLevel, ApprovalRequestId, QuoteRef, Reason};

/// One transition of a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalEvent {
    /// The request.
    pub request_id: ApprovalRequestId,
    /// The quote revision and hash it concerns.
    pub quote: QuoteRef,
    /// The table's command (none for creation).
    pub command: Option<ApprovalCommand>,
    /// Status before (none for creation).
    pub from: Option<ApprovalStatus>,
    /// Status after.
    pub to: ApprovalStatus,
    /// Aggregate version after.
    pub version: Version,
    /// When.
    pub at: DateTime<Utc>,
    /// Fields of this kind.
    pub detail: EventDetail,
}

/// The kind of transition and its own fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum EventDetail {
    /// The request opened (PENDING or NOT_REQUIRED): `approval.requested.v1`.
    Requested {
        /// Who submitted.
        submitter: ActorId,
        /// Levels still to decide, in order.
        open_levels: Vec<ApprovalLevel>,
        /// Levels skipped by smart re-approval.
        skipped_levels: Vec<ApprovalLevel>,
    },
    /// A decision was recorded. The event's `to` tells what it did: PENDING (levels still
    /// open), APPROVED (the last level satisfied: `approval.approved.v1`) or REJECTED
    /// (`approval.rejected.v1`).
    Decided {
        /// The record.
        decision: Decision,
        /// Whether it satisfied its level.
        level_satisfied: bool,
    },
    /// The chain was complete from the start (every level skipped by smart re-approval).
    ApprovedByReuse,
    /// Recalled by the submitter: `approval.recalled.v1`.
    Recalled {
        /// Who.
        actor: ActorId,
        /// Why.
        reason: Reason,
    },
    /// Time ran out: `approval.expired.v1`.
    Expired,
    /// The quote's commercial terms changed: `approval.superseded.v1`.
    Superseded {
        /// Why (the quote command that changed them).
        reason: Reason,
    },
    /// An escalation step or reassignment: `approval.escalated.v1`.
    Escalated(EscalationFact),
}

impl EventDetail {
    /// The business reason the transition carries, if any (a reject, an approval's comment, a
    /// recall, a supersession, a reassignment): history and audit evidence answer "why" from it.
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Recalled { reason, .. } | Self::Superseded { reason } => Some(reason),
            Self::Decided { decision, .. } => match &decision.outcome {
                super::DecisionOutcome::Approve { reason } => reason.as_ref(),
                super::DecisionOutcome::Reject { reason } => Some(reason),
            },
            Self::Escalated(fact) => match &fact.kind {
                super::EscalationKind::Reassigned { reason, .. } => Some(reason),
                _ => None,
            },
            Self::Requested { .. } | Self::ApprovedByReuse | Self::Expired => None,
        }
    }
}
