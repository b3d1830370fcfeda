//! The facts the approval service's policy reads, published with every submit (`policyInput`
//! of `cpq.quote.submitted.v2`, first added to v1 by ADR 0033). The approval policy moved out
//! of CPQ (ADR 0031, ADR 0035), so CPQ states what it priced and who submitted, and the
//! approval service decides. The shape is the one `approval_policy::PolicyInput` reads; CPQ
//! keeps its own copy rather than depending on the approval service's crate, and the JSON
//! Schema is the contract between them.
//!
//! Everything is read from the priced quote (what the price hash covers), never from what the
//! seller typed, so the input cannot disagree with the price that will be approved. Amounts and
//! percentages are `Decimal` (strings on the wire); nothing is rounded: a net at 49.999 % of list
//! is below a 50 % floor.

use cpq_pricing::{DiscountValue, Period, PricedCharge, PricedQuote, StepRule};
use domain_kernel::ActorType;
use domain_kernel::money::Currency;
use rust_decimal::Decimal;
use serde::Serialize;

/// Who submits: the kind of principal and the discount it may grant alone, both from its
/// verified token (never from a header it chose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submitter {
    /// Kind of principal.
    pub actor_type: ActorType,
    /// The largest line discount, in percent, it may grant without approval.
    pub discount_authority: Decimal,
}

/// The policy input could not be computed without overflowing `Decimal` (an absurd quote; a
/// refusal is better than a wrapped or rounded number the policy would trust).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the policy input's {0} overflows")]
pub struct PolicyInputError(pub &'static str);

/// One priced line as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyLine {
    /// The quote item.
    pub line_id: String,
    /// The largest percent line discount applied to any of its charges (0 when none). CPQ
    /// grants line discounts as percentages only (the seller's discount).
    pub discount_percent: Decimal,
    /// How many of its charges carry a manual override.
    pub override_count: u32,
    /// What those overrides took off the computed nets (original − new, summed; negative when
    /// an override raised a price).
    pub override_amount: Decimal,
    /// The lowest `net × 100 / list` over its charges with a positive list amount; `None`
    /// when none has one.
    pub min_net_percent_of_list: Option<Decimal>,
}

/// Everything one policy evaluation reads about a submitted quote revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInput {
    /// The priced lines, in the price snapshot's (line id) order.
    pub lines: Vec<PolicyLine>,
    /// The largest percent quote-level discount applied (0 when none).
    pub quote_discount_percent: Decimal,
    /// Currency of every amount.
    pub currency: Currency,
    /// One-time total.
    pub one_time_total: Decimal,
    /// Recurring totals as a monthly amount: monthly + quarterly / 3 + yearly / 12,
    /// unrounded (a measure for the policy, never an amount charged).
    pub recurring_monthly_total: Decimal,
    /// The longest committed term of any line, months (0 when none): the contract value counts
    /// the recurring total this many times, so a mixed-term quote is never undervalued.
    pub term_months: u32,
    /// The largest discount, percent, the submitter may grant alone (from its verified token).
    pub discount_authority_percent: Decimal,
    /// Kind of principal that submitted.
    pub actor_type: ActorType,
}

impl PolicyInput {
    /// Builds the input for a submit of `priced` by `submitter`.
    pub fn build(submitter: Submitter, priced: &PricedQuote) -> Result<Self, PolicyInputError> {
        let lines = priced
            .lines
            .iter()
            .map(|line| {
                Ok(PolicyLine {
                    line_id: line.line_id.to_string(),
                    discount_percent: largest_percent(line.charges.iter(), StepRule::LineDiscount),
                    override_count: u32::try_from(
                        line.charges
                            .iter()
                            .filter(|c| c.manual_override.is_some())
                            .count(),
                    )
                    .map_err(|_| PolicyInputError("override count"))?,
                    override_amount: override_amount(&line.charges)?,
                    min_net_percent_of_list: min_net_percent_of_list(&line.charges)?,
                })
            })
            .collect::<Result<_, PolicyInputError>>()?;
        Ok(Self {
            lines,
            quote_discount_percent: largest_percent(
                priced.lines.iter().flat_map(|l| l.charges.iter()),
                StepRule::QuoteDiscount,
            ),
            currency: priced.currency,
            one_time_total: priced.totals.one_time.amount,
            recurring_monthly_total: recurring_monthly(priced)?,
            term_months: priced
                .lines
                .iter()
                .filter_map(|l| l.term_months)
                .max()
                .unwrap_or(0),
            discount_authority_percent: submitter.discount_authority,
            actor_type: submitter.actor_type,
        })
    }
}

/// The largest percentage among the discounts of kind `rule` applied to `charges`.
fn largest_percent<'a>(charges: impl Iterator<Item = &'a PricedCharge>, rule: StepRule) -> Decimal {
    charges
        .flat_map(|c| c.discounts.iter())
        .filter(|d| d.rule == rule)
        .filter_map(|d| match d.value {
            DiscountValue::Percent(p) => Some(p),
            DiscountValue::Amount(_) => None,
        })
        .max()
        .unwrap_or(Decimal::ZERO)
}

fn override_amount(charges: &[PricedCharge]) -> Result<Decimal, PolicyInputError> {
    charges
        .iter()
        .filter_map(|c| c.manual_override.as_deref())
        .try_fold(Decimal::ZERO, |sum, o| {
            o.original_price
                .amount
                .checked_sub(o.new_price.amount)
                .and_then(|cut| sum.checked_add(cut))
                .ok_or(PolicyInputError("override amount"))
        })
}

fn min_net_percent_of_list(charges: &[PricedCharge]) -> Result<Option<Decimal>, PolicyInputError> {
    let mut lowest: Option<Decimal> = None;
    for charge in charges
        .iter()
        .filter(|c| c.list_price.amount > Decimal::ZERO)
    {
        let percent = charge
            .net
            .amount
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|n| n.checked_div(charge.list_price.amount))
            .ok_or(PolicyInputError("net percent of list"))?;
        lowest = Some(lowest.map_or(percent, |l| l.min(percent)));
    }
    Ok(lowest)
}

fn recurring_monthly(priced: &PricedQuote) -> Result<Decimal, PolicyInputError> {
    priced
        .totals
        .recurring
        .iter()
        .try_fold(Decimal::ZERO, |sum, total| {
            let months = match total.period {
                Period::Month => Decimal::ONE,
                Period::Quarter => Decimal::from(3),
                Period::Year => Decimal::from(12),
            };
            total
                .amount
                .amount
                .checked_div(months)
                .and_then(|monthly| sum.checked_add(monthly))
                .ok_or(PolicyInputError("recurring monthly total"))
        })
}

#[cfg(test)]
mod tests {
    use cpq_pricing::{
        Charge, ChargeKind, Discount, LineInput, ManualOverride, PriceBook, Pricing,
        PricingRequest, price_quote,
    };
    use serde_json::json;

    use super::*;

    /// One line: a one-time charge of 1000 and a monthly charge of 100 over `term` months,
    /// `discount` % off both, and the monthly charge overridden to `override_to` if given.
    fn priced(discount: i64, term: Option<u32>, override_to: Option<&str>) -> PricedQuote {
        let eur = Currency::parse("EUR").unwrap();
        let charge = |kind, price: i64| Charge {
            offering_id: "o".into(),
            offering_version: 1,
            kind,
            pricing: Pricing::Flat {
                unit_price: Decimal::from(price),
            },
        };
        let monthly = ChargeKind::Recurring(Period::Month);
        let book = PriceBook {
            id: "pb".into(),
            version: 1,
            currency: eur,
            charges: vec![charge(ChargeKind::OneTime, 1000), charge(monthly, 100)],
        };
        let mut line = LineInput {
            line_id: "a".into(),
            offering_id: "o".into(),
            offering_version: 1,
            quantity: 1,
            term_months: term,
            configuration_hash: String::new(),
            discounts: vec![Discount {
                rule_id: "SELLER-DISCOUNT".into(),
                reason: String::new(),
                value: DiscountValue::Percent(Decimal::from(discount)),
                applies_to: None,
            }],
            overrides: Vec::new(),
        };
        let request = |line: LineInput| PricingRequest {
            price_book_id: "pb".into(),
            price_book_version: 1,
            currency: eur,
            lines: vec![line],
            term_discounts: Vec::new(),
            quote_discounts: Vec::new(),
        };
        if let Some(new_price) = override_to {
            let first = price_quote(book.clone(), &request(line.clone())).unwrap();
            line.overrides.push(ManualOverride {
                charge: monthly,
                original_price: first.lines[0].charges[1].net.amount,
                new_price: new_price.parse().unwrap(),
                actor: "rep".into(),
                reason: "deal".into(),
            });
        }
        price_quote(book, &request(line)).unwrap()
    }

    fn agent() -> Submitter {
        Submitter {
            actor_type: ActorType::HumanAgent,
            discount_authority: Decimal::from(10),
        }
    }

    #[test]
    fn a_thirty_percent_quote_states_its_discount_totals_and_submitter() {
        let input = PolicyInput::build(agent(), &priced(30, Some(12), None)).unwrap();
        assert_eq!(
            serde_json::to_value(&input).unwrap(),
            json!({
                "lines": [{
                    "lineId": "a",
                    "discountPercent": "30",
                    "overrideCount": 0,
                    "overrideAmount": "0",
                    "minNetPercentOfList": "70"
                }],
                "quoteDiscountPercent": "0",
                "currency": "EUR",
                "oneTimeTotal": "700.00",
                "recurringMonthlyTotal": "70.00",
                "termMonths": 12,
                "discountAuthorityPercent": "10",
                "actorType": "HUMAN_AGENT"
            })
        );
    }

    #[test]
    fn overrides_are_counted_and_what_they_took_off_summed() {
        let input = PolicyInput::build(agent(), &priced(0, None, Some("40"))).unwrap();
        let line = &input.lines[0];
        assert_eq!(line.override_count, 1);
        assert_eq!(line.override_amount, Decimal::from(60));
        assert_eq!(line.min_net_percent_of_list, Some(Decimal::from(40)));
        assert_eq!(line.discount_percent, Decimal::ZERO);
        assert_eq!(input.term_months, 0);
    }
}
