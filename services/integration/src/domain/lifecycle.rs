//! The external operation's lifecycle as one transition table (the integration side of the
//! spec's fulfilment-task states: TIMED_OUT there is `OUTCOME_UNKNOWN` here). The database
//! trigger `integration_operation_transition_allowed` mirrors it pair for pair.
//!
//! - An operation is created PENDING; creation is not a row.
//! - `SUCCEEDED` and `REJECTED` are terminal: the effect is applied, or the downstream said no.
//! - `OUTCOME_UNKNOWN` leaves only through a reconciliation: applied (SUCCEEDED), confirmed
//!   not applied (RETRY_WAIT, or EXHAUSTED when that spent the budget), or still unanswered
//!   (stays). Nothing is sent while it holds.
//! - `EXHAUSTED` is not a failure of the effect, only of the budget: an operator's retry
//!   (resolving the incident) re-arms it.

use std::fmt;

use domain_kernel::{Lifecycle, TransitionError};
use serde::{Deserialize, Serialize};

/// Where an external operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationStatus {
    /// Known, nothing sent yet.
    Pending,
    /// An attempt was sent and its answer is not recorded yet.
    InFlight,
    /// The last attempt was confirmed not applied; the next may be sent after the back-off.
    RetryWait,
    /// An attempt timed out or broke off: applied or not, nobody knows until reconciled.
    OutcomeUnknown,
    /// Applied.
    Succeeded,
    /// Refused by the downstream for a business reason.
    Rejected,
    /// Technical failures spent the budget; an operator decides.
    Exhausted,
}

/// What can happen to an external operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationCommand {
    /// Send an attempt.
    SendAttempt,
    /// The attempt's answer: applied.
    RecordSuccess,
    /// The attempt's answer: refused.
    RecordRejection,
    /// The attempt's answer: not applied, for a technical reason, budget left.
    RecordTechnicalFailure,
    /// Not applied, and that spent the budget.
    ExhaustBudget,
    /// No answer (timeout, broken connection, or an attempt found unanswered after a crash).
    RecordUnknown,
    /// The downstream says the key's effect is applied.
    ReconcileApplied,
    /// The downstream confirms the key's effect is not applied.
    ReconcileNotApplied,
    /// The downstream could not say.
    ReconcileUnanswered,
    /// An operator gives an exhausted operation a new budget.
    Rearm,
}

impl OperationStatus {
    /// Every status.
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::InFlight,
        Self::RetryWait,
        Self::OutcomeUnknown,
        Self::Succeeded,
        Self::Rejected,
        Self::Exhausted,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::InFlight => "IN_FLIGHT",
            Self::RetryWait => "RETRY_WAIT",
            Self::OutcomeUnknown => "OUTCOME_UNKNOWN",
            Self::Succeeded => "SUCCEEDED",
            Self::Rejected => "REJECTED",
            Self::Exhausted => "EXHAUSTED",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl OperationCommand {
    /// Every command.
    pub const ALL: [Self; 10] = [
        Self::SendAttempt,
        Self::RecordSuccess,
        Self::RecordRejection,
        Self::RecordTechnicalFailure,
        Self::ExhaustBudget,
        Self::RecordUnknown,
        Self::ReconcileApplied,
        Self::ReconcileNotApplied,
        Self::ReconcileUnanswered,
        Self::Rearm,
    ];
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for OperationCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

use OperationCommand as C;
use OperationStatus as S;

impl Lifecycle for OperationStatus {
    type Command = OperationCommand;
    const SUBJECT: &'static str = "external operation";
    const TRANSITIONS: &'static [(Self, Self::Command, Self)] = &[
        (S::Pending, C::SendAttempt, S::InFlight),
        (S::RetryWait, C::SendAttempt, S::InFlight),
        (S::InFlight, C::RecordSuccess, S::Succeeded),
        (S::InFlight, C::RecordRejection, S::Rejected),
        (S::InFlight, C::RecordTechnicalFailure, S::RetryWait),
        (S::InFlight, C::ExhaustBudget, S::Exhausted),
        (S::InFlight, C::RecordUnknown, S::OutcomeUnknown),
        (S::OutcomeUnknown, C::ReconcileApplied, S::Succeeded),
        (S::OutcomeUnknown, C::ReconcileNotApplied, S::RetryWait),
        (S::OutcomeUnknown, C::ExhaustBudget, S::Exhausted),
        (S::OutcomeUnknown, C::ReconcileUnanswered, S::OutcomeUnknown),
        (S::Exhausted, C::Rearm, S::RetryWait),
    ];
}

/// A refused command.
pub type OperationTransitionError = TransitionError<OperationStatus>;

#[cfg(test)]
mod tests {
    use domain_kernel::check_transition_matrix;

    use super::*;

    #[test]
    fn transition_matrix() {
        // Written out independently of the table: every pair not listed must be refused.
        let expected = [
            (S::Pending, C::SendAttempt, S::InFlight),
            (S::RetryWait, C::SendAttempt, S::InFlight),
            (S::InFlight, C::RecordSuccess, S::Succeeded),
            (S::InFlight, C::RecordRejection, S::Rejected),
            (S::InFlight, C::RecordTechnicalFailure, S::RetryWait),
            (S::InFlight, C::ExhaustBudget, S::Exhausted),
            (S::InFlight, C::RecordUnknown, S::OutcomeUnknown),
            (S::OutcomeUnknown, C::ReconcileApplied, S::Succeeded),
            (S::OutcomeUnknown, C::ReconcileNotApplied, S::RetryWait),
            (S::OutcomeUnknown, C::ExhaustBudget, S::Exhausted),
            (S::OutcomeUnknown, C::ReconcileUnanswered, S::OutcomeUnknown),
            (S::Exhausted, C::Rearm, S::RetryWait),
        ];
        let count =
            check_transition_matrix(&OperationStatus::ALL, &OperationCommand::ALL, &expected)
                .unwrap();
        assert_eq!(count.pairs, 70);
        assert_eq!(count.allowed, 12);
        assert!(S::Succeeded.is_final());
        assert!(S::Rejected.is_final());
        assert!(!S::Exhausted.is_final());
        for status in OperationStatus::ALL {
            assert_eq!(OperationStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn nothing_is_sent_while_the_outcome_is_unknown() {
        assert!(S::OutcomeUnknown.apply(C::SendAttempt).is_err());
        assert!(S::InFlight.apply(C::SendAttempt).is_err());
    }
}
