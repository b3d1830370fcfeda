//! Deterministic CPQ pricing engine: pure domain code (no I/O) that turns a price-book version
//! and a pricing request into a priced quote with a price hash and a full price trace.
//!
//! Entry points: [`price`] (with a [`PreparedPriceBook`], validated and indexed once per book
//! version) or [`price_quote`]; then [`PricedQuote::trace`] / [`PricedQuote::trace_hash`].
//!
//! # Order of computation (per line, per charge)
//!
//! 1. **List price** — flat unit price × quantity, or volume tiers (`tier.RANGE`: every unit at
//!    the tier the total quantity falls in; `tier.SLAB`: each unit at its own tier).
//! 2. **Term discount** — the term-policy row with the highest threshold the line's term
//!    reaches, on recurring charges only (a commitment discount rewards the recurring
//!    commitment; one-time fees do not depend on the term).
//! 3. **Line discounts**, in request order; then **quote discounts**, in request order.
//!    Discounts compound (each applies to what the previous left). A quote amount is split
//!    over the charges in scope pro rata, in whole minor units.
//! 4. **Round** once, to the currency's minor units, half-up ([`ROUNDING_MODE`]).
//! 5. **Override** — a manual override replaces the rounded amount (and must name the amount it
//!    replaces, so it cannot silently apply to a price that has since changed).
//!
//! Totals are sums of the rounded (or overridden) charge amounts per charge kind (one-time, and
//! per recurring period) and are never rounded again.
//!
//! # Determinism
//!
//! Lines are priced in line-id order, so neither the result, the trace nor the hash depends on
//! the order lines arrive in. Input decimals are brought to a canonical scale first (prices and
//! amounts to the currency's minor units, percentages normalised), so `10.0` and `10.00` trace
//! identically, and every recorded amount is written in one canonical form per value. There are
//! no hash maps in any output and no floating point anywhere. The price hash encoding is
//! specified in [`hash`]; the trace hash is over the trace's compact JSON ([`trace`]).
//!
//! The trace is a projection of the per-charge records (list computation, discounts, rounding,
//! override), built on demand, so it can never disagree with them and pricing does not pay for
//! it when nobody reads it.
//!
//! # Also here
//!
//! [`check_price_ladder`] refuses price books whose tiers punish volume; [`state`] holds the
//! pricing state machine.

mod amount;
mod book;
mod discounts;
mod engine;
pub mod error;
pub mod hash;
pub mod ladder;
pub mod model;
mod priced;
pub mod state;
pub mod tiers;
pub mod trace;

use domain_kernel::money::RoundingMode;

pub use book::PreparedPriceBook;
pub use engine::{price, price_quote};
pub use error::{DiscountProblem, OverrideProblem, PriceBookProblem, PricingError, PricingErrors};
pub use hash::price_hash;
pub use ladder::{LadderFinding, LadderReason, PriceLadderRejection, check_price_ladder};
pub use model::{
    Charge, ChargeKind, Discount, DiscountValue, LineInput, ManualOverride, Period, PriceBook,
    Pricing, PricingRequest, TermDiscountRule, Tier, TierMode,
};
pub use priced::{
    AppliedDiscount, OverrideRecord, PricedCharge, PricedLine, PricedQuote, QuoteTotals,
    RecurringTotal,
};
pub use state::{PricingCommand, PricingState, TransitionError, transition};
pub use tiers::{ListComputation, TierBand};
pub use trace::{PriceTrace, StepDetail, StepRule, TraceStep};

/// The one rounding rule of the engine: half-up (commercial rounding, 0.5 away from zero), the
/// convention invoices and quotes use, and translation-invariant for non-negative amounts, which
/// the quote-amount split relies on to make a quote total fall by exactly the amount granted.
pub const ROUNDING_MODE: RoundingMode = RoundingMode::HalfUp;
