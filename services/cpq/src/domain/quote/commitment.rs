//! How far a revision has been committed to: evaluated by the approval policy, approved at an
//! exact price hash, accepted by the customer, converted into an order. Each stage carries the
//! evidence of the ones before it, so "accepted without an approval" cannot be represented.

use chrono::{DateTime, Utc};
use domain_kernel::ActorId;
use serde::Serialize;
use serde_json::Value;

use super::super::OrderId;
use crate::domain::approval::PolicyEvaluation;

/// The approval in force: the exact price hash it covers, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The price hash approved; acceptance requires the same hash.
    pub price_hash: String,
    /// When.
    pub approved_at: DateTime<Utc>,
    /// Who (`policy:<version>` when no approver was needed).
    pub approved_by: String,
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

/// Approval evidence with the evaluation it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Approved {
    /// The policy's evaluation at submit.
    pub evaluation: PolicyEvaluation,
    /// The approval in force.
    pub approval: Approval,
}

/// Where a revision stands between editing and the order.
#[derive(Debug, Clone, PartialEq)]
pub enum Commitment {
    /// Not submitted in this revision.
    Open,
    /// Submitted: the policy decided an approver must look (or one rejected it).
    Evaluated(PolicyEvaluation),
    /// Approved at an exact price hash.
    Approved(Approved),
    /// Accepted by the customer.
    Accepted(Approved, Acceptance),
    /// Converted into an order.
    Converted(Approved, Acceptance, Conversion),
}

impl Commitment {
    /// The policy evaluation of the last submit in this revision.
    pub fn evaluation(&self) -> Option<&PolicyEvaluation> {
        match self {
            Self::Open => None,
            Self::Evaluated(evaluation) => Some(evaluation),
            Self::Approved(approved)
            | Self::Accepted(approved, _)
            | Self::Converted(approved, _, _) => Some(&approved.evaluation),
        }
    }

    /// The approval in force.
    pub fn approval(&self) -> Option<&Approval> {
        match self {
            Self::Open | Self::Evaluated(_) => None,
            Self::Approved(approved)
            | Self::Accepted(approved, _)
            | Self::Converted(approved, _, _) => Some(&approved.approval),
        }
    }

    /// The acceptance evidence.
    pub fn acceptance(&self) -> Option<&Acceptance> {
        match self {
            Self::Accepted(_, acceptance) | Self::Converted(_, acceptance, _) => Some(acceptance),
            Self::Open | Self::Evaluated(_) | Self::Approved(_) => None,
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
    pub policy_evaluation: &'a PolicyEvaluation,
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
