//! Escalation facts: an overdue level is first reminded, then reassigned to the next group of
//! its escalation path. Each step is recorded on the request and published by the service as
//! `approval.escalated.v1`; a manual reassignment (with reason) is a fact of the same shape.

use chrono::{DateTime, Utc};
use domain_kernel::ActorId;
use serde::{Deserialize, Serialize};

use super::chain::Assignment;
use super::{ApprovalLevel, ApprovalRequestId, Reason};

/// What happened to the level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum EscalationKind {
    /// The assigned groups were reminded; the assignment stays.
    #[serde(rename = "REMINDER")]
    Reminder,
    /// The level moved to the next group of its escalation path, by the timer.
    #[serde(rename = "REASSIGNED_BY_ESCALATION")]
    Escalated {
        /// Assignment before.
        from: Assignment,
        /// Assignment after.
        to: Assignment,
    },
    /// Someone reassigned the level by hand.
    #[serde(rename = "REASSIGNED_BY_HAND")]
    Reassigned {
        /// Assignment before.
        from: Assignment,
        /// Assignment after.
        to: Assignment,
        /// Who.
        actor: ActorId,
        /// Why.
        reason: Reason,
    },
}

/// One escalation step of one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalationFact {
    /// The request.
    pub request_id: ApprovalRequestId,
    /// The level.
    pub level: ApprovalLevel,
    /// What happened.
    #[serde(flatten)]
    pub kind: EscalationKind,
    /// Due date before.
    pub due_before: DateTime<Utc>,
    /// Due date after.
    pub due_after: DateTime<Utc>,
    /// When.
    pub at: DateTime<Utc>,
}
