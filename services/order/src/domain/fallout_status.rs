//! The fallout record's lifecycle as one transition table (state-machines.md, "Fallout"). The
//! database trigger `order_schema.order_fallout_transition_allowed` mirrors it pair for pair.
//!
//! - OPEN is where every fallout starts; an operator takes it (ASSIGNED), schedules a retry,
//!   waits on a downstream's answer, or finds it needs hands-on work.
//! - A scheduled retry either resolves it (the work succeeded) or reopens it (it failed again).
//! - RESOLVED records how (resolution type, note, evidence); CLOSED is the archive. Closing
//!   never completes an order by itself.

use std::fmt;

use domain_kernel::Lifecycle;
use serde::{Deserialize, Serialize};

/// Where a fallout record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FalloutStatus {
    /// Raised, nobody has it yet.
    Open,
    /// An operator or team has it.
    Assigned,
    /// A retry was asked for; its outcome resolves or reopens it.
    RetryScheduled,
    /// Waiting for a downstream's answer (a reconciliation, a ticket).
    WaitingExternal,
    /// Needs hands-on work outside the platform (an undo by hand).
    ManualActionRequired,
    /// Repaired; how is recorded.
    Resolved,
    /// Archived.
    Closed,
}

/// What can happen to a fallout record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FalloutCommand {
    /// Give it to an operator or team.
    Assign,
    /// A retry was asked for.
    ScheduleRetry,
    /// Wait for a downstream's answer.
    AwaitExternal,
    /// Hands-on work is needed.
    RequireManualAction,
    /// The retried or awaited work failed again.
    Reopen,
    /// Repaired.
    Resolve,
    /// Archive.
    Close,
}

impl FalloutStatus {
    /// Every status.
    pub const ALL: [Self; 7] = [
        Self::Open,
        Self::Assigned,
        Self::RetryScheduled,
        Self::WaitingExternal,
        Self::ManualActionRequired,
        Self::Resolved,
        Self::Closed,
    ];

    /// The states a stored record may be created in (the database's INSERT guard).
    pub const INITIAL: [Self; 2] = [Self::Open, Self::ManualActionRequired];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Assigned => "ASSIGNED",
            Self::RetryScheduled => "RETRY_SCHEDULED",
            Self::WaitingExternal => "WAITING_EXTERNAL",
            Self::ManualActionRequired => "MANUAL_ACTION_REQUIRED",
            Self::Resolved => "RESOLVED",
            Self::Closed => "CLOSED",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Not yet RESOLVED or CLOSED: somebody still has to act or wait.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved | Self::Closed)
    }
}

impl FalloutCommand {
    /// Every command.
    pub const ALL: [Self; 7] = [
        Self::Assign,
        Self::ScheduleRetry,
        Self::AwaitExternal,
        Self::RequireManualAction,
        Self::Reopen,
        Self::Resolve,
        Self::Close,
    ];
}

impl fmt::Display for FalloutStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for FalloutCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

use FalloutCommand as C;
use FalloutStatus as S;

impl Lifecycle for FalloutStatus {
    type Command = FalloutCommand;
    const SUBJECT: &'static str = "fallout";
    const TRANSITIONS: &'static [(Self, Self::Command, Self)] = &[
        (S::Open, C::Assign, S::Assigned),
        (S::Assigned, C::Assign, S::Assigned),
        (S::WaitingExternal, C::Assign, S::Assigned),
        (S::ManualActionRequired, C::Assign, S::Assigned),
        (S::Open, C::ScheduleRetry, S::RetryScheduled),
        (S::Assigned, C::ScheduleRetry, S::RetryScheduled),
        (S::Open, C::AwaitExternal, S::WaitingExternal),
        (S::Assigned, C::AwaitExternal, S::WaitingExternal),
        (S::Open, C::RequireManualAction, S::ManualActionRequired),
        (S::Assigned, C::RequireManualAction, S::ManualActionRequired),
        (
            S::WaitingExternal,
            C::RequireManualAction,
            S::ManualActionRequired,
        ),
        (S::RetryScheduled, C::Reopen, S::Open),
        (S::WaitingExternal, C::Reopen, S::Open),
        (S::Open, C::Resolve, S::Resolved),
        (S::Assigned, C::Resolve, S::Resolved),
        (S::RetryScheduled, C::Resolve, S::Resolved),
        (S::WaitingExternal, C::Resolve, S::Resolved),
        (S::ManualActionRequired, C::Resolve, S::Resolved),
        (S::Resolved, C::Close, S::Closed),
    ];
}

/// The table's distinct `(from, to)` pairs by stored name, for comparing with the database's
/// `order_schema.order_fallout_transition_allowed` (which also allows `from = to`).
pub fn allowed_pairs() -> Vec<(&'static str, &'static str)> {
    super::table_pairs::<FalloutStatus>(FalloutStatus::as_str)
}

#[cfg(test)]
mod tests {
    use domain_kernel::check_transition_matrix;

    use super::*;

    #[test]
    fn transition_matrix() {
        let mut expected = vec![
            (S::RetryScheduled, C::Reopen, S::Open),
            (S::WaitingExternal, C::Reopen, S::Open),
            (S::Resolved, C::Close, S::Closed),
        ];
        for from in [
            S::Open,
            S::Assigned,
            S::WaitingExternal,
            S::ManualActionRequired,
        ] {
            expected.push((from, C::Assign, S::Assigned));
        }
        for from in [S::Open, S::Assigned] {
            expected.push((from, C::ScheduleRetry, S::RetryScheduled));
            expected.push((from, C::AwaitExternal, S::WaitingExternal));
        }
        for from in [S::Open, S::Assigned, S::WaitingExternal] {
            expected.push((from, C::RequireManualAction, S::ManualActionRequired));
        }
        for from in [
            S::Open,
            S::Assigned,
            S::RetryScheduled,
            S::WaitingExternal,
            S::ManualActionRequired,
        ] {
            expected.push((from, C::Resolve, S::Resolved));
        }
        let count =
            check_transition_matrix(&FalloutStatus::ALL, &FalloutCommand::ALL, &expected).unwrap();
        assert_eq!(count.pairs, 7 * 7);
        assert_eq!(count.allowed, 19);
        assert!(S::Closed.is_final());
        for status in FalloutStatus::ALL {
            assert_eq!(FalloutStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.is_open(), !matches!(status, S::Resolved | S::Closed));
        }
    }

    #[test]
    fn a_retry_is_only_scheduled_from_an_open_or_assigned_record() {
        assert!(S::ManualActionRequired.apply(C::ScheduleRetry).is_err());
        assert!(S::Resolved.apply(C::ScheduleRetry).is_err());
        assert!(S::Closed.apply(C::Resolve).is_err());
    }
}
