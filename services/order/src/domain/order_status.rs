//! The order's lifecycle as one transition table (state-machines.md, "Order"). The database
//! trigger `order_schema.order_transition_allowed` mirrors it pair for pair ([`allowed_pairs`]).
//!
//! - An order is captured straight into ACKNOWLEDGED (DRAFT exists for the table's sake: an
//!   order is never stored half-written).
//! - IN_PROGRESS needs a decomposition: only DECOMPOSED starts fulfilment.
//! - FALLOUT is not an end: a repair resumes it (IN_PROGRESS), a cancellation takes it over, or
//!   an operator abandons it (FAILED).
//! - COMPLETED is never cancelled: a disconnect or reversal order is created instead.
//! - CLOSED is the archive; nothing leaves it.

use std::fmt;

use domain_kernel::Lifecycle;
use serde::{Deserialize, Serialize};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Being written; never stored (capture acknowledges in one step).
    Draft,
    /// Captured: the customer has an order id.
    Acknowledged,
    /// The order's shape and references were checked.
    Validated,
    /// Decomposed into fulfilment tasks (the plan is fixed).
    Decomposed,
    /// Tasks are being dispatched and settled.
    InProgress,
    /// Paused by an operator; nothing is dispatched.
    Held,
    /// Some items are complete, the rest still running.
    PartiallyCompleted,
    /// Every mandatory item is terminal-success.
    Completed,
    /// A cancellation is being carried out.
    CancellationPending,
    /// Cancelled.
    Cancelled,
    /// Refused at validation, or abandoned after fallout.
    Failed,
    /// Stopped on a failure an operator (or a repair) must resolve.
    Fallout,
    /// Archived.
    Closed,
}

/// What can happen to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderCommand {
    /// The order is captured.
    Acknowledge,
    /// Its shape and references are accepted.
    Validate,
    /// Validation refused it.
    FailValidation,
    /// A fulfilment plan was made.
    Decompose,
    /// Dispatching starts.
    StartFulfilment,
    /// An operator pauses it.
    Hold,
    /// An operator resumes a held order.
    Release,
    /// Some items completed.
    CompletePartially,
    /// Every mandatory item completed.
    Complete,
    /// A failure needs an operator.
    EnterFallout,
    /// The failure was repaired or retried.
    ResumeAfterRepair,
    /// The customer asks to cancel.
    RequestCancellation,
    /// The cancellation is carried out.
    ConfirmCancellation,
    /// An operator gives up on a fallout.
    Abandon,
    /// Archive.
    Close,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [Self; 13] = [
        Self::Draft,
        Self::Acknowledged,
        Self::Validated,
        Self::Decomposed,
        Self::InProgress,
        Self::Held,
        Self::PartiallyCompleted,
        Self::Completed,
        Self::CancellationPending,
        Self::Cancelled,
        Self::Failed,
        Self::Fallout,
        Self::Closed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Acknowledged => "ACKNOWLEDGED",
            Self::Validated => "VALIDATED",
            Self::Decomposed => "DECOMPOSED",
            Self::InProgress => "IN_PROGRESS",
            Self::Held => "HELD",
            Self::PartiallyCompleted => "PARTIALLY_COMPLETED",
            Self::Completed => "COMPLETED",
            Self::CancellationPending => "CANCELLATION_PENDING",
            Self::Cancelled => "CANCELLED",
            Self::Failed => "FAILED",
            Self::Fallout => "FALLOUT",
            Self::Closed => "CLOSED",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// The states a stored order may be created in (the database's INSERT guard).
    pub const INITIAL: [Self; 2] = [Self::Draft, Self::Acknowledged];
}

impl OrderCommand {
    /// Every command.
    pub const ALL: [Self; 15] = [
        Self::Acknowledge,
        Self::Validate,
        Self::FailValidation,
        Self::Decompose,
        Self::StartFulfilment,
        Self::Hold,
        Self::Release,
        Self::CompletePartially,
        Self::Complete,
        Self::EnterFallout,
        Self::ResumeAfterRepair,
        Self::RequestCancellation,
        Self::ConfirmCancellation,
        Self::Abandon,
        Self::Close,
    ];
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for OrderCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

use OrderCommand as C;
use OrderStatus as S;

impl Lifecycle for OrderStatus {
    type Command = OrderCommand;
    const SUBJECT: &'static str = "order";
    const TRANSITIONS: &'static [(Self, Self::Command, Self)] = &[
        (S::Draft, C::Acknowledge, S::Acknowledged),
        (S::Acknowledged, C::Validate, S::Validated),
        (S::Acknowledged, C::FailValidation, S::Failed),
        (
            S::Acknowledged,
            C::RequestCancellation,
            S::CancellationPending,
        ),
        (S::Validated, C::Decompose, S::Decomposed),
        (S::Validated, C::EnterFallout, S::Fallout),
        (S::Validated, C::RequestCancellation, S::CancellationPending),
        (S::Decomposed, C::StartFulfilment, S::InProgress),
        (
            S::Decomposed,
            C::RequestCancellation,
            S::CancellationPending,
        ),
        (S::InProgress, C::CompletePartially, S::PartiallyCompleted),
        (S::InProgress, C::Complete, S::Completed),
        (S::InProgress, C::Hold, S::Held),
        (S::InProgress, C::EnterFallout, S::Fallout),
        (
            S::InProgress,
            C::RequestCancellation,
            S::CancellationPending,
        ),
        (S::Held, C::Release, S::InProgress),
        (S::Held, C::RequestCancellation, S::CancellationPending),
        (S::PartiallyCompleted, C::Complete, S::Completed),
        (S::PartiallyCompleted, C::EnterFallout, S::Fallout),
        (
            S::PartiallyCompleted,
            C::RequestCancellation,
            S::CancellationPending,
        ),
        (S::Fallout, C::ResumeAfterRepair, S::InProgress),
        (S::Fallout, C::RequestCancellation, S::CancellationPending),
        (S::Fallout, C::Abandon, S::Failed),
        (S::CancellationPending, C::ConfirmCancellation, S::Cancelled),
        (S::CancellationPending, C::EnterFallout, S::Fallout),
        (S::Completed, C::Close, S::Closed),
        (S::Cancelled, C::Close, S::Closed),
        (S::Failed, C::Close, S::Closed),
    ];
}

/// The table's distinct `(from, to)` pairs by stored name, for comparing with the database's
/// `order_schema.order_transition_allowed` (which also allows `from = to`: no status change).
pub fn allowed_pairs() -> Vec<(&'static str, &'static str)> {
    super::table_pairs::<OrderStatus>(OrderStatus::as_str)
}

#[cfg(test)]
mod tests {
    use domain_kernel::check_transition_matrix;

    use super::*;

    #[test]
    fn transition_matrix() {
        // Written out independently of the table, from state-machines.md.
        let expected = [
            (S::Draft, C::Acknowledge, S::Acknowledged),
            (S::Acknowledged, C::Validate, S::Validated),
            (S::Acknowledged, C::FailValidation, S::Failed),
            (
                S::Acknowledged,
                C::RequestCancellation,
                S::CancellationPending,
            ),
            (S::Validated, C::Decompose, S::Decomposed),
            (S::Validated, C::EnterFallout, S::Fallout),
            (S::Validated, C::RequestCancellation, S::CancellationPending),
            (S::Decomposed, C::StartFulfilment, S::InProgress),
            (
                S::Decomposed,
                C::RequestCancellation,
                S::CancellationPending,
            ),
            (S::InProgress, C::CompletePartially, S::PartiallyCompleted),
            (S::InProgress, C::Complete, S::Completed),
            (S::InProgress, C::Hold, S::Held),
            (S::InProgress, C::EnterFallout, S::Fallout),
            (
                S::InProgress,
                C::RequestCancellation,
                S::CancellationPending,
            ),
            (S::Held, C::Release, S::InProgress),
            (S::Held, C::RequestCancellation, S::CancellationPending),
            (S::PartiallyCompleted, C::Complete, S::Completed),
            (S::PartiallyCompleted, C::EnterFallout, S::Fallout),
            (
                S::PartiallyCompleted,
                C::RequestCancellation,
                S::CancellationPending,
            ),
            (S::Fallout, C::ResumeAfterRepair, S::InProgress),
            (S::Fallout, C::RequestCancellation, S::CancellationPending),
            (S::Fallout, C::Abandon, S::Failed),
            (S::CancellationPending, C::ConfirmCancellation, S::Cancelled),
            (S::CancellationPending, C::EnterFallout, S::Fallout),
            (S::Completed, C::Close, S::Closed),
            (S::Cancelled, C::Close, S::Closed),
            (S::Failed, C::Close, S::Closed),
        ];
        let count =
            check_transition_matrix(&OrderStatus::ALL, &OrderCommand::ALL, &expected).unwrap();
        assert_eq!(count.pairs, 13 * 15);
        assert_eq!(count.allowed, 27);
        assert!(S::Closed.is_final());
        assert!(!S::Fallout.is_final());
        assert!(!S::Completed.is_final());
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
            let wire = serde_json::to_string(&status).unwrap();
            assert_eq!(wire, format!("\"{}\"", status.as_str()));
        }
    }

    #[test]
    fn a_completed_order_is_never_cancelled() {
        assert!(S::Completed.apply(C::RequestCancellation).is_err());
        assert!(S::Decomposed.apply(C::Complete).is_err());
    }
}
