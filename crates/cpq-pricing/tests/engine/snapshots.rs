//! Price-trace snapshots of representative quotes. The snapshot pins the trace, the totals, the
//! price hash and the trace hash: any change to arithmetic, ordering, rounding or either hash
//! encoding shows up here as a reviewed diff.

use cpq_pricing::{ChargeKind, PriceBook, PriceTrace, PricingRequest, QuoteTotals, price_quote};
use serde::Serialize;

use crate::support::*;

/// What a snapshot holds, in this field order (a struct, not a JSON map, so the order is kept).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    price_hash: String,
    trace_hash: String,
    totals: QuoteTotals,
    trace: PriceTrace,
}

fn snapshot_of(book: PriceBook, request: &PricingRequest) -> Snapshot {
    let quote = price_quote(book, request).unwrap();
    let trace = quote.trace();
    let trace_hash = quote.trace_hash().unwrap();
    assert_eq!(trace_hash, trace.hash().unwrap());
    Snapshot {
        price_hash: quote.price_hash,
        trace_hash,
        totals: quote.totals,
        trace,
    }
}

#[test]
fn range_tiers() {
    let request = request(
        "USD",
        vec![line("small", "seats", 10), line("large", "seats", 60)],
    );
    insta::assert_json_snapshot!("range_tiers", snapshot_of(catalog("USD"), &request));
}

#[test]
fn slab_tiers() {
    let request = request("USD", vec![line("storage", "storage", 60)]);
    insta::assert_json_snapshot!("slab_tiers", snapshot_of(catalog("USD"), &request));
}

#[test]
fn term_discount() {
    let mut router = line("router", "router", 2);
    router.term_months = Some(24);
    let mut seats = line("seats", "seats", 12);
    seats.term_months = Some(36);
    let mut request = request("USD", vec![router, seats]);
    request.term_discounts = term_policy();
    insta::assert_json_snapshot!("term_discount", snapshot_of(catalog("USD"), &request));
}

#[test]
fn line_and_quote_discounts() {
    let mut install = line("install", "install", 3);
    install.discounts = vec![
        percent("deal-desk-10", "10", None),
        amount("loyalty-50", "50.00", ChargeKind::OneTime),
    ];
    let mut request = request("USD", vec![install, line("router", "router", 1)]);
    request.quote_discounts = vec![
        percent("quote-2.5", "2.5", None),
        amount("quote-100", "100.00", ChargeKind::OneTime),
    ];
    insta::assert_json_snapshot!(
        "line_and_quote_discounts",
        snapshot_of(catalog("USD"), &request)
    );
}

#[test]
fn manual_override() {
    let mut router = line("router", "router", 2);
    router.term_months = Some(24);
    router.overrides = vec![manual(MONTHLY, "22.50", "20.00")];
    let mut request = request("USD", vec![router]);
    request.term_discounts = term_policy();
    insta::assert_json_snapshot!("manual_override", snapshot_of(catalog("USD"), &request));
}

/// The same quote in currencies with 0, 2 and 3 minor units. 50 % off a one-time price ending
/// in 1 lands exactly on a midpoint, which half-up rounds away from zero (half-even would round
/// JPY 500.5 down to 500); 7.5 % off the monthly price leaves a fraction below the midpoint.
#[test]
fn multi_currency_rounding() {
    for (code, unit, monthly) in [
        ("JPY", "1001", "333"),
        ("USD", "10.01", "3.33"),
        ("KWD", "10.001", "3.333"),
    ] {
        let book = book(
            code,
            vec![
                flat("svc", ChargeKind::OneTime, unit),
                flat("svc", MONTHLY, monthly),
            ],
        );
        let mut svc = line("svc", "svc", 1);
        svc.discounts = vec![percent("half-off", "50", Some(ChargeKind::OneTime))];
        let mut request = request(code, vec![svc]);
        request.quote_discounts = vec![percent("quote-7.5", "7.5", Some(MONTHLY))];
        insta::assert_json_snapshot!(
            format!("rounding_{}", code.to_lowercase()),
            snapshot_of(book, &request)
        );
    }
}

/// The whole priced quote once, to pin the snapshot's shape (what the CPQ service stores): flat,
/// RANGE and SLAB charges, a term discount, line and quote discounts, a quote amount split and a
/// manual override.
#[test]
fn priced_quote_shape() {
    let mut router = line("router", "router", 2);
    router.term_months = Some(24);
    router.discounts = vec![percent("deal-desk-5", "5", None)];
    router.overrides = vec![manual(MONTHLY, "21.38", "19.00")];
    let mut request = request(
        "USD",
        vec![
            router,
            line("seats", "seats", 12),
            line("storage", "storage", 12),
        ],
    );
    request.term_discounts = term_policy();
    request.quote_discounts = vec![amount("quote-10", "10.00", ChargeKind::OneTime)];
    let quote = price_quote(catalog("USD"), &request).unwrap();
    insta::assert_json_snapshot!("priced_quote_shape", quote);
}
