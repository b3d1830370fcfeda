//! What the policy is told about a submitted quote. The approval service builds a
//! [`PolicyInput`] from the `cpq.quote.submitted.v1` event (the priced quote and who submitted
//! it); amounts and percentages are `Decimal` (serialised as strings), never floats.

use domain_kernel::ActorType;
use domain_kernel::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One quote line as the policy sees it: the line's discount, its overrides and how far its
/// cheapest charge sits below list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineInput {
    /// The quote item, for the caller's evidence (the table sees aggregates only).
    pub line_id: String,
    /// The discount the seller asked for on this line, percent.
    pub discount_percent: Decimal,
    /// How many of the line's charges carry a manual price override.
    pub override_count: u32,
    /// What those overrides took off the computed nets (original − new, summed; negative when
    /// an override raised the price), quote currency.
    pub override_amount: Decimal,
    /// The lowest `net × 100 / list` over the line's charges with a positive list amount; `None`
    /// when the line has no such charge.
    pub min_net_percent_of_list: Option<Decimal>,
}

/// Everything one policy evaluation reads: the quote's lines and totals and the submitter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInput {
    /// The quote's lines.
    pub lines: Vec<LineInput>,
    /// The quote-level discount, percent (0 when none).
    pub quote_discount_percent: Decimal,
    /// Currency of every amount (the contract-value threshold is in this currency).
    pub currency: Currency,
    /// One-time total of the quote.
    pub one_time_total: Decimal,
    /// Recurring total per month of the quote.
    pub recurring_monthly_total: Decimal,
    /// Committed term in months; the recurring total counts this many times in the contract
    /// value (0: no commitment, only the one-time total counts).
    pub term_months: u32,
    /// The largest discount, percent, the submitter may grant alone (from its verified token).
    pub discount_authority_percent: Decimal,
    /// Kind of principal that submitted (recorded as evidence).
    pub actor_type: ActorType,
}
