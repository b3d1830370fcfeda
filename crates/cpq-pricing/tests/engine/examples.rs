//! Hand-computed quotes: every expected amount below was worked out on paper first.

use cpq_pricing::{
    ChargeKind, DiscountProblem, DiscountValue, OverrideProblem, Period, PreparedPriceBook,
    PricedCharge, PricedQuote, PricingCommand, PricingError, PricingRequest, StepRule,
    TermDiscountRule, TierBand, price, price_hash, price_quote,
};

use crate::support::*;

fn priced(request: &PricingRequest) -> PricedQuote {
    price_quote(catalog(request.currency.code()), request).unwrap()
}

fn charge<'a>(quote: &'a PricedQuote, line: &str, kind: ChargeKind) -> &'a PricedCharge {
    quote
        .lines
        .iter()
        .find(|l| &*l.line_id == line)
        .and_then(|l| l.charges.iter().find(|c| c.kind == kind))
        .unwrap()
}

fn bands(charge: &PricedCharge) -> &[TierBand] {
    charge.list.bands()
}

#[test]
fn range_tiers_price_every_unit_at_the_tier_of_the_total() {
    // 25 seats fall in 11..=50: 25 × 8.00.
    let quote = priced(&request("USD", vec![line("l1", "seats", 25)]));
    let seats = charge(&quote, "l1", MONTHLY);
    assert_eq!(seats.list_price.amount, dec("200.00"));
    assert_eq!(seats.net.amount.to_string(), "200.00");
    let bands = bands(seats);
    assert_eq!(bands.len(), 1);
    assert_eq!(
        (bands[0].tier, bands[0].units, bands[0].unit_price),
        (1, 25, dec("8.00"))
    );
    assert_eq!(
        quote.recurring_total(Period::Month).map(|m| m.amount),
        Some(dec("200.00"))
    );
    assert_eq!(quote.totals.one_time.amount.to_string(), "0.00");
}

#[test]
fn slab_tiers_price_each_unit_at_its_own_tier() {
    // 10 × 10.00 + 40 × 8.00 + 10 × 5.00 = 100 + 320 + 50.
    let quote = priced(&request("USD", vec![line("l1", "storage", 60)]));
    let storage = charge(&quote, "l1", YEARLY);
    assert_eq!(storage.net.amount, dec("470.00"));
    let units: Vec<_> = bands(storage).iter().map(|b| (b.units, b.amount)).collect();
    assert_eq!(
        units,
        [(10, dec("100.00")), (40, dec("320.00")), (10, dec("50.00"))]
    );
    let rules: Vec<_> = quote
        .trace()
        .steps()
        .iter()
        .map(|s| s.rule.to_string())
        .collect();
    assert_eq!(rules, ["tier.SLAB", "tier.SLAB", "tier.SLAB", "round"]);
}

#[test]
fn term_discount_takes_the_highest_threshold_reached_on_recurring_charges_only() {
    let at = |term: Option<u32>| {
        let mut l = line("l1", "router", 2);
        l.term_months = term;
        let mut r = request("USD", vec![l]);
        r.term_discounts = term_policy();
        let quote = priced(&r);
        (
            charge(&quote, "l1", ChargeKind::OneTime).net.amount,
            charge(&quote, "l1", MONTHLY).net.amount,
        )
    };
    // One-time 2 × 149.00 never discounted; monthly 2 × 12.50 = 25.00.
    assert_eq!(at(None), (dec("298.00"), dec("25.00")));
    assert_eq!(at(Some(11)), (dec("298.00"), dec("25.00")));
    assert_eq!(at(Some(12)), (dec("298.00"), dec("23.75")));
    assert_eq!(at(Some(24)), (dec("298.00"), dec("22.50")));
    assert_eq!(at(Some(40)), (dec("298.00"), dec("21.25")));
}

#[test]
fn line_and_quote_discounts_compound_in_order_and_round_once() {
    // install: 3 × 500.00 = 1500.00 → 10 % → 1350.00 → 50.00 off → 1300.00 → quote 2.5 % → 1267.50.
    // seats: 25 × 8.00 = 200.00 → quote 2.5 % → 195.00.
    let mut install = line("l1", "install", 3);
    install.discounts = vec![
        percent("deal-desk-10", "10", None),
        amount("loyalty-50", "50", ChargeKind::OneTime),
    ];
    let mut r = request("USD", vec![install, line("l2", "seats", 25)]);
    r.quote_discounts = vec![percent("quote-2.5", "2.5", None)];
    let quote = priced(&r);
    let i = charge(&quote, "l1", ChargeKind::OneTime);
    let steps: Vec<_> = i
        .discounts
        .iter()
        .map(|d| (d.rule.to_string(), d.after))
        .collect();
    assert_eq!(
        steps,
        [
            ("discount.line".to_owned(), dec("1350")),
            ("discount.line".to_owned(), dec("1300.00")),
            ("discount.quote".to_owned(), dec("1267.50")),
        ]
    );
    assert_eq!(i.net.amount, dec("1267.50"));
    assert_eq!(charge(&quote, "l2", MONTHLY).net.amount, dec("195.00"));
    assert_eq!(quote.totals.one_time.amount, dec("1267.50"));
    assert_eq!(
        quote.recurring_total(Period::Month).map(|m| m.amount),
        Some(dec("195.00"))
    );
    assert_eq!(quote.state_command(), PricingCommand::Price);
}

#[test]
fn a_quote_amount_is_split_in_whole_cents_and_the_total_falls_by_exactly_that_amount() {
    // 500.00 over three 300.00 charges: 166.67 + 166.67 + 166.66 (largest remainder, ties to
    // the earlier line), so the nets are 133.33 + 133.33 + 133.34 = 400.00 exactly.
    let svc = book("USD", vec![flat("svc", ChargeKind::OneTime, "300.00")]);
    let mut r = request(
        "USD",
        vec![
            line("c", "svc", 1),
            line("a", "svc", 1),
            line("b", "svc", 1),
        ],
    );
    r.quote_discounts = vec![amount("quote-500", "500.00", ChargeKind::OneTime)];
    let quote = price_quote(svc, &r).unwrap();
    let nets: Vec<_> = quote
        .lines
        .iter()
        .map(|l| (&*l.line_id, l.charges[0].net.amount))
        .collect();
    assert_eq!(
        nets,
        [
            ("a", dec("133.33")),
            ("b", dec("133.33")),
            ("c", dec("133.34"))
        ]
    );
    assert_eq!(quote.totals.one_time.amount, dec("400.00"));
}

#[test]
fn rounding_is_half_up_at_each_currencys_minor_units() {
    let cases = [
        // 10.00 less 33.35 % = 6.665 → 6.67 (half-even would give 6.66).
        ("USD", "10.00", "33.35", "6.665", "6.67"),
        // 1001 less 50 % = 500.5 → 501.
        ("JPY", "1001", "50", "500.5", "501"),
        // 1.005 less 50 % = 0.5025 → 0.503.
        ("KWD", "1.005", "50", "0.5025", "0.503"),
    ];
    for (code, unit, pct, unrounded, rounded) in cases {
        let mut l = line("l1", "svc", 1);
        l.discounts = vec![percent("promo", pct, None)];
        let quote = price_quote(
            book(code, vec![flat("svc", ChargeKind::OneTime, unit)]),
            &request(code, vec![l]),
        )
        .unwrap();
        let c = &quote.lines[0].charges[0];
        assert_eq!(c.rounding.input, dec(unrounded), "{code}");
        assert_eq!(c.net.amount.to_string(), rounded, "{code}");
        assert_eq!(c.rounding.scale, currency(code).minor_units());
        assert_eq!(quote.totals.one_time.amount.to_string(), rounded, "{code}");
    }
}

#[test]
fn a_manual_override_replaces_the_rounded_amount_and_keeps_its_audit_fields() {
    let mut l = line("l1", "router", 2);
    l.term_months = Some(24);
    l.overrides = vec![manual(MONTHLY, "22.50", "20")];
    let mut r = request("USD", vec![l]);
    r.term_discounts = term_policy();
    let quote = priced(&r);
    let monthly = charge(&quote, "l1", MONTHLY);
    assert_eq!(monthly.computed.amount, dec("22.50"));
    assert_eq!(monthly.net.amount.to_string(), "20.00");
    let record = monthly.manual_override.as_ref().unwrap();
    assert_eq!(record.original_price.amount, dec("22.50"));
    assert_eq!(record.new_price.amount, dec("20.00"));
    assert_eq!(record.actor, "sales-manager@example.com");
    assert_eq!(record.reason, "competitive match");
    assert_eq!(
        quote.recurring_total(Period::Month).map(|m| m.amount),
        Some(dec("20.00"))
    );
    assert!(
        charge(&quote, "l1", ChargeKind::OneTime)
            .manual_override
            .is_none()
    );
    assert_eq!(quote.state_command(), PricingCommand::Override);
    let trace = quote.trace();
    let last = trace.steps().last().unwrap();
    assert_eq!(
        (last.rule, last.input, last.output),
        (StepRule::Override, dec("22.50"), dec("20.00"))
    );
}

#[test]
fn an_override_made_against_another_price_is_refused() {
    let mut l = line("l1", "router", 2);
    l.overrides = vec![manual(MONTHLY, "22.50", "20.00")];
    let errors = priced_err(&request("USD", vec![l]));
    assert_eq!(
        errors,
        [PricingError::OverrideStale {
            line_id: "l1".into(),
            charge: MONTHLY,
            original: dec("22.50"),
            computed: dec("25.00"),
        }]
    );
    assert_eq!(errors[0].code(), "OVERRIDE_STALE");
}

fn priced_err(request: &PricingRequest) -> Vec<PricingError> {
    price_quote(catalog(request.currency.code()), request)
        .unwrap_err()
        .into_vec()
}

#[test]
fn every_error_of_every_line_is_returned_at_once() {
    let mut too_much = line("d", "install", 1);
    too_much.discounts = vec![percent("greedy", "120", None)];
    let mut wrong_target = line("e", "install", 1);
    wrong_target.overrides = vec![manual(YEARLY, "1", "1")];
    let mut no_actor = line("f", "install", 1);
    no_actor.overrides = vec![manual(ChargeKind::OneTime, "500", "450")];
    no_actor.overrides[0].actor = " ".into();
    let mut zero_term = line("g", "router", 1);
    zero_term.term_months = Some(0);
    let mut r = request(
        "USD",
        vec![
            zero_term,
            no_actor,
            wrong_target,
            too_much,
            line("c", "install", 0),
            line("b", "nothing", 1),
            line("a", "seats", 1),
            line("a", "seats", 2),
        ],
    );
    r.term_discounts.push(TermDiscountRule {
        rule_id: "bad".into(),
        min_term_months: 6,
        percent: dec("-1"),
    });
    r.quote_discounts
        .push(amount("q", "1.001", ChargeKind::OneTime));
    let errors = priced_err(&r);
    let codes: Vec<_> = errors.iter().map(|e| (e.code(), e.line_id())).collect();
    assert_eq!(
        codes,
        [
            ("INVALID_TERM_POLICY", None),
            ("INVALID_DISCOUNT", None),
            ("DUPLICATE_LINE", Some("a")),
            ("PRICE_NOT_FOUND", Some("b")),
            ("INVALID_QUANTITY", Some("c")),
            ("INVALID_DISCOUNT", Some("d")),
            ("INVALID_OVERRIDE", Some("e")),
            ("INVALID_OVERRIDE", Some("f")),
            ("INVALID_TERM", Some("g")),
        ]
    );
    assert!(matches!(
        &errors[1],
        PricingError::InvalidDiscount {
            problem: DiscountProblem::AmountTooPrecise,
            ..
        }
    ));
    assert!(matches!(
        &errors[6],
        PricingError::InvalidOverride {
            problem: OverrideProblem::NoSuchCharge,
            ..
        }
    ));
    assert!(matches!(
        &errors[7],
        PricingError::InvalidOverride {
            problem: OverrideProblem::MissingActor,
            ..
        }
    ));
}

#[test]
fn amounts_larger_than_the_price_are_refused_not_clamped() {
    let mut l = line("l1", "install", 1);
    l.discounts = vec![amount("big", "500.01", ChargeKind::OneTime)];
    assert_eq!(
        priced_err(&request("USD", vec![l])),
        [PricingError::InvalidDiscount {
            line_id: Some("l1".into()),
            rule_id: "big".into(),
            problem: DiscountProblem::AmountExceedsPrice,
        }]
    );
    let mut r = request("USD", vec![line("l1", "install", 1)]);
    r.quote_discounts = vec![amount("quote-big", "500.01", ChargeKind::OneTime)];
    assert_eq!(priced_err(&r)[0].code(), "INVALID_DISCOUNT");
    let mut r = request("USD", vec![line("l1", "install", 1)]);
    r.quote_discounts = vec![amount("no-yearly", "1", YEARLY)];
    assert!(matches!(
        &priced_err(&r)[0],
        PricingError::InvalidDiscount {
            problem: DiscountProblem::NoSuchCharge,
            line_id: None,
            ..
        }
    ));
}

#[test]
fn the_wrong_book_or_currency_is_refused_up_front() {
    let mut r = request("EUR", vec![line("l1", "install", 1)]);
    r.price_book_version = 4;
    let codes = price_quote(catalog("USD"), &r).unwrap_err().codes();
    assert_eq!(codes, ["PRICE_BOOK_MISMATCH", "CURRENCY_MISMATCH"]);
}

#[test]
fn the_hash_is_reported_and_reproducible_from_the_request_alone() {
    let mut r = request(
        "USD",
        vec![line("l2", "seats", 25), line("l1", "router", 2)],
    );
    r.term_discounts = term_policy();
    let prepared = PreparedPriceBook::new(catalog("USD")).unwrap();
    let first = price(&prepared, &r).unwrap();
    assert_eq!(first.price_hash, price_hash(&r));
    assert_eq!(first.price_hash.len(), 64);
    r.lines.reverse();
    assert_eq!(
        price(&prepared, &r).unwrap(),
        first,
        "line order changes nothing"
    );
}

#[test]
fn requests_map_from_json() {
    let r: PricingRequest = serde_json::from_value(serde_json::json!({
        "priceBookId": BOOK_ID,
        "priceBookVersion": BOOK_VERSION,
        "currency": "USD",
        "lines": [{
            "lineId": "l1", "offeringId": "install", "offeringVersion": 1, "quantity": 2,
            "discounts": [{"ruleId": "r", "value": {"amount": "10.00"}, "appliesTo": "ONE_TIME"}]
        }],
        "quoteDiscounts": [{"ruleId": "q", "reason": "launch", "value": {"percent": "10"}}]
    }))
    .unwrap();
    assert_eq!(
        r.lines[0].discounts[0].value,
        DiscountValue::Amount(dec("10.00"))
    );
    // (1000.00 - 10.00) × 0.9
    assert_eq!(priced(&r).totals.one_time.amount, dec("891.00"));
    assert_eq!(
        ChargeKind::from_catalog("RECURRING", Some("QUARTER")),
        Some(ChargeKind::Recurring(Period::Quarter))
    );
    assert_eq!(ChargeKind::from_catalog("ONE_TIME", Some("MONTH")), None);
}
