//! How far a revision has been committed to: referred to the approval service (waiting for an
//! approver, or refused by one), approved at an exact price hash, accepted by the customer,
//! converted into an order. Each stage carries the evidence of the ones before it, so "accepted
//! without an approval" cannot be represented.

use chrono::{DateTime, Utc};
use domain_kernel::ActorId;
use serde::Serialize;
use serde_json::Value;

use super::super::OrderId;
use crate::domain::approval::ApprovalRequestRef;

/// The approval in force: the exact price hash it covers, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The price hash approved; acceptance requires the same hash.
    pub price_hash: String,
    /// When.
    pub approved_at: DateTime<Utc>,
    /// Who: the approval service's actor for the outcome (`policy:<version>` for quotes CPQ's
    /// retired in-process policy approved).
    pub approved_by: String,
}

/// What a revision's approval question rests on.
#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalBasis {
    /// A request of the approval service, with the policy that shaped it (ADR 0035).
    Request(ApprovalRequestRef),
    /// The evaluation CPQ's retired in-process policy (`cpq-approval-policy/v1`) stored at a
    /// submit before ADR 0035: kept as stored and shown, never evaluated again.
    LegacyPolicy(Value),
}

impl ApprovalBasis {
    /// The approval service's request, when the basis is one.
    pub fn request(&self) -> Option<&ApprovalRequestRef> {
        match self {
            Self::Request(request) => Some(request),
            Self::LegacyPolicy(_) => None,
        }
    }

    /// The stored v1 evaluation, when the basis is one.
    pub fn legacy_evaluation(&self) -> Option<&Value> {
        match self {
            Self::LegacyPolicy(evaluation) => Some(evaluation),
            Self::Request(_) => None,
        }
    }
}

/// The customer's acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// When.
    pub accepted_at: DateTime<Utc>,
    /// Who.
    pub accepted_by: ActorId,
    /// Through which channel.
    pub channel: String,
    /// Customer's reference (PO number, signature id).
    pub reference: Option<String>,
}

/// The one conversion of a quote into an order.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// The order it became (the same on every repeat).
    pub order_id: OrderId,
    /// Revision converted.
    pub revision: i32,
    /// Frozen price hash.
    pub price_hash: String,
    /// The full frozen snapshot the order is built from.
    pub snapshot: Value,
    /// When.
    pub converted_at: DateTime<Utc>,
    /// Who.
    pub converted_by: ActorId,
}

/// Approval evidence with what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Approved {
    /// The request (or, before ADR 0035, the v1 evaluation) that approved.
    pub basis: ApprovalBasis,
    /// The approval in force.
    pub approval: Approval,
}

/// Where a revision stands between editing and the order.
#[derive(Debug, Clone, PartialEq)]
pub enum Commitment {
    /// Not decided in this revision (being edited, or submitted and waiting for the approval
    /// service).
    Open,
    /// Referred to an approver: waiting for one (APPROVAL_PENDING) or refused by one (REJECTED).
    Referred(ApprovalBasis),
    /// Approved at an exact price hash.
    Approved(Approved),
    /// Accepted by the customer.
    Accepted(Approved, Acceptance),
    /// Converted into an order.
    Converted(Approved, Acceptance, Conversion),
}

impl Commitment {
    /// What the revision's approval stage rests on, once referred or approved.
    pub fn basis(&self) -> Option<&ApprovalBasis> {
        match self {
            Self::Open => None,
            Self::Referred(basis) => Some(basis),
            Self::Approved(approved)
            | Self::Accepted(approved, _)
            | Self::Converted(approved, _, _) => Some(&approved.basis),
        }
    }

    /// The approval in force.
    pub fn approval(&self) -> Option<&Approval> {
        match self {
            Self::Open | Self::Referred(_) => None,
            Self::Approved(approved)
            | Self::Accepted(approved, _)
            | Self::Converted(approved, _, _) => Some(&approved.approval),
        }
    }

    /// The acceptance evidence.
    pub fn acceptance(&self) -> Option<&Acceptance> {
        match self {
            Self::Accepted(_, acceptance) | Self::Converted(_, acceptance, _) => Some(acceptance),
            Self::Open | Self::Referred(_) | Self::Approved(_) => None,
        }
    }

    /// The conversion, once converted.
    pub fn conversion(&self) -> Option<&Conversion> {
        match self {
            Self::Converted(_, _, conversion) => Some(conversion),
            _ => None,
        }
    }
}

/// The approval part of the frozen snapshot.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ApprovalSnapshot<'a> {
    pub approved_at: DateTime<Utc>,
    pub approved_by: &'a str,
    /// The approval service's request and policy (null for a v1 approval).
    pub approval_request_id: Option<String>,
    pub policy_id: Option<&'a str>,
    pub policy_version: Option<&'a str>,
    /// The v1 evaluation a quote approved before ADR 0035 rests on (null otherwise).
    pub policy_evaluation: Option<&'a Value>,
}

impl<'a> ApprovalSnapshot<'a> {
    /// The snapshot of `approved`.
    pub(super) fn of(approved: &'a Approved) -> Self {
        let request = approved.basis.request();
        Self {
            approved_at: approved.approval.approved_at,
            approved_by: &approved.approval.approved_by,
            approval_request_id: request.map(|r| r.request_id.to_string()),
            policy_id: request.map(|r| r.policy_id.as_str()),
            policy_version: request.map(|r| r.policy_version.as_str()),
            policy_evaluation: approved.basis.legacy_evaluation(),
        }
    }
}

/// The acceptance part of the frozen snapshot.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AcceptanceSnapshot<'a> {
    pub accepted_at: DateTime<Utc>,
    pub accepted_by: &'a ActorId,
    pub channel: &'a str,
    pub reference: Option<&'a str>,
}
