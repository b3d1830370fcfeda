//! The catalog's JSON as CPQ reads it, and its mapping to what the engines read: an offering
//! version's content to an `OfferingSnapshot`, a price-book version's content to a
//! `PriceBook`, the roots to the live lifecycle facts. Content shapes are what the cache stores.

use common_kernel::money::Currency;
use cpq_configuration::{
    CharacteristicDefinition, OfferingId, OfferingSnapshot, OfferingStatus, Relationship,
    RelationshipType, ValueRange, ValueType, values::CharacteristicValue,
};
use cpq_pricing::{Charge, ChargeKind, PriceBook, Pricing, Tier, TierMode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::app::ports::CatalogError;
use crate::domain::quote::catalog_pins::OfferingLifecycle;
use crate::domain::quote::editing::PriceBookFacts;

/// Optional decimals as the catalog writes them: a string, or `null`. rust_decimal's own
/// `str_option` refuses `null` when the struct is read through `#[serde(flatten)]` (serde then
/// presents `null` as a unit value), which made every tiered price book unreadable.
mod optional_decimal {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(decimal) => serializer.serialize_str(&decimal.to_string()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| text.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// One version number and its lifecycle status, from an offering or price-book root.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionStatus {
    /// Version number.
    pub version: i32,
    /// Lifecycle status.
    pub status: String,
}

/// The catalog's offering root: its live lifecycle.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OfferingRoot {
    published_version: Option<i32>,
    versions: Vec<VersionStatus>,
}

impl From<OfferingRoot> for OfferingLifecycle {
    fn from(root: OfferingRoot) -> Self {
        Self {
            published_version: root.published_version,
            versions: root
                .versions
                .iter()
                .filter_map(|v| OfferingStatus::parse(&v.status).map(|s| (v.version, s)))
                .collect(),
        }
    }
}

/// Catalog JSON of a characteristic (only what configuration needs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogCharacteristic {
    name: String,
    value_type: String,
    required: bool,
    #[serde(default)]
    allowed_values: Vec<Value>,
    range: Option<CatalogRange>,
    default_value: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CatalogRange {
    #[serde(with = "optional_decimal", default)]
    min: Option<Decimal>,
    #[serde(with = "optional_decimal", default)]
    max: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogRelationship {
    #[serde(rename = "type")]
    relationship_type: String,
    target_offering_id: Uuid,
    min_cardinality: i32,
    max_cardinality: Option<i32>,
}

/// The frozen content of an offering version, as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferingContent {
    pub(super) offering_id: Uuid,
    pub(super) tenant_id: String,
    /// Offering code (for snapshots people read).
    pub code: String,
    pub(super) version: i32,
    /// Offering name at that version.
    pub name: String,
    characteristics: Vec<CatalogCharacteristic>,
    relationships: Vec<CatalogRelationship>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OfferingVersionAnswer {
    #[serde(flatten)]
    pub(super) content: OfferingContent,
}

impl OfferingContent {
    /// The engine's view of this version in `status`; `None` when the catalog sent a value the
    /// engine has no type for (reported as an unexpected answer).
    pub fn to_snapshot(&self, status: OfferingStatus) -> Result<OfferingSnapshot, CatalogError> {
        let unexpected = |what: String| CatalogError::Unexpected(what);
        let mut characteristics = Vec::with_capacity(self.characteristics.len());
        for c in &self.characteristics {
            let value_type = ValueType::parse(&c.value_type)
                .ok_or_else(|| unexpected(format!("value type {}", c.value_type)))?;
            let read = |v: &Value| {
                CharacteristicValue::from_json(value_type, v)
                    .ok_or_else(|| unexpected(format!("value {v} of {}", c.name)))
            };
            let mut definition = CharacteristicDefinition::new(c.name.clone(), value_type);
            definition.required = c.required;
            definition.allowed_values = c
                .allowed_values
                .iter()
                .map(read)
                .collect::<Result<_, _>>()?;
            definition.range = c.range.as_ref().map(|r| ValueRange {
                min: r.min,
                max: r.max,
            });
            definition.default_value = c.default_value.as_ref().map(read).transpose()?;
            characteristics.push(definition);
        }
        let mut relationships = Vec::with_capacity(self.relationships.len());
        for r in &self.relationships {
            relationships.push(Relationship {
                relationship_type: RelationshipType::parse(&r.relationship_type)
                    .ok_or_else(|| unexpected(format!("relationship {}", r.relationship_type)))?,
                target: OfferingId::from_uuid(r.target_offering_id),
                min_cardinality: u32::try_from(r.min_cardinality).unwrap_or(0),
                max_cardinality: r.max_cardinality.and_then(|m| u32::try_from(m).ok()),
            });
        }
        Ok(OfferingSnapshot {
            offering_id: OfferingId::from_uuid(self.offering_id),
            version: self.version,
            status,
            characteristics,
            relationships,
        })
    }
}

/// The catalog's price-book root: its live state.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PriceBookRoot {
    currency: String,
    published_version: Option<i32>,
    versions: Vec<VersionStatus>,
}

impl From<PriceBookRoot> for PriceBookFacts {
    fn from(root: PriceBookRoot) -> Self {
        Self {
            currency: root.currency,
            published_version: root.published_version,
            versions: root
                .versions
                .into_iter()
                .map(|v| (v.version, v.status))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogTier {
    from_quantity: u64,
    to_quantity: Option<u64>,
    #[serde(with = "rust_decimal::serde::str")]
    unit_price: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogCharge {
    offering_id: Uuid,
    offering_version: i32,
    charge_type: String,
    period: Option<String>,
    #[serde(with = "optional_decimal", default)]
    unit_price: Option<Decimal>,
    tier_mode: Option<String>,
    tiers: Option<Vec<CatalogTier>>,
}

/// The frozen content of a price-book version, as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceBookContent {
    pub(super) price_book_id: Uuid,
    pub(super) tenant_id: String,
    /// ISO-4217 currency.
    pub currency: String,
    pub(super) version: i32,
    charges: Vec<CatalogCharge>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PriceBookVersionAnswer {
    #[serde(flatten)]
    pub(super) content: PriceBookContent,
    pub(super) status: String,
}

impl PriceBookContent {
    /// The pricing engine's price book.
    pub fn to_price_book(&self) -> Result<PriceBook, CatalogError> {
        let currency = Currency::parse(&self.currency)
            .map_err(|e| CatalogError::Unexpected(format!("currency: {e}")))?;
        let mut charges = Vec::with_capacity(self.charges.len());
        for c in &self.charges {
            let kind = ChargeKind::from_catalog(&c.charge_type, c.period.as_deref())
                .ok_or_else(|| CatalogError::Unexpected(format!("charge {}", c.charge_type)))?;
            let pricing = match (c.unit_price, c.tier_mode.as_deref(), &c.tiers) {
                (Some(unit_price), _, _) => Pricing::Flat { unit_price },
                (None, Some(mode), Some(tiers)) => Pricing::Tiered {
                    mode: match mode {
                        "RANGE" => TierMode::Range,
                        "SLAB" => TierMode::Slab,
                        other => {
                            return Err(CatalogError::Unexpected(format!("tier mode {other}")));
                        }
                    },
                    tiers: tiers
                        .iter()
                        .map(|t| Tier {
                            from_quantity: t.from_quantity,
                            to_quantity: t.to_quantity,
                            unit_price: t.unit_price,
                        })
                        .collect(),
                },
                _ => return Err(CatalogError::Unexpected("charge without a price".into())),
            };
            charges.push(Charge {
                offering_id: c.offering_id.to_string(),
                offering_version: c.offering_version,
                kind,
                pricing,
            });
        }
        Ok(PriceBook {
            id: self.price_book_id.to_string(),
            version: self.version,
            currency,
            charges,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog's answer for a version with a tiered charge (`unitPrice: null`), read the
    /// way the client reads it (status flattened beside the content).
    #[test]
    fn tiered_price_book_versions_are_readable() {
        let answer = serde_json::json!({
            "priceBookId": "01a2000b-409e-7048-b32b-d8893c4d96ca", "tenantId": "acme",
            "currency": "USD", "version": 1, "status": "PUBLISHED",
            "charges": [{
                "offeringId": "01a2000b-4041-74bf-9528-05b93b4b9202", "offeringVersion": 1,
                "chargeType": "RECURRING", "period": "MONTH", "unitPrice": null, "tierMode": "RANGE",
                "tiers": [
                    {"fromQuantity": 1, "toQuantity": 10, "unitPrice": "100.00"},
                    {"fromQuantity": 11, "toQuantity": null, "unitPrice": "50.00"}
                ]}]
        });
        let read: PriceBookVersionAnswer = serde_json::from_value(answer).expect("readable");
        let book = read.content.to_price_book().expect("a price book");
        assert!(matches!(
            &book.charges[0].pricing,
            Pricing::Tiered { mode: TierMode::Range, tiers } if tiers.len() == 2
        ));
        // What the cache stores reads back the same.
        let cached = serde_json::to_string(&read.content).expect("serialise");
        let again: PriceBookContent =
            serde_json::from_str(&cached).expect("cached copy reads back");
        assert_eq!(again.to_price_book().expect("book"), book);
    }
}
