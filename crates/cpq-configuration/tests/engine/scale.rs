//! 10,000 items validate without quadratic work (no timing asserts: the engine indexes
//! offerings and counts instances; this checks the results at that size stay right).

use std::collections::HashSet;

use cpq_configuration::{ItemStatus, QuoteItem, ViolationCode, validate_quote};
use serde_json::json;

use crate::support::*;

/// 2,500 each of internet (distinct bandwidth/site), static IP attached to its internet,
/// firewall and router.
fn big_quote() -> Vec<QuoteItem> {
    let mut items = Vec::with_capacity(10_000);
    for i in 0..2_500 {
        items.push(
            internet(&format!("net-{i}"))
                .with("siteName", json!(format!("site {i}")))
                .with("sla", json!(if i % 2 == 0 { "GOLD" } else { "STANDARD" })),
        );
        items.push(
            item(&format!("ip-{i}"), STATIC_IP)
                .parent(&format!("net-{i}"))
                .qty(4),
        );
        items.push(item(&format!("fw-{i}"), FIREWALL));
        items.push(item(&format!("router-{i}"), ROUTER));
    }
    items
}

#[test]
fn ten_thousand_valid_items() {
    let items = big_quote();
    let report = validate_quote(&catalog(), &items);
    assert_eq!(report.items.len(), 10_000);
    assert!(report.is_valid());
    let distinct: HashSet<_> = report.items.iter().filter_map(|o| o.hash()).collect();
    // 2,500 distinct internet configurations + one each for static IP, firewall, router.
    assert_eq!(distinct.len(), 2_503);
}

#[test]
fn ten_thousand_items_with_a_violation_each() {
    let mut items = big_quote();
    items.push(item("dsl", DSL));
    let report = validate_quote(&catalog(), &items);
    assert_eq!(
        report
            .items
            .iter()
            .filter(|o| o.status() == ItemStatus::Invalid)
            .count(),
        2_501,
        "every internet item and the DSL item"
    );
    // ROUTER allows at most 1 internet instance per router instance: 2,501 for 2,500 routers
    // exceeds it, reported on every router item.
    let mut items = big_quote();
    items.push(internet("extra"));
    let report = validate_quote(&catalog(), &items);
    let exceeded = report
        .violations()
        .filter(|v| v.code == ViolationCode::CardinalityExceeded)
        .count();
    assert_eq!(exceeded, 2_500);
}
