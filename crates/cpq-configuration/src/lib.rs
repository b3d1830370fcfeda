//! CPQ configuration engine. Pure domain code: no I/O, no clock, no
//! randomness, so the CPQ service can call it inside a command handler and tests can run it
//! exhaustively.
//!
//! # Configuration engine
//! [`validate_quote`] checks every item of a quote against the offering version it was quoted
//! from ([`OfferingCatalog`] of [`OfferingSnapshot`]s) and returns a [`ValidationReport`] with
//! every violation, each with a stable [`ViolationCode`], a JSON pointer, a message and
//! details. Valid items carry their resolved [`Configuration`] and its [`ConfigurationHash`]
//! (encoding: see [`hash`]).
//!
//! Pointers assume the quote request shape `items[i].{id, offeringId, offeringVersion,
//! quantity, parentId, characteristics}`, with characteristics addressed by name
//! (`/items/3/characteristics/bandwidthMbps`); the service remaps if its DTO differs.
//!
//! ## Rules and the decisions behind them
//! - A characteristic left unset takes its default; a required one without value or default
//!   is `CHARACTERISTIC_REQUIRED`. JSON `null` fits no type (`VALUE_TYPE_MISMATCH`), so
//!   clearing a value means omitting it. Values are read exactly as the catalog reads them
//!   ([`CharacteristicValue::from_json`]); string values obey the catalog's text limits.
//! - A value that is both outside the allowed values and outside the range gets both codes.
//! - Only PUBLISHED versions can be quoted new (`OFFERING_NOT_SELLABLE`); the item's other
//!   rules are still checked, so the seller sees everything at once.
//! - Duplicate item ids: every holder of the id is reported; parent links resolve to the first.
//! - A parent that points to the item itself, or a loop of parents, is `PARENT_CYCLE` on each
//!   member; an item with a parent whose offering declares no ADD_ON_OF rule is
//!   `PARENT_NOT_ALLOWED`.
//!
//! ## Cardinality
//! The catalog defines min/max as "target instances per instance". Instances are quantities:
//! an item with quantity 3 is three instances. Concretely:
//! - **REQUIRES A→B (min, max)**: at least one B instance must be in the quote whatever `min`
//!   says (`REQUIRES_MISSING`), and with n = instances of A *at that version*, B instances
//!   over all versions must lie in `[min × n, max × n]` (`CARDINALITY_BELOW_MIN`,
//!   `CARDINALITY_EXCEEDED`). B instances are shared: two A items do not need separate Bs
//!   beyond what the multiplied bounds say. Reported on every A item.
//! - **EXCLUDES A→B**: both present (any item, any quantity) ⇒ `EXCLUDED_COMBINATION` on
//!   every A item *and* every B item, once per partner. Reporting only "the later one" would
//!   make the result depend on item order. Cardinality does not apply.
//! - **ADD_ON_OF A→B (min, max)**: an A item needs a parent item of offering B
//!   (`ADD_ON_WITHOUT_PARENT`, `ADD_ON_PARENT_MISMATCH`). Cardinality is read the other way
//!   round, as add-ons per parent instance (the parent count per add-on is always one): the A
//!   instances attached to one parent item with quantity q must lie in `[min × q, max × q]`,
//!   reported on each attached A item. Parents without any A attached are not checked: A's
//!   rules constrain A; a catalog that wants every B to carry an add-on declares REQUIRES on B.
//!
//! ## Cost
//! Snapshots are indexed by (offering id, version) and characteristics by name once;
//! relationship rules work from per-offering instance counts. Validation is linear in the
//! number of items times the rules and characteristics of each item's offering.
//!
//! # State machines
//! [`config_state`] (per item: EMPTY → IN_PROGRESS → VALID | INVALID → FROZEN) is an explicit
//! transition table; a refused command is a [`TransitionError`] with code `ILLEGAL_TRANSITION`.
//! The quote lifecycle belongs to the quote aggregate in the CPQ service's domain.

pub mod catalog;
pub mod config_state;
pub mod engine;
pub mod hash;
pub mod model;
mod rules;
pub mod values;
pub mod violation;

pub use catalog::{CatalogError, OfferingCatalog};
pub use domain_kernel::TransitionError;
pub use engine::{
    ItemOutcome, ItemResult, ItemStatus, ValidConfiguration, ValidationReport, validate_quote,
};
pub use hash::{Configuration, ConfigurationHash};
pub use model::{
    CharacteristicDefinition, CharacteristicSetting, ItemId, OfferingId, OfferingSnapshot,
    OfferingStatus, QuoteItem, Relationship, RelationshipType, ValueRange,
};
pub use values::{CharacteristicValue, ValueType};
pub use violation::{Violation, ViolationCode};
