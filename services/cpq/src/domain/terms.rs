//! The term-discount policy CPQ passes to the pricing engine: a commitment discount on
//! recurring charges, by term. Kept here (not in requests) so sellers cannot invent rows; the
//! rows are named in every trace step they produce.

use cpq_pricing::TermDiscountRule;
use rust_decimal::Decimal;

/// Commitment discounts: 12 months 5 %, 24 months 10 %, 36 months 15 % (rows do not stack).
pub fn term_discounts() -> Vec<TermDiscountRule> {
    [(12, 5), (24, 10), (36, 15)]
        .into_iter()
        .map(|(months, percent)| TermDiscountRule {
            rule_id: format!("TERM-{months}M"),
            min_term_months: months,
            percent: Decimal::from(percent),
        })
        .collect()
}
