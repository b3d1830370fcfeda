//! Price and hash a 1,000-line and a 10,000-line quote (target: at most 25 ms for 10,000 lines,
//! growing about linearly); then, on the priced quote, materialise the trace and compute the
//! trace hash, which the service only does when it stores or checks a snapshot. Run with
//! `cargo bench -p cpq-pricing --bench pricing`. The pricing figure includes dropping the
//! result.
//!
//! The quote mixes every path: flat one-time and recurring charges, RANGE and SLAB tiers, term
//! discounts, line percentage and amount discounts, and quote percentage and amount discounts.

#![expect(clippy::unwrap_used, reason = "a benchmark binary")]

use std::hint::black_box;

use cpq_pricing::{
    Charge, ChargeKind, Discount, DiscountValue, LineInput, Period, PreparedPriceBook, PriceBook,
    Pricing, PricingRequest, TermDiscountRule, Tier, TierMode, price,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use domain_kernel::money::Currency;
use rust_decimal::Decimal;

const OFFERINGS: usize = 500;

fn offering_id(i: usize) -> String {
    format!("0190f0c1-7a3b-7c4d-8e5f-{i:012}")
}

fn tiers(base: i64) -> Vec<Tier> {
    vec![
        Tier {
            from_quantity: 1,
            to_quantity: Some(10),
            unit_price: Decimal::new(base, 2),
        },
        Tier {
            from_quantity: 11,
            to_quantity: Some(100),
            unit_price: Decimal::new(base * 9 / 10, 2),
        },
        Tier {
            from_quantity: 101,
            to_quantity: None,
            unit_price: Decimal::new(base * 8 / 10, 2),
        },
    ]
}

/// 500 offerings, each with a one-time and a recurring charge; a third of the recurring ones
/// RANGE-tiered, a third SLAB-tiered.
fn price_book() -> PriceBook {
    let mut charges = Vec::with_capacity(OFFERINGS * 2);
    for i in 0..OFFERINGS {
        let id = offering_id(i);
        let base = 1_000 + i64::try_from(i).unwrap() * 7;
        charges.push(Charge {
            offering_id: id.clone(),
            offering_version: 1,
            kind: ChargeKind::OneTime,
            pricing: Pricing::Flat {
                unit_price: Decimal::new(base * 10, 2),
            },
        });
        let pricing = match i % 3 {
            0 => Pricing::Flat {
                unit_price: Decimal::new(base, 2),
            },
            1 => Pricing::Tiered {
                mode: TierMode::Range,
                tiers: tiers(base),
            },
            _ => Pricing::Tiered {
                mode: TierMode::Slab,
                tiers: tiers(base),
            },
        };
        charges.push(Charge {
            offering_id: id,
            offering_version: 1,
            kind: ChargeKind::Recurring(Period::Month),
            pricing,
        });
    }
    PriceBook {
        id: "0190f0c1-7a3b-7c4d-8e5f-pricebook000".into(),
        version: 7,
        currency: Currency::parse("USD").unwrap(),
        charges,
    }
}

fn request(lines: usize) -> PricingRequest {
    let lines = (0..lines)
        .map(|i| {
            let mut discounts = Vec::new();
            if i % 2 == 0 {
                discounts.push(Discount {
                    rule_id: "deal-desk".into(),
                    reason: "strategic account".into(),
                    value: DiscountValue::Percent(Decimal::new(75, 1)),
                    applies_to: None,
                });
            }
            if i % 5 == 0 {
                discounts.push(Discount {
                    rule_id: "install-credit".into(),
                    reason: "partner installs".into(),
                    value: DiscountValue::Amount(Decimal::new(500, 2)),
                    applies_to: Some(ChargeKind::OneTime),
                });
            }
            LineInput {
                // Reverse order, so the canonical sort has work to do.
                line_id: format!("0190f0c1-0000-7000-8000-{:012}", lines - i),
                offering_id: offering_id(i % OFFERINGS),
                offering_version: 1,
                quantity: 1 + (i as u64 * 37) % 250,
                term_months: [None, Some(12), Some(24), Some(36)][i % 4],
                configuration_hash: format!("{:064x}", i.wrapping_mul(2_654_435_761)),
                discounts,
                overrides: Vec::new(),
            }
        })
        .collect();
    PricingRequest {
        price_book_id: "0190f0c1-7a3b-7c4d-8e5f-pricebook000".into(),
        price_book_version: 7,
        currency: Currency::parse("USD").unwrap(),
        lines,
        term_discounts: [(12, 5), (24, 10), (36, 15)]
            .into_iter()
            .map(|(months, pct)| TermDiscountRule {
                rule_id: format!("term-{months}"),
                min_term_months: months,
                percent: Decimal::from(pct),
            })
            .collect(),
        quote_discounts: vec![
            Discount {
                rule_id: "quote-2.5".into(),
                reason: "end of quarter".into(),
                value: DiscountValue::Percent(Decimal::new(25, 1)),
                applies_to: None,
            },
            Discount {
                rule_id: "quote-1000".into(),
                reason: "signing bonus".into(),
                value: DiscountValue::Amount(Decimal::new(100_000, 2)),
                applies_to: Some(ChargeKind::OneTime),
            },
        ],
    }
}

fn bench(c: &mut Criterion) {
    let book = PreparedPriceBook::new(price_book()).unwrap();
    let mut group = c.benchmark_group("price_and_hash");
    for lines in [1_000, 10_000] {
        let request = request(lines);
        group.throughput(Throughput::Elements(lines as u64));
        group.bench_with_input(BenchmarkId::from_parameter(lines), &request, |b, r| {
            b.iter(|| black_box(price(&book, black_box(r)).unwrap().price_hash));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("trace");
    for lines in [1_000, 10_000] {
        let quote = price(&book, &request(lines)).unwrap();
        group.throughput(Throughput::Elements(lines as u64));
        group.bench_with_input(BenchmarkId::new("materialise", lines), &quote, |b, q| {
            b.iter(|| black_box(q.trace().steps().len()));
        });
        group.bench_with_input(BenchmarkId::new("hash", lines), &quote, |b, q| {
            b.iter(|| black_box(q.trace_hash().unwrap()));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
