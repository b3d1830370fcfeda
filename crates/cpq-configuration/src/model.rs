//! The engine's inputs: offering snapshots (what the catalog says a version allows) and quote
//! items (what the seller configured). They mirror the catalog's published model; the CPQ
//! service maps the catalog's JSON into them at its edge, so this crate never sees a DTO.

use std::fmt;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::values::{CharacteristicValue, ValueType};

domain_kernel::uuid_id!(
    /// Identifies a catalog product offering (the same UUID the catalog uses), so rules that
    /// name a target offering can be matched against quote items.
    OfferingId
);

/// Identifies a quote item within one quote; parents and violations refer to items by it.
/// Opaque text, because the CPQ service may key items by UUID or by client line reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(String);

impl ItemId {
    /// Wraps an item identifier; uniqueness within a quote is checked by the engine, which
    /// reports duplicates like any other violation.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The identifier text, for paths, details and storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lifecycle status of an offering version, mirrored from the catalog because only PUBLISHED
/// versions may be quoted for new acquisition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OfferingStatus {
    /// Being written.
    Draft,
    /// Frozen for review.
    ReadyForReview,
    /// On sale.
    Published,
    /// Not sold new any more.
    Retired,
    /// Historical reconstruction only.
    Archived,
}

impl OfferingStatus {
    /// Every status, for exhaustive tests.
    pub const ALL: [Self; 5] = [
        Self::Draft,
        Self::ReadyForReview,
        Self::Published,
        Self::Retired,
        Self::Archived,
    ];

    /// Wire name, as the catalog publishes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::ReadyForReview => "READY_FOR_REVIEW",
            Self::Published => "PUBLISHED",
            Self::Retired => "RETIRED",
            Self::Archived => "ARCHIVED",
        }
    }

    /// Reads the catalog's wire name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether a new quote item may be configured from a version in this status.
    pub fn is_sellable(self) -> bool {
        self == Self::Published
    }
}

impl fmt::Display for OfferingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Inclusive numeric bounds, as the catalog defines them (`min <= value <= max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValueRange {
    /// Lower bound, if any.
    pub min: Option<Decimal>,
    /// Upper bound, if any.
    pub max: Option<Decimal>,
}

impl ValueRange {
    /// Whether `value` lies within the bounds (both inclusive).
    pub fn contains(&self, value: Decimal) -> bool {
        self.min.is_none_or(|min| value >= min) && self.max.is_none_or(|max| value <= max)
    }
}

/// What one characteristic of the offering's specification allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacteristicDefinition {
    /// Name, unique within the specification; items refer to characteristics by it.
    pub name: String,
    /// Type every value must have.
    pub value_type: ValueType,
    /// Whether a configuration must set it (a default satisfies it).
    pub required: bool,
    /// Enumerated allowed values; empty means any value of the type (within the range).
    pub allowed_values: Vec<CharacteristicValue>,
    /// Numeric bounds (INTEGER and DECIMAL only).
    pub range: Option<ValueRange>,
    /// Value a configuration gets when it does not set one.
    pub default_value: Option<CharacteristicValue>,
}

impl CharacteristicDefinition {
    /// An optional, unconstrained characteristic; adjust the public fields from there.
    pub fn new(name: impl Into<String>, value_type: ValueType) -> Self {
        Self {
            name: name.into(),
            value_type,
            required: false,
            allowed_values: Vec::new(),
            range: None,
            default_value: None,
        }
    }
}

/// How an offering relates to another, as declared on the offering version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelationshipType {
    /// A quote containing this offering must also contain the target.
    Requires,
    /// A quote must not contain both.
    Excludes,
    /// This offering is sold only as an add-on of the target (as a child item of it).
    AddOnOf,
}

impl RelationshipType {
    /// Every type, for exhaustive tests.
    pub const ALL: [Self; 3] = [Self::Requires, Self::Excludes, Self::AddOnOf];

    /// Wire name, as the catalog publishes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requires => "REQUIRES",
            Self::Excludes => "EXCLUDES",
            Self::AddOnOf => "ADD_ON_OF",
        }
    }

    /// Reads the catalog's wire name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

/// A relationship rule with its cardinality. How the bounds are counted depends on the type;
/// see the crate documentation ("Cardinality").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relationship {
    /// Kind of rule.
    pub relationship_type: RelationshipType,
    /// The other offering (any version of it).
    pub target: OfferingId,
    /// Fewest instances per instance.
    pub min_cardinality: u32,
    /// Most instances per instance; `None` is unbounded.
    pub max_cardinality: Option<u32>,
}

/// One offering version as the quote item was configured against it: the catalog content that
/// decides validity, pinned by (offering id, version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferingSnapshot {
    /// Offering.
    pub offering_id: OfferingId,
    /// Version number.
    pub version: i32,
    /// Lifecycle status of that version.
    pub status: OfferingStatus,
    /// The specification's characteristics.
    pub characteristics: Vec<CharacteristicDefinition>,
    /// Relationship rules of this version.
    pub relationships: Vec<Relationship>,
}

/// One characteristic value as the seller set it: raw JSON, because a value of the wrong type
/// is a violation to report, not a parse failure to abort on.
#[derive(Debug, Clone, PartialEq)]
pub struct CharacteristicSetting {
    /// Characteristic name.
    pub name: String,
    /// Value as sent.
    pub value: Value,
}

impl CharacteristicSetting {
    /// Pairs a name with its raw value.
    pub fn new(name: impl Into<String>, value: Value) -> Self {
        Self {
            name: name.into(),
            value,
        }
    }
}

/// A quote item to validate.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteItem {
    /// Item id, unique within the quote.
    pub id: ItemId,
    /// Offering quoted.
    pub offering_id: OfferingId,
    /// Offering version quoted (the version the item is validated against).
    pub offering_version: i32,
    /// Number of instances; must be at least 1. Signed, so a negative input is reported
    /// rather than refused by the mapper.
    pub quantity: i64,
    /// Characteristic values in the order sent; the order never matters.
    pub characteristics: Vec<CharacteristicSetting>,
    /// The item this one is an add-on of.
    pub parent_id: Option<ItemId>,
}
