//! Why a quote command was refused. One enum for the aggregate; the application wraps it and
//! the HTTP edge maps it once.

use cpq_configuration::ItemId;
use cpq_pricing::{PriceLadderRejection, PricingErrors};

use super::guards::GuardRefused;
use super::lifecycle::{QuoteStatus, QuoteTransitionError};
use super::price::PricingRefusal;
use crate::domain::input::InputViolation;
use crate::domain::policy_input::PolicyInputError;

/// A refused quote command; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum QuoteError {
    /// The input broke one or more rules.
    #[error("invalid input")]
    Invalid(Vec<InputViolation>),
    /// The client's `If-Match` names an older aggregate version.
    #[error("expected version {expected}, current is {current}")]
    VersionMismatch {
        /// What the client sent.
        expected: i64,
        /// What is stored.
        current: i64,
    },
    /// The quote lifecycle does not allow the command.
    #[error(transparent)]
    Transition(#[from] QuoteTransitionError),
    /// A guard of the command does not hold (expired, price not frozen, hash mismatch…).
    #[error(transparent)]
    Guard(#[from] GuardRefused),
    /// The pricing state machine does not allow the change.
    #[error(transparent)]
    PricingTransition(#[from] cpq_pricing::TransitionError),
    /// The command needs a priced quote.
    #[error("the quote is {status}; price it first")]
    NotPriced {
        /// Current status.
        status: QuoteStatus,
    },
    /// No such item in the current revision.
    #[error("item {0} not found in the current revision")]
    ItemNotFound(ItemId),
    /// The price book's volume tiers punish buying more.
    #[error(transparent)]
    PriceLadder(#[from] PriceLadderRejection),
    /// The pricing engine refused the request.
    #[error(transparent)]
    Pricing(#[from] PricingErrors),
    /// The quote's own data contradicts itself (a bug, never user input).
    #[error("the quote is inconsistent: {0}")]
    Inconsistent(String),
    /// The approval policy's input overflowed (an absurd quote).
    #[error(transparent)]
    PolicyInput(#[from] PolicyInputError),
}

impl From<PricingRefusal> for QuoteError {
    fn from(refusal: PricingRefusal) -> Self {
        match refusal {
            PricingRefusal::Ladder(rejection) => Self::PriceLadder(rejection),
            PricingRefusal::Engine(errors) => Self::Pricing(errors),
            PricingRefusal::Unrecordable(error) => Self::Inconsistent(error.to_string()),
        }
    }
}
