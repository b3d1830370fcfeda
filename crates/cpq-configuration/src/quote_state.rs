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
