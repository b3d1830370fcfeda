//! The product instance's (asset's) lifecycle as one transition table (state-machines.md,
//! "Asset"). The database trigger `order_schema.product_instance_transition_allowed` mirrors it.
//!
//! - DISCONNECTED and CANCELLED are final: a disconnected asset is never modified.
//! - One pending operation at a time: PENDING_MODIFICATION and PENDING_DISCONNECT leave only by
//!   completing, abandoning or erroring.
//! - ERROR is recovered by an operator back to ACTIVE.

use std::fmt;

use domain_kernel::Lifecycle;
use serde::{Deserialize, Serialize};

/// Where a product instance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetStatus {
    /// Ordered; its ADD is being fulfilled.
    PendingActivation,
    /// In service.
    Active,
    /// A MODIFY is being fulfilled.
    PendingModification,
    /// Out of service for a while.
    Suspended,
    /// A DELETE is being fulfilled.
    PendingDisconnect,
    /// Out of service for good.
    Disconnected,
    /// Its ADD was cancelled before activation.
    Cancelled,
    /// A pending operation broke; an operator recovers it.
    Error,
}

/// What can happen to a product instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetCommand {
    /// Its ADD completed.
    Activate,
    /// Its ADD was cancelled.
    CancelActivation,
    /// A MODIFY starts.
    BeginModification,
    /// The MODIFY completed.
    CompleteModification,
    /// The MODIFY was given up.
    AbandonModification,
    /// Suspend service.
    Suspend,
    /// Resume service.
    Resume,
    /// A DELETE starts.
    BeginDisconnect,
    /// The DELETE completed.
    CompleteDisconnect,
    /// The DELETE was given up.
    AbandonDisconnect,
    /// A pending operation broke.
    MarkError,
    /// An operator repaired it.
    Recover,
}

impl AssetStatus {
    /// Every status.
    pub const ALL: [Self; 8] = [
        Self::PendingActivation,
        Self::Active,
        Self::PendingModification,
        Self::Suspended,
        Self::PendingDisconnect,
        Self::Disconnected,
        Self::Cancelled,
        Self::Error,
    ];

    /// The states a stored product instance may be created in (the database's INSERT guard).
    pub const INITIAL: [Self; 1] = [Self::PendingActivation];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::Active => "ACTIVE",
            Self::PendingModification => "PENDING_MODIFICATION",
            Self::Suspended => "SUSPENDED",
            Self::PendingDisconnect => "PENDING_DISCONNECT",
            Self::Disconnected => "DISCONNECTED",
            Self::Cancelled => "CANCELLED",
            Self::Error => "ERROR",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl AssetCommand {
    /// Every command.
    pub const ALL: [Self; 12] = [
        Self::Activate,
        Self::CancelActivation,
        Self::BeginModification,
        Self::CompleteModification,
        Self::AbandonModification,
        Self::Suspend,
        Self::Resume,
        Self::BeginDisconnect,
        Self::CompleteDisconnect,
        Self::AbandonDisconnect,
        Self::MarkError,
        Self::Recover,
    ];
}

impl fmt::Display for AssetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for AssetCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

use AssetCommand as C;
use AssetStatus as S;

impl Lifecycle for AssetStatus {
    type Command = AssetCommand;
    const SUBJECT: &'static str = "product instance";
    const TRANSITIONS: &'static [(Self, Self::Command, Self)] = &[
        (S::PendingActivation, C::Activate, S::Active),
        (S::PendingActivation, C::CancelActivation, S::Cancelled),
        (S::Active, C::BeginModification, S::PendingModification),
        (S::PendingModification, C::CompleteModification, S::Active),
        (S::PendingModification, C::AbandonModification, S::Active),
        (S::Active, C::Suspend, S::Suspended),
        (S::Suspended, C::Resume, S::Active),
        (S::Active, C::BeginDisconnect, S::PendingDisconnect),
        (S::Suspended, C::BeginDisconnect, S::PendingDisconnect),
        (S::PendingDisconnect, C::CompleteDisconnect, S::Disconnected),
        (S::PendingDisconnect, C::AbandonDisconnect, S::Active),
        (S::PendingActivation, C::MarkError, S::Error),
        (S::PendingModification, C::MarkError, S::Error),
        (S::PendingDisconnect, C::MarkError, S::Error),
        (S::Error, C::Recover, S::Active),
    ];
}

/// The table's distinct `(from, to)` pairs by stored name, for comparing with the database's
/// `order_schema.product_instance_transition_allowed` (which also allows `from = to`).
pub fn allowed_pairs() -> Vec<(&'static str, &'static str)> {
    super::table_pairs::<AssetStatus>(AssetStatus::as_str)
}

#[cfg(test)]
mod tests {
    use domain_kernel::check_transition_matrix;

    use super::*;

    #[test]
    fn transition_matrix() {
        let mut expected = vec![
            (S::PendingActivation, C::Activate, S::Active),
            (S::PendingActivation, C::CancelActivation, S::Cancelled),
            (S::Active, C::BeginModification, S::PendingModification),
            (S::PendingModification, C::CompleteModification, S::Active),
            (S::PendingModification, C::AbandonModification, S::Active),
            (S::Active, C::Suspend, S::Suspended),
            (S::Suspended, C::Resume, S::Active),
            (S::PendingDisconnect, C::CompleteDisconnect, S::Disconnected),
            (S::PendingDisconnect, C::AbandonDisconnect, S::Active),
            (S::Error, C::Recover, S::Active),
        ];
        for from in [S::Active, S::Suspended] {
            expected.push((from, C::BeginDisconnect, S::PendingDisconnect));
        }
        for from in [
            S::PendingActivation,
            S::PendingModification,
            S::PendingDisconnect,
        ] {
            expected.push((from, C::MarkError, S::Error));
        }
        let count =
            check_transition_matrix(&AssetStatus::ALL, &AssetCommand::ALL, &expected).unwrap();
        assert_eq!(count.pairs, 8 * 12);
        assert_eq!(count.allowed, 15);
        assert!(S::Disconnected.is_final());
        assert!(S::Cancelled.is_final());
        for status in AssetStatus::ALL {
            assert_eq!(AssetStatus::parse(status.as_str()), Some(status));
        }
    }
}
