//! The quote lifecycle (state-machines.md, "Quote") as one transition table, plus the guards
//! whose facts live outside the status (validity of items, time, price state), kept as
//! separate functions so the table stays a plain lookup and each guard is testable alone.
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

use std::fmt;
use std::time::SystemTime;

use crate::engine::ValidationReport;
use crate::transition::TransitionError;

/// Where a quote stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuoteStatus {
    /// Items being edited.
    Draft,
    /// Every item validated.
    Configured,
    /// Priced (and re-priceable while not submitted).
    Priced,
    /// Sent for the approval policy's decision.
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
    /// Mark the items configured (guard: [`check_configure`]).
    ConfigureItems,
    /// Replace or change items; configuration and price must be redone.
    EditItems,
    /// Price, or re-price a stale price.
    Price,
    /// Submit for the approval policy.
    Submit,
    /// The policy says an approver must decide.
    PolicyRequiresApproval,
    /// The policy says no approval is needed.
    PolicyNoApprovalNeeded,
    /// The approver approves.
    Approve,
    /// The approver rejects.
    Reject,
    /// Open the next revision in DRAFT (any open approval is superseded).
    Revise,
    /// The customer accepts (guard: [`check_accept`]).
    Accept,
    /// Create the order.
    ConvertToOrder,
    /// Validity ended (guard: [`check_expire`]).
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
        Self::PolicyRequiresApproval,
        Self::PolicyNoApprovalNeeded,
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
            Self::PolicyRequiresApproval => "POLICY_REQUIRES_APPROVAL",
            Self::PolicyNoApprovalNeeded => "POLICY_NO_APPROVAL_NEEDED",
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
        (S::Submitted, C::PolicyRequiresApproval, S::ApprovalPending),
        (S::Submitted, C::PolicyNoApprovalNeeded, S::Approved),
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

/// Refused quote command.
pub type QuoteTransitionError = TransitionError<QuoteStatus, QuoteCommand>;

/// Where `command` takes a quote in state `from` (guards are checked separately, before).
pub fn transition(
    from: QuoteStatus,
    command: QuoteCommand,
) -> Result<QuoteStatus, QuoteTransitionError> {
    QUOTE_TRANSITIONS
        .iter()
        .find(|(f, c, _)| *f == from && *c == command)
        .map(|(_, _, to)| *to)
        .ok_or(TransitionError { from, command })
}

/// A guard condition that does not hold; each has a stable code for problem responses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// ConfigureItems with invalid items or quote-level violations.
    #[error("{invalid_items} item(s) and {quote_violations} quote-level rule(s) are not valid")]
    ConfigurationInvalid {
        /// Items with violations.
        invalid_items: usize,
        /// Quote-level violations (e.g. no items).
        quote_violations: usize,
    },
    /// Accept at or after `valid_until`.
    #[error("the quote was valid until {valid_until:?}")]
    QuoteExpired {
        /// When acceptance was attempted.
        now: SystemTime,
        /// End of validity (exclusive).
        valid_until: SystemTime,
    },
    /// Accept without a FROZEN price snapshot.
    #[error("the price is not frozen")]
    PriceNotFrozen,
    /// Accept with a price other than the one approved.
    #[error("the price hash {current} differs from the approved hash {approved}")]
    PriceHashMismatch {
        /// Hash recorded at approval.
        approved: String,
        /// Hash of the price being accepted.
        current: String,
    },
    /// Expire before `valid_until`.
    #[error("the quote is valid until {valid_until:?}")]
    QuoteNotExpired {
        /// When expiry was attempted.
        now: SystemTime,
        /// End of validity.
        valid_until: SystemTime,
    },
}

impl GuardError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ConfigurationInvalid { .. } => "CONFIGURATION_INVALID",
            Self::QuoteExpired { .. } => "QUOTE_EXPIRED",
            Self::PriceNotFrozen => "PRICE_NOT_FROZEN",
            Self::PriceHashMismatch { .. } => "PRICE_HASH_MISMATCH",
            Self::QuoteNotExpired { .. } => "QUOTE_NOT_EXPIRED",
        }
    }
}

/// Every guard condition that failed for one command (never empty), so a client learns all
/// reasons at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("guard refused: {}", .reasons.iter().map(GuardError::code).collect::<Vec<_>>().join(", "))]
pub struct GuardRefused {
    /// The failed conditions, in a fixed order.
    pub reasons: Vec<GuardError>,
}

impl GuardRefused {
    /// Code of the first reason, for responses that carry a single code.
    pub fn code(&self) -> &'static str {
        self.reasons
            .first()
            .map_or("GUARD_REFUSED", GuardError::code)
    }

    fn check(reasons: Vec<GuardError>) -> Result<(), Self> {
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(Self { reasons })
        }
    }
}

/// The facts acceptance depends on, gathered by the caller from the quote, its price snapshot
/// and its approval evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptanceFacts<'a> {
    /// Time of the acceptance.
    pub now: SystemTime,
    /// End of the quote's validity (exclusive).
    pub valid_until: SystemTime,
    /// Whether the price snapshot is FROZEN.
    pub price_frozen: bool,
    /// Price hash recorded when the quote was approved.
    pub approved_price_hash: &'a str,
    /// Price hash of the snapshot being accepted.
    pub current_price_hash: &'a str,
}

/// Guard of [`QuoteCommand::ConfigureItems`]: every item VALID and no quote-level violation.
pub fn check_configure(report: &ValidationReport) -> Result<(), GuardRefused> {
    let invalid_items = report
        .items
        .iter()
        .filter(|i| i.status() == crate::engine::ItemStatus::Invalid)
        .count();
    let quote_violations = report.quote_violations.len();
    GuardRefused::check(if invalid_items + quote_violations > 0 {
        vec![GuardError::ConfigurationInvalid {
            invalid_items,
            quote_violations,
        }]
    } else {
        Vec::new()
    })
}

/// Guard of [`QuoteCommand::Accept`]: still valid (`now < valid_until`), price FROZEN, and the
/// accepted price hash equal, byte for byte, to the approved one — approving one number and
/// ordering another is what this prevents.
pub fn check_accept(facts: &AcceptanceFacts<'_>) -> Result<(), GuardRefused> {
    let mut reasons = Vec::new();
    if facts.now >= facts.valid_until {
        reasons.push(GuardError::QuoteExpired {
            now: facts.now,
            valid_until: facts.valid_until,
        });
    }
    if !facts.price_frozen {
        reasons.push(GuardError::PriceNotFrozen);
    }
    if facts.approved_price_hash != facts.current_price_hash {
        reasons.push(GuardError::PriceHashMismatch {
            approved: facts.approved_price_hash.to_owned(),
            current: facts.current_price_hash.to_owned(),
        });
    }
    GuardRefused::check(reasons)
}

/// Guard of [`QuoteCommand::Expire`]: only once `valid_until` has passed (`now >=
/// valid_until`, the exact complement of acceptance's time condition).
pub fn check_expire(now: SystemTime, valid_until: SystemTime) -> Result<(), GuardRefused> {
    GuardRefused::check(if now < valid_until {
        vec![GuardError::QuoteNotExpired { now, valid_until }]
    } else {
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use QuoteCommand as C;
    use QuoteStatus as S;
    use proptest::prelude::*;

    /// The spec's table, written out independently of `QUOTE_TRANSITIONS`.
    const EXPECTED: [(S, C, S); 30] = [
        (S::Draft, C::ConfigureItems, S::Configured),
        (S::Draft, C::EditItems, S::Draft),
        (S::Configured, C::EditItems, S::Draft),
        (S::Priced, C::EditItems, S::Draft),
        (S::Configured, C::Price, S::Priced),
        (S::Priced, C::Price, S::Priced),
        (S::Priced, C::Submit, S::Submitted),
        (S::Submitted, C::PolicyRequiresApproval, S::ApprovalPending),
        (S::Submitted, C::PolicyNoApprovalNeeded, S::Approved),
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

    fn expected(from: S, command: C) -> Option<S> {
        EXPECTED
            .iter()
            .find(|(f, c, _)| *f == from && *c == command)
            .map(|(_, _, to)| *to)
    }

    #[test]
    fn transition_matrix() {
        let mut pairs = 0;
        let mut allowed = 0;
        for from in S::ALL {
            for command in C::ALL {
                pairs += 1;
                match (transition(from, command), expected(from, command)) {
                    (Ok(to), Some(want)) => {
                        assert_eq!(to, want, "{from} x {command}");
                        allowed += 1;
                    }
                    (Err(error), None) => {
                        assert_eq!(error, TransitionError { from, command });
                        assert_eq!(error.code(), "ILLEGAL_TRANSITION");
                        assert_eq!(
                            error.to_string(),
                            format!("{command} is not allowed in state {from}")
                        );
                    }
                    (got, want) => panic!("{from} x {command}: got {got:?}, expected {want:?}"),
                }
            }
        }
        assert_eq!(pairs, 143);
        assert_eq!(allowed, EXPECTED.len());
        assert_eq!(QUOTE_TRANSITIONS.len(), EXPECTED.len(), "no duplicate rows");
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
        assert_eq!(
            C::PolicyNoApprovalNeeded.as_str(),
            "POLICY_NO_APPROVAL_NEEDED"
        );
        assert!(C::Revise.opens_revision());
        assert_eq!(C::ALL.iter().filter(|c| c.opens_revision()).count(), 1);
    }

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn facts<'a>(
        now: u64,
        frozen: bool,
        approved: &'a str,
        current: &'a str,
    ) -> AcceptanceFacts<'a> {
        AcceptanceFacts {
            now: at(now),
            valid_until: at(100),
            price_frozen: frozen,
            approved_price_hash: approved,
            current_price_hash: current,
        }
    }

    #[test]
    fn acceptance_needs_time_frozen_price_and_the_approved_hash() {
        assert_eq!(check_accept(&facts(99, true, "aa", "aa")), Ok(()));

        let codes = |f: AcceptanceFacts<'_>| -> Vec<&'static str> {
            check_accept(&f)
                .err()
                .map(|e| e.reasons.iter().map(GuardError::code).collect())
                .unwrap_or_default()
        };
        assert_eq!(
            codes(facts(100, true, "aa", "aa")),
            ["QUOTE_EXPIRED"],
            "valid_until is exclusive"
        );
        assert_eq!(codes(facts(1, false, "aa", "aa")), ["PRICE_NOT_FROZEN"]);
        assert_eq!(
            codes(facts(1, true, "aa", "AA")),
            ["PRICE_HASH_MISMATCH"],
            "compared byte for byte"
        );
        assert_eq!(
            codes(facts(500, false, "aa", "bb")),
            ["QUOTE_EXPIRED", "PRICE_NOT_FROZEN", "PRICE_HASH_MISMATCH"],
            "every failed condition is reported"
        );
        let refused = check_accept(&facts(500, false, "aa", "bb")).unwrap_err();
        assert_eq!(refused.code(), "QUOTE_EXPIRED");
        assert_eq!(
            refused.to_string(),
            "guard refused: QUOTE_EXPIRED, PRICE_NOT_FROZEN, PRICE_HASH_MISMATCH"
        );
    }

    #[test]
    fn expiry_is_the_complement_of_acceptance_time() {
        for now in [0, 99, 100, 101] {
            let expirable = check_expire(at(now), at(100)).is_ok();
            let acceptable = check_accept(&facts(now, true, "x", "x")).is_ok();
            assert_ne!(expirable, acceptable, "now = {now}");
        }
        assert_eq!(
            check_expire(at(5), at(100)).unwrap_err().code(),
            "QUOTE_NOT_EXPIRED"
        );
    }

    #[test]
    fn configure_needs_a_fully_valid_report() {
        let empty = ValidationReport {
            quote_violations: Vec::new(),
            items: Vec::new(),
        };
        assert_eq!(check_configure(&empty), Ok(()));
        let no_items = ValidationReport {
            quote_violations: vec![crate::violation::Violation {
                item_id: None,
                code: crate::violation::ViolationCode::NoItems,
                path: "/items".into(),
                message: String::new(),
                details: serde_json::Value::Null,
            }],
            items: Vec::new(),
        };
        let refused = check_configure(&no_items).unwrap_err();
        assert_eq!(refused.code(), "CONFIGURATION_INVALID");
        assert_eq!(
            refused.reasons,
            [GuardError::ConfigurationInvalid {
                invalid_items: 0,
                quote_violations: 1
            }]
        );
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
            PolicyNoApprovalNeeded,
            Accept,
            ConvertToOrder,
        ];
        assert_eq!(run(&direct), Ok(S::Converted));
        let reviewed = [
            ConfigureItems,
            Price,
            Price,
            Submit,
            PolicyRequiresApproval,
            Reject,
            Revise,
            EditItems,
            ConfigureItems,
            Price,
            Submit,
            PolicyRequiresApproval,
            Approve,
            Accept,
        ];
        assert_eq!(run(&reviewed), Ok(S::Accepted));
    }

    /// Turns a random byte into a command: a quarter of the time any command (mostly illegal
    /// ones, to exercise refusals), otherwise one the state allows, preferring forward moves
    /// so walks regularly get as far as ACCEPTED and CONVERTED.
    fn steer(state: S, choice: u8) -> C {
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

    proptest! {
        /// Random command sequences from DRAFT: terminal states never change, ACCEPTED is only
        /// entered from APPROVED (reached since the latest DRAFT), and once submitted the only
        /// way back to editing is a revision.
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

        /// A service that consults the guard before Accept never holds an ACCEPTED quote whose
        /// price is not frozen, expired, or different from the approved one.
        #[test]
        fn accepted_quotes_hold_the_approved_frozen_price(
            steps in proptest::collection::vec(
                (any::<u8>(), any::<bool>(), any::<bool>(), any::<bool>()),
                0..80,
            )
        ) {
            let mut state = S::Draft;
            for (choice, in_time, frozen, same_hash) in steps {
                let command = steer(state, choice);
                let f = facts(if in_time { 50 } else { 150 }, frozen, "approved", if same_hash { "approved" } else { "other" });
                if command == C::Accept && check_accept(&f).is_err() {
                    continue;
                }
                if let Ok(next) = transition(state, command) {
                    if next == S::Accepted {
                        prop_assert!(in_time && frozen && same_hash);
                    }
                    state = next;
                }
            }
        }
    }
}
