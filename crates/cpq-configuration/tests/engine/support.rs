//! A small catalog and item builders shared by the engine tests.

use cpq_configuration::{
    CharacteristicDefinition, CharacteristicSetting, CharacteristicValue, ItemId, OfferingCatalog,
    OfferingId, OfferingSnapshot, OfferingStatus, QuoteItem, Relationship, RelationshipType,
    ValidationReport, ValueRange, ValueType,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// A deterministic offering id.
pub fn oid(n: u64) -> OfferingId {
    format!("01900000-0000-7000-8000-{n:012x}").parse().unwrap()
}

pub const INTERNET: u64 = 1;
pub const STATIC_IP: u64 = 2;
pub const FIREWALL: u64 = 3;
pub const DSL: u64 = 4;
pub const LEGACY: u64 = 5;
pub const ROUTER: u64 = 6;
pub const IP_BLOCK: u64 = 7;

fn rule(kind: RelationshipType, target: u64, min: u32, max: Option<u32>) -> Relationship {
    Relationship {
        relationship_type: kind,
        target: oid(target),
        min_cardinality: min,
        max_cardinality: max,
    }
}

fn snapshot(
    id: u64,
    characteristics: Vec<CharacteristicDefinition>,
    relationships: Vec<Relationship>,
) -> OfferingSnapshot {
    OfferingSnapshot {
        offering_id: oid(id),
        version: 1,
        status: OfferingStatus::Published,
        characteristics,
        relationships,
    }
}

/// INTERNET: bandwidthMbps (required INTEGER, 100/500/1000, 10..10000), sla (STRING,
/// STANDARD/GOLD, default STANDARD), ratio (DECIMAL 0..1), managed (BOOLEAN), siteName (STRING).
pub fn internet_characteristics() -> Vec<CharacteristicDefinition> {
    let int = CharacteristicValue::Integer;
    let text = |s: &str| CharacteristicValue::String(s.into());
    vec![
        CharacteristicDefinition {
            required: true,
            allowed_values: vec![int(100), int(500), int(1000)],
            range: Some(ValueRange {
                min: Some(Decimal::from(10)),
                max: Some(Decimal::from(10_000)),
            }),
            ..CharacteristicDefinition::new("bandwidthMbps", ValueType::Integer)
        },
        CharacteristicDefinition {
            allowed_values: vec![text("STANDARD"), text("GOLD")],
            default_value: Some(text("STANDARD")),
            ..CharacteristicDefinition::new("sla", ValueType::String)
        },
        CharacteristicDefinition {
            range: Some(ValueRange {
                min: Some(Decimal::ZERO),
                max: Some(Decimal::ONE),
            }),
            ..CharacteristicDefinition::new("ratio", ValueType::Decimal)
        },
        CharacteristicDefinition::new("managed", ValueType::Boolean),
        CharacteristicDefinition::new("siteName", ValueType::String),
    ]
}

/// The test catalog:
/// - STATIC_IP is an add-on of INTERNET, 0..4 per internet instance;
/// - FIREWALL requires INTERNET, at least 1 per firewall instance;
/// - DSL excludes INTERNET (declared on DSL only);
/// - LEGACY is RETIRED;
/// - ROUTER requires INTERNET, at most 1 per router instance (min 0);
/// - IP_BLOCK is an add-on of INTERNET, 2..8 per internet instance.
pub fn catalog() -> OfferingCatalog {
    use RelationshipType::*;
    OfferingCatalog::new([
        snapshot(INTERNET, internet_characteristics(), vec![]),
        snapshot(STATIC_IP, vec![], vec![rule(AddOnOf, INTERNET, 0, Some(4))]),
        snapshot(FIREWALL, vec![], vec![rule(Requires, INTERNET, 1, None)]),
        snapshot(DSL, vec![], vec![rule(Excludes, INTERNET, 0, None)]),
        OfferingSnapshot {
            status: OfferingStatus::Retired,
            ..snapshot(LEGACY, vec![], vec![])
        },
        snapshot(ROUTER, vec![], vec![rule(Requires, INTERNET, 0, Some(1))]),
        snapshot(IP_BLOCK, vec![], vec![rule(AddOnOf, INTERNET, 2, Some(8))]),
    ])
    .unwrap()
}

/// An item of `offering` version 1, quantity 1, no values, no parent.
pub fn item(id: &str, offering: u64) -> QuoteItem {
    QuoteItem {
        id: ItemId::new(id),
        offering_id: oid(offering),
        offering_version: 1,
        quantity: 1,
        characteristics: Vec::new(),
        parent_id: None,
    }
}

/// A valid internet item.
pub fn internet(id: &str) -> QuoteItem {
    item(id, INTERNET).with("bandwidthMbps", json!(500))
}

pub trait ItemExt {
    fn with(self, name: &str, value: Value) -> Self;
    fn qty(self, quantity: i64) -> Self;
    fn parent(self, parent: &str) -> Self;
}

impl ItemExt for QuoteItem {
    fn with(mut self, name: &str, value: Value) -> Self {
        self.characteristics
            .push(CharacteristicSetting::new(name, value));
        self
    }

    fn qty(mut self, quantity: i64) -> Self {
        self.quantity = quantity;
        self
    }

    fn parent(mut self, parent: &str) -> Self {
        self.parent_id = Some(ItemId::new(parent));
        self
    }
}

/// Codes of the item at `index`, in report order.
pub fn codes(report: &ValidationReport, index: usize) -> Vec<&'static str> {
    report.items[index]
        .violations()
        .iter()
        .map(|v| v.code.as_str())
        .collect()
}

/// Every code in the report, sorted.
pub fn all_codes(report: &ValidationReport) -> Vec<&'static str> {
    let mut all: Vec<&str> = report.violations().map(|v| v.code.as_str()).collect();
    all.sort_unstable();
    all
}
