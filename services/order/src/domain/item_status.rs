//! The order item's lifecycle as one transition table (state-machines.md, "Order item"). The
//! database trigger `order_schema.order_item_transition_allowed` mirrors it pair for pair.
//!
//! - An item starts only after its dependencies: BLOCKED while a task waits on another item.
//! - It completes once: COMPLETED and SKIPPED are terminal-success. A COMPLETED item moves
//!   again only when its order is cancelled before the order completed (CANCEL_PENDING, then
//!   its effects are compensated); it never completes a second time.
//! - A FAILED item retries (back to IN_PROGRESS) only when its failure is retryable; the table
//!   allows the move, the order aggregate checks the failure.
//! - Cancellation and compensation are their own states, never a silent reset.

use std::fmt;

use domain_kernel::Lifecycle;
use serde::{Deserialize, Serialize};

/// Where an order item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemStatus {
    /// Captured with the order.
    Pending,
    /// Checked with the order.
    Validated,
    /// Decomposed; its first tasks can run.
    Ready,
    /// Decomposed; it waits for another item's task.
    Blocked,
    /// At least one of its tasks was dispatched.
    InProgress,
    /// Every task succeeded.
    Completed,
    /// Nothing to do (NO_CHANGE, or dropped before it started).
    Skipped,
    /// A task failed for good or spent its retries.
    Failed,
    /// A cancellation is being carried out.
    CancelPending,
    /// Cancelled: it never emits an activation.
    Cancelled,
    /// Its successful side effects are being undone.
    Compensating,
    /// Its successful side effects were undone.
    Compensated,
}

/// What can happen to an order item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemCommand {
    /// Checked with the order.
    Validate,
    /// Its first tasks can run.
    MarkReady,
    /// It waits for another item.
    Block,
    /// Its first task was dispatched.
    Start,
    /// Every task succeeded.
    Complete,
    /// Nothing to do.
    Skip,
    /// A task failed.
    Fail,
    /// A retryable failure is retried.
    Retry,
    /// Cancellation asked.
    RequestCancel,
    /// Cancellation done.
    ConfirmCancel,
    /// Undo its side effects.
    StartCompensation,
    /// Its side effects are undone.
    FinishCompensation,
}

impl ItemStatus {
    /// Every status.
    pub const ALL: [Self; 12] = [
        Self::Pending,
        Self::Validated,
        Self::Ready,
        Self::Blocked,
        Self::InProgress,
        Self::Completed,
        Self::Skipped,
        Self::Failed,
        Self::CancelPending,
        Self::Cancelled,
        Self::Compensating,
        Self::Compensated,
    ];

    /// The states a stored item may be created in (the database's INSERT guard).
    pub const INITIAL: [Self; 1] = [Self::Pending];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Validated => "VALIDATED",
            Self::Ready => "READY",
            Self::Blocked => "BLOCKED",
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Skipped => "SKIPPED",
            Self::Failed => "FAILED",
            Self::CancelPending => "CANCEL_PENDING",
            Self::Cancelled => "CANCELLED",
            Self::Compensating => "COMPENSATING",
            Self::Compensated => "COMPENSATED",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// COMPLETED or SKIPPED: what a mandatory item must reach before its order completes.
    pub fn is_terminal_success(self) -> bool {
        matches!(self, Self::Completed | Self::Skipped)
    }

    /// CANCELLED or COMPENSATED: taken out of the order by a cancellation.
    pub fn is_withdrawn(self) -> bool {
        matches!(self, Self::Cancelled | Self::Compensated)
    }

    /// CANCEL_PENDING or COMPENSATING: a cancellation is working on it.
    pub fn is_being_cancelled(self) -> bool {
        matches!(self, Self::CancelPending | Self::Compensating)
    }
}

impl ItemCommand {
    /// Every command.
    pub const ALL: [Self; 12] = [
        Self::Validate,
        Self::MarkReady,
        Self::Block,
        Self::Start,
        Self::Complete,
        Self::Skip,
        Self::Fail,
        Self::Retry,
        Self::RequestCancel,
        Self::ConfirmCancel,
        Self::StartCompensation,
        Self::FinishCompensation,
    ];
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ItemCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

use ItemCommand as C;
use ItemStatus as S;

impl Lifecycle for ItemStatus {
    type Command = ItemCommand;
    const SUBJECT: &'static str = "order item";
    const TRANSITIONS: &'static [(Self, Self::Command, Self)] = &[
        (S::Pending, C::Validate, S::Validated),
        (S::Validated, C::MarkReady, S::Ready),
        (S::Blocked, C::MarkReady, S::Ready),
        (S::Validated, C::Block, S::Blocked),
        (S::Ready, C::Start, S::InProgress),
        (S::InProgress, C::Complete, S::Completed),
        (S::Pending, C::Skip, S::Skipped),
        (S::Validated, C::Skip, S::Skipped),
        (S::Ready, C::Skip, S::Skipped),
        (S::Blocked, C::Skip, S::Skipped),
        (S::Ready, C::Fail, S::Failed),
        (S::Blocked, C::Fail, S::Failed),
        (S::InProgress, C::Fail, S::Failed),
        (S::Failed, C::Retry, S::InProgress),
        (S::Pending, C::RequestCancel, S::CancelPending),
        (S::Validated, C::RequestCancel, S::CancelPending),
        (S::Ready, C::RequestCancel, S::CancelPending),
        (S::Blocked, C::RequestCancel, S::CancelPending),
        (S::InProgress, C::RequestCancel, S::CancelPending),
        (S::Failed, C::RequestCancel, S::CancelPending),
        (S::Completed, C::RequestCancel, S::CancelPending),
        (S::CancelPending, C::ConfirmCancel, S::Cancelled),
        (S::CancelPending, C::StartCompensation, S::Compensating),
        (S::Failed, C::StartCompensation, S::Compensating),
        (S::Compensating, C::FinishCompensation, S::Compensated),
    ];
}

/// The table's distinct `(from, to)` pairs by stored name, for comparing with the database's
/// `order_schema.order_item_transition_allowed` (which also allows `from = to`).
pub fn allowed_pairs() -> Vec<(&'static str, &'static str)> {
    super::table_pairs::<ItemStatus>(ItemStatus::as_str)
}

#[cfg(test)]
mod tests {
    use domain_kernel::check_transition_matrix;

    use super::*;

    #[test]
    fn transition_matrix() {
        let mut expected = vec![
            (S::Pending, C::Validate, S::Validated),
            (S::Validated, C::Block, S::Blocked),
            (S::Ready, C::Start, S::InProgress),
            (S::InProgress, C::Complete, S::Completed),
            (S::Failed, C::Retry, S::InProgress),
            (S::CancelPending, C::ConfirmCancel, S::Cancelled),
            (S::Compensating, C::FinishCompensation, S::Compensated),
        ];
        for from in [S::Validated, S::Blocked] {
            expected.push((from, C::MarkReady, S::Ready));
        }
        for from in [S::Pending, S::Validated, S::Ready, S::Blocked] {
            expected.push((from, C::Skip, S::Skipped));
        }
        for from in [S::Ready, S::Blocked, S::InProgress] {
            expected.push((from, C::Fail, S::Failed));
        }
        for from in [
            S::Pending,
            S::Validated,
            S::Ready,
            S::Blocked,
            S::InProgress,
            S::Failed,
            S::Completed,
        ] {
            expected.push((from, C::RequestCancel, S::CancelPending));
        }
        for from in [S::CancelPending, S::Failed] {
            expected.push((from, C::StartCompensation, S::Compensating));
        }
        let count =
            check_transition_matrix(&ItemStatus::ALL, &ItemCommand::ALL, &expected).unwrap();
        assert_eq!(count.pairs, 12 * 12);
        assert_eq!(count.allowed, 25);
        for status in [S::Skipped, S::Cancelled, S::Compensated] {
            assert!(status.is_final(), "{status}");
        }
        for status in ItemStatus::ALL {
            assert_eq!(ItemStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                status.is_terminal_success(),
                matches!(status, S::Completed | S::Skipped)
            );
        }
    }
}
