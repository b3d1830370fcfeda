//! Maps a refused statement to the guard that refused it, by constraint name (the schema's
//! triggers raise with `CONSTRAINT = <name>`), so the caller sees the domain's stable code.

use crate::app::ports::{GuardViolation, StoreError};

/// Guards the application answers with a refusal of its own; the rest are bugs.
const GUARDS: &[(&str, GuardViolation)] = &[
    (
        "approval_request_one_open",
        GuardViolation::OpenRequestExists,
    ),
    (
        "approval_decision_one_per_actor",
        GuardViolation::AlreadyDecided,
    ),
    (
        "approval_decision_one_per_principal",
        GuardViolation::AlreadyDecided,
    ),
    (
        "approval_decision_separation_of_duties",
        GuardViolation::SelfDecision,
    ),
    ("approval_decision_price_hash", GuardViolation::PriceHash),
    (
        "approval_decision_request_pending",
        GuardViolation::Transition,
    ),
    ("approval_request_transition", GuardViolation::Transition),
    (
        "approval_request_rejected_final",
        GuardViolation::Transition,
    ),
    ("approval_delegation_cycle", GuardViolation::DelegationCycle),
    (
        "approval_delegation_not_self",
        GuardViolation::DelegationToSelf,
    ),
    (
        "approval_request_append_only",
        GuardViolation::Other("approval_request_append_only"),
    ),
    (
        "approval_request_identity_immutable",
        GuardViolation::Other("approval_request_identity_immutable"),
    ),
    (
        "approval_request_version_transition",
        GuardViolation::Other("approval_request_version_transition"),
    ),
    (
        "approval_level_decided",
        GuardViolation::Other("approval_level_decided"),
    ),
    (
        "approval_decision_append_only",
        GuardViolation::Other("approval_decision_append_only"),
    ),
    (
        "approval_history_append_only",
        GuardViolation::Other("approval_history_append_only"),
    ),
    (
        "approval_request_process_instance_set_once",
        GuardViolation::Other("approval_request_process_instance_set_once"),
    ),
    (
        "approval_request_process_instance_alone",
        GuardViolation::Other("approval_request_process_instance_alone"),
    ),
    (
        "approver_version_transition",
        GuardViolation::Other("approver_version_transition"),
    ),
    (
        "approver_identity_immutable",
        GuardViolation::Other("approver_identity_immutable"),
    ),
    (
        "approver_append_only",
        GuardViolation::Other("approver_append_only"),
    ),
];

/// The store error of `error`: a named guard when the schema refused, else the database error.
pub(super) fn map(error: sqlx::Error) -> StoreError {
    let guard = common_kernel::db::violated_constraint(&error)
        .and_then(|name| GUARDS.iter().find(|(known, _)| *known == name))
        .map(|(_, guard)| *guard);
    match guard {
        Some(guard) => StoreError::Guard(guard),
        None => StoreError::Database(error),
    }
}

#[cfg(test)]
mod tests {
    use super::GUARDS;

    #[test]
    fn every_guard_is_named_once() {
        let mut names: Vec<&str> = GUARDS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), GUARDS.len());
    }
}
