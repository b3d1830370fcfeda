//! Builders for price books and requests, so tests read like the quotes they describe.

use cpq_pricing::{
    Charge, ChargeKind, Discount, DiscountValue, LineInput, ManualOverride, Period, PriceBook,
    Pricing, PricingRequest, TermDiscountRule, Tier, TierMode,
};
use domain_kernel::money::Currency;
use rust_decimal::Decimal;

pub const BOOK_ID: &str = "pb-enterprise";
pub const BOOK_VERSION: i32 = 3;
pub const MONTHLY: ChargeKind = ChargeKind::Recurring(Period::Month);
pub const YEARLY: ChargeKind = ChargeKind::Recurring(Period::Year);

pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn currency(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

pub fn flat(offering: &str, kind: ChargeKind, price: &str) -> Charge {
    Charge {
        offering_id: offering.into(),
        offering_version: 1,
        kind,
        pricing: Pricing::Flat {
            unit_price: dec(price),
        },
    }
}

/// Tiers from `(last quantity or None, unit price)`, contiguous from 1.
pub fn tiered(
    offering: &str,
    kind: ChargeKind,
    mode: TierMode,
    spec: &[(Option<u64>, &str)],
) -> Charge {
    let mut from = 1;
    let tiers = spec
        .iter()
        .map(|(to, price)| {
            let tier = Tier {
                from_quantity: from,
                to_quantity: *to,
                unit_price: dec(price),
            };
            from = to.map_or(from, |t| t + 1);
            tier
        })
        .collect();
    Charge {
        offering_id: offering.into(),
        offering_version: 1,
        kind,
        pricing: Pricing::Tiered { mode, tiers },
    }
}

pub fn book(code: &str, charges: Vec<Charge>) -> PriceBook {
    PriceBook {
        id: BOOK_ID.into(),
        version: BOOK_VERSION,
        currency: currency(code),
        charges,
    }
}

pub fn line(id: &str, offering: &str, quantity: u64) -> LineInput {
    LineInput {
        line_id: id.into(),
        offering_id: offering.into(),
        offering_version: 1,
        quantity,
        term_months: None,
        configuration_hash: format!("cfg-{id}"),
        discounts: Vec::new(),
        overrides: Vec::new(),
    }
}

pub fn request(code: &str, lines: Vec<LineInput>) -> PricingRequest {
    PricingRequest {
        price_book_id: BOOK_ID.into(),
        price_book_version: BOOK_VERSION,
        currency: currency(code),
        lines,
        term_discounts: Vec::new(),
        quote_discounts: Vec::new(),
    }
}

pub fn percent(rule: &str, value: &str, applies_to: Option<ChargeKind>) -> Discount {
    Discount {
        rule_id: rule.into(),
        reason: format!("{rule} granted"),
        value: DiscountValue::Percent(dec(value)),
        applies_to,
    }
}

pub fn amount(rule: &str, value: &str, applies_to: ChargeKind) -> Discount {
    Discount {
        rule_id: rule.into(),
        reason: format!("{rule} granted"),
        value: DiscountValue::Amount(dec(value)),
        applies_to: Some(applies_to),
    }
}

/// The usual commitment policy: 12 months 5 %, 24 months 10 %, 36 months 15 %.
pub fn term_policy() -> Vec<TermDiscountRule> {
    [
        ("term-12", 12, "5"),
        ("term-24", 24, "10"),
        ("term-36", 36, "15"),
    ]
    .into_iter()
    .map(|(id, months, pct)| TermDiscountRule {
        rule_id: id.into(),
        min_term_months: months,
        percent: dec(pct),
    })
    .collect()
}

pub fn manual(charge: ChargeKind, original: &str, new: &str) -> ManualOverride {
    ManualOverride {
        charge,
        original_price: dec(original),
        new_price: dec(new),
        actor: "sales-manager@example.com".into(),
        reason: "competitive match".into(),
    }
}

/// A catalog with one of each kind of charge.
pub fn catalog(code: &str) -> PriceBook {
    book(
        code,
        vec![
            flat("router", ChargeKind::OneTime, "149.00"),
            flat("router", MONTHLY, "12.50"),
            tiered(
                "seats",
                MONTHLY,
                TierMode::Range,
                &[(Some(10), "10.00"), (Some(50), "8.00"), (None, "5.00")],
            ),
            tiered(
                "storage",
                YEARLY,
                TierMode::Slab,
                &[(Some(10), "10.00"), (Some(50), "8.00"), (None, "5.00")],
            ),
            flat("install", ChargeKind::OneTime, "500.00"),
        ],
    )
}
