//! The configuration hash identifies a configuration: same configuration, same hash, byte for
//! byte; any change to it, a different hash.

use cpq_configuration::{ConfigurationHash, QuoteItem, validate_quote};
use serde_json::json;

use crate::support::*;

fn configured() -> QuoteItem {
    item("net", INTERNET)
        .with("bandwidthMbps", json!(500))
        .with("sla", json!("GOLD"))
        .with("ratio", json!("0.50"))
        .with("managed", json!(true))
        .with("siteName", json!("Main St. 1"))
}

fn hash_of(items: &[QuoteItem], index: usize) -> ConfigurationHash {
    let report = validate_quote(&catalog(), items);
    report.items[index]
        .hash()
        .cloned()
        .unwrap_or_else(|| panic!("{:#?}", report.items[index]))
}

#[test]
fn revalidating_yields_the_same_hash() {
    let first = hash_of(&[configured()], 0);
    let second = hash_of(&[configured()], 0);
    assert_eq!(first, second);
}

#[test]
fn characteristic_order_does_not_matter() {
    let base = hash_of(&[configured()], 0);
    let mut item = configured();
    let n = item.characteristics.len();
    for rotation in 1..n {
        item.characteristics.rotate_left(1);
        assert_eq!(hash_of(&[item.clone()], 0), base, "rotation {rotation}");
    }
    item.characteristics.reverse();
    assert_eq!(hash_of(&[item], 0), base);
}

#[test]
fn equal_values_in_other_spellings_hash_alike() {
    let base = hash_of(&[configured()], 0);
    let mut item = configured();
    item.characteristics[2].value = json!(" 0.5 ");
    assert_eq!(hash_of(&[item], 0), base, "decimals are normalised");
}

#[test]
fn changing_any_value_changes_the_hash() {
    let base = hash_of(&[configured()], 0);
    let alternatives = [
        json!(1000),
        json!("STANDARD"),
        json!("0.51"),
        json!(false),
        json!("Main St. 2"),
    ];
    for (k, alternative) in alternatives.into_iter().enumerate() {
        let mut item = configured();
        item.characteristics[k].value = alternative.clone();
        assert_ne!(
            hash_of(&[item], 0),
            base,
            "{} = {alternative}",
            configured().characteristics[k].name
        );
    }
    assert_ne!(
        hash_of(&[configured().qty(2)], 0),
        base,
        "quantity is configuration"
    );
    let mut dropped = configured();
    dropped.characteristics.retain(|c| c.name != "siteName");
    assert_ne!(hash_of(&[dropped], 0), base, "an optional value left out");
}

#[test]
fn defaults_are_part_of_the_configuration() {
    let explicit = item("a", INTERNET)
        .with("bandwidthMbps", json!(100))
        .with("sla", json!("STANDARD"));
    let implicit = item("b", INTERNET).with("bandwidthMbps", json!(100));
    let report = validate_quote(&catalog(), &[explicit, implicit]);
    assert_eq!(report.items[0].hash(), report.items[1].hash());
    let cpq_configuration::ItemResult::Valid(valid) = &report.items[1].result else {
        panic!("invalid")
    };
    assert_eq!(
        valid.configuration.characteristics.get("sla"),
        Some(&cpq_configuration::CharacteristicValue::String(
            "STANDARD".into()
        ))
    );
}

#[test]
fn identities_are_not_configuration_but_the_parent_offering_is() {
    let quote = [
        internet("n1"),
        internet("n2"),
        item("ip1", STATIC_IP).parent("n1"),
        item("ip2", STATIC_IP).parent("n2"),
        item("fw", FIREWALL),
    ];
    let report = validate_quote(&catalog(), &quote);
    assert!(report.is_valid());
    assert_eq!(
        report.items[0].hash(),
        report.items[1].hash(),
        "item ids are not hashed"
    );
    assert_eq!(
        report.items[2].hash(),
        report.items[3].hash(),
        "parent item ids are not hashed"
    );

    let mut reordered = quote.to_vec();
    reordered.reverse();
    let again = validate_quote(&catalog(), &reordered);
    assert_eq!(
        again.items[4].hash(),
        report.items[0].hash(),
        "item order does not matter"
    );
    assert_eq!(again.items[2].hash(), report.items[2].hash());

    let cpq_configuration::ItemResult::Valid(add_on) = &report.items[2].result else {
        panic!("invalid")
    };
    assert_eq!(add_on.configuration.parent_offering_id, Some(oid(INTERNET)));
    let mut detached = add_on.configuration.clone();
    detached.parent_offering_id = None;
    assert_ne!(detached.hash(), add_on.hash);
    assert_eq!(
        add_on.configuration.hash(),
        add_on.hash,
        "the snapshot re-hashes to its hash"
    );
}

#[test]
fn invalid_items_have_no_hash() {
    let report = validate_quote(&catalog(), &[item("net", INTERNET)]);
    assert_eq!(report.items[0].hash(), None);
}
