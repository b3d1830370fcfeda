//! The price of a quote revision: its pricing state with the snapshot the engine produced
//! (result, trace and both hashes), the manual overrides it honours, and the pricing run that
//! turns items, overrides and a price-book version into a new snapshot.

use chrono::{DateTime, Utc};
use cpq_pricing::{
    ChargeKind, Discount, DiscountValue, LineInput, ManualOverride, PriceBook,
    PriceLadderRejection, PricedQuote, PricingErrors, PricingRequest, PricingState,
};
use domain_kernel::money::Currency;
use domain_kernel::{Actor, ActorId};
use rust_decimal::Decimal;
use serde_json::Value;

use super::items::QuoteItem;
use crate::domain::terms;

/// What the engine produced for one revision, as stored and shown.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceSnapshot {
    /// Hash over the pricing inputs (the number an approval covers).
    pub price_hash: String,
    /// Hash of the trace's compact JSON.
    pub trace_hash: String,
    /// One-time total, for reporting without reading the result.
    pub one_time_total: Decimal,
    /// The engine's result (lines, totals) without the trace.
    pub result: Value,
    /// The trace steps.
    pub trace: Value,
    /// Frozen with an approval: never changes again.
    pub frozen: bool,
    /// When priced.
    pub priced_at: DateTime<Utc>,
    /// Who priced.
    pub priced_by: ActorId,
}

impl PriceSnapshot {
    /// The priced quote the snapshot was made from (the policy reads it at submit).
    pub fn priced_quote(&self) -> Result<PricedQuote, serde_json::Error> {
        let mut document = self.result.clone();
        if let Some(fields) = document.as_object_mut() {
            fields.insert("trace".into(), self.trace.clone());
        }
        serde_json::from_value(document)
    }
}

/// Where a revision's price stands.
#[derive(Debug, Clone, PartialEq)]
pub enum QuotePrice {
    /// Never priced in this revision.
    NotPriced,
    /// Priced at least once; the state says whether the snapshot is current, overridden or
    /// frozen. The state is never NOT_PRICED here.
    Priced {
        /// Pricing state.
        state: PricingState,
        /// The latest snapshot (stale when the state says so).
        snapshot: PriceSnapshot,
    },
}

impl QuotePrice {
    /// The pricing state machine's state.
    pub fn state(&self) -> PricingState {
        match self {
            Self::NotPriced => PricingState::NotPriced,
            Self::Priced { state, .. } => *state,
        }
    }

    /// The snapshot, once priced.
    pub fn snapshot(&self) -> Option<&PriceSnapshot> {
        match self {
            Self::NotPriced => None,
            Self::Priced { snapshot, .. } => Some(snapshot),
        }
    }

    /// The hash of the latest snapshot.
    pub fn hash(&self) -> Option<&str> {
        self.snapshot().map(|s| s.price_hash.as_str())
    }
}

/// A manual override of one charge of one item: original and new price, actor and reason (a
/// money invariant).
#[derive(Debug, Clone, PartialEq)]
pub struct PriceOverride {
    /// Item.
    pub item_id: String,
    /// Charge of the item.
    pub charge: ChargeKind,
    /// The computed price it replaces.
    pub original_price: Decimal,
    /// The price that replaces it.
    pub new_price: Decimal,
    /// Who.
    pub actor: Actor,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Why a pricing run produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum PricingRefusal {
    /// The price book's tiers punish buying more.
    #[error(transparent)]
    Ladder(#[from] PriceLadderRejection),
    /// The engine refused the request.
    #[error(transparent)]
    Engine(#[from] PricingErrors),
    /// The engine's result could not be recorded (a bug).
    #[error("the priced result cannot be recorded: {0}")]
    Unrecordable(#[from] serde_json::Error),
}

/// The inputs of a pricing run besides the items.
#[derive(Debug, Clone, Copy)]
pub struct PricingRun<'a> {
    /// Quote currency.
    pub currency: Currency,
    /// Who prices.
    pub priced_by: &'a ActorId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Prices `items` with their `overrides` against `book` and records the snapshot. A book whose
/// tiers punish volume is refused before pricing: it would produce quotes that are internally
/// consistent and commercially wrong.
pub fn run_pricing(
    book: PriceBook,
    items: &[QuoteItem],
    overrides: &[PriceOverride],
    run: PricingRun<'_>,
) -> Result<(PricedQuote, PriceSnapshot), PricingRefusal> {
    cpq_pricing::check_price_ladder(&book)?;
    let request = PricingRequest {
        price_book_id: book.id.clone(),
        price_book_version: book.version,
        currency: run.currency,
        lines: items.iter().map(|item| line(item, overrides)).collect(),
        term_discounts: terms::term_discounts(),
        quote_discounts: Vec::new(),
    };
    let priced = cpq_pricing::price_quote(book, &request)?;
    let mut result = serde_json::to_value(&priced)?;
    // The trace is stored on its own; the priced result carries it only in some shapes.
    if let Some(fields) = result.as_object_mut() {
        fields.remove("trace");
    }
    let trace = priced.trace();
    let snapshot = PriceSnapshot {
        price_hash: priced.price_hash.clone(),
        trace_hash: trace.hash()?,
        one_time_total: priced.totals.one_time.amount,
        result,
        trace: serde_json::to_value(&trace)?,
        frozen: false,
        priced_at: run.at,
        priced_by: run.priced_by.clone(),
    };
    Ok((priced, snapshot))
}

/// The engine's line for one item: its seller discount and its overrides.
fn line(item: &QuoteItem, overrides: &[PriceOverride]) -> LineInput {
    LineInput {
        line_id: item.id.as_str().to_owned(),
        offering_id: item.offering_id.to_string(),
        offering_version: item.offering_version,
        quantity: u64::try_from(item.quantity).unwrap_or(0),
        term_months: item.term_months.and_then(|t| u32::try_from(t).ok()),
        configuration_hash: item
            .configuration
            .resolved()
            .map(|r| r.hash.clone())
            .unwrap_or_default(),
        discounts: item
            .discount_percent
            .filter(|d| !d.is_zero())
            .map(|d| Discount {
                rule_id: "SELLER-DISCOUNT".to_owned(),
                reason: "line discount requested by the seller".to_owned(),
                value: DiscountValue::Percent(d),
                applies_to: None,
            })
            .into_iter()
            .collect(),
        overrides: overrides
            .iter()
            .filter(|o| o.item_id == item.id.as_str())
            .map(|o| ManualOverride {
                charge: o.charge,
                original_price: o.original_price,
                new_price: o.new_price,
                actor: o.actor.actor_id.as_str().to_owned(),
                reason: o.reason.clone(),
            })
            .collect(),
    }
}
