//! Decisions as their own records: who decided (and for whom, under which delegation), which
//! level, approve or reject, why, and when. The audit invariant "an approval decision stores
//! actor, time, decision, reason" holds by construction: none of them is optional, and a reject
//! cannot be built without a reason.

use chrono::{DateTime, Utc};
use domain_kernel::ActorId;
use domain_kernel::access::Role;
use serde::{Deserialize, Serialize};

use super::delegation::Delegation;
use super::{ApprovalLevel, DecisionId, DelegationId, GroupId, PriceHash, Reason};

/// Approve or reject, without its reason (for idempotency comparisons and storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// The level may pass.
    Approve,
    /// The request ends REJECTED.
    Reject,
}

impl Verdict {
    /// Storage name (the `decision` CHECK of `approval_decision`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "APPROVE",
            Self::Reject => "REJECT",
        }
    }
}

/// What the approver decided, with the reason a reject requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "decision")]
pub enum DecisionOutcome {
    /// Approve, optionally saying why.
    #[serde(rename = "APPROVE")]
    Approve {
        /// Optional comment.
        reason: Option<Reason>,
    },
    /// Reject; the reason is required.
    #[serde(rename = "REJECT")]
    Reject {
        /// Why.
        reason: Reason,
    },
}

impl DecisionOutcome {
    /// The verdict without its reason.
    pub fn verdict(&self) -> Verdict {
        match self {
            Self::Approve { .. } => Verdict::Approve,
            Self::Reject { .. } => Verdict::Reject,
        }
    }
}

/// A principal's authority to decide: the levels their roles cover (exact match) and the
/// approver groups they belong to. Built by the application from the verified token and the
/// approver directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approver {
    /// Who.
    pub id: ActorId,
    /// Levels they may decide.
    pub levels: Vec<ApprovalLevel>,
    /// Groups they belong to.
    pub groups: Vec<GroupId>,
}

impl Approver {
    /// The approver whose roles are `roles`. Each approver role covers exactly its own level:
    /// unlike the permission table (where a director may also take manager-level discount
    /// actions), a chain level is decided only by its own level, so a director cannot decide
    /// the manager's level of a chain.
    pub fn from_roles(id: ActorId, roles: &[Role], groups: Vec<GroupId>) -> Self {
        let mut levels: Vec<ApprovalLevel> = roles
            .iter()
            .filter_map(|role| match role {
                Role::ApproverManager => Some(ApprovalLevel::Manager),
                Role::ApproverDirector => Some(ApprovalLevel::Director),
                Role::ApproverFinance => Some(ApprovalLevel::Finance),
                _ => None,
            })
            .collect();
        levels.sort_unstable();
        levels.dedup();
        Self { id, levels, groups }
    }

    /// Whether their roles cover `level` exactly.
    pub fn covers(&self, level: ApprovalLevel) -> bool {
        self.levels.contains(&level)
    }
}

/// Acting for someone else: whose authority is used and the delegation that allows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnBehalf {
    /// The delegator's own authority (never what was delegated to them).
    pub principal: Approver,
    /// The grant from the principal to the acting user.
    pub delegation: Delegation,
}

/// A decision as submitted by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput {
    /// New id for the record (ignored when the decision repeats an existing one).
    pub id: DecisionId,
    /// The acting user with their own authority.
    pub actor: Approver,
    /// Set when deciding on someone's behalf.
    pub on_behalf: Option<OnBehalf>,
    /// The level decided.
    pub level: ApprovalLevel,
    /// Approve or reject, with reason.
    pub outcome: DecisionOutcome,
    /// The price hash the approver looked at; it must be the request's.
    pub price_hash: PriceHash,
    /// When.
    pub at: DateTime<Utc>,
}

impl DecisionInput {
    /// The authority the decision is taken with: the principal's when on behalf, else the
    /// actor's.
    pub fn authority(&self) -> &Approver {
        self.on_behalf
            .as_ref()
            .map_or(&self.actor, |b| &b.principal)
    }
}

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Its id.
    pub id: DecisionId,
    /// The level decided.
    pub level: ApprovalLevel,
    /// The group the decision counts for.
    pub group: GroupId,
    /// Who acted.
    pub actor: ActorId,
    /// For whom, when delegated.
    pub on_behalf_of: Option<ActorId>,
    /// The delegation used, when delegated.
    pub delegation: Option<DelegationId>,
    /// Approve or reject with reason.
    #[serde(flatten)]
    pub outcome: DecisionOutcome,
    /// The hash decided on.
    pub price_hash: PriceHash,
    /// When.
    pub decided_at: DateTime<Utc>,
}

impl Decision {
    /// Whose authority the decision used.
    pub fn principal(&self) -> &ActorId {
        self.on_behalf_of.as_ref().unwrap_or(&self.actor)
    }

    /// Whether `input` repeats this decision: same actor, principal, level, verdict and hash.
    pub fn is_repeated_by(&self, input: &DecisionInput) -> bool {
        self.level == input.level
            && self.price_hash == input.price_hash
            && self.actor == input.actor.id
            && self.principal() == &input.authority().id
            && self.outcome.verdict() == input.outcome.verdict()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_cover_exactly_their_level() {
        let director = Approver::from_roles(
            ActorId::parse("dana").unwrap(),
            &[Role::SalesAgent, Role::ApproverDirector],
            Vec::new(),
        );
        assert_eq!(director.levels, [ApprovalLevel::Director]);
        assert!(!director.covers(ApprovalLevel::Manager));
        let both = Approver::from_roles(
            ActorId::parse("max").unwrap(),
            &[
                Role::ApproverFinance,
                Role::ApproverManager,
                Role::ApproverManager,
            ],
            Vec::new(),
        );
        assert_eq!(
            both.levels,
            [ApprovalLevel::Manager, ApprovalLevel::Finance]
        );
    }

    #[test]
    fn outcomes_serialize_with_their_verdict() {
        let reject = DecisionOutcome::Reject {
            reason: Reason::parse("margin").unwrap(),
        };
        let json = serde_json::to_value(&reject).unwrap();
        assert_eq!(json["decision"], "REJECT");
        assert_eq!(json["reason"], "margin");
        assert!(
            serde_json::from_value::<DecisionOutcome>(serde_json::json!({"decision": "REJECT"}))
                .is_err(),
            "a reject without a reason does not deserialize"
        );
        assert_eq!(reject.verdict().as_str(), "REJECT");
    }
}
