//! Builders shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use approval_policy::{LineInput, PolicyInput};
use domain_kernel::ActorType;
use domain_kernel::money::Currency;
use rust_decimal::Decimal;

/// A decimal from text.
pub fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// A line with a discount and nothing else notable.
pub fn line(id: &str, discount: &str) -> LineInput {
    LineInput {
        line_id: id.to_owned(),
        discount_percent: dec(discount),
        override_count: 0,
        override_amount: Decimal::ZERO,
        min_net_percent_of_list: Some(Decimal::ONE_HUNDRED - dec(discount)),
    }
}

/// A modest quote by a human agent with 10 % authority: one line with `discount`.
pub fn quote(discount: &str) -> PolicyInput {
    PolicyInput {
        lines: vec![line("a", discount)],
        quote_discount_percent: Decimal::ZERO,
        currency: Currency::parse("EUR").unwrap(),
        one_time_total: dec("1000"),
        recurring_monthly_total: dec("100"),
        term_months: 12,
        discount_authority_percent: dec("10"),
        actor_type: ActorType::HumanAgent,
    }
}
