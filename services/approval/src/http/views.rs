//! What the API answers about requests: the request with its whole evidence (policy snapshot
//! with every rule and tested value, the chain with assignment, due date and state, decisions,
//! skips, escalations and history), a summary for lists, and a decision. Mapped here from the
//! aggregate and the application's read models, so neither leaks into the contract.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

pub use super::chain_views::{ComparisonView, EscalationView, LevelView, SkipView};
use super::dto::{LevelName, StatusName, VerdictName};
use crate::app::ports::HistoryEntry;
use crate::app::queries::RequestEvidence;
use crate::domain::{ApprovalRequest, Decision, DecisionOutcome, RiskDirection, RuleEvaluation};

/// The policy evaluation the request holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    /// Policy id (the DMN definitions id).
    pub policy_id: String,
    /// Its declared version.
    pub policy_version: String,
    /// SHA-256 of the policy file evaluated.
    pub policy_sha256: String,
    /// Levels the rules required, in chain order.
    pub required_levels: Vec<LevelName>,
    /// Every rule that fired, with the value it tested.
    pub rules: Vec<RuleView>,
}

/// One rule that fired.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    /// Rule id within the policy.
    pub rule_id: String,
    /// The input it tested.
    pub input: String,
    /// The value observed (decimal string).
    #[schema(example = "30")]
    pub tested_value: String,
    /// The threshold it was compared with (decimal string).
    pub threshold: String,
    /// `HIGHER_IS_RISKIER` or `LOWER_IS_RISKIER`.
    pub risk: String,
    /// The level it requires.
    pub required_level: LevelName,
}

/// The wire name of a risk direction.
pub(super) fn risk(direction: RiskDirection) -> String {
    match direction {
        RiskDirection::HigherIsRiskier => "HIGHER_IS_RISKIER",
        RiskDirection::LowerIsRiskier => "LOWER_IS_RISKIER",
    }
    .to_owned()
}

impl From<&RuleEvaluation> for RuleView {
    fn from(rule: &RuleEvaluation) -> Self {
        Self {
            rule_id: rule.rule_id.clone(),
            input: rule.input.clone(),
            tested_value: rule.tested_value.to_string(),
            threshold: rule.threshold.to_string(),
            risk: risk(rule.risk),
            required_level: rule.required_level.into(),
        }
    }
}

/// One decision record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionView {
    /// Its id.
    pub id: Uuid,
    /// The level decided.
    pub level: LevelName,
    /// The group it counts for.
    pub group: String,
    /// Approve or reject.
    pub decision: VerdictName,
    /// Who acted.
    pub actor_id: String,
    /// For whom, when delegated.
    pub on_behalf_of: Option<String>,
    /// The delegation used, when delegated.
    pub delegation_id: Option<Uuid>,
    /// Why, when given.
    pub reason: Option<String>,
    /// The price hash decided on.
    pub price_hash: String,
    /// When.
    pub decided_at: DateTime<Utc>,
}

impl From<&Decision> for DecisionView {
    fn from(d: &Decision) -> Self {
        let reason = match &d.outcome {
            DecisionOutcome::Approve { reason } => reason.as_ref().map(|r| r.to_string()),
            DecisionOutcome::Reject { reason } => Some(reason.to_string()),
        };
        Self {
            id: d.id.as_uuid(),
            level: d.level.into(),
            group: d.group.to_string(),
            decision: d.outcome.verdict().into(),
            actor_id: d.actor.to_string(),
            on_behalf_of: d.on_behalf_of.as_ref().map(ToString::to_string),
            delegation_id: d.delegation.map(|id| id.as_uuid()),
            reason,
            price_hash: d.price_hash.to_string(),
            decided_at: d.decided_at,
        }
    }
}

/// One transition of the request's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    /// `OPEN`, `RECORD_APPROVAL`, `COMPLETE_APPROVAL`, `REJECT`, `RECALL`, `EXPIRE`,
    /// `SUPERSEDE`, `ESCALATE` or `REASSIGN`.
    pub command: String,
    /// Status before (none for the opening).
    pub from_status: Option<StatusName>,
    /// Status after.
    pub to_status: StatusName,
    /// Version after.
    pub version: i64,
    /// Who acted.
    pub actor_id: String,
    /// As what (`HUMAN_AGENT`, `WORKFLOW_WORKER`, …).
    pub actor_type: String,
    /// The service that carried the command, when one did.
    pub via: Option<String>,
    /// Why, when given.
    pub reason: Option<String>,
    /// The transition's own facts.
    #[schema(value_type = Object)]
    pub details: Value,
    /// Correlation id of the command.
    pub correlation_id: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

impl From<&HistoryEntry> for HistoryView {
    fn from(h: &HistoryEntry) -> Self {
        Self {
            command: h.command.map_or("OPEN", |c| c.as_str()).to_owned(),
            from_status: h.from.map(Into::into),
            to_status: h.to.into(),
            version: h.version,
            actor_id: h.actor.to_string(),
            actor_type: h.actor_type.as_str().to_owned(),
            via: h.via.clone(),
            reason: h.reason.clone(),
            details: h.details.clone(),
            correlation_id: h.correlation_id.clone(),
            occurred_at: h.occurred_at,
        }
    }
}

/// An approval request with its whole evidence.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequestView {
    /// The request.
    pub id: Uuid,
    /// The quote.
    pub quote_id: Uuid,
    /// The quote revision it is about.
    pub revision: i32,
    /// The price hash it covers.
    pub price_hash: String,
    /// Where it stands.
    pub status: StatusName,
    /// Who submitted the quote (never decides it).
    pub submitted_by: String,
    /// The level waiting for a decision, while PENDING.
    pub open_level: Option<LevelName>,
    /// The workflow engine's process instance running the chain (a decimal key), once started.
    #[schema(example = "2251799813685249")]
    pub process_instance_key: Option<String>,
    /// When a PENDING request's time is over.
    pub expires_at: DateTime<Utc>,
    /// When it opened.
    pub created_at: DateTime<Utc>,
    /// Its version (+1 per transition).
    pub version: i64,
    /// The policy evaluation.
    pub policy: PolicyView,
    /// The chain, in order.
    pub levels: Vec<LevelView>,
    /// Every decision, in order.
    pub decisions: Vec<DecisionView>,
    /// Every reminder, escalation and reassignment, in order.
    pub escalations: Vec<EscalationView>,
    /// Every transition, oldest first.
    pub history: Vec<HistoryView>,
}

fn open_level(request: &ApprovalRequest) -> Option<LevelName> {
    (request.status() == crate::domain::ApprovalStatus::Pending)
        .then(|| request.chain().current().map(|l| l.level.into()))
        .flatten()
}

impl From<&RequestEvidence> for ApprovalRequestView {
    fn from(evidence: &RequestEvidence) -> Self {
        let r = &evidence.request;
        let snapshot = r.snapshot();
        Self {
            id: r.id().as_uuid(),
            quote_id: r.quote().quote_id.as_uuid(),
            revision: r.quote().revision.get(),
            price_hash: r.quote().price_hash.to_string(),
            status: r.status().into(),
            submitted_by: r.submitter().to_string(),
            open_level: open_level(r),
            process_instance_key: evidence.process_instance_key.map(|k| k.to_string()),
            expires_at: r.expires_at(),
            created_at: r.created_at(),
            version: r.version().get(),
            policy: PolicyView {
                policy_id: snapshot.policy_id.clone(),
                policy_version: snapshot.policy_version.clone(),
                policy_sha256: snapshot.policy_sha256.clone(),
                required_levels: snapshot
                    .required_levels
                    .iter()
                    .map(|l| (*l).into())
                    .collect(),
                rules: snapshot.rules.iter().map(RuleView::from).collect(),
            },
            levels: r.chain().levels().iter().map(LevelView::from).collect(),
            decisions: r.decisions().iter().map(DecisionView::from).collect(),
            escalations: r.escalations().iter().map(EscalationView::from).collect(),
            history: evidence.history.iter().map(HistoryView::from).collect(),
        }
    }
}

/// A request in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequestSummary {
    /// The request.
    pub id: Uuid,
    /// The quote.
    pub quote_id: Uuid,
    /// The quote revision.
    pub revision: i32,
    /// The price hash it covers.
    pub price_hash: String,
    /// Where it stands.
    pub status: StatusName,
    /// The level waiting for a decision, while PENDING.
    pub open_level: Option<LevelName>,
    /// Policy id and version that required it.
    pub policy_version: String,
    /// When it opened.
    pub created_at: DateTime<Utc>,
    /// Its version.
    pub version: i64,
}

impl From<&ApprovalRequest> for ApprovalRequestSummary {
    fn from(r: &ApprovalRequest) -> Self {
        Self {
            id: r.id().as_uuid(),
            quote_id: r.quote().quote_id.as_uuid(),
            revision: r.quote().revision.get(),
            price_hash: r.quote().price_hash.to_string(),
            status: r.status().into(),
            open_level: open_level(r),
            policy_version: format!("{}@{}", r.snapshot().policy_id, r.snapshot().policy_version),
            created_at: r.created_at(),
            version: r.version().get(),
        }
    }
}

/// `GET /approval-requests` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalRequestList {
    /// The quote's requests, newest first.
    pub items: Vec<ApprovalRequestSummary>,
}

/// A decision as `POST /approval-requests/{id}/decisions` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionResult {
    /// The request.
    pub request_id: Uuid,
    /// Where the request stands after the decision.
    pub request_status: StatusName,
    /// The request's version after.
    pub request_version: i64,
    /// The level waiting next, while PENDING.
    pub open_level: Option<LevelName>,
    /// Whether this repeated a decision recorded before (nothing was written).
    pub repeated: bool,
    /// The decision (the stored one when repeated).
    pub decision: DecisionView,
}

impl DecisionResult {
    /// The answer of a decision on `request` (after it).
    pub fn new(request: &ApprovalRequest, decision: &Decision, repeated: bool) -> Self {
        Self {
            request_id: request.id().as_uuid(),
            request_status: request.status().into(),
            request_version: request.version().get(),
            open_level: open_level(request),
            repeated,
            decision: decision.into(),
        }
    }
}
