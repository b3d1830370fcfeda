//! Inputs of the engine: a price-book version (mirroring the catalog's price-book model) and a
//! pricing request. Plain data with public fields, so the CPQ service can map the catalog's HTTP
//! JSON into them at its edge; the engine validates them, not their constructors.

use std::fmt;
use std::str::FromStr;

use domain_kernel::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Billing period of a recurring charge; recurring amounts are always "per period".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Period {
    /// Monthly.
    Month,
    /// Quarterly.
    Quarter,
    /// Yearly.
    Year,
}

impl Period {
    /// Every period, in the order totals are reported.
    pub const ALL: [Self; 3] = [Self::Month, Self::Quarter, Self::Year];

    /// Catalog wire name (`MONTH`, `QUARTER`, `YEAR`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "MONTH",
            Self::Quarter => "QUARTER",
            Self::Year => "YEAR",
        }
    }

    /// Parses the catalog wire name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }
}

/// Which of an offering version's charges is meant. One value instead of the catalog's
/// `chargeType` + `period` pair, so a one-time charge with a period cannot be expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChargeKind {
    /// Billed once.
    OneTime,
    /// Billed every period; amounts are per period.
    Recurring(Period),
}

impl ChargeKind {
    /// Every kind, in canonical (output and hash) order.
    pub const ALL: [Self; 4] = [
        Self::OneTime,
        Self::Recurring(Period::Month),
        Self::Recurring(Period::Quarter),
        Self::Recurring(Period::Year),
    ];

    /// Stable name used in JSON, traces and the canonical hash encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneTime => "ONE_TIME",
            Self::Recurring(Period::Month) => "RECURRING_MONTH",
            Self::Recurring(Period::Quarter) => "RECURRING_QUARTER",
            Self::Recurring(Period::Year) => "RECURRING_YEAR",
        }
    }

    /// Parses [`ChargeKind::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// Maps the catalog's `chargeType` + `period` pair; `None` for a combination the catalog
    /// itself refuses (a one-time charge with a period, a recurring one without).
    pub fn from_catalog(charge_type: &str, period: Option<&str>) -> Option<Self> {
        match (charge_type, period) {
            ("ONE_TIME", None) => Some(Self::OneTime),
            ("RECURRING", Some(p)) => Period::parse(p).map(Self::Recurring),
            _ => None,
        }
    }

    /// The period of a recurring charge.
    pub fn period(self) -> Option<Period> {
        match self {
            Self::OneTime => None,
            Self::Recurring(p) => Some(p),
        }
    }
}

impl fmt::Display for ChargeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChargeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| format!("unknown charge kind '{s}'"))
    }
}

impl Serialize for ChargeKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ChargeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown charge kind '{raw}'")))
    }
}

/// How volume tiers turn a quantity into an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TierMode {
    /// All units at the unit price of the tier the total quantity falls in.
    Range,
    /// Each unit at the unit price of the tier it falls in (graduated).
    Slab,
}

impl TierMode {
    /// Catalog wire name (`RANGE`, `SLAB`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Range => "RANGE",
            Self::Slab => "SLAB",
        }
    }
}

/// One volume tier: quantities `from_quantity..=to_quantity`, open-ended when `to_quantity` is
/// `None` (only the last tier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    /// First quantity of the tier (the first tier starts at 1).
    pub from_quantity: u64,
    /// Last quantity of the tier; `None` for the last, open tier.
    pub to_quantity: Option<u64>,
    /// Price per unit inside the tier, in the price book's currency.
    pub unit_price: Decimal,
}

/// How a charge is priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Pricing {
    /// One price per unit.
    #[serde(rename = "FLAT")]
    Flat {
        /// Price per unit.
        unit_price: Decimal,
    },
    /// Volume tiers, contiguous from quantity 1, the last open-ended.
    #[serde(rename = "TIERED")]
    Tiered {
        /// RANGE or SLAB.
        mode: TierMode,
        /// Tiers in ascending quantity order.
        tiers: Vec<Tier>,
    },
}

/// One charge of one offering version in a price book version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Charge {
    /// The offering priced (a catalog uuid, opaque here).
    pub offering_id: String,
    /// Its version.
    pub offering_version: i32,
    /// One-time, or recurring with its period.
    pub kind: ChargeKind,
    /// The price.
    pub pricing: Pricing,
}

/// An immutable price-book version: one currency, charges per offering version. Its id and
/// version identify its content (catalog versions never change once published), which is why
/// the price hash names the book instead of hashing its charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceBook {
    /// Price book id.
    pub id: String,
    /// Version number.
    pub version: i32,
    /// Currency of every charge.
    pub currency: Currency,
    /// Charges, in any order.
    pub charges: Vec<Charge>,
}

/// Size of a discount. Percentages are of the running amount when the discount applies
/// (discounts compound in order); amounts are absolute, per period for recurring charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DiscountValue {
    /// Percent off, 0..=100 (`10` is ten percent).
    Percent(Decimal),
    /// Amount off in the price book's currency, in whole minor units, at most the amount it
    /// reduces as it would be charged (rounded); larger amounts are refused, not clamped.
    Amount(Decimal),
}

/// A line- or quote-level discount, with the rule that granted it so the trace can cite it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Discount {
    /// The discount rule or approval that grants it (cited in the trace).
    pub rule_id: String,
    /// Why, for people reading the quote.
    #[serde(default)]
    pub reason: String,
    /// How much.
    pub value: DiscountValue,
    /// The charge it applies to; `None` means every charge in scope. An amount needs a target,
    /// because one amount cannot be split across one-time and per-period charges.
    #[serde(default)]
    pub applies_to: Option<ChargeKind>,
}

/// One row of the term-discount policy the service passes in: a line whose term is at least
/// `min_term_months` gets `percent` off its recurring charges. Only the row with the highest
/// threshold the term reaches applies (rows do not stack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TermDiscountRule {
    /// Policy rule id (cited in the trace).
    pub rule_id: String,
    /// Smallest term, in months, the row applies to.
    pub min_term_months: u32,
    /// Percent off the recurring charges, 0..=100.
    pub percent: Decimal,
}

/// A manual price override: replaces the computed net amount of one charge of one line and
/// keeps who did it and why (an invariant of the spec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManualOverride {
    /// The charge of the line it replaces.
    pub charge: ChargeKind,
    /// The computed net amount the actor saw; must equal what the engine computes now, so an
    /// override made against a stale price is refused instead of silently applied.
    pub original_price: Decimal,
    /// The amount that replaces it (per period for recurring charges).
    pub new_price: Decimal,
    /// Who overrode.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// One quote line to price. The offering id and version are the line's catalog version pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineInput {
    /// Quote item id, unique in the request; also the canonical ordering key.
    pub line_id: String,
    /// Pinned offering.
    pub offering_id: String,
    /// Pinned offering version.
    pub offering_version: i32,
    /// Units, at least 1.
    pub quantity: u64,
    /// Commitment term in months, if any (drives term discounts).
    #[serde(default)]
    pub term_months: Option<u32>,
    /// Hash of the item's configuration, opaque here; part of the price hash.
    #[serde(default)]
    pub configuration_hash: String,
    /// Line discounts, applied in this order after the term discount.
    #[serde(default)]
    pub discounts: Vec<Discount>,
    /// Manual overrides, at most one per charge.
    #[serde(default)]
    pub overrides: Vec<ManualOverride>,
}

/// Everything one pricing run depends on besides the price book's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingRequest {
    /// Price book id; must name the book supplied.
    pub price_book_id: String,
    /// Price book version; must name the book supplied.
    pub price_book_version: i32,
    /// Quote currency; must be the price book's.
    pub currency: Currency,
    /// Lines, in any order (see the crate docs on ordering).
    pub lines: Vec<LineInput>,
    /// Term-discount policy, in any order.
    #[serde(default)]
    pub term_discounts: Vec<TermDiscountRule>,
    /// Quote-level discounts, applied in this order after every line discount.
    #[serde(default)]
    pub quote_discounts: Vec<Discount>,
}
