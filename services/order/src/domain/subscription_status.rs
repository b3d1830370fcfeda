//! The subscription's lifecycle as one transition table (state-machines.md, "Subscription").
//! The database trigger `order_schema.subscription_transition_allowed` mirrors it.
//!
//! - A renewal is ACTIVE → ACTIVE: a new version with evidence, never a second subscription.
//! - TERMINATED and CANCELLED are final.

use std::fmt;

use domain_kernel::Lifecycle;
use serde::{Deserialize, Serialize};

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubscriptionStatus {
    /// Its order is being fulfilled.
    PendingActivation,
    /// Running; has a start date.
    Active,
    /// Paused.
    Suspended,
    /// Ended; has an end date.
    Terminated,
    /// Never started.
    Cancelled,
}

/// What can happen to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubscriptionCommand {
    /// The root item completed.
    Activate,
    /// The order was cancelled before activation.
    Cancel,
    /// Pause.
    Suspend,
    /// Unpause.
    Resume,
    /// End it.
    Terminate,
    /// Extend it (a version bump with evidence).
    Renew,
}

impl SubscriptionStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [
        Self::PendingActivation,
        Self::Active,
        Self::Suspended,
        Self::Terminated,
        Self::Cancelled,
    ];

    /// The states a stored subscription may be created in (the database's INSERT guard).
    pub const INITIAL: [Self; 1] = [Self::PendingActivation];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::Active => "ACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::Terminated => "TERMINATED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl SubscriptionCommand {
    /// Every command.
    pub const ALL: [Self; 6] = [
        Self::Activate,
        Self::Cancel,
        Self::Suspend,
        Self::Resume,
        Self::Terminate,
        Self::Renew,
    ];
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for SubscriptionCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

use SubscriptionCommand as C;
use SubscriptionStatus as S;

impl Lifecycle for SubscriptionStatus {
    type Command = SubscriptionCommand;
    const SUBJECT: &'static str = "subscription";
    const TRANSITIONS: &'static [(Self, Self::Command, Self)] = &[
        (S::PendingActivation, C::Activate, S::Active),
        (S::PendingActivation, C::Cancel, S::Cancelled),
        (S::Active, C::Suspend, S::Suspended),
        (S::Suspended, C::Resume, S::Active),
        (S::Active, C::Terminate, S::Terminated),
        (S::Suspended, C::Terminate, S::Terminated),
        (S::Active, C::Renew, S::Active),
    ];
}

/// The table's distinct `(from, to)` pairs by stored name, for comparing with the database's
/// `order_schema.subscription_transition_allowed` (which also allows `from = to`).
pub fn allowed_pairs() -> Vec<(&'static str, &'static str)> {
    super::table_pairs::<SubscriptionStatus>(SubscriptionStatus::as_str)
}

#[cfg(test)]
mod tests {
    use domain_kernel::check_transition_matrix;

    use super::*;

    #[test]
    fn transition_matrix() {
        let expected = [
            (S::PendingActivation, C::Activate, S::Active),
            (S::PendingActivation, C::Cancel, S::Cancelled),
            (S::Active, C::Suspend, S::Suspended),
            (S::Suspended, C::Resume, S::Active),
            (S::Active, C::Terminate, S::Terminated),
            (S::Suspended, C::Terminate, S::Terminated),
            (S::Active, C::Renew, S::Active),
        ];
        let count = check_transition_matrix(
            &SubscriptionStatus::ALL,
            &SubscriptionCommand::ALL,
            &expected,
        )
        .unwrap();
        assert_eq!(count.pairs, 5 * 6);
        assert_eq!(count.allowed, 7);
        assert!(S::Terminated.is_final());
        assert!(S::Cancelled.is_final());
        for status in SubscriptionStatus::ALL {
            assert_eq!(SubscriptionStatus::parse(status.as_str()), Some(status));
        }
    }
}
