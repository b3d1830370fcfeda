//! Property tests over generated specifications and quotes.

use std::collections::BTreeMap;

use cpq_configuration::{
    CharacteristicDefinition, CharacteristicSetting, CharacteristicValue, ItemId, ItemStatus,
    OfferingCatalog, OfferingSnapshot, OfferingStatus, QuoteItem, ValueRange, ValueType,
    validate_quote,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::*;

/// A generated characteristic with a valid value for it and, where the definition allows,
/// well-typed values that break its allowed values or its range.
#[derive(Debug, Clone)]
struct Generated {
    definition: CharacteristicDefinition,
    valid: Value,
    omit: bool,
    out_of_range: Option<Value>,
    not_allowed: Option<Value>,
}

fn dedup<T: PartialEq>(values: Vec<T>) -> Vec<T> {
    let mut out = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// INTEGER (`scale` 0) or DECIMAL (`scale` 2) over a small inclusive range.
fn numeric(value_type: ValueType) -> impl Strategy<Value = Generated> {
    (
        -100_000i64..100_000,
        0i64..40,
        any::<bool>(),
        proptest::collection::vec(0i64..40, 1..5),
        any::<prop::sample::Index>(),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(
            move |(lo, span, use_allowed, picks, pick, (required, with_default, omit))| {
                let hi = lo + span;
                let typed = |n: i64| match value_type {
                    ValueType::Decimal => CharacteristicValue::decimal(Decimal::new(n, 2)),
                    _ => CharacteristicValue::Integer(n),
                };
                let bound = |n: i64| match value_type {
                    ValueType::Decimal => Decimal::new(n, 2),
                    _ => Decimal::from(n),
                };
                let allowed: Vec<i64> = if use_allowed {
                    dedup(picks.iter().map(|p| lo + p % (span + 1)).collect())
                } else {
                    Vec::new()
                };
                let candidates: Vec<i64> = if allowed.is_empty() {
                    (lo..=hi).collect()
                } else {
                    allowed.clone()
                };
                let value = *pick.get(&candidates);
                let not_allowed = (!allowed.is_empty())
                    .then(|| (lo..=hi).find(|n| !allowed.contains(n)).unwrap_or(hi + 1));
                Generated {
                    definition: CharacteristicDefinition {
                        required,
                        allowed_values: allowed.iter().map(|n| typed(*n)).collect(),
                        range: Some(ValueRange {
                            min: Some(bound(lo)),
                            max: Some(bound(hi)),
                        }),
                        default_value: with_default.then(|| typed(candidates[0])),
                        ..CharacteristicDefinition::new("", value_type)
                    },
                    valid: typed(value).to_json(),
                    omit,
                    out_of_range: Some(typed(hi + 1).to_json()),
                    not_allowed: not_allowed.map(|n| typed(n).to_json()),
                }
            },
        )
}

fn string() -> impl Strategy<Value = Generated> {
    (
        proptest::collection::vec("[A-Z]{1,6}", 0..5),
        "[a-z ]{0,20}",
        any::<prop::sample::Index>(),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(|(allowed, free, pick, (required, with_default, omit))| {
            let allowed = dedup(allowed);
            let value = if allowed.is_empty() {
                free
            } else {
                pick.get(&allowed).clone()
            };
            Generated {
                definition: CharacteristicDefinition {
                    required,
                    default_value: with_default.then(|| {
                        CharacteristicValue::String(allowed.first().cloned().unwrap_or_default())
                    }),
                    allowed_values: allowed
                        .iter()
                        .map(|s| CharacteristicValue::String(s.clone()))
                        .collect(),
                    ..CharacteristicDefinition::new("", ValueType::String)
                },
                valid: json!(value),
                omit,
                out_of_range: None,
                not_allowed: (!allowed.is_empty()).then(|| json!("not-an-allowed-value")),
            }
        })
}

fn boolean() -> impl Strategy<Value = Generated> {
    any::<(bool, bool, bool, bool)>().prop_map(|(value, required, with_default, omit)| Generated {
        definition: CharacteristicDefinition {
            required,
            default_value: with_default.then_some(CharacteristicValue::Boolean(false)),
            ..CharacteristicDefinition::new("", ValueType::Boolean)
        },
        valid: json!(value),
        omit,
        out_of_range: None,
        not_allowed: None,
    })
}

fn characteristic() -> impl Strategy<Value = Generated> {
    prop_oneof![
        numeric(ValueType::Integer),
        numeric(ValueType::Decimal),
        string(),
        boolean(),
    ]
}

/// A specification of 1–8 characteristics `c0…`; `c0` is required without default, so it is
/// always set and its removal is always a violation.
fn specification() -> impl Strategy<Value = Vec<Generated>> {
    proptest::collection::vec(characteristic(), 1..8).prop_map(|mut generated| {
        for (k, g) in generated.iter_mut().enumerate() {
            g.definition.name = format!("c{k}");
            if k == 0 {
                g.definition.required = true;
                g.definition.default_value = None;
            }
            if g.definition.required && g.definition.default_value.is_none() {
                g.omit = false;
            }
        }
        generated
    })
}

fn catalog_of(spec: &[Generated]) -> OfferingCatalog {
    OfferingCatalog::new([OfferingSnapshot {
        offering_id: oid(100),
        version: 1,
        status: OfferingStatus::Published,
        characteristics: spec.iter().map(|g| g.definition.clone()).collect(),
        relationships: Vec::new(),
    }])
    .unwrap()
}

fn item_of(spec: &[Generated], order: &[usize]) -> QuoteItem {
    QuoteItem {
        id: ItemId::new("item"),
        offering_id: oid(100),
        offering_version: 1,
        quantity: 1,
        characteristics: order
            .iter()
            .map(|&k| &spec[k])
            .filter(|g| !g.omit)
            .map(|g| CharacteristicSetting::new(g.definition.name.clone(), g.valid.clone()))
            .collect(),
        parent_id: None,
    }
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    Remove,
    WrongType,
    OutOfRange,
    NotAllowed,
}

/// A quote item drawn from the shared test catalog, with a random parent among `0..n`.
fn random_item(n: usize) -> impl Strategy<Value = (u64, i64, Option<usize>, Value)> {
    (
        prop::sample::select(vec![
            INTERNET, STATIC_IP, FIREWALL, DSL, LEGACY, ROUTER, IP_BLOCK, 99,
        ]),
        0i64..4,
        proptest::option::of(0..n),
        prop::sample::select(vec![json!(100), json!(500), json!(200), json!("x")]),
    )
}

proptest! {
    /// Any value the generated definition allows validates VALID, and the hash does not depend
    /// on the order the values were sent in.
    #[test]
    fn valid_configurations_validate(
        (spec, order) in specification().prop_flat_map(|spec| {
            let n = spec.len();
            (Just(spec), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
    ) {
        let catalog = catalog_of(&spec);
        let natural: Vec<usize> = (0..spec.len()).collect();
        let report = validate_quote(&catalog, &[item_of(&spec, &natural)]);
        prop_assert!(report.is_valid(), "{:#?}", report.items[0].violations());
        let shuffled = validate_quote(&catalog, &[item_of(&spec, &order)]);
        prop_assert_eq!(report.items[0].hash(), shuffled.items[0].hash());
    }

    /// Breaking the required characteristic `c0` makes the item INVALID with the code that
    /// names the breach, and only violations of `c0` are reported.
    #[test]
    fn a_broken_required_value_is_reported(
        spec in specification(),
        mutation in prop::sample::select(vec![Mutation::Remove, Mutation::WrongType, Mutation::OutOfRange, Mutation::NotAllowed]),
    ) {
        let natural: Vec<usize> = (0..spec.len()).collect();
        let mut item = item_of(&spec, &natural);
        let c0 = &spec[0];
        let (replacement, expected) = match mutation {
            Mutation::WrongType => (Some(json!([])), "VALUE_TYPE_MISMATCH"),
            Mutation::OutOfRange if c0.out_of_range.is_some() => (c0.out_of_range.clone(), "VALUE_OUT_OF_RANGE"),
            Mutation::NotAllowed if c0.not_allowed.is_some() => (c0.not_allowed.clone(), "VALUE_NOT_ALLOWED"),
            _ => (None, "CHARACTERISTIC_REQUIRED"),
        };
        match replacement {
            Some(value) => item.characteristics[0].value = value,
            None => { item.characteristics.remove(0); }
        }
        let report = validate_quote(&catalog_of(&spec), &[item]);
        prop_assert_eq!(report.items[0].status(), ItemStatus::Invalid);
        let codes = codes(&report, 0);
        prop_assert!(codes.contains(&expected), "{:?} lacks {}", codes, expected);
        for v in report.items[0].violations() {
            prop_assert_eq!(&v.path, "/items/0/characteristics/c0");
            prop_assert!(
                v.code.as_str() == expected || matches!(v.code.as_str(), "VALUE_NOT_ALLOWED" | "VALUE_OUT_OF_RANGE"),
                "unexpected {}", v.code
            );
        }
    }

    /// The violations found for each item do not depend on the order of the items: no rule
    /// (EXCLUDES included) blames "the later one".
    #[test]
    fn item_order_does_not_change_the_findings(
        (raw, order) in (1usize..12).prop_flat_map(|n| {
            (proptest::collection::vec(random_item(n), n), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
    ) {
        let items: Vec<QuoteItem> = raw
            .iter()
            .enumerate()
            .map(|(i, (offering, quantity, parent, bandwidth))| {
                let mut it = item(&format!("i{i}"), *offering).qty(*quantity);
                if *offering == INTERNET {
                    it = it.with("bandwidthMbps", bandwidth.clone());
                }
                if let Some(p) = parent {
                    it = it.parent(&format!("i{p}"));
                }
                it
            })
            .collect();
        let shuffled: Vec<QuoteItem> = order.iter().map(|&k| items[k].clone()).collect();
        let findings = |items: &[QuoteItem]| -> BTreeMap<String, Vec<(String, &'static str)>> {
            let report = validate_quote(&catalog(), items);
            report
                .items
                .iter()
                .enumerate()
                .map(|(i, outcome)| {
                    let prefix = format!("/items/{i}");
                    let mut found: Vec<(String, &'static str)> = outcome
                        .violations()
                        .iter()
                        .map(|v| (v.path.trim_start_matches(&prefix).to_owned(), v.code.as_str()))
                        .collect();
                    found.sort();
                    (outcome.item_id.to_string(), found)
                })
                .collect()
        };
        prop_assert_eq!(findings(&items), findings(&shuffled));
    }
}
