//! The quote's integration events: names, the topic and the envelope fields in one place.
//! Every event is on [`QUOTE_TOPIC`], keyed by the quote id, so a consumer sees one quote's
//! events in order.

use common_kernel::outbox::NewEvent;
use serde_json::Value;
use uuid::Uuid;

/// Topic of quote events (keyed by quote id).
pub const QUOTE_TOPIC: &str = "cpq.quote.events.v1";
/// Aggregate type named in envelopes and audit evidence.
pub const AGGREGATE_TYPE: &str = "Quote";

/// A quote was created in DRAFT (or CONFIGURED when its items were valid).
pub const CREATED: &str = "cpq.quote.created.v1";
/// The items of the current revision were replaced and configured.
pub const ITEMS_REPLACED: &str = "cpq.quote.items-replaced.v1";
/// The quote was priced.
pub const PRICED: &str = "cpq.quote.priced.v1";
/// A charge's price was overridden by hand.
pub const PRICE_OVERRIDDEN: &str = "cpq.quote.price-overridden.v1";
/// The quote was submitted and the approval policy decided.
pub const SUBMITTED: &str = "cpq.quote.submitted.v1";
/// A new revision was opened; any approval is superseded.
pub const REVISED: &str = "cpq.quote.revised.v1";
/// The customer accepted.
pub const ACCEPTED: &str = "cpq.quote.accepted.v1";
/// The quote was cancelled.
pub const CANCELLED: &str = "cpq.quote.cancelled.v1";
/// The quote's validity ended before acceptance.
pub const EXPIRED: &str = "cpq.quote.expired.v1";
/// The quote became an order; carries the full frozen snapshot.
pub const CONVERTED: &str = "cpq.quote.converted.v1";

/// A quote event keyed by the quote id.
pub fn quote_event(
    event_type: &'static str,
    quote_id: Uuid,
    aggregate_version: i64,
    payload: Value,
) -> NewEvent {
    NewEvent {
        event_type,
        event_version: 1,
        topic: QUOTE_TOPIC,
        aggregate_type: AGGREGATE_TYPE,
        aggregate_id: quote_id.to_string(),
        aggregate_version,
        partition_key: quote_id.to_string(),
        payload,
    }
}
