//! Properties of the engine over random quotes in currencies with 0, 2 and 3 minor units.

use cpq_pricing::tiers::list_price;
use cpq_pricing::{
    ChargeKind, Discount, LineInput, Period, PreparedPriceBook, PriceBook, PricedQuote, Pricing,
    PricingRequest, StepRule, TierMode, price, price_hash,
};
use domain_kernel::money::Currency;
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::support::*;

const OFFERINGS: [&str; 5] = ["router", "seats", "storage", "install", "support"];

/// Whole-unit prices, valid in every currency.
fn property_book(code: &str) -> PriceBook {
    book(
        code,
        vec![
            flat("router", ChargeKind::OneTime, "149"),
            flat("router", MONTHLY, "13"),
            tiered(
                "seats",
                MONTHLY,
                TierMode::Range,
                &[(Some(10), "10"), (Some(50), "8"), (None, "5")],
            ),
            tiered(
                "storage",
                YEARLY,
                TierMode::Slab,
                &[(Some(10), "10"), (Some(50), "8"), (None, "5")],
            ),
            flat("install", ChargeKind::OneTime, "500"),
            flat("support", ChargeKind::Recurring(Period::Quarter), "30"),
            flat("support", ChargeKind::OneTime, "7"),
        ],
    )
}

fn any_kind() -> impl Strategy<Value = Option<ChargeKind>> {
    prop_oneof![
        3 => Just(None),
        1 => proptest::sample::select(ChargeKind::ALL.to_vec()).prop_map(Some),
    ]
}

/// A percentage with up to two decimals, 0..=100.
fn any_percent(rule: &'static str) -> impl Strategy<Value = Discount> {
    (0i64..=10_000, any_kind()).prop_map(move |(hundredths, applies_to)| Discount {
        rule_id: rule.into(),
        reason: String::new(),
        value: cpq_pricing::DiscountValue::Percent(Decimal::new(hundredths, 2)),
        applies_to,
    })
}

/// Line-level targets must exist on the line; untargeted keeps every random line valid.
fn untargeted(mut d: Discount) -> Discount {
    d.applies_to = None;
    d
}

fn any_line() -> impl Strategy<Value = (usize, u64, Option<u32>, Vec<Discount>)> {
    (
        0..OFFERINGS.len(),
        1u64..300,
        proptest::option::of(1u32..60),
        proptest::collection::vec(any_percent("line").prop_map(untargeted), 0..3),
    )
}

fn any_request() -> impl Strategy<Value = PricingRequest> {
    (
        proptest::sample::select(vec!["USD", "JPY", "KWD"]),
        proptest::collection::vec(any_line(), 0..25),
        proptest::collection::vec(any_percent("quote").prop_map(untargeted), 0..2),
    )
        .prop_flat_map(|(code, lines, quote_discounts)| {
            let lines: Vec<LineInput> = lines
                .into_iter()
                .enumerate()
                .map(|(i, (offering, quantity, term, discounts))| {
                    let mut l = line(&format!("line-{i:03}"), OFFERINGS[offering], quantity);
                    l.term_months = term;
                    l.discounts = discounts;
                    l
                })
                .collect();
            Just(lines).prop_shuffle().prop_map(move |lines| {
                let mut r = request(code, lines);
                r.term_discounts = term_policy();
                r.quote_discounts = quote_discounts.clone();
                r
            })
        })
}

fn run(request: &PricingRequest) -> PricedQuote {
    let book = PreparedPriceBook::new(property_book(request.currency.code())).unwrap();
    price(&book, request).unwrap()
}

fn scale_of(code: &str) -> u32 {
    Currency::parse(code).unwrap().minor_units()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn repricing_reproduces_result_trace_and_hashes(request in any_request()) {
        let a = run(&request);
        let b = run(&request);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.trace().to_json().unwrap(), b.trace().to_json().unwrap());
        prop_assert_eq!(a.trace_hash().unwrap(), b.trace_hash().unwrap());
        prop_assert_eq!(a.trace_hash().unwrap(), a.trace().hash().unwrap(), "streamed and materialised trace hash agree");
        prop_assert_eq!(&a.price_hash, &price_hash(&request));
    }

    #[test]
    fn line_order_changes_nothing(request in any_request(), seed in any::<u64>()) {
        let mut shuffled = request.clone();
        // A deterministic rotation plus reversal covers arbitrary reorderings well enough
        // alongside the generator's own shuffle.
        if !shuffled.lines.is_empty() {
            let k = usize::try_from(seed % shuffled.lines.len() as u64).unwrap();
            shuffled.lines.rotate_left(k);
            shuffled.lines.reverse();
        }
        let a = run(&request);
        let b = run(&shuffled);
        prop_assert_eq!(&a.price_hash, &b.price_hash);
        prop_assert_eq!(a.trace_hash().unwrap(), b.trace_hash().unwrap());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn totals_are_sums_of_rounded_lines(request in any_request()) {
        let quote = run(&request);
        let scale = scale_of(request.currency.code());
        let mut one_time = Decimal::ZERO;
        let mut recurring = [Decimal::ZERO; 3];
        let mut seen = [false; 3];
        for c in quote.lines.iter().flat_map(|l| &l.charges) {
            prop_assert_eq!(c.net.amount.scale(), scale, "nets carry the currency scale");
            match c.kind {
                ChargeKind::OneTime => one_time += c.net.amount,
                ChargeKind::Recurring(p) => {
                    let i = Period::ALL.iter().position(|x| *x == p).unwrap();
                    recurring[i] += c.net.amount;
                    seen[i] = true;
                }
            }
        }
        prop_assert_eq!(quote.totals.one_time.amount, one_time);
        prop_assert_eq!(quote.totals.one_time.amount.scale(), scale);
        for (i, period) in Period::ALL.into_iter().enumerate() {
            let total = quote.recurring_total(period).map(|m| m.amount);
            prop_assert_eq!(total, seen[i].then_some(recurring[i]));
        }
    }

    #[test]
    fn amounts_are_never_negative_and_discounts_never_raise_a_price(request in any_request()) {
        let quote = run(&request);
        for c in quote.lines.iter().flat_map(|l| &l.charges) {
            prop_assert!(c.list_price.amount >= Decimal::ZERO);
            prop_assert!(c.net.amount >= Decimal::ZERO);
            let mut before = c.list_price.amount;
            for d in &c.discounts {
                prop_assert_eq!(d.before, before);
                prop_assert!(d.after <= d.before, "{} raised the price", d.rule_id);
                prop_assert!(d.after >= Decimal::ZERO);
                before = d.after;
            }
            prop_assert!(c.computed.amount <= c.list_price.amount);
            prop_assert_eq!(c.rounding.input, before);
        }
        for step in quote.trace().steps() {
            prop_assert!(step.input >= Decimal::ZERO && step.output >= Decimal::ZERO);
        }
    }

    #[test]
    fn the_trace_chains_every_charge_from_zero_to_its_net(request in any_request()) {
        let quote = run(&request);
        let trace = quote.trace();
        let steps = trace.steps();
        let mut at = 0;
        for l in &quote.lines {
            for c in &l.charges {
                let mut running = Decimal::ZERO;
                let mut rounded = false;
                while let Some(step) = steps.get(at).filter(|s| s.line_id == l.line_id && s.charge == c.kind) {
                    prop_assert_eq!(step.index as usize, at);
                    prop_assert_eq!(step.input, running);
                    rounded |= step.rule == StepRule::Round;
                    running = step.output;
                    at += 1;
                }
                prop_assert!(rounded, "every charge is rounded exactly where the trace says");
                prop_assert_eq!(running, c.net.amount);
            }
        }
        prop_assert_eq!(at, steps.len());
    }

    #[test]
    fn tier_totals_match_their_definitions(quantity in 1u64..400, mode in prop_oneof![Just(TierMode::Range), Just(TierMode::Slab)]) {
        let charge = tiered("t", MONTHLY, mode, &[(Some(10), "10.00"), (Some(50), "8.00"), (Some(120), "6.50"), (None, "5.00")]);
        let Pricing::Tiered { tiers, .. } = &charge.pricing else { unreachable!() };
        let unit_price_of = |u: u64| tiers.iter().find(|t| t.from_quantity <= u && t.to_quantity.is_none_or(|to| u <= to)).unwrap().unit_price;
        let expected = match mode {
            TierMode::Range => unit_price_of(quantity) * Decimal::from(quantity),
            TierMode::Slab => (1..=quantity).map(unit_price_of).sum(),
        };
        prop_assert_eq!(list_price(&charge.pricing, quantity).unwrap().amount, expected);
    }

    #[test]
    fn a_quote_amount_lowers_the_total_by_exactly_that_amount(request in any_request(), share in 0u32..=100) {
        let before = run(&request);
        let scale = scale_of(request.currency.code());
        let total = before.totals.one_time.amount;
        let amount = (total * Decimal::from(share) / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(scale, RoundingStrategy::ToZero);
        let has_one_time = before.lines.iter().flat_map(|l| &l.charges).any(|c| c.kind == ChargeKind::OneTime);
        prop_assume!(has_one_time);
        let mut with = request.clone();
        with.quote_discounts.push(amount_discount(amount));
        let after = run(&with);
        prop_assert_eq!(after.totals.one_time.amount, total - amount);
        prop_assert_eq!(&after.totals.recurring, &before.totals.recurring);
        prop_assert_ne!(after.price_hash, before.price_hash);
    }

    #[test]
    fn a_stored_snapshot_reloads_to_the_same_quote_and_trace(request in any_request()) {
        let quote = run(&request);
        let stored = serde_json::to_vec(&quote).unwrap();
        let reloaded: PricedQuote = serde_json::from_slice(&stored).unwrap();
        prop_assert_eq!(&reloaded, &quote);
        prop_assert_eq!(reloaded.trace_hash().unwrap(), quote.trace_hash().unwrap());
        let request_again: PricingRequest =
            serde_json::from_slice(&serde_json::to_vec(&request).unwrap()).unwrap();
        prop_assert_eq!(price_hash(&request_again), quote.price_hash);
    }

    #[test]
    fn any_change_of_quantity_changes_the_hash(request in any_request(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!request.lines.is_empty());
        let mut changed = request.clone();
        let i = pick.index(changed.lines.len());
        changed.lines[i].quantity += 1;
        prop_assert_ne!(price_hash(&request), price_hash(&changed));
    }
}

fn amount_discount(amount: Decimal) -> Discount {
    Discount {
        rule_id: "quote-amount".into(),
        reason: String::new(),
        value: cpq_pricing::DiscountValue::Amount(amount),
        applies_to: Some(ChargeKind::OneTime),
    }
}
