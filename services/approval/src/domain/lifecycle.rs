//! The approval request lifecycle (state-machines.md, "Approval request") as one transition
//! table. Facts outside the status (which level is open, who may decide, time) are guards the
//! aggregate checks before it asks the table, so the table stays a plain lookup the database
//! trigger `approval_transition_allowed` can mirror pair for pair.
//!
//! Decisions the spec leaves open:
//! - A request is created PENDING or NOT_REQUIRED ([`super::ApprovalRequest::open`]); creation
//!   is not a row of the table.
//! - NOT_REQUIRED and APPROVED are not terminal: a commercial change supersedes them, since
//!   both vouch for one price hash. Every other end state is terminal.
//! - A decision that satisfies a level but not the last is `RECORD_APPROVAL` (PENDING stays
//!   PENDING); the one that satisfies the last level is `COMPLETE_APPROVAL`.
//! - Only PENDING expires: an EXPIRED request never approves, and an approval in force ends by
//!   supersession (or with the quote), not by the clock.

use std::fmt;

use domain_kernel::{Lifecycle, TransitionError};
use serde::{Deserialize, Serialize};

/// Where an approval request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalStatus {
    /// The policy required no approval for this revision and hash.
    NotRequired,
    /// Waiting for the chain's levels to be decided.
    Pending,
    /// Every level satisfied, in order.
    Approved,
    /// An approver rejected; never reused.
    Rejected,
    /// The submitter recalled it.
    Cancelled,
    /// Its time ran out before approval; never approves.
    Expired,
    /// The quote's commercial terms changed; a new request follows.
    Superseded,
}

/// What can happen to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalCommand {
    /// An approval that leaves a level, or the chain, still open.
    RecordApproval,
    /// An approval that satisfies the last level.
    CompleteApproval,
    /// Any reject.
    Reject,
    /// The submitter withdraws the request (reason required).
    Recall,
    /// The request's time ran out.
    Expire,
    /// The quote's commercial terms changed.
    Supersede,
    /// An overdue level is reminded or reassigned to its next group.
    Escalate,
    /// A level is reassigned by hand (reason required).
    Reassign,
}

impl ApprovalStatus {
    /// Every status, for matrices and property tests.
    pub const ALL: [Self; 7] = [
        Self::NotRequired,
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Cancelled,
        Self::Expired,
        Self::Superseded,
    ];

    /// Wire and storage name (the `status` CHECK of `approval_request`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRequired => "NOT_REQUIRED",
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
            Self::Superseded => "SUPERSEDED",
        }
    }

    /// Reads the wire and storage name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether no command changes this state any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Rejected | Self::Cancelled | Self::Expired | Self::Superseded
        )
    }

    /// Whether the request, in this state, vouches for its price hash.
    pub fn vouches_for_hash(self) -> bool {
        matches!(self, Self::Approved | Self::NotRequired)
    }
}

impl ApprovalCommand {
    /// Every command, for matrices and property tests.
    pub const ALL: [Self; 8] = [
        Self::RecordApproval,
        Self::CompleteApproval,
        Self::Reject,
        Self::Recall,
        Self::Expire,
        Self::Supersede,
        Self::Escalate,
        Self::Reassign,
    ];

    /// Name used in history rows and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RecordApproval => "RECORD_APPROVAL",
            Self::CompleteApproval => "COMPLETE_APPROVAL",
            Self::Reject => "REJECT",
            Self::Recall => "RECALL",
            Self::Expire => "EXPIRE",
            Self::Supersede => "SUPERSEDE",
            Self::Escalate => "ESCALATE",
            Self::Reassign => "REASSIGN",
        }
    }

    /// Reads the name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

impl fmt::Display for ApprovalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ApprovalCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lifecycle: (from, command, to). Anything absent is refused with
/// [`APPROVAL_REFUSAL_CODE`].
pub const APPROVAL_TRANSITIONS: &[(ApprovalStatus, ApprovalCommand, ApprovalStatus)] = {
    use ApprovalCommand as C;
    use ApprovalStatus as S;
    &[
        (S::Pending, C::RecordApproval, S::Pending),
        (S::Pending, C::CompleteApproval, S::Approved),
        (S::Pending, C::Reject, S::Rejected),
        (S::Pending, C::Recall, S::Cancelled),
        (S::Pending, C::Expire, S::Expired),
        (S::Pending, C::Supersede, S::Superseded),
        (S::Pending, C::Escalate, S::Pending),
        (S::Pending, C::Reassign, S::Pending),
        (S::Approved, C::Supersede, S::Superseded),
        (S::NotRequired, C::Supersede, S::Superseded),
    ]
};

/// Stable code of a command the lifecycle refuses.
pub const APPROVAL_REFUSAL_CODE: &str = domain_kernel::ILLEGAL_TRANSITION;

impl Lifecycle for ApprovalStatus {
    type Command = ApprovalCommand;
    const SUBJECT: &'static str = "approval request";
    const REFUSAL_CODE: &'static str = APPROVAL_REFUSAL_CODE;
    const TRANSITIONS: &'static [(Self, ApprovalCommand, Self)] = APPROVAL_TRANSITIONS;
}

/// A refused approval command.
pub type ApprovalTransitionError = TransitionError<ApprovalStatus>;

/// Where `command` takes a request in state `from` (guards are checked before, by the
/// aggregate).
pub fn transition(
    from: ApprovalStatus,
    command: ApprovalCommand,
) -> Result<ApprovalStatus, ApprovalTransitionError> {
    from.apply(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApprovalCommand as C;
    use ApprovalStatus as S;

    /// The table written out independently of `APPROVAL_TRANSITIONS`.
    const EXPECTED: [(S, C, S); 10] = [
        (S::Pending, C::RecordApproval, S::Pending),
        (S::Pending, C::CompleteApproval, S::Approved),
        (S::Pending, C::Reject, S::Rejected),
        (S::Pending, C::Recall, S::Cancelled),
        (S::Pending, C::Expire, S::Expired),
        (S::Pending, C::Supersede, S::Superseded),
        (S::Pending, C::Escalate, S::Pending),
        (S::Pending, C::Reassign, S::Pending),
        (S::Approved, C::Supersede, S::Superseded),
        (S::NotRequired, C::Supersede, S::Superseded),
    ];

    #[test]
    fn transition_matrix() {
        let count = domain_kernel::check_transition_matrix(&S::ALL, &C::ALL, &EXPECTED);
        assert_eq!(
            count,
            Ok(domain_kernel::MatrixCount {
                pairs: 56,
                allowed: EXPECTED.len()
            })
        );
    }

    #[test]
    fn helpers_agree_with_the_table() {
        for from in S::ALL {
            assert_eq!(from.is_terminal(), from.is_final(), "{from}");
        }
        assert!(
            S::Rejected.is_terminal(),
            "a rejected request is never reused"
        );
        assert!(!S::Approved.is_terminal() && !S::NotRequired.is_terminal());
        assert_eq!(
            S::ALL.iter().filter(|s| s.vouches_for_hash()).count(),
            2,
            "only APPROVED and NOT_REQUIRED vouch for a hash"
        );
        for status in S::ALL {
            let reaches_approved = C::ALL
                .into_iter()
                .any(|c| transition(status, c) == Ok(S::Approved));
            assert_eq!(reaches_approved, status == S::Pending, "{status}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for c in C::ALL {
            assert_eq!(C::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(S::parse("Pending"), None);
    }
}
