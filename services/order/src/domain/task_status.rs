//! The fulfilment task's lifecycle as one transition table (state-machines.md, "Fulfillment
//! task"). The database trigger `order_schema.fulfilment_task_transition_allowed` mirrors it.
//!
//! - TIMED_OUT means "unknown": it leads to reconciliation (success or failure later), never
//!   to an assumed failure, and is never re-dispatched.
//! - FAILED_RETRYABLE (retries spent) may still succeed (a late answer, a reconciliation) or be
//!   retried by an operator; FAILED_NON_RETRYABLE is never retried.
//! - Only a SUCCEEDED task is compensated: compensation knows the original side effect.

use std::fmt;

use domain_kernel::Lifecycle;
use serde::{Deserialize, Serialize};

/// Where a fulfilment task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// Planned.
    Created,
    /// Planned; some dependency has not succeeded yet.
    WaitingDependency,
    /// Every dependency succeeded; may be dispatched.
    Ready,
    /// Handed to its worker.
    Dispatched,
    /// Its worker reported it started.
    InProgress,
    /// The external effect is applied.
    Succeeded,
    /// Technical failures spent the retries; the effect may still be applied later.
    FailedRetryable,
    /// The downstream refused it for a business reason.
    FailedNonRetryable,
    /// No answer: applied or not, reconciliation decides.
    TimedOut,
    /// Will not run.
    Cancelled,
    /// Its effect is being undone.
    Compensating,
    /// Its effect was undone.
    Compensated,
}

/// What can happen to a fulfilment task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskCommand {
    /// Some dependency has not succeeded.
    AwaitDependencies,
    /// Every dependency succeeded.
    MarkReady,
    /// Hand it to its worker.
    Dispatch,
    /// The worker started it.
    Start,
    /// The effect is applied.
    Succeed,
    /// Retries spent.
    FailRetryable,
    /// Refused.
    FailNonRetryable,
    /// No answer.
    TimeOut,
    /// An operator retries a retryable failure.
    Retry,
    /// It will not run.
    Cancel,
    /// Undo its effect.
    StartCompensation,
    /// Its effect is undone.
    FinishCompensation,
    /// An operator settles a failed or unanswered task by hand: the effect was verified
    /// applied downstream, or the step is not needed (skipped with evidence). The one narrow
    /// bypass of the failure states, always with evidence and audit.
    ResolveManually,
}

impl TaskStatus {
    /// Every status.
    pub const ALL: [Self; 12] = [
        Self::Created,
        Self::WaitingDependency,
        Self::Ready,
        Self::Dispatched,
        Self::InProgress,
        Self::Succeeded,
        Self::FailedRetryable,
        Self::FailedNonRetryable,
        Self::TimedOut,
        Self::Cancelled,
        Self::Compensating,
        Self::Compensated,
    ];

    /// The states a stored task may be created in (the database's INSERT guard).
    pub const INITIAL: [Self; 3] = [Self::Created, Self::Ready, Self::WaitingDependency];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::WaitingDependency => "WAITING_DEPENDENCY",
            Self::Ready => "READY",
            Self::Dispatched => "DISPATCHED",
            Self::InProgress => "IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::FailedRetryable => "FAILED_RETRYABLE",
            Self::FailedNonRetryable => "FAILED_NON_RETRYABLE",
            Self::TimedOut => "TIMED_OUT",
            Self::Cancelled => "CANCELLED",
            Self::Compensating => "COMPENSATING",
            Self::Compensated => "COMPENSATED",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether nothing more is expected of it without an operator: SUCCEEDED,
    /// FAILED_NON_RETRYABLE, CANCELLED or COMPENSATED. A FAILED_RETRYABLE or TIMED_OUT task is
    /// not settled: its effect may still turn out applied.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::FailedNonRetryable | Self::Cancelled | Self::Compensated
        )
    }

    /// Handed to its worker and not answered yet (DISPATCHED or IN_PROGRESS).
    pub fn is_in_flight(self) -> bool {
        matches!(self, Self::Dispatched | Self::InProgress)
    }
}

impl TaskCommand {
    /// Every command.
    pub const ALL: [Self; 13] = [
        Self::AwaitDependencies,
        Self::MarkReady,
        Self::Dispatch,
        Self::Start,
        Self::Succeed,
        Self::FailRetryable,
        Self::FailNonRetryable,
        Self::TimeOut,
        Self::Retry,
        Self::Cancel,
        Self::StartCompensation,
        Self::FinishCompensation,
        Self::ResolveManually,
    ];
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for TaskCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

use TaskCommand as C;
use TaskStatus as S;

impl Lifecycle for TaskStatus {
    type Command = TaskCommand;
    const SUBJECT: &'static str = "fulfilment task";
    const TRANSITIONS: &'static [(Self, Self::Command, Self)] = &[
        (S::Created, C::AwaitDependencies, S::WaitingDependency),
        (S::Created, C::MarkReady, S::Ready),
        (S::WaitingDependency, C::MarkReady, S::Ready),
        (S::Ready, C::Dispatch, S::Dispatched),
        (S::Dispatched, C::Start, S::InProgress),
        (S::Dispatched, C::Succeed, S::Succeeded),
        (S::InProgress, C::Succeed, S::Succeeded),
        (S::TimedOut, C::Succeed, S::Succeeded),
        (S::FailedRetryable, C::Succeed, S::Succeeded),
        (S::Dispatched, C::FailRetryable, S::FailedRetryable),
        (S::InProgress, C::FailRetryable, S::FailedRetryable),
        (S::TimedOut, C::FailRetryable, S::FailedRetryable),
        (S::Dispatched, C::FailNonRetryable, S::FailedNonRetryable),
        (S::InProgress, C::FailNonRetryable, S::FailedNonRetryable),
        (S::TimedOut, C::FailNonRetryable, S::FailedNonRetryable),
        (
            S::FailedRetryable,
            C::FailNonRetryable,
            S::FailedNonRetryable,
        ),
        (S::Dispatched, C::TimeOut, S::TimedOut),
        (S::InProgress, C::TimeOut, S::TimedOut),
        (S::FailedRetryable, C::Retry, S::Ready),
        (S::Created, C::Cancel, S::Cancelled),
        (S::WaitingDependency, C::Cancel, S::Cancelled),
        (S::Ready, C::Cancel, S::Cancelled),
        (S::FailedRetryable, C::Cancel, S::Cancelled),
        (S::FailedNonRetryable, C::Cancel, S::Cancelled),
        (S::Succeeded, C::StartCompensation, S::Compensating),
        (S::Compensating, C::FinishCompensation, S::Compensated),
        (S::FailedRetryable, C::ResolveManually, S::Succeeded),
        (S::FailedNonRetryable, C::ResolveManually, S::Succeeded),
        (S::TimedOut, C::ResolveManually, S::Succeeded),
    ];
}

/// The table's distinct `(from, to)` pairs by stored name, for comparing with the database's
/// `order_schema.fulfilment_task_transition_allowed` (which also allows `from = to`).
pub fn allowed_pairs() -> Vec<(&'static str, &'static str)> {
    super::table_pairs::<TaskStatus>(TaskStatus::as_str)
}

#[cfg(test)]
mod tests {
    use domain_kernel::check_transition_matrix;

    use super::*;

    #[test]
    fn transition_matrix() {
        let mut expected = vec![
            (S::Created, C::AwaitDependencies, S::WaitingDependency),
            (S::Ready, C::Dispatch, S::Dispatched),
            (S::Dispatched, C::Start, S::InProgress),
            (S::FailedRetryable, C::Retry, S::Ready),
            (S::Succeeded, C::StartCompensation, S::Compensating),
            (S::Compensating, C::FinishCompensation, S::Compensated),
        ];
        for from in [S::Created, S::WaitingDependency] {
            expected.push((from, C::MarkReady, S::Ready));
        }
        for from in [
            S::Dispatched,
            S::InProgress,
            S::TimedOut,
            S::FailedRetryable,
        ] {
            expected.push((from, C::Succeed, S::Succeeded));
            expected.push((from, C::FailNonRetryable, S::FailedNonRetryable));
        }
        for from in [S::FailedRetryable, S::FailedNonRetryable, S::TimedOut] {
            expected.push((from, C::ResolveManually, S::Succeeded));
        }
        for from in [S::Dispatched, S::InProgress, S::TimedOut] {
            expected.push((from, C::FailRetryable, S::FailedRetryable));
        }
        for from in [S::Dispatched, S::InProgress] {
            expected.push((from, C::TimeOut, S::TimedOut));
        }
        for from in [
            S::Created,
            S::WaitingDependency,
            S::Ready,
            S::FailedRetryable,
            S::FailedNonRetryable,
        ] {
            expected.push((from, C::Cancel, S::Cancelled));
        }
        let count =
            check_transition_matrix(&TaskStatus::ALL, &TaskCommand::ALL, &expected).unwrap();
        assert_eq!(count.pairs, 12 * 13);
        assert_eq!(count.allowed, 29);
        assert!(S::Cancelled.is_final());
        assert!(S::Compensated.is_final());
        for status in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn an_unknown_outcome_is_never_dispatched_again_nor_assumed_failed_for_good() {
        assert!(S::TimedOut.apply(C::Dispatch).is_err());
        assert!(S::TimedOut.apply(C::Cancel).is_err());
        assert!(S::FailedNonRetryable.apply(C::Retry).is_err());
    }
}
