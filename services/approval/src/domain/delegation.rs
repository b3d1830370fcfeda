//! Delegation rules, pure: A lets B decide on A's behalf for a window of time. Refused: a
//! delegation to oneself, a cycle (B already delegates to A, directly or through others, in an
//! overlapping window) and transitive use (B cannot pass on what A delegated: C acting for A
//! through B is refused). Deciding on behalf records both the actor and the principal.

use chrono::{DateTime, Utc};
use domain_kernel::ActorId;
use serde::{Deserialize, Serialize};

use super::DelegationId;

/// A grant from `delegator` to `delegate`, valid in `[valid_from, valid_until)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delegation {
    /// Its id.
    pub id: DelegationId,
    /// Who delegates their own authority.
    pub delegator: ActorId,
    /// Who may act for them.
    pub delegate: ActorId,
    /// Start (inclusive).
    pub valid_from: DateTime<Utc>,
    /// End (exclusive).
    pub valid_until: DateTime<Utc>,
}

impl Delegation {
    /// Whether the grant is in force at `at`.
    pub fn is_valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && at < self.valid_until
    }

    /// Whether the two windows share an instant.
    pub fn overlaps(&self, other: &Self) -> bool {
        self.valid_from < other.valid_until && other.valid_from < self.valid_until
    }

    /// Whether the grant lets `actor` act for `principal` at `at`.
    pub fn allows(&self, actor: &ActorId, principal: &ActorId, at: DateTime<Utc>) -> bool {
        &self.delegate == actor && &self.delegator == principal && self.is_valid_at(at)
    }
}

/// Why a delegation, or its use, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelegationError {
    /// Delegating to oneself.
    #[error("an approver cannot delegate to themselves")]
    SelfDelegation,
    /// The window is empty.
    #[error("a delegation must end after it starts")]
    EmptyWindow,
    /// The delegate already delegates back to the delegator in an overlapping window.
    #[error("{delegate} already delegates to {delegator} in an overlapping window")]
    Cycle {
        /// The refused grant's delegator.
        delegator: ActorId,
        /// The refused grant's delegate.
        delegate: ActorId,
    },
    /// The actor holds the principal's authority only through someone else.
    #[error(
        "{actor} may act for {principal} only through another delegate; delegations do not pass on"
    )]
    TransitiveUse {
        /// The acting user.
        actor: ActorId,
        /// Whose authority they claimed.
        principal: ActorId,
    },
    /// No delegation from the principal to the actor is in force.
    #[error("{actor} holds no delegation from {principal} at that time")]
    NoDelegation {
        /// The acting user.
        actor: ActorId,
        /// Whose authority they claimed.
        principal: ActorId,
    },
}

impl DelegationError {
    /// Stable code for problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SelfDelegation => "DELEGATION_TO_SELF",
            Self::EmptyWindow => "DELEGATION_WINDOW_EMPTY",
            Self::Cycle { .. } => "DELEGATION_CYCLE",
            Self::TransitiveUse { .. } => "DELEGATION_TRANSITIVE",
            Self::NoDelegation { .. } => "DELEGATION_NOT_IN_FORCE",
        }
    }
}

/// The delegations of one tenant that the rules look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelegationBook {
    delegations: Vec<Delegation>,
}

impl DelegationBook {
    /// A book over stored delegations.
    pub fn new(delegations: Vec<Delegation>) -> Self {
        Self { delegations }
    }

    /// The delegations in the book.
    pub fn delegations(&self) -> &[Delegation] {
        &self.delegations
    }

    /// Checks `grant` against the rules and adds it.
    pub fn grant(&mut self, grant: Delegation) -> Result<(), DelegationError> {
        if grant.delegator == grant.delegate {
            return Err(DelegationError::SelfDelegation);
        }
        if grant.valid_until <= grant.valid_from {
            return Err(DelegationError::EmptyWindow);
        }
        if self.reaches(&grant.delegate, &grant.delegator, &grant, &mut Vec::new()) {
            return Err(DelegationError::Cycle {
                delegator: grant.delegator,
                delegate: grant.delegate,
            });
        }
        self.delegations.push(grant);
        Ok(())
    }

    /// Whether delegations overlapping `window` lead from `from` to `to`.
    fn reaches(
        &self,
        from: &ActorId,
        to: &ActorId,
        window: &Delegation,
        seen: &mut Vec<ActorId>,
    ) -> bool {
        if seen.contains(from) {
            return false;
        }
        seen.push(from.clone());
        self.delegations
            .iter()
            .filter(|d| &d.delegator == from && d.overlaps(window))
            .any(|d| &d.delegate == to || self.reaches(&d.delegate, to, window, seen))
    }

    /// The delegation that lets `actor` decide for `principal` at `at`. A chain through other
    /// delegates is refused as transitive use, never followed.
    pub fn authorize(
        &self,
        actor: &ActorId,
        principal: &ActorId,
        at: DateTime<Utc>,
    ) -> Result<&Delegation, DelegationError> {
        if actor == principal {
            return Err(DelegationError::SelfDelegation);
        }
        if let Some(direct) = self
            .delegations
            .iter()
            .find(|d| d.allows(actor, principal, at))
        {
            return Ok(direct);
        }
        let valid: Vec<&Delegation> = self
            .delegations
            .iter()
            .filter(|d| d.is_valid_at(at))
            .collect();
        let mut frontier = vec![principal.clone()];
        let mut seen = frontier.clone();
        while let Some(next) = frontier.pop() {
            for d in valid.iter().filter(|d| d.delegator == next) {
                if &d.delegate == actor {
                    return Err(DelegationError::TransitiveUse {
                        actor: actor.clone(),
                        principal: principal.clone(),
                    });
                }
                if !seen.contains(&d.delegate) {
                    seen.push(d.delegate.clone());
                    frontier.push(d.delegate.clone());
                }
            }
        }
        Err(DelegationError::NoDelegation {
            actor: actor.clone(),
            principal: principal.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn who(name: &str) -> ActorId {
        ActorId::parse(name).unwrap()
    }

    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap() + Duration::days(n)
    }

    fn grant(from: &str, to: &str, start: i64, end: i64) -> Delegation {
        Delegation {
            id: DelegationId::generate(),
            delegator: who(from),
            delegate: who(to),
            valid_from: day(start),
            valid_until: day(end),
        }
    }

    #[test]
    fn self_delegation_and_empty_windows_are_refused() {
        let mut book = DelegationBook::default();
        assert_eq!(
            book.grant(grant("a", "a", 0, 5)),
            Err(DelegationError::SelfDelegation)
        );
        assert_eq!(
            book.grant(grant("a", "b", 5, 5)),
            Err(DelegationError::EmptyWindow)
        );
        assert!(book.delegations().is_empty());
    }

    #[test]
    fn a_delegation_back_in_an_overlapping_window_is_a_cycle() {
        let mut book = DelegationBook::default();
        book.grant(grant("a", "b", 0, 10)).unwrap();
        let refused = book.grant(grant("b", "a", 5, 15)).unwrap_err();
        assert_eq!(refused.code(), "DELEGATION_CYCLE");
        // Windows that do not overlap are no cycle: b covers for a later, a for b now.
        book.grant(grant("b", "a", 10, 20)).unwrap();
    }

    #[test]
    fn longer_cycles_are_refused_too() {
        let mut book = DelegationBook::default();
        book.grant(grant("a", "b", 0, 10)).unwrap();
        book.grant(grant("b", "c", 0, 10)).unwrap();
        assert!(matches!(
            book.grant(grant("c", "a", 3, 4)),
            Err(DelegationError::Cycle { .. })
        ));
        assert!(book.grant(grant("c", "a", 10, 11)).is_ok());
    }

    #[test]
    fn what_was_delegated_does_not_pass_on() {
        let mut book = DelegationBook::default();
        book.grant(grant("a", "b", 0, 10)).unwrap();
        // b may delegate their own authority …
        book.grant(grant("b", "c", 0, 10)).unwrap();
        assert!(book.authorize(&who("c"), &who("b"), day(1)).is_ok());
        assert!(book.authorize(&who("b"), &who("a"), day(1)).is_ok());
        // … but c never acts for a through b.
        let refused = book.authorize(&who("c"), &who("a"), day(1)).unwrap_err();
        assert_eq!(refused.code(), "DELEGATION_TRANSITIVE");
    }

    #[test]
    fn use_is_bound_to_the_window() {
        let mut book = DelegationBook::default();
        book.grant(grant("a", "b", 2, 4)).unwrap();
        assert!(book.authorize(&who("b"), &who("a"), day(2)).is_ok());
        for outside in [day(1), day(4)] {
            assert!(matches!(
                book.authorize(&who("b"), &who("a"), outside),
                Err(DelegationError::NoDelegation { .. })
            ));
        }
        assert_eq!(
            book.authorize(&who("a"), &who("a"), day(3)),
            Err(DelegationError::SelfDelegation)
        );
    }
}
