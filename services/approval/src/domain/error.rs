//! Why an approval command was refused. One enum for the aggregate, each variant with a stable
//! code, so the HTTP edge (a later part of issue 21) maps them once.

use super::chain::ChainError;
use super::delegation::DelegationError;
use super::lifecycle::ApprovalTransitionError;
use super::{ApprovalLevel, PriceHash};

/// A refused approval command; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// The lifecycle table does not allow the command in the current status.
    #[error(transparent)]
    Transition(#[from] ApprovalTransitionError),
    /// The policy snapshot contradicts itself (levels unordered, a rule's level not required).
    #[error("the policy snapshot is incoherent")]
    IncoherentSnapshot,
    /// The planned chain does not fit the snapshot.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The submitter tried to decide their own quote's request.
    #[error("the submitter never decides their own quote's request")]
    SelfDecision,
    /// The deciding principal's roles do not cover the level (exact match).
    #[error("the approver's roles do not cover level {0:?}")]
    LevelNotCovered(ApprovalLevel),
    /// The chain has no such level.
    #[error("the chain has no level {0:?}")]
    LevelNotInChain(ApprovalLevel),
    /// An earlier level is still open (levels are decided strictly in order).
    #[error("level {requested:?} is not open; {open:?} is decided first")]
    LevelNotOpen {
        /// The level asked for.
        requested: ApprovalLevel,
        /// The level that is open.
        open: ApprovalLevel,
    },
    /// The level was already satisfied.
    #[error("level {0:?} is already satisfied")]
    LevelAlreadyDone(ApprovalLevel),
    /// The principal is in none of the groups the level is assigned to.
    #[error("the approver is in none of the groups level {0:?} is assigned to")]
    NotAssigned(ApprovalLevel),
    /// The actor or principal already decided this level differently.
    #[error("a decision on level {0:?} by this approver exists already")]
    AlreadyDecided(ApprovalLevel),
    /// The approver decided on another price than the request's.
    #[error("the request covers price hash {expected}, not the one decided on")]
    PriceHashMismatch {
        /// The request's hash.
        expected: PriceHash,
    },
    /// The request's time is over; it can only expire.
    #[error("the request's time is over")]
    TimedOut,
    /// Expiry was asked before the request's time is over.
    #[error("the request's time is not over yet")]
    NotYetDue,
    /// Only the submitter recalls their request.
    #[error("only the submitter recalls a request")]
    NotSubmitter,
    /// The level is not overdue.
    #[error("level {0:?} is not overdue")]
    NotOverdue(ApprovalLevel),
    /// No level is open (a PENDING request always has one; a bug, never user input).
    #[error("no level is open")]
    NoOpenLevel,
    /// No group is left to escalate to.
    #[error("level {0:?} has no group left to escalate to")]
    NoEscalationTarget(ApprovalLevel),
    /// A delegation rule refused the decision.
    #[error(transparent)]
    Delegation(#[from] DelegationError),
}

impl ApprovalError {
    /// Stable code for problem responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transition(e) => e.code(),
            Self::IncoherentSnapshot => "APPROVAL_SNAPSHOT_INCOHERENT",
            Self::Chain(_) => "APPROVAL_CHAIN_INVALID",
            Self::SelfDecision => "APPROVAL_SELF_DECISION",
            Self::LevelNotCovered(_) => "APPROVAL_LEVEL_NOT_COVERED",
            Self::LevelNotInChain(_) => "APPROVAL_LEVEL_NOT_IN_CHAIN",
            Self::LevelNotOpen { .. } => "APPROVAL_LEVEL_NOT_OPEN",
            Self::LevelAlreadyDone(_) => "APPROVAL_LEVEL_ALREADY_DECIDED",
            Self::NotAssigned(_) => "APPROVAL_NOT_ASSIGNED",
            Self::AlreadyDecided(_) => "APPROVAL_ALREADY_DECIDED",
            Self::PriceHashMismatch { .. } => "APPROVAL_PRICE_HASH_MISMATCH",
            Self::TimedOut => "APPROVAL_REQUEST_TIMED_OUT",
            Self::NotYetDue => "APPROVAL_NOT_YET_DUE",
            Self::NotSubmitter => "APPROVAL_RECALL_NOT_SUBMITTER",
            Self::NotOverdue(_) => "APPROVAL_LEVEL_NOT_OVERDUE",
            Self::NoOpenLevel => "APPROVAL_NO_OPEN_LEVEL",
            Self::NoEscalationTarget(_) => "APPROVAL_NO_ESCALATION_TARGET",
            Self::Delegation(e) => e.code(),
        }
    }
}
