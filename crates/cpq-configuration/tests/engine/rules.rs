//! One test per violation code, plus whole-quote reporting.

use cpq_configuration::{ItemId, ItemStatus, QuoteItem, ViolationCode, validate_quote};
use serde_json::json;

use crate::support::*;

fn single_violation(
    items: &[cpq_configuration::QuoteItem],
    index: usize,
) -> cpq_configuration::Violation {
    let report = validate_quote(&catalog(), items);
    let violations = report.items[index].violations();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    violations[0].clone()
}

#[test]
fn a_sound_quote_is_valid_with_hashes() {
    let items = [
        internet("net")
            .with("sla", json!("GOLD"))
            .with("ratio", json!("0.25")),
        item("ip", STATIC_IP).parent("net").qty(4),
        item("fw", FIREWALL),
        item("router", ROUTER),
    ];
    let report = validate_quote(&catalog(), &items);
    assert!(
        report.is_valid(),
        "{:#?}",
        report.violations().collect::<Vec<_>>()
    );
    for outcome in &report.items {
        assert_eq!(outcome.status(), ItemStatus::Valid);
        assert_eq!(outcome.hash().map(|h| h.as_str().len()), Some(64));
    }
}

#[test]
fn no_items() {
    let report = validate_quote(&catalog(), &[]);
    assert!(!report.is_valid());
    let [v] = report.quote_violations.as_slice() else {
        panic!("{:?}", report.quote_violations)
    };
    assert_eq!(v.code, ViolationCode::NoItems);
    assert_eq!(v.item_id, None);
    assert_eq!(v.path, "/items");
}

#[test]
fn duplicate_item_id_flags_every_holder() {
    let report = validate_quote(&catalog(), &[internet("a"), internet("a"), internet("b")]);
    assert_eq!(codes(&report, 0), ["DUPLICATE_ITEM_ID"]);
    assert_eq!(codes(&report, 1), ["DUPLICATE_ITEM_ID"]);
    assert_eq!(codes(&report, 2), Vec::<&str>::new());
    let v = &report.items[1].violations()[0];
    assert_eq!(v.path, "/items/1/id");
    assert_eq!(v.details["occurrences"], json!(2));
}

#[test]
fn quantity_below_one() {
    for quantity in [0, -3] {
        let v = single_violation(&[internet("a").qty(quantity)], 0);
        assert_eq!(v.code, ViolationCode::QuantityInvalid);
        assert_eq!(v.path, "/items/0/quantity");
        assert_eq!(v.details["actual"], json!(quantity));
    }
}

#[test]
fn parent_not_found() {
    let v = single_violation(&[internet("net"), item("ip", STATIC_IP).parent("nope")], 1);
    assert_eq!(v.code, ViolationCode::ParentNotFound);
    assert_eq!(v.path, "/items/1/parentId");
    assert_eq!(v.item_id, Some(ItemId::new("ip")));
}

#[test]
fn parent_cycles_include_self_references() {
    let own = single_violation(&[internet("net"), item("ip", STATIC_IP).parent("ip")], 1);
    assert_eq!(own.code, ViolationCode::ParentCycle);
    assert_eq!(own.details["cycle"], json!(["ip"]));

    let report = validate_quote(
        &catalog(),
        &[
            item("x", STATIC_IP).parent("y"),
            item("y", STATIC_IP).parent("z"),
            item("z", STATIC_IP).parent("x"),
            item("tail", STATIC_IP).parent("x"),
        ],
    );
    for i in 0..3 {
        assert_eq!(codes(&report, i), ["PARENT_CYCLE"], "item {i}");
    }
    assert_eq!(
        report.items[1].violations()[0].details["cycle"],
        json!(["y", "z", "x"])
    );
    assert_eq!(
        codes(&report, 3),
        ["ADD_ON_PARENT_MISMATCH"],
        "the tail is not in the cycle; its parent is simply the wrong offering"
    );
}

#[test]
fn parent_not_allowed_for_non_add_ons() {
    let v = single_violation(&[internet("a"), internet("b").parent("a")], 1);
    assert_eq!(v.code, ViolationCode::ParentNotAllowed);
    assert_eq!(v.details["parentId"], json!("a"));
}

#[test]
fn offering_not_found() {
    let mut unknown_version = internet("a");
    unknown_version.offering_version = 9;
    let v = single_violation(&[unknown_version, item("b", 999)], 0);
    assert_eq!(v.code, ViolationCode::OfferingNotFound);
    assert_eq!(v.path, "/items/0/offeringVersion");
    assert_eq!(v.details["offeringVersion"], json!(9));
}

#[test]
fn offering_not_sellable() {
    let v = single_violation(&[item("old", LEGACY)], 0);
    assert_eq!(v.code, ViolationCode::OfferingNotSellable);
    assert_eq!(v.details["actual"], json!("RETIRED"));
    assert_eq!(v.details["expected"], json!("PUBLISHED"));
}

#[test]
fn characteristic_required() {
    let v = single_violation(&[item("a", INTERNET).with("sla", json!("GOLD"))], 0);
    assert_eq!(v.code, ViolationCode::CharacteristicRequired);
    assert_eq!(v.path, "/items/0/characteristics/bandwidthMbps");
    assert_eq!(v.details["valueType"], json!("INTEGER"));
}

#[test]
fn characteristic_unknown() {
    let v = single_violation(&[internet("a").with("colour", json!("red"))], 0);
    assert_eq!(v.code, ViolationCode::CharacteristicUnknown);
    assert_eq!(v.path, "/items/0/characteristics/colour");
}

#[test]
fn characteristic_duplicate() {
    let v = single_violation(&[internet("a").with("bandwidthMbps", json!(100))], 0);
    assert_eq!(v.code, ViolationCode::CharacteristicDuplicate);
    assert_eq!(v.path, "/items/0/characteristics/bandwidthMbps");
}

#[test]
fn value_type_mismatch() {
    for wrong in [json!("500"), json!(500.0), json!(null), json!([500])] {
        let v = single_violation(
            &[item("a", INTERNET).with("bandwidthMbps", wrong.clone())],
            0,
        );
        assert_eq!(v.code, ViolationCode::ValueTypeMismatch, "{wrong}");
        assert_eq!(v.details["expected"], json!("INTEGER"));
    }
    let v = single_violation(&[internet("a").with("ratio", json!(0.5))], 0);
    assert_eq!(
        v.code,
        ViolationCode::ValueTypeMismatch,
        "floats are never decimals"
    );
    assert_eq!(v.details["actual"], json!("float"));
}

#[test]
fn value_invalid_text() {
    let v = single_violation(&[internet("a").with("siteName", json!("line\nbreak"))], 0);
    assert_eq!(v.code, ViolationCode::ValueInvalid);
    let v = single_violation(
        &[internet("a").with("siteName", json!("x".repeat(1001)))],
        0,
    );
    assert_eq!(v.code, ViolationCode::ValueInvalid);
}

#[test]
fn value_not_allowed() {
    let v = single_violation(&[item("a", INTERNET).with("bandwidthMbps", json!(200))], 0);
    assert_eq!(v.code, ViolationCode::ValueNotAllowed);
    assert_eq!(v.details["expected"], json!([100, 500, 1000]));
    assert_eq!(v.details["actual"], json!(200));
}

#[test]
fn value_out_of_range_with_inclusive_bounds() {
    for inside in ["0", "1", "1.000", "0.5"] {
        let report = validate_quote(&catalog(), &[internet("a").with("ratio", json!(inside))]);
        assert!(report.is_valid(), "{inside} is inside [0, 1]");
    }
    for outside in ["-0.01", "1.0001"] {
        let v = single_violation(&[internet("a").with("ratio", json!(outside))], 0);
        assert_eq!(v.code, ViolationCode::ValueOutOfRange, "{outside}");
        assert_eq!(v.details["min"], json!("0"));
        assert_eq!(v.details["max"], json!("1"));
    }
    let report = validate_quote(
        &catalog(),
        &[item("a", INTERNET).with("bandwidthMbps", json!(20_000))],
    );
    assert_eq!(
        codes(&report, 0),
        ["VALUE_NOT_ALLOWED", "VALUE_OUT_OF_RANGE"],
        "both broken rules are reported"
    );
}

#[test]
fn requires_missing() {
    let v = single_violation(&[item("fw", FIREWALL)], 0);
    assert_eq!(v.code, ViolationCode::RequiresMissing);
    assert_eq!(v.path, "/items/0/offeringId");
    assert_eq!(
        v.details["targetOfferingId"],
        json!(oid(INTERNET).to_string())
    );
    let v = single_violation(&[item("router", ROUTER)], 0);
    assert_eq!(
        v.code,
        ViolationCode::RequiresMissing,
        "REQUIRES with min 0 still needs the target in the quote"
    );
    assert_eq!(v.details["expectedMin"], json!(1));
}

#[test]
fn requires_cardinality_below_min_counts_instances() {
    let items = [item("fw", FIREWALL).qty(3), internet("n1"), internet("n2")];
    let v = single_violation(&items, 0);
    assert_eq!(v.code, ViolationCode::CardinalityBelowMin);
    assert_eq!(v.details["expectedMin"], json!(3));
    assert_eq!(v.details["actual"], json!(2));
    let report = validate_quote(
        &catalog(),
        &[item("fw", FIREWALL).qty(2), internet("n1").qty(2)],
    );
    assert!(
        report.is_valid(),
        "two internet instances serve two firewall instances"
    );
}

#[test]
fn requires_cardinality_exceeded() {
    let v = single_violation(&[item("router", ROUTER), internet("n1"), internet("n2")], 0);
    assert_eq!(v.code, ViolationCode::CardinalityExceeded);
    assert_eq!(v.details["expectedMax"], json!(1));
    assert_eq!(v.details["actual"], json!(2));
}

#[test]
fn excluded_combination_flags_both_sides() {
    let report = validate_quote(
        &catalog(),
        &[internet("net"), item("dsl", DSL), internet("net2")],
    );
    for i in 0..3 {
        assert_eq!(codes(&report, i), ["EXCLUDED_COMBINATION"], "item {i}");
    }
    let on_internet = &report.items[0].violations()[0];
    assert_eq!(
        on_internet.details["excludedOfferingId"],
        json!(oid(DSL).to_string())
    );
    assert_eq!(on_internet.details["conflictingItemId"], json!("dsl"));
    assert_eq!(
        report.items[1].violations()[0].details["conflictingItemId"],
        json!("net"),
        "the first item of the partner offering"
    );
}

#[test]
fn add_on_without_parent() {
    let v = single_violation(&[internet("net"), item("ip", STATIC_IP)], 1);
    assert_eq!(v.code, ViolationCode::AddOnWithoutParent);
    assert_eq!(
        v.details["expectedParentOfferingIds"],
        json!([oid(INTERNET).to_string()])
    );
}

#[test]
fn add_on_parent_mismatch() {
    let items = [
        internet("net"),
        item("fw", FIREWALL),
        item("ip", STATIC_IP).parent("fw"),
    ];
    let v = single_violation(&items, 2);
    assert_eq!(v.code, ViolationCode::AddOnParentMismatch);
    assert_eq!(v.details["actual"], json!(oid(FIREWALL).to_string()));
}

#[test]
fn add_on_cardinality_counts_per_parent_instance() {
    let over = [
        internet("net"),
        item("ip1", STATIC_IP).parent("net").qty(3),
        item("ip2", STATIC_IP).parent("net").qty(2),
    ];
    let report = validate_quote(&catalog(), &over);
    assert_eq!(codes(&report, 1), ["CARDINALITY_EXCEEDED"]);
    assert_eq!(codes(&report, 2), ["CARDINALITY_EXCEEDED"]);
    let v = &report.items[1].violations()[0];
    assert_eq!(v.path, "/items/1/quantity");
    assert_eq!(v.details["expectedMax"], json!(4));
    assert_eq!(v.details["actual"], json!(5));

    let mut doubled = over.clone();
    doubled[0] = internet("net").qty(2);
    assert!(
        validate_quote(&catalog(), &doubled).is_valid(),
        "5 <= 4 x 2"
    );

    let split = [
        internet("a"),
        internet("b"),
        item("ip1", STATIC_IP).parent("a").qty(4),
        item("ip2", STATIC_IP).parent("b").qty(4),
    ];
    assert!(
        validate_quote(&catalog(), &split).is_valid(),
        "counted per parent item"
    );

    let under = [internet("net"), item("block", IP_BLOCK).parent("net")];
    let v = single_violation(&under, 1);
    assert_eq!(v.code, ViolationCode::CardinalityBelowMin);
    assert_eq!(v.details["expectedMin"], json!(2));
}

/// Every code has a test above that produces it; this guards against a new code without one.
#[test]
fn every_code_is_covered() {
    let covered = [
        "NO_ITEMS",
        "DUPLICATE_ITEM_ID",
        "QUANTITY_INVALID",
        "PARENT_NOT_FOUND",
        "PARENT_CYCLE",
        "PARENT_NOT_ALLOWED",
        "OFFERING_NOT_FOUND",
        "OFFERING_NOT_SELLABLE",
        "CHARACTERISTIC_REQUIRED",
        "CHARACTERISTIC_UNKNOWN",
        "CHARACTERISTIC_DUPLICATE",
        "VALUE_TYPE_MISMATCH",
        "VALUE_INVALID",
        "VALUE_NOT_ALLOWED",
        "VALUE_OUT_OF_RANGE",
        "REQUIRES_MISSING",
        "CARDINALITY_BELOW_MIN",
        "CARDINALITY_EXCEEDED",
        "EXCLUDED_COMBINATION",
        "ADD_ON_WITHOUT_PARENT",
        "ADD_ON_PARENT_MISMATCH",
    ];
    let mut all: Vec<&str> = ViolationCode::ALL.iter().map(|c| c.as_str()).collect();
    all.sort_unstable();
    let mut covered = covered.to_vec();
    covered.sort_unstable();
    assert_eq!(all, covered);
}

#[test]
fn a_quote_with_many_problems_reports_all_of_them() {
    let items = [
        // 0: wrong type, unknown characteristic, value not allowed on sla.
        item("net", INTERNET)
            .with("bandwidthMbps", json!("fast"))
            .with("colour", json!("red"))
            .with("sla", json!("PLATINUM")),
        // 1: add-on without parent.
        item("ip", STATIC_IP),
        // 2: requires internet: satisfied by item 0 (validity of 0 does not matter).
        item("fw", FIREWALL).qty(0),
        // 3: retired, and a duplicate id of item 4.
        item("dup", LEGACY),
        // 4: unknown version and duplicate id.
        QuoteItem {
            offering_version: 7,
            ..item("dup", INTERNET)
        },
        // 5: excludes internet (items 0 and 4 are internet).
        item("dsl", DSL),
    ];
    let report = validate_quote(&catalog(), &items);
    assert!(!report.is_valid());
    assert_eq!(
        codes(&report, 0),
        [
            "VALUE_TYPE_MISMATCH",
            "CHARACTERISTIC_UNKNOWN",
            "VALUE_NOT_ALLOWED",
            "EXCLUDED_COMBINATION"
        ],
        "ordered by path: bandwidthMbps, colour, sla, offeringId"
    );
    assert_eq!(codes(&report, 1), ["ADD_ON_WITHOUT_PARENT"]);
    assert_eq!(codes(&report, 2), ["QUANTITY_INVALID"]);
    assert_eq!(
        codes(&report, 3),
        ["DUPLICATE_ITEM_ID", "OFFERING_NOT_SELLABLE"]
    );
    assert_eq!(
        codes(&report, 4),
        [
            "DUPLICATE_ITEM_ID",
            "EXCLUDED_COMBINATION",
            "OFFERING_NOT_FOUND"
        ]
    );
    assert_eq!(codes(&report, 5), ["EXCLUDED_COMBINATION"]);
    assert_eq!(report.violations().count(), 12);
    assert_eq!(
        all_codes(&report),
        [
            "ADD_ON_WITHOUT_PARENT",
            "CHARACTERISTIC_UNKNOWN",
            "DUPLICATE_ITEM_ID",
            "DUPLICATE_ITEM_ID",
            "EXCLUDED_COMBINATION",
            "EXCLUDED_COMBINATION",
            "EXCLUDED_COMBINATION",
            "OFFERING_NOT_FOUND",
            "OFFERING_NOT_SELLABLE",
            "QUANTITY_INVALID",
            "VALUE_NOT_ALLOWED",
            "VALUE_TYPE_MISMATCH",
        ]
    );
}
