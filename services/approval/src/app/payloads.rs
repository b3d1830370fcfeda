//! Integration-event payloads of the approval service, as serde structs the JSON Schemas in
//! `contracts/schemas/events/approval.*.v1.schema.json` describe: one shape for every approval
//! event, so a consumer (CPQ, the workflow, audit) reads the request's whole summary from any
//! of them without calling back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::events::EventDetail;
use crate::domain::{
    ApprovalEvent, ApprovalLevel, ApprovalRequest, ApprovalStatus, DecisionOutcome, EscalationFact,
    LevelState, Verdict,
};

/// Topic of approval events (architecture §6).
pub const APPROVAL_TOPIC: &str = "cpq.approval.events.v1";
/// Aggregate type in envelopes and audit evidence.
pub const AGGREGATE_TYPE: &str = "ApprovalRequest";

/// The integration event type of `event`, when it has one: the opening, every end of the
/// request (approved, rejected, recalled, expired, superseded) and an escalation step, so a
/// consumer never sees a request stay PENDING after it ended. A decision that leaves the request
/// PENDING leaves audit evidence only (the next end or escalation carries its decisions).
pub fn event_type(event: &ApprovalEvent) -> Option<&'static str> {
    match (&event.detail, event.to) {
        (EventDetail::Requested { .. }, _) => Some("approval.requested.v1"),
        (EventDetail::Decided { .. } | EventDetail::ApprovedByReuse, ApprovalStatus::Approved) => {
            Some("approval.approved.v1")
        }
        (EventDetail::Decided { .. }, ApprovalStatus::Rejected) => Some("approval.rejected.v1"),
        (EventDetail::Escalated(_), _) => Some("approval.escalated.v1"),
        (EventDetail::Superseded { .. }, _) => Some("approval.superseded.v1"),
        (EventDetail::Recalled { .. }, _) => Some("approval.recalled.v1"),
        (EventDetail::Expired, _) => Some("approval.expired.v1"),
        // A decision that leaves levels open.
        _ => None,
    }
}

/// One level of the chain as consumers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelSummary {
    /// The level.
    pub level: ApprovalLevel,
    /// `OPEN`, `SATISFIED`, `SKIPPED` or `REJECTED`.
    pub state: String,
    /// Groups it is assigned to now.
    pub groups: Vec<String>,
}

/// One decision as consumers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionSummary {
    /// The decision record.
    pub decision_id: String,
    /// The level decided.
    pub level: ApprovalLevel,
    /// Approve or reject.
    pub decision: Verdict,
    /// Who acted.
    pub actor_id: String,
    /// For whom, when delegated.
    pub on_behalf_of: Option<String>,
    /// Why, when given.
    pub reason: Option<String>,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// Who caused the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorRef {
    /// The actor id.
    pub actor_id: String,
    /// Its type (`HUMAN_AGENT`, `WORKFLOW_WORKER`, …).
    pub actor_type: String,
    /// The service that acted for them, when one did.
    pub via: Option<String>,
}

/// The payload of every `approval.*.v1` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalPayload {
    /// The request.
    pub request_id: String,
    /// The quote.
    pub quote_id: String,
    /// The quote revision the request is about.
    pub revision: i32,
    /// The price hash it covers.
    pub price_hash: String,
    /// Status before (none for the opening).
    pub from_status: Option<ApprovalStatus>,
    /// Status after.
    pub status: ApprovalStatus,
    /// The policy that required the levels.
    pub policy_id: String,
    /// Its version.
    pub policy_version: String,
    /// The chain, in order.
    pub levels: Vec<LevelSummary>,
    /// Every decision so far, in order.
    pub decisions: Vec<DecisionSummary>,
    /// Why (a reject, a supersession, a reassignment), when given.
    pub reason: Option<String>,
    /// The escalation step, for `approval.escalated.v1`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub escalation: Option<EscalationFact>,
    /// Who caused it.
    pub actor: ActorRef,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

fn state_name(state: &LevelState) -> &'static str {
    match state {
        LevelState::Open => "OPEN",
        LevelState::Satisfied { .. } => "SATISFIED",
        LevelState::Skipped(_) => "SKIPPED",
        LevelState::Rejected { .. } => "REJECTED",
    }
}

impl ApprovalPayload {
    /// The payload of `event`, which `request` (after the event) produced, caused by `actor`.
    pub fn new(request: &ApprovalRequest, event: &ApprovalEvent, actor: ActorRef) -> Self {
        Self {
            request_id: event.request_id.to_string(),
            quote_id: event.quote.quote_id.to_string(),
            revision: event.quote.revision.get(),
            price_hash: event.quote.price_hash.to_string(),
            from_status: event.from,
            status: event.to,
            policy_id: request.snapshot().policy_id.clone(),
            policy_version: request.snapshot().policy_version.clone(),
            levels: request
                .chain()
                .levels()
                .iter()
                .map(|l| LevelSummary {
                    level: l.level,
                    state: state_name(&l.state).to_owned(),
                    groups: l
                        .assignment
                        .groups()
                        .iter()
                        .map(|g| g.to_string())
                        .collect(),
                })
                .collect(),
            decisions: request
                .decisions()
                .iter()
                .map(|d| DecisionSummary {
                    decision_id: d.id.to_string(),
                    level: d.level,
                    decision: d.outcome.verdict(),
                    actor_id: d.actor.to_string(),
                    on_behalf_of: d.on_behalf_of.as_ref().map(ToString::to_string),
                    reason: match &d.outcome {
                        DecisionOutcome::Approve { reason } => {
                            reason.as_ref().map(|r| r.to_string())
                        }
                        DecisionOutcome::Reject { reason } => Some(reason.to_string()),
                    },
                    decided_at: d.decided_at,
                })
                .collect(),
            reason: event.detail.reason().map(ToString::to_string),
            escalation: match &event.detail {
                EventDetail::Escalated(fact) => Some(fact.clone()),
                _ => None,
            },
            actor,
            occurred_at: event.at,
        }
    }
}
