//! What CPQ keeps of each approval request the approval service publishes (ADR 0035): the
//! latest version of its status, chain and decisions, shown with the quote's current revision.
//! Evidence only: whether an event moves the quote is [`super::approval::screen`]'s question.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::QuoteId;
use super::approval::{ApprovalRequestRef, ApprovalStatus};

/// One level of a request's chain, as the approval service published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelEvidence {
    /// The level (`MANAGER`, `DIRECTOR`, `FINANCE`).
    pub level: String,
    /// `OPEN`, `SATISFIED`, `SKIPPED` or `REJECTED`.
    pub state: String,
    /// Groups it is assigned to.
    pub groups: Vec<String>,
}

/// One decision on a request, as the approval service published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionEvidence {
    /// The decision record.
    pub decision_id: String,
    /// The level decided.
    pub level: String,
    /// `APPROVE` or `REJECT`.
    pub decision: String,
    /// Who decided.
    pub actor_id: String,
    /// For whom, when delegated.
    pub on_behalf_of: Option<String>,
    /// Why, when given.
    pub reason: Option<String>,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// What CPQ knows about one approval request: the latest version the approval service
/// published. Kept per request, shown for the quote's current revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEvidence {
    /// The request and its policy.
    pub request: ApprovalRequestRef,
    /// The quote.
    pub quote_id: QuoteId,
    /// The quote revision.
    pub revision: i32,
    /// The price hash it covers.
    pub price_hash: String,
    /// Its status.
    pub status: ApprovalStatus,
    /// The chain, in order.
    pub levels: Vec<LevelEvidence>,
    /// Every decision so far, in order.
    pub decisions: Vec<DecisionEvidence>,
    /// The request's aggregate version at the approval service.
    pub request_version: i64,
    /// When the approval service says the last fact happened.
    pub occurred_at: DateTime<Utc>,
}
