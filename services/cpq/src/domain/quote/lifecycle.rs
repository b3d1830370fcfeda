//! The quote lifecycle (state-machines.md, "Quote") as one transition table. The guards whose
//! facts live outside the status (validity of items, time, price state) are in
//! [`super::guards`], so the table stays a plain lookup and each guard is testable alone.
//!
//! Decisions the spec leaves open:
//! - Terminal: CONVERTED, EXPIRED, CANCELLED. REJECTED is not terminal (it can be revised, and
//!   it can still expire); ACCEPTED is not terminal (it converts).
//! - Expirable: every non-terminal state except ACCEPTED. The customer accepted while the
//!   quote was valid; letting the clock undo that would void a binding acceptance, so an
//!   accepted quote waits for conversion instead.
//! - Cancellable: DRAFT through APPROVED, as the spec lists; not REJECTED (revise, then cancel,
//!   or let it expire) and not ACCEPTED (cancelling an accepted deal is a business process).
//! - Revise opens revision n+1 in DRAFT ([`QuoteCommand::opens_revision`]); the revision
//!   number is the aggregate's data, not part of the status.
//! - The approval policy is the approval service's (ADR 0035): submit stops at SUBMITTED, and
//!   the approval service's events move the quote on. An approved or rejected outcome is taken
//!   from SUBMITTED as well as from APPROVAL_PENDING, so the outcome counts even when CPQ never
//!   saw the request PENDING (a request decided at once).

use std::fmt;

use domain_kernel::{Lifecycle, TransitionError};

/// Where a quote stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuoteStatus {
    /// Items being edited.
    Draft,
    /// Every item validated.
    Configured,
    /// Priced (and re-priceable while not submitted).
    Priced,
    /// Submitted; waits for the approval service's outcome.
    Submitted,
    /// Waiting for an approver.
    ApprovalPending,
    /// Approved (by policy or approver); may be accepted.
    Approved,
    /// An approver refused; may be revised.
    Rejected,
    /// The customer accepted; may be converted.
    Accepted,
    /// Validity ended before acceptance.
    Expired,
    /// Abandoned.
    Cancelled,
    /// Turned into an order.
    Converted,
}

/// What can happen to a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuoteCommand {
    /// Mark the items configured (guard: [`super::guards::check_configure`]).
    ConfigureItems,
    /// Replace or change items; configuration and price must be redone.
    EditItems,
    /// Price, or re-price a stale price.
    Price,
    /// Submit for approval (the approval service evaluates its policy).
    Submit,
    /// The approval service opened a PENDING request: an approver must decide.
    ApprovalRequested,
    /// The approval service's policy required no approval (request NOT_REQUIRED).
    ApprovalNotRequired,
    /// The approval service approved the request.
    Approve,
    /// The approval service rejected the request.
    Reject,
    /// Open the next revision in DRAFT (any open approval is superseded).
    Revise,
    /// The customer accepts (guard: [`super::guards::check_accept`]).
    Accept,
    /// Create the order.
    ConvertToOrder,
    /// Validity ended (guard: [`super::guards::check_expire`]).
    Expire,
    /// Abandon the quote.
    Cancel,
}

impl QuoteStatus {
    /// Every status, for matrices and property tests.
    pub const ALL: [Self; 11] = [
        Self::Draft,
        Self::Configured,
        Self::Priced,
        Self::Submitted,
        Self::ApprovalPending,
        Self::Approved,
        Self::Rejected,
        Self::Accepted,
        Self::Expired,
        Self::Cancelled,
        Self::Converted,
    ];

    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Configured => "CONFIGURED",
            Self::Priced => "PRICED",
            Self::Submitted => "SUBMITTED",
            Self::ApprovalPending => "APPROVAL_PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Accepted => "ACCEPTED",
            Self::Expired => "EXPIRED",
            Self::Cancelled => "CANCELLED",
            Self::Converted => "CONVERTED",
        }
    }

    /// Reads the wire and storage name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether no command changes this state any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Converted | Self::Expired | Self::Cancelled)
    }

    /// Whether items may be replaced in place (after SUBMITTED only a revision changes them).
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::Configured | Self::Priced)
    }

    /// Whether passing `valid_until` expires the quote in this state.
    pub fn is_expirable(self) -> bool {
        !self.is_terminal() && self != Self::Accepted
    }
}

impl QuoteCommand {
    /// Every command, for matrices and property tests.
    pub const ALL: [Self; 13] = [
        Self::ConfigureItems,
        Self::EditItems,
        Self::Price,
        Self::Submit,
        Self::ApprovalRequested,
        Self::ApprovalNotRequired,
        Self::Approve,
        Self::Reject,
        Self::Revise,
        Self::Accept,
        Self::ConvertToOrder,
        Self::Expire,
        Self::Cancel,
    ];

    /// Name used in history rows and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigureItems => "CONFIGURE_ITEMS",
            Self::EditItems => "EDIT_ITEMS",
            Self::Price => "PRICE",
            Self::Submit => "SUBMIT",
            Self::ApprovalRequested => "APPROVAL_REQUESTED",
            Self::ApprovalNotRequired => "APPROVAL_NOT_REQUIRED",
            Self::Approve => "APPROVE",
            Self::Reject => "REJECT",
            Self::Revise => "REVISE",
            Self::Accept => "ACCEPT",
            Self::ConvertToOrder => "CONVERT_TO_ORDER",
            Self::Expire => "EXPIRE",
            Self::Cancel => "CANCEL",
        }
    }

    /// Reads the name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// Whether a successful transition by this command starts revision n+1 (the aggregate
    /// increments its revision and supersedes any open approval).
    pub fn opens_revision(self) -> bool {
        self == Self::Revise
    }
}

impl fmt::Display for QuoteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for QuoteCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The quote lifecycle: (from, command, to). Anything absent is illegal.
pub const QUOTE_TRANSITIONS: &[(QuoteStatus, QuoteCommand, QuoteStatus)] = {
    use QuoteCommand as C;
    use QuoteStatus as S;
    &[
        (S::Draft, C::ConfigureItems, S::Configured),
        (S::Draft, C::EditItems, S::Draft),
        (S::Configured, C::EditItems, S::Draft),
        (S::Priced, C::EditItems, S::Draft),
        (S::Configured, C::Price, S::Priced),
        (S::Priced, C::Price, S::Priced),
        (S::Priced, C::Submit, S::Submitted),
        (S::Submitted, C::ApprovalRequested, S::ApprovalPending),
        (S::Submitted, C::ApprovalNotRequired, S::Approved),
        (S::Submitted, C::Approve, S::Approved),
        (S::Submitted, C::Reject, S::Rejected),
        (S::ApprovalPending, C::Approve, S::Approved),
        (S::ApprovalPending, C::Reject, S::Rejected),
        (S::Submitted, C::Revise, S::Draft),
        (S::ApprovalPending, C::Revise, S::Draft),
        (S::Approved, C::Revise, S::Draft),
        (S::Rejected, C::Revise, S::Draft),
        (S::Approved, C::Accept, S::Accepted),
        (S::Accepted, C::ConvertToOrder, S::Converted),
        (S::Draft, C::Expire, S::Expired),
        (S::Configured, C::Expire, S::Expired),
        (S::Priced, C::Expire, S::Expired),
        (S::Submitted, C::Expire, S::Expired),
        (S::ApprovalPending, C::Expire, S::Expired),
        (S::Approved, C::Expire, S::Expired),
        (S::Rejected, C::Expire, S::Expired),
        (S::Draft, C::Cancel, S::Cancelled),
        (S::Configured, C::Cancel, S::Cancelled),
        (S::Priced, C::Cancel, S::Cancelled),
        (S::Submitted, C::Cancel, S::Cancelled),
        (S::ApprovalPending, C::Cancel, S::Cancelled),
        (S::Approved, C::Cancel, S::Cancelled),
    ]
};

impl Lifecycle for QuoteStatus {
    type Command = QuoteCommand;
    const SUBJECT: &'static str = "quote";
    const TRANSITIONS: &'static [(Self, QuoteCommand, Self)] = QUOTE_TRANSITIONS;
}

/// Refused quote command.
pub type QuoteTransitionError = TransitionError<QuoteStatus>;

/// Where `command` takes a quote in state `from` (guards are checked separately, before).
pub fn transition(
    from: QuoteStatus,
    command: QuoteCommand,
) -> Result<QuoteStatus, QuoteTransitionError> {
    from.apply(command)
}

/// Random walks over the table, shared by the property tests of the lifecycle and the guards.
#[cfg(test)]
pub(crate) mod walks {
    use super::{QuoteCommand as C, QuoteStatus as S, transition};

    /// Turns a random byte into a command: a quarter of the time any command (mostly illegal
    /// ones, to exercise refusals), otherwise one the state allows, preferring forward moves
    /// so walks regularly get as far as ACCEPTED and CONVERTED.
    pub(crate) fn steer(state: S, choice: u8) -> C {
        let backward = |c: &C| matches!(c, C::EditItems | C::Revise | C::Expire | C::Cancel);
        let pick = |options: Vec<C>| -> Option<C> {
            (!options.is_empty()).then(|| options[usize::from(choice / 8) % options.len()])
        };
        if choice.is_multiple_of(4) {
            return C::ALL[usize::from(choice / 4) % C::ALL.len()];
        }
        let allowed: Vec<C> = C::ALL
            .into_iter()
            .filter(|c| transition(state, *c).is_ok())
            .collect();
        let forward: Vec<C> = allowed
            .iter()
            .copied()
            .filter(|c| choice % 8 == 1 || !backward(c))
            .collect();
        pick(forward).or_else(|| pick(allowed)).unwrap_or(C::Accept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use QuoteCommand as C;
    use QuoteStatus as S;
    use proptest::prelude::*;
    use walks::steer;

    /// The spec's table, written out independently of `QUOTE_TRANSITIONS`.
    const EXPECTED: [(S, C, S); 32] = [
        (S::Draft, C::ConfigureItems, S::Configured),
        (S::Draft, C::EditItems, S::Draft),
        (S::Configured, C::EditItems, S::Draft),
        (S::Priced, C::EditItems, S::Draft),
        (S::Configured, C::Price, S::Priced),
        (S::Priced, C::Price, S::Priced),
        (S::Priced, C::Submit, S::Submitted),
        (S::Submitted, C::ApprovalRequested, S::ApprovalPending),
        (S::Submitted, C::ApprovalNotRequired, S::Approved),
        (S::Submitted, C::Approve, S::Approved),
        (S::Submitted, C::Reject, S::Rejected),
        (S::ApprovalPending, C::Approve, S::Approved),
        (S::ApprovalPending, C::Reject, S::Rejected),
        (S::Submitted, C::Revise, S::Draft),
        (S::ApprovalPending, C::Revise, S::Draft),
        (S::Approved, C::Revise, S::Draft),
        (S::Rejected, C::Revise, S::Draft),
        (S::Approved, C::Accept, S::Accepted),
        (S::Accepted, C::ConvertToOrder, S::Converted),
        (S::Draft, C::Expire, S::Expired),
        (S::Configured, C::Expire, S::Expired),
        (S::Priced, C::Expire, S::Expired),
        (S::Submitted, C::Expire, S::Expired),
        (S::ApprovalPending, C::Expire, S::Expired),
        (S::Approved, C::Expire, S::Expired),
        (S::Rejected, C::Expire, S::Expired),
        (S::Draft, C::Cancel, S::Cancelled),
        (S::Configured, C::Cancel, S::Cancelled),
        (S::Priced, C::Cancel, S::Cancelled),
        (S::Submitted, C::Cancel, S::Cancelled),
        (S::ApprovalPending, C::Cancel, S::Cancelled),
        (S::Approved, C::Cancel, S::Cancelled),
    ];

    #[test]
    fn transition_matrix() {
        let count = domain_kernel::check_transition_matrix(&S::ALL, &C::ALL, &EXPECTED);
        assert_eq!(
            count,
            Ok(domain_kernel::MatrixCount {
                pairs: 143,
                allowed: EXPECTED.len()
            })
        );
    }

    #[test]
    fn helpers_agree_with_the_table() {
        for from in S::ALL {
            let outgoing = C::ALL
                .into_iter()
                .filter(|c| transition(from, *c).is_ok())
                .count();
            assert_eq!(from.is_terminal(), outgoing == 0, "{from}");
            assert_eq!(
                from.is_editable(),
                transition(from, C::EditItems).is_ok(),
                "{from}"
            );
            assert_eq!(
                from.is_expirable(),
                transition(from, C::Expire).is_ok(),
                "{from}"
            );
        }
        assert!(!S::Accepted.is_terminal() && !S::Accepted.is_expirable());
        assert!(!S::Rejected.is_terminal() && S::Rejected.is_expirable());
    }

    #[test]
    fn names_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        for c in C::ALL {
            assert_eq!(C::parse(c.as_str()), Some(c));
        }
        assert_eq!(S::parse("Draft"), None);
        assert_eq!(S::ApprovalPending.as_str(), "APPROVAL_PENDING");
        assert_eq!(C::ApprovalNotRequired.as_str(), "APPROVAL_NOT_REQUIRED");
        assert!(C::Revise.opens_revision());
        assert_eq!(C::ALL.iter().filter(|c| c.opens_revision()).count(), 1);
    }

    #[test]
    fn the_happy_paths_reach_conversion() {
        let run = |commands: &[C]| {
            commands
                .iter()
                .try_fold(S::Draft, |state, command| transition(state, *command))
        };
        use C::*;
        let direct = [
            ConfigureItems,
            Price,
            Submit,
            ApprovalNotRequired,
            Accept,
            ConvertToOrder,
        ];
        assert_eq!(run(&direct), Ok(S::Converted));
        let reviewed = [
            ConfigureItems,
            Price,
            Price,
            Submit,
            ApprovalRequested,
            Reject,
            Revise,
            EditItems,
            ConfigureItems,
            Price,
            Submit,
            Reject,
            Revise,
            EditItems,
            ConfigureItems,
            Price,
            Submit,
            ApprovalRequested,
            Approve,
            Accept,
        ];
        assert_eq!(run(&reviewed), Ok(S::Accepted));
    }

    proptest! {
        /// Random command sequences from DRAFT: terminal states never change, an approval
        /// outcome is only taken by a quote submitted in this revision and waiting for it,
        /// ACCEPTED is only entered from APPROVED (reached since the latest DRAFT), and once
        /// submitted the only way back to editing is a revision.
        #[test]
        fn lifecycle_invariants(choices in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut state = S::Draft;
            let mut approved_in_revision = false;
            let mut submitted_in_revision = false;
            for choice in choices {
                let command = steer(state, choice);
                let before = state;
                let Ok(next) = transition(state, command) else {
                    continue;
                };
                prop_assert!(!before.is_terminal(), "{before} accepted {command}");
                if command == C::EditItems {
                    prop_assert!(before.is_editable(), "edited in {before}");
                    prop_assert!(!submitted_in_revision, "edited after submission without a revision");
                }
                if next == S::Draft && before != S::Draft {
                    prop_assert!(
                        command == C::Revise || !submitted_in_revision,
                        "{before} returned to DRAFT by {command}"
                    );
                }
                if matches!(next, S::ApprovalPending | S::Approved | S::Rejected) && before != next {
                    prop_assert!(
                        matches!(before, S::Submitted | S::ApprovalPending),
                        "{before} took an approval outcome ({command})"
                    );
                    prop_assert!(submitted_in_revision, "an approval outcome without a submit");
                }
                if next == S::Accepted {
                    prop_assert_eq!(before, S::Approved);
                    prop_assert!(approved_in_revision);
                }
                if next == S::Converted {
                    prop_assert_eq!(before, S::Accepted);
                }
                if command.opens_revision() || next == S::Draft {
                    approved_in_revision = false;
                    submitted_in_revision = false;
                }
                approved_in_revision |= next == S::Approved;
                submitted_in_revision |= next == S::Submitted;
                state = next;
            }
        }
    }
}
