//! Quote items: what a seller asks for ([`ItemDraft`]), its field checks, and the configured
//! item a revision holds ([`QuoteItem`]), whose configuration is VALID, INVALID or FROZEN.

use std::collections::HashSet;

use cpq_configuration::config_state::ConfigurationStatus;
use cpq_configuration::{
    CharacteristicSetting, ItemId, ItemResult, OfferingCatalog, OfferingId, ValidationReport,
    Violation, validate_quote,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::input::{InputViolation, Violations};

/// Most items one request may carry; larger quotes are split by the client.
pub const MAX_ITEMS: usize = 1_000;
/// Longest commitment term, in months.
pub const MAX_TERM_MONTHS: i32 = 120;

/// One item as a seller requests it, before the catalog and the configuration engine saw it.
#[derive(Debug, Clone)]
pub struct ItemDraft {
    /// Client item id (default: its 1-based position).
    pub id: Option<String>,
    /// Offering.
    pub offering_id: OfferingId,
    /// Offering version; the published one when absent.
    pub offering_version: Option<i32>,
    /// Units (at least 1).
    pub quantity: i64,
    /// Commitment term in months.
    pub term_months: Option<i32>,
    /// Seller's line discount, percent.
    pub discount_percent: Option<Decimal>,
    /// Characteristic values by name.
    pub characteristics: Map<String, Value>,
    /// Parent item id (add-ons).
    pub parent_id: Option<String>,
}

impl ItemDraft {
    /// The item id: the client's, or the 1-based position.
    pub fn item_id(&self, index: usize) -> String {
        self.id.clone().unwrap_or_else(|| (index + 1).to_string())
    }
}

/// Field checks that need no catalog: count, shape, bounds, unique ids. `require_some` refuses
/// an empty list (replacing items; a new quote may start without any).
pub fn check_drafts(items: &[ItemDraft], require_some: bool) -> Result<(), Vec<InputViolation>> {
    if items.len() > MAX_ITEMS {
        return Err(vec![InputViolation::new(
            "/items",
            "TOO_MANY_ITEMS",
            format!(
                "a request carries at most {MAX_ITEMS} items; it had {}",
                items.len()
            ),
        )]);
    }
    let mut found = Violations::default();
    if require_some && items.is_empty() {
        found.push("/items", "REQUIRED", "a quote needs at least one item");
    }
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let id = item.item_id(i);
        if id.trim().is_empty() || id.chars().count() > 64 || id.chars().any(char::is_control) {
            found.push(
                format!("/items/{i}/id"),
                "INVALID",
                "an item id has 1-64 printable characters",
            );
        } else if !seen.insert(id.clone()) {
            found.push(
                format!("/items/{i}/id"),
                "DUPLICATE_ITEM_ID",
                format!("item id {id} is used twice"),
            );
        }
        if item.quantity < 1 {
            found.push(
                format!("/items/{i}/quantity"),
                "QUANTITY_INVALID",
                "the quantity must be at least 1",
            );
        }
        if item.offering_version.is_some_and(|v| v < 1) {
            found.push(
                format!("/items/{i}/offeringVersion"),
                "OUT_OF_RANGE",
                "versions start at 1",
            );
        }
        if item
            .term_months
            .is_some_and(|t| !(1..=MAX_TERM_MONTHS).contains(&t))
        {
            found.push(
                format!("/items/{i}/termMonths"),
                "OUT_OF_RANGE",
                format!("the term is 1-{MAX_TERM_MONTHS} months"),
            );
        }
        if item
            .discount_percent
            .is_some_and(|d| d < Decimal::ZERO || d > Decimal::ONE_HUNDRED)
        {
            found.push(
                format!("/items/{i}/discountPercent"),
                "OUT_OF_RANGE",
                "a discount is 0-100 percent",
            );
        }
        if item.parent_id.as_deref() == Some(id.as_str()) {
            found.push(
                format!("/items/{i}/parentId"),
                "PARENT_CYCLE",
                "an item cannot be its own parent",
            );
        }
    }
    found.finish()
}

/// A configuration problem of an item, as the engine reported it (kept with the item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigurationViolation {
    /// Stable code (e.g. `CHARACTERISTIC_REQUIRED`).
    pub code: String,
    /// JSON pointer into the items request.
    pub path: String,
    /// Explanation.
    pub message: String,
    /// Expected/actual facts.
    #[serde(default)]
    pub details: Value,
}

impl From<&Violation> for ConfigurationViolation {
    fn from(v: &Violation) -> Self {
        Self {
            code: v.code.as_str().to_owned(),
            path: v.path.clone(),
            message: v.message.clone(),
            details: v.details.clone(),
        }
    }
}

/// A configuration the engine accepted: its hash and the resolved document the order is built
/// from.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedConfiguration {
    /// Configuration hash.
    pub hash: String,
    /// Offering, version, quantity, parent and every characteristic with defaults applied.
    pub document: Value,
}

/// Where an item's configuration stands; only the states the service writes exist here.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemConfiguration {
    /// Every rule holds.
    Valid(ResolvedConfiguration),
    /// Some rule does not hold; the quote cannot be priced.
    Invalid(Vec<ConfigurationViolation>),
    /// Accepted: never changes again.
    Frozen(ResolvedConfiguration),
}

impl ItemConfiguration {
    /// The configuration state machine's status.
    pub fn status(&self) -> ConfigurationStatus {
        match self {
            Self::Valid(_) => ConfigurationStatus::Valid,
            Self::Invalid(_) => ConfigurationStatus::Invalid,
            Self::Frozen(_) => ConfigurationStatus::Frozen,
        }
    }

    /// The resolved configuration of a valid or frozen item.
    pub fn resolved(&self) -> Option<&ResolvedConfiguration> {
        match self {
            Self::Valid(resolved) | Self::Frozen(resolved) => Some(resolved),
            Self::Invalid(_) => None,
        }
    }

    /// What is wrong with an invalid item (empty otherwise).
    pub fn violations(&self) -> &[ConfigurationViolation] {
        match self {
            Self::Invalid(found) => found,
            Self::Valid(_) | Self::Frozen(_) => &[],
        }
    }
}

/// One item of a quote revision, pinned to the offering version it was configured against.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteItem {
    /// Unique within the revision.
    pub id: ItemId,
    /// Offering.
    pub offering_id: OfferingId,
    /// Pinned offering version.
    pub offering_version: i32,
    /// Units.
    pub quantity: i64,
    /// Commitment term in months.
    pub term_months: Option<i32>,
    /// Seller's line discount, percent.
    pub discount_percent: Option<Decimal>,
    /// Characteristic values as sent, by name.
    pub characteristics: Map<String, Value>,
    /// Parent item (add-ons).
    pub parent_id: Option<ItemId>,
    /// The engine's verdict.
    pub configuration: ItemConfiguration,
}

/// Runs the configuration engine over the drafts, each pinned to `pins[i]`, and returns the
/// configured items with the engine's report (whose validity decides CONFIGURED).
pub fn configure(
    drafts: &[ItemDraft],
    pins: &[i32],
    offerings: &OfferingCatalog,
) -> (Vec<QuoteItem>, ValidationReport) {
    let engine_items: Vec<cpq_configuration::QuoteItem> = drafts
        .iter()
        .zip(pins)
        .enumerate()
        .map(|(i, (draft, version))| cpq_configuration::QuoteItem {
            id: ItemId::new(draft.item_id(i)),
            offering_id: draft.offering_id,
            offering_version: *version,
            quantity: draft.quantity,
            characteristics: draft
                .characteristics
                .iter()
                .map(|(name, value)| CharacteristicSetting::new(name.clone(), value.clone()))
                .collect(),
            parent_id: draft.parent_id.clone().map(ItemId::new),
        })
        .collect();
    let report = validate_quote(offerings, &engine_items);
    let items = drafts
        .iter()
        .zip(pins)
        .zip(&report.items)
        .enumerate()
        .map(|(i, ((draft, version), outcome))| QuoteItem {
            id: ItemId::new(draft.item_id(i)),
            offering_id: draft.offering_id,
            offering_version: *version,
            quantity: draft.quantity,
            term_months: draft.term_months,
            discount_percent: draft.discount_percent,
            characteristics: draft.characteristics.clone(),
            parent_id: draft.parent_id.clone().map(ItemId::new),
            configuration: match &outcome.result {
                ItemResult::Valid(valid) => ItemConfiguration::Valid(ResolvedConfiguration {
                    hash: valid.hash.as_str().to_owned(),
                    document: configuration_document(&valid.configuration),
                }),
                ItemResult::Invalid(found) => {
                    ItemConfiguration::Invalid(found.iter().map(Into::into).collect())
                }
            },
        })
        .collect();
    (items, report)
}

/// The resolved configuration as the snapshot and the order read it.
fn configuration_document(c: &cpq_configuration::Configuration) -> Value {
    let characteristics: Map<String, Value> = c
        .characteristics
        .iter()
        .map(|(name, value)| (name.clone(), value.to_json()))
        .collect();
    serde_json::json!({
        "offeringId": c.offering_id,
        "offeringVersion": c.offering_version,
        "quantity": c.quantity,
        "parentOfferingId": c.parent_offering_id,
        "characteristics": characteristics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(id: Option<&str>, quantity: i64) -> ItemDraft {
        ItemDraft {
            id: id.map(str::to_owned),
            offering_id: OfferingId::generate(),
            offering_version: None,
            quantity,
            term_months: None,
            discount_percent: None,
            characteristics: Map::new(),
            parent_id: None,
        }
    }

    #[test]
    fn every_field_problem_is_reported_at_once() {
        let mut bad = draft(Some("a"), 0);
        bad.term_months = Some(121);
        bad.discount_percent = Some(Decimal::from(101));
        bad.parent_id = Some("a".into());
        let twin = draft(Some("a"), 1);
        let found = check_drafts(&[bad, twin], true).unwrap_err();
        let codes: Vec<_> = found.iter().map(|v| v.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "QUANTITY_INVALID",
                "OUT_OF_RANGE",
                "OUT_OF_RANGE",
                "PARENT_CYCLE",
                "DUPLICATE_ITEM_ID"
            ]
        );
        assert_eq!(found[4].field, "/items/1/id");
    }

    #[test]
    fn empty_lists_and_positions() {
        assert_eq!(check_drafts(&[], false), Ok(()));
        assert_eq!(check_drafts(&[], true).unwrap_err()[0].code, "REQUIRED");
        assert_eq!(draft(None, 1).item_id(2), "3");
        let many: Vec<_> = (0..=MAX_ITEMS).map(|_| draft(None, 1)).collect();
        assert_eq!(
            check_drafts(&many, true).unwrap_err()[0].code,
            "TOO_MANY_ITEMS"
        );
    }
}
