//! The catalog's integration events: names, topics and payload builders in one place.

use common_kernel::outbox::NewEvent;
use serde_json::{Value, json};
use uuid::Uuid;

/// Topic of product offering events (keyed by offering id).
pub const OFFERING_TOPIC: &str = "catalog.product-offering.events.v1";
/// Topic of price book events (keyed by price book id).
pub const PRICE_BOOK_TOPIC: &str = "catalog.price-book.events.v1";
/// Topic of product specification events (keyed by specification id).
pub const SPECIFICATION_TOPIC: &str = "catalog.product-specification.events.v1";

/// Event types of the offering lifecycle.
pub mod offering {
    /// A new offering with its first DRAFT version.
    pub const CREATED: &str = "catalog.product-offering.created.v1";
    /// A new DRAFT version derived from the latest.
    pub const VERSION_CREATED: &str = "catalog.product-offering.version-created.v1";
    /// A DRAFT version's content changed.
    pub const DRAFT_UPDATED: &str = "catalog.product-offering.draft-updated.v1";
    /// A version was submitted for review.
    pub const SUBMITTED_FOR_REVIEW: &str = "catalog.product-offering.submitted-for-review.v1";
    /// A version under review went back to draft.
    pub const RETURNED_TO_DRAFT: &str = "catalog.product-offering.returned-to-draft.v1";
    /// A version went on sale.
    pub const PUBLISHED: &str = "catalog.product-offering.published.v1";
    /// A version stopped being sold (explicitly or superseded).
    pub const RETIRED: &str = "catalog.product-offering.retired.v1";
    /// A version was archived.
    pub const ARCHIVED: &str = "catalog.product-offering.archived.v1";
}

/// Event types of price books.
pub mod price_book {
    /// A price book with its first DRAFT version.
    pub const CREATED: &str = "catalog.price-book.created.v1";
    /// A new DRAFT version derived from the latest.
    pub const VERSION_CREATED: &str = "catalog.price-book.version-created.v1";
    /// A version came into force.
    pub const PUBLISHED: &str = "catalog.price-book.published.v1";
    /// A version was superseded.
    pub const RETIRED: &str = "catalog.price-book.retired.v1";
}

/// Event type of a new specification.
pub const SPECIFICATION_CREATED: &str = "catalog.product-specification.created.v1";

/// An offering event keyed by the offering id.
pub fn offering_event(
    event_type: &'static str,
    offering_id: Uuid,
    aggregate_version: i64,
    payload: Value,
) -> NewEvent {
    NewEvent {
        event_type,
        event_version: 1,
        topic: OFFERING_TOPIC,
        aggregate_type: "ProductOffering",
        aggregate_id: offering_id.to_string(),
        aggregate_version,
        partition_key: offering_id.to_string(),
        payload,
    }
}

/// A price book event keyed by the price book id.
pub fn price_book_event(
    event_type: &'static str,
    price_book_id: Uuid,
    aggregate_version: i64,
    payload: Value,
) -> NewEvent {
    NewEvent {
        event_type,
        event_version: 1,
        topic: PRICE_BOOK_TOPIC,
        aggregate_type: "PriceBook",
        aggregate_id: price_book_id.to_string(),
        aggregate_version,
        partition_key: price_book_id.to_string(),
        payload,
    }
}

/// Payload of an offering lifecycle event.
pub fn lifecycle_payload(
    offering_id: Uuid,
    code: &str,
    version: i32,
    from: Option<&str>,
    to: &str,
    reason: Option<&str>,
) -> Value {
    json!({
        "productOfferingId": offering_id,
        "code": code,
        "version": version,
        "fromStatus": from,
        "toStatus": to,
        "reason": reason,
    })
}
