//! The pricing state of a quote (state-machines.md, "Pricing") as one explicit transition
//! table, so "approving one number and ordering another" cannot happen through a forgotten
//! `if`.
//!
//! | from | command | to |
//! |---|---|---|
//! | NOT_PRICED | PRICE | PRICED |
//! | NOT_PRICED | INPUTS_CHANGED | NOT_PRICED |
//! | PRICED | PRICE | PRICED |
//! | PRICED | INPUTS_CHANGED | PRICE_STALE |
//! | PRICED | OVERRIDE | OVERRIDE_PENDING_APPROVAL |
//! | PRICED | FREEZE | FROZEN |
//! | PRICE_STALE | PRICE | PRICED |
//! | PRICE_STALE | OVERRIDE | OVERRIDE_PENDING_APPROVAL |
//! | PRICE_STALE | INPUTS_CHANGED | PRICE_STALE |
//! | OVERRIDE_PENDING_APPROVAL | OVERRIDE | OVERRIDE_PENDING_APPROVAL |
//! | OVERRIDE_PENDING_APPROVAL | INPUTS_CHANGED | PRICE_STALE |
//! | OVERRIDE_PENDING_APPROVAL | APPROVE | APPROVED |
//! | OVERRIDE_PENDING_APPROVAL | REJECT | REJECTED |
//! | APPROVED | OVERRIDE | OVERRIDE_PENDING_APPROVAL |
//! | APPROVED | INPUTS_CHANGED | PRICE_STALE |
//! | APPROVED | FREEZE | FROZEN |
//! | REJECTED | OVERRIDE | OVERRIDE_PENDING_APPROVAL |
//! | REJECTED | INPUTS_CHANGED | PRICE_STALE |
//!
//! Decisions: `PRICE` means "priced, no override in effect" and `OVERRIDE` means "priced with a
//! manual override in effect" ([`crate::PricedQuote::state_command`] says which a result is).
//! FROZEN is terminal and is reached only from PRICED (nothing to approve) or APPROVED — never
//! from a stale price, a pending or a rejected override. Any input change after approval
//! invalidates the approval (back to PRICE_STALE), as does changing an approved override (back
//! to OVERRIDE_PENDING_APPROVAL). Withdrawing a rejected override is an input change: REJECTED →
//! PRICE_STALE → PRICED. Re-pricing an approved or pending quote without changing its inputs is
//! not a transition (the hash is unchanged); the service treats it as a no-op.

use std::fmt;

use domain_kernel::Lifecycle;

/// Where a quote's price stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PricingState {
    /// Never priced.
    NotPriced,
    /// Priced, no override in effect; may be frozen.
    Priced,
    /// Inputs changed since the last pricing; no order may come from it.
    PriceStale,
    /// A manual override waits for a decision.
    OverridePendingApproval,
    /// The override was approved; may be frozen.
    Approved,
    /// The override was rejected; a new override or an input change follows.
    Rejected,
    /// Frozen into an accepted quote's snapshot; never changes again.
    Frozen,
}

/// What can happen to a quote's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PricingCommand {
    /// A pricing run succeeded with no override in effect.
    Price,
    /// Something the price depends on changed (items, quantities, configuration, discounts,
    /// overrides withdrawn, price book).
    InputsChanged,
    /// A pricing run succeeded with a manual override in effect (new or changed).
    Override,
    /// The pending override was approved.
    Approve,
    /// The pending override was rejected.
    Reject,
    /// The quote was accepted: its price becomes the frozen snapshot.
    Freeze,
}

impl PricingState {
    /// Every state, for matrices and property tests.
    pub const ALL: [Self; 7] = [
        Self::NotPriced,
        Self::Priced,
        Self::PriceStale,
        Self::OverridePendingApproval,
        Self::Approved,
        Self::Rejected,
        Self::Frozen,
    ];

    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotPriced => "NOT_PRICED",
            Self::Priced => "PRICED",
            Self::PriceStale => "PRICE_STALE",
            Self::OverridePendingApproval => "OVERRIDE_PENDING_APPROVAL",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Frozen => "FROZEN",
        }
    }

    /// Parses the wire and storage name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether no command can change the state any more.
    pub fn is_terminal(self) -> bool {
        self == Self::Frozen
    }
}

impl PricingCommand {
    /// Every command, for matrices and property tests.
    pub const ALL: [Self; 6] = [
        Self::Price,
        Self::InputsChanged,
        Self::Override,
        Self::Approve,
        Self::Reject,
        Self::Freeze,
    ];

    /// Name used in history rows and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Price => "PRICE",
            Self::InputsChanged => "INPUTS_CHANGED",
            Self::Override => "OVERRIDE",
            Self::Approve => "APPROVE",
            Self::Reject => "REJECT",
            Self::Freeze => "FREEZE",
        }
    }
}

impl fmt::Display for PricingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PricingCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pricing lifecycle: (from, command, to). Anything absent is illegal.
pub const PRICING_TRANSITIONS: &[(PricingState, PricingCommand, PricingState)] = {
    use PricingCommand as C;
    use PricingState as S;
    &[
        (S::NotPriced, C::Price, S::Priced),
        (S::NotPriced, C::InputsChanged, S::NotPriced),
        (S::Priced, C::Price, S::Priced),
        (S::Priced, C::InputsChanged, S::PriceStale),
        (S::Priced, C::Override, S::OverridePendingApproval),
        (S::Priced, C::Freeze, S::Frozen),
        (S::PriceStale, C::Price, S::Priced),
        (S::PriceStale, C::Override, S::OverridePendingApproval),
        (S::PriceStale, C::InputsChanged, S::PriceStale),
        (
            S::OverridePendingApproval,
            C::Override,
            S::OverridePendingApproval,
        ),
        (S::OverridePendingApproval, C::InputsChanged, S::PriceStale),
        (S::OverridePendingApproval, C::Approve, S::Approved),
        (S::OverridePendingApproval, C::Reject, S::Rejected),
        (S::Approved, C::Override, S::OverridePendingApproval),
        (S::Approved, C::InputsChanged, S::PriceStale),
        (S::Approved, C::Freeze, S::Frozen),
        (S::Rejected, C::Override, S::OverridePendingApproval),
        (S::Rejected, C::InputsChanged, S::PriceStale),
    ]
};

impl Lifecycle for PricingState {
    type Command = PricingCommand;
    const SUBJECT: &'static str = "price";
    /// Kept from before the shared helper: clients already match on it.
    const REFUSAL_CODE: &'static str = "PRICING_TRANSITION_NOT_ALLOWED";
    const TRANSITIONS: &'static [(Self, PricingCommand, Self)] = PRICING_TRANSITIONS;
}

/// A command the current pricing state does not allow.
pub type TransitionError = domain_kernel::TransitionError<PricingState>;

/// Where `command` takes a price in state `from`, per [`PRICING_TRANSITIONS`].
pub fn transition(
    from: PricingState,
    command: PricingCommand,
) -> Result<PricingState, TransitionError> {
    from.apply(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every (state, command) pair, with the expected outcome written out independently of the
    /// table, so a change to either is caught.
    #[test]
    fn transition_matrix() {
        use PricingCommand as C;
        use PricingState as S;
        let expected = |from: S, command: C| -> Option<S> {
            match (from, command) {
                (S::Frozen, _) => None,
                (S::NotPriced, C::InputsChanged) => Some(S::NotPriced),
                (S::NotPriced | S::Priced | S::PriceStale, C::Price) => Some(S::Priced),
                (
                    S::Priced
                    | S::PriceStale
                    | S::OverridePendingApproval
                    | S::Approved
                    | S::Rejected,
                    C::InputsChanged,
                ) => Some(S::PriceStale),
                (
                    S::Priced
                    | S::PriceStale
                    | S::OverridePendingApproval
                    | S::Approved
                    | S::Rejected,
                    C::Override,
                ) => Some(S::OverridePendingApproval),
                (S::OverridePendingApproval, C::Approve) => Some(S::Approved),
                (S::OverridePendingApproval, C::Reject) => Some(S::Rejected),
                (S::Priced | S::Approved, C::Freeze) => Some(S::Frozen),
                _ => None,
            }
        };
        let mut allowed = 0;
        for from in S::ALL {
            for command in C::ALL {
                let outcome = transition(from, command);
                assert_eq!(outcome.ok(), expected(from, command), "{from} x {command}");
                match outcome {
                    Ok(_) => allowed += 1,
                    Err(error) => {
                        assert_eq!(error, TransitionError { from, command });
                        assert_eq!(error.code(), "PRICING_TRANSITION_NOT_ALLOWED");
                    }
                }
            }
        }
        assert_eq!(allowed, PRICING_TRANSITIONS.len());
        assert_eq!(allowed, 18);
        assert_eq!(S::ALL.len() * C::ALL.len(), 42);
    }

    #[test]
    fn the_table_has_no_duplicate_pairs() {
        for (i, (f, c, _)) in PRICING_TRANSITIONS.iter().enumerate() {
            assert!(
                !PRICING_TRANSITIONS[i + 1..]
                    .iter()
                    .any(|(f2, c2, _)| f2 == f && c2 == c),
                "{f} x {c} twice"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for state in PricingState::ALL {
            assert_eq!(PricingState::parse(state.as_str()), Some(state));
        }
        assert_eq!(PricingState::parse("priced"), None);
        assert_eq!(
            TransitionError {
                from: PricingState::PriceStale,
                command: PricingCommand::Freeze
            }
            .to_string(),
            "FREEZE is not allowed when the price is PRICE_STALE"
        );
    }

    fn any_command() -> impl Strategy<Value = PricingCommand> {
        proptest::sample::select(PricingCommand::ALL.to_vec())
    }

    proptest! {
        /// Random command sequences never break the invariants: FROZEN never changes; a price is
        /// frozen only when it is current (no input change since the last pricing) and has no
        /// override awaiting or lacking approval; APPROVED always follows an approval of the
        /// override in effect.
        #[test]
        fn invariants_hold_over_random_sequences(commands in proptest::collection::vec(any_command(), 0..60)) {
            let mut state = PricingState::NotPriced;
            let mut priced = false;
            let mut stale = false;
            let mut unapproved_override = false;
            for command in commands {
                let before = state;
                let Ok(next) = transition(state, command) else {
                    continue;
                };
                prop_assert!(!before.is_terminal(), "{} left FROZEN", command);
                match command {
                    PricingCommand::Price => {
                        priced = true;
                        stale = false;
                        unapproved_override = false;
                    }
                    PricingCommand::Override => {
                        priced = true;
                        stale = false;
                        unapproved_override = true;
                    }
                    PricingCommand::InputsChanged => stale = priced,
                    PricingCommand::Approve => {
                        prop_assert!(unapproved_override && !stale);
                        unapproved_override = false;
                    }
                    PricingCommand::Reject | PricingCommand::Freeze => {}
                }
                if next == PricingState::Frozen {
                    prop_assert!(priced && !stale && !unapproved_override, "frozen from {}", before);
                }
                if next == PricingState::Approved {
                    prop_assert_eq!(before, PricingState::OverridePendingApproval);
                }
                if next == PricingState::PriceStale {
                    prop_assert!(stale);
                }
                state = next;
            }
            if state == PricingState::Frozen {
                for command in PricingCommand::ALL {
                    prop_assert!(transition(state, command).is_err());
                }
            }
        }
    }
}
