//! The result of a pricing run: per line and per charge the list price, tier computation,
//! discounts, rounding and override, the quote totals and the price hash — what the CPQ service
//! stores as the price snapshot — and the trace derived from them.

use std::sync::Arc;

use domain_kernel::money::{Currency, Money, RoundingMode, RoundingStep};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{ChargeKind, DiscountValue, Period};
use crate::state::PricingCommand;
use crate::tiers::ListComputation;
use crate::trace::{self, PriceTrace, StepRule, shared_str};

/// One discount as it applied to one charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedDiscount {
    /// Term, line or quote discount (the trace's rule id).
    pub rule: StepRule,
    /// The granting rule.
    #[serde(with = "shared_str")]
    pub rule_id: Arc<str>,
    /// Why.
    #[serde(with = "shared_str")]
    pub reason: Arc<str>,
    /// The discount as granted (for a quote amount, the whole quote-level amount).
    pub value: DiscountValue,
    /// This charge's share of a quote-level amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated: Option<Decimal>,
    /// Running amount before (unrounded, canonical form).
    pub before: Decimal,
    /// Running amount after (unrounded, canonical form).
    pub after: Decimal,
}

/// A manual override as applied: the spec requires original, new, actor and reason to survive
/// into the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverrideRecord {
    /// The computed net the override replaced.
    pub original_price: Money,
    /// The overriding net.
    pub new_price: Money,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// One charge of one line, priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedCharge {
    /// Which charge.
    pub kind: ChargeKind,
    /// Extended list amount before discounts (per period for recurring charges).
    pub list_price: Money,
    /// How the list amount was computed (unit price, or the tier bands).
    pub list: ListComputation,
    /// Discounts in the order they applied.
    pub discounts: Vec<AppliedDiscount>,
    /// The one rounding of this charge (after the last discount).
    pub rounding: RoundingStep,
    /// Rounded net the engine computed, before any override.
    pub computed: Money,
    /// The manual override, if any (boxed: rare, and large next to the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_override: Option<Box<OverrideRecord>>,
    /// What is charged: the override's price if overridden, else `computed`.
    pub net: Money,
}

/// One quote line, priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedLine {
    /// Quote item id.
    #[serde(with = "shared_str")]
    pub line_id: Arc<str>,
    /// Pinned offering.
    #[serde(with = "shared_str")]
    pub offering_id: Arc<str>,
    /// Pinned offering version.
    pub offering_version: i32,
    /// Units.
    pub quantity: u64,
    /// Term in months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_months: Option<u32>,
    /// Configuration hash the price was computed for.
    pub configuration_hash: String,
    /// The line's charges in [`ChargeKind::ALL`] order.
    pub charges: Vec<PricedCharge>,
}

/// The quote's recurring total for one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurringTotal {
    /// The period.
    pub period: Period,
    /// Sum of the lines' rounded nets for that period.
    pub amount: Money,
}

/// Quote totals: sums of rounded line nets, never rounded again, so they always equal what the
/// lines show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteTotals {
    /// One-time total.
    pub one_time: Money,
    /// Recurring totals, one per period that occurs, in [`Period::ALL`] order.
    pub recurring: Vec<RecurringTotal>,
}

/// A priced quote: the price snapshot. The price trace is not stored beside the charges but
/// derived from them ([`PricedQuote::trace`], [`PricedQuote::trace_hash`]): the per-charge records
/// hold every fact a step shows, so the trace can never disagree with them, and pricing a large
/// quote does not pay for a trace nobody reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedQuote {
    /// Price book used.
    pub price_book_id: String,
    /// Its version.
    pub price_book_version: i32,
    /// Currency of every amount.
    pub currency: Currency,
    /// The midpoint rule every rounding used.
    pub rounding_mode: RoundingMode,
    /// Lines in canonical (line id) order.
    pub lines: Vec<PricedLine>,
    /// Totals.
    pub totals: QuoteTotals,
    /// Hash of the inputs (see [`crate::hash`]).
    pub price_hash: String,
}

impl PricedQuote {
    /// The price trace: every step, in order (lines by id, charges in [`ChargeKind::ALL`] order,
    /// steps as they applied), numbered from 0.
    pub fn trace(&self) -> PriceTrace {
        PriceTrace::of_lines(&self.lines)
    }

    /// The trace hash: SHA-256 of the trace's compact JSON (see [`PriceTrace::hash`]), streamed
    /// from the charges without materialising the trace. Equal to `self.trace().hash()`.
    pub fn trace_hash(&self) -> Result<String, serde_json::Error> {
        trace::hash_json(&trace::StepsView(&self.lines))
    }

    /// Whether any charge is manually overridden (the state machine then needs an approval).
    pub fn has_overrides(&self) -> bool {
        self.lines
            .iter()
            .flat_map(|l| &l.charges)
            .any(|c| c.manual_override.is_some())
    }

    /// The pricing-state command this result stands for: an overridden price waits for
    /// approval, any other price is simply priced.
    pub fn state_command(&self) -> PricingCommand {
        if self.has_overrides() {
            PricingCommand::Override
        } else {
            PricingCommand::Price
        }
    }

    /// The recurring total for a period, if any line recurs with it.
    pub fn recurring_total(&self, period: Period) -> Option<Money> {
        self.totals
            .recurring
            .iter()
            .find(|t| t.period == period)
            .map(|t| t.amount)
    }
}
