//! Request bodies, query strings and the names the API shares with them (levels, verdicts,
//! statuses). Every body refuses unknown fields; conversion to application inputs happens here,
//! at the edge, reporting every bad field at once.

use chrono::{DateTime, Utc};
use common_kernel::error::{ApiError, FieldError};
use domain_kernel::ActorId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{
    ApprovalLevel, ApprovalStatus, Assignment, DecisionOutcome, GroupId, PriceHash, Quorum, Reason,
    Verdict,
};

/// An approval level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LevelName {
    /// A sales manager.
    Manager,
    /// A sales director.
    Director,
    /// Finance.
    Finance,
}

impl From<LevelName> for ApprovalLevel {
    fn from(level: LevelName) -> Self {
        match level {
            LevelName::Manager => Self::Manager,
            LevelName::Director => Self::Director,
            LevelName::Finance => Self::Finance,
        }
    }
}

impl From<ApprovalLevel> for LevelName {
    fn from(level: ApprovalLevel) -> Self {
        match level {
            ApprovalLevel::Manager => Self::Manager,
            ApprovalLevel::Director => Self::Director,
            ApprovalLevel::Finance => Self::Finance,
        }
    }
}

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerdictName {
    /// The level may pass.
    Approve,
    /// The request ends REJECTED.
    Reject,
}

impl From<Verdict> for VerdictName {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Approve => Self::Approve,
            Verdict::Reject => Self::Reject,
        }
    }
}

impl From<VerdictName> for Verdict {
    fn from(verdict: VerdictName) -> Self {
        match verdict {
            VerdictName::Approve => Self::Approve,
            VerdictName::Reject => Self::Reject,
        }
    }
}

/// Where an approval request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatusName {
    /// The policy required no approval.
    NotRequired,
    /// Waiting for its levels.
    Pending,
    /// Every level satisfied.
    Approved,
    /// An approver rejected.
    Rejected,
    /// The submitter recalled it.
    Cancelled,
    /// Its time ran out.
    Expired,
    /// The quote's commercial terms changed.
    Superseded,
}

impl From<ApprovalStatus> for StatusName {
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

/// How many parallel groups must approve a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuorumName {
    /// One group decides.
    Single,
    /// Any one of the parallel groups.
    Any,
    /// Every parallel group.
    All,
}

impl From<&Assignment> for QuorumName {
    fn from(assignment: &Assignment) -> Self {
        match assignment {
            Assignment::Single { .. } => Self::Single,
            Assignment::Parallel {
                quorum: Quorum::Any,
                ..
            } => Self::Any,
            Assignment::Parallel {
                quorum: Quorum::All,
                ..
            } => Self::All,
        }
    }
}

/// Collects field errors while a body converts.
#[derive(Debug, Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    /// `Some(value)`, or `None` with a field error naming `field`.
    pub fn take<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed
            .map_err(|e| {
                self.0
                    .push(FieldError::new(field, "INVALID", e.to_string()))
            })
            .ok()
    }

    /// Records that `field` is required here.
    pub fn required(&mut self, field: &str, why: &str) {
        self.0.push(FieldError::new(field, "REQUIRED", why));
    }

    /// `Ok(value)` when no field failed, else 422 listing every failure.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        if !self.0.is_empty() {
            return Err(ApiError::validation(self.0));
        }
        value().ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "/",
                "INVALID",
                "the body does not convert",
            )])
        })
    }
}

/// Body of `POST /approval-requests/{id}/decisions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionRequest {
    /// The level decided: the request's open level.
    pub level: LevelName,
    /// Approve or reject.
    pub decision: VerdictName,
    /// Why: required to reject, optional to approve (1–1000 characters).
    #[schema(min_length = 1, max_length = 1000, example = "Strategic account")]
    pub reason: Option<String>,
    /// The price hash the approver looked at: the request's, or the decision is refused.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub price_hash: String,
    /// Decide with this approver's authority, under a delegation from them to the caller.
    #[schema(example = "manager1")]
    pub on_behalf_of: Option<String>,
}

/// A decision body converted: outcome, hash and principal.
#[derive(Debug, Clone)]
pub struct DecisionParts {
    /// Approve or reject, with its reason.
    pub outcome: DecisionOutcome,
    /// The hash looked at.
    pub price_hash: PriceHash,
    /// The principal decided for.
    pub on_behalf_of: Option<ActorId>,
}

impl DecisionRequest {
    /// The decision's parts, or 422 naming every bad field.
    pub fn parts(&self) -> Result<DecisionParts, ApiError> {
        let mut fields = Fields::default();
        let reason = match self.reason.as_deref() {
            Some(text) => fields.take("/reason", Reason::parse(text)),
            None => None,
        };
        let outcome = match (self.decision, reason) {
            (VerdictName::Approve, reason) => Some(DecisionOutcome::Approve { reason }),
            (VerdictName::Reject, Some(reason)) => Some(DecisionOutcome::Reject { reason }),
            (VerdictName::Reject, None) => {
                if self.reason.is_none() {
                    fields.required("/reason", "a reject says why");
                }
                None
            }
        };
        let price_hash = fields.take("/priceHash", PriceHash::parse(&self.price_hash));
        let on_behalf_of = match self.on_behalf_of.as_deref() {
            Some(principal) => fields
                .take("/onBehalfOf", ActorId::parse(principal))
                .map(Some),
            None => Some(None),
        };
        fields.finish(|| {
            Some(DecisionParts {
                outcome: outcome?,
                price_hash: price_hash?,
                on_behalf_of: on_behalf_of?,
            })
        })
    }
}

/// Body of the commands that only say why (`recall`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why (1–1000 characters).
    #[schema(min_length = 1, max_length = 1000, example = "Customer withdrew")]
    pub reason: String,
}

impl ReasonRequest {
    /// The reason, or 422.
    pub fn reason(&self) -> Result<Reason, ApiError> {
        let mut fields = Fields::default();
        let reason = fields.take("/reason", Reason::parse(&self.reason));
        fields.finish(|| reason)
    }
}

/// Body of `POST /approval-requests/{id}/levels/{level}/reassignment`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReassignmentRequest {
    /// The groups that decide the level now: one, or several deciding in parallel.
    #[schema(min_items = 1, example = json!(["approver-manager-backup"]))]
    pub groups: Vec<String>,
    /// With several groups: ANY (default) or ALL of them must approve.
    pub quorum: Option<QuorumName>,
    /// The level's new due date (default: the one it has).
    pub due_date: Option<DateTime<Utc>>,
    /// Why (1–1000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

impl ReassignmentRequest {
    /// The new assignment, due date and reason, or 422 naming every bad field.
    pub fn parts(&self) -> Result<(Assignment, Option<DateTime<Utc>>, Reason), ApiError> {
        let mut fields = Fields::default();
        let mut groups = Vec::new();
        for (i, name) in self.groups.iter().enumerate() {
            if let Some(group) = fields.take(&format!("/groups/{i}"), GroupId::parse(name)) {
                groups.push(group);
            }
        }
        let assignment = match (groups.len(), self.quorum) {
            (0, _) if self.groups.is_empty() => {
                fields.required("/groups", "at least one group decides the level");
                None
            }
            (0, _) => None,
            (1, None | Some(QuorumName::Single)) => Some(Assignment::Single {
                group: groups.remove(0),
            }),
            (1, Some(_)) => {
                fields.required("/groups", "ANY and ALL need at least two groups");
                None
            }
            (_, Some(QuorumName::Single)) => {
                fields.required("/quorum", "several groups decide ANY or ALL");
                None
            }
            (_, quorum) => Some(Assignment::Parallel {
                groups,
                quorum: if quorum == Some(QuorumName::All) {
                    Quorum::All
                } else {
                    Quorum::Any
                },
            }),
        };
        let reason = fields.take("/reason", Reason::parse(&self.reason));
        fields.finish(|| Some((assignment?, self.due_date, reason?)))
    }
}

/// Query of `GET /approval-tasks`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQueryParams {
    /// Only tasks this approver group may claim.
    #[param(example = "approver-manager")]
    pub candidate_group: Option<String>,
    /// Only tasks held by this approver.
    #[param(example = "manager1")]
    pub assignee: Option<String>,
    /// Only tasks of this quote's requests.
    pub quote_id: Option<Uuid>,
}

/// Query of `GET /approval-requests`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// The quote whose requests to list (required).
    pub quote_id: Uuid,
}

/// Request-context headers: the chain of causes a request belongs to. Identity is not among
/// them: tenant, actor and roles come from the bearer token (ADR 0030).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "documents headers read by the RequestContext extractor"
)]
pub struct ContextHeaders {
    /// Calling channel (default API).
    #[param(rename = "X-Channel")]
    x_channel: Option<String>,
    /// Correlation id; generated when absent and echoed on the response.
    #[param(rename = "X-Correlation-Id")]
    x_correlation_id: Option<String>,
}

/// Headers of commands.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "documents headers read by extractors")]
pub struct IdempotencyHeaders {
    /// Makes the command safe to retry: the same key and request replay the first answer.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(json: serde_json::Value) -> Result<DecisionParts, ApiError> {
        serde_json::from_value::<DecisionRequest>(json)
            .unwrap()
            .parts()
    }

    #[test]
    fn a_reject_needs_a_reason_and_every_bad_field_is_named() {
        let hash = "a".repeat(64);
        let ok = decision(serde_json::json!({"level": "MANAGER", "decision": "REJECT",
            "reason": "margin", "priceHash": hash, "onBehalfOf": "manager1"}))
        .unwrap();
        assert_eq!(ok.outcome.verdict(), Verdict::Reject);
        assert_eq!(
            ok.on_behalf_of.map(|a| a.to_string()),
            Some("manager1".into())
        );
        let refused = decision(serde_json::json!({"level": "MANAGER", "decision": "REJECT",
            "priceHash": "nope"}))
        .unwrap_err()
        .to_problem();
        let named: Vec<(&str, &str)> = refused
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(named, [("/reason", "REQUIRED"), ("/priceHash", "INVALID")]);
        let approve = decision(
            serde_json::json!({"level": "DIRECTOR", "decision": "APPROVE",
            "priceHash": hash}),
        )
        .unwrap();
        assert_eq!(approve.outcome, DecisionOutcome::Approve { reason: None });
    }

    #[test]
    fn reassignments_build_single_or_parallel_assignments() {
        let body = |json| serde_json::from_value::<ReassignmentRequest>(json).unwrap();
        let (single, due, _) = body(serde_json::json!({"groups": ["g1"], "reason": "away"}))
            .parts()
            .unwrap();
        assert_eq!(single.groups().len(), 1);
        assert!(due.is_none());
        let (all, ..) =
            body(serde_json::json!({"groups": ["g1", "g2"], "quorum": "ALL", "reason": "r"}))
                .parts()
                .unwrap();
        assert!(matches!(
            all,
            Assignment::Parallel {
                quorum: Quorum::All,
                ..
            }
        ));
        for bad in [
            serde_json::json!({"groups": [], "reason": "r"}),
            serde_json::json!({"groups": ["g1"], "quorum": "ALL", "reason": "r"}),
            serde_json::json!({"groups": [" "], "reason": "r"}),
            serde_json::json!({"groups": ["g1"], "reason": ""}),
        ] {
            assert!(body(bad.clone()).parts().is_err(), "{bad}");
        }
    }
}
