//! What the engine reports: one violation per broken rule, with a stable code a client can
//! branch on, a JSON pointer into the request, a message for people and structured details.

use std::fmt;

use serde_json::Value;

use crate::model::ItemId;

/// Stable, machine-readable reason for a violation. The wire names never change meaning;
/// new rules get new codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViolationCode {
    /// The quote has no items, so there is nothing to configure.
    NoItems,
    /// Two or more items share an id, so parents and results cannot name them reliably.
    DuplicateItemId,
    /// Quantity below 1.
    QuantityInvalid,
    /// The parent id names no item of the quote.
    ParentNotFound,
    /// Following parents leads back to the item itself.
    ParentCycle,
    /// The item has a parent but its offering is not an add-on of anything.
    ParentNotAllowed,
    /// No snapshot was supplied for the item's (offering, version).
    OfferingNotFound,
    /// The offering version is not PUBLISHED, so it cannot be sold new.
    OfferingNotSellable,
    /// A required characteristic has no value and no default.
    CharacteristicRequired,
    /// The specification has no characteristic of that name.
    CharacteristicUnknown,
    /// The item sets the same characteristic more than once.
    CharacteristicDuplicate,
    /// The value's JSON shape does not fit the characteristic's type.
    ValueTypeMismatch,
    /// A string value breaks the catalog's text limits.
    ValueInvalid,
    /// The value is not one of the enumerated allowed values.
    ValueNotAllowed,
    /// The number lies outside the inclusive range.
    ValueOutOfRange,
    /// A REQUIRES target is absent from the quote.
    RequiresMissing,
    /// Fewer target instances than the cardinality demands.
    CardinalityBelowMin,
    /// More target (or add-on) instances than the cardinality allows.
    CardinalityExceeded,
    /// Two offerings that exclude each other are both in the quote.
    ExcludedCombination,
    /// An add-on offering is quoted without a parent item.
    AddOnWithoutParent,
    /// An add-on's parent item is of an offering the add-on does not attach to.
    AddOnParentMismatch,
}

impl ViolationCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [Self; 21] = [
        Self::NoItems,
        Self::DuplicateItemId,
        Self::QuantityInvalid,
        Self::ParentNotFound,
        Self::ParentCycle,
        Self::ParentNotAllowed,
        Self::OfferingNotFound,
        Self::OfferingNotSellable,
        Self::CharacteristicRequired,
        Self::CharacteristicUnknown,
        Self::CharacteristicDuplicate,
        Self::ValueTypeMismatch,
        Self::ValueInvalid,
        Self::ValueNotAllowed,
        Self::ValueOutOfRange,
        Self::RequiresMissing,
        Self::CardinalityBelowMin,
        Self::CardinalityExceeded,
        Self::ExcludedCombination,
        Self::AddOnWithoutParent,
        Self::AddOnParentMismatch,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoItems => "NO_ITEMS",
            Self::DuplicateItemId => "DUPLICATE_ITEM_ID",
            Self::QuantityInvalid => "QUANTITY_INVALID",
            Self::ParentNotFound => "PARENT_NOT_FOUND",
            Self::ParentCycle => "PARENT_CYCLE",
            Self::ParentNotAllowed => "PARENT_NOT_ALLOWED",
            Self::OfferingNotFound => "OFFERING_NOT_FOUND",
            Self::OfferingNotSellable => "OFFERING_NOT_SELLABLE",
            Self::CharacteristicRequired => "CHARACTERISTIC_REQUIRED",
            Self::CharacteristicUnknown => "CHARACTERISTIC_UNKNOWN",
            Self::CharacteristicDuplicate => "CHARACTERISTIC_DUPLICATE",
            Self::ValueTypeMismatch => "VALUE_TYPE_MISMATCH",
            Self::ValueInvalid => "VALUE_INVALID",
            Self::ValueNotAllowed => "VALUE_NOT_ALLOWED",
            Self::ValueOutOfRange => "VALUE_OUT_OF_RANGE",
            Self::RequiresMissing => "REQUIRES_MISSING",
            Self::CardinalityBelowMin => "CARDINALITY_BELOW_MIN",
            Self::CardinalityExceeded => "CARDINALITY_EXCEEDED",
            Self::ExcludedCombination => "EXCLUDED_COMBINATION",
            Self::AddOnWithoutParent => "ADD_ON_WITHOUT_PARENT",
            Self::AddOnParentMismatch => "ADD_ON_PARENT_MISMATCH",
        }
    }

    /// Reads a wire name (for clients and stored reports).
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

impl fmt::Display for ViolationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The item concerned; `None` for a quote-level violation.
    pub item_id: Option<ItemId>,
    /// Stable reason.
    pub code: ViolationCode,
    /// JSON pointer into the quote request (`/items/3/characteristics/bandwidthMbps`).
    pub path: String,
    /// Explanation for people; wording may change, the code does not.
    pub message: String,
    /// Expected/actual facts as a JSON object, for clients that explain or fix the problem.
    pub details: Value,
}

/// JSON pointers into the quote request, escaped per RFC 6901 so any characteristic name is
/// addressable.
pub(crate) mod path {
    /// `/items/{index}/{field}` for a fixed field name.
    pub fn item_field(index: usize, field: &str) -> String {
        format!("/items/{index}/{field}")
    }

    /// `/items/{index}/characteristics/{name}`, with `~` and `/` in the name escaped.
    pub fn characteristic(index: usize, name: &str) -> String {
        format!(
            "/items/{index}/characteristics/{}",
            name.replace('~', "~0").replace('/', "~1")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut names: Vec<&str> = ViolationCode::ALL.iter().map(|c| c.as_str()).collect();
        for code in ViolationCode::ALL {
            assert_eq!(ViolationCode::parse(code.as_str()), Some(code));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ViolationCode::ALL.len());
    }

    #[test]
    fn characteristic_names_are_escaped() {
        assert_eq!(
            path::characteristic(2, "a/b~c"),
            "/items/2/characteristics/a~1b~0c"
        );
    }
}
